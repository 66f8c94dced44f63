// market-warranty: after-sales claims alone. Tokens are verified with the
// identity service's public keys; subjects are looked up, orders read from
// market-listing and credit events delivered to market-credit through a
// SERVICE account (see README, "Multi-process").
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/outbox/outbox.h"
#include "common/server/log.h"
#include "common/server/runner.h"
#include "common/status/grpc_status.h"
#include "grpcpp/create_channel.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/identity/identity_service.h"
#include "services/identity/remote_identity.h"
#include "services/listing/delivery.h"
#include "services/listing/listing_db.h"
#include "services/warranty/warranty_module.h"

namespace {

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? v : fallback;
}

// Reads orders (and their market's operator) from market-listing as the
// SERVICE account. NOT_FOUND becomes std::nullopt; any other failure is the
// listing service's, reported as UNAVAILABLE so it never reads as the
// client's fault.
market::warranty::OrderLookup RemoteOrders(std::shared_ptr<grpc::Channel> channel,
                                           market::listing::ServiceTokenSource token) {
  auto orders = std::shared_ptr<market::listing::v1::OrderService::Stub>(
      market::listing::v1::OrderService::NewStub(channel));
  auto markets = std::shared_ptr<market::listing::v1::MarketService::Stub>(
      market::listing::v1::MarketService::NewStub(channel));
  return [orders, markets, token](const std::string& name)
             -> absl::StatusOr<std::optional<market::warranty::OrderInfo>> {
    absl::StatusOr<std::string> bearer = token();
    if (!bearer.ok()) {
      return absl::UnavailableError(absl::StrCat("listing service login: ", bearer.status().message()));
    }
    auto call = [&](auto&& rpc) {
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + *bearer);
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      return rpc(&ctx);
    };
    market::warranty::OrderInfo info;
    market::listing::v1::GetOrderRequest get;
    get.set_name(name);
    grpc::Status s = call([&](grpc::ClientContext* ctx) {
      return orders->GetOrder(ctx, get, &info.order);
    });
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) return std::nullopt;
    if (!s.ok()) {
      return absl::UnavailableError(absl::StrCat("listing service GetOrder: ", s.error_message()));
    }
    market::listing::v1::GetMarketRequest get_market;
    get_market.set_name(name.substr(0, name.find("/orders/")));
    market::listing::v1::Market m;
    s = call([&](grpc::ClientContext* ctx) { return markets->GetMarket(ctx, get_market, &m); });
    if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) {
      return absl::UnavailableError(absl::StrCat("listing service GetMarket: ", s.error_message()));
    }
    info.market_operator = m.operator_();
    return info;
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"market-warranty: three-guarantees claims, repairs, escalations and deadlines"};
  std::string data_dir = "./var";
  std::string identity_addr = Env("MARKET_IDENTITY_ADDR", "127.0.0.1:7400");
  std::string listing_addr = Env("MARKET_LISTING_ADDR", "127.0.0.1:7420");
  std::string credit_addr = Env("MARKET_CREDIT_ADDR", "127.0.0.1:7450");
  std::string credentials_file = Env("MARKET_SERVICE_CREDENTIALS", "");
  market::server::ServerOptions options;
  options.listen = "127.0.0.1:7440";
  options.http_listen = "127.0.0.1:7441";
  app.add_option("--data-dir", data_dir, "Folder for warranty.db and its secrets")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "gRPC HOST:PORT")->capture_default_str();
  app.add_option("--http-listen", options.http_listen, "/metrics and /healthz HOST:PORT")
      ->capture_default_str();
  app.add_option("--identity-addr", identity_addr,
                 "Identity service HOST:PORT ($MARKET_IDENTITY_ADDR)")
      ->capture_default_str();
  app.add_option("--listing-addr", listing_addr,
                 "Listing service HOST:PORT, for orders ($MARKET_LISTING_ADDR)")
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
  market::server::Metrics metrics;
  market::listing::ServiceTokenSource token = [identity] { return identity->Token(); };
  const market::Clock* clock = market::RealClock();
  auto warranty = market::warranty::OpenWarrantyModule(
      data_dir, clock,
      RemoteOrders(grpc::CreateChannel(listing_addr, grpc::InsecureChannelCredentials()), token),
      verifier, suspension, &metrics);
  if (!warranty.ok()) return fail(warranty.status());

  market::outbox::Relay relay(
      warranty->db, clock,
      {{market::listing::kCreditDestination,
        market::listing::CreditDeliverer(
            grpc::CreateChannel(credit_addr, grpc::InsecureChannelCredentials()), token)}});
  relay.ExportMetrics(&metrics, "warranty");

  market::server::ServerRunner runner(options, &metrics);
  runner.AddService(warranty->service.get(), "market.warranty.v1.WarrantyService");
  if (auto s = runner.Start(); !s.ok()) return fail(s);
  relay.Start();
  warranty->service->StartScheduler(absl::Minutes(1));
  market::server::WaitForShutdownSignal();
  warranty->service->StopScheduler();
  relay.Stop();
  runner.Shutdown();
  return 0;
}
