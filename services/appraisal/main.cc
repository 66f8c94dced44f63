// market-appraisal: accreditations, signing keys, signed appraisal reports,
// disputes and grading schemes alone. Tokens are verified with the identity
// service's public keys; subjects and listings are looked up, and outbox
// events delivered to market-listing and market-credit, through the same
// provider clients marketd uses, as a SERVICE account (see README,
// "Multi-process").
#include "CLI/CLI.hpp"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/binary.h"
#include "services/appraisal/appraisal_module.h"
#include "services/appraisal/verify_http.h"
#include "services/credit/case_client.h"
#include "services/credit/credit_client.h"
#include "services/identity/identity_client.h"
#include "services/listing/listing_client.h"
#include "services/stats/stats_client.h"
#include "services/webhook/webhook_events.h"

namespace {

namespace server = market::server;

int Serve(const server::BinaryOptions& flags, const market::Clock* clock, server::Metrics& metrics,
          const market::retention::RetentionOptions& retention,
          const std::string& public_base_url) {
  auto identity = market::identity::ConnectIdentity(flags, clock);
  if (!identity.ok()) return server::FailStart(identity.status());
  auto subjects = identity->subjects;
  auto listing_channel = server::PeerChannel(flags, "listing");
  auto listing = std::make_shared<market::listing::ListingClient>(listing_channel, identity->token);
  auto credit_channel = server::PeerChannel(flags, "credit");
  auto credit = std::make_shared<market::credit::CreditClient>(credit_channel, identity->token);
  auto module = market::appraisal::OpenAppraisalModule(
      flags.data_dir, clock, [subjects](const std::string& s) { return subjects->GetSubject(s); },
      [listing](const std::string& l) { return listing->PartiesOfListing(l); }, identity->verifier,
      identity->suspension, &metrics, public_base_url,
      [credit](const std::string& s) { return credit->Standing(s); });
  if (!module.ok()) return server::FailStart(module.status());

  market::outbox::Relay relay(
      module->db, clock,
      {{market::credit::kCreditDestination,
        market::credit::CreditDeliverer(credit_channel, identity->token)},
       {market::credit::kCaseDestination,
        market::credit::CaseEventDeliverer(credit_channel, identity->token)},
       {market::listing::kObservationDestination,
        market::listing::ObservationDeliverer(listing_channel, identity->token)},
       {market::stats::kFiguresDestination,
        market::stats::FiguresDeliverer(server::PeerChannel(flags, "stats"), identity->token)},
       // The webhook service is hosted by the credit process.
       {market::webhook::kWebhookDestination,
        market::webhook::WebhookDeliverer(server::PeerChannel(flags, "credit"), identity->token)}});
  relay.ExportMetrics(&metrics, "appraisal");
  server::ServerRunner runner(flags.server, &metrics);
  runner.AddService(module->service.get(), "market.appraisal.v1.AppraisalService");
  market::appraisal::AddVerifyHttpRoute(runner, [&runner] { return runner.InProcessChannel(); });
  return server::ServeUntilSignal(
      runner,
      [&] {
        relay.Start();
        module->retention->Start(retention);
      },
      [&] {
        module->retention->Stop();
        relay.Stop();
      });
}

}  // namespace

int main(int argc, char** argv) {
  std::string public_base_url = market::appraisal::kDefaultPublicBaseUrl;
  market::retention::RetentionOptions retention;
  return market::server::RunSingleServiceBinary(
      argc, argv,
      {.description =
           "market-appraisal: accreditations, firm-signed reports, disputes, grading schemes",
       .service = "appraisal",
       .data_help = "Folder for appraisal.db; extra grading schemes in appraisal/schemes/*.json",
       .peers = {"identity", "listing", "credit", "stats"},
       .add_flags =
           [&](CLI::App& app) {
             app.add_option("--public-base-url", public_base_url,
                            "Public base URL of the HTTP port; certificates' QR codes point to "
                            "{it}/verify")
                 ->envname(market::appraisal::kPublicBaseUrlEnv)
                 ->capture_default_str();
             market::retention::AddRetentionFlags(app, &retention);
           }},
      [&](const market::server::BinaryOptions& flags, const market::Clock* clock,
          market::server::Metrics& metrics) {
        return Serve(flags, clock, metrics, retention, public_base_url);
      });
}
