#include "common/server/log.h"

#include <unistd.h>

#include <atomic>

#include "absl/time/clock.h"

namespace market::server {
namespace {
std::atomic<bool> rpc_logging{true};
}  // namespace

void SetRpcLogging(bool enabled) { rpc_logging = enabled; }

void LogJson(const std::string& level, const std::string& msg, const nlohmann::json& fields) {
  nlohmann::json line = {{"ts", absl::FormatTime(absl::RFC3339_full, absl::Now(),
                                                 absl::UTCTimeZone())},
                         {"level", level},
                         {"msg", msg}};
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) line[k] = v;
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
  (void)ignored;
}

void LogRpc(const std::string& method, const std::string& code, absl::Duration latency,
            const std::string& subject, const std::string& error_message) {
  if (!rpc_logging) return;
  nlohmann::json fields = {{"method", method},
                           {"code", code},
                           {"latency_ms", absl::ToDoubleMilliseconds(latency)},
                           {"subject", subject}};
  if (!error_message.empty()) fields["error"] = error_message;
  LogJson(code == "INTERNAL" || code == "UNKNOWN" ? "error" : "info", "rpc", fields);
}

}  // namespace market::server
