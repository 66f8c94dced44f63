// The all-in-one server: opens every service's store under one data dir and
// serves them on one gRPC port (plus the HTTP port). Used by main.cc and by
// the cross-service tests. Start/Shutdown from one thread.
#ifndef MARKET_SERVICES_MARKETD_MARKETD_H_
#define MARKET_SERVICES_MARKETD_MARKETD_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock/clock.h"
#include "common/outbox/outbox.h"
#include "common/retention/retention.h"
#include "common/server/metrics.h"
#include "common/server/runner.h"
#include "services/appraisal/appraisal_module.h"
#include "services/credit/credit_module.h"
#include "services/identity/identity_module.h"
#include "services/listing/listing_module.h"
#include "services/stats/stats_module.h"
#include "services/warranty/warranty_module.h"
#include "services/webhook/webhook_module.h"

namespace market::marketd {

struct MarketdOptions {
  std::string data_dir = "./var";
  server::ServerOptions server;
  identity::IdentityOptions identity;
  // How often the credit ledger's expiry scheduler runs (0 disables it).
  absl::Duration expiry_period = absl::Minutes(1);
  // How often DELIVERED orders past their refund window are completed (0
  // disables the scheduler).
  absl::Duration order_completion_period = absl::Minutes(1);
  // How often claim deadlines are enforced (0 disables the scheduler).
  absl::Duration claim_deadline_period = absl::Minutes(1);
  // How often the listing service's copy of the credit black/red lists is
  // refreshed (search hides blacklisted sellers, shows 诚信商户); the
  // staleness bound of search after a repair or a new listing. 0 disables it.
  absl::Duration credit_lists_period = absl::Minutes(1);
  // Polling period of the outbox relays (credit events, item observations).
  absl::Duration outbox_poll = absl::Milliseconds(200);
  // Deliveries of one relay pass in flight at once (outbox::RelayOptions).
  int outbox_concurrency = outbox::RelayOptions{}.concurrency;
  // Retention of request ids and delivered outbox events in every service's
  // database, and how often they are purged.
  retention::RetentionOptions retention;
  // Public base URL of the HTTP port: appraisal certificates' QR codes point
  // to {it}/verify.
  std::string public_base_url = appraisal::kDefaultPublicBaseUrl;
  // The webhook dispatcher's CA bundle and back-off.
  webhook::DispatcherOptions webhook;
};

// The SERVICE account marketd's relays call other services as.
inline constexpr char kMarketdServiceAccount[] = "subjects/marketd-relay";

class Marketd {
 public:
  static absl::StatusOr<std::unique_ptr<Marketd>> Start(const MarketdOptions& options,
                                                        const Clock* clock);
  ~Marketd();

  int grpc_port() const { return runner_->grpc_port(); }
  int http_port() const { return runner_->http_port(); }
  // Path of bootstrap-admin.json when this start created it, else "".
  const std::string& bootstrap_file() const { return bootstrap_file_; }
  identity::IdentityModule& identity() { return identity_; }
  credit::CreditModule& credit() { return credit_; }
  listing::OrderServiceImpl& orders() { return *listing_.orders; }
  listing::CreditListMirror& credit_lists() { return *listing_.credit_lists; }
  outbox::Relay& listing_relay() { return *listing_relay_; }
  warranty::WarrantyModule& warranty() { return warranty_; }
  appraisal::AppraisalModule& appraisal() { return appraisal_; }
  stats::StatsModule& stats() { return stats_; }
  webhook::WebhookModule& webhook() { return webhook_; }
  void Shutdown();

 private:
  // The table purgers of the services opened so far.
  std::vector<retention::TablePurger*> purgers();
  Marketd() = default;
  server::Metrics metrics_;
  identity::IdentityModule identity_;
  credit::CreditModule credit_;
  struct Peers;
  std::shared_ptr<Peers> peers_;
  listing::ListingModule listing_;
  std::unique_ptr<outbox::Relay> listing_relay_;
  appraisal::AppraisalModule appraisal_;
  std::unique_ptr<outbox::Relay> appraisal_relay_;
  warranty::WarrantyModule warranty_;
  std::unique_ptr<outbox::Relay> warranty_relay_;
  stats::StatsModule stats_;
  webhook::WebhookModule webhook_;
  std::unique_ptr<server::ServerRunner> runner_;
  std::string bootstrap_file_;
};

}  // namespace market::marketd

#endif  // MARKET_SERVICES_MARKETD_MARKETD_H_
