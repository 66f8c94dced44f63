#include "services/identity/token_authority.h"

#include <algorithm>

#include "common/crypto/crypto.h"
#include "common/status/status.h"

namespace market::identity {

absl::StatusOr<std::unique_ptr<TokenAuthority>> TokenAuthority::Create(
    IdentityStore* store, const Clock* clock, std::shared_ptr<auth::TokenVerifier> verifier,
    absl::Duration token_ttl, absl::Duration rotation) {
  std::unique_ptr<TokenAuthority> authority(
      new TokenAuthority(store, clock, std::move(verifier), token_ttl, rotation));
  {
    absl::MutexLock lock(&authority->mu_);
    MARKET_RETURN_IF_ERROR(authority->Reload());
  }
  MARKET_RETURN_IF_ERROR(authority->MaybeRotate());
  return authority;
}

absl::Status TokenAuthority::Reload() {
  MARKET_ASSIGN_OR_RETURN(std::vector<SigningKeyRow> keys, store_->ListSigningKeys());
  if (keys.empty()) return RotateLocked();
  for (const SigningKeyRow& row : keys) {
    MARKET_ASSIGN_OR_RETURN(auto pub, Ed25519PublicKey::FromRaw(row.public_raw));
    verifier_->AddKey(row.key_id, std::move(pub));
    if (row.active) {
      MARKET_ASSIGN_OR_RETURN(auto priv, Ed25519PrivateKey::FromPem(row.private_pem));
      signer_ = std::make_unique<auth::TokenSigner>(row.key_id, std::move(priv));
      active_since_ = row.create_time;
    }
  }
  if (signer_ == nullptr) return RotateLocked();
  return absl::OkStatus();
}

absl::Status TokenAuthority::RotateLocked() {
  MARKET_ASSIGN_OR_RETURN(auto priv, Ed25519PrivateKey::Generate());
  SigningKeyRow row;
  row.key_id = HexEncode(RandomBytes(8));
  row.private_pem = priv.ToPem();
  row.public_raw = priv.PublicKeyRaw();
  row.create_time = clock_->Now();
  row.active = true;
  MARKET_RETURN_IF_ERROR(store_->AddSigningKey(row));
  MARKET_ASSIGN_OR_RETURN(auto pub, Ed25519PublicKey::FromRaw(row.public_raw));
  verifier_->AddKey(row.key_id, std::move(pub));
  signer_ = std::make_unique<auth::TokenSigner>(row.key_id, std::move(priv));
  active_since_ = row.create_time;
  return absl::OkStatus();
}

absl::Status TokenAuthority::Rotate() {
  absl::MutexLock lock(&mu_);
  return RotateLocked();
}

absl::Status TokenAuthority::MaybeRotate() {
  absl::MutexLock lock(&mu_);
  if (clock_->Now() - active_since_ < rotation_) return absl::OkStatus();
  const absl::Time retired_since = active_since_;
  MARKET_RETURN_IF_ERROR(RotateLocked());
  // The key retired just now signed tokens that live up to token_ttl_ more,
  // however old the key is (the service may have issued none for months), so
  // it stays; keys created before it were retired when it was created, at
  // least one rotation period (far longer than token_ttl_) ago.
  MARKET_RETURN_IF_ERROR(store_->DeleteSigningKeysBefore(
      std::min(clock_->Now() - rotation_ - token_ttl_, retired_since)));
  MARKET_ASSIGN_OR_RETURN(std::vector<SigningKeyRow> keys, store_->ListSigningKeys());
  std::map<std::string, Ed25519PublicKey> kept;
  for (const SigningKeyRow& row : keys) {
    MARKET_ASSIGN_OR_RETURN(auto pub, Ed25519PublicKey::FromRaw(row.public_raw));
    kept.insert_or_assign(row.key_id, std::move(pub));
  }
  verifier_->ReplaceKeys(std::move(kept));
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::string, absl::Time>> TokenAuthority::Issue(
    const std::string& subject, const std::vector<auth::Role>& roles) {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  MARKET_ASSIGN_OR_RETURN(std::string token, signer_->Issue(subject, roles, now, token_ttl_));
  return std::make_pair(std::move(token), now + token_ttl_);
}

}  // namespace market::identity
