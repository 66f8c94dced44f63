#include "clients/marketctl/tile_fetcher.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace market::ctl {

std::string DefaultHttpServer(const std::string& grpc_server, bool tls) {
  if (absl::StartsWith(grpc_server, "unix:")) return "";
  std::string host = grpc_server;
  int port = 7400;
  if (auto colon = grpc_server.rfind(':'); colon != std::string::npos) {
    int parsed = 0;
    if (absl::SimpleAtoi(grpc_server.substr(colon + 1), &parsed)) {
      host = grpc_server.substr(0, colon);
      port = parsed;
    }
  }
  return absl::StrCat(tls ? "https://" : "http://", host, ":", port + 1);
}

HttpTileFetcher::HttpTileFetcher(std::string base_url, std::string ca_file)
    // HOST:PORT without a scheme: HTTPS when a CA to check the server with is given.
    : base_url_(absl::StrContains(base_url, "://")
                    ? std::move(base_url)
                    : absl::StrCat(ca_file.empty() ? "http://" : "https://", base_url)),
      ca_file_(std::move(ca_file)) {}

HttpTileFetcher::~HttpTileFetcher() = default;

std::unique_ptr<httplib::Client> HttpTileFetcher::Take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<httplib::Client> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<httplib::Client>(base_url_);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(10);
  c->set_read_timeout(60);
  if (!ca_file_.empty()) c->set_ca_cert_path(ca_file_.c_str());
  return c;
}

void HttpTileFetcher::Give(std::unique_ptr<httplib::Client> client) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(client));
}

absl::StatusOr<std::string> HttpTileFetcher::Get(const std::string& path) {
  std::unique_ptr<httplib::Client> client = Take();
  httplib::Result res = client->Get(path);
  if (!res) {
    return absl::UnavailableError(
        absl::StrCat(base_url_, path, ": ", httplib::to_string(res.error())));
  }
  const int status = res->status;
  std::string body = std::move(res->body);
  Give(std::move(client));
  if (status == 200) return body;
  if (status == 404) return absl::NotFoundError(absl::StrCat(base_url_, path, ": not found"));
  if (status == 500 && absl::StartsWith(body, "ledger integrity")) {
    return absl::DataLossError(absl::StrCat("the server reports: ", body));
  }
  return absl::UnavailableError(absl::StrCat(base_url_, path, ": HTTP ", status, " ", body));
}

}  // namespace market::ctl
