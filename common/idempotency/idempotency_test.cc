#include "common/idempotency/idempotency.h"

#include <google/protobuf/wrappers.pb.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/sqlite/database.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market {
namespace {

using ::google::protobuf::StringValue;
using ::market::testing::StatusIs;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<sqlite::Migration> migrations = {
        {1, absl::StrCat(kIdempotencySchema,
                         "CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL);")}};
    ASSERT_OK_AND_ASSIGN(db_, sqlite::Database::Open(":memory:", sqlite::Options(), migrations));
  }

  // A change that records an order for `item` and answers with its id and
  // `label`; counts how often it ran.
  std::function<absl::StatusOr<StringValue>(sqlite::Connection&)> PlaceOrder(std::string item,
                                                                             std::string label) {
    return [this, item, label](sqlite::Connection& c) -> absl::StatusOr<StringValue> {
      ++runs_;
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement insert,
                              c.Prepare("INSERT INTO orders(item) VALUES (?)"));
      MARKET_RETURN_IF_ERROR(insert.BindText(1, item));
      MARKET_RETURN_IF_ERROR(insert.Run());
      StringValue response;
      response.set_value(absl::StrCat(label, "#", c.LastInsertRowId()));
      return response;
    };
  }

  absl::StatusOr<StringValue> Place(absl::string_view caller, absl::string_view request_id,
                                    const std::string& label) {
    return RunIdempotent<StringValue>(*db_, "/market.order.v1.Orders/PlaceOrder", caller,
                                      request_id, kNow, PlaceOrder("bike", label));
  }

  int64_t OrderCount() {
    int64_t count = -1;
    absl::Status status = db_->Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement select, c.Prepare("SELECT count(*) FROM orders"));
      MARKET_RETURN_IF_ERROR(select.Step().status());
      count = select.ColumnInt64(0);
      return absl::OkStatus();
    });
    EXPECT_OK(status);
    return count;
  }

  std::unique_ptr<sqlite::Database> db_;
  std::atomic<int> runs_{0};
};

TEST_F(IdempotencyTest, ReplayReturnsFirstResponseWithoutRunningChangeAgain) {
  ASSERT_OK_AND_ASSIGN(StringValue first, Place("alice", "req-1", "first"));
  ASSERT_OK_AND_ASSIGN(StringValue replay, Place("alice", "req-1", "second"));
  EXPECT_EQ(first.value(), "first#1");
  EXPECT_EQ(replay.value(), "first#1");
  EXPECT_EQ(runs_.load(), 1);
  EXPECT_EQ(OrderCount(), 1);
}

TEST_F(IdempotencyTest, DifferentRequestIdsBothRun) {
  ASSERT_OK_AND_ASSIGN(StringValue first, Place("alice", "req-1", "first"));
  ASSERT_OK_AND_ASSIGN(StringValue second, Place("alice", "req-2", "second"));
  EXPECT_EQ(first.value(), "first#1");
  EXPECT_EQ(second.value(), "second#2");
  EXPECT_EQ(runs_.load(), 2);
  EXPECT_EQ(OrderCount(), 2);
}

TEST_F(IdempotencyTest, EmptyRequestIdAlwaysRuns) {
  ASSERT_OK_AND_ASSIGN(StringValue first, Place("alice", "", "first"));
  ASSERT_OK_AND_ASSIGN(StringValue second, Place("alice", "", "second"));
  EXPECT_EQ(second.value(), "second#2");
  EXPECT_EQ(runs_.load(), 2);
  absl::Status read = db_->Read([](sqlite::Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                            LookupResponse(c, "/market.order.v1.Orders/PlaceOrder", "alice", ""));
    EXPECT_FALSE(stored.has_value());
    return absl::OkStatus();
  });
  EXPECT_OK(read);
}

TEST_F(IdempotencyTest, FailedChangeStoresNothingAndRetryRunsAgain) {
  auto failing = [this](sqlite::Connection& c) -> absl::StatusOr<StringValue> {
    MARKET_RETURN_IF_ERROR(PlaceOrder("bike", "failed")(c).status());
    return absl::UnavailableError("payment service down");
  };
  EXPECT_THAT(RunIdempotent<StringValue>(*db_, "/market.order.v1.Orders/PlaceOrder", "alice",
                                         "req-1", kNow, failing),
              StatusIs(absl::StatusCode::kUnavailable, "payment service down"));
  EXPECT_EQ(OrderCount(), 0);  // The change's own insert was rolled back.

  ASSERT_OK_AND_ASSIGN(StringValue retry, Place("alice", "req-1", "retry"));
  EXPECT_EQ(retry.value(), "retry#1");
  EXPECT_EQ(runs_.load(), 2);
  EXPECT_EQ(OrderCount(), 1);
}

