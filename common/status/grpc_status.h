// The one mapping between absl::Status and grpc::Status at the RPC edge. Error
// details travel as a serialized google.rpc.Status in the
// `grpc-status-details-bin` trailer (BadRequest field violations, ErrorInfo).
#ifndef MARKET_COMMON_STATUS_GRPC_STATUS_H_
#define MARKET_COMMON_STATUS_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace market {

// Converts `status`, attaching its BadRequest / ErrorInfo payloads as details.
grpc::Status ToGrpcStatus(const absl::Status& status);
// The inverse, for clients: restores code, message and details payloads.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace market

#endif  // MARKET_COMMON_STATUS_GRPC_STATUS_H_
