#include "services/webhook/webhook_dispatcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "httplib.h"
#include "services/webhook/webhook_rules.h"
#include "services/webhook/webhook_signature.h"

namespace market::webhook {

std::optional<absl::Time> NextAttempt(const DispatcherOptions& options, int attempts,
                                      const std::string& key, absl::Time create_time,
                                      absl::Time now) {
  absl::Time next = now + outbox::RetryDelay(options.backoff, attempts, key);
  if (next - create_time > options.max_age) return std::nullopt;
  return next;
}

Dispatcher::Dispatcher(WebhookStore* store, const Clock* clock, DispatcherOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

Dispatcher::~Dispatcher() { Stop(); }

std::pair<int, std::string> Dispatcher::Post(const DueDelivery& d) const {
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint(d.url);
  if (!endpoint.ok()) return {0, std::string(endpoint.status().message())};
  httplib::SSLClient client(endpoint->host, endpoint->port);
  if (!options_.ca_file.empty()) client.set_ca_cert_path(options_.ca_file.c_str());
  client.enable_server_certificate_verification(true);
  const int64_t timeout_us = absl::ToInt64Microseconds(options_.timeout);
  client.set_connection_timeout(timeout_us / 1000000, timeout_us % 1000000);
  client.set_read_timeout(timeout_us / 1000000, timeout_us % 1000000);
  client.set_write_timeout(timeout_us / 1000000, timeout_us % 1000000);
  const std::string body = EventJson(d.event);
  httplib::Headers headers = {
      {kSignatureHeader, SignatureHeader(d.secret, clock_->Now(), body)},
      {kEventIdHeader, d.event.event_id()},
      {"User-Agent", "market-webhook/1"},
  };
  httplib::Result res = client.Post(endpoint->path.c_str(), headers, body, "application/json");
  if (!res) {
    std::string error = httplib::to_string(res.error());
    if (client.get_openssl_verify_result() != X509_V_OK) {
      absl::StrAppend(&error, ": ",
                      X509_verify_cert_error_string(client.get_openssl_verify_result()));
    }
    return {0, error};
  }
  if (res->status >= 200 && res->status < 300) return {res->status, ""};
  return {res->status, absl::StrCat("HTTP ", res->status)};
}

absl::StatusOr<int> Dispatcher::RunOnce() {
  absl::MutexLock lock(&run_mu_);
  absl::StatusOr<std::vector<DueDelivery>> due = store_->Due(clock_->Now(), options_.backoff.batch);
  if (!due.ok()) return due.status();
  int delivered = 0;
  for (const DueDelivery& d : *due) {
    auto [status, error] = Post(d);
    const absl::Time now = clock_->Now();
    const bool ok = error.empty();
    std::optional<absl::Time> next;
    if (!ok) {
      next = NextAttempt(options_, d.attempts + 1, absl::StrCat(d.id, "/", d.event.event_id()),
                         d.create_time, now);
      if (!next.has_value()) {
        server::LogJson("warn", "webhook delivery failed for good",
                        {{"delivery", d.id}, {"event_id", d.event.event_id()}, {"error", error}});
      }
    }
    absl::Status recorded = store_->RecordAttempt(d.id, now, status, error, ok, next);
    if (!recorded.ok()) return recorded;
    delivered += ok ? 1 : 0;
  }
  return delivered;
}

void Dispatcher::Start() {
  if (thread_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Dispatcher::Stop() {
  if (!thread_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void Dispatcher::Loop() {
  while (true) {
    absl::StatusOr<int> pass = RunOnce();
    if (!pass.ok()) {
      server::LogJson("error", "webhook dispatch pass failed",
                      {{"error", pass.status().ToString()}});
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.backoff.poll)) return;
  }
}

void Dispatcher::ExportMetrics(server::Metrics* metrics) const {
  metrics->AddGauge("market_webhook_pending_deliveries",
                    "Webhook deliveries not yet delivered, failed or cancelled (-1: database "
                    "unreadable).",
                    [this] { return static_cast<double>(store_->PendingCount()); });
}

}  // namespace market::webhook
