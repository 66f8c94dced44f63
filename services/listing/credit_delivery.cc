#include "services/listing/credit_delivery.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "grpcpp/client_context.h"
#include "market/credit/v1/credit.grpc.pb.h"

namespace market::listing {

outbox::Relay::Deliverer CreditDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         ServiceTokenSource token) {
  auto stub = std::shared_ptr<credit::v1::CreditService::Stub>(
      credit::v1::CreditService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    credit::v1::RecordEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    MARKET_ASSIGN_OR_RETURN(std::string bearer, token());
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", bearer));
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    credit::v1::RecordEventResponse resp;
    return FromGrpcStatus(stub->RecordEvent(&ctx, req, &resp));
  };
}

}  // namespace market::listing
