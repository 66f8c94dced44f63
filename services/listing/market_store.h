// Storage of markets (listing.db). Markets are kept as serialized protos with
// indexed columns for filtering; `sellers` travels inside the market. Every
// mutating call takes a RequestKey for idempotent replay in the same
// transaction as the change. Implementations are thread-safe.
#ifndef MARKET_SERVICES_LISTING_MARKET_STORE_H_
#define MARKET_SERVICES_LISTING_MARKET_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/idempotency/idempotency.h"
#include "market/listing/v1/listing.pb.h"

namespace market::listing {

// Identifies one client request for idempotent replay ("" request_id: none).

struct MarketRow {
  v1::Market market;  // etag set from version
  int64_t version = 0;
};

struct MarketFilter {
  std::optional<v1::Market::Kind> kind;
  std::optional<std::string> operator_subject;
  std::optional<std::string> region_prefix;
  std::optional<common::v1::Category> category;
  std::optional<std::string> seller;  // markets this subject is admitted to
};

class MarketStore {
 public:
  virtual ~MarketStore() = default;
  // Inserts `market` (name set). ALREADY_EXISTS when the name is taken. For a
  // retry of the same request the stored response, with *replayed = true.
  virtual absl::StatusOr<v1::Market> CreateMarket(const v1::Market& market, const RequestKey& key,
                                                  absl::Time now, bool* replayed) = 0;
  // NOT_FOUND when absent.
  virtual absl::StatusOr<MarketRow> GetMarket(const std::string& name) = 0;
  // Up to `limit` markets with name > `after` matching `filter`, in name order.
  virtual absl::StatusOr<std::vector<MarketRow>> ListMarkets(const MarketFilter& filter,
                                                             const std::string& after,
                                                             int limit) = 0;
  // Reads the market, applies `mutate` (which may refuse) and stores it with
  // version + 1, atomically. NOT_FOUND when absent.
  virtual absl::StatusOr<v1::Market> MutateMarket(
      const std::string& name, const RequestKey& key, absl::Time now,
      const std::function<absl::Status(MarketRow&)>& mutate, bool* replayed) = 0;
};

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_MARKET_STORE_H_
