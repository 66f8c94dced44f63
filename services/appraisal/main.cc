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
#include "services/credit/credit_client.h"
#include "services/identity/identity_client.h"
#include "services/listing/listing_client.h"

int main(int argc, char** argv) {
  namespace server = market::server;
  CLI::App app{"market-appraisal: accreditations, firm-signed reports, disputes, grading schemes"};
  server::BinaryOptions flags;
  server::AddBinaryFlags(
      app, "appraisal",
      "Folder for appraisal.db; extra grading schemes in appraisal/schemes/*.json",
      {"identity", "listing", "credit"}, &flags);
  market::retention::RetentionOptions retention;
  market::retention::AddRetentionFlags(app, &retention);
  CLI11_PARSE(app, argc, argv);
  server::BlockShutdownSignals();

  auto clock = server::PrepareBinary(flags);
  if (!clock.ok()) return server::FailStart(clock.status());
  auto identity = market::identity::ConnectIdentity(flags, *clock);
  if (!identity.ok()) return server::FailStart(identity.status());
  server::Metrics metrics;
  auto subjects = identity->subjects;
  auto listing_channel = server::PeerChannel(flags, "listing");
  auto listing = std::make_shared<market::listing::ListingClient>(listing_channel, identity->token);
  auto credit_channel = server::PeerChannel(flags, "credit");
  auto credit = std::make_shared<market::credit::CreditClient>(credit_channel, identity->token);
  auto module = market::appraisal::OpenAppraisalModule(
      flags.data_dir, *clock, [subjects](const std::string& s) { return subjects->GetSubject(s); },
      [listing](const std::string& l) { return listing->PartiesOfListing(l); }, identity->verifier,
      identity->suspension, &metrics, [credit](const std::string& s) { return credit->Standing(s); });
  if (!module.ok()) return server::FailStart(module.status());

  market::outbox::Relay relay(
      module->db, *clock,
      {{market::credit::kCreditDestination,
        market::credit::CreditDeliverer(credit_channel, identity->token)},
       {market::listing::kObservationDestination,
        market::listing::ObservationDeliverer(listing_channel, identity->token)}});
  relay.ExportMetrics(&metrics, "appraisal");
  server::ServerRunner runner(flags.server, &metrics);
  runner.AddService(module->service.get(), "market.appraisal.v1.AppraisalService");
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
