// market-appraisal: accreditations, signing keys, signed appraisal reports,
// disputes and grading schemes alone. Tokens are verified with the identity
// service's public keys; subjects and listings are looked up, and outbox
// events delivered to market-listing and market-credit, through a SERVICE
// account (see README, "Multi-process").
#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/outbox/outbox.h"
#include "common/server/log.h"
#include "common/server/runner.h"
#include "common/status/grpc_status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/appraisal/appraisal_module.h"
#include "services/identity/identity_service.h"
#include "services/identity/remote_identity.h"
#include "services/listing/delivery.h"
#include "services/listing/listing_db.h"

namespace {

std::string Env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"market-appraisal: accreditations, firm-signed reports, disputes, grading schemes"};
  std::string data_dir = "./var";
  std::string identity_addr = Env("MARKET_IDENTITY_ADDR", "127.0.0.1:7400");
  std::string listing_addr = Env("MARKET_LISTING_ADDR", "127.0.0.1:7420");
  std::string credit_addr = Env("MARKET_CREDIT_ADDR", "127.0.0.1:7450");
  std::string credentials_file = Env("MARKET_SERVICE_CREDENTIALS", "");
  market::server::ServerOptions options;
  options.listen = "127.0.0.1:7430";
  options.http_listen = "127.0.0.1:7431";
  app.add_option("--data-dir", data_dir,
                 "Folder for appraisal.db; extra grading schemes in appraisal/schemes/*.json")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "gRPC HOST:PORT")->capture_default_str();
  app.add_option("--http-listen", options.http_listen, "/metrics and /healthz HOST:PORT")
      ->capture_default_str();
  app.add_option("--identity-addr", identity_addr,
                 "Identity service HOST:PORT ($MARKET_IDENTITY_ADDR)")
      ->capture_default_str();
  app.add_option("--listing-addr", listing_addr, "Listing service HOST:PORT ($MARKET_LISTING_ADDR)")
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
  market::appraisal::SubjectLookup lookup = [identity](const std::string& subject) {
    return identity->GetSubject(subject);
  };
  market::listing::ServiceTokenSource token = [identity] { return identity->Token(); };
  auto listing_channel = grpc::CreateChannel(listing_addr, grpc::InsecureChannelCredentials());
  auto listings = std::shared_ptr<market::listing::v1::ListingService::Stub>(
      market::listing::v1::ListingService::NewStub(listing_channel));
  auto orders = std::shared_ptr<market::listing::v1::OrderService::Stub>(
      market::listing::v1::OrderService::NewStub(listing_channel));
  // The listing's seller, then the buyers of its orders (SERVICE reads both).
  market::appraisal::ListingParties parties =
      [listings, orders, token](const std::string& name)
      -> absl::StatusOr<std::vector<std::string>> {
    auto bearer = token();
    if (!bearer.ok()) return bearer.status();
    auto context = [&] {
      auto ctx = std::make_unique<grpc::ClientContext>();
      ctx->AddMetadata("authorization", "Bearer " + *bearer);
      ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      return ctx;
    };
    market::listing::v1::GetListingRequest req;
    req.set_name(name);
    market::listing::v1::Listing l;
    absl::Status s = market::FromGrpcStatus(listings->GetListing(context().get(), req, &l));
    if (!s.ok()) return s;
    std::vector<std::string> parties = {l.seller()};
    market::listing::v1::ListOrdersRequest list;
    list.set_parent("markets/-");
    list.set_filter("listing=\"" + name + "\"");
    list.set_page_size(1000);
    do {
      market::listing::v1::ListOrdersResponse page;
      s = market::FromGrpcStatus(orders->ListOrders(context().get(), list, &page));
      if (!s.ok()) return s;
      for (const auto& o : page.orders()) {
        if (std::find(parties.begin(), parties.end(), o.buyer()) == parties.end()) {
          parties.push_back(o.buyer());
        }
      }
      list.set_page_token(page.next_page_token());
    } while (!list.page_token().empty());
    return parties;
  };
  const market::Clock* clock = market::RealClock();
  auto module = market::appraisal::OpenAppraisalModule(data_dir, clock, lookup, parties, verifier,
                                                       suspension, &metrics);
  if (!module.ok()) return fail(module.status());

  market::outbox::Relay relay(
      module->db, clock,
      {{market::listing::kCreditDestination,
        market::listing::CreditDeliverer(
            grpc::CreateChannel(credit_addr, grpc::InsecureChannelCredentials()), token)},
       {market::listing::kObservationDestination,
        market::listing::ObservationDeliverer(listing_channel, token)}});
  relay.ExportMetrics(&metrics, "appraisal");

  market::server::ServerRunner runner(options, &metrics);
  runner.AddService(module->service.get(), "market.appraisal.v1.AppraisalService");
  if (auto s = runner.Start(); !s.ok()) return fail(s);
  relay.Start();
  market::server::WaitForShutdownSignal();
  relay.Stop();
  runner.Shutdown();
  return 0;
}
