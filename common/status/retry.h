// google.rpc.RetryInfo on an absl::Status: when a refused client may try
// again (e.g. a throttled login). Travels to gRPC clients like the other
// details (common/status/grpc_status.h). Thread-safe: pure functions.
#ifndef MARKET_COMMON_STATUS_RETRY_H_
#define MARKET_COMMON_STATUS_RETRY_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace market {

inline constexpr char kRetryInfoPayloadUrl[] = "type.googleapis.com/google.rpc.RetryInfo";

// `status` with a google.rpc.RetryInfo saying when to try again.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);
// The RetryInfo delay carried by `status`, if any.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

}  // namespace market

#endif  // MARKET_COMMON_STATUS_RETRY_H_
