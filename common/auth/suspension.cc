#include "common/auth/suspension.h"

namespace market::auth {

absl::StatusOr<SubjectStatus> SuspensionChecker::Lookup(const std::string& subject) {
  absl::Time now = clock_->Now();
  {
    // Every authenticated call looks up here: readers share the lock.
    absl::ReaderMutexLock lock(&mu_);
    auto it = cache_.find(subject);
    if (it != cache_.end() && now - it->second.fetched < ttl_) return it->second.status;
  }
  absl::StatusOr<SubjectStatus> status = source_(subject);
  if (!status.ok()) return status.status();
  absl::MutexLock lock(&mu_);
  cache_[subject] = Entry{*status, now};
  return *status;
}

void SuspensionChecker::Invalidate(const std::string& subject) {
  absl::MutexLock lock(&mu_);
  cache_.erase(subject);
}

}  // namespace market::auth
