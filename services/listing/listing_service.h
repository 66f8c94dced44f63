// gRPC handlers of market.listing.v1.ListingService, OrderService and
// ItemService over listing.db (shared with MarketService). Every state change
// and the credit events it causes (TRADE_COMPLETED, LISTING_REMOVED,
// COUNTERFEIT_CONFIRMED, FRAUD_CONFIRMED) commit in one transaction; the
// events leave through the outbox (common/outbox). Thread-safe.
#ifndef MARKET_SERVICES_LISTING_LISTING_SERVICE_H_
#define MARKET_SERVICES_LISTING_LISTING_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "common/auth/policy.h"
#include "common/clock/clock.h"
#include "common/pagination/page_token.h"
#include "common/server/handler.h"
#include "common/server/periodic.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "services/credit/credit_client.h"
#include "services/listing/market_service.h"
#include "services/listing/photo_store.h"
#include "services/listing/sqlite_market_store.h"

namespace market::listing {

// What the three services share.
struct ListingDeps {
  sqlite::Database* db = nullptr;  // listing.db, not owned
  const Clock* clock = nullptr;
  std::string photo_dir;  // content-addressed photo files
  std::string page_token_secret;
  std::shared_ptr<const auth::TokenVerifier> verifier;
  std::shared_ptr<auth::SuspensionChecker> suspension;
  server::Metrics* metrics = nullptr;
  // Asked at the moment of a restricted action (restriction-policy-v1:
  // publish, place and accept orders). Unset: no credit restrictions (a
  // listing service without a credit service; both binaries set it).
  ledger::CreditStandingLookup credit;
  // Several subjects' standings at once (credit::CreditClient::Standings),
  // for an action restricted for two parties (PlaceOrder). Unset: `credit`
  // is asked for one after the other.
  credit::CreditStandingsLookup credit_standings;
};

std::vector<auth::RpcPolicy> ListingPolicies();
std::vector<auth::RpcPolicy> OrderPolicies();
std::vector<auth::RpcPolicy> ItemPolicies();

// Who may see and change a listing: its seller, or the operator that created
// it on the seller's behalf while that operator still runs the market
// (`market_operator`, the market's current operator).
bool IsListingOwner(const auth::Caller& caller, const v1::Listing& listing,
                    const std::string& market_operator);

// What each of the three services' handlers run with.
class ListingRpcBase {
 protected:
  explicit ListingRpcBase(ListingDeps deps)
      : deps_(std::move(deps)), pages_(deps_.page_token_secret) {}
  // Builds the authorizer of the listing.proto service `full_name` and env_.
  absl::Status InitRpc(const char* full_name, std::vector<auth::RpcPolicy> policies);
  // The seller of listing `name` as committed now; std::nullopt when the name
  // is malformed, the listing is missing, or (with `owner`) not owned by it.
  absl::StatusOr<std::optional<std::string>> ListingSeller(const std::string& name,
                                                           const auth::Caller* owner) const;
  // ledger::CheckRestriction through deps_.credit (OK when unset).
  absl::Status CheckCredit(const std::string& subject, common::v1::Role role,
                           ledger::RestrictedAction action) const;
  // CheckCredit of every check, the standings asked concurrently through
  // deps_.credit_standings when set; the first failing check's error.
  struct CreditCheck {
    std::string subject;
    common::v1::Role role;
    ledger::RestrictedAction action;
  };
  absl::Status CheckCredits(const std::vector<CreditCheck>& checks) const;

  ListingDeps deps_;
  PageTokenCodec pages_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

class ListingServiceImpl final : public v1::ListingService::Service, private ListingRpcBase {
 public:
  static absl::StatusOr<std::unique_ptr<ListingServiceImpl>> Create(ListingDeps deps);

