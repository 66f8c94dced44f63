#include "services/listing/listing_tables.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/outbox/outbox.h"
#include "common/pagination/filter.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "services/listing/listing_figures.h"
#include "common/status/status.h"
#include "services/credit/case_events.h"
#include "services/listing/listing_rules.h"
#include "services/listing/search_index.h"
#include "services/listing/utf8.h"

namespace market::listing {
namespace {

using sqlite::Connection;
using sqlite::Statement;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// Binds `v` to the parameter `key` (index or ":name"), or NULL when unset.
template <typename Key, typename T>
absl::Status BindOptional(Statement& st, Key key, const std::optional<T>& v) {
  if (!v.has_value()) return st.BindNull(key);
  if constexpr (std::is_same_v<T, std::string>) {
    return st.BindText(key, *v);
  } else if constexpr (std::is_same_v<T, absl::Time>) {
    return st.Bind(key, Micros(*v));
  } else {
    return st.Bind(key, static_cast<int64_t>(*v));
  }
}

int ConditionRank(const v1::Listing& l) {
  return l.has_declared_condition() ? ConditionIndex(l.declared_condition().level()) : -1;
}

// Last path segment of `markets/m/listings/l` → "markets/m".
std::string MarketOf(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  return parts.size() >= 2 ? absl::StrCat(parts[0], "/", parts[1]) : std::string();
}

constexpr char kWantTerms[] = "want FIELD OP VALUE joined by \" AND \"";

bool DigitsPrefix(absl::string_view v) {
  if (v.size() != 2 && v.size() != 4 && v.size() != 6) return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// Reads columns 0 (version) and 1 (data) into a Row whose message is
// `Row::*msg`, with the etag set; DATA_LOSS `corrupt` when data does not parse.
template <typename Row, typename Msg>
absl::StatusOr<Row> ReadVersioned(Statement& st, Msg Row::*msg, const char* corrupt) {
  Row row;
  if (!(row.*msg).ParseFromString(st.ColumnBlob(1))) return absl::DataLossError(corrupt);
  row.version = st.ColumnInt64(0);
  (row.*msg).set_etag(VersionEtag(row.version));
  return row;
}

absl::StatusOr<ListingRow> ReadListing(Statement& st) {
  MARKET_ASSIGN_OR_RETURN(ListingRow row,
                          ReadVersioned(st, &ListingRow::listing, "corrupt listing row"));
  SetPhotoUrls(row.listing);
  return row;
}

absl::StatusOr<OrderRow> ReadOrder(Statement& st) {
  return ReadVersioned(st, &OrderRow::order, "corrupt order row");
}

// Steps `st` to the end and collects `read(st)` of every result row.
template <typename T, typename Read>
absl::StatusOr<std::vector<T>> Collect(Statement& st, Read read) {
  std::vector<T> out;
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return out;
    MARKET_ASSIGN_OR_RETURN(T t, read(st));
    out.push_back(std::move(t));
  }
}

// Runs `sql` with `key` bound to ?1 and calls `row` on every result row.
absl::Status ForEachRow(Connection& c, absl::string_view sql, const std::string& key,
                        const std::function<absl::Status(Statement&)>& row) {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  MARKET_RETURN_IF_ERROR(st.BindText(1, key));
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return absl::OkStatus();
    MARKET_RETURN_IF_ERROR(row(st));
  }
}

// Runs `sql` with `key` bound to ?1: `read` of the first row, nullopt when none.
template <typename Read>
auto LoadOne(Connection& c, absl::string_view sql, const std::string& key, Read read)
    -> absl::StatusOr<std::optional<typename std::invoke_result_t<Read, Statement&>::value_type>> {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  MARKET_RETURN_IF_ERROR(st.BindText(1, key));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::nullopt;
  return read(st);
}

// "markets/-" (every market) or one market's name, set into `market`.
absl::Status ParseParent(const std::string& parent, std::optional<std::string>& market) {
  if (parent == "markets/-") return absl::OkStatus();
  if (!ValidCollectionName(parent, "markets")) {
    return InvalidField("parent", "want markets/{market} or markets/-");
  }
  market = parent;
  return absl::OkStatus();
}

}  // namespace

