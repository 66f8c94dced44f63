#include "services/warranty/claim_tables.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "common/idempotency/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/pagination/filter.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "services/stats/stats_events.h"
#include "services/warranty/claim_figures.h"

namespace market::warranty {
namespace {

using sqlite::Connection;
using sqlite::ReadAll;
using sqlite::Statement;

const std::vector<sqlite::Migration>& Migrations() {
  static const auto* migrations = new std::vector<sqlite::Migration>{
      {1, absl::StrCat(R"sql(
CREATE TABLE claims (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  order_name TEXT NOT NULL,
  market TEXT NOT NULL,
  operator TEXT NOT NULL,
  buyer TEXT NOT NULL,
  seller TEXT NOT NULL,
  kind INTEGER NOT NULL,
  state INTEGER NOT NULL,
  create_us INTEGER NOT NULL,
  reply_deadline_us INTEGER,
  resolve_deadline_us INTEGER,
  confirm_deadline_us INTEGER,
  due_us INTEGER,
  overdue INTEGER NOT NULL,
  unfounded_us INTEGER,
  unfounded_counted INTEGER NOT NULL,
  version INTEGER NOT NULL,
  data BLOB NOT NULL,
  order_data BLOB NOT NULL
);
CREATE INDEX claims_by_order ON claims(order_name, create_us);
CREATE INDEX claims_by_create ON claims(create_us, name);
CREATE INDEX claims_by_buyer ON claims(buyer, create_us);
CREATE INDEX claims_by_seller ON claims(seller, create_us);
CREATE INDEX claims_by_market ON claims(market, state);
CREATE INDEX claims_by_operator ON claims(operator);
CREATE INDEX claims_due ON claims(due_us) WHERE due_us IS NOT NULL;
CREATE INDEX claims_unfounded ON claims(buyer, unfounded_us) WHERE unfounded_us IS NOT NULL;
)sql",
                       kIdempotencySchema, outbox::kOutboxSchema)},
      {2, outbox::kOutboxOrderingSchema},  // per-key delivery order
  };
  return *migrations;
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

std::optional<int64_t> MicrosIf(bool has, const google::protobuf::Timestamp& ts) {
  if (!has) return std::nullopt;
  return Micros(FromTimestamp(ts));
}

absl::Status BindOptional(Statement& st, int index, const std::optional<int64_t>& v) {
  return v.has_value() ? st.Bind(index, *v) : st.BindNull(index);
}

constexpr char kColumns[] =
    "version, data, order_data, operator, overdue, unfounded_counted, create_us, name";

absl::StatusOr<ClaimRow> ReadRow(Statement& st) {
  ClaimRow row;
  if (!row.claim.ParseFromString(st.ColumnBlob(1)) ||
      !row.order.ParseFromString(st.ColumnBlob(2))) {
    return absl::DataLossError(absl::StrCat("corrupt claim row ", st.ColumnText(7)));
  }
  row.version = st.ColumnInt64(0);
  row.claim.set_etag(VersionEtag(row.version));
  row.market_operator = st.ColumnText(3);
  row.overdue = st.ColumnInt64(4) != 0;
  row.unfounded_counted = st.ColumnInt64(5) != 0;
  return row;
}

absl::StatusOr<std::string> ReadName(Statement& st) { return st.ColumnText(0); }

bool HasPendingResolution(const v1::Claim& c) {
  return c.has_resolution() && !c.resolution().has_confirm_time();
}

// The market part of `markets/{m}/orders/{o}`.
std::string MarketOf(const std::string& order) {
  std::string market;
  ValidMarketChildName(order, "orders", &market);
  return market;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClaimDatabase>> ClaimDatabase::Open(const std::string& path) {
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  MARKET_ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options, Migrations()));
  return std::unique_ptr<ClaimDatabase>(new ClaimDatabase(std::move(db)));
}

bool IsOpen(v1::Claim::State state) {
  return state == v1::Claim::FILED || state == v1::Claim::ACCEPTED ||
         state == v1::Claim::ESCALATED || state == v1::Claim::UPHELD;
}

std::optional<absl::Time> DueTime(const ClaimRow& row) {
  const v1::Claim& c = row.claim;
  if (c.state() == v1::Claim::FILED && c.has_reply_deadline()) {
    return FromTimestamp(c.reply_deadline());
  }
  if (c.state() != v1::Claim::ACCEPTED && c.state() != v1::Claim::UPHELD) return std::nullopt;
  if (HasPendingResolution(c)) {
    if (c.has_confirm_deadline()) return FromTimestamp(c.confirm_deadline());
    return std::nullopt;
  }
  if (!row.overdue && c.has_resolve_deadline()) return FromTimestamp(c.resolve_deadline());
  return std::nullopt;
}

absl::StatusOr<std::optional<ClaimRow>> LoadClaim(Connection& c, const std::string& name) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare(absl::StrCat("SELECT ", kColumns, " FROM claims WHERE name = ?")));
  MARKET_RETURN_IF_ERROR(st.BindText(1, name));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::nullopt;
  return ReadRow(st);
}

