// Access tokens: TokenVerifier::Verify (common/auth/jwt.h) with one known
// Ed25519 key, as every service verifies the bearer token of a request.
// Input: the token text. A token that verifies must carry that key id and be
// valid at the fixed fuzz time.
#include <cstddef>
#include <cstdint>

#include "common/auth/jwt.h"
#include "fuzz/fuzz_support.h"

namespace {

const market::auth::TokenVerifier& Verifier() {
  static const market::auth::TokenVerifier* verifier = [] {
    auto* v = new market::auth::TokenVerifier();
    absl::StatusOr<market::Ed25519PrivateKey> key =
        market::Ed25519PrivateKey::FromSeed(market::fuzz::kJwtKeySeed);
    FUZZ_CHECK(key.ok(), key.status().ToString());
    v->AddKey(market::fuzz::kJwtKeyId, key->PublicKey());
    return v;
  }();
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view token(reinterpret_cast<const char*>(data), size);
  absl::Time now = market::fuzz::FuzzNow();
  absl::StatusOr<market::auth::Claims> claims = Verifier().Verify(token, now);
  market::fuzz::Trace("verify", claims.status());
  if (!claims.ok()) {
    FUZZ_CHECK(claims.status().code() == absl::StatusCode::kUnauthenticated,
               claims.status().ToString());
    return 0;
  }
  FUZZ_CHECK(claims->key_id == market::fuzz::kJwtKeyId, claims->key_id);
  FUZZ_CHECK(claims->expire_time > now, "expired token accepted");
  return 0;
}