const std::string& ListingSchema() {
  static const auto* schema = new std::string(absl::StrCat(R"sql(
CREATE TABLE listings (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  market TEXT NOT NULL,
  seller TEXT NOT NULL,
  category INTEGER NOT NULL,
  state INTEGER NOT NULL,
  price_fen INTEGER,
  condition_rank INTEGER,
  publish_us INTEGER,
  appraisal_valid_until_us INTEGER,
  item TEXT NOT NULL,
  create_us INTEGER NOT NULL,
  version INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX listings_by_publish ON listings(state, publish_us, name);
CREATE INDEX listings_by_price ON listings(state, price_fen, name);
CREATE INDEX listings_by_market ON listings(market, state);
CREATE INDEX listings_by_item ON listings(item) WHERE item <> '';
CREATE VIRTUAL TABLE listings_fts USING fts5(title, description, tokenize = 'trigram');
CREATE TABLE photos (
  sha256 TEXT PRIMARY KEY,
  content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  create_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  market TEXT NOT NULL,
  listing TEXT NOT NULL,
  swap_listing TEXT NOT NULL,
  buyer TEXT NOT NULL,
  seller TEXT NOT NULL,
  item TEXT NOT NULL,
  state INTEGER NOT NULL,
  place_us INTEGER NOT NULL,
  refund_deadline_us INTEGER,
  version INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX orders_by_place ON orders(place_us, name);
CREATE INDEX orders_due ON orders(state, refund_deadline_us);
CREATE INDEX orders_by_item ON orders(item) WHERE item <> '';
CREATE UNIQUE INDEX orders_one_open_per_listing ON orders(listing) WHERE state = 1;
CREATE TABLE items (
  name TEXT PRIMARY KEY,
  category INTEGER NOT NULL,
  flags TEXT NOT NULL,
  max_mileage_km INTEGER,
  create_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE observations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  item TEXT NOT NULL,
  observed_us INTEGER NOT NULL,
  mileage_km INTEGER,
  data BLOB NOT NULL
);
CREATE INDEX observations_by_item ON observations(item, observed_us);
)sql",
                                                           outbox::kOutboxSchema));
  return *schema;
}

absl::Status CheckEtag(const std::string& given, const std::string& current) {
  if (!given.empty() && given != current) {
    return absl::AbortedError(absl::StrCat("etag ", given, " is stale; current is ", current));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<MarketRow>> LoadMarket(Connection& c, const std::string& name) {
  return LoadOne(c, "SELECT version, data FROM markets WHERE name = ?", name, [](Statement& st) {
    return ReadVersioned(st, &MarketRow::market, "corrupt market");
  });
}

absl::StatusOr<std::optional<ListingRow>> LoadListing(Connection& c, const std::string& name) {
  return LoadOne(c, "SELECT version, data FROM listings WHERE name = ?", name, ReadListing);
}

absl::StatusOr<v1::Listing> SaveListing(Connection& c, v1::Listing l, int64_t version,
                                        bool insert) {
  l.clear_etag();
  l.clear_photo_urls();
  std::optional<int64_t> price = -1;
  if (l.has_price()) price = l.price().amount_fen();
  std::optional<int64_t> rank;
  if (int r = ConditionRank(l); r >= 0) rank = r;
  // Never NULL, so keyset comparisons see every row (0 / -1: unset).
  std::optional<int64_t> publish = 0;
  if (l.has_publish_time()) publish = Micros(FromTimestamp(l.publish_time()));
  std::optional<int64_t> valid_until;
  if (l.has_latest_appraisal() && l.latest_appraisal().has_valid_until()) {
    valid_until = Micros(FromTimestamp(l.latest_appraisal().valid_until()));
  }
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare(insert ? "INSERT INTO listings(market, seller, category, state, price_fen, "
                         "condition_rank, publish_us, appraisal_valid_until_us, item, create_us, "
                         "version, data, name) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                         "?11, ?12, ?13) RETURNING id"
                       : "UPDATE listings SET market = ?1, seller = ?2, category = ?3, "
                         "state = ?4, price_fen = ?5, condition_rank = ?6, publish_us = ?7, "
                         "appraisal_valid_until_us = ?8, item = ?9, create_us = ?10, "
                         "version = ?11, data = ?12 WHERE name = ?13 RETURNING id"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, MarketOf(l.name())));
  MARKET_RETURN_IF_ERROR(st.BindText(2, l.seller()));
  MARKET_RETURN_IF_ERROR(st.Bind(3, static_cast<int64_t>(l.category())));
  MARKET_RETURN_IF_ERROR(st.Bind(4, static_cast<int64_t>(l.state())));
  MARKET_RETURN_IF_ERROR(BindOptional(st, 5, price));
  MARKET_RETURN_IF_ERROR(BindOptional(st, 6, rank));
  MARKET_RETURN_IF_ERROR(BindOptional(st, 7, publish));
  MARKET_RETURN_IF_ERROR(BindOptional(st, 8, valid_until));
  MARKET_RETURN_IF_ERROR(st.BindText(9, l.item()));
  MARKET_RETURN_IF_ERROR(st.Bind(10, Micros(FromTimestamp(l.create_time()))));
  MARKET_RETURN_IF_ERROR(st.Bind(11, version));
  MARKET_RETURN_IF_ERROR(st.BindBlob(12, l.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(st.BindText(13, l.name()));
  absl::StatusOr<bool> saved = st.Step();
  if (absl::IsAlreadyExists(saved.status())) {
    return absl::AlreadyExistsError(absl::StrCat(l.name(), " exists"));
  }
  MARKET_RETURN_IF_ERROR(saved.status());
  if (!*saved) return absl::InternalError(absl::StrCat(l.name(), " vanished in its own transaction"));
  // The search index row shares the listing's id. It is written once per
  // commit batch (BeforeCommit): the gram postings are an FTS5 table, which
  // would otherwise flush a new segment at every write's savepoint.
  MARKET_RETURN_IF_ERROR(c.BeforeCommit(
      [id = st.ColumnInt64(0), title = l.title(), description = l.description()](Connection& c2) {
        return IndexListingText(c2, id, title, description);
      }));
  MARKET_RETURN_IF_ERROR(IndexListingPhotos(c, l));
  MARKET_RETURN_IF_ERROR(EnqueueListingFigures(c, l, version));
  l.set_etag(VersionEtag(version));
  SetPhotoUrls(l);
  return l;
}

absl::Status SetListingState(Connection& c, const std::string& name, v1::Listing::State to,
                             absl::Time now) {
  if (name.empty()) return absl::OkStatus();
  MARKET_ASSIGN_OR_RETURN(std::optional<ListingRow> row, LoadListing(c, name));
  if (!row.has_value()) return absl::OkStatus();
  // A removed listing stays removed.
  if (row->listing.state() != v1::Listing::RESERVED) return absl::OkStatus();
  MARKET_RETURN_IF_ERROR(CheckTransition(row->listing.state(), to, Actor::kSystem));
  row->listing.set_state(to);
  *row->listing.mutable_update_time() = ToTimestamp(now);
  return SaveListing(c, row->listing, row->version + 1, false).status();
}

absl::StatusOr<std::vector<OrderRow>> OpenOrders(Connection& c, const std::string& listing) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare("SELECT version, data FROM orders WHERE "
                                    "(listing = ?1 OR swap_listing = ?1) AND state = ?2"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, listing));
  MARKET_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(v1::Order::PLACED)));
  return Collect<OrderRow>(st, ReadOrder);
}

