// Prometheus metrics in the text exposition format (version 0.0.4): per-RPC
// request counters by status code, per-RPC latency histograms, gauges read
// from callbacks at scrape time, constant info gauges (market_build_info) and
// the standard process_* metrics. Thread-safe.
//
// A small hand-written registry: it covers what the services export and no
// more, with no dependency beyond abseil. (Debian 12 does package
// prometheus-cpp 1.0.1, prometheus-cpp-dev; moving to it is an option.)
// Every metric of the project is named market_*; only process_* is not.
#ifndef MARKET_COMMON_SERVER_METRICS_H_
#define MARKET_COMMON_SERVER_METRICS_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace market::server {

class Metrics {
 public:
  Metrics();
  // Counts one finished RPC (`method` is "/pkg.Service/Method", `code` the gRPC
  // code name such as "OK") and observes its latency.
  void RecordRpc(const std::string& method, const std::string& code, absl::Duration latency)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Registers a gauge evaluated at every scrape; `name` must be a valid metric name.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> fn)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Registers a gauge of constant value 1 whose labels carry the information
  // (`labels` in order, values escaped on render), e.g. market_build_info.
  // Registering `name` again replaces it.
  void AddInfo(const std::string& name, const std::string& help,
               std::vector<std::pair<std::string, std::string>> labels) ABSL_LOCKS_EXCLUDED(mu_);
  // The whole registry in Prometheus text format, then the process_* metrics
  // (left out where /proc cannot be read).
  std::string Render() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative counts are computed on render
    uint64_t count = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string help;
    std::function<double()> fn;
  };
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Gauge> gauges_ ABSL_GUARDED_BY(mu_);
  struct Info {
    std::string help;
    std::vector<std::pair<std::string, std::string>> labels;
  };
  std::map<std::string, Info> infos_ ABSL_GUARDED_BY(mu_);
};

// Escapes a label value for the text format.
std::string EscapeLabel(const std::string& value);

// A sample value in the text format: the shortest text that reads back as
// `value` ("0.0005", "1796640000.25", "7"), or NaN, +Inf, -Inf.
std::string FormatMetricValue(double value);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_METRICS_H_
