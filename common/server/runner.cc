#include "common/server/runner.h"

#include <signal.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/server/build_info.h"
#include "common/server/interceptor.h"
#include "common/server/json_gateway.h"
#include "common/server/log.h"
#include "common/server/reflection_v1.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "httplib.h"

namespace market::server {
namespace {

bool SplitHostPort(const std::string& hostport, std::string* host, int* port) {
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) return false;
  *host = hostport.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::SimpleAtoi(hostport.substr(colon + 1), port) && *port >= 0 && *port < 65536;
}

HttpRequest ToHttpRequest(const httplib::Request& req) {
  HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  for (const auto& [name, value] : req.headers) out.headers[absl::AsciiStrToLower(name)] = value;
  for (const auto& [name, value] : req.params) out.query[name] = value;
  out.body = req.body;
  return out;
}

void SendReply(HttpReply reply, httplib::Response& res) {
  res.status = reply.status;
  if (!reply.cache_control.empty()) res.set_header("Cache-Control", reply.cache_control);
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  if (reply.content_type.empty()) {
    res.body = std::move(reply.body);  // e.g. 304 Not Modified
  } else {
    res.set_content(std::move(reply.body), reply.content_type);
  }
}

// The gRPC code an HTTP error of the server itself (no route, body too large) reports.
grpc::StatusCode CodeOfHttpError(int http_status) {
  switch (http_status) {
    case 400:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case 404:
      return grpc::StatusCode::NOT_FOUND;
    case 405:
      return grpc::StatusCode::UNIMPLEMENTED;
    case 413:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    default:
      return grpc::StatusCode::UNKNOWN;
  }
}

}  // namespace

ServerRunner::ServerRunner(ServerOptions options, Metrics* metrics)
    : options_(std::move(options)), metrics_(metrics) {
  if (metrics_ != nullptr) {
    const BuildInfo& build = GetBuildInfo();
    metrics_->AddInfo("market_build_info",
                      "The running build (what --version prints); the value is always 1.",
                      {{"version", build.version},
                       {"git_commit", build.git_commit},
                       {"build_type", build.build_type},
                       {"service", options_.service}});
  }
}

ServerRunner::~ServerRunner() { Shutdown(absl::Seconds(1)); }

void ServerRunner::AddService(grpc::Service* service, const std::string& health_name) {
  services_.emplace_back(service, health_name);
}

void ServerRunner::AddServiceWithoutHealth(grpc::Service* service) {
  services_.emplace_back(service, "");
}