absl::Time RefundDeadline(const v1::Order& order) {
  if (!order.has_delivery_time()) return absl::InfinitePast();
  int days = std::max(order.warranty_policy().refund_days(), order.no_reason_return_days());
  return FromTimestamp(order.delivery_time()) + absl::Hours(24) * days;
}

absl::StatusOr<std::optional<OrderRow>> LoadOrder(Connection& c, const std::string& name) {
  return LoadOne(c, "SELECT version, data FROM orders WHERE name = ?", name, ReadOrder);
}

absl::StatusOr<v1::Order> SaveOrder(Connection& c, v1::Order o, int64_t version, bool insert) {
  o.clear_etag();
  std::optional<int64_t> deadline;
  if (o.state() == v1::Order::DELIVERED) deadline = Micros(RefundDeadline(o));
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare(insert ? "INSERT INTO orders(market, listing, swap_listing, buyer, seller, item, "
                         "state, place_us, refund_deadline_us, version, data, name) "
                         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                       : "UPDATE orders SET market = ?1, listing = ?2, swap_listing = ?3, "
                         "buyer = ?4, seller = ?5, item = ?6, state = ?7, place_us = ?8, "
                         "refund_deadline_us = ?9, version = ?10, data = ?11 WHERE name = ?12"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, MarketOf(o.name())));
  MARKET_RETURN_IF_ERROR(st.BindText(2, o.listing()));
  MARKET_RETURN_IF_ERROR(st.BindText(3, o.swap_listing()));
  MARKET_RETURN_IF_ERROR(st.BindText(4, o.buyer()));
  MARKET_RETURN_IF_ERROR(st.BindText(5, o.seller()));
  MARKET_RETURN_IF_ERROR(st.BindText(6, o.item()));
  MARKET_RETURN_IF_ERROR(st.Bind(7, static_cast<int64_t>(o.state())));
  MARKET_RETURN_IF_ERROR(st.Bind(8, Micros(FromTimestamp(o.place_time()))));
  MARKET_RETURN_IF_ERROR(BindOptional(st, 9, deadline));
  MARKET_RETURN_IF_ERROR(st.Bind(10, version));
  MARKET_RETURN_IF_ERROR(st.BindBlob(11, o.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(st.BindText(12, o.name()));
  absl::Status s = st.Run();
  if (absl::IsAlreadyExists(s)) {
    // Either the name is taken or the listing already has an open order.
    MARKET_ASSIGN_OR_RETURN(std::optional<OrderRow> existing, LoadOrder(c, o.name()));
    if (existing.has_value()) return absl::AlreadyExistsError(absl::StrCat(o.name(), " exists"));
    return WithReason(absl::StatusCode::kFailedPrecondition, "LISTING_NOT_AVAILABLE",
                      absl::StrCat(o.listing(), " already has an open order"));
  }
  MARKET_RETURN_IF_ERROR(s);
  o.set_etag(VersionEtag(version));
  return o;
}

absl::StatusOr<std::vector<std::string>> DueOrders(Connection& c, absl::Time now, int limit) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("SELECT name FROM orders WHERE state = ?1 AND refund_deadline_us "
                              "<= ?2 ORDER BY refund_deadline_us, name LIMIT ?3"));
  MARKET_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(v1::Order::DELIVERED)));
  MARKET_RETURN_IF_ERROR(st.Bind(2, Micros(now)));
  MARKET_RETURN_IF_ERROR(st.Bind(3, static_cast<int64_t>(limit)));
  return Collect<std::string>(
      st, [](Statement& s) -> absl::StatusOr<std::string> { return s.ColumnText(0); });
}

absl::Status SavePhoto(Connection& c, const v1::Photo& photo, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("INSERT OR IGNORE INTO photos(sha256, content_type, size_bytes, "
                              "create_us) VALUES(?, ?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, photo.sha256()));
  MARKET_RETURN_IF_ERROR(st.BindText(2, photo.content_type()));
  MARKET_RETURN_IF_ERROR(st.Bind(3, photo.size_bytes()));
  MARKET_RETURN_IF_ERROR(st.Bind(4, Micros(now)));
  return st.Run();
}

absl::StatusOr<std::optional<v1::Photo>> LoadPhoto(Connection& c, const std::string& sha256) {
  return LoadOne(c, "SELECT content_type, size_bytes FROM photos WHERE sha256 = ?", sha256,
                 [&](Statement& st) -> absl::StatusOr<v1::Photo> {
                   v1::Photo p;
                   p.set_sha256(sha256);
                   p.set_content_type(st.ColumnText(0));
                   p.set_size_bytes(st.ColumnInt64(1));
                   return p;
                 });
}

void SetPhotoUrls(v1::Listing& l) {
  l.clear_photo_urls();
  for (const v1::Photo& p : l.photos()) l.add_photo_urls(absl::StrCat(kPhotoUrlPrefix, p.sha256()));
}

absl::Status IndexListingPhotos(Connection& c, const v1::Listing& l) {
  MARKET_ASSIGN_OR_RETURN(Statement del, c.Prepare("DELETE FROM listing_photos WHERE listing = ?"));
  MARKET_RETURN_IF_ERROR(del.BindText(1, l.name()));
  MARKET_RETURN_IF_ERROR(del.Run());
  for (const v1::Photo& p : l.photos()) {
    MARKET_ASSIGN_OR_RETURN(
        Statement ins,
        c.Prepare("INSERT OR IGNORE INTO listing_photos(sha256, listing) VALUES(?1, ?2)"));
    MARKET_RETURN_IF_ERROR(ins.BindText(1, p.sha256()));
    MARKET_RETURN_IF_ERROR(ins.BindText(2, l.name()));
    MARKET_RETURN_IF_ERROR(ins.Run());
  }
  return absl::OkStatus();
}

const std::string& ListingPhotosMigration() {
  static const auto* sql = new std::string(R"sql(
CREATE TABLE listing_photos (
  sha256 TEXT NOT NULL,
  listing TEXT NOT NULL,
  PRIMARY KEY(sha256, listing)
) WITHOUT ROWID;
CREATE INDEX listing_photos_by_listing ON listing_photos(listing);
CREATE TABLE listing_photos_backfill (pending INTEGER NOT NULL);
INSERT INTO listing_photos_backfill(pending) SELECT 1 WHERE EXISTS (SELECT 1 FROM listings);
)sql");
  return *sql;
}

absl::Status BackfillListingPhotos(Connection& c) {
  MARKET_ASSIGN_OR_RETURN(Statement pending, c.Prepare("SELECT 1 FROM listing_photos_backfill"));
  MARKET_ASSIGN_OR_RETURN(bool any, pending.Step());
  if (!any) return absl::OkStatus();
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT version, data FROM listings"));
  MARKET_ASSIGN_OR_RETURN(std::vector<ListingRow> rows, Collect<ListingRow>(st, ReadListing));
  for (const ListingRow& row : rows) MARKET_RETURN_IF_ERROR(IndexListingPhotos(c, row.listing));
  MARKET_ASSIGN_OR_RETURN(Statement done, c.Prepare("DELETE FROM listing_photos_backfill"));
  return done.Run();
}

absl::StatusOr<std::vector<std::string>> ListingsWithPhoto(Connection& c,
                                                           const std::string& sha256) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("SELECT listing FROM listing_photos WHERE sha256 = ? ORDER BY listing"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, sha256));
  return Collect<std::string>(st, [](Statement& s) -> absl::StatusOr<std::string> {
    return s.ColumnText(0);
  });
}

