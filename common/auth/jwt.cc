#include "common/auth/jwt.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
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
  std::string signing_input =
      absl::StrCat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
  MARKET_ASSIGN_OR_RETURN(std::string sig, key_.Sign(signing_input));
  return absl::StrCat(signing_input, ".", Base64UrlEncode(sig));
}

// Verified claims by SHA-256 of the token, in shards under reader locks.
class TokenVerifier::Cache {
 public:
  explicit Cache(size_t capacity) : per_shard_(std::max<size_t>(1, capacity / kShards)) {}

  // The claims cached for `digest` under the current key generation.
  std::optional<Claims> Find(const std::string& digest) const {
    const Shard& shard = ShardOf(digest);
    absl::ReaderMutexLock lock(&shard.mu);
    auto it = shard.entries.find(digest);
    if (it == shard.entries.end() || it->second.generation != generation()) return std::nullopt;
    return it->second.claims;
  }

  // Caches `claims`, verified under key generation `generation`.
  void Insert(const std::string& digest, const Claims& claims, uint64_t generation,
              absl::Time now) {
    Shard& shard = ShardOf(digest);
    absl::MutexLock lock(&shard.mu);
    if (shard.entries.size() >= per_shard_) {
      absl::erase_if(shard.entries, [&](const auto& entry) {
        return now >= entry.second.claims.expire_time ||
               entry.second.generation != this->generation();
      });
      if (shard.entries.size() >= per_shard_) shard.entries.clear();
    }
    shard.entries.insert_or_assign(digest, Entry{claims, generation});
  }

  void Erase(const std::string& digest) {
    Shard& shard = ShardOf(digest);
    absl::MutexLock lock(&shard.mu);
    shard.entries.erase(digest);
  }

  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // A key changed: every cached entry stops counting.
  void Invalidate() {
    generation_.fetch_add(1, std::memory_order_acq_rel);
    for (Shard& shard : shards_) {
      absl::MutexLock lock(&shard.mu);
      shard.entries.clear();
    }
  }

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    Claims claims;
    uint64_t generation;
  };
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Entry> entries ABSL_GUARDED_BY(mu);
  };
  Shard& ShardOf(const std::string& digest) {
    return shards_[static_cast<unsigned char>(digest[0]) % kShards];
  }
  const Shard& ShardOf(const std::string& digest) const {
    return shards_[static_cast<unsigned char>(digest[0]) % kShards];
  }
  const size_t per_shard_;
  std::atomic<uint64_t> generation_{0};
  std::array<Shard, kShards> shards_;
};

TokenVerifier::TokenVerifier(size_t cache_capacity)
    : cache_(std::make_unique<Cache>(cache_capacity)) {}

TokenVerifier::~TokenVerifier() = default;

void TokenVerifier::KeysChanged() { cache_->Invalidate(); }

void TokenVerifier::AddKey(const std::string& key_id, Ed25519PublicKey key) {
  bool replaced;
  {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(key_id);
    replaced = it != keys_.end() && it->second->Raw() != key.Raw();
    keys_.insert_or_assign(key_id, std::make_shared<const Ed25519PublicKey>(std::move(key)));
  }
  if (replaced) KeysChanged();
}

void TokenVerifier::RemoveKey(const std::string& key_id) {
  bool removed;
  {
    absl::MutexLock lock(&mu_);
    removed = keys_.erase(key_id) > 0;
  }
  if (removed) KeysChanged();
}

void TokenVerifier::ReplaceKeys(std::map<std::string, Ed25519PublicKey> keys) {
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    std::map<std::string, std::shared_ptr<const Ed25519PublicKey>> next;
    for (auto& [id, key] : keys) {
      auto it = keys_.find(id);
      if (it != keys_.end() && it->second->Raw() == key.Raw()) {
        next.emplace(id, it->second);
      } else {
        next.emplace(id, std::make_shared<const Ed25519PublicKey>(std::move(key)));
      }
    }
    // A token stays verified only if the key it was checked with is unchanged.
    for (const auto& [id, key] : keys_) {
      auto it = next.find(id);
      if (it == next.end() || it->second != key) changed = true;
    }
    keys_ = std::move(next);
  }
  if (changed) KeysChanged();
}

bool TokenVerifier::HasKey(const std::string& key_id) const {
  absl::MutexLock lock(&mu_);
  return keys_.contains(key_id);
}

std::shared_ptr<const Ed25519PublicKey> TokenVerifier::FindKey(const std::string& key_id) const {
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(key_id);
  return it == keys_.end() ? nullptr : it->second;
}

absl::StatusOr<Claims> TokenVerifier::Verify(absl::string_view token, absl::Time now) const {
  std::string digest = Sha256(token);
  if (std::optional<Claims> cached = cache_->Find(digest)) {
    if (now >= cached->expire_time) {
      cache_->Erase(digest);
      return Unauthenticated("token expired");
    }
    if (cached->issue_time > now + kLeeway) return Unauthenticated("token issued in the future");
    return *std::move(cached);
  }
  uint64_t generation = cache_->generation();
  absl::StatusOr<Claims> claims = VerifyUncached(token, now);
  if (claims.ok()) cache_->Insert(digest, *claims, generation, now);
  return claims;
}

absl::StatusOr<Claims> TokenVerifier::VerifyUncached(absl::string_view token,
                                                     absl::Time now) const {
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
  std::shared_ptr<const Ed25519PublicKey> key = FindKey(claims.key_id);
  if (key == nullptr) return Unauthenticated("unknown signing key");
  signature_checks_.fetch_add(1, std::memory_order_relaxed);
  std::string signing_input = absl::StrCat(parts[0], ".", parts[1]);
  if (!key->Verify(signing_input, *sig)) return Unauthenticated("bad signature");
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
