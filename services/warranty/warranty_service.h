// gRPC handlers of market.warranty.v1.WarrantyService over warranty.db: the
// claim lifecycle (FILED → ACCEPTED → RESOLVED, FILED → REJECTED → ESCALATED
// → UPHELD (→ RESOLVED) / DISMISSED, FILED → ESCALATED on a missed reply
// deadline), eligibility through the pure engine in eligibility.h, and the
// deadline scheduler. Every claim change, the credit events it causes
// (CLAIM_UPHELD, CLAIM_REPLY_MISSED, CLAIM_UNFOUNDED, CLAIM_RESOLVED_ON_TIME)
// and its idempotent response commit in one transaction; the events leave
// through the outbox (destination credit::kCreditDestination). Thread-safe.
//
// Deadlines (all computed with the injected Clock):
// * reply_deadline: filing + 72 h; vehicles: the end (24:00 China Standard
//   Time, UTC+8) of the 10th working day after the filing day. Working days
//   are Monday to Friday; public holidays and make-up working days are NOT
//   modelled (a deliberate simplification: it never shortens a deadline by
//   more than the holidays it ignores).
// * resolve_deadline: acceptance or an UPHELD ruling + 15 days; vehicles: the
//   end of the 20th working day (SAMR Order 43 "completes within 20").
// * confirm_deadline: recording a resolution + 7 days.
// RunDeadlines escalates FILED claims past reply_deadline (CLAIM_REPLY_MISSED),
// confirms resolutions past confirm_deadline (auto_confirmed; RESOLVED, with
// CLAIM_RESOLVED_ON_TIME when recorded by resolve_deadline), and reports
// ACCEPTED/UPHELD claims past resolve_deadline without a resolution as
// overdue (a warn log line, once per deadline). It also writes the webhook
// reminder CLAIM_REPLY_DUE once for each FILED claim whose reply deadline is
// less than kReplyReminder away. Filing, escalating (by hand or by the
// deadline) and ruling write CLAIM_FILED, CLAIM_ESCALATED and RULING_MADE
// webhook events (webhook_events.h) in the same transaction.
#ifndef MARKET_SERVICES_WARRANTY_WARRANTY_SERVICE_H_
#define MARKET_SERVICES_WARRANTY_WARRANTY_SERVICE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/auth/policy.h"
#include "common/clock/clock.h"
#include "common/pagination/page_token.h"
#include "common/server/handler.h"
#include "common/server/periodic.h"
#include "market/listing/v1/listing.pb.h"
#include "market/warranty/v1/warranty.grpc.pb.h"
#include "services/listing/listing_client.h"
#include "services/warranty/claim_tables.h"
#include "services/warranty/eligibility.h"

namespace market::warranty {

// An order as the listing service has it, with its market's operator.
using OrderInfo = listing::OrderInfo;
// Looks an order up by name (listing::ListingClient::GetOrder in both
// deployments; a fake in tests): std::nullopt when it does not exist; errors
// (e.g. UNAVAILABLE) are returned to the caller unchanged.
using OrderLookup =
    std::function<absl::StatusOr<std::optional<OrderInfo>>(const std::string& order_name)>;

struct WarrantyDeps {
  sqlite::Database* db = nullptr;  // warranty.db, not owned
  const Clock* clock = nullptr;
  OrderLookup orders;
  std::string page_token_secret;
  std::shared_ptr<const auth::TokenVerifier> verifier;
  std::shared_ptr<auth::SuspensionChecker> suspension;
  server::Metrics* metrics = nullptr;
};

std::vector<auth::RpcPolicy> WarrantyPolicies();

// The deadline `working_days` Monday–Friday days after the day of `from` in
// China Standard Time: 24:00 (UTC+8) at the end of that day.
absl::Time AddWorkingDays(absl::Time from, int working_days);

class WarrantyServiceImpl final : public v1::WarrantyService::Service {
 public:
  static absl::StatusOr<std::unique_ptr<WarrantyServiceImpl>> Create(WarrantyDeps deps);
  ~WarrantyServiceImpl() override;

  grpc::Status CheckEligibility(grpc::ServerContext*, const v1::CheckEligibilityRequest*,
                                v1::CheckEligibilityResponse*) override;
  grpc::Status FileClaim(grpc::ServerContext*, const v1::FileClaimRequest*, v1::Claim*) override;
  grpc::Status RespondToClaim(grpc::ServerContext*, const v1::RespondToClaimRequest*,
                              v1::Claim*) override;
  grpc::Status RecordRepair(grpc::ServerContext*, const v1::RecordRepairRequest*,
                            v1::Claim*) override;
  grpc::Status EscalateClaim(grpc::ServerContext*, const v1::EscalateClaimRequest*,
                             v1::Claim*) override;
  grpc::Status RuleOnClaim(grpc::ServerContext*, const v1::RuleOnClaimRequest*,
                           v1::Claim*) override;
  grpc::Status ResolveClaim(grpc::ServerContext*, const v1::ResolveClaimRequest*,
                            v1::Claim*) override;
  grpc::Status GetClaim(grpc::ServerContext*, const v1::GetClaimRequest*, v1::Claim*) override;
  grpc::Status ListClaims(grpc::ServerContext*, const v1::ListClaimsRequest*,
                          v1::ListClaimsResponse*) override;

  // Acts on every claim whose deadline has passed (see above). Returns how
  // many claims it escalated, confirmed or reported overdue.
  absl::StatusOr<int> RunDeadlines();
  static constexpr absl::Duration kReplyReminder = absl::Hours(24);
  // Runs RunDeadlines every `period` on a thread until StopScheduler() or
  // destruction. `after_run` (may be empty) is called on that thread with
  // each run's result, so a test can wait for a run instead of sleeping.
  void StartScheduler(absl::Duration period,
                      std::function<void(const absl::StatusOr<int>&)> after_run = {})
      ABSL_LOCKS_EXCLUDED(after_run_mu_);
  void StopScheduler();

 private:
  // Writes CLAIM_REPLY_DUE for FILED claims due within kReplyReminder.
  absl::Status RemindReplies();
  explicit WarrantyServiceImpl(WarrantyDeps deps)
      : deps_(std::move(deps)), pages_(deps_.page_token_secret) {}
  // Loads the claim `req.name()` in a write, checks `caller` is allowed and
  // `req.etag()`, applies `change` and saves the claim into *resp with its
  // idempotent response (key: method, caller, `req.request_id()`).
  template <typename Req>
  absl::Status Mutate(
      const auth::Caller& caller, const char* method, const Req& req, v1::Claim* resp,
      const std::function<absl::Status(const ClaimRow&)>& allowed,
      const std::function<absl::Status(sqlite::Connection&, ClaimRow&, absl::Time)>& change);
  // One deadline action on `name` as the scheduler; true when it changed it.
  absl::StatusOr<bool> ApplyDeadline(const std::string& name);

  WarrantyDeps deps_;
  PageTokenCodec pages_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
  absl::Mutex after_run_mu_;
  std::function<void(const absl::StatusOr<int>&)> after_run_ ABSL_GUARDED_BY(after_run_mu_);
  server::PeriodicJob scheduler_{"warranty deadlines applied",
                                 [this]() ABSL_LOCKS_EXCLUDED(after_run_mu_) {
                                   absl::StatusOr<int> n = RunDeadlines();
                                   absl::MutexLock lock(&after_run_mu_);
                                   if (after_run_) after_run_(n);
                                   return n;
                                 }};
};

}  // namespace market::warranty

#endif  // MARKET_SERVICES_WARRANTY_WARRANTY_SERVICE_H_
