#include "services/marketd/marketd.h"

#include "common/config/files.h"
#include "common/status/status.h"

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
  m->runner_ = std::make_unique<server::ServerRunner>(options.server, &m->metrics_);
  m->runner_->AddService(m->identity_.service.get(), "market.identity.v1.IdentityService");
  MARKET_RETURN_IF_ERROR(m->runner_->Start());
  return m;
}

Marketd::~Marketd() { Shutdown(); }

void Marketd::Shutdown() {
  if (runner_ != nullptr) runner_->Shutdown();
}

}  // namespace market::marketd
