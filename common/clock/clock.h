// Clock is the source of the current time, injected into anything that reads
// it so tests can control time. RealClock() reads the system clock; FakeClock
// is set and advanced by hand. All implementations here are thread-safe.
#ifndef MARKET_COMMON_CLOCK_CLOCK_H_
#define MARKET_COMMON_CLOCK_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include <string>

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

// The real time shifted by a number of seconds read from a file on every
// Now() (a missing, empty or malformed file means no shift). For testing and
// demonstrations only (`marketd --clock-offset-file`): deadlines and display
// periods can be walked through by writing e.g. "31536000" (one year) into
// the file, without waiting. Thread-safe.
class OffsetFileClock final : public Clock {
 public:
  explicit OffsetFileClock(std::string path) : path_(std::move(path)) {}
  absl::Time Now() const override;
  // The current shift (zero when the file is missing or malformed).
  absl::Duration Offset() const;

 private:
  std::string path_;
};

}  // namespace market

#endif  // MARKET_COMMON_CLOCK_CLOCK_H_
