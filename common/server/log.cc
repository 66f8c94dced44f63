#include "common/server/log.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace market::server {
namespace {
std::atomic<bool> rpc_logging{true};

void WriteLine(const std::string& text) {
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

// `now` as absl::RFC3339_full in UTC (what LogJson writes), the seconds part
// formatted once per second per thread.
void AppendTimestamp(std::string& out, absl::Time now) {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached;  // "2026-12-07T13:40:26"
  int64_t nanos = absl::ToUnixNanos(now);
  int64_t second = nanos >= 0 ? nanos / 1'000'000'000 : (nanos - 999'999'999) / 1'000'000'000;
  if (second != cached_second) {
    cached =
        absl::FormatTime("%Y-%m-%d%ET%H:%M:%S", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    cached_second = second;
  }
  out += cached;
  int64_t frac = nanos - second * 1'000'000'000;
  if (frac != 0) {
    char digits[10] = {'.'};
    for (int i = 9; i >= 1; --i, frac /= 10) digits[i] = static_cast<char>('0' + frac % 10);
    size_t len = 10;
    while (digits[len - 1] == '0') --len;
    out.append(digits, len);
  }
  out += "+00:00";
}

// Appends `s` as a JSON string; text that needs escaping (or is not plain
// ASCII) goes through nlohmann's serializer, as LogJson does.
void AppendJsonString(std::string& out, const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
      out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  out += s;
  out += '"';
}

// Appends `x` as nlohmann's dump() writes a double (shortest round-trip
// digits, "null" when not finite) without building a json value and its
// serializer (a localeconv() call) per line.
void AppendJsonNumber(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  char digits[64];
  char* end = nlohmann::detail::to_chars(digits, digits + sizeof digits, x);
  out.append(digits, end);
}

}  // namespace

void SetRpcLogging(bool enabled) { rpc_logging = enabled; }

void LogJson(const std::string& level, const std::string& msg, const nlohmann::json& fields) {
  nlohmann::json line = {
      {"ts", absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())},
      {"level", level},
      {"msg", msg}};
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) line[k] = v;
  }
  WriteLine(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

// The same object LogJson would write for these fields (keys in the same,
// sorted order), built without a JSON tree: this line is written per call.
void LogRpc(const std::string& method, const std::string& code, absl::Duration latency,
            const std::string& subject, const std::string& error_message) {
  if (!rpc_logging) return;
  std::string line;
  line.reserve(192 + error_message.size());
  line += "{\"code\":";
  AppendJsonString(line, code);
  if (!error_message.empty()) {
    line += ",\"error\":";
    AppendJsonString(line, error_message);
  }
  line += ",\"latency_ms\":";
  AppendJsonNumber(line, absl::ToDoubleMilliseconds(latency));
  line += ",\"level\":";
  line += code == "INTERNAL" || code == "UNKNOWN" ? "\"error\"" : "\"info\"";
  line += ",\"method\":";
  AppendJsonString(line, method);
  line += ",\"msg\":\"rpc\",\"subject\":";
  AppendJsonString(line, subject);
  line += ",\"ts\":\"";
  AppendTimestamp(line, absl::Now());
  line += "\"}\n";
  WriteLine(line);
}

}  // namespace market::server
