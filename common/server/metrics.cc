#include "common/server/metrics.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/server/process_metrics.h"

namespace market::server {

Metrics::Metrics()
    : bounds_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}) {}

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Plain notation where it stays short (bucket bounds, byte counts, epoch
  // seconds), else the shortest form (1e-09).
  const double magnitude = std::fabs(value);
  auto [end, ec] = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e15)
                       ? std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed)
                       : std::to_chars(buf, buf + sizeof(buf), value);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void Metrics::RecordRpc(const std::string& method, const std::string& code,
                        absl::Duration latency) {
  double seconds = absl::ToDoubleSeconds(latency);
  absl::MutexLock lock(&mu_);
  ++requests_[{method, code}];
  Histogram& h = latency_[method];
  if (h.buckets.empty()) h.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (seconds <= bounds_[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::AddGauge(const std::string& name, const std::string& help,
                       std::function<double()> fn) {
  absl::MutexLock lock(&mu_);
  gauges_[name] = Gauge{help, std::move(fn)};
}

void Metrics::AddInfo(const std::string& name, const std::string& help,
                      std::vector<std::pair<std::string, std::string>> labels) {
  absl::MutexLock lock(&mu_);
  infos_[name] = Info{help, std::move(labels)};
}

std::string Metrics::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  absl::StrAppend(&out, "# HELP market_rpc_requests_total Finished RPCs by method and code.\n",
                  "# TYPE market_rpc_requests_total counter\n");
  for (const auto& [key, n] : requests_) {
    absl::StrAppend(&out, "market_rpc_requests_total{method=\"", EscapeLabel(key.first),
                    "\",code=\"", EscapeLabel(key.second), "\"} ", n, "\n");
  }
  absl::StrAppend(&out, "# HELP market_rpc_latency_seconds RPC handling latency.\n",
                  "# TYPE market_rpc_latency_seconds histogram\n");
  for (const auto& [method, h] : latency_) {
    std::string label = absl::StrCat("method=\"", EscapeLabel(method), "\"");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += h.buckets[i];
      absl::StrAppend(&out, "market_rpc_latency_seconds_bucket{", label, ",le=\"",
                      FormatMetricValue(bounds_[i]), "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "market_rpc_latency_seconds_bucket{", label, ",le=\"+Inf\"} ", h.count,
                    "\n", "market_rpc_latency_seconds_sum{", label, "} ", FormatMetricValue(h.sum),
                    "\n", "market_rpc_latency_seconds_count{", label, "} ", h.count, "\n");
  }
  for (const auto& [name, g] : gauges_) {
    absl::StrAppend(&out, "# HELP ", name, " ", g.help, "\n# TYPE ", name, " gauge\n", name, " ",
                    FormatMetricValue(g.fn()), "\n");
  }
  for (const auto& [name, info] : infos_) {
    absl::StrAppend(&out, "# HELP ", name, " ", info.help, "\n# TYPE ", name, " gauge\n", name,
                    "{");
    for (size_t i = 0; i < info.labels.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "" : ",", info.labels[i].first, "=\"",
                      EscapeLabel(info.labels[i].second), "\"");
    }
    absl::StrAppend(&out, "} 1\n");
  }
  if (absl::StatusOr<ProcessStats> process = ReadProcessStats(); process.ok()) {
    out += RenderProcessMetrics(*process);
  }
  return out;
}

}  // namespace market::server
