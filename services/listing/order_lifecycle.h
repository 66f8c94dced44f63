// The order state machine (API.md OrderService, listing.proto Order.State) as
// a table of allowed moves. Thread-safe: pure functions.
#ifndef MARKET_SERVICES_LISTING_ORDER_LIFECYCLE_H_
#define MARKET_SERVICES_LISTING_ORDER_LIFECYCLE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "market/listing/v1/listing.pb.h"

namespace market::listing {

// Who changes an order: its buyer or seller, or the system (the auto-complete
// scheduler and SERVICE callers of CompleteOrder).
enum class OrderActor { kBuyer, kSeller, kSystem };

// The order state machine. Allowed (everything else is refused):
//   PLACED → CANCELLED        kBuyer, kSeller (CancelOrder)
//   PLACED → DELIVERED        kBuyer (ConfirmDelivery)
//   DELIVERED → COMPLETED     kBuyer, kSystem (CompleteOrder, auto-complete)
// PERMISSION_DENIED when `actor` never moves an order into `to`; otherwise
// FAILED_PRECONDITION with reason ORDER_NOT_CANCELLABLE (to CANCELLED),
// ORDER_NOT_PLACED (to DELIVERED), ORDER_NOT_DELIVERED (to COMPLETED) or
// ILLEGAL_STATE_TRANSITION.
absl::Status CheckOrderTransition(v1::Order::State from, v1::Order::State to, OrderActor actor);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_ORDER_LIFECYCLE_H_
