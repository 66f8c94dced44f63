#include "common/server/metrics.h"

#include "absl/strings/str_cat.h"

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

void Metrics::AddGauge(const std::string& name, const std::string& help,
                       const std::map<std::string, std::string>& labels,
                       std::function<double()> fn) {
  std::string rendered;
  for (const auto& [label, value] : labels) {
    absl::StrAppend(&rendered, rendered.empty() ? "" : ",", label, "=\"", EscapeLabel(value),
                    "\"");
  }
  absl::MutexLock lock(&mu_);
  GaugeFamily& family = labelled_gauges_[name];
  if (family.help.empty()) family.help = help;
  family.series[rendered] = std::move(fn);
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
      absl::StrAppend(&out, "market_rpc_latency_seconds_bucket{", label, ",le=\"", bounds_[i],
                      "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "market_rpc_latency_seconds_bucket{", label, ",le=\"+Inf\"} ", h.count,
                    "\n", "market_rpc_latency_seconds_sum{", label, "} ", h.sum, "\n",
                    "market_rpc_latency_seconds_count{", label, "} ", h.count, "\n");
  }
  for (const auto& [name, g] : gauges_) {
    absl::StrAppend(&out, "# HELP ", name, " ", g.help, "\n# TYPE ", name, " gauge\n", name, " ",
                    g.fn(), "\n");
  }
  for (const auto& [name, family] : labelled_gauges_) {
    absl::StrAppend(&out, "# HELP ", name, " ", family.help, "\n# TYPE ", name, " gauge\n");
    for (const auto& [labels, fn] : family.series) {
      absl::StrAppend(&out, name, "{", labels, "} ", fn(), "\n");
    }
  }
  return out;
}

}  // namespace market::server
