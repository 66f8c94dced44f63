#include "services/listing/delivery.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "grpcpp/client_context.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "market/listing/v1/listing.grpc.pb.h"

namespace market::listing {
namespace {

// Calls `call(ctx)` with the bearer token and a 10 s deadline.
template <typename Call>
absl::Status CallAsService(const ServiceTokenSource& token, Call&& call) {
  MARKET_ASSIGN_OR_RETURN(std::string bearer, token());
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", bearer));
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return FromGrpcStatus(call(&ctx));
}

}  // namespace

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
    credit::v1::RecordEventResponse resp;
    return CallAsService(token, [&](grpc::ClientContext* ctx) {
      return stub->RecordEvent(ctx, req, &resp);
    });
  };
}

outbox::Relay::Deliverer ObservationDeliverer(std::shared_ptr<grpc::Channel> channel,
                                              ServiceTokenSource token) {
  auto stub =
      std::shared_ptr<v1::ItemService::Stub>(v1::ItemService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    v1::RecordObservationRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    req.set_request_id(event_id);
    v1::Observation resp;
    return CallAsService(token, [&](grpc::ClientContext* ctx) {
      return stub->RecordObservation(ctx, req, &resp);
    });
  };
}

}  // namespace market::listing
