#include "common/resource/resource.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace market {

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string VersionEtag(int64_t version) { return absl::StrCat("\"v", version, "\""); }

size_t Utf8CharCount(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace market