absl::Status ServerRunner::Start() {
  // Debian's abseil is built without NDEBUG, so every absl::Mutex (gRPC's
  // own included) records lock-order edges in a process-wide graph under one
  // global lock, on each acquisition and destruction: a debugging aid that
  // cost a few percent of a read's CPU. Servers run without it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (absl::Status s = CheckTlsOptions(options_.tls); !s.ok()) return s;
  if (!options_.tls.enabled()) {
    for (const std::string* addr : {&options_.listen, &options_.http_listen}) {
      if (addr->empty() || IsLoopbackAddress(*addr)) continue;
      LogJson("warn", "serving plaintext on a non-loopback address: pass --tls-cert and --tls-key",
              {{"listen", *addr}});
    }
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  AddReflectionV1(builder);
  builder.AddListeningPort(options_.listen, ServerCredentials(options_.tls), &grpc_port_);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_time)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive_timeout)));
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options_.min_client_ping_interval)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC sets SO_REUSEPORT by default, which lets a second marketd silently
  // share the port (and split traffic) with the first; refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  ConfigureSyncServerThreads(builder, options_.threads);
  for (auto& [service, name] : services_) builder.RegisterService(service);
  auto service_names = std::make_shared<std::vector<std::string>>();
  CollectServiceNames(builder, service_names);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeMalformedRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  for (auto& [service, name] : services_) {
    if (!name.empty()) health->SetServingStatus(name, true);
  }
  serving_ = true;
  gateway_ = std::make_unique<JsonGateway>(*service_names, InProcessChannel());

  if (!options_.http_listen.empty()) {
    std::string host;
    int port = 0;
    if (!SplitHostPort(options_.http_listen, &host, &port)) {
      Shutdown(absl::ZeroDuration());
      return absl::InvalidArgumentError(
          absl::StrCat("--http-listen: ", options_.http_listen, ", want HOST:PORT"));
    }
    auto http = MakeHttpServer(options_.tls);
    if (!http.ok()) {
      Shutdown(absl::ZeroDuration());
      return http.status();
    }
    http_ = std::move(*http);
    http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_ != nullptr ? metrics_->Render() : "",
                      "text/plain; version=0.0.4; charset=utf-8");
    });
    http_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      res.status = serving_ ? 200 : 503;
      res.set_content(serving_ ? "ok\n" : "shutting down\n", "text/plain");
    });
    // Small replies (tiles, checkpoints) on keep-alive connections: no Nagle delay.
    http_->set_tcp_nodelay(true);
    for (const auto& pattern_route : http_routes_) {
      // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
      const HttpQueryRoute& route = pattern_route.second;
      http_->Get(pattern_route.first, [route](const httplib::Request& req,
                                              httplib::Response& res) {
        HttpQuery query;
        for (const auto& param : req.params) query[param.first] = param.second;
        SendReply(route(req.path, query), res);
      });
    }
    JsonGateway* gateway = gateway_.get();
    std::vector<HandlerEntry> handlers = http_handlers_;
    for (const char* method : {"POST", "GET"}) {
      handlers.push_back({method, gateway->PathPattern(), gateway->max_body_bytes(),
                          [gateway](const HttpRequest& r) { return gateway->Handle(r); }});
    }
    size_t max_body = 0;
    for (const HandlerEntry& entry : handlers) {
      max_body = std::max(max_body, entry.max_body_bytes);
      auto serve = [entry](const httplib::Request& req, httplib::Response& res) {
        if (req.body.size() > entry.max_body_bytes) {
          res.status = 413;  // the error handler writes the body
          return;
        }
        SendReply(entry.handler(ToHttpRequest(req)), res);
      };
      if (entry.method == "POST") {
        http_->Post(entry.pattern, serve);
      } else {
        http_->Get(entry.pattern, serve);
      }
    }
    // Larger bodies are refused while they are read; every bodiless error is
    // a google.rpc.Status in JSON, as the HTTP/JSON API's errors are.
    http_->set_payload_max_length(max_body);
    http_->set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      std::string message = res.status == 413 ? std::string("request body too large")
                            : res.status == 404
                                ? absl::StrCat("no route for ", req.method, " ", req.path)
                                : absl::StrCat("HTTP ", res.status);
      HttpReply reply =
          StatusReply(grpc::Status(CodeOfHttpError(res.status), message), res.status);
      SendReply(std::move(reply), res);
      return httplib::Server::HandlerResponse::Handled;
    }));
    http_port_ =
        port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
    if (http_port_ <= 0) {
      http_.reset();
      Shutdown(absl::ZeroDuration());
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.http_listen));
    }
    http_thread_ = std::thread([this] { http_->listen_after_bind(); });
  }
  LogJson("info", "serving",
          {{"grpc_port", grpc_port_},
           {"http_port", http_port_},
           {"listen", options_.listen},
           {"tls", !options_.tls.enabled()                  ? "off"
                   : options_.tls.client_ca_file.empty() ? "on"
                                                         : "mtls"}});
  return absl::OkStatus();
}

void ServerRunner::AddHttpRoute(const std::string& pattern, HttpRoute route) {
  http_routes_.emplace_back(pattern, [route = std::move(route)](const std::string& path,
                                                                const HttpQuery&) {
    return route(path);
  });
}

void ServerRunner::AddHttpQueryRoute(const std::string& pattern, HttpQueryRoute route) {
  http_routes_.emplace_back(pattern, std::move(route));
}

void ServerRunner::AddHttpHandler(const std::string& method, const std::string& pattern,
                                  size_t max_body_bytes, HttpHandler handler) {
  http_handlers_.push_back({method, pattern, max_body_bytes, std::move(handler)});
}

std::string HttpRequest::Header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? "" : it->second;
}

std::shared_ptr<grpc::Channel> ServerRunner::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  return server_->InProcessChannel(args);
}

void ServerRunner::Shutdown(absl::Duration grace) {
  if (server_ != nullptr) {
    serving_ = false;
    server_->GetHealthCheckService()->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
    server_->Wait();
    server_.reset();
    LogJson("info", "stopped");
  }
  if (http_ != nullptr) {
    http_->stop();
    if (http_thread_.joinable()) http_thread_.join();
    http_.reset();
  }
  gateway_.reset();
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace market::server