absl::StatusOr<SearchQuery> ParseSearch(const std::string& parent, const std::string& filter,
                                        const std::string& query, const std::string& order_by) {
  SearchQuery q;
  MARKET_RETURN_IF_ERROR(ParseParent(parent, q.market));
  MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms,
                          ParseFilterTerms(filter, kWantTerms, {"=", "<", "<=", ">", ">="}));
  for (const FilterTerm& t : terms) {
    if (t.key == "category") {
      common::v1::Category cat;
      if (t.op != "=" || !common::v1::Category_Parse(t.value, &cat) ||
          cat == common::v1::CATEGORY_UNSPECIFIED) {
        return BadFilterTerm(t, "want category=PHONE|APPLIANCE|FURNITURE|VEHICLE");
      }
      q.category = cat;
    } else if (t.key == "price") {
      int64_t v;
      if (!absl::SimpleAtoi(t.value, &v) || v < 0 || t.op == "=" ||
          (t.op == ">" && v == INT64_MAX)) {
        return BadFilterTerm(t, "want price>=N, price<=N, price>N or price<N (fen, N >= 0)");
      }
      if (t.op == ">=") q.min_price_fen = std::max(q.min_price_fen.value_or(0), v);
      if (t.op == ">") q.min_price_fen = std::max(q.min_price_fen.value_or(0), v + 1);
      if (t.op == "<=") q.max_price_fen = std::min(q.max_price_fen.value_or(INT64_MAX), v);
      if (t.op == "<") q.max_price_fen = std::min(q.max_price_fen.value_or(INT64_MAX), v - 1);
    } else if (t.key == "grade") {
      int rank = ConditionIndex(t.value);
      if (t.op != ">=" || rank < 0) {
        return BadFilterTerm(t, "want grade>=\"LEVEL\" with a level of general-condition-v1");
      }
      q.max_condition_rank = rank;
    } else if (t.key == "market") {
      if (t.op != "=" || !ValidCollectionName(t.value, "markets")) {
        return BadFilterTerm(t, "want market=\"markets/x\"");
      }
      if (q.market.has_value() && *q.market != t.value) {
        return BadFilterTerm(t, "market differs from parent");
      }
      q.market = t.value;
    } else if (t.key == "seller") {
      if (t.op != "=" || !ValidCollectionName(t.value, "subjects")) {
        return BadFilterTerm(t, "want seller=\"subjects/x\"");
      }
      q.seller = t.value;
    } else if (t.key == "state") {
      v1::Listing::State st;
      if (t.op != "=" || !v1::Listing::State_Parse(t.value, &st) ||
          st == v1::Listing::STATE_UNSPECIFIED) {
        return BadFilterTerm(t, "want state=DRAFT|PUBLISHED|RESERVED|SOLD|WITHDRAWN|REMOVED");
      }
      q.state = st;
    } else if (t.key == "region") {
      if (t.op != "=" || !DigitsPrefix(t.value)) {
        return BadFilterTerm(t, "want region=\"35\" (2, 4 or 6 digits)");
      }
      q.region_prefix = t.value;
    } else if (t.key == "has_valid_appraisal") {
      if (t.op != "=" || (t.value != "true" && t.value != "false")) {
        return BadFilterTerm(t, "want has_valid_appraisal=true");
      }
      q.has_valid_appraisal = t.value == "true";
    } else if (t.key == "trusted_seller") {
      if (t.op != "=" || (t.value != "true" && t.value != "false")) {
        return BadFilterTerm(t, "want trusted_seller=true");
      }
      q.trusted_seller = t.value == "true";
    } else {
      return BadFilterTerm(t,
                           "known fields: category, price, grade, market, seller, state, region, "
                           "has_valid_appraisal, trusted_seller");
    }
  }
  absl::string_view text = absl::StripAsciiWhitespace(query);
  if (InvalidUtf8Offset(text).has_value()) return InvalidField("query", "not valid UTF-8");
  if (Utf8CharCount(text) > 100) return InvalidField("query", "longer than 100 characters");
  for (unsigned char ch : text) {
    // SQLite's text functions stop at NUL; control characters never appear
    // in titles anyway.
    if (ch < 0x20 || ch == 0x7F) return InvalidField("query", "control characters are not allowed");
  }
  q.text = std::string(text);
  if (order_by.empty() && !q.text.empty()) {
    q.order = SearchQuery::Order::kRelevance;
  } else if (order_by.empty() || order_by == "publish_time desc") {
    q.order = SearchQuery::Order::kPublishDesc;
  } else if (order_by == "publish_time") {
    q.order = SearchQuery::Order::kPublishAsc;
  } else if (order_by == "price") {
    q.order = SearchQuery::Order::kPriceAsc;
  } else if (order_by == "price desc") {
    q.order = SearchQuery::Order::kPriceDesc;
  } else {
    return InvalidField("order_by", "want price, price desc, publish_time or publish_time desc");
  }
  return q;
}

