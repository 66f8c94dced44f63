#include "common/pagination/page_token.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"

namespace market {
namespace {

constexpr size_t kTagSize = 16;
constexpr char kVersion = 1;

std::string Tag(const std::string& secret, absl::string_view query, absl::string_view body) {
  std::string mac = HmacSha256(
      secret, absl::StrCat(query.size(), ":", query, body));
  return mac.substr(0, kTagSize);
}

}  // namespace

std::string PageTokenCodec::Encode(absl::string_view query, absl::string_view position) const {
  std::string body = absl::StrCat(std::string(1, kVersion), position);
  return Base64UrlEncode(absl::StrCat(body, Tag(secret_, query, body)));
}

absl::StatusOr<std::string> PageTokenCodec::Decode(absl::string_view query,
                                                   absl::string_view token) const {
  absl::StatusOr<std::string> decoded = Base64UrlDecode(token);
  if (!decoded.ok() || decoded->size() < kTagSize + 1) {
    return InvalidField("page_token", "malformed; pass next_page_token unchanged");
  }
  const std::string& raw = *decoded;
  std::string body = raw.substr(0, raw.size() - kTagSize);
  std::string tag = raw.substr(raw.size() - kTagSize);
  if (!ConstantTimeEquals(tag, Tag(secret_, query, body)) || body[0] != kVersion) {
    return InvalidField("page_token",
                        "altered, or issued for a different query (filter/order_by)");
  }
  return body.substr(1);
}

absl::StatusOr<int> EffectivePageSize(int requested, int default_size, int max_size) {
  if (requested < 0 || requested > max_size) {
    return InvalidField("page_size", absl::StrCat(requested, ", want 0..", max_size));
  }
  return requested == 0 ? default_size : requested;
}

}  // namespace market
