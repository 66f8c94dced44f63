#include "common/clock/clock.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace market {
namespace {

class RealClockImpl final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* RealClock() {
  // Function-local static: initialisation is thread-safe and the object is
  // never destroyed, so it stays usable during shutdown.
  static Clock* const clock = new RealClockImpl();
  return clock;
}

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void FakeClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

absl::Duration OffsetFileClock::Offset() const {
  std::ifstream in(path_);
  if (!in) return absl::ZeroDuration();
  std::stringstream text;
  text << in.rdbuf();
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text.str()), &seconds)) {
    return absl::ZeroDuration();
  }
  return absl::Seconds(seconds);
}

absl::Time OffsetFileClock::Now() const { return absl::Now() + Offset(); }

}  // namespace market