namespace {

// Which listings one pass of a search page returns when a text is given.
enum class TextTier {
  kAny,              // the text is in the title or the description
  kTitle,            // the text is in the title
  kDescriptionOnly,  // the text is in the description and not in the title
};

// The fields whose postings hold every match of `tier`.
std::pair<SearchField, SearchField> TierFields(TextTier tier) {
  return {tier == TextTier::kDescriptionOnly ? SearchField::kDescription : SearchField::kTitle,
          tier == TextTier::kTitle ? SearchField::kTitle : SearchField::kDescription};
}

// Relevance order puts description-only matches after every title match: their
// cursor key is the publish time minus this (publish times are far above -2^61).
constexpr int64_t kDescriptionTierOffset = int64_t{1} << 62;

// One keyset page of listings in `q.order` (kRelevance: newest first) with
// the filters of `q` and, when `tier` is set, the text of `q` in that tier.
// Candidates come from the GramsMatch() expression `drive` when set (then sorted),
// else from walking the (state, key, name) index in order until the page
// is full.
absl::StatusOr<std::vector<SearchHit>> SearchPass(Connection& c, const SearchQuery& q,
                                                  std::optional<TextTier> tier,
                                                  const std::optional<std::string>& drive,
                                                  const std::optional<SearchCursor>& after,
                                                  int limit, absl::Time now) {
  bool by_price =
      q.order == SearchQuery::Order::kPriceAsc || q.order == SearchQuery::Order::kPriceDesc;
  bool desc =
      q.order != SearchQuery::Order::kPublishAsc && q.order != SearchQuery::Order::kPriceAsc;
  // Plain columns (never NULL) in one direction, so the (state, key, name)
  // indexes serve both the order and the keyset condition.
  std::string key = by_price ? "l.price_fen" : "l.publish_us";
  std::string source = "listings l";
  if (drive.has_value()) {
    // CROSS JOIN keeps the postings as the outer loop.
    source =
        "(SELECT rowid AS id FROM listing_grams WHERE listing_grams MATCH :gram) g "
        "CROSS JOIN listings l ON l.id = g.id";
  }
  std::string text_join, text_clause;
  if (tier.has_value()) {
    text_join = " JOIN listing_text t ON t.id = l.id";
    switch (*tier) {
      case TextTier::kAny:
        text_clause = "AND (instr(t.title, :needle) > 0 OR instr(t.description, :needle) > 0) ";
        break;
      case TextTier::kTitle:
        text_clause = "AND instr(t.title, :needle) > 0 ";
        break;
      case TextTier::kDescriptionOnly:
        text_clause = "AND instr(t.title, :needle) = 0 AND instr(t.description, :needle) > 0 ";
        break;
    }
  }
  // restriction-policy-v1: sellers on the black list copy never show; the
  // red list copy is the 诚信商户 facet and badge. Both are primary-key
  // look-ups in credit_lists (credit_lists.h), `until` compared with now.
  const char* kOnList =
      "EXISTS (SELECT 1 FROM credit_lists cl WHERE cl.subject = l.seller AND cl.list = ";
  std::string sql = absl::StrCat(
      "SELECT l.version, l.data, m.operator, ", key, " AS k, l.name, ", kOnList,
      "2 AND cl.until_us > :now) AS trusted FROM ", source,
      " JOIN markets m ON m.name = l.market", text_join, " WHERE l.state = :state ",
      "AND (:category IS NULL OR l.category = :category) ",
      "AND (:min_price IS NULL OR l.price_fen >= :min_price) ",
      "AND (:max_price IS NULL OR (l.price_fen >= 0 AND l.price_fen <= :max_price)) ",
      "AND (:rank IS NULL OR l.condition_rank <= :rank) ",
      "AND (:market IS NULL OR l.market = :market) ",
      "AND (:seller IS NULL OR l.seller = :seller) ",
      "AND (:region IS NULL OR substr(m.region_code, 1, length(:region)) = :region) ",
      "AND (:appraised = 0 OR l.appraisal_valid_until_us > :now) ", "AND NOT ", kOnList,
      "1 AND cl.until_us > :now) ", "AND (:trusted = 0 OR ", kOnList,
      "2 AND cl.until_us > :now)) ", text_clause,
      after.has_value()
          ? absl::StrCat("AND (", key, desc ? " < " : " > ", ":after_key OR (", key,
                         " = :after_key AND l.name", desc ? " < " : " > ", ":after_name)) ")
          : "",
      "ORDER BY ", key, desc ? " DESC" : " ASC", ", l.name", desc ? " DESC" : " ASC",
      " LIMIT :limit");
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  MARKET_RETURN_IF_ERROR(st.Bind(":state", static_cast<int64_t>(q.state)));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":category", q.category));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":min_price", q.min_price_fen));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":max_price", q.max_price_fen));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":rank", q.max_condition_rank));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":market", q.market));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":seller", q.seller));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":region", q.region_prefix));
  MARKET_RETURN_IF_ERROR(st.Bind(":appraised", static_cast<int64_t>(q.has_valid_appraisal)));
  MARKET_RETURN_IF_ERROR(st.Bind(":trusted", static_cast<int64_t>(q.trusted_seller)));
  MARKET_RETURN_IF_ERROR(st.Bind(":now", Micros(now)));
  if (tier.has_value()) MARKET_RETURN_IF_ERROR(st.BindText(":needle", FoldForSearch(q.text)));
  if (drive.has_value()) MARKET_RETURN_IF_ERROR(st.BindText(":gram", *drive));
  MARKET_RETURN_IF_ERROR(BindKeysetPage(st, after, limit));
  return Collect<SearchHit>(st, [](Statement& s) -> absl::StatusOr<SearchHit> {
    MARKET_ASSIGN_OR_RETURN(ListingRow row, ReadListing(s));
    return SearchHit{std::move(row), s.ColumnText(2),
                     SearchCursor{s.ColumnInt64(3), s.ColumnText(4)}, s.ColumnInt64(5) != 0};
  });
}

