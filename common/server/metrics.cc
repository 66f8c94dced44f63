#include "common/server/metrics.h"

#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/server/process_metrics.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace market::server {
namespace {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* bounds = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *bounds;
}

}  // namespace

// What is read at scrape time rather than recorded: callback gauges, info
// gauges and the process metrics.
class Metrics::Callbacks final : public prometheus::Collectable {
 public:
  void AddGauge(const std::string& name, const std::string& help,
                const std::map<std::string, std::string>& labels, std::function<double()> fn)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    Gauge& family = gauges_[name];
    if (family.help.empty()) family.help = help;
    family.series[labels] = std::move(fn);
  }

  void AddInfo(const std::string& name, const std::string& help,
               std::vector<std::pair<std::string, std::string>> labels) ABSL_LOCKS_EXCLUDED(mu_) {
    prometheus::ClientMetric metric;
    for (auto& [key, value] : labels) metric.label.push_back({key, value});
    metric.gauge.value = 1;
    absl::MutexLock lock(&mu_);
    infos_[name] = prometheus::MetricFamily{name, help, prometheus::MetricType::Gauge, {metric}};
  }

  std::vector<prometheus::MetricFamily> Collect() const override ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<prometheus::MetricFamily> families;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [name, g] : gauges_) {
        prometheus::MetricFamily family{name, g.help, prometheus::MetricType::Gauge, {}};
        for (const auto& [labels, fn] : g.series) {
          prometheus::ClientMetric metric;
          for (const auto& [key, value] : labels) metric.label.push_back({key, value});
          metric.gauge.value = fn();
          family.metric.push_back(std::move(metric));
        }
        families.push_back(std::move(family));
      }
      for (const auto& [name, info] : infos_) families.push_back(info);
    }
    if (absl::StatusOr<ProcessStats> process = ReadProcessStats(); process.ok()) {
      for (auto& family : ProcessMetricFamilies(*process)) families.push_back(std::move(family));
    }
    return families;
  }

 private:
  struct Gauge {  // a family: its series by labels ({} for an unlabelled gauge)
    std::string help;
    std::map<std::map<std::string, std::string>, std::function<double()>> series;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Gauge> gauges_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::MetricFamily> infos_ ABSL_GUARDED_BY(mu_);
};

// prometheus::Family::Add hashes the labels and takes the family's mutex on
// every call; the children it returns live as long as the family, so each
// method's histogram and each (method, code) counter is looked up once and
// then found under a reader lock, by string_view (no key built per call).
class Metrics::Series {
 public:
  struct Children {
    prometheus::Counter* requests;
    prometheus::Histogram* latency;
  };
  Children Get(Metrics& metrics, const std::string& method, const std::string& code)
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = methods_.find(method);
      if (it != methods_.end()) {
        auto counter = it->second.requests.find(code);
        if (counter != it->second.requests.end()) {
          return Children{counter->second, it->second.latency};
        }
      }
    }
    prometheus::Counter* requests = &metrics.requests_->Add({{"method", method}, {"code", code}});
    absl::MutexLock lock(&mu_);
    PerMethod& per_method = methods_[method];
    if (per_method.latency == nullptr) {
      per_method.latency = &metrics.latency_->Add({{"method", method}}, LatencyBuckets());
    }
    per_method.requests.emplace(code, requests);
    return Children{requests, per_method.latency};
  }

 private:
  struct PerMethod {
    prometheus::Histogram* latency = nullptr;
    absl::flat_hash_map<std::string, prometheus::Counter*> requests;  // by code
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, PerMethod> methods_ ABSL_GUARDED_BY(mu_);
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(&prometheus::BuildCounter()
                     .Name("market_rpc_requests_total")
                     .Help("Finished RPCs by method and code.")
                     .Register(*registry_)),
      latency_(&prometheus::BuildHistogram()
                    .Name("market_rpc_latency_seconds")
                    .Help("RPC handling latency.")
                    .Register(*registry_)),
      callbacks_(std::make_unique<Callbacks>()),
      series_(std::make_unique<Series>()) {}

Metrics::~Metrics() = default;

void Metrics::RecordRpc(const std::string& method, const std::string& code,
                        absl::Duration latency) {
  Series::Children children = series_->Get(*this, method, code);
  children.requests->Increment();
  children.latency->Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::AddGauge(const std::string& name, const std::string& help,
                       std::function<double()> fn) {
  callbacks_->AddGauge(name, help, {}, std::move(fn));
}

void Metrics::AddGauge(const std::string& name, const std::string& help,
                       const std::map<std::string, std::string>& labels,
                       std::function<double()> fn) {
  callbacks_->AddGauge(name, help, labels, std::move(fn));
}

void Metrics::AddInfo(const std::string& name, const std::string& help,
                      std::vector<std::pair<std::string, std::string>> labels) {
  callbacks_->AddInfo(name, help, std::move(labels));
}

std::string Metrics::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (auto& family : callbacks_->Collect()) families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace market::server
