// market-listing: markets, listings, orders and the item registry alone.
// Tokens are verified with the identity service's public keys; subjects are
// looked up, and credit events delivered to market-credit, through a SERVICE
// account (see README, "Multi-process").
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/outbox/outbox.h"
#include "common/server/log.h"
#include "common/server/runner.h"
#include "nlohmann/json.hpp"
#include "services/identity/identity_service.h"
#include "services/identity/remote_identity.h"
#include "services/listing/delivery.h"
#include "services/listing/listing_db.h"
#include "services/listing/listing_service.h"
#include "services/listing/market_service.h"
#include "services/listing/sqlite_market_store.h"

namespace {

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"market-listing: markets, listings, photos, search, orders and item history"};
  std::string data_dir = "./var";
  std::string identity_addr = Env("MARKET_IDENTITY_ADDR", "127.0.0.1:7400");
  std::string credit_addr = Env("MARKET_CREDIT_ADDR", "127.0.0.1:7450");
  std::string credentials_file = Env("MARKET_SERVICE_CREDENTIALS", "");
  market::server::ServerOptions options;
  options.listen = "127.0.0.1:7420";
  options.http_listen = "127.0.0.1:7421";
  app.add_option("--data-dir", data_dir, "Folder for listing.db and photos")->capture_default_str();
  app.add_option("--listen", options.listen, "gRPC HOST:PORT")->capture_default_str();
  app.add_option("--http-listen", options.http_listen, "/metrics and /healthz HOST:PORT")
      ->capture_default_str();
  app.add_option("--identity-addr", identity_addr,
                 "Identity service HOST:PORT ($MARKET_IDENTITY_ADDR)")
      ->capture_default_str();
  app.add_option("--credit-addr", credit_addr, "Credit service HOST:PORT ($MARKET_CREDIT_ADDR)")
      ->capture_default_str();
  app.add_option("--service-credentials", credentials_file,
                 "JSON file {\"subject\", \"api_key\"} of this service's SERVICE account "
                 "($MARKET_SERVICE_CREDENTIALS)")
      ->required();
  CLI11_PARSE(app, argc, argv);
  market::server::BlockShutdownSignals();

  auto fail = [](const absl::Status& s) {
    market::server::LogJson("error", "start-up failed", {{"error", s.ToString()}});
    return 1;
  };
  auto connected = market::identity::ConnectIdentity(identity_addr, credentials_file);
  if (!connected.ok()) return fail(connected.status());
  auto [verifier, identity, suspension] = *connected;
  if (auto s = market::config::EnsureDir(data_dir); !s.ok()) return fail(s);
  if (auto s = market::config::EnsureDir(data_dir + "/listing"); !s.ok()) return fail(s);
  market::server::Metrics metrics;
  market::listing::SubjectLookup lookup = [identity](const std::string& subject) {
    return identity->GetSubject(subject);
  };
  auto secret = market::config::LoadOrCreateSecret(data_dir + "/listing/page-token-hmac.key", 32);
  if (!secret.ok()) return fail(secret.status());
  auto store = market::listing::SqliteMarketStore::Open(data_dir + "/listing.db");
  if (!store.ok()) return fail(store.status());
  const market::Clock* clock = market::RealClock();
  auto markets = market::listing::MarketServiceImpl::Create(store->get(), clock, lookup, *secret,
                                                            verifier, suspension, &metrics);
  if (!markets.ok()) return fail(markets.status());
  market::listing::ListingDeps deps{.db = &(*store)->db(),
                                    .clock = clock,
                                    .photo_dir = data_dir + "/listing/photos",
                                    .page_token_secret = *secret,
                                    .verifier = verifier,
                                    .suspension = suspension,
                                    .metrics = &metrics};
  auto listings = market::listing::ListingServiceImpl::Create(deps);
  if (!listings.ok()) return fail(listings.status());
  auto orders = market::listing::OrderServiceImpl::Create(deps);
  if (!orders.ok()) return fail(orders.status());
  auto items = market::listing::ItemServiceImpl::Create(deps);
  if (!items.ok()) return fail(items.status());

  market::listing::ServiceTokenSource token = [identity] { return identity->Token(); };
  market::outbox::Relay relay(
      &(*store)->db(), clock,
      {{market::listing::kCreditDestination,
        market::listing::CreditDeliverer(
            grpc::CreateChannel(credit_addr, grpc::InsecureChannelCredentials()), token)}});
  relay.ExportMetrics(&metrics, "listing");

  market::server::ServerRunner runner(options, &metrics);
  runner.AddService(markets->get(), "market.listing.v1.MarketService");
  runner.AddService(listings->get(), "market.listing.v1.ListingService");
  runner.AddService(orders->get(), "market.listing.v1.OrderService");
  runner.AddService(items->get(), "market.listing.v1.ItemService");
  if (auto s = runner.Start(); !s.ok()) return fail(s);
  relay.Start();
  (*orders)->StartScheduler(absl::Minutes(1));
  market::server::WaitForShutdownSignal();
  (*orders)->StopScheduler();
  relay.Stop();
  runner.Shutdown();
  return 0;
}