// A text pass: its candidates come from the listings having every gram of the
// needle (an FTS5 AND over the postings) when there are fewer of them than a
// page walk is expected to read, sqrt(limit * listings) (walking reads about
// limit * listings / matches rows; candidates cost one row each).
absl::StatusOr<std::vector<SearchHit>> SearchTextPass(Connection& c, const SearchQuery& q,
                                                      TextTier tier,
                                                      const std::optional<SearchCursor>& after,
                                                      int limit, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(Statement count, c.Prepare("SELECT max(id) FROM listings"));
  MARKET_ASSIGN_OR_RETURN(bool row, count.Step());
  int64_t listings = row ? count.ColumnInt64(0) : 0;
  int64_t cap = std::max<int64_t>(
      64, static_cast<int64_t>(std::sqrt(static_cast<double>(std::max(limit, 1)) * listings)));
  auto [first, last] = TierFields(tier);
  std::string match = GramsMatch(NeedleGrams(FoldForSearch(q.text)), first, last);
  MARKET_ASSIGN_OR_RETURN(int64_t candidates, CountMatches(c, match, cap));
  if (candidates == 0) return std::vector<SearchHit>();
  std::optional<std::string> drive;
  if (candidates < cap) drive = match;
  return SearchPass(c, q, tier, drive, after, limit, now);
}

}  // namespace

absl::StatusOr<std::vector<SearchHit>> SearchListings(Connection& c, const SearchQuery& q,
                                                      const std::optional<SearchCursor>& after,
                                                      int limit, absl::Time now) {
  if (q.text.empty()) return SearchPass(c, q, std::nullopt, std::nullopt, after, limit, now);
  if (q.order != SearchQuery::Order::kRelevance) {
    return SearchTextPass(c, q, TextTier::kAny, after, limit, now);
  }
  // Title matches, then description-only matches, each newest first.
  bool in_description = after.has_value() && after->key < -kDescriptionTierOffset / 2;
  std::vector<SearchHit> hits;
  if (!in_description) {
    MARKET_ASSIGN_OR_RETURN(hits, SearchTextPass(c, q, TextTier::kTitle, after, limit, now));
  }
  if (static_cast<int>(hits.size()) >= limit) return hits;
  std::optional<SearchCursor> description_after;
  if (in_description) {
    description_after = SearchCursor{after->key + kDescriptionTierOffset, after->name};
  }
  MARKET_ASSIGN_OR_RETURN(std::vector<SearchHit> more,
                          SearchTextPass(c, q, TextTier::kDescriptionOnly, description_after,
                                         limit - static_cast<int>(hits.size()), now));
  for (SearchHit& h : more) {
    h.cursor.key -= kDescriptionTierOffset;
    hits.push_back(std::move(h));
  }
  return hits;
}

absl::StatusOr<OrderQuery> ParseOrderQuery(const std::string& parent, const std::string& filter,
                                           const std::string& order_by) {
  OrderQuery q;
  MARKET_RETURN_IF_ERROR(ParseParent(parent, q.market));
  MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms,
                          ParseFilterTerms(filter, kWantTerms, {"=", "<", "<=", ">", ">="}));
  for (const FilterTerm& t : terms) {
    if ((t.key == "buyer" || t.key == "seller") && t.op == "=" &&
        ValidCollectionName(t.value, "subjects")) {
      (t.key == "buyer" ? q.buyer : q.seller) = t.value;
    } else if (t.key == "listing" && t.op == "=" && absl::StartsWith(t.value, "markets/") &&
               absl::StrContains(t.value, "/listings/")) {
      q.listing = t.value;
    } else if (t.key == "state" && t.op == "=") {
      v1::Order::State st;
      if (!v1::Order::State_Parse(t.value, &st) || st == v1::Order::STATE_UNSPECIFIED) {
        return BadFilterTerm(t, "want state=PLACED|DELIVERED|COMPLETED|CANCELLED");
      }
      q.state = st;
    } else if (t.key == "place_time" && (t.op == ">=" || t.op == "<")) {
      MARKET_ASSIGN_OR_RETURN(absl::Time when, FilterTime(t));
      (t.op == ">=" ? q.placed_from : q.placed_before) = when;
    } else {
      return BadFilterTerm(t,
                           "want buyer=, seller=, listing=, state=, place_time>= or place_time<");
    }
  }
  MARKET_ASSIGN_OR_RETURN(q.ascending, OrderByAscending(order_by, "place_time"));
  return q;
}

