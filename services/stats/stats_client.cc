#include "services/stats/stats_client.h"

#include "absl/strings/str_cat.h"
#include "market/stats/v1/stats.grpc.pb.h"

namespace market::stats {

outbox::Relay::Deliverer StatsDeliverer(std::shared_ptr<grpc::Channel> channel,
                                        client::TokenSource token) {
  auto stub = std::shared_ptr<v1::StatisticsService::Stub>(v1::StatisticsService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    v1::RecordTradeEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    v1::RecordTradeEventResponse resp;
    return client::CallAsService(
        token, [&](grpc::ClientContext* ctx) { return stub->RecordTradeEvent(ctx, req, &resp); });
  };
}

outbox::Relay::Deliverer FiguresDeliverer(std::shared_ptr<grpc::Channel> channel,
                                          client::TokenSource token) {
  auto stub = std::shared_ptr<v1::StatisticsService::Stub>(v1::StatisticsService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    v1::RecordStatsEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    v1::RecordStatsEventResponse resp;
    return client::CallAsService(
        token, [&](grpc::ClientContext* ctx) { return stub->RecordStatsEvent(ctx, req, &resp); });
  };
}

}  // namespace market::stats
