#include "common/server/periodic.h"

#include "common/server/log.h"

namespace market::server {

void PeriodicJob::Start(absl::Duration period) {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = std::make_unique<absl::Notification>();
  absl::Notification* stop = stop_.get();
  thread_ = std::thread([this, stop, period] {
    while (!stop->WaitForNotificationWithTimeout(period)) {
      absl::StatusOr<int> n = job_();
      if (!n.ok()) {
        LogJson("warn", name_ + " failed", {{"error", n.status().ToString()}});
      } else if (*n > 0) {
        LogJson("info", name_, {{"count", *n}});
      }
      absl::MutexLock runs_lock(&runs_mu_);
      ++runs_;
    }
  });
}

void PeriodicJob::Stop() {
  absl::MutexLock lock(&mu_);
  if (!thread_.joinable()) return;
  stop_->Notify();
  thread_.join();
}

int64_t PeriodicJob::runs() const {
  absl::MutexLock lock(&runs_mu_);
  return runs_;
}

bool PeriodicJob::AwaitRuns(int64_t count, absl::Duration timeout) const {
  absl::MutexLock lock(&runs_mu_);
  auto reached = [this, count]() ABSL_SHARED_LOCKS_REQUIRED(runs_mu_) { return runs_ >= count; };
  return runs_mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

}  // namespace market::server
