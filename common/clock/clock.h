// Clock is the source of the current time, injected into anything that reads
// it so tests can control time. RealClock() reads the system clock; FakeClock
// is set and advanced by hand. All implementations here are thread-safe.
#ifndef MARKET_COMMON_CLOCK_CLOCK_H_
#define MARKET_COMMON_CLOCK_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace market {

// The current time. Implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;

  // The current time.
  virtual absl::Time Now() const = 0;
};

// The process-wide clock backed by absl::Now(). Never null, never deleted;
// safe to call from any thread (including during static initialisation).
Clock* RealClock();

// A clock that only moves when told to. Thread-safe: Now(), Advance() and
// Set() may be called concurrently.
class FakeClock final : public Clock {
 public:
  // Starts the clock at `start`.
  explicit FakeClock(absl::Time start);

  FakeClock(const FakeClock&) = delete;
  FakeClock& operator=(const FakeClock&) = delete;

  // The time last set, plus every advance since.
  absl::Time Now() const override;

  // Moves the clock by `d` (which may be negative).
  void Advance(absl::Duration d);

  // Moves the clock to `t` (which may be in the past).
  void Set(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace market

#endif  // MARKET_COMMON_CLOCK_CLOCK_H_
