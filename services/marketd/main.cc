// marketd: every service in one process, each with its own SQLite file under
// --data-dir. The embedded default: one command starts a working system.
#include "CLI/CLI.hpp"
#include "common/retention/retention.h"
#include "common/server/binary.h"
#include "services/marketd/marketd.h"
#include "services/webhook/webhook_module.h"

int main(int argc, char** argv) {
  namespace server = market::server;
  CLI::App app{"marketd: the second-hand market services in one process"};
  market::marketd::MarketdOptions options;
  server::BinaryOptions flags;
  server::AddVersionFlag(app, "marketd");
  app.add_option("--data-dir", options.data_dir, "Folder for the services' SQLite files")
      ->capture_default_str();
  app.add_option("--listen", options.server.listen, "gRPC HOST:PORT (port 0 picks one)")
      ->capture_default_str();
  app.add_option("--http-listen", options.server.http_listen,
                 "HTTP HOST:PORT serving /metrics, /healthz, the HTTP/JSON API, the web console "
                 "(/), /photos/..., /verify and the ledger's /checkpoint and /tile/...")
      ->capture_default_str();
  app.add_option("--public-base-url", options.public_base_url,
                 "Public base URL of the HTTP port; certificates' QR codes point to {it}/verify")
      ->envname(market::appraisal::kPublicBaseUrlEnv)
      ->capture_default_str();
  server::AddClockFlags(app, &flags);
  server::AddTlsFlags(app, &options.server.tls, /*with_peers=*/false);
  market::retention::AddRetentionFlags(app, &options.retention);
  market::webhook::AddWebhookFlags(app, &options.webhook);
  CLI11_PARSE(app, argc, argv);
  server::BlockShutdownSignals();

  options.expiry_period = options.order_completion_period = options.claim_deadline_period =
      options.credit_lists_period = absl::Seconds(flags.scheduler_seconds);
  auto marketd = market::marketd::Marketd::Start(options, server::BinaryClock(flags));
  if (!marketd.ok()) return server::FailStart(marketd.status());
  server::WaitForShutdownSignal();
  (*marketd)->Shutdown();
  return 0;
}
