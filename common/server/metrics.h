// Prometheus metrics on prometheus-cpp (Debian's prometheus-cpp-dev 1.0.1,
// core only; /metrics is served by ServerRunner): per-RPC request counters by
// status code, per-RPC latency histograms, gauges read from callbacks at
// scrape time, constant info gauges (market_build_info) and the standard
// process_* metrics. Every metric of the project is named market_*; only
// process_* is not. Thread-safe.
#ifndef MARKET_COMMON_SERVER_METRICS_H_
#define MARKET_COMMON_SERVER_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace market::server {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Counts one finished RPC (`method` is "/pkg.Service/Method", `code` the gRPC
  // code name such as "OK") and observes its latency.
  void RecordRpc(const std::string& method, const std::string& code, absl::Duration latency);
  // Registers a gauge evaluated at every scrape; `name` must be a valid metric
  // name. Registering `name` again replaces it.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> fn);
  // Registers one series of the gauge family `name`, identified by `labels`
  // (name → value, e.g. {{"service", "listing"}}), evaluated at every scrape.
  // Series of one family share its HELP and TYPE lines (the first `help`
  // given); registering the same name and labels again replaces the series.
  void AddGauge(const std::string& name, const std::string& help,
                const std::map<std::string, std::string>& labels, std::function<double()> fn);
  // Registers a gauge of constant value 1 whose labels carry the information
  // (`labels` in this order), e.g. market_build_info. Registering `name` again
  // replaces it.
  void AddInfo(const std::string& name, const std::string& help,
               std::vector<std::pair<std::string, std::string>> labels);
  // Everything in the Prometheus text format (0.0.4), the process_* metrics
  // last (left out where /proc cannot be read).
  std::string Render() const;

 private:
  class Callbacks;  // the prometheus::Collectable of gauges, infos and process_*
  class Series;     // the label children of RecordRpc, looked up once
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* latency_;
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<Series> series_;
};

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_METRICS_H_
