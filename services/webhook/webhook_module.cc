#include "services/webhook/webhook_module.h"

#include <utility>

#include "common/config/files.h"
#include "common/status/status.h"

namespace market::webhook {

void AddWebhookFlags(CLI::App& app, DispatcherOptions* options) {
  app.add_option("--webhook-ca", options->ca_file,
                 "PEM CA bundle webhook receivers' certificates are verified against "
                 "(default: the system's trust store)")
      ->check(CLI::ExistingFile);
  app.add_option_function<double>(
         "--webhook-backoff-seconds",
         [options](double s) { options->backoff.initial_backoff = absl::Seconds(s); },
         "Delay before the first webhook retry; it doubles per failure up to 1 h (default 30)")
      ->check(CLI::PositiveNumber);
  app.add_option_function<double>(
         "--webhook-timeout-seconds",
         [options](double s) { options->timeout = absl::Seconds(s); },
         "Deadline of one webhook delivery attempt, answer included (default 10)")
      ->check(CLI::Range(0.1, 300.0));
  app.add_option("--webhook-workers", options->max_in_flight,
                 "Webhook deliveries attempted at once, each to another webhook (default 8)")
      ->check(CLI::Range(1, 64));
}

std::string SecretKeyPath(const std::string& data_dir) {
  return data_dir + "/webhook/secret-box.key";
}

absl::StatusOr<WebhookModule> OpenWebhookModule(const std::string& data_dir, const Clock* clock,
                                                std::shared_ptr<const auth::TokenVerifier> verifier,
                                                std::shared_ptr<auth::SuspensionChecker> suspension,
                                                server::Metrics* metrics,
                                                DispatcherOptions options) {
  WebhookModule m;
  MARKET_RETURN_IF_ERROR(config::EnsureDir(data_dir + "/webhook"));
  MARKET_ASSIGN_OR_RETURN(m.store,
                          WebhookStore::Open(data_dir + "/webhook.db", SecretKeyPath(data_dir)));
  MARKET_ASSIGN_OR_RETURN(m.service,
                          WebhookServiceImpl::Create(m.store.get(), clock, std::move(verifier),
                                                     std::move(suspension), metrics));
  m.dispatcher = std::make_unique<Dispatcher>(m.store.get(), clock, std::move(options));
  if (metrics != nullptr) m.dispatcher->ExportMetrics(metrics);
  m.retention = std::make_unique<retention::TablePurger>(
      "webhook", m.store->database(), clock, retention::Tables{.finished = PurgeFinished});
  return m;
}

}  // namespace market::webhook
