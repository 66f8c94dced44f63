// Delivers queued webhook deliveries: a scheduler thread hands due
// deliveries to a pool of options.max_in_flight worker threads, each of which
// POSTs one delivery's event as JSON over HTTPS (server certificate verified
// against the CA bundle in options, or the system's), signed
// (webhook_signature.h), and records the attempt. At most one attempt per
// webhook is in flight, and a webhook's due deliveries are taken in the order
// they were queued (WebhookStore::Due), a retried delivery holding back the
// later ones of its event's resource to that webhook (not other resources'),
// so a receiver gets each resource's events in publication order; a slow or
// dead receiver occupies one worker for at most options.timeout and never
// delays other webhooks' deliveries. An attempt still running at its deadline has its socket shut
// down (a receiver trickling bytes cannot hold a worker). A 2xx marks the
// delivery DELIVERED; anything else (an error, a timeout, another status)
// schedules the next attempt with exponential back-off plus jitter
// (outbox::RetryDelay), until the delivery is older than options.max_age,
// when it becomes FAILED. All state is in the store, so a restarted process
// resumes (an attempt cut short by Stop() is not recorded and stays due).
// Thread-safe.
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_DISPATCHER_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_DISPATCHER_H_

#include <deque>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/outbox/outbox.h"
#include "common/server/metrics.h"
#include "services/webhook/webhook_store.h"

namespace market::webhook {

struct DispatcherOptions {
  // Back-off after the n-th failed attempt: initial_backoff * multiplier^(n-1)
  // capped at max_backoff, plus up to `jitter` of it (outbox::RetryDelay).
  outbox::RelayOptions backoff{.initial_backoff = absl::Seconds(30),
                               .max_backoff = absl::Hours(1),
                               .multiplier = 2,
                               .batch = 50,
                               .poll = absl::Seconds(1),
                               .jitter = 0.2};
  // A delivery still failing this long after it was queued is FAILED.
  absl::Duration max_age = absl::Hours(72);
  // PEM CA bundle receivers' certificates are verified against; "" uses the
  // system's default trust store.
  std::string ca_file;
  // Deadline of one attempt: connection, TLS handshake, request and answer.
  absl::Duration timeout = absl::Seconds(10);
  // Most attempts in flight at once (worker threads), each to another webhook.
  int max_in_flight = 8;
};

// When the next attempt after the `attempts`-th failed one is due, or
// std::nullopt when that would be past create_time + max_age (give up).
std::optional<absl::Time> NextAttempt(const DispatcherOptions& options, int attempts,
                                      const std::string& key, absl::Time create_time,
                                      absl::Time now);

class Dispatcher {
 public:
  // `store` and `clock` are not owned and must outlive the dispatcher.
  Dispatcher(WebhookStore* store, const Clock* clock, DispatcherOptions options);
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;
  ~Dispatcher();

  // Starts the scheduler and the workers; no-op when running.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Aborts attempts in flight (not recorded: they stay due) and joins the
  // threads. Start() may follow.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Registers gauges market_webhook_pending_deliveries and
  // market_webhook_attempts_in_flight; the dispatcher must outlive every
  // later metrics->Render().
  void ExportMetrics(server::Metrics* metrics) const;

 private:
  // A webhook with a delivery queued for a worker or being attempted.
  struct InFlight {
    absl::Time deadline = absl::InfiniteFuture();  // real time; set when attempted
    int fd = -1;       // the attempt's socket while open
    bool cut = false;  // its socket was shut down (deadline or Stop())
  };

  // Claims due deliveries of webhooks not in flight, up to the free workers.
  absl::Status Fill() ABSL_LOCKS_EXCLUDED(mu_);
  // Shuts down the sockets of attempts past their deadline (all when
  // stopping); returns the earliest deadline still ahead.
  absl::Time CutOverdue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes one attempt of `d` and records it.
  void Attempt(const DueDelivery& d) ABSL_LOCKS_EXCLUDED(mu_);
  // One POST; the HTTP status (0 when none came) and the error ("" on 2xx).
  std::pair<int, std::string> Post(const DueDelivery& d) ABSL_LOCKS_EXCLUDED(mu_);
  void Schedule() ABSL_LOCKS_EXCLUDED(mu_);
  void Work() ABSL_LOCKS_EXCLUDED(mu_);
  bool WorkReady() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); }
  bool ScheduleReady() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || wake_; }

  WebhookStore* const store_;
  const Clock* const clock_;
  const DispatcherOptions options_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;  // a worker finished: fill again now
  std::deque<DueDelivery> queue_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);  // by webhook name
  // Started and joined by the owner's thread only.
  std::thread scheduler_;
  std::vector<std::thread> workers_;
};

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_DISPATCHER_H_
