// Wires the webhook service over DATA_DIR/webhook.db (its own file beside
// credit.db; signing secrets sealed under DATA_DIR/webhook/secret-box.key)
// with its dispatcher and the purge of finished deliveries. Hosted by the credit process: marketd and
// market-credit, whose binaries start and stop the dispatcher.
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_MODULE_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_MODULE_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "common/auth/jwt.h"
#include "common/auth/suspension.h"
#include "common/clock/clock.h"
#include "common/retention/retention.h"
#include "common/server/metrics.h"
#include "services/webhook/webhook_dispatcher.h"
#include "services/webhook/webhook_service.h"
#include "services/webhook/webhook_store.h"

namespace market::webhook {

struct WebhookModule {
  std::unique_ptr<WebhookStore> store;
  std::unique_ptr<WebhookServiceImpl> service;
  // Not started; the binary calls Start() once serving and Stop() before exit.
  std::unique_ptr<Dispatcher> dispatcher;
  // Deletes finished deliveries past RetentionOptions::delivered_events
  // (PurgeFinished); not started: the binary starts and stops it with the
  // other purgers.
  std::unique_ptr<retention::TablePurger> retention;
};

// The key file sealing webhook secrets, under `data_dir`.
std::string SecretKeyPath(const std::string& data_dir);

// --webhook-ca (the CA bundle receivers' certificates are verified against),
// --webhook-backoff-seconds (the first retry delay), --webhook-timeout-seconds
// (one attempt's deadline) and --webhook-workers (attempts at once), for the
// binaries hosting the service.
void AddWebhookFlags(CLI::App& app, DispatcherOptions* options);

absl::StatusOr<WebhookModule> OpenWebhookModule(const std::string& data_dir, const Clock* clock,
                                                std::shared_ptr<const auth::TokenVerifier> verifier,
                                                std::shared_ptr<auth::SuspensionChecker> suspension,
                                                server::Metrics* metrics,
                                                DispatcherOptions options = {});

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_MODULE_H_