absl::StatusOr<v1::Claim> SaveClaim(Connection& c, const ClaimRow& row, bool insert) {
  v1::Claim claim = row.claim;
  claim.clear_etag();
  std::optional<int64_t> due;
  if (std::optional<absl::Time> t = DueTime(row)) due = Micros(*t);
  std::optional<int64_t> unfounded;
  if (claim.state() == v1::Claim::DISMISSED && claim.unfounded()) {
    unfounded = Micros(FromTimestamp(claim.rule_time()));
  }
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare(insert
                    ? "INSERT INTO claims(order_name, market, operator, buyer, seller, kind, state, "
                      "create_us, reply_deadline_us, resolve_deadline_us, confirm_deadline_us, "
                      "due_us, overdue, unfounded_us, unfounded_counted, version, data, "
                      "order_data, name) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                      "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
                    : "UPDATE claims SET order_name = ?1, market = ?2, operator = ?3, buyer = ?4, "
                      "seller = ?5, kind = ?6, state = ?7, create_us = ?8, "
                      "reply_deadline_us = ?9, resolve_deadline_us = ?10, "
                      "confirm_deadline_us = ?11, due_us = ?12, overdue = ?13, "
                      "unfounded_us = ?14, unfounded_counted = ?15, version = ?16, data = ?17, "
                      "order_data = ?18 WHERE name = ?19"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, claim.order()));
  MARKET_RETURN_IF_ERROR(st.BindText(2, MarketOf(claim.order())));
  MARKET_RETURN_IF_ERROR(st.BindText(3, row.market_operator));
  MARKET_RETURN_IF_ERROR(st.BindText(4, claim.buyer()));
  MARKET_RETURN_IF_ERROR(st.BindText(5, claim.seller()));
  MARKET_RETURN_IF_ERROR(st.Bind(6, static_cast<int64_t>(claim.kind())));
  MARKET_RETURN_IF_ERROR(st.Bind(7, static_cast<int64_t>(claim.state())));
  MARKET_RETURN_IF_ERROR(st.Bind(8, Micros(FromTimestamp(claim.create_time()))));
  MARKET_RETURN_IF_ERROR(
      BindOptional(st, 9, MicrosIf(claim.has_reply_deadline(), claim.reply_deadline())));
  MARKET_RETURN_IF_ERROR(BindOptional(
      st, 10, MicrosIf(claim.has_resolve_deadline(), claim.resolve_deadline())));
  MARKET_RETURN_IF_ERROR(BindOptional(
      st, 11, MicrosIf(claim.has_confirm_deadline(), claim.confirm_deadline())));
  MARKET_RETURN_IF_ERROR(BindOptional(st, 12, due));
  MARKET_RETURN_IF_ERROR(st.Bind(13, static_cast<int64_t>(row.overdue ? 1 : 0)));
  MARKET_RETURN_IF_ERROR(BindOptional(st, 14, unfounded));
  MARKET_RETURN_IF_ERROR(st.Bind(15, static_cast<int64_t>(row.unfounded_counted ? 1 : 0)));
  MARKET_RETURN_IF_ERROR(st.Bind(16, row.version));
  MARKET_RETURN_IF_ERROR(st.BindBlob(17, claim.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(st.BindBlob(18, row.order.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(st.BindText(19, claim.name()));
  absl::Status s = st.Run();
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat(claim.name(), " already exists"));
  }
  MARKET_RETURN_IF_ERROR(s);
  // The statistics ledger's snapshot, in the same transaction (claim_figures.h).
  stats::v1::FigureSnapshot figures = ClaimFigures(row);
  MARKET_RETURN_IF_ERROR(stats::EnqueueFigureEvent(c, figures, FromTimestamp(figures.time())));
  claim.set_etag(VersionEtag(row.version));
  return claim;
}

absl::StatusOr<std::vector<ClaimRow>> ClaimsOfOrder(Connection& c, const std::string& order) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare(absl::StrCat("SELECT ", kColumns,
                                           " FROM claims WHERE order_name = ? ORDER BY create_us, id")));
  MARKET_RETURN_IF_ERROR(st.BindText(1, order));
  return ReadAll<ClaimRow>(st, ReadRow);
}

