// A job run every `period` on its own thread (schedulers: order completion,
// claim deadlines, table purges), logging what each run did. Thread-safe.
#ifndef MARKET_COMMON_SERVER_PERIODIC_H_
#define MARKET_COMMON_SERVER_PERIODIC_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace market::server {

class PeriodicJob {
 public:
  // `job` returns how many items it handled; `name` appears in the log lines
  // ("warn" on error, "info" when it handled something).
  PeriodicJob(std::string name, std::function<absl::StatusOr<int>()> job)
      : name_(std::move(name)), job_(std::move(job)) {}
  PeriodicJob(const PeriodicJob&) = delete;
  PeriodicJob& operator=(const PeriodicJob&) = delete;
  ~PeriodicJob() { Stop(); }

  // Runs the job every `period` until Stop(); no-op when already running.
  void Start(absl::Duration period) ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the thread, waiting for a run in progress; Start() may follow.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Scheduled runs finished since construction (failed ones included).
  int64_t runs() const ABSL_LOCKS_EXCLUDED(runs_mu_);
  // Waits until runs() >= `count`; false when `timeout` passes first. Tests
  // wait on it instead of sleeping: a run that starts after an event has
  // finished once runs() has grown by two.
  bool AwaitRuns(int64_t count, absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(runs_mu_);

 private:
  const std::string name_;
  const std::function<absl::StatusOr<int>()> job_;
  absl::Mutex mu_;
  std::unique_ptr<absl::Notification> stop_ ABSL_GUARDED_BY(mu_);
  std::thread thread_ ABSL_GUARDED_BY(mu_);
  mutable absl::Mutex runs_mu_;
  int64_t runs_ ABSL_GUARDED_BY(runs_mu_) = 0;
};

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_PERIODIC_H_
