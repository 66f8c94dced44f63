// Runs one gRPC server the same way in every binary: explicit message-size and
// keepalive limits, grpc.health.v1 with a status per service, server
// reflection (grpc.reflection.v1 and v1alpha), an HTTP port with /metrics, /healthz and the
// routes a binary adds (photos, /verify, ledger tiles, the web console), and
// graceful shutdown (health NOT_SERVING, then drain). Every registered service
// is also served as HTTP/JSON on the HTTP port (json_gateway.h). Start/Shutdown
// from one thread.
#ifndef MARKET_COMMON_SERVER_RUNNER_H_
#define MARKET_COMMON_SERVER_RUNNER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/server/metrics.h"
#include "common/server/server_core.h"
#include "common/server/tls.h"
#include "grpcpp/grpcpp.h"

namespace httplib {
class Server;
}

namespace market::server {

struct ServerOptions {
  // The binary ("marketd", "market-identity", …): market_build_info's service label.
  std::string service;
  std::string listen = "127.0.0.1:7400";       // gRPC; port 0 picks a free port
  std::string http_listen = "127.0.0.1:7401";  // /metrics, /healthz, JSON API, routes; "" disables
  int max_message_bytes = 32 * 1024 * 1024;
  absl::Duration keepalive_time = absl::Minutes(2);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  absl::Duration min_client_ping_interval = absl::Seconds(30);
  // TLS for both ports (and the client side of peer channels); none = plaintext.
  TlsOptions tls;
  // The synchronous server's threads (see ConfigureSyncServerThreads).
  SyncServerThreads threads;
};

// A reply to a GET on the HTTP port from a route added with AddHttpRoute.
struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string cache_control;  // "" sends no Cache-Control header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
};
// Answers GET `path` (the request path, e.g. "/tile/0/000"); called from the
// HTTP server's threads, so it must be thread-safe.
using HttpRoute = std::function<HttpReply(const std::string& path)>;
// The query parameters of a GET, %XX-decoded ('+' is kept), the last value of
// a repeated name.
using HttpQuery = std::map<std::string, std::string>;
// A route that also reads the query string (e.g. "/verify?report=…").
using HttpQueryRoute = std::function<HttpReply(const std::string& path, const HttpQuery& query)>;

// A request to a handler added with AddHttpHandler.
struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // without the query string
  std::map<std::string, std::string> headers;  // lower-case names; the last of repeated ones
  std::map<std::string, std::string> query;    // decoded query parameters
  std::string body;
  // The header `lower_case_name`, "" when absent.
  std::string Header(const std::string& lower_case_name) const;
};
// Answers one request; called from the HTTP server's threads (thread-safe).
using HttpHandler = std::function<HttpReply(const HttpRequest& request)>;

class JsonGateway;

class ServerRunner {
 public:
  // `metrics` (may be null; not owned) is served on /metrics; the runner adds
  // market_build_info{version, git_commit, build_type, service} to it.
  ServerRunner(ServerOptions options, Metrics* metrics);
  ~ServerRunner();
  ServerRunner(const ServerRunner&) = delete;
  ServerRunner& operator=(const ServerRunner&) = delete;

  // Registers a service (not owned; must outlive the runner) reported to
  // health checks as `health_name` (its full proto name). Before Start().
  void AddService(grpc::Service* service, const std::string& health_name);
  // Registers a service that health checks do not report (not serving yet).
  void AddServiceWithoutHealth(grpc::Service* service);

  // Serves GET requests whose path matches the ECMAScript regex `pattern`
  // (whole path, e.g. "/tile/.+") on the HTTP port with `route`. Before Start().
  void AddHttpRoute(const std::string& pattern, HttpRoute route);
  // The same for a route that reads the query string.
  void AddHttpQueryRoute(const std::string& pattern, HttpQueryRoute route);
  // Serves `method` ("GET" or "POST") requests whose path matches the regex
  // `pattern` with `handler`, which sees headers, query and body. Request
  // bodies larger than `max_body_bytes` are refused with 413 before `handler`
  // runs. Before Start().
  void AddHttpHandler(const std::string& method, const std::string& pattern,
                      size_t max_body_bytes, HttpHandler handler);

  // Binds both ports and starts serving. UNAVAILABLE when a port is taken;
  // CheckTlsOptions' errors for unusable TLS files.
  absl::Status Start();
  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  grpc::Server* server() { return server_.get(); }
  // A channel to this server that bypasses the network (marketd's internal calls).
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Marks every service NOT_SERVING, stops accepting, lets in-flight RPCs
  // finish for up to `grace`, then stops the HTTP port. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(10));

 private:
  ServerOptions options_;
  Metrics* metrics_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;  // "" = no health
  std::vector<std::pair<std::string, HttpQueryRoute>> http_routes_;
  struct HandlerEntry {
    std::string method;
    std::string pattern;
    size_t max_body_bytes;
    HttpHandler handler;
  };
  std::vector<HandlerEntry> http_handlers_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<JsonGateway> gateway_;  // every registered service over HTTP/JSON
  std::unique_ptr<httplib::Server> http_;
  std::thread http_thread_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  bool serving_ = false;
};

// Blocks SIGTERM and SIGINT in the calling thread and threads it creates
// later; call first thing in main().
void BlockShutdownSignals();
// Waits until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForShutdownSignal();

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_RUNNER_H_
