#include "common/auth/jwt.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"
#include "nlohmann/json.hpp"

namespace market::auth {
namespace {

using json = nlohmann::json;

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("access token rejected: ", why));
}

// Allowed clock skew between the issuer and a verifier.
constexpr absl::Duration kLeeway = absl::Seconds(30);

}  // namespace

absl::StatusOr<std::string> TokenSigner::Issue(const std::string& subject,
                                               const std::vector<Role>& roles, absl::Time now,
                                               absl::Duration ttl) const {
  json header = {{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", key_id_}};
  json role_names = json::array();
  for (Role r : roles) role_names.push_back(common::v1::Role_Name(r));
  json payload = {{"iss", kIssuer},
                  {"sub", subject},
                  {"roles", role_names},
                  {"iat", absl::ToUnixSeconds(now)},
                  {"exp", absl::ToUnixSeconds(now + ttl)},
                  {"jti", HexEncode(RandomBytes(12))}};
  std::string signing_input = absl::StrCat(Base64UrlEncode(header.dump()), ".",
                                           Base64UrlEncode(payload.dump()));
  MARKET_ASSIGN_OR_RETURN(std::string sig, key_.Sign(signing_input));
  return absl::StrCat(signing_input, ".", Base64UrlEncode(sig));
}

void TokenVerifier::AddKey(const std::string& key_id, Ed25519PublicKey key) {
  absl::MutexLock lock(&mu_);
  keys_.insert_or_assign(key_id, std::move(key));
}

void TokenVerifier::RemoveKey(const std::string& key_id) {
  absl::MutexLock lock(&mu_);
  keys_.erase(key_id);
}

void TokenVerifier::ReplaceKeys(std::map<std::string, Ed25519PublicKey> keys) {
  absl::MutexLock lock(&mu_);
  keys_ = std::move(keys);
}

bool TokenVerifier::HasKey(const std::string& key_id) const {
  absl::MutexLock lock(&mu_);
  return keys_.contains(key_id);
}

absl::StatusOr<Claims> TokenVerifier::Verify(absl::string_view token, absl::Time now) const {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Unauthenticated("malformed token");
  auto header_raw = Base64UrlDecode(parts[0]);
  auto payload_raw = Base64UrlDecode(parts[1]);
  auto sig = Base64UrlDecode(parts[2]);
  if (!header_raw.ok() || !payload_raw.ok() || !sig.ok()) {
    return Unauthenticated("malformed token encoding");
  }
  json header = json::parse(*header_raw, nullptr, /*allow_exceptions=*/false);
  json payload = json::parse(*payload_raw, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object() || !payload.is_object()) return Unauthenticated("malformed token JSON");
  // Every field is type-checked: a client controls these bytes.
  auto string_field = [](const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (string_field(header, "alg") != "EdDSA") return Unauthenticated("unsupported alg");
  Claims claims;
  claims.key_id = string_field(header, "kid");
  if (fetch_ && !HasKey(claims.key_id)) fetch_();
  {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(claims.key_id);
    if (it == keys_.end()) return Unauthenticated("unknown signing key");
    std::string signing_input = absl::StrCat(parts[0], ".", parts[1]);
    if (!it->second.Verify(signing_input, *sig)) return Unauthenticated("bad signature");
  }
  auto get_string = [&](const char* k) { return string_field(payload, k); };
  auto get_int = [&](const char* k) -> std::optional<int64_t> {
    auto it = payload.find(k);
    if (it == payload.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  claims.issuer = get_string("iss");
  claims.subject = get_string("sub");
  claims.token_id = get_string("jti");
  auto iat = get_int("iat");
  auto exp = get_int("exp");
  if (claims.issuer != kIssuer) return Unauthenticated("wrong issuer");
  if (claims.subject.empty() || !iat || !exp) return Unauthenticated("missing claims");
  claims.issue_time = absl::FromUnixSeconds(*iat);
  claims.expire_time = absl::FromUnixSeconds(*exp);
  if (now >= claims.expire_time) return Unauthenticated("token expired");
  if (claims.issue_time > now + kLeeway) return Unauthenticated("token issued in the future");
  auto roles = payload.find("roles");
  if (roles == payload.end() || !roles->is_array()) return Unauthenticated("missing roles");
  for (const auto& r : *roles) {
    Role role;
    if (!r.is_string() || !common::v1::Role_Parse(r.get<std::string>(), &role) ||
        role == common::v1::ROLE_UNSPECIFIED) {
      return Unauthenticated("unknown role");
    }
    claims.roles.push_back(role);
  }
  return claims;
}

}  // namespace market::auth
