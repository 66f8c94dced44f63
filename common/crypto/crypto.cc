#include "common/crypto/crypto.h"

#include <algorithm>

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/status/status.h"

namespace market {
namespace crypto_internal {

void PkeyDeleter::operator()(EVP_PKEY* pkey) const { EVP_PKEY_free(pkey); }

}  // namespace crypto_internal

namespace {

using crypto_internal::PkeyPtr;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;

struct KdfCtxDeleter {
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* MutableBytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// Drains the OpenSSL error queue of this thread into one string, so a failure
// leaves nothing behind for the next caller.
std::string DrainOpenSslErrors() {
  std::string out;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error" : out;
}

absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  return absl::Status(code, absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

// For operations that cannot fail short of memory exhaustion or a broken
// OpenSSL install, where a return code would only burden every caller.
[[noreturn]] void Fatal(absl::string_view what) {
  std::fprintf(stderr, "market crypto: %.*s failed: %s\n", static_cast<int>(what.size()),
               what.data(), DrainOpenSslErrors().c_str());
  std::abort();
}

// A PEM password callback that refuses: without it OpenSSL would prompt on
// the terminal for an encrypted PEM.
int NoPassword(char*, int, int, void*) { return -1; }

BioPtr MemBioFor(absl::string_view data) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (bio == nullptr) Fatal("BIO_new_mem_buf");
  return bio;
}

BioPtr NewMemBio() {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) Fatal("BIO_new");
  return bio;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

bool IsEd25519(const EVP_PKEY* pkey) { return EVP_PKEY_is_a(pkey, "ED25519") == 1; }

std::string RawPublicKey(EVP_PKEY* pkey) {
  std::string raw(kEd25519KeySize, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, MutableBytes(raw), &len) != 1 || len != kEd25519KeySize) {
    Fatal("EVP_PKEY_get_raw_public_key");
  }
  return raw;
}

std::string PublicKeyPemOf(EVP_PKEY* pkey) {
  BioPtr bio = NewMemBio();
  if (PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) Fatal("PEM_write_bio_PUBKEY");
  return BioContents(bio.get());
}

// Standard base64 without padding, as in PHC strings.
std::string PhcBase64(absl::string_view bytes) {
  std::string s = absl::Base64Escape(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

}  // namespace

// ---- Hashes, MACs, randomness ----

std::string Sha256(absl::string_view data) {
  // The algorithm is fetched once (EVP_sha256() makes OpenSSL 3 look the
  // implementation up on every digest) and each thread reuses one context.
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 &EVP_MD_CTX_free);
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), MutableBytes(out), &len) != 1 || len != kSha256Size) {
    Fatal("EVP_Digest");
  }
  return out;
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  // EVP_MAC objects are immutable and safe to share between threads.
  static EVP_MAC* const mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    if (m == nullptr) Fatal("EVP_MAC_fetch(HMAC)");
    return m;
  }();
  MacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  if (ctx == nullptr) Fatal("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  // A non-null key pointer even when empty: null would mean "keep the old key".
  static const unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : Bytes(key);
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1) Fatal("EVP_MAC_init");
  if (EVP_MAC_update(ctx.get(), Bytes(data), data.size()) != 1) Fatal("EVP_MAC_update");
  std::string out(kSha256Size, '\0');
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), MutableBytes(out), &len, out.size()) != 1 || len != kSha256Size) {
    Fatal("EVP_MAC_final");
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(MutableBytes(out), static_cast<int>(n)) != 1) Fatal("RAND_bytes");
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---- Encodings ----

std::string HexEncode(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

bool IsSha256Hex(absl::string_view s) {
  return s.size() == 2 * kSha256Size && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

std::string Base64UrlEncode(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text) {
  std::string out;
  // Re-encoding rejects padding, whitespace and non-canonical trailing bits,
  // which absl's decoder tolerates, so each value has exactly one encoding.
  if (!absl::WebSafeBase64Unescape(text, &out) || absl::WebSafeBase64Escape(out) != text) {
    return absl::InvalidArgumentError("not unpadded base64url");
  }
  return out;
}

std::string Base64Encode(absl::string_view bytes) { return absl::Base64Escape(bytes); }

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  std::string out;
  if (!absl::Base64Unescape(text, &out) || absl::Base64Escape(out) != text) {
    return absl::InvalidArgumentError("not padded standard base64");
  }
  return out;
}

// ---- Ed25519 ----

Ed25519PublicKey::Ed25519PublicKey(const Ed25519PublicKey& other) : pkey_(nullptr) {
  *this = other;
}

Ed25519PublicKey& Ed25519PublicKey::operator=(const Ed25519PublicKey& other) {
  if (this == &other) return *this;
  EVP_PKEY* pkey = other.pkey_.get();
  if (pkey != nullptr && EVP_PKEY_up_ref(pkey) != 1) Fatal("EVP_PKEY_up_ref");
  pkey_.reset(pkey);
  return *this;
}

absl::StatusOr<Ed25519PublicKey> Ed25519PublicKey::FromRaw(absl::string_view raw) {
  if (raw.size() != kEd25519KeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 public key has ", raw.size(), " bytes, want ", kEd25519KeySize));
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, Bytes(raw), raw.size()));
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "not an Ed25519 public key");
  }
  return Ed25519PublicKey(std::move(pkey));
}

