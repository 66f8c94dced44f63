#include "services/identity/remote_identity.h"

#include "absl/strings/str_cat.h"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/crypto/crypto.h"
#include "common/server/log.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "nlohmann/json.hpp"
#include "services/identity/identity_service.h"

namespace market::identity {
namespace {

std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

}  // namespace

RemoteIdentity::RemoteIdentity(std::shared_ptr<grpc::Channel> channel, std::string subject,
                               std::string api_key, std::shared_ptr<auth::TokenVerifier> verifier)
    : stub_(v1::IdentityService::NewStub(channel)),
      subject_(std::move(subject)),
      api_key_(std::move(api_key)),
      verifier_(std::move(verifier)) {}

RemoteIdentity::~RemoteIdentity() {
  stop_ = true;
  if (refresher_.joinable()) refresher_.join();
}

absl::Status RemoteIdentity::Start(absl::Duration period) {
  MARKET_RETURN_IF_ERROR(RefreshKeys());
  refresher_ = std::thread([this, period] {
    absl::Time next = absl::Now() + period;
    while (!stop_) {
      if (absl::Now() >= next) {
        if (absl::Status s = RefreshKeys(); !s.ok()) {
          server::LogJson("warn", "signing key refresh failed", {{"error", s.ToString()}});
        }
        next = absl::Now() + period;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
  });
  return absl::OkStatus();
}

absl::Status RemoteIdentity::RefreshKeys() {
  v1::GetSigningKeysResponse keys;
  grpc::Status s = stub_->GetSigningKeys(Context("").get(), v1::GetSigningKeysRequest(), &keys);
  if (!s.ok()) return FromGrpcStatus(s);
  std::map<std::string, Ed25519PublicKey> fresh;
  for (const auto& k : keys.keys()) {
    MARKET_ASSIGN_OR_RETURN(Ed25519PublicKey key, Ed25519PublicKey::FromRaw(k.public_key()));
    fresh.insert_or_assign(k.key_id(), std::move(key));
  }
  if (fresh.empty()) return absl::UnavailableError("identity published no signing keys");
  verifier_->ReplaceKeys(std::move(fresh));
  return absl::OkStatus();
}

absl::StatusOr<std::string> RemoteIdentity::Token() {
  absl::MutexLock lock(&mu_);
  if (!token_.empty() && absl::Now() + absl::Minutes(5) < token_expiry_) return token_;
  v1::LoginRequest req;
  req.set_subject(subject_);
  req.set_api_key(api_key_);
  v1::LoginResponse resp;
  grpc::Status s = stub_->Login(Context("").get(), req, &resp);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("service login as ", subject_, " failed: ", s.error_message()));
  }
  token_ = resp.access_token();
  token_expiry_ = absl::FromUnixNanos(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(resp.expire_time()));
  return token_;
}

absl::StatusOr<std::optional<v1::Subject>> RemoteIdentity::GetSubject(const std::string& name) {
  MARKET_ASSIGN_OR_RETURN(std::string token, Token());
  v1::GetSubjectRequest req;
  req.set_name(name);
  v1::Subject subject;
  grpc::Status s = stub_->GetSubject(Context(token).get(), req, &subject);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND ||
      s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return std::nullopt;
  }
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("identity GetSubject: ", s.error_message()));
  }
  return subject;
}

absl::StatusOr<IdentityClient> ConnectIdentity(const std::string& identity_addr,
                                               const std::string& credentials_file) {
  MARKET_ASSIGN_OR_RETURN(std::string text, config::ReadFile(credentials_file));
  nlohmann::json creds = nlohmann::json::parse(text, nullptr, false);
  if (!creds.is_object() || !creds.contains("subject") || !creds.contains("api_key") ||
      !creds["subject"].is_string() || !creds["api_key"].is_string()) {
    return absl::InvalidArgumentError("--service-credentials: want {\"subject\", \"api_key\"}");
  }
  IdentityClient client;
  client.verifier = std::make_shared<auth::TokenVerifier>();
  client.identity = std::make_shared<RemoteIdentity>(
      grpc::CreateChannel(identity_addr, grpc::InsecureChannelCredentials()),
      creds["subject"].get<std::string>(), creds["api_key"].get<std::string>(), client.verifier);
  MARKET_RETURN_IF_ERROR(client.identity->Start());
  std::shared_ptr<RemoteIdentity> identity = client.identity;
  client.suspension = std::make_shared<auth::SuspensionChecker>(
      [identity](const std::string& subject) -> absl::StatusOr<auth::SubjectStatus> {
        MARKET_ASSIGN_OR_RETURN(std::optional<v1::Subject> found, identity->GetSubject(subject));
        if (!found.has_value()) return auth::SubjectStatus{};
        return StatusOf(*found);
      },
      RealClock(), absl::Seconds(5));
  return client;
}

}  // namespace market::identity
