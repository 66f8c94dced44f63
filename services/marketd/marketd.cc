#include "services/marketd/marketd.h"

#include "common/config/files.h"
#include "services/listing/delivery.h"
#include "services/listing/listing_db.h"
#include "common/status/status.h"
#include "market/listing/v1/listing.grpc.pb.h"

namespace market::marketd {

absl::StatusOr<std::unique_ptr<Marketd>> Marketd::Start(const MarketdOptions& options,
                                                        const Clock* clock) {
  MARKET_RETURN_IF_ERROR(config::EnsureDir(options.data_dir));
  std::unique_ptr<Marketd> m(new Marketd());
  auto verifier = std::make_shared<auth::TokenVerifier>();
  MARKET_ASSIGN_OR_RETURN(m->identity_,
                          identity::OpenIdentityModule(options.data_dir, clock, verifier,
                                                       &m->metrics_, options.identity));
  MARKET_ASSIGN_OR_RETURN(m->bootstrap_file_,
                          identity::BootstrapIfEmpty(*m->identity_.service, options.data_dir));
  identity::IdentityStore* identity_store = m->identity_.store.get();
  Marketd* self = m.get();
  credit::SubjectDirectory directory =
      [identity_store, self](const std::string& subject)
      -> absl::StatusOr<std::optional<credit::SubjectInfo>> {
    absl::StatusOr<identity::SubjectRow> row = identity_store->GetSubject(subject);
    if (absl::IsNotFound(row.status())) return std::nullopt;
    if (!row.ok()) return row.status();
    credit::SubjectInfo info{row->subject.display_name(), row->subject.affiliation(), {}};
    if (self->market_store_ != nullptr) {
      MARKET_RETURN_IF_ERROR(self->market_store_->db().Read([&](sqlite::Connection& c) {
        MARKET_ASSIGN_OR_RETURN(info.market_operators, listing::OperatorsOfSeller(c, subject));
        return absl::OkStatus();
      }));
    }
    return info;
  };
  MARKET_ASSIGN_OR_RETURN(m->credit_,
                          credit::OpenCreditModule(options.data_dir, clock, directory, verifier,
                                                   m->identity_.suspension, &m->metrics_));
  listing::SubjectLookup lookup = [identity_store](const std::string& subject)
      -> absl::StatusOr<std::optional<identity::v1::Subject>> {
    absl::StatusOr<identity::SubjectRow> row = identity_store->GetSubject(subject);
    if (absl::IsNotFound(row.status())) return std::nullopt;
    if (!row.ok()) return row.status();
    return row->subject;
  };
  MARKET_RETURN_IF_ERROR(config::EnsureDir(options.data_dir + "/listing"));
  MARKET_ASSIGN_OR_RETURN(
      std::string listing_secret,
      config::LoadOrCreateSecret(options.data_dir + "/listing/page-token-hmac.key", 32));
  MARKET_ASSIGN_OR_RETURN(m->market_store_,
                          listing::SqliteMarketStore::Open(options.data_dir + "/listing.db"));
  MARKET_ASSIGN_OR_RETURN(
      m->markets_, listing::MarketServiceImpl::Create(m->market_store_.get(), clock, lookup,
                                                      listing_secret, verifier,
                                                      m->identity_.suspension, &m->metrics_));
  listing::ListingDeps deps{.db = &m->market_store_->db(),
                            .clock = clock,
                            .photo_dir = options.data_dir + "/listing/photos",
                            .page_token_secret = listing_secret,
                            .verifier = verifier,
                            .suspension = m->identity_.suspension,
                            .metrics = &m->metrics_};
  MARKET_ASSIGN_OR_RETURN(m->listings_, listing::ListingServiceImpl::Create(deps));
  MARKET_ASSIGN_OR_RETURN(m->orders_, listing::OrderServiceImpl::Create(deps));
  MARKET_ASSIGN_OR_RETURN(m->items_, listing::ItemServiceImpl::Create(deps));
  sqlite::Database* listing_db = &m->market_store_->db();
  appraisal::ListingParties parties =
      [listing_db](const std::string& listing) -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> out;
    MARKET_RETURN_IF_ERROR(listing_db->Read([&](sqlite::Connection& c) {
      MARKET_ASSIGN_OR_RETURN(out, listing::PartiesOfListing(c, listing));
      return absl::OkStatus();
    }));
    return out;
  };
  MARKET_ASSIGN_OR_RETURN(
      m->appraisal_, appraisal::OpenAppraisalModule(options.data_dir, clock, lookup, parties,
                                                    verifier, m->identity_.suspension,
                                                    &m->metrics_));
  warranty::OrderLookup orders =
      [listing_db](const std::string& name) -> absl::StatusOr<std::optional<warranty::OrderInfo>> {
    std::optional<warranty::OrderInfo> info;
    MARKET_RETURN_IF_ERROR(listing_db->Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(std::optional<listing::OrderRow> row, listing::LoadOrder(c, name));
      if (!row.has_value()) return absl::OkStatus();
      std::string market = name.substr(0, name.find("/orders/"));
      MARKET_ASSIGN_OR_RETURN(std::optional<listing::MarketRow> m, listing::LoadMarket(c, market));
      info = warranty::OrderInfo{row->order, m.has_value() ? m->market.operator_() : ""};
      return absl::OkStatus();
    }));
    return info;
  };
  MARKET_ASSIGN_OR_RETURN(m->warranty_,
                          warranty::OpenWarrantyModule(options.data_dir, clock, orders, verifier,
                                                       m->identity_.suspension, &m->metrics_));
  MARKET_RETURN_IF_ERROR(identity::EnsureServiceAccount(
      *identity_store, kMarketdServiceAccount, "marketd outbox relay", clock->Now()));
  if (options.expiry_period > absl::ZeroDuration()) {
    m->credit_.credit->StartScheduler(options.expiry_period);
  }
  m->runner_ = std::make_unique<server::ServerRunner>(options.server, &m->metrics_);
  m->runner_->AddService(m->identity_.service.get(), "market.identity.v1.IdentityService");
  m->runner_->AddService(m->credit_.credit.get(), "market.credit.v1.CreditService");
  m->runner_->AddService(m->credit_.ledger.get(), "market.credit.v1.LedgerService");
  m->runner_->AddService(m->markets_.get(), "market.listing.v1.MarketService");
  m->runner_->AddService(m->listings_.get(), "market.listing.v1.ListingService");
  m->runner_->AddService(m->orders_.get(), "market.listing.v1.OrderService");
  m->runner_->AddService(m->items_.get(), "market.listing.v1.ItemService");
  m->runner_->AddService(m->appraisal_.service.get(), "market.appraisal.v1.AppraisalService");
  m->runner_->AddService(m->warranty_.service.get(), "market.warranty.v1.WarrantyService");
  MARKET_RETURN_IF_ERROR(m->runner_->Start());
  // Credit events of the listing services reach the ledger through the same
  // RecordEvent RPC a split deployment uses, over the in-process channel.
  identity::TokenAuthority* tokens = m->identity_.service->token_authority();
  listing::ServiceTokenSource token = [tokens]() -> absl::StatusOr<std::string> {
    MARKET_ASSIGN_OR_RETURN(auto issued,
                            tokens->Issue(kMarketdServiceAccount, {common::v1::SERVICE}));
    return issued.first;
  };
  outbox::RelayOptions relay_options;
  relay_options.poll = options.outbox_poll;
  auto channel = m->runner_->InProcessChannel();
  outbox::Relay::Deliverer to_credit = listing::CreditDeliverer(channel, token);
  m->listing_relay_ = std::make_unique<outbox::Relay>(
      &m->market_store_->db(), clock,
      std::map<std::string, outbox::Relay::Deliverer>{{listing::kCreditDestination, to_credit}},
      relay_options);
  m->appraisal_relay_ = std::make_unique<outbox::Relay>(
      m->appraisal_.db, clock,
      std::map<std::string, outbox::Relay::Deliverer>{
          {listing::kCreditDestination, to_credit},
          {listing::kObservationDestination, listing::ObservationDeliverer(channel, token)}},
      relay_options);
  m->warranty_relay_ = std::make_unique<outbox::Relay>(
      m->warranty_.db, clock,
      std::map<std::string, outbox::Relay::Deliverer>{{listing::kCreditDestination, to_credit}},
      relay_options);
  m->listing_relay_->ExportMetrics(&m->metrics_, "listing");
  m->appraisal_relay_->ExportMetrics(&m->metrics_, "appraisal");
  m->warranty_relay_->ExportMetrics(&m->metrics_, "warranty");
  m->listing_relay_->Start();
  m->appraisal_relay_->Start();
  m->warranty_relay_->Start();
  if (options.claim_deadline_period > absl::ZeroDuration()) {
    m->warranty_.service->StartScheduler(options.claim_deadline_period);
  }
  if (options.order_completion_period > absl::ZeroDuration()) {
    m->orders_->StartScheduler(options.order_completion_period);
  }
  return m;
}

Marketd::~Marketd() { Shutdown(); }

void Marketd::Shutdown() {
  if (orders_ != nullptr) orders_->StopScheduler();
  if (warranty_.service != nullptr) warranty_.service->StopScheduler();
  for (outbox::Relay* relay : {listing_relay_.get(), appraisal_relay_.get(), warranty_relay_.get()}) {
    if (relay != nullptr) relay->Stop();
  }
  if (runner_ != nullptr) runner_->Shutdown();
}

}  // namespace market::marketd
