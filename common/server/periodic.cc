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
    }
  });
}

void PeriodicJob::Stop() {
  absl::MutexLock lock(&mu_);
  if (!thread_.joinable()) return;
  stop_->Notify();
  thread_.join();
}

}  // namespace market::server
