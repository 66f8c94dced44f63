// The edge of every unary RPC: authorize with the service's policy table, run
// the handler body, map absl::Status to grpc::Status with error details, and
// record the metrics and the JSON log line. A stray exception becomes INTERNAL
// (and is logged) instead of killing the server. Thread-safe.
#ifndef MARKET_COMMON_SERVER_HANDLER_H_
#define MARKET_COMMON_SERVER_HANDLER_H_

#include <exception>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/policy.h"
#include "common/server/log.h"
#include "common/server/metrics.h"
#include "common/status/grpc_status.h"
#include "grpcpp/server_context.h"

namespace market::server {

// What a service's handlers share: its full name, policy and metrics.
struct RpcEnv {
  std::string service;  // e.g. "market.identity.v1.IdentityService"
  const auth::Authorizer* authorizer = nullptr;
  Metrics* metrics = nullptr;  // may be null
};

// Reads the `authorization` metadata ("" when absent).
std::string AuthorizationOf(const grpc::ServerContext& context);

// Records metrics and the log line for a finished RPC, returns the gRPC status.
grpc::Status FinishRpc(const RpcEnv& env, const std::string& method, absl::Time start,
                       const std::string& subject, const absl::Status& status);

// Runs `body(const auth::Caller&) -> absl::Status` for `method` once the
// caller is authorized for `request`.
template <typename Request, typename Body>
grpc::Status HandleRpc(const RpcEnv& env, grpc::ServerContext* context, const char* method,
                       const Request& request, Body&& body) {
  absl::Time start = absl::Now();
  std::string subject;
  absl::Status status;
  try {
    absl::StatusOr<auth::Caller> caller =
        env.authorizer->Authorize(method, AuthorizationOf(*context), request);
    if (!caller.ok()) {
      status = caller.status();
    } else {
      subject = caller->subject;
      status = body(*caller);
    }
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("unexpected exception: ", e.what()));
  }
  return FinishRpc(env, method, start, subject, status);
}

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_HANDLER_H_
