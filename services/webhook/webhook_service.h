// market.webhook.v1.WebhookService over a WebhookStore: validation, the
// policy table and the ownership rules (a webhook's owner or a SUPERVISOR
// manages it). Hosted in the credit process (webhook_module.h).
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_SERVICE_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_SERVICE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/policy.h"
#include "common/clock/clock.h"
#include "common/server/handler.h"
#include "market/webhook/v1/webhook.grpc.pb.h"
#include "market/supervision/v1/supervision.pb.h"
#include "services/webhook/webhook_store.h"

namespace market::webhook {

std::vector<auth::RpcPolicy> WebhookPolicies();

// The in-process entry point for publishing an event (what PublishEvent
// does): validates `event` (INVALID_ARGUMENT naming the field), then accepts
// it once and queues its deliveries in one transaction. A service in the same
// process (e.g. the case queue) calls it after its own change committed; a
// service in another process enqueues the event in its outbox instead
// (webhook_events.h).
absl::StatusOr<PublishResult> PublishEvent(WebhookStore& store, const v1::Event& event,
                                           absl::Time now);

// PublishEvent of "case.opened" (CASE_OPENED) for the supervision case `c`
// as stored: event id "case-opened:" + its name, so calling it again for the
// same case changes nothing. For supervisors' webhooks only (no audience).
absl::Status PublishCaseOpened(WebhookStore& store, const supervision::v1::Case& c,
                               absl::Time now);

class WebhookServiceImpl final : public v1::WebhookService::Service {
 public:
  // `store` and `clock` are not owned and must outlive the service.
  static absl::StatusOr<std::unique_ptr<WebhookServiceImpl>> Create(
      WebhookStore* store, const Clock* clock, std::shared_ptr<const auth::TokenVerifier> verifier,
      std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics);

  grpc::Status CreateWebhook(grpc::ServerContext*, const v1::CreateWebhookRequest*,
                             v1::CreateWebhookResponse*) override;
  grpc::Status ListWebhooks(grpc::ServerContext*, const v1::ListWebhooksRequest*,
                            v1::ListWebhooksResponse*) override;
  grpc::Status DeleteWebhook(grpc::ServerContext*, const v1::DeleteWebhookRequest*,
                             v1::DeleteWebhookResponse*) override;
  grpc::Status TestWebhook(grpc::ServerContext*, const v1::TestWebhookRequest*,
                           v1::TestWebhookResponse*) override;
  grpc::Status ListWebhookDeliveries(grpc::ServerContext*, const v1::ListWebhookDeliveriesRequest*,
                                     v1::ListWebhookDeliveriesResponse*) override;
  grpc::Status PublishEvent(grpc::ServerContext*, const v1::PublishEventRequest*,
                            v1::PublishEventResponse*) override;

 private:
  WebhookServiceImpl(WebhookStore* store, const Clock* clock) : store_(store), clock_(clock) {}
  // The webhook `name` when the caller owns it or is a SUPERVISOR.
  absl::StatusOr<StoredWebhook> Owned(const auth::Caller& caller, const std::string& name);

  WebhookStore* store_;
  const Clock* clock_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  server::RpcEnv env_;
};

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_SERVICE_H_
