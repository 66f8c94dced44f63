#include "services/listing/listing_client.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace market::listing {
namespace {

constexpr int kPageSize = 1000;

}  // namespace

ListingClient::ListingClient(std::shared_ptr<grpc::Channel> channel, client::TokenSource token)
    : token_(std::move(token)),
      markets_(v1::MarketService::NewStub(channel)),
      listings_(v1::ListingService::NewStub(channel)),
      orders_(v1::OrderService::NewStub(channel)) {}

absl::StatusOr<std::optional<OrderInfo>> ListingClient::GetOrder(const std::string& name) const {
  OrderInfo info;
  v1::GetOrderRequest get;
  get.set_name(name);
  absl::Status s = client::PeerError("listing service GetOrder",
                                     client::CallAsService(token_, [&](grpc::ClientContext* ctx) {
                                       return orders_->GetOrder(ctx, get, &info.order);
                                     }));
  if (absl::IsNotFound(s)) return std::nullopt;
  if (!s.ok()) return s;
  v1::GetMarketRequest get_market;
  get_market.set_name(name.substr(0, name.find("/orders/")));
  v1::Market market;
  s = client::PeerError("listing service GetMarket",
                        client::CallAsService(token_, [&](grpc::ClientContext* ctx) {
                          return markets_->GetMarket(ctx, get_market, &market);
                        }));
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  info.market_operator = market.operator_();
  return info;
}

absl::StatusOr<std::string> ListingClient::MarketRegion(const std::string& name) const {
  v1::GetMarketRequest get;
  get.set_name(name);
  v1::Market market;
  absl::Status s = client::PeerError("listing service GetMarket",
                                     client::CallAsService(token_, [&](grpc::ClientContext* ctx) {
                                       return markets_->GetMarket(ctx, get, &market);
                                     }));
  if (absl::IsNotFound(s)) return std::string();
  if (!s.ok()) return s;
  return market.region_code();
}

absl::StatusOr<std::vector<std::string>> ListingClient::PartiesOfListing(
    const std::string& listing) const {
  v1::GetListingRequest get;
  get.set_name(listing);
  v1::Listing l;
  absl::Status s = client::PeerError("listing service GetListing",
                                     client::CallAsService(token_, [&](grpc::ClientContext* ctx) {
                                       return listings_->GetListing(ctx, get, &l);
                                     }));
  if (!s.ok()) return s;
  std::vector<std::string> parties = {l.seller()};
  v1::ListOrdersRequest list;
  list.set_parent("markets/-");
  list.set_filter(absl::StrCat("listing=\"", listing, "\""));
  list.set_page_size(kPageSize);
  s = client::ForEachPage<v1::ListOrdersRequest, v1::ListOrdersResponse>(
      token_, "listing service ListOrders", list,
      [&](grpc::ClientContext* ctx, const v1::ListOrdersRequest& req,
          v1::ListOrdersResponse* page) { return orders_->ListOrders(ctx, req, page); },
      [&](const v1::ListOrdersResponse& page) {
        for (const v1::Order& o : page.orders()) {
          if (std::find(parties.begin(), parties.end(), o.buyer()) == parties.end()) {
            parties.push_back(o.buyer());
          }
        }
      });
  if (!s.ok()) return absl::UnavailableError(s.message());  // the listing exists
  return parties;
}

absl::StatusOr<std::vector<std::string>> ListingClient::OperatorsOfSeller(
    const std::string& seller) const {
  std::set<std::string> operators;
  v1::ListMarketsRequest list;
  list.set_filter(absl::StrCat("seller=\"", seller, "\""));
  list.set_page_size(kPageSize);
  absl::Status s = client::ForEachPage<v1::ListMarketsRequest, v1::ListMarketsResponse>(
      token_, "listing service ListMarkets", list,
      [&](grpc::ClientContext* ctx, const v1::ListMarketsRequest& req,
          v1::ListMarketsResponse* page) { return markets_->ListMarkets(ctx, req, page); },
      [&](const v1::ListMarketsResponse& page) {
        for (const v1::Market& m : page.markets()) {
          if (!m.operator_().empty()) operators.insert(m.operator_());
        }
      });
  if (!s.ok()) return absl::UnavailableError(s.message());
  return std::vector<std::string>(operators.begin(), operators.end());
}

outbox::Relay::Deliverer ObservationDeliverer(std::shared_ptr<grpc::Channel> channel,
                                              client::TokenSource token) {
  auto stub = std::shared_ptr<v1::ItemService::Stub>(v1::ItemService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    v1::RecordObservationRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    req.set_request_id(event_id);
    v1::Observation resp;
    return client::CallAsService(
        token, [&](grpc::ClientContext* ctx) { return stub->RecordObservation(ctx, req, &resp); });
  };
}

}  // namespace market::listing
