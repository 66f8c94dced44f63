// gRPC handlers of market.listing.v1.MarketService: flea markets, trading
// zones and online platforms, and the sellers admitted to each. Thread-safe.
#ifndef MARKET_SERVICES_LISTING_MARKET_SERVICE_H_
#define MARKET_SERVICES_LISTING_MARKET_SERVICE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/auth/policy.h"
#include "common/clock/clock.h"
#include "common/pagination/page_token.h"
#include "common/server/handler.h"
#include "market/identity/v1/identity.pb.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "ledger/restriction_policy.h"
#include "services/listing/market_store.h"

namespace market::listing {

// Looks a subject up in the identity service; std::nullopt when unknown.
using SubjectLookup =
    std::function<absl::StatusOr<std::optional<identity::v1::Subject>>(const std::string&)>;

std::vector<auth::RpcPolicy> MarketPolicies();

class MarketServiceImpl final : public v1::MarketService::Service {
 public:
  static absl::StatusOr<std::unique_ptr<MarketServiceImpl>> Create(
      MarketStore* store, const Clock* clock, SubjectLookup subjects, std::string page_token_secret,
      std::shared_ptr<const auth::TokenVerifier> verifier,
      std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics,
      ledger::CreditStandingLookup credit = nullptr);

  grpc::Status CreateMarket(grpc::ServerContext*, const v1::CreateMarketRequest*,
                            v1::Market*) override;
  grpc::Status GetMarket(grpc::ServerContext*, const v1::GetMarketRequest*, v1::Market*) override;
  grpc::Status ListMarkets(grpc::ServerContext*, const v1::ListMarketsRequest*,
                           v1::ListMarketsResponse*) override;
  grpc::Status UpdateMarket(grpc::ServerContext*, const v1::UpdateMarketRequest*,
                            v1::Market*) override;
  grpc::Status AddSeller(grpc::ServerContext*, const v1::AddSellerRequest*, v1::Market*) override;
  grpc::Status RemoveSeller(grpc::ServerContext*, const v1::RemoveSellerRequest*,
                            v1::Market*) override;

 private:
  MarketServiceImpl(MarketStore* store, const Clock* clock, SubjectLookup subjects,
                    std::string page_token_secret)
      : store_(store),
        clock_(clock),
        subjects_(std::move(subjects)),
        pages_(std::move(page_token_secret)) {}
  // `sellers` only for the market's operator and supervisors.
  v1::Market View(v1::Market market, const auth::Caller& caller) const;
  // OK when `caller` is a supervisor or the operator of `market`.
  absl::Status CheckOwner(const auth::Caller& caller, const v1::Market& market) const;
  // FAILED_PRECONDITION `reason` unless `subject` exists, is active and holds `role`.
  absl::Status CheckSubjectRole(const std::string& subject, common::v1::Role role,
                                const char* reason) const;
  absl::StatusOr<v1::Market> ChangeSellers(const auth::Caller& caller, const char* method,
                                           const std::string& market, const std::string& seller,
                                           const std::string& etag, const std::string& request_id,
                                           bool add);

  MarketStore* store_;
  const Clock* clock_;
  SubjectLookup subjects_;
  // AddSeller asks it (restriction-policy-v1); unset: no credit restrictions.
  ledger::CreditStandingLookup credit_;
  PageTokenCodec pages_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_MARKET_SERVICE_H_
