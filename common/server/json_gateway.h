// Every RPC of the services a ServerRunner registers, over HTTP/JSON on its
// HTTP port, derived from the proto descriptors (the Connect protocol's unary
// JSON): `POST /{package}.{Service}/{Method}` with `Content-Type:
// application/json` and the request in protobuf's canonical JSON; 200 with the
// response in canonical JSON. Calls go through the server's in-process channel,
// so authentication, authorization, validation, idempotency and metrics are
// exactly gRPC's. `Authorization` is forwarded as the `authorization` metadata
// and `Connect-Timeout-Ms` becomes the deadline. Errors are google.rpc.Status
// as JSON with their details, HTTP status as grpc-gateway and AIP-193 map them.
// Streaming: a client-streaming (or bidi) request is a JSON array of messages,
// a server-streaming (or bidi) response a JSON array; a client-streaming
// method whose request has a `bytes data` field also takes the raw bytes as
// the body (any Content-Type but JSON), the first message's other fields from
// the query string, `content_type` from the Content-Type header, cut into
// chunks of `raw_chunk_bytes`. Thread-safe.
#ifndef MARKET_COMMON_SERVER_JSON_GATEWAY_H_
#define MARKET_COMMON_SERVER_JSON_GATEWAY_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/server/runner.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"

namespace market::server {

struct JsonGatewayOptions {
  // Largest JSON body (ImportListings carries up to 4 MiB of CSV in base64).
  size_t max_json_bytes = 8 << 20;
  // Largest raw body of a byte upload (a 10 MiB photo and some slack).
  size_t max_raw_bytes = (10 << 20) + (64 << 10);
  // The `data` bytes per stream message of a raw upload.
  size_t raw_chunk_bytes = 1 << 20;
};

// The HTTP status of a gRPC code (grpc-gateway / AIP-193): INVALID_ARGUMENT,
// FAILED_PRECONDITION, OUT_OF_RANGE 400; UNAUTHENTICATED 401;
// PERMISSION_DENIED 403; NOT_FOUND 404; ALREADY_EXISTS, ABORTED 409;
// RESOURCE_EXHAUSTED 429; CANCELLED 499; UNIMPLEMENTED 501; UNAVAILABLE 503;
// DEADLINE_EXCEEDED 504; OK 200; anything else 500.
int HttpStatusOf(grpc::StatusCode code);

// `status` as a google.rpc.Status in canonical JSON: code, message and the
// details carried by status.error_details() (the grpc-status-details-bin
// trailer), e.g. {"code":3,"message":"…","details":[{"@type":…}]}.
std::string StatusJson(const grpc::Status& status);

// An error reply: StatusJson(status) with HttpStatusOf(status) unless
// `http_status` (> 0) overrides it (413, 415, 405 …).
HttpReply StatusReply(const grpc::Status& status, int http_status = 0);

class JsonGateway {
 public:
  // Serves every method of `services` (full names; names the generated
  // descriptor pool does not know are skipped) through `channel`.
  JsonGateway(const std::vector<std::string>& services, std::shared_ptr<grpc::Channel> channel,
              JsonGatewayOptions options = {});

  // The regex of the paths this gateway answers: /{service}/{anything}.
  std::string PathPattern() const;
  // The largest body Handle accepts.
  size_t max_body_bytes() const {
    return std::max(options_.max_json_bytes, options_.max_raw_bytes);
  }
  // The full names of the services served, sorted.
  std::vector<std::string> services() const;

  // Answers one request: POST runs the RPC; any other method is 405; an
  // unknown service or method is 404.
  HttpReply Handle(const HttpRequest& request) const;

 private:
  std::map<std::string, const google::protobuf::ServiceDescriptor*> services_;
  std::shared_ptr<grpc::Channel> channel_;
  JsonGatewayOptions options_;
};

// Makes `builder` record the full names of every service registered on the
// server it builds into `*names` (filled during BuildAndStart).
void CollectServiceNames(grpc::ServerBuilder& builder,
                         std::shared_ptr<std::vector<std::string>> names);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_JSON_GATEWAY_H_
