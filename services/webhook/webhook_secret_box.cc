#include "services/webhook/webhook_secret_box.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"

namespace market::webhook {
namespace {

constexpr char kPrefix[] = "v1.";
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* MutableBytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

absl::StatusOr<SecretBox> SecretBox::FromKey(absl::string_view key) {
  if (key.size() != kKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook secret key is ", key.size(), " bytes, want ", kKeySize));
  }
  return SecretBox(std::string(key));
}

SecretBox::~SecretBox() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

bool SecretBox::IsSealed(absl::string_view stored) { return absl::StartsWith(stored, kPrefix); }

absl::StatusOr<std::string> SecretBox::Seal(absl::string_view plaintext,
                                            absl::string_view context) const {
  const std::string nonce = RandomBytes(kNonceSize);
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  std::string out = nonce;
  out.resize(kNonceSize + plaintext.size() + kTagSize);
  unsigned char* cipher = MutableBytes(out) + kNonceSize;
  int len = 0;
  int total = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), Bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(context),
                        static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), cipher, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return absl::InternalError("AES-256-GCM encryption failed");
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), cipher + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          cipher + total + len) != 1) {
    return absl::InternalError("AES-256-GCM encryption failed");
  }
  return absl::StrCat(kPrefix, Base64UrlEncode(out));
}

absl::StatusOr<std::string> SecretBox::Open(absl::string_view sealed,
                                            absl::string_view context) const {
  if (!IsSealed(sealed)) return absl::DataLossError("webhook secret is not sealed");
  absl::StatusOr<std::string> raw = Base64UrlDecode(sealed.substr(sizeof(kPrefix) - 1));
  if (!raw.ok() || raw->size() < kNonceSize + kTagSize) {
    return absl::DataLossError("webhook secret: malformed sealed value");
  }
  const size_t n = raw->size() - kNonceSize - kTagSize;
  const absl::string_view nonce = absl::string_view(*raw).substr(0, kNonceSize);
  const absl::string_view cipher = absl::string_view(*raw).substr(kNonceSize, n);
  std::string tag = raw->substr(kNonceSize + n);
  std::string plain(n, '\0');
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx != nullptr &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                               Bytes(nonce)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(context),
                              static_cast<int>(context.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), MutableBytes(plain), &len, Bytes(cipher),
                              static_cast<int>(cipher.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) == 1;
  int final_len = 0;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), MutableBytes(plain) + len, &final_len) == 1;
  if (!ok) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return absl::DataLossError(
        "webhook secret does not open with this key (another key file, or altered)");
  }
  return plain;
}

}  // namespace market::webhook