absl::StatusOr<std::vector<OrderHit>> ListOrders(Connection& c, const OrderQuery& q,
                                                 const std::optional<SearchCursor>& after,
                                                 int limit) {
  std::string sql = absl::StrCat(
      "SELECT o.version, o.data, o.place_us, o.name FROM orders o ",
      "JOIN markets m ON m.name = o.market WHERE 1 = 1 ",
      "AND (:market IS NULL OR o.market = :market) ",
      "AND (:buyer IS NULL OR o.buyer = :buyer) AND (:seller IS NULL OR o.seller = :seller) ",
      "AND (:listing IS NULL OR o.listing = :listing) AND (:state IS NULL OR o.state = :state) ",
      "AND (:from IS NULL OR o.place_us >= :from) AND (:before IS NULL OR o.place_us < :before) ",
      "AND (:who IS NULL OR o.buyer = :who OR o.seller = :who OR m.operator = :who) ",
      after.has_value() ? absl::StrCat("AND (o.place_us ", q.ascending ? ">" : "<",
                                       " :after_key OR (o.place_us = :after_key AND o.name ",
                                       q.ascending ? ">" : "<", " :after_name)) ")
                        : "",
      "ORDER BY o.place_us ", q.ascending ? "ASC" : "DESC", ", o.name ",
      q.ascending ? "ASC" : "DESC", " LIMIT :limit");
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":market", q.market));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":buyer", q.buyer));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":seller", q.seller));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":listing", q.listing));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":state", q.state));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":from", q.placed_from));
  MARKET_RETURN_IF_ERROR(BindOptional(st, ":before", q.placed_before));
  MARKET_RETURN_IF_ERROR(q.visible_to.empty() ? st.BindNull(":who")
                                              : st.BindText(":who", q.visible_to));
  MARKET_RETURN_IF_ERROR(BindKeysetPage(st, after, limit));
  return Collect<OrderHit>(st, [](Statement& s) -> absl::StatusOr<OrderHit> {
    MARKET_ASSIGN_OR_RETURN(OrderRow row, ReadOrder(s));
    return OrderHit{std::move(row), SearchCursor{s.ColumnInt64(2), s.ColumnText(3)}};
  });
}

namespace {

std::string FlagsColumn(const std::vector<v1::Observation::Flag>& flags) {
  std::string out;
  for (auto f : flags) absl::StrAppend(&out, out.empty() ? "" : ",", v1::Observation::Flag_Name(f));
  return out;
}

std::vector<v1::Observation::Flag> ParseFlags(const std::string& column) {
  std::vector<v1::Observation::Flag> flags;
  for (absl::string_view s : absl::StrSplit(column, ',', absl::SkipEmpty())) {
    v1::Observation::Flag f;
    if (v1::Observation::Flag_Parse(std::string(s), &f)) flags.push_back(f);
  }
  return flags;
}

}  // namespace

absl::StatusOr<std::optional<ItemRow>> LoadItem(Connection& c, const std::string& name) {
  return LoadOne(c, "SELECT category, flags, max_mileage_km FROM items WHERE name = ?", name,
                 [&](Statement& st) -> absl::StatusOr<ItemRow> {
                   ItemRow row;
                   row.name = name;
                   row.category = static_cast<common::v1::Category>(st.ColumnInt64(0));
                   row.flags = ParseFlags(st.ColumnText(1));
                   if (!st.ColumnIsNull(2)) row.max_mileage_km = st.ColumnInt64(2);
                   return row;
                 });
}

absl::StatusOr<ItemRow> EnsureItem(Connection& c, const std::string& name,
                                   common::v1::Category category, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(std::optional<ItemRow> found, LoadItem(c, name));
  if (found.has_value()) return *found;
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("INSERT INTO items(name, category, flags, create_us) VALUES(?, ?, '', ?)"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, name));
  MARKET_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(category)));
  MARKET_RETURN_IF_ERROR(st.Bind(3, Micros(now)));
  MARKET_RETURN_IF_ERROR(st.Run());
  ItemRow row;
  row.name = name;
  row.category = category;
  return row;
}

namespace {

// Opens a MILEAGE_ROLLBACK supervision case (through the outbox, in the
// caller's transaction) about the seller of the item's latest listing, with
// its market and region; an item never listed here has no seller to name, so
// nothing is sent (the flag stays on the item).
absl::Status EnqueueRollbackCase(Connection& c, const std::string& item, const v1::Observation& o,
                                 absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("SELECT l.seller, l.market, coalesce(m.region_code, '') FROM "
                              "listings l LEFT JOIN markets m ON m.name = l.market WHERE l.item = ? "
                              "ORDER BY l.create_us DESC, l.id DESC LIMIT 1"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, item));
  MARKET_ASSIGN_OR_RETURN(bool listed, st.Step());
  if (!listed) return absl::OkStatus();
  supervision::v1::Case event;
  event.set_kind(supervision::v1::Case::MILEAGE_ROLLBACK);
  supervision::v1::Party* seller = event.add_subjects();
  seller->set_subject(st.ColumnText(0));
  seller->set_role(common::v1::SELLER);
  event.set_resource(item);
  event.set_market(st.ColumnText(1));
  event.set_region_code(st.ColumnText(2));
  event.set_summary(absl::StrCat(o.mileage_km(), " km observed by ", o.source(),
                                 " is below an earlier reading"));
  return credit::EnqueueCaseEvent(
      c, absl::StrCat("mileage-rollback-", HexEncode(Sha256(o.name())).substr(0, 40)), event, now);
}

}  // namespace

