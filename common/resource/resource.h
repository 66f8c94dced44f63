// Small helpers every resource-oriented handler and store shares: Timestamp
// conversion, version etags and UTF-8 character counts. Pure functions;
// thread-safe.
#ifndef MARKET_COMMON_RESOURCE_RESOURCE_H_
#define MARKET_COMMON_RESOURCE_RESOURCE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace market {

google::protobuf::Timestamp ToTimestamp(absl::Time t);
// Overflow-safe for every valid Timestamp (not via int64 nanoseconds, which
// overflows after the year 2262).
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

// The opaque etag of a stored version: "\"v<version>\"".
std::string VersionEtag(int64_t version);

// Number of UTF-8 code points (continuation bytes are not counted).
size_t Utf8CharCount(absl::string_view s);

}  // namespace market

#endif  // MARKET_COMMON_RESOURCE_RESOURCE_H_
