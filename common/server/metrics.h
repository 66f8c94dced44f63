// Prometheus metrics in the text exposition format (version 0.0.4): per-RPC
// request counters by status code, per-RPC latency histograms, and gauges read
// from callbacks at scrape time. Thread-safe.
//
// Debian 12 packages no prometheus-cpp, so this small registry writes the text
// format itself; it covers counters, histograms and gauges, nothing more.
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
  // Registers one series of the gauge family `name`, identified by `labels`
  // (name → value, e.g. {{"service", "listing"}}), evaluated at every scrape.
  // Series of one family share its HELP and TYPE lines (the first `help`
  // given); registering the same name and labels again replaces the series.
  void AddGauge(const std::string& name, const std::string& help,
                const std::map<std::string, std::string>& labels, std::function<double()> fn)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The whole registry in Prometheus text format.
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
  struct GaugeFamily {
    std::string help;
    std::map<std::string, std::function<double()>> series;  // rendered labels → value
  };
  std::map<std::string, GaugeFamily> labelled_gauges_ ABSL_GUARDED_BY(mu_);
};

// Escapes a label value for the text format.
std::string EscapeLabel(const std::string& value);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_METRICS_H_
