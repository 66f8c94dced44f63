// Shared pieces of the libFuzzer targets in fuzz/: an invariant check that
// aborts (so libFuzzer and the corpus replay both report it as a crash), a
// reader that splits one input into typed fields, and the fixed clock and
// keys every target and the seed generator agree on. Header-only; each
// target is single-threaded.
#ifndef MARKET_FUZZ_FUZZ_SUPPORT_H_
#define MARKET_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/stubs/logging.h"

// Aborts with `what` when an invariant of the code under test does not hold.
#define FUZZ_CHECK(cond, what)                                                     \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__, \
                   #cond, std::string(what).c_str());                              \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

namespace market::fuzz {

// The "now" of every target (2026-06-01T00:00:00Z): deterministic runs, and
// the seeds' timestamps are valid relative to it.
inline absl::Time FuzzNow() { return absl::FromUnixSeconds(1780272000); }

// Ed25519 seeds of the keys the targets verify with (public knowledge: these
// only make the seed corpus' signatures verify).
inline constexpr char kJwtKeySeed[] = "fuzz-jwt-key-seed-32-bytes-long!";
inline constexpr char kJwtKeyId[] = "fuzz-key-1";
inline constexpr char kNoteKeySeed[] = "fuzz-note-key-seed-32-bytes-lng!";
inline constexpr char kNoteKeyName[] = "market.example/ledger";
inline constexpr char kPageTokenSecret[] = "fuzz-page-token-secret";

// With MARKET_FUZZ_TRACE set in the environment, prints what an input
// reached ("verify: OK", "validate: INVALID_ARGUMENT: ..."): for checking that
// a seed is the valid example it should be. Silent otherwise.
inline void Trace(absl::string_view step, const absl::Status& status) {
  static const bool enabled = std::getenv("MARKET_FUZZ_TRACE") != nullptr;
  if (enabled) {
    std::fprintf(stderr, "  %.*s: %s\n", static_cast<int>(step.size()), step.data(),
                 status.ToString().c_str());
  }
}

// Silences protobuf's log lines (e.g. "String field ... contains invalid UTF-8
// data" for every rejected parse): noise that slows fuzzing. Call first in a
// target that parses protobuf messages.
inline void QuietProtobufLogs() {
  static const bool once = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)once;
}

// Reads typed fields from the front of a fuzz input; once the input is used
// up every read returns zero / empty, so any input is a valid field sequence.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}

  size_t remaining() const { return size_; }

  template <typename T>
  T Int() {
    static_assert(std::is_integral_v<T>);
    std::make_unsigned_t<T> v = 0;
    size_t n = sizeof(T) < size_ ? sizeof(T) : size_;
    for (size_t i = 0; i < n; ++i) v = static_cast<decltype(v)>((v << 8) | uint8_t(data_[i]));
    Skip(n);
    return static_cast<T>(v);
  }
  bool Bool() { return Int<uint8_t>() & 1; }
  // A value in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    uint64_t v = Int<uint64_t>();
    return span == UINT64_MAX ? static_cast<int64_t>(v)
                              : static_cast<int64_t>(static_cast<uint64_t>(lo) + v % (span + 1));
  }
  // Exactly `n` bytes (fewer at the end of the input).
  std::string Bytes(size_t n) {
    if (n > size_) n = size_;
    std::string out(data_, n);
    Skip(n);
    return out;
  }
  // Up to the next `sep` (consumed, not returned) or the end.
  std::string Field(char sep = '\n') {
    const void* at = std::memchr(data_, sep, size_);
    size_t n = at == nullptr ? size_ : static_cast<const char*>(at) - data_;
    std::string out(data_, n);
    Skip(at == nullptr ? n : n + 1);
    return out;
  }
  std::string Rest() { return Bytes(size_); }

 private:
  void Skip(size_t n) {
    data_ += n;
    size_ -= n;
  }
  const char* data_;
  size_t size_;
};

}  // namespace market::fuzz

#endif  // MARKET_FUZZ_FUZZ_SUPPORT_H_
