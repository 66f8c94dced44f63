// gRPC handlers of market.appraisal.v1.AppraisalService over appraisal.db:
// accreditations, signing keys, firm-signed reports (verified over the exact
// signed bytes), disputes and grading schemes. A filing's item observation and
// listing update, and a ruling's credit events, are written to the outbox in
// the same transaction as the change. Thread-safe.
#ifndef MARKET_SERVICES_APPRAISAL_APPRAISAL_SERVICE_H_
#define MARKET_SERVICES_APPRAISAL_APPRAISAL_SERVICE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/auth/policy.h"
#include "common/clock/clock.h"
#include "common/pagination/page_token.h"
#include "common/server/handler.h"
#include "common/sqlite/database.h"
#include "market/appraisal/v1/appraisal.grpc.pb.h"
#include "market/identity/v1/identity.pb.h"
#include "ledger/restriction_policy.h"

namespace market::appraisal {

// Looks a subject up in the identity service; std::nullopt when unknown.
using SubjectLookup =
    std::function<absl::StatusOr<std::optional<identity::v1::Subject>>(const std::string&)>;

// The parties of a listing (`markets/{m}/listings/{l}`): its seller first,
// then the buyers of orders on it. NOT_FOUND when the listing does not exist.
using ListingParties =
    std::function<absl::StatusOr<std::vector<std::string>>(const std::string& listing_name)>;

struct AppraisalDeps {
  sqlite::Database* db = nullptr;  // appraisal.db, not owned
  const Clock* clock = nullptr;
  SubjectLookup subjects;
  ListingParties parties;
  std::string page_token_secret;
  std::shared_ptr<const auth::TokenVerifier> verifier;
  std::shared_ptr<auth::SuspensionChecker> suspension;
  server::Metrics* metrics = nullptr;  // may be null
  // Base of the verify URLs certificates carry (NormalizePublicBaseUrl'd).
  std::string public_base_url = "http://127.0.0.1:7401";
  // FileAppraisal asks it for the firm's standing (restriction-policy-v1).
  // Unset: no credit restrictions (both binaries set it).
  ledger::CreditStandingLookup credit;
};

std::vector<auth::RpcPolicy> AppraisalPolicies();

class AppraisalServiceImpl final : public v1::AppraisalService::Service {
 public:
  static absl::StatusOr<std::unique_ptr<AppraisalServiceImpl>> Create(AppraisalDeps deps);

  grpc::Status GrantAccreditation(grpc::ServerContext*, const v1::GrantAccreditationRequest*,
                                  v1::Accreditation*) override;
  grpc::Status SuspendAccreditation(grpc::ServerContext*, const v1::SuspendAccreditationRequest*,
                                    v1::Accreditation*) override;
  grpc::Status RevokeAccreditation(grpc::ServerContext*, const v1::RevokeAccreditationRequest*,
                                   v1::Accreditation*) override;
  grpc::Status ListAccreditations(grpc::ServerContext*, const v1::ListAccreditationsRequest*,
                                  v1::ListAccreditationsResponse*) override;
  grpc::Status RegisterSigningKey(grpc::ServerContext*, const v1::RegisterSigningKeyRequest*,
                                  v1::SigningKey*) override;
  grpc::Status RetireSigningKey(grpc::ServerContext*, const v1::RetireSigningKeyRequest*,
                                v1::SigningKey*) override;
  grpc::Status ListSigningKeys(grpc::ServerContext*, const v1::ListSigningKeysRequest*,
                               v1::ListSigningKeysResponse*) override;
  grpc::Status FileAppraisal(grpc::ServerContext*, const v1::FileAppraisalRequest*,
                             v1::Appraisal*) override;
  grpc::Status GetAppraisal(grpc::ServerContext*, const v1::GetAppraisalRequest*,
                            v1::Appraisal*) override;
  grpc::Status ListAppraisals(grpc::ServerContext*, const v1::ListAppraisalsRequest*,
                              v1::ListAppraisalsResponse*) override;
  grpc::Status VerifyAppraisal(grpc::ServerContext*, const v1::VerifyAppraisalRequest*,
                               v1::VerifyAppraisalResponse*) override;
  grpc::Status FileDispute(grpc::ServerContext*, const v1::FileDisputeRequest*,
                           v1::Dispute*) override;
  grpc::Status GetDispute(grpc::ServerContext*, const v1::GetDisputeRequest*,
                          v1::Dispute*) override;
  grpc::Status ListDisputes(grpc::ServerContext*, const v1::ListDisputesRequest*,
                            v1::ListDisputesResponse*) override;
  grpc::Status RuleOnDispute(grpc::ServerContext*, const v1::RuleOnDisputeRequest*,
                             v1::Dispute*) override;
  grpc::Status ListGradingSchemes(grpc::ServerContext*, const v1::ListGradingSchemesRequest*,
                                  v1::ListGradingSchemesResponse*) override;
  grpc::Status GetAppraisalCertificate(grpc::ServerContext*,
                                       const v1::GetAppraisalCertificateRequest*,
                                       v1::AppraisalCertificate*) override;

 private:
  explicit AppraisalServiceImpl(AppraisalDeps deps)
      : deps_(std::move(deps)), pages_(deps_.page_token_secret) {}

  // The subject, NOT_FOUND naming `what` when unknown.
  absl::StatusOr<identity::v1::Subject> RequireSubject(const std::string& name,
                                                       const std::string& what) const;
  // The firm (`firms/{f}`) the caller acts for: itself for an APPRAISAL_FIRM,
  // its affiliation for an APPRAISER; "" for anyone else.
  absl::StatusOr<std::string> CallerFirm(const auth::Caller& caller) const;
  // SuspendAccreditation and RevokeAccreditation: ends the accreditation
  // `req` names in state `to` (SUSPENDED or REVOKED).
  template <typename Req>
  grpc::Status EndAccreditation(grpc::ServerContext* ctx, const char* method, const Req& req,
                                v1::Accreditation::State to, v1::Accreditation* resp);
  // Whether `caller` may see `dispute` of `appraisal` (GetDispute's rule).
  absl::StatusOr<bool> CanSeeDispute(
      const auth::Caller& caller, const std::string& caller_firm, const v1::Dispute& dispute,
      const v1::Appraisal& appraisal,
      std::map<std::string, std::vector<std::string>>& parties_cache) const;
  // The parties of `listing`; empty when it is "" or unknown.
  absl::StatusOr<std::vector<std::string>> PartiesOf(const std::string& listing) const;

  AppraisalDeps deps_;
  PageTokenCodec pages_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_APPRAISAL_SERVICE_H_
