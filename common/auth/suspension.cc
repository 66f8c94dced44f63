#include "common/auth/suspension.h"

namespace market::auth {

absl::StatusOr<bool> SuspensionChecker::IsBlocked(const std::string& subject) {
  absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(subject);
    if (it != cache_.end() && now - it->second.fetched < ttl_) return it->second.blocked;
  }
  absl::StatusOr<bool> blocked = source_(subject);
  if (!blocked.ok()) return blocked.status();
  absl::MutexLock lock(&mu_);
  cache_[subject] = Entry{*blocked, now};
  return *blocked;
}

void SuspensionChecker::Invalidate(const std::string& subject) {
  absl::MutexLock lock(&mu_);
  cache_.erase(subject);
}

}  // namespace market::auth
