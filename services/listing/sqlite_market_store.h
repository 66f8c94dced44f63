// MarketStore on listing.db (SQLite, synchronous=FULL); owns the database
// the other listing services share. Thread-safe.
#ifndef MARKET_SERVICES_LISTING_SQLITE_MARKET_STORE_H_
#define MARKET_SERVICES_LISTING_SQLITE_MARKET_STORE_H_

#include <memory>
#include <string>

#include "common/sqlite/database.h"
#include "services/listing/market_store.h"

namespace market::listing {

class SqliteMarketStore final : public MarketStore {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteMarketStore>> Open(const std::string& path);

  absl::StatusOr<v1::Market> CreateMarket(const v1::Market& market, const RequestKey& key,
                                          absl::Time now, bool* replayed) override;
  absl::StatusOr<MarketRow> GetMarket(const std::string& name) override;
  absl::StatusOr<std::vector<MarketRow>> ListMarkets(const MarketFilter& filter,
                                                     const std::string& after, int limit) override;
  absl::StatusOr<v1::Market> MutateMarket(const std::string& name, const RequestKey& key,
                                          absl::Time now,
                                          const std::function<absl::Status(MarketRow&)>& mutate,
                                          bool* replayed) override;

 // The whole listing.db, shared with ListingService, OrderService and
  // ItemService (their tables are in migration 2, see listing_tables.h).
  sqlite::Database& db() { return *db_; }

 private:
  explicit SqliteMarketStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_SQLITE_MARKET_STORE_H_
