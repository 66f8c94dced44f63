// gRPC handlers of market.credit.v1.CreditService and LedgerService over a
// CreditStore: validation, the policy tables, scoring with credit-policy-v1,
// the access log, and the scheduler (expiry, list entries). Thread-safe.
#ifndef MARKET_SERVICES_CREDIT_CREDIT_SERVICE_H_
#define MARKET_SERVICES_CREDIT_CREDIT_SERVICE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/auth/policy.h"
#include "common/clock/clock.h"
#include "common/pagination/page_token.h"
#include "common/server/handler.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "services/credit/credit_store.h"

namespace market::credit {

// Validates RecordEventRequest.record submitted at `now` (which submitter may
// record which type is the handler's check): OK or one INVALID_ARGUMENT whose
// BadRequest names every bad field ("record.subject", "record.occurred_time",
// …). Pure; exposed for the request fuzzer (fuzz/credit_request_fuzz.cc).
absl::Status ValidateRecord(const Record& record, absl::Time now);

// What the credit service needs to know about a subject from the identity
// and listing services (through their clients, in both deployments).
struct SubjectInfo {
  std::string display_name;
  std::string affiliation;  // the operator that onboarded a seller
  // Operators of the markets where the subject is an admitted seller, asked
  // only when an operator's read needs them, so a listing-service outage
  // never breaks display names. Unset: none.
  std::function<absl::StatusOr<std::vector<std::string>>()> market_operators;
};
// std::nullopt for an unknown subject.
using SubjectDirectory =
    std::function<absl::StatusOr<std::optional<SubjectInfo>>(const std::string& subject)>;

struct CreditOptions {
  std::string origin;             // checkpoint origin line
  std::string public_key_raw;     // the ledger key, for GetCheckpoint
  std::string page_token_secret;  // >= 16 bytes
};

std::vector<auth::RpcPolicy> CreditPolicies();
std::vector<auth::RpcPolicy> LedgerPolicies();

class CreditServiceImpl final : public v1::CreditService::Service {
 public:
  static absl::StatusOr<std::unique_ptr<CreditServiceImpl>> Create(
      CreditStore* store, const Clock* clock, CreditOptions options, SubjectDirectory directory,
      std::shared_ptr<const auth::TokenVerifier> verifier,
      std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics);
  ~CreditServiceImpl() override;

  // Appends RECORD_EXPIRED for every record past its maximum display period
  // at the clock's now; returns how many. Called by the scheduler.
  absl::StatusOr<int> RunExpiry();
  // Every `period` on a background thread until destruction: re-signs the
  // checkpoint, runs RunExpiry, then publishes the list entries that time
  // caused (CreditStore::PublishDueListEntries).
  void StartScheduler(absl::Duration period);

  grpc::Status RecordEvent(grpc::ServerContext*, const v1::RecordEventRequest*,
                           v1::RecordEventResponse*) override;
  grpc::Status GetCreditProfile(grpc::ServerContext*, const v1::GetCreditProfileRequest*,
                                v1::CreditProfile*) override;
  grpc::Status ListRecords(grpc::ServerContext*, const v1::ListRecordsRequest*,
                           v1::ListRecordsResponse*) override;
  grpc::Status ListAccessLog(grpc::ServerContext*, const v1::ListAccessLogRequest*,
                             v1::ListAccessLogResponse*) override;
  grpc::Status ApplyForRepair(grpc::ServerContext*, const v1::ApplyForRepairRequest*,
                              v1::RepairApplication*) override;
  grpc::Status RuleOnRepair(grpc::ServerContext*, const v1::RuleOnRepairRequest*,
                            v1::RepairApplication*) override;
  grpc::Status ListBlacklist(grpc::ServerContext*, const v1::ListBlacklistRequest*,
                             v1::ListBlacklistResponse*) override;
  grpc::Status ListRedlist(grpc::ServerContext*, const v1::ListRedlistRequest*,
                           v1::ListRedlistResponse*) override;

 private:
  CreditServiceImpl(CreditStore* store, const Clock* clock, CreditOptions options,
                    SubjectDirectory directory)
      : store_(store),
        clock_(clock),
        options_(std::move(options)),
        directory_(std::move(directory)),
        pages_(options_.page_token_secret) {}

  absl::Status LogAccess(const auth::Caller& caller, const std::string& subject,
                         const std::string& method, const std::string& purpose);
  // One page of the black list (`black`) or the red list for `req` into `resp`.
  template <typename Req, typename Resp>
  absl::Status ListCreditList(bool black, const Req& req, Resp* resp);

  CreditStore* store_;
  const Clock* clock_;
  CreditOptions options_;
  SubjectDirectory directory_;
  PageTokenCodec pages_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
  std::atomic<bool> stop_{false};
  std::thread scheduler_;
};

class LedgerServiceImpl final : public v1::LedgerService::Service {
 public:
  static absl::StatusOr<std::unique_ptr<LedgerServiceImpl>> Create(
      CreditStore* store, const Clock* clock, CreditOptions options,
      std::shared_ptr<const auth::TokenVerifier> verifier, server::Metrics* metrics);

  grpc::Status GetCheckpoint(grpc::ServerContext*, const v1::GetCheckpointRequest*,
                             v1::Checkpoint*) override;
  grpc::Status GetRecords(grpc::ServerContext*, const v1::GetRecordsRequest*,
                          v1::GetRecordsResponse*) override;
  grpc::Status GetInclusionProof(grpc::ServerContext*, const v1::GetInclusionProofRequest*,
                                 v1::InclusionProof*) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext*, const v1::GetConsistencyProofRequest*,
                                   v1::ConsistencyProof*) override;

 private:
  LedgerServiceImpl(CreditStore* store, const Clock* clock, CreditOptions options)
      : store_(store), clock_(clock), options_(std::move(options)) {}
  CreditStore* store_;
  const Clock* clock_;
  CreditOptions options_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

// The checkpoint message for a stored checkpoint.
v1::Checkpoint ToProto(const StoredCheckpoint& cp, const CreditOptions& options);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CREDIT_SERVICE_H_
