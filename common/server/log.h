// Structured logs: one JSON object per line on stderr. Thread-safe (a line is
// written with a single write). Never pass tokens, passwords or keys here.
#ifndef MARKET_COMMON_SERVER_LOG_H_
#define MARKET_COMMON_SERVER_LOG_H_

#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace market::server {

// Writes {"ts", "level", "msg", ...fields} as one line.
void LogJson(const std::string& level, const std::string& msg,
             const nlohmann::json& fields = nlohmann::json::object());

// The one line per RPC: method, code, latency, caller subject (may be empty).
void LogRpc(const std::string& method, const std::string& code, absl::Duration latency,
            const std::string& subject, const std::string& error_message);

// Silences LogRpc (benchmarks); default on.
void SetRpcLogging(bool enabled);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_LOG_H_