  grpc::Status CreateListing(grpc::ServerContext*, const v1::CreateListingRequest*,
                             v1::Listing*) override;
  grpc::Status GetListing(grpc::ServerContext*, const v1::GetListingRequest*,
                          v1::Listing*) override;
  grpc::Status UpdateListing(grpc::ServerContext*, const v1::UpdateListingRequest*,
                             v1::Listing*) override;
  grpc::Status PublishListing(grpc::ServerContext*, const v1::PublishListingRequest*,
                              v1::Listing*) override;
  grpc::Status WithdrawListing(grpc::ServerContext*, const v1::WithdrawListingRequest*,
                               v1::Listing*) override;
  grpc::Status RemoveListing(grpc::ServerContext*, const v1::RemoveListingRequest*,
                             v1::Listing*) override;
  grpc::Status UploadPhoto(grpc::ServerContext*, grpc::ServerReader<v1::UploadPhotoRequest>*,
                           v1::Photo*) override;
  grpc::Status ImportListings(grpc::ServerContext*, const v1::ImportListingsRequest*,
                              v1::ImportListingsResponse*) override;
  grpc::Status SearchListings(grpc::ServerContext*, const v1::SearchListingsRequest*,
                              v1::SearchListingsResponse*) override;

  // A stored photo and its bytes for GET /photos/{sha256}: served when the
  // caller (`authorization`, the raw header, "" = anonymous) may GetListing at
  // least one listing carrying it. NOT_FOUND otherwise (photos on no listing
  // the caller may read included, so their existence is not revealed);
  // GetListing's authentication errors (UNAUTHENTICATED, …) for a bad token.
  absl::StatusOr<std::pair<v1::Photo, std::string>> ReadPhoto(const std::string& authorization,
                                                              const std::string& sha256) const;

 private:
  ListingServiceImpl(ListingDeps deps, PhotoStore photos)
      : ListingRpcBase(std::move(deps)), photos_(std::move(photos)) {}
  // Loads `name` in a write and applies `change` as the owner-checked state
  // change of `method`; the saved listing goes to `out`.
  absl::Status MutateListing(const auth::Caller& caller, const char* method,
                             const std::string& name, const std::string& etag,
                             const std::string& request_id, v1::Listing* out,
                             const std::function<absl::Status(sqlite::Connection&, v1::Listing&,
                                                              const MarketRow&)>& change);

  PhotoStore photos_;
};

class OrderServiceImpl final : public v1::OrderService::Service, private ListingRpcBase {
 public:
  static absl::StatusOr<std::unique_ptr<OrderServiceImpl>> Create(ListingDeps deps);
  ~OrderServiceImpl() override;

  grpc::Status PlaceOrder(grpc::ServerContext*, const v1::PlaceOrderRequest*, v1::Order*) override;
  grpc::Status CancelOrder(grpc::ServerContext*, const v1::CancelOrderRequest*,
                           v1::Order*) override;
  grpc::Status ConfirmDelivery(grpc::ServerContext*, const v1::ConfirmDeliveryRequest*,
                               v1::Order*) override;
  grpc::Status CompleteOrder(grpc::ServerContext*, const v1::CompleteOrderRequest*,
                             v1::Order*) override;
  grpc::Status GetOrder(grpc::ServerContext*, const v1::GetOrderRequest*, v1::Order*) override;
  grpc::Status ListOrders(grpc::ServerContext*, const v1::ListOrdersRequest*,
                          v1::ListOrdersResponse*) override;

  // Completes every DELIVERED order whose refund window has passed (as the
  // system; emits TRADE_COMPLETED). Returns how many were completed.
  absl::StatusOr<int> RunAutoComplete();
  // Runs RunAutoComplete every `period` on a thread until destruction.
  void StartScheduler(absl::Duration period);
  void StopScheduler();

 private:
  explicit OrderServiceImpl(ListingDeps deps) : ListingRpcBase(std::move(deps)) {}
  absl::StatusOr<v1::Order> Complete(const std::string& name, const std::string& etag,
                                     const std::string& caller, const std::string& request_id,
                                     bool by_buyer);

  server::PeriodicJob scheduler_{"orders auto-completed", [this] { return RunAutoComplete(); }};
};

class ItemServiceImpl final : public v1::ItemService::Service, private ListingRpcBase {
 public:
  static absl::StatusOr<std::unique_ptr<ItemServiceImpl>> Create(ListingDeps deps);

  grpc::Status GetItemHistory(grpc::ServerContext*, const v1::GetItemHistoryRequest*,
                              v1::ItemHistory*) override;
  grpc::Status RecordObservation(grpc::ServerContext*, const v1::RecordObservationRequest*,
                                 v1::Observation*) override;

 private:
  explicit ItemServiceImpl(ListingDeps deps) : ListingRpcBase(std::move(deps)) {}
};

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_LISTING_SERVICE_H_
