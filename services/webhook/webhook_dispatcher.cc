#include "services/webhook/webhook_dispatcher.h"

#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

std::pair<int, std::string> Dispatcher::Post(const DueDelivery& d) {
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint(d.url);
  if (!endpoint.ok()) return {0, std::string(endpoint.status().message())};
  httplib::SSLClient client(endpoint->host, endpoint->port);
  if (!options_.ca_file.empty()) client.set_ca_cert_path(options_.ca_file.c_str());
  client.enable_server_certificate_verification(true);
  const int64_t timeout_us = absl::ToInt64Microseconds(options_.timeout);
  client.set_connection_timeout(timeout_us / 1000000, timeout_us % 1000000);
  client.set_read_timeout(timeout_us / 1000000, timeout_us % 1000000);
  client.set_write_timeout(timeout_us / 1000000, timeout_us % 1000000);
  // The socket is registered so that CutOverdue() can shut it down; it is
  // unregistered (by `unregister`, destroyed before `client` closes it)
  // before its descriptor can be reused.
  client.set_socket_options([this, &d](socket_t fd) {
    absl::MutexLock lock(&mu_);
    in_flight_[d.webhook].fd = fd;
  });
  struct Unregister {
    Dispatcher* self;
    const std::string& webhook;
    ~Unregister() {
      absl::MutexLock lock(&self->mu_);
      self->in_flight_[webhook].fd = -1;
    }
  } unregister{this, d.webhook};
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

void Dispatcher::Attempt(const DueDelivery& d) {
  auto [status, error] = Post(d);
  {
    absl::MutexLock lock(&mu_);
    if (stop_ && !error.empty()) return;  // cut short by Stop(): not an answer; stays due
    if (!error.empty() && in_flight_[d.webhook].cut) {
      status = 0;
      error = absl::StrCat("no complete answer within ", absl::FormatDuration(options_.timeout),
                           " (attempt cut off)");
    }
  }
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
  if (!recorded.ok()) {
    // The delivery stays PENDING and due: it is attempted again.
    server::LogJson("error", "webhook attempt not recorded",
                    {{"delivery", d.id}, {"error", recorded.ToString()}});
  }
}

absl::Status Dispatcher::Fill() {
  std::vector<std::string> busy;
  int free = 0;
  {
    absl::MutexLock lock(&mu_);
    free = std::max(1, options_.max_in_flight) - static_cast<int>(in_flight_.size());
    for (const auto& [webhook, unused] : in_flight_) busy.push_back(webhook);
  }
  if (free <= 0) return absl::OkStatus();
  absl::StatusOr<std::vector<DueDelivery>> due = store_->Due(clock_->Now(), free, busy);
  if (!due.ok()) return due.status();
  absl::MutexLock lock(&mu_);
  for (DueDelivery& d : *due) {
    // Only this thread adds entries, so none of `due` is in flight.
    in_flight_.emplace(d.webhook, InFlight{});
    queue_.push_back(std::move(d));
  }
  return absl::OkStatus();
}

absl::Time Dispatcher::CutOverdue() {
  const absl::Time now = absl::Now();
  absl::Time next = absl::InfiniteFuture();
  for (auto& [webhook, f] : in_flight_) {
    if (f.cut || f.fd < 0) {
      // No socket yet (or any more): its own timeouts apply meanwhile.
      if (!f.cut && f.deadline > now) next = std::min(next, f.deadline);
      continue;
    }
    if (stop_ || f.deadline <= now) {
      ::shutdown(f.fd, SHUT_RDWR);  // the blocked read or write returns at once
      f.cut = true;
    } else {
      next = std::min(next, f.deadline);
    }
  }
  return next;
}

void Dispatcher::Schedule() {
  while (true) {
    if (absl::Status filled = Fill(); !filled.ok()) {
      server::LogJson("error", "webhook dispatch pass failed", {{"error", filled.ToString()}});
    }
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = CutOverdue();
    // Wake for the next poll, a finished attempt, or the next deadline.
    absl::Duration wait = options_.backoff.poll;
    if (deadline != absl::InfiniteFuture()) {
      wait = std::min(wait, std::max(deadline - absl::Now(), absl::Milliseconds(1)));
    }
    mu_.AwaitWithTimeout(absl::Condition(this, &Dispatcher::ScheduleReady), wait);
    if (stop_) return;
    wake_ = false;
  }
}

void Dispatcher::Work() {
  while (true) {
    DueDelivery d;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &Dispatcher::WorkReady));
      if (stop_) return;
      d = std::move(queue_.front());
      queue_.pop_front();
      in_flight_[d.webhook].deadline = absl::Now() + options_.timeout;
    }
    Attempt(d);
    absl::MutexLock lock(&mu_);
    in_flight_.erase(d.webhook);
    wake_ = true;
  }
}

void Dispatcher::Start() {
  if (scheduler_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
    wake_ = false;
    queue_.clear();
    in_flight_.clear();
  }
  for (int i = 0; i < std::max(1, options_.max_in_flight); ++i) {
    workers_.emplace_back([this] { Work(); });
  }
  scheduler_ = std::thread([this] { Schedule(); });
}

void Dispatcher::Stop() {
  if (!scheduler_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    CutOverdue();  // with stop_ set: every open socket
  }
  scheduler_.join();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void Dispatcher::ExportMetrics(server::Metrics* metrics) const {
  metrics->AddGauge("market_webhook_pending_deliveries",
                    "Webhook deliveries not yet delivered, failed or cancelled (-1: database "
                    "unreadable).",
                    [this] { return static_cast<double>(store_->PendingCount()); });
  metrics->AddGauge("market_webhook_attempts_in_flight",
                    "Webhook deliveries queued for or being attempted by a worker.", [this] {
                      absl::MutexLock lock(&mu_);
                      return static_cast<double>(in_flight_.size());
                    });
}

}  // namespace market::webhook
