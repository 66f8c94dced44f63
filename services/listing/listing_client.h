// What other services ask the listing service, owned by it: an order with its
// market's operator (warranty), the parties of a listing (appraisal disputes),
// the operators of the markets a seller is admitted to (credit), and the
// outbox deliverer for item observations (listing_events.h). Every call is
// made as a SERVICE subject over the channel it is given — the in-process
// channel under marketd, a TCP (later TLS) channel in split mode — so both
// deployments run the same code. Errors are mapped once (client::PeerError):
// NOT_FOUND as documented, anything else UNAVAILABLE. Thread-safe.
#ifndef MARKET_SERVICES_LISTING_LISTING_CLIENT_H_
#define MARKET_SERVICES_LISTING_LISTING_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/client/peer.h"
#include "common/outbox/outbox.h"
#include "grpcpp/channel.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "services/listing/listing_events.h"

namespace market::listing {

// An order as the listing service has it, with its market's operator ("" when
// the market is gone).
struct OrderInfo {
  v1::Order order;
  std::string market_operator;
};

class ListingClient {
 public:
  ListingClient(std::shared_ptr<grpc::Channel> channel, client::TokenSource token);

  // The order `name` (markets/{m}/orders/{o}) and its market's operator;
  // std::nullopt when the listing service says NOT_FOUND.
  absl::StatusOr<std::optional<OrderInfo>> GetOrder(const std::string& name) const;

  // The listing's seller followed by the buyers of its orders (any state),
  // without repeats. NOT_FOUND for an unknown listing.
  absl::StatusOr<std::vector<std::string>> PartiesOfListing(const std::string& listing) const;

  // The 6-digit region code of market `name` (markets/{m}); "" when the
  // listing service says NOT_FOUND (the supervision case queue).
  absl::StatusOr<std::string> MarketRegion(const std::string& name) const;

  // Operators of the markets `seller` is admitted to, sorted, without repeats
  // (empty for a subject admitted nowhere).
  absl::StatusOr<std::vector<std::string>> OperatorsOfSeller(const std::string& seller) const;

 private:
  client::TokenSource token_;
  std::unique_ptr<v1::MarketService::Stub> markets_;
  std::unique_ptr<v1::ListingService::Stub> listings_;
  std::unique_ptr<v1::OrderService::Stub> orders_;
};

// A Relay deliverer for kObservationDestination calling
// ItemService.RecordObservation on `channel` with the event id as request_id
// (client::kPeerDeadline). DATA_LOSS for a payload that does not parse;
// otherwise the listing service's status (the relay retries).
outbox::Relay::Deliverer ObservationDeliverer(std::shared_ptr<grpc::Channel> channel,
                                              client::TokenSource token);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_LISTING_CLIENT_H_
