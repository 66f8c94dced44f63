#include "services/marketd/marketd.h"

#include "common/config/files.h"
#include "services/listing/delivery.h"
#include "services/listing/listing_db.h"
#include "common/status/status.h"
#include "market/appraisal/v1/appraisal.grpc.pb.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "market/warranty/v1/warranty.grpc.pb.h"

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
  // Not implemented yet (later issues): the generated base classes answer
  // UNIMPLEMENTED for every RPC; health reports them NOT_FOUND until then.
  m->pending_.push_back(std::make_unique<appraisal::v1::AppraisalService::Service>());
  m->pending_.push_back(std::make_unique<warranty::v1::WarrantyService::Service>());
  for (auto& service : m->pending_) m->runner_->AddServiceWithoutHealth(service.get());
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
  m->listing_relay_ = std::make_unique<outbox::Relay>(
      &m->market_store_->db(), clock,
      std::map<std::string, outbox::Relay::Deliverer>{
          {listing::kCreditDestination,
           listing::CreditDeliverer(m->runner_->InProcessChannel(), token)}},
      relay_options);
  m->listing_relay_->ExportMetrics(&m->metrics_, "listing");
  m->listing_relay_->Start();
  if (options.order_completion_period > absl::ZeroDuration()) {
    m->orders_->StartScheduler(options.order_completion_period);
  }
  return m;
}

Marketd::~Marketd() { Shutdown(); }

void Marketd::Shutdown() {
  if (orders_ != nullptr) orders_->StopScheduler();
  if (listing_relay_ != nullptr) listing_relay_->Stop();
  if (runner_ != nullptr) runner_->Shutdown();
}

}  // namespace market::marketd
