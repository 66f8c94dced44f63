#include "services/listing/order_lifecycle.h"

#include <string>
#include <vector>

#include "common/status/transition_table.h"

namespace market::listing {
namespace {

using v1::Order;

std::string StateName(Order::State s) { return Order::State_Name(s); }

const TransitionTable<Order::State, OrderActor>& Table() {
  using A = OrderActor;
  static const auto* table = new TransitionTable<Order::State, OrderActor>{
      .noun = "order",
      .moves =
          {
              {Order::PLACED, Order::CANCELLED, {A::kBuyer, A::kSeller}},
              {Order::PLACED, Order::DELIVERED, {A::kBuyer}},
              {Order::DELIVERED, Order::COMPLETED, {A::kBuyer, A::kSystem}},
          },
      .reasons = {{Order::CANCELLED, "ORDER_NOT_CANCELLABLE"},
                  {Order::DELIVERED, "ORDER_NOT_PLACED"},
                  {Order::COMPLETED, "ORDER_NOT_DELIVERED"}},
      .state_name = StateName,
      // In enumerator order.
      .actor_names = {"BUYER", "SELLER", "SYSTEM"},
  };
  return *table;
}

}  // namespace

absl::Status CheckOrderTransition(Order::State from, Order::State to, OrderActor actor) {
  return CheckMove(Table(), from, to, actor);
}

}  // namespace market::listing
