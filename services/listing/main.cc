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

int main(int argc, char** argv) {
  namespace server = market::server;
  CLI::App app{"market-listing: markets, listings, photos, search, orders and item history"};
  server::BinaryOptions flags;
  server::AddBinaryFlags(app, "listing", "Folder for listing.db and photos",
                         {"identity", "credit", "stats"}, &flags);
  market::retention::RetentionOptions retention;
  market::retention::AddRetentionFlags(app, &retention);
  CLI11_PARSE(app, argc, argv);
  server::BlockShutdownSignals();

  auto clock = server::PrepareBinary(flags);
  if (!clock.ok()) return server::FailStart(clock.status());
  auto identity = market::identity::ConnectIdentity(flags, *clock);
  if (!identity.ok()) return server::FailStart(identity.status());
  const absl::Duration period = absl::Seconds(flags.scheduler_seconds);
  server::Metrics metrics;
  auto subjects = identity->subjects;
  auto credit_channel = server::PeerChannel(flags, "credit");
  auto credit =
      std::make_shared<market::credit::CreditClient>(credit_channel, identity->token);
  auto module = market::listing::OpenListingModule(
      flags.data_dir, *clock, [subjects](const std::string& s) { return subjects->GetSubject(s); },
      identity->verifier, identity->suspension, &metrics,
      [credit](const std::string& s) { return credit->Standing(s); },
      [credit](bool black) { return credit->ListEntries(black); });
  if (!module.ok()) return server::FailStart(module.status());

  market::outbox::Relay relay(
      module->db, *clock,
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
