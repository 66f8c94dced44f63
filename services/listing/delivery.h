// Outbox deliverers over gRPC, used by every service that writes events
// (listing, appraisal, warranty): credit events to
// credit.v1.CreditService.RecordEvent and item observations to
// listing.v1.ItemService.RecordObservation, each called as a SERVICE subject
// with the outbox event id as the receiver's idempotency key, so redelivery
// changes nothing.
#ifndef MARKET_SERVICES_LISTING_DELIVERY_H_
#define MARKET_SERVICES_LISTING_DELIVERY_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/outbox/outbox.h"
#include "grpcpp/channel.h"

namespace market::listing {

// Returns a bearer token of a subject holding the SERVICE role.
using ServiceTokenSource = std::function<absl::StatusOr<std::string>()>;

// A Relay deliverer calling RecordEvent on `channel` (10 s deadline). OK also
// when the ledger already holds the event (same event id and content).
outbox::Relay::Deliverer CreditDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         ServiceTokenSource token);

// Outbox destination of item observations: the payload is a serialized
// listing.v1.RecordObservationRequest whose request_id is the event id.
inline constexpr char kObservationDestination[] = "listing.RecordObservation";

// A Relay deliverer calling RecordObservation on `channel` (10 s deadline).
outbox::Relay::Deliverer ObservationDeliverer(std::shared_ptr<grpc::Channel> channel,
                                              ServiceTokenSource token);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_DELIVERY_H_