absl::StatusOr<Ed25519PublicKey> Ed25519PublicKey::FromPem(absl::string_view pem) {
  BioPtr bio = MemBioFor(pem);
  PkeyPtr pkey(PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, NoPassword, nullptr, nullptr, nullptr));
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "not a public key PEM");
  }
  if (!IsEd25519(pkey.get())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "public key PEM holds a ", EVP_PKEY_get0_type_name(pkey.get()), " key, want ED25519"));
  }
  return Ed25519PublicKey(std::move(pkey));
}

std::string Ed25519PublicKey::Raw() const { return RawPublicKey(pkey_.get()); }

std::string Ed25519PublicKey::Pem() const { return PublicKeyPemOf(pkey_.get()); }

bool Ed25519PublicKey::Verify(absl::string_view message, absl::string_view signature) const {
  if (pkey_ == nullptr || signature.size() != kEd25519SignatureSize) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) Fatal("EVP_MD_CTX_new");
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey_.get(),
                              nullptr) != 1) {
    Fatal("EVP_DigestVerifyInit_ex");
  }
  const bool ok = EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                                   message.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (pkey == nullptr) return OpenSslError(absl::StatusCode::kInternal, "Ed25519 keygen");
  return Ed25519PrivateKey(std::move(pkey));
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(absl::string_view seed) {
  if (seed.size() != kEd25519KeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 seed has ", seed.size(), " bytes, want ", kEd25519KeySize));
  }
  PkeyPtr pkey(
      EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, Bytes(seed), seed.size()));
  if (pkey == nullptr) return OpenSslError(absl::StatusCode::kInternal, "Ed25519 from seed");
  return Ed25519PrivateKey(std::move(pkey));
}

absl::StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromPem(absl::string_view pem) {
  BioPtr bio = MemBioFor(pem);
  PkeyPtr pkey(
      PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, NoPassword, nullptr, nullptr, nullptr));
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "not an unencrypted private key PEM");
  }
  if (!IsEd25519(pkey.get())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "private key PEM holds a ", EVP_PKEY_get0_type_name(pkey.get()), " key, want ED25519"));
  }
  return Ed25519PrivateKey(std::move(pkey));
}

std::string Ed25519PrivateKey::ToPem() const {
  BioPtr bio = NewMemBio();
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY").
  if (PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
      1) {
    Fatal("PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

std::string Ed25519PrivateKey::PublicKeyRaw() const { return RawPublicKey(pkey_.get()); }

std::string Ed25519PrivateKey::PublicKeyPem() const { return PublicKeyPemOf(pkey_.get()); }

Ed25519PublicKey Ed25519PrivateKey::PublicKey() const {
  absl::StatusOr<Ed25519PublicKey> key = Ed25519PublicKey::FromRaw(PublicKeyRaw());
  if (!key.ok()) Fatal("Ed25519PublicKey::FromRaw of own public key");
  return *std::move(key);
}

absl::StatusOr<std::string> Ed25519PrivateKey::Sign(absl::string_view message) const {
  if (pkey_ == nullptr) return absl::FailedPreconditionError("Sign on a moved-from key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslError(absl::StatusCode::kInternal, "EVP_MD_CTX_new");
  // Ed25519 hashes internally: no message digest is named.
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey_.get(), nullptr) !=
      1) {
    return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestSignInit_ex");
  }
  std::string signature(kEd25519SignatureSize, '\0');
  size_t len = signature.size();
  if (EVP_DigestSign(ctx.get(), MutableBytes(signature), &len, Bytes(message), message.size()) !=
          1 ||
      len != kEd25519SignatureSize) {
    return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestSign");
  }
  return signature;
}

absl::Status WritePrivateKeyFile(const std::string& path, const Ed25519PrivateKey& key) {
  std::string pem = key.ToPem();
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  absl::Status status;
  // O_CREAT's mode does not apply to a file that already existed.
  if (fchmod(fd, 0600) != 0) status = absl::ErrnoToStatus(errno, absl::StrCat("fchmod ", path));
  size_t written = 0;
  while (status.ok() && written < pem.size()) {
    const ssize_t n = write(fd, pem.data() + written, pem.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = absl::ErrnoToStatus(errno, absl::StrCat("write ", path));
    } else {
      written += static_cast<size_t>(n);
    }
  }
  if (status.ok() && fsync(fd) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("fsync ", path));
  }
  if (close(fd) != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("close ", path));
  }
  OPENSSL_cleanse(pem.data(), pem.size());
  return status;
}

