// market-credit: the verifiable credit ledger, credit profiles and lists
// alone. Tokens are verified with the identity service's public keys; subjects
// are looked up in market-identity and sellers' markets in market-listing
// through the same provider clients marketd uses, as a SERVICE account (see
// README, "Multi-process").
#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/binary.h"
#include "services/credit/credit_module.h"
#include "services/credit/ledger_http.h"
#include "services/identity/identity_client.h"
#include "services/listing/listing_client.h"
#include "services/stats/stats_client.h"
#include "services/webhook/webhook_events.h"
#include "services/webhook/webhook_module.h"

namespace {

namespace server = market::server;

int Serve(const server::BinaryOptions& flags, const market::Clock* clock, server::Metrics& metrics,
          const market::retention::RetentionOptions& retention,
          const market::webhook::DispatcherOptions& webhook_options) {
  auto identity = market::identity::ConnectIdentity(flags, clock);
  if (!identity.ok()) return server::FailStart(identity.status());
  const absl::Duration period = absl::Seconds(flags.scheduler_seconds);
  auto subjects = identity->subjects;
  auto listing = std::make_shared<market::listing::ListingClient>(
      server::PeerChannel(flags, "listing"), identity->token);
  auto credit = market::credit::OpenCreditModule(
      flags.data_dir, clock,
      market::credit::PeerDirectory(
          [subjects](const std::string& s) { return subjects->GetSubject(s); },
          [listing](const std::string& seller) { return listing->OperatorsOfSeller(seller); }),
      identity->verifier, identity->suspension, &metrics);
  if (!credit.ok()) return server::FailStart(credit.status());
  // The webhook service is hosted here, over its own webhook.db.
  auto webhook = market::webhook::OpenWebhookModule(
      flags.data_dir, clock, identity->verifier, identity->suspension, &metrics, webhook_options);
  if (!webhook.ok()) return server::FailStart(webhook.status());
  market::credit::CasePeers case_peers = market::credit::ListingCasePeers(
      [listing](const std::string& order) { return listing->GetOrder(order); },
      [listing](const std::string& market) { return listing->MarketRegion(market); });
  // A new case is announced to supervisors' webhooks ("case.opened").
  market::webhook::WebhookStore* webhook_store = webhook->store.get();
  case_peers.opened = [webhook_store, clock](const market::supervision::v1::Case& c) {
    return market::webhook::PublishCaseOpened(*webhook_store, c, clock->Now());
  };
  absl::Status cases =
      market::credit::OpenCaseService(*credit, flags.data_dir, clock, std::move(case_peers),
                                      identity->verifier, identity->suspension, &metrics);
  if (!cases.ok()) return server::FailStart(cases);

  // credit.db's outbox: figures to market-stats, list entries to the webhook
  // service hosted here (in-process PublishEvent, like case.opened).
  market::credit::OpenCreditRelay(
      *credit, clock,
      market::stats::FiguresDeliverer(server::PeerChannel(flags, "stats"), identity->token),
      market::webhook::LocalDeliverer([webhook_store, clock](const market::webhook::v1::Event& e) {
        return market::webhook::PublishEvent(*webhook_store, e, clock->Now()).status();
      }),
      [listing](const std::string& seller) { return listing->OperatorsOfSeller(seller); },
      &metrics);
  server::ServerRunner runner(flags.server, &metrics);
  runner.AddService(credit->credit.get(), "market.credit.v1.CreditService");
  runner.AddService(credit->ledger.get(), "market.credit.v1.LedgerService");
  runner.AddService(credit->cases.get(), "market.supervision.v1.CaseService");
  runner.AddService(webhook->service.get(), "market.webhook.v1.WebhookService");
  market::credit::AddLedgerHttpRoutes(runner, credit->store.get());
  return server::ServeUntilSignal(
      runner,
      [&] {
        credit->relay->Start();
        credit->credit->StartScheduler(period);
        credit->retention->Start(retention);
        webhook->dispatcher->Start();
        webhook->retention->Start(retention);
      },
      [&] {
        webhook->retention->Stop();
        webhook->dispatcher->Stop();
        credit->retention->Stop();
        credit->relay->Stop();
      });
}

}  // namespace

int main(int argc, char** argv) {
  market::retention::RetentionOptions retention;
  market::webhook::DispatcherOptions webhook_options;
  return market::server::RunSingleServiceBinary(
      argc, argv,
      {.description = "market-credit: the verifiable credit ledger, credit profiles and lists",
       .service = "credit",
       .data_help = "Folder for credit.db and the ledger key",
       .peers = {"identity", "listing", "stats"},
       .add_flags =
           [&](CLI::App& app) {
             market::retention::AddRetentionFlags(app, &retention);
             market::webhook::AddWebhookFlags(app, &webhook_options);
           }},
      [&](const market::server::BinaryOptions& flags, const market::Clock* clock,
          market::server::Metrics& metrics) {
        return Serve(flags, clock, metrics, retention, webhook_options);
      });
}
