#include "services/listing/order_lifecycle.h"

#include <string>

#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "common/status/transition_table_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::listing {
namespace {

using ::market::testing::ExpectedMoves;
using ::market::testing::ExpectEveryMove;
using ::market::testing::StatusIs;
using v1::Order;
using A = OrderActor;

std::string Name(Order::State s) { return Order::State_Name(s); }

TEST(OrderLifecycleTest, EveryStatePairAndActor) {
  const ExpectedMoves<Order::State, OrderActor> want{
      .states = {Order::STATE_UNSPECIFIED, Order::PLACED, Order::DELIVERED, Order::COMPLETED,
                 Order::CANCELLED},
      .actors = {A::kBuyer, A::kSeller, A::kSystem},
      .allowed = {{Order::PLACED, Order::CANCELLED, A::kBuyer},
                  {Order::PLACED, Order::CANCELLED, A::kSeller},
                  {Order::PLACED, Order::DELIVERED, A::kBuyer},
                  {Order::DELIVERED, Order::COMPLETED, A::kBuyer},
                  {Order::DELIVERED, Order::COMPLETED, A::kSystem}},
      .reasons = {{Order::CANCELLED, "ORDER_NOT_CANCELLABLE"},
                  {Order::DELIVERED, "ORDER_NOT_PLACED"},
                  {Order::COMPLETED, "ORDER_NOT_DELIVERED"}},
  };
  EXPECT_EQ(ExpectEveryMove(want, CheckOrderTransition, Name), 5);
}

TEST(OrderLifecycleTest, DeliveredOrderIsNotCancellable) {
  absl::Status s = CheckOrderTransition(Order::DELIVERED, Order::CANCELLED, A::kSeller);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                          ::testing::HasSubstr("DELIVERED → CANCELLED is not allowed")));
  EXPECT_EQ(ReasonOf(s), "ORDER_NOT_CANCELLABLE");
}

TEST(OrderLifecycleTest, OnlyTheBuyerConfirmsDelivery) {
  EXPECT_THAT(CheckOrderTransition(Order::PLACED, Order::DELIVERED, A::kSeller),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckOrderTransition(Order::PLACED, Order::DELIVERED, A::kSystem),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(OrderLifecycleTest, CompletingAPlacedOrderIsNotDelivered) {
  EXPECT_EQ(ReasonOf(CheckOrderTransition(Order::PLACED, Order::COMPLETED, A::kSystem)),
            "ORDER_NOT_DELIVERED");
}

}  // namespace
}  // namespace market::listing
