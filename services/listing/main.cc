// market-listing: markets, listings, photos, search, orders and item history
// alone. Tokens are verified with the identity service's public keys; subjects
// are looked up, and credit and stats events delivered to market-credit and
// market-stats, through the
// same provider clients marketd uses, as a SERVICE account (see README,
// "Multi-process").
#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/binary.h"
#include "services/credit/case_client.h"
#include "services/credit/credit_client.h"
#include "services/identity/identity_client.h"
#include "services/listing/listing_module.h"
#include "services/stats/stats_client.h"

namespace {

namespace server = market::server;

int Serve(const server::BinaryOptions& flags, const market::Clock* clock, server::Metrics& metrics,
          const market::retention::RetentionOptions& retention) {
  auto identity = market::identity::ConnectIdentity(flags, clock);
  if (!identity.ok()) return server::FailStart(identity.status());
  const absl::Duration period = absl::Seconds(flags.scheduler_seconds);
  auto subjects = identity->subjects;
  auto credit_channel = server::PeerChannel(flags, "credit");
  auto credit = std::make_shared<market::credit::CreditClient>(credit_channel, identity->token);
  auto module = market::listing::OpenListingModule(
      flags.data_dir, clock, [subjects](const std::string& s) { return subjects->GetSubject(s); },
      identity->verifier, identity->suspension, &metrics,
      [credit](const std::string& s) { return credit->Standing(s); },
      [credit](bool black) { return credit->ListEntries(black); },
      [credit](const std::vector<std::string>& s) { return credit->Standings(s); });
  if (!module.ok()) return server::FailStart(module.status());

  market::outbox::Relay relay(
      module->db, clock,
      {{market::credit::kCreditDestination,
        market::credit::CreditDeliverer(credit_channel, identity->token)},
       {market::credit::kCaseDestination,
        market::credit::CaseEventDeliverer(credit_channel, identity->token)},
       {market::stats::kStatsDestination,
        market::stats::StatsDeliverer(server::PeerChannel(flags, "stats"), identity->token)},
       {market::stats::kFiguresDestination,
        market::stats::FiguresDeliverer(server::PeerChannel(flags, "stats"), identity->token)}});
  relay.ExportMetrics(&metrics, "listing");
  server::ServerRunner runner(flags.server, &metrics);
  runner.AddService(module->markets.get(), "market.listing.v1.MarketService");
  runner.AddService(module->listings.get(), "market.listing.v1.ListingService");
  runner.AddService(module->orders.get(), "market.listing.v1.OrderService");
  runner.AddService(module->items.get(), "market.listing.v1.ItemService");
  market::listing::AddPhotoHttpRoutes(runner, module->listings.get());
  return server::ServeUntilSignal(
      runner,
      [&] {
        relay.Start();
        module->orders->StartScheduler(period);
        module->credit_lists->Start(period);
        module->retention->Start(retention);
      },
      [&] {
        module->retention->Stop();
        module->orders->StopScheduler();
        module->credit_lists->Stop();
        relay.Stop();
      });
}

}  // namespace

int main(int argc, char** argv) {
  market::retention::RetentionOptions retention;
  return market::server::RunSingleServiceBinary(
      argc, argv,
      {.description = "market-listing: markets, listings, photos, search, orders and item history",
       .service = "listing",
       .data_help = "Folder for listing.db and photos",
       .peers = {"identity", "credit", "stats"},
       .add_flags = [&](CLI::App& app) { market::retention::AddRetentionFlags(app, &retention); }},
      [&](const market::server::BinaryOptions& flags, const market::Clock* clock,
          market::server::Metrics& metrics) { return Serve(flags, clock, metrics, retention); });
}
