#include "services/credit/credit_client.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "market/credit/v1/credit.grpc.pb.h"

namespace market::credit {

outbox::Relay::Deliverer CreditDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         client::TokenSource token) {
  auto stub = std::shared_ptr<v1::CreditService::Stub>(v1::CreditService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    v1::RecordEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    v1::RecordEventResponse resp;
    return client::CallAsService(
        token, [&](grpc::ClientContext* ctx) { return stub->RecordEvent(ctx, req, &resp); });
  };
}

}  // namespace market::credit