absl::StatusOr<v1::Observation> AddObservation(Connection& c, const ItemRow& item,
                                               v1::Observation o, absl::Time now) {
  ItemRow updated = item;
  o.clear_flags();
  *o.mutable_record_time() = ToTimestamp(now);
  int64_t observed = Micros(FromTimestamp(o.observed_time()));
  if (o.has_mileage_km()) {
    // Highest reading observed strictly earlier than this one.
    MARKET_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("SELECT MAX(mileage_km) FROM observations WHERE item = ? AND "
                                      "observed_us < ? AND mileage_km IS NOT NULL"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, item.name));
    MARKET_RETURN_IF_ERROR(st.Bind(2, observed));
    MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
    std::vector<int64_t> earlier;
    if (row && !st.ColumnIsNull(0)) earlier.push_back(st.ColumnInt64(0));
    if (IsMileageRollback(o.mileage_km(), earlier)) {
      o.add_flags(v1::Observation::MILEAGE_ROLLBACK);
      if (std::find(updated.flags.begin(), updated.flags.end(),
                    v1::Observation::MILEAGE_ROLLBACK) == updated.flags.end()) {
        updated.flags.push_back(v1::Observation::MILEAGE_ROLLBACK);
      }
    }
    updated.max_mileage_km = std::max(updated.max_mileage_km.value_or(0), o.mileage_km());
  }
  const bool new_rollback = std::find(o.flags().begin(), o.flags().end(),
                                      v1::Observation::MILEAGE_ROLLBACK) != o.flags().end();
  if (new_rollback) MARKET_RETURN_IF_ERROR(EnqueueRollbackCase(c, item.name, o, now));
  MARKET_ASSIGN_OR_RETURN(Statement ins,
                          c.Prepare("INSERT INTO observations(name, item, observed_us, mileage_km, "
                                    "data) VALUES(?, ?, ?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(ins.BindText(1, o.name()));
  MARKET_RETURN_IF_ERROR(ins.BindText(2, item.name));
  MARKET_RETURN_IF_ERROR(ins.Bind(3, observed));
  MARKET_RETURN_IF_ERROR(o.has_mileage_km() ? ins.Bind(4, o.mileage_km()) : ins.BindNull(4));
  MARKET_RETURN_IF_ERROR(ins.BindBlob(5, o.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(ins.Run());
  MARKET_ASSIGN_OR_RETURN(
      Statement up, c.Prepare("UPDATE items SET flags = ?, max_mileage_km = ? WHERE name = ?"));
  MARKET_RETURN_IF_ERROR(up.BindText(1, FlagsColumn(updated.flags)));
  MARKET_RETURN_IF_ERROR(BindOptional(up, 2, updated.max_mileage_km));
  MARKET_RETURN_IF_ERROR(up.BindText(3, item.name));
  MARKET_RETURN_IF_ERROR(up.Run());
  return o;
}

absl::StatusOr<std::vector<v1::ItemEvent>> ItemEvents(Connection& c, const std::string& item) {
  std::vector<v1::ItemEvent> events;
  // Appends an event with the fields every kind has.
  auto add = [&](v1::ItemEvent::Kind kind, const std::string& resource,
                 const google::protobuf::Timestamp& time,
                 const std::string& state) -> v1::ItemEvent& {
    v1::ItemEvent& e = events.emplace_back();
    e.set_kind(kind);
    e.set_resource(resource);
    *e.mutable_time() = time;
    e.set_state(state);
    return e;
  };
  auto listing_event = [&](Statement& st) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(ListingRow row, ReadListing(st));
    const v1::Listing& l = row.listing;
    v1::ItemEvent& e =
        add(v1::ItemEvent::LISTING, l.name(), l.create_time(), v1::Listing::State_Name(l.state()));
    e.set_market(MarketOf(l.name()));
    if (l.has_vehicle()) e.set_mileage_km(l.vehicle().mileage_km());
    if (l.has_price()) *e.mutable_price() = l.price();
    e.add_parties(l.seller());
    e.set_summary(l.title());
    return absl::OkStatus();
  };
  MARKET_RETURN_IF_ERROR(
      ForEachRow(c, "SELECT version, data FROM listings WHERE item = ?", item, listing_event));
  auto order_event = [&](Statement& st) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(OrderRow row, ReadOrder(st));
    const v1::Order& o = row.order;
    v1::ItemEvent& e =
        add(v1::ItemEvent::ORDER, o.name(), o.place_time(), v1::Order::State_Name(o.state()));
    e.set_market(MarketOf(o.name()));
    if (o.has_delivery_mileage_km()) e.set_mileage_km(o.delivery_mileage_km());
    *e.mutable_price() = o.price();
    e.add_parties(o.seller());
    e.add_parties(o.buyer());
    return absl::OkStatus();
  };
  MARKET_RETURN_IF_ERROR(
      ForEachRow(c, "SELECT version, data FROM orders WHERE item = ?", item, order_event));
  MARKET_RETURN_IF_ERROR(ForEachRow(
      c, "SELECT data FROM observations WHERE item = ? ORDER BY id", item,
      [&](Statement& st) -> absl::Status {
        v1::Observation o;
        if (!o.ParseFromString(st.ColumnBlob(0))) return absl::DataLossError("corrupt observation");
        v1::ItemEvent& e =
            add(absl::StartsWith(o.source(), "appraisals/") ? v1::ItemEvent::APPRAISAL
                : absl::StartsWith(o.source(), "claims/")   ? v1::ItemEvent::CLAIM
                                                            : v1::ItemEvent::OBSERVATION,
                o.name(), o.observed_time(), v1::Observation::Kind_Name(o.kind()));
        if (o.has_mileage_km()) e.set_mileage_km(o.mileage_km());
        for (int f : o.flags()) e.add_flags(static_cast<v1::Observation::Flag>(f));
        e.add_parties(o.recorded_by());
        e.set_summary(o.source());
        return absl::OkStatus();
      }));
  std::stable_sort(events.begin(), events.end(),
                   [](const v1::ItemEvent& a, const v1::ItemEvent& b) {
                     absl::Time ta = FromTimestamp(a.time()), tb = FromTimestamp(b.time());
                     if (ta != tb) return ta < tb;
                     return a.resource() < b.resource();
                   });
  return events;
}

absl::StatusOr<std::vector<std::string>> ItemParties(Connection& c, const std::string& item) {
  std::set<std::string> parties;
  auto add = [&](Statement& st) {
    parties.insert(st.ColumnText(0));
    if (std::string b = st.ColumnText(1); !b.empty()) parties.insert(b);
    return absl::OkStatus();
  };
  MARKET_RETURN_IF_ERROR(ForEachRow(c,
                                    "SELECT seller, '' FROM listings WHERE item = ?1 UNION ALL "
                                    "SELECT seller, buyer FROM orders WHERE item = ?1",
                                    item, add));
  return std::vector<std::string>(parties.begin(), parties.end());
}

}  // namespace market::listing