absl::StatusOr<Ed25519PrivateKey> ReadPrivateKeyFile(const std::string& path) {
  constexpr size_t kMaxKeyFileSize = 64 * 1024;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  std::string pem;
  absl::Status status;
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      status = absl::ErrnoToStatus(errno, absl::StrCat("read ", path));
      break;
    }
    if (n == 0) break;
    pem.append(buf, static_cast<size_t>(n));
    if (pem.size() > kMaxKeyFileSize) {
      status = absl::InvalidArgumentError(
          absl::StrCat(path, " is larger than ", kMaxKeyFileSize, " bytes"));
      break;
    }
  }
  close(fd);
  OPENSSL_cleanse(buf, sizeof(buf));
  absl::StatusOr<Ed25519PrivateKey> key =
      status.ok() ? Ed25519PrivateKey::FromPem(pem) : absl::StatusOr<Ed25519PrivateKey>(status);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!key.ok()) {
    return absl::Status(key.status().code(), absl::StrCat(path, ": ", key.status().message()));
  }
  return key;
}

// ---- Password hashing ----

namespace {

constexpr absl::string_view kScryptPrefix = "$scrypt$";
constexpr uint32_t kPasswordR = 8;
constexpr uint32_t kPasswordP = 1;
constexpr size_t kPasswordSaltSize = 16;
constexpr size_t kPasswordHashSize = 32;
constexpr uint32_t kMaxScryptR = 32;
constexpr uint32_t kMaxScryptP = 16;
constexpr uint64_t kMaxScryptMemory = uint64_t{256} << 20;
constexpr size_t kMinSaltSize = 8;
constexpr size_t kMinHashSize = 16;
constexpr size_t kMaxHashSize = 64;

struct ScryptParams {
  int log2_n = 0;
  uint32_t r = 0;
  uint32_t p = 0;
};

// Bytes scrypt allocates (OpenSSL's accounting: 128*r*(N+2) for V plus
// 128*r*p for B), with slack.
uint64_t ScryptMemory(const ScryptParams& params) {
  return uint64_t{128} * params.r * ((uint64_t{1} << params.log2_n) + 2) +
         uint64_t{128} * params.r * params.p + (uint64_t{1} << 20);
}

absl::Status CheckScryptParams(const ScryptParams& params) {
  if (params.log2_n < 1 || params.log2_n > kMaxPasswordLog2N) {
    return absl::InvalidArgumentError(
        absl::StrCat("scrypt ln=", params.log2_n, ", want 1..", kMaxPasswordLog2N));
  }
  if (params.r < 1 || params.r > kMaxScryptR) {
    return absl::InvalidArgumentError(
        absl::StrCat("scrypt r=", params.r, ", want 1..", kMaxScryptR));
  }
  if (params.p < 1 || params.p > kMaxScryptP) {
    return absl::InvalidArgumentError(
        absl::StrCat("scrypt p=", params.p, ", want 1..", kMaxScryptP));
  }
  if (ScryptMemory(params) > kMaxScryptMemory) {
    return absl::InvalidArgumentError(absl::StrCat("scrypt parameters need ", ScryptMemory(params),
                                                   " bytes, want <= ", kMaxScryptMemory));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Scrypt(absl::string_view password, absl::string_view salt,
                                   const ScryptParams& params, size_t out_size) {
  static EVP_KDF* const kdf = [] {
    EVP_KDF* k = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_SCRYPT, nullptr);
    if (k == nullptr) Fatal("EVP_KDF_fetch(SCRYPT)");
    return k;
  }();
  KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (ctx == nullptr) return OpenSslError(absl::StatusCode::kInternal, "EVP_KDF_CTX_new");
  uint64_t n = uint64_t{1} << params.log2_n;
  uint32_t r = params.r;
  uint32_t p = params.p;
  uint64_t maxmem = ScryptMemory(params);
  // OSSL_PARAM wants non-const pointers; the octet strings are only read.
  static char kEmpty = 0;
  char* password_data = password.empty() ? &kEmpty : const_cast<char*>(password.data());
  const OSSL_PARAM ossl_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, password_data, password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  std::string out(out_size, '\0');
  if (EVP_KDF_derive(ctx.get(), MutableBytes(out), out.size(), ossl_params) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "scrypt");
  }
  return out;
}

// Parses a decimal without sign or leading zeros.
bool ParseDecimal(absl::string_view text, uint32_t* out) {
  if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return false;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  *out = value;
  return true;
}

// Parses "ln=<int>,r=<int>,p=<int>" (exactly this order).
absl::StatusOr<ScryptParams> ParseScryptParams(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  constexpr absl::string_view kNames[] = {"ln=", "r=", "p="};
  uint32_t values[3];
  if (parts.size() != 3) {
    return absl::InvalidArgumentError("scrypt parameters are not \"ln=N,r=N,p=N\"");
  }
  for (int i = 0; i < 3; ++i) {
    if (!absl::ConsumePrefix(&parts[i], kNames[i]) || !ParseDecimal(parts[i], &values[i])) {
      return absl::InvalidArgumentError("scrypt parameters are not \"ln=N,r=N,p=N\"");
    }
  }
  ScryptParams params{static_cast<int>(values[0]), values[1], values[2]};
  MARKET_RETURN_IF_ERROR(CheckScryptParams(params));
  return params;
}

// Decodes PHC base64 (standard alphabet, no padding), canonical form only.
absl::StatusOr<std::string> DecodePhcBase64(absl::string_view text, absl::string_view what) {
  std::string out;
  if (text.find('=') != absl::string_view::npos || !absl::Base64Unescape(text, &out) ||
      PhcBase64(out) != text) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not unpadded base64"));
  }
  return out;
}

