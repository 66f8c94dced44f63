// Delivers queued webhook deliveries: a background thread POSTs each due
// delivery's event as JSON over HTTPS (server certificate verified against
// the CA bundle in options, or the system's), signed (webhook_signature.h),
// and records the attempt. A 2xx marks it DELIVERED; anything else (an
// error, a timeout, another status) schedules the next attempt with
// exponential back-off plus jitter (outbox::RetryDelay), until the delivery
// is older than options.max_age, when it becomes FAILED. All state is in the
// store, so a restarted process resumes. Thread-safe.
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_DISPATCHER_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_DISPATCHER_H_

#include <string>
#include <thread>

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
  // Connect and read timeout of one attempt.
  absl::Duration timeout = absl::Seconds(10);
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

  // Attempts every due delivery (up to options.backoff.batch), one after
  // another; returns how many were delivered.
  absl::StatusOr<int> RunOnce() ABSL_LOCKS_EXCLUDED(run_mu_);

  // Runs RunOnce() every options.backoff.poll on a thread until Stop().
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Registers gauge market_webhook_pending_deliveries; the dispatcher must
  // outlive every later metrics->Render().
  void ExportMetrics(server::Metrics* metrics) const;

 private:
  // One POST; the HTTP status (0 when none came) and the error ("" on 2xx).
  std::pair<int, std::string> Post(const DueDelivery& d) const;
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  WebhookStore* const store_;
  const Clock* const clock_;
  const DispatcherOptions options_;
  absl::Mutex run_mu_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // started and joined by the owner's thread only
};

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_DISPATCHER_H_