TEST_F(IdempotencyTest, SameRequestIdFromDifferentCallerIsIndependent) {
  ASSERT_OK_AND_ASSIGN(StringValue alice, Place("alice", "req-1", "alice"));
  ASSERT_OK_AND_ASSIGN(StringValue bob, Place("bob", "req-1", "bob"));
  EXPECT_EQ(alice.value(), "alice#1");
  EXPECT_EQ(bob.value(), "bob#2");
  EXPECT_EQ(runs_.load(), 2);
}

TEST_F(IdempotencyTest, SameRequestIdForDifferentMethodIsIndependent) {
  ASSERT_OK_AND_ASSIGN(StringValue placed, Place("alice", "req-1", "placed"));
  ASSERT_OK_AND_ASSIGN(StringValue other,
                       RunIdempotent<StringValue>(*db_, "/market.order.v1.Orders/Other", "alice",
                                                  "req-1", kNow, PlaceOrder("lamp", "other")));
  EXPECT_EQ(placed.value(), "placed#1");
  EXPECT_EQ(other.value(), "other#2");
}

TEST_F(IdempotencyTest, ConcurrentRetriesRunTheChangeOnce) {
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<StringValue>> responses(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(
        [&, t] { responses[t] = Place("alice", "req-1", absl::StrCat("attempt", t)); });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_OK(responses[0]);
  for (const absl::StatusOr<StringValue>& response : responses) {
    ASSERT_OK(response);
    EXPECT_EQ(response->value(), responses[0]->value());
  }
  EXPECT_EQ(runs_.load(), 1);
  EXPECT_EQ(OrderCount(), 1);
}

TEST_F(IdempotencyTest, StoringTwiceIsAlreadyExists) {
  absl::Status write = db_->Write([](sqlite::Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(StoreResponse(c, "m", "alice", "req-1", "one", kNow));
    return StoreResponse(c, "m", "alice", "req-1", "two", kNow);
  });
  EXPECT_THAT(write, StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(IdempotencyTest, PurgeDeletesOnlyResponsesOlderThanCutoff) {
  absl::Status write = db_->Write([](sqlite::Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(StoreResponse(c, "m", "alice", "old", "1", kNow - absl::Hours(48)));
    MARKET_RETURN_IF_ERROR(StoreResponse(c, "m", "alice", "new", "2", kNow - absl::Hours(1)));
    MARKET_ASSIGN_OR_RETURN(int64_t purged, PurgeOlderThan(c, kNow - absl::Hours(24)));
    EXPECT_EQ(purged, 1);
    MARKET_ASSIGN_OR_RETURN(std::optional<std::string> old_response,
                            LookupResponse(c, "m", "alice", "old"));
    MARKET_ASSIGN_OR_RETURN(std::optional<std::string> new_response,
                            LookupResponse(c, "m", "alice", "new"));
    EXPECT_EQ(old_response, std::nullopt);
    EXPECT_EQ(new_response, "2");
    return absl::OkStatus();
  });
  EXPECT_OK(write);
}

TEST_F(IdempotencyTest, ReplayedFlagIsSetOnlyForAReplay) {
  RequestKey key{"/market.order.v1.Orders/PlaceOrder", "alice", "req-flag"};
  bool replayed = false;
  ASSERT_OK(RunIdempotent<StringValue>(*db_, key, kNow, PlaceOrder("bike", "first"), &replayed));
  EXPECT_FALSE(replayed);
  ASSERT_OK_AND_ASSIGN(StringValue again, RunIdempotent<StringValue>(
                                              *db_, key, kNow, PlaceOrder("bike", "second"),
                                              &replayed));
  EXPECT_TRUE(replayed);
  EXPECT_EQ(again.value(), "first#1");
}

TEST_F(IdempotencyTest, CorruptStoredResponseIsDataLoss) {
  ASSERT_OK(db_->Write([](sqlite::Connection& c) {
    return StoreResponse(c, "/m", "alice", "req-bad", "\xff\xff not a message", kNow);
  }));
  EXPECT_THAT(RunIdempotent<StringValue>(*db_, RequestKey{"/m", "alice", "req-bad"}, kNow,
                                         PlaceOrder("bike", "x")),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(OrderCount(), 0);
}

}  // namespace
}  // namespace market