absl::StatusOr<std::vector<std::string>> RepliesDueUnreminded(Connection& c, absl::Time now,
                                                              absl::Duration within,
                                                              const std::string& event_prefix,
                                                              int limit) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT name FROM claims WHERE state = ?1 AND reply_deadline_us > ?2 "
                "AND reply_deadline_us <= ?3 AND NOT EXISTS (SELECT 1 FROM outbox "
                "WHERE outbox.event_id = ?4 || claims.name) ORDER BY reply_deadline_us LIMIT ?5"));
  MARKET_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(v1::Claim::FILED)));
  MARKET_RETURN_IF_ERROR(st.Bind(2, Micros(now)));
  MARKET_RETURN_IF_ERROR(st.Bind(3, Micros(now + within)));
  MARKET_RETURN_IF_ERROR(st.BindText(4, event_prefix));
  MARKET_RETURN_IF_ERROR(st.Bind(5, static_cast<int64_t>(limit)));
  return ReadAll<std::string>(st, ReadName);
}

absl::StatusOr<std::vector<std::string>> DueClaims(Connection& c, absl::Time now, int limit) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT name FROM claims WHERE due_us < ?1 ORDER BY due_us, name LIMIT ?2"));
  MARKET_RETURN_IF_ERROR(st.Bind(1, Micros(now)));
  MARKET_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(limit)));
  return ReadAll<std::string>(st, ReadName);
}

absl::StatusOr<std::vector<std::string>> UncountedUnfounded(Connection& c,
                                                            const std::string& buyer,
                                                            absl::Time since) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("SELECT name FROM claims WHERE buyer = ?1 AND unfounded_us > ?2 "
                              "AND unfounded_counted = 0 ORDER BY unfounded_us, name"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, buyer));
  MARKET_RETURN_IF_ERROR(st.Bind(2, Micros(since)));
  return ReadAll<std::string>(st, ReadName);
}

absl::Status MarkUnfoundedCounted(Connection& c, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    MARKET_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("UPDATE claims SET unfounded_counted = 1 WHERE name = ?"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, name));
    MARKET_RETURN_IF_ERROR(st.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<ClaimQuery> ParseClaimQuery(const std::string& filter, const std::string& order_by) {
  ClaimQuery q;
  constexpr char kWant[] =
      "want order=, market=, buyer=, seller=, state=, kind=, create_time>= or create_time< "
      "terms joined by \" AND \"";
  MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms,
                          ParseFilterTerms(filter, kWant, {"=", ">=", "<"}));
  for (const FilterTerm& t : terms) {
    const std::string& v = t.value;
    if (t.op == "=" && t.key == "order") {
      if (!ValidMarketChildName(v, "orders", nullptr)) {
        return BadFilterTerm(t, "want order=\"markets/{market}/orders/{order}\"");
      }
      q.order = v;
    } else if (t.op == "=" && t.key == "market") {
      if (!ValidCollectionName(v, "markets"))
        return BadFilterTerm(t, "want market=\"markets/{m}\"");
      q.market = v;
    } else if (t.op == "=" && (t.key == "buyer" || t.key == "seller")) {
      if (!ValidCollectionName(v, "subjects")) {
        return BadFilterTerm(t, absl::StrCat("want ", t.key, "=\"subjects/{subject}\""));
      }
      (t.key == "buyer" ? q.buyer : q.seller) = v;
    } else if (t.op == "=" && t.key == "state") {
      v1::Claim::State state;
      if (!v1::Claim::State_Parse(v, &state) || state == v1::Claim::STATE_UNSPECIFIED) {
        return BadFilterTerm(
            t, "want state=FILED|ACCEPTED|REJECTED|ESCALATED|UPHELD|DISMISSED|RESOLVED");
      }
      q.state = state;
    } else if (t.op == "=" && t.key == "kind") {
      v1::Claim::Kind kind;
      if (!v1::Claim::Kind_Parse(v, &kind) || kind == v1::Claim::KIND_UNSPECIFIED) {
        return BadFilterTerm(t, "want kind=REFUND|EXCHANGE|REPAIR");
      }
      q.kind = kind;
    } else if (t.key == "create_time" && (t.op == ">=" || t.op == "<")) {
      MARKET_ASSIGN_OR_RETURN(absl::Time when, FilterTime(t));
      (t.op == ">=" ? q.created_from : q.created_before) = when;
    } else {
      return InvalidField("filter", absl::StrCat("unknown term \"", t.text, "\"; ", kWant));
    }
  }
  MARKET_ASSIGN_OR_RETURN(q.ascending, OrderByAscending(order_by, "create_time"));
  return q;
}

