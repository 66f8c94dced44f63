// market-stats: the statistics ledger (统计台账) alone. Tokens are verified
// with the identity service's public keys; market-listing's outbox relay
// delivers trade events to it as a SERVICE account (see README, "Statistics").
#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/server/binary.h"
#include "services/identity/identity_client.h"
#include "services/stats/stats_module.h"

namespace {

namespace server = market::server;

int Serve(const server::BinaryOptions& flags, const market::Clock* clock,
          server::Metrics& metrics) {
  auto identity = market::identity::ConnectIdentity(flags, clock);
  if (!identity.ok()) return server::FailStart(identity.status());
  auto stats = market::stats::OpenStatsModule(flags.data_dir, clock, identity->verifier,
                                              identity->suspension, &metrics);
  if (!stats.ok()) return server::FailStart(stats.status());

  server::ServerRunner runner(flags.server, &metrics);
  runner.AddService(stats->service.get(), "market.stats.v1.StatisticsService");
  market::stats::AddStatsExportRoute(runner, [&runner] { return runner.InProcessChannel(); });
  return server::ServeUntilSignal(runner);
}

}  // namespace

int main(int argc, char** argv) {
  return market::server::RunSingleServiceBinary(
      argc, argv,
      {.description = "market-stats: the statistics ledger (trade figures by period)",
       .service = "stats",
       .data_help = "Folder for stats.db",
       .peers = {"identity"}},
      Serve);
}