std::string EncodeScrypt(const ScryptParams& params, absl::string_view salt,
                         absl::string_view hash) {
  return absl::StrCat(kScryptPrefix, "ln=", params.log2_n, ",r=", params.r, ",p=", params.p, "$",
                      PhcBase64(salt), "$", PhcBase64(hash));
}

}  // namespace

absl::StatusOr<std::string> HashPasswordWithCost(absl::string_view password, int log2_n) {
  const ScryptParams params{log2_n, kPasswordR, kPasswordP};
  MARKET_RETURN_IF_ERROR(CheckScryptParams(params));
  const std::string salt = RandomBytes(kPasswordSaltSize);
  MARKET_ASSIGN_OR_RETURN(std::string hash, Scrypt(password, salt, params, kPasswordHashSize));
  std::string encoded = EncodeScrypt(params, salt, hash);
  OPENSSL_cleanse(hash.data(), hash.size());
  return encoded;
}

absl::StatusOr<std::string> HashPassword(absl::string_view password) {
  return HashPasswordWithCost(password, kPasswordLog2N);
}

absl::StatusOr<bool> VerifyPassword(absl::string_view password, absl::string_view encoded) {
  if (!absl::ConsumePrefix(&encoded, kScryptPrefix)) {
    return absl::InvalidArgumentError("password hash does not start with \"$scrypt$\"");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(encoded, '$');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError("password hash is not \"$scrypt$<params>$<salt>$<hash>\"");
  }
  MARKET_ASSIGN_OR_RETURN(ScryptParams params, ParseScryptParams(parts[0]));
  MARKET_ASSIGN_OR_RETURN(std::string salt, DecodePhcBase64(parts[1], "salt"));
  MARKET_ASSIGN_OR_RETURN(std::string want, DecodePhcBase64(parts[2], "hash"));
  if (salt.size() < kMinSaltSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("salt has ", salt.size(), " bytes, want >= ", kMinSaltSize));
  }
  if (want.size() < kMinHashSize || want.size() > kMaxHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("hash has ", want.size(), " bytes, want ", kMinHashSize, "..", kMaxHashSize));
  }
  MARKET_ASSIGN_OR_RETURN(std::string got, Scrypt(password, salt, params, want.size()));
  const bool match = ConstantTimeEquals(got, want);
  OPENSSL_cleanse(got.data(), got.size());
  return match;
}

}  // namespace market
