#include "services/webhook/webhook_events.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "market/webhook/v1/webhook.grpc.pb.h"

namespace market::webhook {

absl::Status EnqueueWebhookEvent(sqlite::Connection& c, const v1::Event& event, absl::Time now) {
  v1::PublishEventRequest req;
  *req.mutable_event() = event;
  return outbox::Enqueue(c, outbox::Event{event.event_id(), kWebhookDestination,
                                          req.SerializeAsString(), event.resource()},
                         now);
}

outbox::Relay::Deliverer WebhookDeliverer(std::shared_ptr<grpc::Channel> channel,
                                          client::TokenSource token) {
  auto stub = std::shared_ptr<v1::WebhookService::Stub>(v1::WebhookService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    v1::PublishEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    v1::PublishEventResponse resp;
    return client::CallAsService(
        token, [&](grpc::ClientContext* ctx) { return stub->PublishEvent(ctx, req, &resp); });
  };
}

outbox::Relay::Deliverer LocalDeliverer(std::function<absl::Status(const v1::Event&)> publish) {
  return [publish = std::move(publish)](const std::string& event_id,
                                        const std::string& payload) -> absl::Status {
    v1::PublishEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    return publish(req.event());
  };
}

}  // namespace market::webhook
