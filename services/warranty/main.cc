// market-warranty: three-guarantees claims, repairs, escalations and
// deadlines alone. Tokens are verified with the identity service's public
// keys; orders are read from market-listing, and credit events delivered to
// market-credit, through the same provider clients marketd uses, as a
// SERVICE account (see README, "Multi-process").
#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/binary.h"
#include "services/credit/case_client.h"
#include "services/credit/credit_client.h"
#include "services/identity/identity_client.h"
#include "services/listing/listing_client.h"
#include "services/stats/stats_client.h"
#include "services/warranty/warranty_module.h"
#include "services/webhook/webhook_events.h"

namespace {

namespace server = market::server;

int Serve(const server::BinaryOptions& flags, const market::Clock* clock, server::Metrics& metrics,
          const market::retention::RetentionOptions& retention) {
  auto identity = market::identity::ConnectIdentity(flags, clock);
  if (!identity.ok()) return server::FailStart(identity.status());
  const absl::Duration period = absl::Seconds(flags.scheduler_seconds);
  auto listing = std::make_shared<market::listing::ListingClient>(
      server::PeerChannel(flags, "listing"), identity->token);
  auto warranty = market::warranty::OpenWarrantyModule(
      flags.data_dir, clock, [listing](const std::string& o) { return listing->GetOrder(o); },
      identity->verifier, identity->suspension, &metrics);
  if (!warranty.ok()) return server::FailStart(warranty.status());

  market::outbox::Relay relay(
      warranty->db, clock,
      {{market::credit::kCreditDestination,
        market::credit::CreditDeliverer(server::PeerChannel(flags, "credit"), identity->token)},
       {market::stats::kFiguresDestination,
        market::stats::FiguresDeliverer(server::PeerChannel(flags, "stats"), identity->token)},
       {market::credit::kCaseDestination,
        market::credit::CaseEventDeliverer(server::PeerChannel(flags, "credit"), identity->token)},
       // The webhook service is hosted by the credit process.
       {market::webhook::kWebhookDestination,
        market::webhook::WebhookDeliverer(server::PeerChannel(flags, "credit"), identity->token)}});
  relay.ExportMetrics(&metrics, "warranty");
  server::ServerRunner runner(flags.server, &metrics);
  runner.AddService(warranty->service.get(), "market.warranty.v1.WarrantyService");
  return server::ServeUntilSignal(
      runner,
      [&] {
        relay.Start();
        warranty->service->StartScheduler(period);
        warranty->retention->Start(retention);
      },
      [&] {
        warranty->retention->Stop();
        warranty->service->StopScheduler();
        relay.Stop();
      });
}

}  // namespace

int main(int argc, char** argv) {
  market::retention::RetentionOptions retention;
  return market::server::RunSingleServiceBinary(
      argc, argv,
      {.description =
           "market-warranty: three-guarantees claims, repairs, escalations and deadlines",
       .service = "warranty",
       .data_help = "Folder for warranty.db and its secrets",
       .peers = {"identity", "listing", "credit", "stats"},
       .add_flags = [&](CLI::App& app) { market::retention::AddRetentionFlags(app, &retention); }},
      [&](const market::server::BinaryOptions& flags, const market::Clock* clock,
          market::server::Metrics& metrics) { return Serve(flags, clock, metrics, retention); });
}
