// Encryption at rest of webhook signing secrets: AES-256-GCM (OpenSSL EVP)
// under a 32-byte key kept in its own file (DATA_DIR/webhook/secret-box.key,
// mode 0600, created on first start), so a copied webhook.db alone reveals
// no secret. A sealed value is "v1." + base64url(nonce(12) || ciphertext ||
// tag(16)) with a fresh random nonce; the additional authenticated data is
// the webhook's name, so a sealed secret moved to another row does not open.
// Immutable after construction; thread-safe.
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_SECRET_BOX_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_SECRET_BOX_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace market::webhook {

class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;

  // A box over `key`; INVALID_ARGUMENT unless it is kKeySize bytes.
  static absl::StatusOr<SecretBox> FromKey(absl::string_view key);

  SecretBox(const SecretBox&) = default;
  SecretBox& operator=(const SecretBox&) = default;
  SecretBox(SecretBox&&) = default;
  SecretBox& operator=(SecretBox&&) = default;
  ~SecretBox();

  // Whether `stored` has the sealed form (a plaintext "whsec_…" never has).
  static bool IsSealed(absl::string_view stored);

  // `plaintext` sealed, bound to `context` (the webhook's name). INTERNAL if
  // OpenSSL fails.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext, absl::string_view context) const;
  // The plaintext of `sealed`; DATA_LOSS when it is malformed, was sealed
  // under another key or another context, or was altered.
  absl::StatusOr<std::string> Open(absl::string_view sealed, absl::string_view context) const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_SECRET_BOX_H_
