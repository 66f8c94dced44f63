#include "services/listing/sqlite_market_store.h"

#include <algorithm>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "common/idempotency/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "services/listing/credit_lists.h"
#include "services/listing/listing_tables.h"
#include "services/listing/search_index.h"

namespace market::listing {
namespace {

using sqlite::Connection;
using sqlite::Statement;

const std::vector<sqlite::Migration>& Migrations() {
  static const auto* migrations = new std::vector<sqlite::Migration>{
      {1, absl::StrCat(R"sql(
CREATE TABLE markets (
  name TEXT PRIMARY KEY,
  operator TEXT NOT NULL,
  kind INTEGER NOT NULL,
  region_code TEXT NOT NULL,
  categories TEXT NOT NULL,
  version INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX markets_by_operator ON markets(operator, name);
)sql",
                       kIdempotencySchema)},
      {2, ListingSchema()},
      {3, SearchIndexMigration()},
      {4, ListingPhotosMigration()},
      {5, CreditListsMigration()},
      {6, outbox::kOutboxOrderingSchema},  // per-key delivery order
  };
  return *migrations;
}


std::string CategoriesColumn(const v1::Market& m) {
  std::string out = "|";
  for (int c : m.categories()) absl::StrAppend(&out, common::v1::Category_Name(c), "|");
  return out;
}

absl::StatusOr<MarketRow> ReadRow(Statement& st) {
  MarketRow row;
  if (!row.market.ParseFromString(st.ColumnBlob(1))) {
    return absl::DataLossError(absl::StrCat("corrupt market ", st.ColumnText(0)));
  }
  row.version = st.ColumnInt64(0);
  row.market.set_etag(VersionEtag(row.version));
  return row;
}

// Market `name` in the caller's transaction; NOT_FOUND when absent.
absl::StatusOr<MarketRow> LoadRow(Connection& c, const std::string& name) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare("SELECT version, data FROM markets WHERE name = ?"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, name));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return NotFound(name);
  return ReadRow(st);
}

absl::Status Write(Connection& c, const v1::Market& m, int64_t version, bool insert) {
  v1::Market stored = m;
  stored.clear_etag();
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare(insert ? "INSERT INTO markets(operator, kind, region_code, categories, version, "
                         "data, name) VALUES(?, ?, ?, ?, ?, ?, ?)"
                       : "UPDATE markets SET operator = ?, kind = ?, region_code = ?, "
                         "categories = ?, version = ?, data = ? WHERE name = ?"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, m.operator_()));
  MARKET_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(m.kind())));
  MARKET_RETURN_IF_ERROR(st.BindText(3, m.region_code()));
  MARKET_RETURN_IF_ERROR(st.BindText(4, CategoriesColumn(m)));
  MARKET_RETURN_IF_ERROR(st.Bind(5, version));
  MARKET_RETURN_IF_ERROR(st.BindBlob(6, stored.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(st.BindText(7, m.name()));
  absl::Status s = st.Run();
  if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat(m.name(), " exists"));
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteMarketStore>> SqliteMarketStore::Open(
    const std::string& path) {
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  MARKET_ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options, Migrations()));
  return std::unique_ptr<SqliteMarketStore>(new SqliteMarketStore(std::move(db)));
}

absl::StatusOr<v1::Market> SqliteMarketStore::CreateMarket(const v1::Market& market,
                                                           const RequestKey& key, absl::Time now,
                                                           bool* replayed) {
  return RunIdempotent<v1::Market>(
      *db_, key, now,
      [&](Connection& c) -> absl::StatusOr<v1::Market> {
        v1::Market m = market;
        *m.mutable_create_time() = ToTimestamp(now);
        *m.mutable_update_time() = ToTimestamp(now);
        MARKET_RETURN_IF_ERROR(Write(c, m, 1, /*insert=*/true));
        m.set_etag(VersionEtag(1));
        return m;
      },
      replayed);
}

absl::StatusOr<MarketRow> SqliteMarketStore::GetMarket(const std::string& name) {
  MarketRow row;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(row, LoadRow(c, name));
    return absl::OkStatus();
  }));
  return row;
}

absl::StatusOr<std::vector<MarketRow>> SqliteMarketStore::ListMarkets(const MarketFilter& f,
                                                                      const std::string& after,
                                                                      int limit) {
  std::vector<MarketRow> rows;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT version, data FROM markets WHERE name > ?1 "
                                "AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR operator = ?3) "
                                "AND (?4 IS NULL OR substr(region_code, 1, length(?4)) = ?4) "
                                "AND (?5 IS NULL OR categories = '|' OR instr(categories, ?5) > 0) "
                                "ORDER BY name LIMIT ?6"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, after));
    MARKET_RETURN_IF_ERROR(f.kind ? st.Bind(2, static_cast<int64_t>(*f.kind)) : st.BindNull(2));
    MARKET_RETURN_IF_ERROR(f.operator_subject ? st.BindText(3, *f.operator_subject)
                                              : st.BindNull(3));
    MARKET_RETURN_IF_ERROR(f.region_prefix ? st.BindText(4, *f.region_prefix) : st.BindNull(4));
    MARKET_RETURN_IF_ERROR(
        f.category ? st.BindText(5, absl::StrCat("|", common::v1::Category_Name(*f.category), "|"))
                   : st.BindNull(5));
    // Sellers live inside the market's data: with a seller term the rows
    // are filtered here (a county has tens of markets, not millions).
    MARKET_RETURN_IF_ERROR(st.Bind(6, static_cast<int64_t>(f.seller ? -1 : limit)));
    while (static_cast<int>(rows.size()) < limit) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      MARKET_ASSIGN_OR_RETURN(MarketRow row, ReadRow(st));
      if (f.seller && !absl::c_linear_search(row.market.sellers(), *f.seller)) continue;
      rows.push_back(std::move(row));
    }
    return absl::OkStatus();
  }));
  return rows;
}

absl::StatusOr<v1::Market> SqliteMarketStore::MutateMarket(
    const std::string& name, const RequestKey& key, absl::Time now,
    const std::function<absl::Status(MarketRow&)>& mutate, bool* replayed) {
  return RunIdempotent<v1::Market>(
      *db_, key, now,
      [&](Connection& c) -> absl::StatusOr<v1::Market> {
        MARKET_ASSIGN_OR_RETURN(MarketRow row, LoadRow(c, name));
        MARKET_RETURN_IF_ERROR(mutate(row));
        row.market.set_name(name);
        *row.market.mutable_update_time() = ToTimestamp(now);
        MARKET_RETURN_IF_ERROR(Write(c, row.market, row.version + 1, /*insert=*/false));
        row.market.set_etag(VersionEtag(row.version + 1));
        return row.market;
      },
      replayed);
}

}  // namespace market::listing
