// marketd: every service in one process, each with its own SQLite file under
// --data-dir. The embedded default: one command starts a working system.
#include <iostream>

#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/server/log.h"
#include "common/server/runner.h"
#include "services/marketd/marketd.h"

int main(int argc, char** argv) {
  CLI::App app{"marketd: the second-hand market services in one process"};
  market::marketd::MarketdOptions options;
  app.add_option("--data-dir", options.data_dir, "Folder for the services' SQLite files")
      ->capture_default_str();
  app.add_option("--listen", options.server.listen, "gRPC HOST:PORT (port 0 picks one)")
      ->capture_default_str();
  app.add_option("--http-listen", options.server.http_listen,
                 "HOST:PORT serving /metrics and /healthz")
      ->capture_default_str();
  double scheduler_seconds = 60;
  app.add_option("--scheduler-period", scheduler_seconds,
                 "Seconds between runs of the schedulers (credit expiry, order completion, "
                 "claim deadlines)")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  std::string clock_offset_file;
  app.add_option("--clock-offset-file", clock_offset_file,
                 "Testing and demonstrations only: a file holding seconds added to the real "
                 "time, re-read on every use (walks deadlines and display periods forward)");
  CLI11_PARSE(app, argc, argv);
  market::server::BlockShutdownSignals();

  std::unique_ptr<market::OffsetFileClock> offset_clock;
  const market::Clock* clock = market::RealClock();
  if (!clock_offset_file.empty()) {
    offset_clock = std::make_unique<market::OffsetFileClock>(clock_offset_file);
    clock = offset_clock.get();
    market::server::LogJson("warn", "clock shifted by --clock-offset-file (testing only)",
                            {{"file", clock_offset_file}});
  }
  options.expiry_period = options.order_completion_period = options.claim_deadline_period =
      absl::Seconds(scheduler_seconds);
  auto marketd = market::marketd::Marketd::Start(options, clock);
  if (!marketd.ok()) {
    market::server::LogJson("error", "start-up failed", {{"error", marketd.status().ToString()}});
    return 1;
  }
  if (!(*marketd)->bootstrap_file().empty()) {
    std::cout << "bootstrap supervisor credentials: " << (*marketd)->bootstrap_file()
              << std::endl;
  }
  market::server::WaitForShutdownSignal();
  (*marketd)->Shutdown();
  return 0;
}