absl::StatusOr<std::vector<ClaimHit>> ListClaims(Connection& c, const ClaimQuery& q,
                                                 const std::optional<SearchCursor>& after,
                                                 int limit) {
  std::string sql = absl::StrCat(
      "SELECT ", kColumns, " FROM claims WHERE 1 = 1 ",
      "AND (:order IS NULL OR order_name = :order) AND (:market IS NULL OR market = :market) ",
      "AND (:buyer IS NULL OR buyer = :buyer) AND (:seller IS NULL OR seller = :seller) ",
      "AND (:state IS NULL OR state = :state) AND (:kind IS NULL OR kind = :kind) ",
      "AND (:from IS NULL OR create_us >= :from) AND (:before IS NULL OR create_us < :before) ",
      "AND (:who IS NULL OR buyer = :who OR seller = :who OR operator = :who) ",
      after.has_value()
          ? absl::StrCat("AND (create_us ", q.ascending ? ">" : "<",
                         " :after_key OR (create_us = :after_key AND name > :after_name)) ")
          : "",
      "ORDER BY create_us ", q.ascending ? "ASC" : "DESC", ", name ASC LIMIT :limit");
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  auto text = [&](const char* param, const std::optional<std::string>& v) {
    return v.has_value() ? st.BindText(param, *v) : st.BindNull(param);
  };
  auto number = [&](const char* param, std::optional<int64_t> v) {
    return v.has_value() ? st.Bind(param, *v) : st.BindNull(param);
  };
  auto micros = [](const std::optional<absl::Time>& t) -> std::optional<int64_t> {
    if (!t.has_value()) return std::nullopt;
    return Micros(*t);
  };
  MARKET_RETURN_IF_ERROR(text(":order", q.order));
  MARKET_RETURN_IF_ERROR(text(":market", q.market));
  MARKET_RETURN_IF_ERROR(text(":buyer", q.buyer));
  MARKET_RETURN_IF_ERROR(text(":seller", q.seller));
  MARKET_RETURN_IF_ERROR(number(":state", q.state ? std::optional<int64_t>(*q.state) : std::nullopt));
  MARKET_RETURN_IF_ERROR(number(":kind", q.kind ? std::optional<int64_t>(*q.kind) : std::nullopt));
  MARKET_RETURN_IF_ERROR(number(":from", micros(q.created_from)));
  MARKET_RETURN_IF_ERROR(number(":before", micros(q.created_before)));
  MARKET_RETURN_IF_ERROR(q.visible_to.empty() ? st.BindNull(":who")
                                              : st.BindText(":who", q.visible_to));
  MARKET_RETURN_IF_ERROR(BindKeysetPage(st, after, limit));
  return ReadAll<ClaimHit>(st, [](Statement& st) -> absl::StatusOr<ClaimHit> {
    MARKET_ASSIGN_OR_RETURN(ClaimRow row, ReadRow(st));
    return ClaimHit{std::move(row), SearchCursor{st.ColumnInt64(6), st.ColumnText(7)}};
  });
}

}  // namespace market::warranty
