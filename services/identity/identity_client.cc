#include "services/identity/identity_client.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
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

// Calls made before the caller has a token (key download, login).
template <typename Call>
absl::Status CallAnonymously(Call&& call) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + client::kPeerDeadline);
  return FromGrpcStatus(call(&ctx));
}

}  // namespace

IdentityClient::IdentityClient(std::shared_ptr<grpc::Channel> channel, client::TokenSource token)
    : token_(std::move(token)), stub_(v1::IdentityService::NewStub(channel)) {}

absl::StatusOr<std::optional<v1::Subject>> IdentityClient::GetSubject(
    const std::string& name) const {
  v1::GetSubjectRequest req;
  req.set_name(name);
  v1::Subject subject;
  absl::Status s = client::CallAsService(
      token_, [&](grpc::ClientContext* ctx) { return stub_->GetSubject(ctx, req, &subject); });
  if (absl::IsNotFound(s) || absl::IsInvalidArgument(s)) return std::nullopt;
  MARKET_RETURN_IF_ERROR(client::PeerError("identity service GetSubject", s));
  return subject;
}

RemoteIdentity::RemoteIdentity(std::shared_ptr<grpc::Channel> channel, std::string subject,
                               std::string api_key, std::shared_ptr<auth::TokenVerifier> verifier,
                               const Clock* clock)
    : stub_(v1::IdentityService::NewStub(channel)),
      subject_(std::move(subject)),
      api_key_(std::move(api_key)),
      verifier_(std::move(verifier)),
      clock_(clock) {}

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
  MARKET_RETURN_IF_ERROR(CallAnonymously([&](grpc::ClientContext* ctx) {
    return stub_->GetSigningKeys(ctx, v1::GetSigningKeysRequest(), &keys);
  }));
  std::map<std::string, Ed25519PublicKey> fresh;
  for (const auto& k : keys.keys()) {
    MARKET_ASSIGN_OR_RETURN(Ed25519PublicKey key, Ed25519PublicKey::FromRaw(k.public_key()));
    fresh.insert_or_assign(k.key_id(), std::move(key));
  }
  if (fresh.empty()) return absl::UnavailableError("identity published no signing keys");
  verifier_->ReplaceKeys(std::move(fresh));
  return absl::OkStatus();
}

void RemoteIdentity::ReloadKeysForUnknownKey() {
  absl::MutexLock lock(&reload_mu_);
  if (clock_->Now() < last_reload_ + absl::Seconds(2)) return;
  last_reload_ = clock_->Now();
  if (absl::Status s = RefreshKeys(); !s.ok()) {
    server::LogJson("warn", "signing key reload failed", {{"error", s.ToString()}});
  }
}

absl::StatusOr<std::string> RemoteIdentity::Token() {
  absl::MutexLock lock(&mu_);
  if (!token_.empty() && clock_->Now() + absl::Minutes(5) < token_expiry_) return token_;
  v1::LoginRequest req;
  req.set_subject(subject_);
  req.set_api_key(api_key_);
  v1::LoginResponse resp;
  absl::Status s =
      CallAnonymously([&](grpc::ClientContext* ctx) { return stub_->Login(ctx, req, &resp); });
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("service login as ", subject_, " failed: ", s.message()));
  }
  token_ = resp.access_token();
  token_expiry_ = absl::FromUnixNanos(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(resp.expire_time()));
  return token_;
}

absl::StatusOr<IdentityConnection> ConnectIdentity(std::shared_ptr<grpc::Channel> channel,
                                                   const std::string& credentials_file,
                                                   const Clock* clock) {
  MARKET_ASSIGN_OR_RETURN(std::string text, config::ReadFile(credentials_file));
  nlohmann::json creds = nlohmann::json::parse(text, nullptr, false);
  if (!creds.is_object() || !creds.contains("subject") || !creds.contains("api_key") ||
      !creds["subject"].is_string() || !creds["api_key"].is_string()) {
    return absl::InvalidArgumentError("--service-credentials: want {\"subject\", \"api_key\"}");
  }
  IdentityConnection out;
  out.verifier = std::make_shared<auth::TokenVerifier>();
  out.remote =
      std::make_shared<RemoteIdentity>(channel, creds["subject"].get<std::string>(),
                                       creds["api_key"].get<std::string>(), out.verifier, clock);
  std::weak_ptr<RemoteIdentity> weak = out.remote;
  out.verifier->SetKeyFetcher([weak] {
    if (std::shared_ptr<RemoteIdentity> remote = weak.lock()) remote->ReloadKeysForUnknownKey();
  });
  MARKET_RETURN_IF_ERROR(out.remote->Start());
  std::shared_ptr<RemoteIdentity> remote = out.remote;
  out.token = [remote] { return remote->Token(); };
  out.subjects = std::make_shared<IdentityClient>(channel, out.token);
  std::shared_ptr<IdentityClient> subjects = out.subjects;
  out.suspension = std::make_shared<auth::SuspensionChecker>(
      [subjects](const std::string& subject) -> absl::StatusOr<auth::SubjectStatus> {
        MARKET_ASSIGN_OR_RETURN(std::optional<v1::Subject> found, subjects->GetSubject(subject));
        if (!found.has_value()) return auth::SubjectStatus{};
        return StatusOf(*found);
      },
      clock, absl::Seconds(5));
  return out;
}

absl::StatusOr<IdentityConnection> ConnectIdentity(const server::BinaryOptions& flags,
                                                   const Clock* clock) {
  return ConnectIdentity(server::PeerChannel(flags, "identity"), flags.credentials_file, clock);
}

}  // namespace market::identity
