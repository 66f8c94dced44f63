// Publishing webhook events from another service: the source writes the event
// into its transactional outbox in the same transaction as the change that
// causes it (EnqueueWebhookEvent), and its outbox Relay delivers it to
// WebhookService.PublishEvent with WebhookDeliverer (idempotent by event id).
// A service inside the credit process may call webhook::PublishEvent
// (webhook_service.h) directly instead.
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_EVENTS_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_EVENTS_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/client/peer.h"
#include "common/outbox/outbox.h"
#include "common/sqlite/connection.h"
#include "grpcpp/channel.h"
#include "market/webhook/v1/webhook.pb.h"

namespace market::webhook {

// Outbox destination of webhook events: the payload is a serialized
// webhook.v1.PublishEventRequest whose event.event_id is the outbox event id.
inline constexpr char kWebhookDestination[] = "webhook.PublishEvent";

// Writes `event` as a pending webhook event in the caller's transaction; its
// event_id is the outbox id and its resource the ordering key (a resource's
// events reach PublishEvent in the order they were written). Errors: those
// of outbox::Enqueue.
absl::Status EnqueueWebhookEvent(sqlite::Connection& c, const v1::Event& event, absl::Time now);

// The relay deliverer calling PublishEvent on `channel` as a SERVICE account.
// A payload that does not parse is DATA_LOSS (retried and logged by the relay).
outbox::Relay::Deliverer WebhookDeliverer(std::shared_ptr<grpc::Channel> channel,
                                          client::TokenSource token);

// The relay deliverer of a source hosted in the webhook service's process
// (the credit ledger): hands each event to `publish`, e.g. webhook::PublishEvent
// on the hosted store, without a gRPC hop. A payload that does not parse is
// DATA_LOSS, as in WebhookDeliverer.
outbox::Relay::Deliverer LocalDeliverer(std::function<absl::Status(const v1::Event&)> publish);

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_EVENTS_H_
