#include "common/server/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace market::server {
namespace {

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Seconds since the epoch at boot: the "btime" line of /proc/stat.
absl::StatusOr<double> BootTime() {
  absl::StatusOr<std::string> stat = ReadWhole("/proc/stat");
  if (!stat.ok()) return stat.status();
  for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    double btime = 0;
    if (parts.size() == 2 && parts[0] == "btime" && absl::SimpleAtod(parts[1], &btime)) {
      return btime;
    }
  }
  return absl::UnavailableError("/proc/stat: no btime line");
}

prometheus::MetricFamily Family(const char* name, prometheus::MetricType type, const char* help,
                                double value) {
  prometheus::ClientMetric metric;
  (type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value) = value;
  return prometheus::MetricFamily{name, help, type, {metric}};
}

}  // namespace

absl::StatusOr<ProcessStats> ReadProcessStats() {
  absl::StatusOr<std::string> stat = ReadWhole("/proc/self/stat");
  if (!stat.ok()) return stat.status();
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so the
  // fields are counted from the last ')'; fields[0] is field 3 (state).
  auto close = stat->rfind(')');
  if (close == std::string::npos) return absl::UnavailableError("/proc/self/stat: no ')'");
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close + 1), ' ', absl::SkipEmpty());
  auto field = [&](size_t number, double* value) {  // 1-based, as in proc(5)
    return number - 3 < fields.size() && absl::SimpleAtod(fields[number - 3], value);
  };
  double utime = 0, stime = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  if (!field(14, &utime) || !field(15, &stime) || !field(22, &start_ticks) || !field(23, &vsize) ||
      !field(24, &rss_pages)) {
    return absl::UnavailableError("/proc/self/stat: unexpected format");
  }
  absl::StatusOr<double> boot = BootTime();
  if (!boot.ok()) return boot.status();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  ProcessStats s;
  s.cpu_seconds = (utime + stime) / ticks;
  s.resident_memory_bytes = rss_pages * static_cast<double>(sysconf(_SC_PAGESIZE));
  s.virtual_memory_bytes = vsize;
  s.start_time_seconds = *boot + start_ticks / ticks;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++s.open_fds;
  }
  if (ec) return absl::UnavailableError(absl::StrCat("/proc/self/fd: ", ec.message()));
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) s.max_fds = static_cast<double>(limit.rlim_cur);
  return s;
}

std::vector<prometheus::MetricFamily> ProcessMetricFamilies(const ProcessStats& s) {
  using prometheus::MetricType;
  return {
      Family("process_cpu_seconds_total", MetricType::Counter,
             "Total user and system CPU time spent in seconds.", s.cpu_seconds),
      Family("process_resident_memory_bytes", MetricType::Gauge, "Resident memory size in bytes.",
             s.resident_memory_bytes),
      Family("process_virtual_memory_bytes", MetricType::Gauge, "Virtual memory size in bytes.",
             s.virtual_memory_bytes),
      Family("process_start_time_seconds", MetricType::Gauge,
             "Start time of the process since unix epoch in seconds.", s.start_time_seconds),
      Family("process_open_fds", MetricType::Gauge, "Number of open file descriptors.", s.open_fds),
      Family("process_max_fds", MetricType::Gauge, "Maximum number of open file descriptors.",
             s.max_fds),
  };
}

}  // namespace market::server
