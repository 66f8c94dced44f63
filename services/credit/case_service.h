// gRPC handlers of market.supervision.v1.CaseService, the supervisors' case
// queue, served by the credit process over a CaseStore in credit.db: the
// policy table, validation, the case state machine (case_rules.h) and
// closing a case together with its credit record in one transaction.
// Thread-safe.
#ifndef MARKET_SERVICES_CREDIT_CASE_SERVICE_H_
#define MARKET_SERVICES_CREDIT_CASE_SERVICE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/auth/policy.h"
#include "common/clock/clock.h"
#include "common/pagination/page_token.h"
#include "common/server/handler.h"
#include "market/supervision/v1/supervision.grpc.pb.h"
#include "services/credit/case_store.h"

namespace market::credit {

// An order's parties as the listing service has them.
struct OrderParties {
  std::string buyer;
  std::string seller;
  std::string market;  // markets/{m}
};

// What the case queue asks the listing service (ListingClient in both
// deployments).
struct CasePeers {
  // std::nullopt for an unknown order.
  std::function<absl::StatusOr<std::optional<OrderParties>>(const std::string& order)> order;
  // The market's 6-digit region code; "" for an unknown market.
  std::function<absl::StatusOr<std::string>(const std::string& market)> market_region;
  // Called after a case was stored (a new one, or the one an event or a
  // request id already opened: it must be idempotent), e.g. to publish the
  // webhook event "case.opened". An error fails the call, so the caller's
  // retry (the outbox relay's, a client's with the same request id) calls it
  // again. Unset: nothing.
  std::function<absl::Status(const supervision::v1::Case&)> opened;
};

std::vector<auth::RpcPolicy> CasePolicies();

class CaseServiceImpl final : public supervision::v1::CaseService::Service {
 public:
  // `store` is not owned and must outlive the service.
  static absl::StatusOr<std::unique_ptr<CaseServiceImpl>> Create(
      CaseStore* store, const Clock* clock, CasePeers peers, std::string page_token_secret,
      std::shared_ptr<const auth::TokenVerifier> verifier,
      std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics);

  grpc::Status GetCase(grpc::ServerContext*, const supervision::v1::GetCaseRequest*,
                       supervision::v1::Case*) override;
  grpc::Status ListCases(grpc::ServerContext*, const supervision::v1::ListCasesRequest*,
                         supervision::v1::ListCasesResponse*) override;
  grpc::Status AssignCase(grpc::ServerContext*, const supervision::v1::AssignCaseRequest*,
                          supervision::v1::Case*) override;
  grpc::Status AddCaseNote(grpc::ServerContext*, const supervision::v1::AddCaseNoteRequest*,
                           supervision::v1::Case*) override;
  grpc::Status CloseCase(grpc::ServerContext*, const supervision::v1::CloseCaseRequest*,
                         supervision::v1::Case*) override;
  grpc::Status OpenCase(grpc::ServerContext*, const supervision::v1::OpenCaseRequest*,
                        supervision::v1::Case*) override;
  grpc::Status ReportSuspectedViolation(grpc::ServerContext*,
                                        const supervision::v1::ReportSuspectedViolationRequest*,
                                        supervision::v1::Case*) override;
  grpc::Status RecordCaseEvent(grpc::ServerContext*,
                               const supervision::v1::RecordCaseEventRequest*,
                               supervision::v1::Case*) override;

 private:
  CaseServiceImpl(CaseStore* store, const Clock* clock, CasePeers peers, std::string secret)
      : store_(store), clock_(clock), peers_(std::move(peers)), pages_(std::move(secret)) {}
  // A new OPEN case from `in`'s client fields, opened by `by` at `now`, with
  // the market's region filled in when `in` has a market but no region.
  absl::StatusOr<Case> NewCase(const Case& in, const std::string& by, absl::Time now) const;
  // peers_.opened(stored), when set.
  absl::Status Announce(const Case& stored) const;

  CaseStore* store_;
  const Clock* clock_;
  CasePeers peers_;
  PageTokenCodec pages_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CASE_SERVICE_H_
