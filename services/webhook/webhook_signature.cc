#include "services/webhook/webhook_signature.h"

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"

namespace market::webhook {

namespace {

std::string Mac(absl::string_view secret, int64_t t, absl::string_view body) {
  return HexEncode(HmacSha256(secret, absl::StrCat(t, ".", body)));
}

}  // namespace

std::string SignatureHeader(absl::string_view secret, absl::Time t, absl::string_view body) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  return absl::StrCat("t=", seconds, ",v1=", Mac(secret, seconds, body));
}

absl::Status VerifySignature(absl::string_view secret, absl::string_view header,
                             absl::string_view body, absl::Time now, absl::Duration tolerance) {
  int64_t t = 0;
  bool has_t = false;
  std::vector<absl::string_view> macs;
  for (absl::string_view part : absl::StrSplit(header, ',')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.first == "t") {
      has_t = absl::SimpleAtoi(kv.second, &t);
    } else if (kv.first == "v1" && !kv.second.empty()) {
      macs.push_back(kv.second);
    }
  }
  if (!has_t || macs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kSignatureHeader, ": want t=TIMESTAMP,v1=HEX"));
  }
  const std::string want = Mac(secret, t, body);
  bool match = false;
  for (absl::string_view mac : macs) match |= ConstantTimeEquals(mac, want);
  if (!match) return absl::UnauthenticatedError("signature does not match the body");
  if (absl::AbsDuration(now - absl::FromUnixSeconds(t)) > tolerance) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signature timestamp ", t, " is more than ", absl::FormatDuration(tolerance),
        " from now (replayed or delayed)"));
  }
  return absl::OkStatus();
}

}  // namespace market::webhook
