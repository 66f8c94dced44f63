// Cryptographic primitives over OpenSSL 3 EVP: SHA-256, HMAC-SHA-256, random
// bytes, constant-time comparison, hex/base64 codecs, Ed25519 keys and
// signatures, and scrypt password hashing.
// Thread safety: free functions are thread-safe. Key objects are immutable
// after construction; their const methods may be called concurrently.
#ifndef MARKET_COMMON_CRYPTO_CRYPTO_H_
#define MARKET_COMMON_CRYPTO_CRYPTO_H_

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace market {

// ---- Hashes, MACs, randomness ----

inline constexpr size_t kSha256Size = 32;

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(absl::string_view data);

// HMAC-SHA-256 of `data` under `key` (any length, including empty): 32 raw bytes.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// `n` bytes from the OpenSSL CSPRNG. Aborts the process if the generator fails.
std::string RandomBytes(size_t n);

// True iff `a` and `b` are equal. Time depends only on the lengths, not the
// contents; unequal lengths return false at once.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// ---- Encodings ----

// Lower-case hex of `bytes`.
std::string HexEncode(absl::string_view bytes);

// Whether `s` is a SHA-256 digest as HexEncode writes it: 64 lower-case hex
// characters.
bool IsSha256Hex(absl::string_view s);

// Base64url (RFC 4648 §5) without '=' padding.
std::string Base64UrlEncode(absl::string_view bytes);
// Inverse of Base64UrlEncode. INVALID_ARGUMENT unless `text` is exactly what
// Base64UrlEncode produces for some input (no padding, no whitespace, no
// non-zero trailing bits).
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

// Standard base64 (RFC 4648 §4) with '=' padding.
std::string Base64Encode(absl::string_view bytes);
// Inverse of Base64Encode. INVALID_ARGUMENT unless `text` is exactly what
// Base64Encode produces for some input.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// ---- Ed25519 ----

inline constexpr size_t kEd25519KeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

namespace crypto_internal {
struct PkeyDeleter {
  void operator()(EVP_PKEY* pkey) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
}  // namespace crypto_internal

// An Ed25519 public key. Copyable (copies share the immutable OpenSSL key).
// Thread-safe for concurrent const use.
class Ed25519PublicKey {
 public:
  // From the 32-byte raw encoding (RFC 8032). INVALID_ARGUMENT on wrong size.
  static absl::StatusOr<Ed25519PublicKey> FromRaw(absl::string_view raw);
  // From a "BEGIN PUBLIC KEY" SubjectPublicKeyInfo PEM. INVALID_ARGUMENT if
  // `pem` is not such a PEM or holds a key of another algorithm.
  static absl::StatusOr<Ed25519PublicKey> FromPem(absl::string_view pem);

  Ed25519PublicKey(const Ed25519PublicKey& other);
  Ed25519PublicKey& operator=(const Ed25519PublicKey& other);
  Ed25519PublicKey(Ed25519PublicKey&&) noexcept = default;
  Ed25519PublicKey& operator=(Ed25519PublicKey&&) noexcept = default;
  ~Ed25519PublicKey() = default;

  // The 32-byte raw encoding.
  std::string Raw() const;
  // The SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----...").
  std::string Pem() const;
  // True iff `signature` is a valid 64-byte Ed25519 signature of `message`
  // under this key. Any malformed input returns false.
  bool Verify(absl::string_view message, absl::string_view signature) const;

 private:
  friend class Ed25519PrivateKey;
  explicit Ed25519PublicKey(crypto_internal::PkeyPtr pkey) : pkey_(std::move(pkey)) {}

  crypto_internal::PkeyPtr pkey_;
};

// An Ed25519 private key owning its OpenSSL key. Non-copyable, movable; a
// moved-from key must only be assigned to or destroyed. Thread-safe for
// concurrent const use.
class Ed25519PrivateKey {
 public:
  // A fresh key from the CSPRNG. INTERNAL if OpenSSL fails.
  static absl::StatusOr<Ed25519PrivateKey> Generate();
  // From the 32-byte RFC 8032 secret key (seed). INVALID_ARGUMENT on wrong size.
  static absl::StatusOr<Ed25519PrivateKey> FromSeed(absl::string_view seed);
  // From an unencrypted PKCS#8 "BEGIN PRIVATE KEY" PEM. INVALID_ARGUMENT if
  // `pem` is not such a PEM (encrypted PEMs included) or holds another algorithm.
  static absl::StatusOr<Ed25519PrivateKey> FromPem(absl::string_view pem);

  Ed25519PrivateKey(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept = default;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept = default;
  ~Ed25519PrivateKey() = default;

  // The unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----..."). Secret.
  std::string ToPem() const;
  // The 32-byte raw public key.
  std::string PublicKeyRaw() const;
  // The public key as SubjectPublicKeyInfo PEM.
  std::string PublicKeyPem() const;
  // The public half of this key.
  Ed25519PublicKey PublicKey() const;
  // The 64-byte Ed25519 signature of `message` (pure Ed25519, no prehash).
  // INTERNAL if OpenSSL fails.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

 private:
  explicit Ed25519PrivateKey(crypto_internal::PkeyPtr pkey) : pkey_(std::move(pkey)) {}

  crypto_internal::PkeyPtr pkey_;
};

// Writes `key` as PKCS#8 PEM to `path`, creating or truncating it with mode
// 0600 (an existing file's mode is also reset to 0600). Errno-derived codes
// on failure (e.g. NOT_FOUND for a missing directory, PERMISSION_DENIED).
absl::Status WritePrivateKeyFile(const std::string& path, const Ed25519PrivateKey& key);

// Reads a key written by WritePrivateKeyFile. Errno-derived codes if the file
// cannot be read; INVALID_ARGUMENT if it is not an Ed25519 PKCS#8 PEM or is
// larger than 64 KiB.
absl::StatusOr<Ed25519PrivateKey> ReadPrivateKeyFile(const std::string& path);

// ---- Password hashing (scrypt) ----

// Cost of HashPassword: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s).
inline constexpr int kPasswordLog2N = 15;
// Largest log2(N) HashPasswordWithCost and VerifyPassword accept.
inline constexpr int kMaxPasswordLog2N = 20;

// A self-describing scrypt hash of `password`:
//   $scrypt$ln=15,r=8,p=1$<salt>$<hash>
// with a 16-byte random salt and 32-byte hash, both in standard base64
// without padding (as in the PHC string format). INTERNAL if OpenSSL fails.
absl::StatusOr<std::string> HashPassword(absl::string_view password);

// As HashPassword with N = 2^log2_n (r = 8, p = 1); for tests that need
// speed. INVALID_ARGUMENT unless 1 <= log2_n <= kMaxPasswordLog2N.
absl::StatusOr<std::string> HashPasswordWithCost(absl::string_view password, int log2_n);

// Whether `password` matches `encoded` (from HashPassword*), using the cost
// parameters in `encoded` and a constant-time comparison. INVALID_ARGUMENT if
// `encoded` is malformed or its parameters are out of range (ln 1..20,
// r 1..32, p 1..16, memory <= 256 MiB, salt >= 8 bytes, hash 16..64 bytes);
// INTERNAL if OpenSSL fails.
absl::StatusOr<bool> VerifyPassword(absl::string_view password, absl::string_view encoded);

}  // namespace market

#endif  // MARKET_COMMON_CRYPTO_CRYPTO_H_
