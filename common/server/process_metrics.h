// The standard Prometheus process metrics (process_cpu_seconds_total,
// process_resident_memory_bytes, …) of the calling process, read from
// /proc/self at each call. Thread-safe.
#ifndef MARKET_COMMON_SERVER_PROCESS_METRICS_H_
#define MARKET_COMMON_SERVER_PROCESS_METRICS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/metric_family.h"

namespace market::server {

struct ProcessStats {
  double cpu_seconds = 0;  // user + system
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
  double open_fds = 0;
  double max_fds = 0;  // the soft RLIMIT_NOFILE
};

// Reads /proc/self/stat, /proc/stat (boot time), /proc/self/fd and the fd
// limit. UNAVAILABLE where /proc cannot be read (not Linux, no procfs).
absl::StatusOr<ProcessStats> ReadProcessStats();

// `stats` as the six process_* metric families (process_cpu_seconds_total a
// counter, the others gauges).
std::vector<prometheus::MetricFamily> ProcessMetricFamilies(const ProcessStats& stats);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_PROCESS_METRICS_H_
