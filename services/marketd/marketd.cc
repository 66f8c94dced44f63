#include "services/marketd/marketd.h"

#include <utility>

#include "absl/synchronization/notification.h"
#include "clients/web/web_console.h"
#include "common/config/files.h"
#include "common/status/status.h"
#include "services/credit/case_client.h"
#include "services/credit/credit_client.h"
#include "services/identity/identity_client.h"
#include "services/listing/listing_client.h"
#include "services/stats/stats_client.h"
#include "services/webhook/webhook_events.h"

namespace market::marketd {

// The provider-owned clients marketd's services ask each other through, on
// the in-process channel: the same classes and RPCs the single-service
// binaries use over TCP. The channel exists only once the server runs, so a
// question asked earlier waits until the clients are set.
struct Marketd::Peers {
  absl::Notification ready;
  std::unique_ptr<identity::IdentityClient> identity;
  std::unique_ptr<listing::ListingClient> listing;
  std::unique_ptr<credit::CreditClient> credit;

  const identity::IdentityClient& Identity() {
    ready.WaitForNotification();
    return *identity;
  }
  const listing::ListingClient& Listing() {
    ready.WaitForNotification();
    return *listing;
  }
  const credit::CreditClient& Credit() {
    ready.WaitForNotification();
    return *credit;
  }
};

absl::StatusOr<std::unique_ptr<Marketd>> Marketd::Start(const MarketdOptions& options,
                                                        const Clock* clock) {
  MARKET_RETURN_IF_ERROR(config::EnsureDir(options.data_dir));
  std::unique_ptr<Marketd> m(new Marketd());
  auto peers = std::make_shared<Peers>();
  m->peers_ = peers;
  identity::SubjectLookup subjects = [peers](const std::string& name) {
    return peers->Identity().GetSubject(name);
  };
  auto verifier = std::make_shared<auth::TokenVerifier>();
  MARKET_ASSIGN_OR_RETURN(
      m->identity_, identity::OpenIdentityModule(options.data_dir, clock, verifier, &m->metrics_,
                                                 options.identity));
  MARKET_ASSIGN_OR_RETURN(m->bootstrap_file_,
                          identity::BootstrapIfEmpty(*m->identity_.service, options.data_dir));
  MARKET_ASSIGN_OR_RETURN(
      m->credit_, credit::OpenCreditModule(
                      options.data_dir, clock,
                      credit::PeerDirectory(subjects,
                                            [peers](const std::string& seller) {
                                              return peers->Listing().OperatorsOfSeller(seller);
                                            }),
                      verifier, m->identity_.suspension, &m->metrics_));
  credit::CasePeers case_peers = credit::ListingCasePeers(
      [peers](const std::string& order) { return peers->Listing().GetOrder(order); },
      [peers](const std::string& market) { return peers->Listing().MarketRegion(market); });
  // A new case is announced to supervisors' webhooks ("case.opened"); the
  // webhook module is opened below, before anything is served.
  Marketd* self = m.get();
  case_peers.opened = [self, clock](const supervision::v1::Case& c) {
    return webhook::PublishCaseOpened(*self->webhook_.store, c, clock->Now());
  };
  MARKET_RETURN_IF_ERROR(credit::OpenCaseService(m->credit_, options.data_dir, clock,
                                                 std::move(case_peers), verifier,
                                                 m->identity_.suspension, &m->metrics_));
  ledger::CreditStandingLookup standing = [peers](const std::string& subject) {
    return peers->Credit().Standing(subject);
  };
  MARKET_ASSIGN_OR_RETURN(
      m->listing_, listing::OpenListingModule(
                       options.data_dir, clock, subjects, verifier, m->identity_.suspension,
                       &m->metrics_, standing,
                       [peers](bool black) { return peers->Credit().ListEntries(black); },
                       [peers](const std::vector<std::string>& s) {
                         return peers->Credit().Standings(s);
                       }));
  MARKET_ASSIGN_OR_RETURN(m->appraisal_, appraisal::OpenAppraisalModule(
                                             options.data_dir, clock, subjects,
                                             [peers](const std::string& l) {
                                               return peers->Listing().PartiesOfListing(l);
                                             },
                                             verifier, m->identity_.suspension, &m->metrics_,
                                             options.public_base_url, standing));
  MARKET_ASSIGN_OR_RETURN(m->warranty_, warranty::OpenWarrantyModule(
                                            options.data_dir, clock,
                                            [peers](const std::string& order) {
                                              return peers->Listing().GetOrder(order);
                                            },
                                            verifier, m->identity_.suspension, &m->metrics_));
  MARKET_ASSIGN_OR_RETURN(m->stats_, stats::OpenStatsModule(options.data_dir, clock, verifier,
                                                           m->identity_.suspension, &m->metrics_));
  MARKET_ASSIGN_OR_RETURN(m->webhook_, webhook::OpenWebhookModule(
                                           options.data_dir, clock, verifier,
                                           m->identity_.suspension, &m->metrics_, options.webhook));
  MARKET_RETURN_IF_ERROR(identity::EnsureServiceAccount(*m->identity_.store, kMarketdServiceAccount,
                                                        "marketd outbox relay", clock->Now()));
  server::ServerOptions server_options = options.server;
  if (server_options.service.empty()) server_options.service = "marketd";
  m->runner_ = std::make_unique<server::ServerRunner>(server_options, &m->metrics_);
  m->runner_->AddService(m->identity_.service.get(), "market.identity.v1.IdentityService");
  m->runner_->AddService(m->credit_.credit.get(), "market.credit.v1.CreditService");
  m->runner_->AddService(m->credit_.ledger.get(), "market.credit.v1.LedgerService");
  m->runner_->AddService(m->credit_.cases.get(), "market.supervision.v1.CaseService");
  credit::AddLedgerHttpRoutes(*m->runner_, m->credit_.store.get());
  web::AddWebConsoleRoutes(*m->runner_);
  m->runner_->AddService(m->listing_.markets.get(), "market.listing.v1.MarketService");
  m->runner_->AddService(m->listing_.listings.get(), "market.listing.v1.ListingService");
  m->runner_->AddService(m->listing_.orders.get(), "market.listing.v1.OrderService");
  m->runner_->AddService(m->listing_.items.get(), "market.listing.v1.ItemService");
  listing::AddPhotoHttpRoutes(*m->runner_, m->listing_.listings.get());
  m->runner_->AddService(m->appraisal_.service.get(), "market.appraisal.v1.AppraisalService");
  appraisal::AddVerifyHttpRoute(*m->runner_,
                                [runner = m->runner_.get()] { return runner->InProcessChannel(); });
  m->runner_->AddService(m->warranty_.service.get(), "market.warranty.v1.WarrantyService");
  m->runner_->AddService(m->stats_.service.get(), "market.stats.v1.StatisticsService");
  stats::AddStatsExportRoute(*m->runner_,
                             [runner = m->runner_.get()] { return runner->InProcessChannel(); });
  m->runner_->AddService(m->webhook_.service.get(), "market.webhook.v1.WebhookService");
  MARKET_RETURN_IF_ERROR(m->runner_->Start());

  // Every call between services, and every outbox delivery, goes through the
  // same gRPC interfaces a split deployment uses, over the in-process channel.
  client::TokenSource token =
      identity::InProcessServiceToken(m->identity_, kMarketdServiceAccount, clock);
  auto channel = m->runner_->InProcessChannel();
  peers->identity = std::make_unique<identity::IdentityClient>(channel, token);
  peers->listing = std::make_unique<listing::ListingClient>(channel, token);
  peers->credit = std::make_unique<credit::CreditClient>(channel, token);
  peers->ready.Notify();
  outbox::RelayOptions relay_options;
  relay_options.poll = options.outbox_poll;
  relay_options.concurrency = options.outbox_concurrency;
  outbox::Relay::Deliverer to_credit = credit::CreditDeliverer(channel, token);
  outbox::Relay::Deliverer to_figures = stats::FiguresDeliverer(channel, token);
  outbox::Relay::Deliverer to_cases = credit::CaseEventDeliverer(channel, token);
  outbox::Relay::Deliverer to_webhook = webhook::WebhookDeliverer(channel, token);
  auto relay = [&](sqlite::Database* db, const char* name,
                   std::map<std::string, outbox::Relay::Deliverer> destinations) {
    auto r = std::make_unique<outbox::Relay>(db, clock, std::move(destinations), relay_options);
    r->ExportMetrics(&m->metrics_, name);
    r->Start();
    return r;
  };
  m->listing_relay_ =
      relay(m->listing_.db, "listing",
            {{credit::kCreditDestination, to_credit},
             {stats::kStatsDestination, stats::StatsDeliverer(channel, token)},
             {credit::kCaseDestination, to_cases},
             {stats::kFiguresDestination, to_figures},
             {webhook::kWebhookDestination, to_webhook}});
  m->appraisal_relay_ =
      relay(m->appraisal_.db, "appraisal",
            {{credit::kCreditDestination, to_credit},
             {credit::kCaseDestination, to_cases},
             {listing::kObservationDestination, listing::ObservationDeliverer(channel, token)},
             {stats::kFiguresDestination, to_figures},
             {webhook::kWebhookDestination, to_webhook}});
  m->warranty_relay_ =
      relay(m->warranty_.db, "warranty",
            {{credit::kCreditDestination, to_credit},
             {credit::kCaseDestination, to_cases},
             {stats::kFiguresDestination, to_figures},
             {webhook::kWebhookDestination, to_webhook}});
  // credit.db's outbox: figures to stats, list entries to the webhook service
  // hosted here (in-process PublishEvent, like case.opened).
  webhook::WebhookStore* webhook_store = m->webhook_.store.get();
  credit::OpenCreditRelay(
      m->credit_, clock, to_figures,
      webhook::LocalDeliverer([webhook_store, clock](const webhook::v1::Event& e) {
        return webhook::PublishEvent(*webhook_store, e, clock->Now()).status();
      }),
      [peers](const std::string& seller) { return peers->Listing().OperatorsOfSeller(seller); },
      &m->metrics_, relay_options);
  m->credit_.relay->Start();
  m->webhook_.dispatcher->Start();
  if (options.expiry_period > absl::ZeroDuration()) {
    m->credit_.credit->StartScheduler(options.expiry_period);
  }
  if (options.claim_deadline_period > absl::ZeroDuration()) {
    m->warranty_.service->StartScheduler(options.claim_deadline_period);
  }
  if (options.order_completion_period > absl::ZeroDuration()) {
    m->listing_.orders->StartScheduler(options.order_completion_period);
  }
  if (options.credit_lists_period > absl::ZeroDuration()) {
    m->listing_.credit_lists->Start(options.credit_lists_period);
  }
  for (retention::TablePurger* purger : m->purgers()) purger->Start(options.retention);
  return m;
}

Marketd::~Marketd() { Shutdown(); }

void Marketd::Shutdown() {
  if (listing_.orders != nullptr) listing_.orders->StopScheduler();
  if (listing_.credit_lists != nullptr) listing_.credit_lists->Stop();
  if (warranty_.service != nullptr) warranty_.service->StopScheduler();
  if (webhook_.dispatcher != nullptr) webhook_.dispatcher->Stop();
  for (retention::TablePurger* purger : purgers()) purger->Stop();
  for (outbox::Relay* relay :
       {listing_relay_.get(), appraisal_relay_.get(), warranty_relay_.get(),
        credit_.relay.get()}) {
    if (relay != nullptr) relay->Stop();
  }
  if (runner_ != nullptr) runner_->Shutdown();
}

std::vector<retention::TablePurger*> Marketd::purgers() {
  std::vector<retention::TablePurger*> out;
  for (retention::TablePurger* p :
       {identity_.retention.get(), credit_.retention.get(), listing_.retention.get(),
        appraisal_.retention.get(), warranty_.retention.get(), webhook_.retention.get()}) {
    if (p != nullptr) out.push_back(p);
  }
  return out;
}

}  // namespace market::marketd
