#include "services/credit/case_client.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "market/supervision/v1/supervision.grpc.pb.h"

namespace market::credit {

outbox::Relay::Deliverer CaseEventDeliverer(std::shared_ptr<grpc::Channel> channel,
                                            client::TokenSource token) {
  auto stub = std::shared_ptr<supervision::v1::CaseService::Stub>(
      supervision::v1::CaseService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    supervision::v1::RecordCaseEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    supervision::v1::Case resp;
    return client::CallAsService(
        token, [&](grpc::ClientContext* ctx) { return stub->RecordCaseEvent(ctx, req, &resp); });
  };
}

}  // namespace market::credit
