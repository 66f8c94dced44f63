// Delivers the listing outbox's credit events (kCreditDestination) to
// credit.v1.CreditService.RecordEvent over gRPC as a SERVICE subject. The
// outbox event id is the record's event_id, so redelivery appends nothing.
#ifndef MARKET_SERVICES_LISTING_CREDIT_DELIVERY_H_
#define MARKET_SERVICES_LISTING_CREDIT_DELIVERY_H_

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

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_CREDIT_DELIVERY_H_
