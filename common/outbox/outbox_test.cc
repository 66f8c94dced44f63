#include "common/outbox/outbox.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/server/metrics.h"
#include "common/sqlite/database.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::outbox {
namespace {

using ::market::sqlite::testing::IsOkAndHolds;
using ::market::sqlite::testing::ScopedTempDir;
using ::market::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
constexpr char kCredit[] = "credit.RecordEvent";

std::vector<sqlite::Migration> Migrations() {
  return {{1, absl::StrCat(kOutboxSchema,
                           "CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL);")},
          {2, kOutboxOrderingSchema}};
}

// Options with exact backoff (no jitter) for assertions on times.
RelayOptions ExactOptions() {
  RelayOptions options;
  options.jitter = 0;
  return options;
}

// A receiver that records every call and answers from a script of statuses,
// then OK. Thread-safe.
class FakeReceiver {
 public:
  Relay::Deliverer AsDeliverer() {
    return [this](const std::string& event_id, const std::string& payload) {
      absl::MutexLock lock(&mu_);
      calls_.emplace_back(event_id, payload);
      if (auto it = fail_event_.find(event_id); it != fail_event_.end()) return it->second;
      if (script_.empty()) return absl::OkStatus();
      absl::Status next = script_.front();
      script_.pop_front();
      return next;
    };
  }
  // The next `n` calls return `status`.
  void FailNext(int n, const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < n; ++i) script_.push_back(status);
  }
  // Every call for `event_id` returns `status` (before the script is used).
  void FailEvent(const std::string& event_id, const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    fail_event_[event_id] = status;
  }
  std::vector<std::pair<std::string, std::string>> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  size_t call_count() const {
    absl::MutexLock lock(&mu_);
    return calls_.size();
  }
  // Blocks until at least `n` calls were made; false if that took over `cap`.
  bool AwaitCalls(size_t n, absl::Duration cap) const {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), cap);
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<absl::Status> script_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> fail_event_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, std::string>> calls_ ABSL_GUARDED_BY(mu_);
};

// One outbox row as stored.
struct Row {
  int64_t attempts = 0;
  absl::Time next_attempt_time;
  std::string last_error;
  bool delivered = false;
};

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenDatabase(); }

  void OpenDatabase() {
    ASSERT_OK_AND_ASSIGN(
        db_, sqlite::Database::Open(dir_.File("service.db"), sqlite::Options(), Migrations()));
  }

  // Enqueues one event (payload "payload-<id>") in its own Write at the
  // clock's time.
  absl::Status EnqueueOne(const std::string& event_id, const std::string& destination = kCredit,
                          const std::string& ordering_key = "") {
    return db_->Write([&](sqlite::Connection& c) {
      return Enqueue(c,
                     Event{event_id, destination, absl::StrCat("payload-", event_id), ordering_key},
                     clock_.Now());
    });
  }
  absl::Status EnqueueKeyed(const std::string& event_id, const std::string& ordering_key) {
    return EnqueueOne(event_id, kCredit, ordering_key);
  }

  std::unique_ptr<Relay> MakeRelay(RelayOptions options = ExactOptions()) {
    return std::make_unique<Relay>(
        db_.get(), &clock_,
        std::map<std::string, Relay::Deliverer>{{kCredit, credit_.AsDeliverer()}}, options);
  }

  Row GetRow(const std::string& event_id) {
    Row row;
    EXPECT_OK(db_->Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(
          sqlite::Statement select,
          c.Prepare("SELECT attempts, next_attempt_time, last_error, "
                    "delivered_time IS NOT NULL FROM outbox WHERE event_id = ?"));
      MARKET_RETURN_IF_ERROR(select.BindText(1, event_id));
      MARKET_ASSIGN_OR_RETURN(bool found, select.Step());
      if (!found) return absl::NotFoundError(event_id);
      row.attempts = select.ColumnInt64(0);
      row.next_attempt_time = absl::FromUnixMicros(select.ColumnInt64(1));
      row.last_error = select.ColumnText(2);
      row.delivered = select.ColumnInt64(3) != 0;
      return absl::OkStatus();
    }));
    return row;
  }

  int64_t RowCount(const std::string& table) {
    int64_t count = -1;
    EXPECT_OK(db_->Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement select,
                              c.Prepare(absl::StrCat("SELECT count(*) FROM ", table)));
      MARKET_RETURN_IF_ERROR(select.Step().status());
      count = select.ColumnInt64(0);
      return absl::OkStatus();
    }));
    return count;
  }

  ScopedTempDir dir_;
  FakeClock clock_{kStart};
  FakeReceiver credit_;
  std::unique_ptr<sqlite::Database> db_;
};

TEST_F(OutboxTest, EnqueueInWriteThatFailsLeavesNoEvent) {
  absl::Status status = db_->Write([&](sqlite::Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(Enqueue(c, Event{"ev-1", kCredit, "p"}, clock_.Now()));
    return absl::FailedPreconditionError("state change rejected");
  });

  EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(RowCount("outbox"), 0);
  EXPECT_EQ(MakeRelay()->Depth(), 0);
}

TEST_F(OutboxTest, EnqueueCommitsTogetherWithStateChange) {
  ASSERT_OK(db_->Write([&](sqlite::Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(sqlite::Statement insert,
                            c.Prepare("INSERT INTO orders(item) VALUES ('bike')"));
    MARKET_RETURN_IF_ERROR(insert.Run());
    return Enqueue(c, Event{"ev-1", kCredit, "p"}, clock_.Now());
  }));

  EXPECT_EQ(RowCount("orders"), 1);
  EXPECT_EQ(RowCount("outbox"), 1);
  Row row = GetRow("ev-1");
  EXPECT_EQ(row.attempts, 0);
  EXPECT_EQ(row.next_attempt_time, kStart);
  EXPECT_FALSE(row.delivered);
}

TEST_F(OutboxTest, EnqueueDuplicateEventIdReturnsAlreadyExists) {
  ASSERT_OK(EnqueueOne("ev-1"));

  EXPECT_THAT(EnqueueOne("ev-1"), StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("ev-1")));
  EXPECT_EQ(RowCount("outbox"), 1);
}

TEST_F(OutboxTest, EnqueueWithoutEventIdOrDestinationReturnsInvalidArgument) {
  EXPECT_THAT(EnqueueOne(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EnqueueOne("ev-1", ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(RowCount("outbox"), 0);
}

TEST_F(OutboxTest, RunOnceWithConcurrencyOneDeliversDueEventsInIdOrderWithEventId) {
  ASSERT_OK(EnqueueOne("ev-c"));
  ASSERT_OK(EnqueueOne("ev-a"));
  ASSERT_OK(EnqueueOne("ev-b"));
  RelayOptions options = ExactOptions();
  options.concurrency = 1;
  std::unique_ptr<Relay> relay = MakeRelay(options);

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(3));

  EXPECT_THAT(credit_.calls(),
              ElementsAre(Pair("ev-c", "payload-ev-c"), Pair("ev-a", "payload-ev-a"),
                          Pair("ev-b", "payload-ev-b")));
  EXPECT_TRUE(GetRow("ev-a").delivered);
  EXPECT_EQ(relay->Depth(), 0);
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  EXPECT_EQ(credit_.call_count(), 3u);
}

TEST_F(OutboxTest, RunOnceDeliversAtMostOneBatch) {
  for (int i = 0; i < 5; ++i) ASSERT_OK(EnqueueOne(absl::StrCat("ev-", i)));
  RelayOptions options = ExactOptions();
  options.batch = 2;
  std::unique_ptr<Relay> relay = MakeRelay(options);

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(2));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(2));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  EXPECT_EQ(credit_.call_count(), 5u);
}

TEST_F(OutboxTest, FailingDeliveryBacksOffExponentiallyUpToTheCap) {
  ASSERT_OK(EnqueueOne("ev-1"));
  RelayOptions options = ExactOptions();
  options.max_backoff = absl::Seconds(8);
  std::unique_ptr<Relay> relay = MakeRelay(options);
  credit_.FailNext(6, absl::UnavailableError("credit down"));

  const std::vector<absl::Duration> want = {absl::Seconds(1), absl::Seconds(2), absl::Seconds(4),
                                            absl::Seconds(8), absl::Seconds(8), absl::Seconds(8)};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("attempt ", i + 1));
    absl::Time failed_at = clock_.Now();
    EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
    Row row = GetRow("ev-1");
    EXPECT_EQ(row.attempts, static_cast<int64_t>(i + 1));
    EXPECT_EQ(row.next_attempt_time - failed_at, want[i]);
    EXPECT_THAT(row.last_error, HasSubstr("credit down"));
    EXPECT_FALSE(row.delivered);
    clock_.Set(row.next_attempt_time);
  }
  EXPECT_EQ(credit_.call_count(), want.size());
}

TEST_F(OutboxTest, NothingIsRetriedBeforeNextAttemptTime) {
  ASSERT_OK(EnqueueOne("ev-1"));
  std::unique_ptr<Relay> relay = MakeRelay();
  credit_.FailNext(1, absl::UnavailableError("credit down"));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));

  clock_.Advance(absl::Milliseconds(999));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  EXPECT_EQ(credit_.call_count(), 1u);

  clock_.Advance(absl::Milliseconds(1));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  EXPECT_EQ(credit_.call_count(), 2u);
}

TEST_F(OutboxTest, FailedEventDoesNotBlockLaterEvents) {
  ASSERT_OK(EnqueueOne("ev-1"));
  ASSERT_OK(EnqueueOne("ev-2"));
  std::unique_ptr<Relay> relay = MakeRelay();
  credit_.FailEvent("ev-1", absl::UnavailableError("credit down"));

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));

  EXPECT_FALSE(GetRow("ev-1").delivered);
  EXPECT_TRUE(GetRow("ev-2").delivered);
}

TEST_F(OutboxTest, RecoveryAfterFailuresDeliversExactlyOnce) {
  ASSERT_OK(EnqueueOne("ev-1"));
  std::unique_ptr<Relay> relay = MakeRelay();
  credit_.FailNext(3, absl::DeadlineExceededError("timeout"));

  int delivered = 0;
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(int n, relay->RunOnce());
    delivered += n;
    clock_.Advance(absl::Minutes(10));
  }

  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(credit_.call_count(), 4u);
  Row row = GetRow("ev-1");
  EXPECT_TRUE(row.delivered);
  EXPECT_EQ(row.attempts, 4);
  EXPECT_EQ(relay->Depth(), 0);
}

TEST_F(OutboxTest, ClientErrorFromDelivererIsKeptAndRetried) {
  ASSERT_OK(EnqueueOne("ev-1"));
  std::unique_ptr<Relay> relay = MakeRelay();
  credit_.FailNext(1, absl::InvalidArgumentError("event.subject: empty"));

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  EXPECT_THAT(GetRow("ev-1").last_error, HasSubstr("INVALID_ARGUMENT"));
  clock_.Advance(absl::Seconds(1));

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  EXPECT_TRUE(GetRow("ev-1").delivered);
}

TEST_F(OutboxTest, ThrowingDelivererCountsAsFailedAttempt) {
  ASSERT_OK(EnqueueOne("ev-1"));
  Relay relay(db_.get(), &clock_,
              {{kCredit,
                [](const std::string&, const std::string&) -> absl::Status {
                  throw std::runtime_error("boom");
                }}},
              ExactOptions());

  EXPECT_THAT(relay.RunOnce(), IsOkAndHolds(0));

  Row row = GetRow("ev-1");
  EXPECT_EQ(row.attempts, 1);
  EXPECT_THAT(row.last_error, HasSubstr("boom"));
}

TEST_F(OutboxTest, UnknownDestinationStaysPendingWithLastError) {
  ASSERT_OK(EnqueueOne("ev-1", "nowhere.Method"));
  std::unique_ptr<Relay> relay = MakeRelay();

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));

  Row row = GetRow("ev-1");
  EXPECT_FALSE(row.delivered);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_THAT(row.last_error, HasSubstr("nowhere.Method"));
  EXPECT_EQ(row.next_attempt_time, kStart + absl::Seconds(1));
  EXPECT_EQ(relay->Depth(), 1);
  EXPECT_EQ(credit_.call_count(), 0u);
}

TEST_F(OutboxTest, PendingEventsSurviveReopeningTheDatabase) {
  ASSERT_OK(EnqueueOne("ev-1"));
  ASSERT_OK(EnqueueOne("ev-2"));
  {
    std::unique_ptr<Relay> relay = MakeRelay();
    credit_.FailNext(2, absl::UnavailableError("credit down"));
    EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  }
  db_.reset();
  OpenDatabase();
  clock_.Advance(absl::Seconds(1));

  std::unique_ptr<Relay> relay = MakeRelay();
  EXPECT_EQ(relay->Depth(), 2);
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(2));
  EXPECT_EQ(GetRow("ev-1").attempts, 2);
  EXPECT_EQ(credit_.call_count(), 4u);
}

TEST_F(OutboxTest, DepthAndOldestAgeDescribePendingEvents) {
  std::unique_ptr<Relay> relay = MakeRelay();
  EXPECT_EQ(relay->Depth(), 0);
  EXPECT_EQ(relay->OldestAge(), absl::ZeroDuration());

  ASSERT_OK(EnqueueOne("ev-1"));
  clock_.Advance(absl::Seconds(10));
  ASSERT_OK(EnqueueOne("ev-2"));
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(relay->Depth(), 2);
  EXPECT_EQ(relay->OldestAge(), absl::Seconds(15));

  ASSERT_THAT(relay->RunOnce(), IsOkAndHolds(2));
  EXPECT_EQ(relay->Depth(), 0);
  EXPECT_EQ(relay->OldestAge(), absl::ZeroDuration());
}

TEST_F(OutboxTest, ExportMetricsRendersDepthAndAgeGauges) {
  std::unique_ptr<Relay> relay = MakeRelay();
  server::Metrics metrics;
  relay->ExportMetrics(&metrics, "listing");
  ASSERT_OK(EnqueueOne("ev-1"));
  ASSERT_OK(EnqueueOne("ev-2"));
  clock_.Advance(absl::Seconds(30));

  std::string text = metrics.Render();

  EXPECT_THAT(
      text, HasSubstr("# TYPE market_listing_outbox_depth gauge\nmarket_listing_outbox_depth 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE market_listing_outbox_oldest_age_seconds gauge\n"
                              "market_listing_outbox_oldest_age_seconds 30\n"));
}

TEST_F(OutboxTest, StartDeliversInBackgroundUntilStopped) {
  RelayOptions options = ExactOptions();
  options.poll = absl::Milliseconds(5);
  std::unique_ptr<Relay> relay = MakeRelay(options);
  relay->Start();
  ASSERT_OK(EnqueueOne("ev-1"));
  ASSERT_OK(EnqueueOne("ev-2"));

  ASSERT_TRUE(credit_.AwaitCalls(2, absl::Seconds(30))) << "the background relay never delivered";
  relay->Stop();  // a delivered event is marked before the pass looks at the stop flag

  EXPECT_EQ(relay->Depth(), 0);
  EXPECT_THAT(credit_.calls(),
              UnorderedElementsAre(Pair("ev-1", "payload-ev-1"), Pair("ev-2", "payload-ev-2")));
  ASSERT_OK(EnqueueOne("ev-3"));
  EXPECT_EQ(relay->Depth(), 1);
  EXPECT_EQ(credit_.call_count(), 2u);
}

TEST_F(OutboxTest, StopReturnsDuringALongPoll) {
  RelayOptions options = ExactOptions();
  options.poll = absl::Hours(1);
  std::unique_ptr<Relay> relay = MakeRelay(options);
  ASSERT_OK(EnqueueOne("ev-1"));
  relay->Start();
  // After its first pass delivered ev-1 the thread sleeps for the hour's poll.
  ASSERT_TRUE(credit_.AwaitCalls(1, absl::Seconds(30))) << "the background relay never ran";

  auto stopped = std::make_shared<absl::Notification>();
  std::thread stopper([r = relay.get(), stopped] {
    r->Stop();
    stopped->Notify();
  });
  if (stopped->WaitForNotificationWithTimeout(absl::Seconds(30))) {
    stopper.join();
  } else {
    ADD_FAILURE() << "Stop() waited out the poll";
    stopper.detach();
    relay.release();  // still in use by the stuck Stop(): leak it rather than destroy it
  }
}

TEST_F(OutboxTest, ConcurrentRunOnceCallsDeliverEachEventOnce) {
  for (int i = 0; i < 40; ++i) ASSERT_OK(EnqueueOne(absl::StrCat("ev-", i)));
  std::unique_ptr<Relay> relay = MakeRelay();
  std::atomic<int> delivered{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      absl::StatusOr<int> n = relay->RunOnce();
      EXPECT_OK(n.status());
      if (n.ok()) delivered += *n;
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(delivered.load(), 40);
  std::set<std::string> ids;
  for (const auto& call : credit_.calls()) ids.insert(call.first);
  EXPECT_EQ(credit_.call_count(), 40u);
  EXPECT_EQ(ids.size(), 40u);
}

// A receiver whose calls block until `gate` calls are in flight at once (or
// `cap` passed, then DEADLINE_EXCEEDED); later calls pass at once. It records
// the most calls ever in flight. Thread-safe.
class GatedReceiver {
 public:
  GatedReceiver(int gate, absl::Duration cap) : gate_(gate), cap_(cap) {}

  Relay::Deliverer AsDeliverer() {
    return [this](const std::string& event_id, const std::string&) {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      if (in_flight_ >= gate_) open_ = true;
      bool opened = mu_.AwaitWithTimeout(absl::Condition(&open_), cap_);
      --in_flight_;
      ids_.insert(event_id);
      ++calls_;
      return opened ? absl::OkStatus() : absl::DeadlineExceededError("the gate never opened");
    };
  }
  int max_in_flight() const {
    absl::MutexLock lock(&mu_);
    return max_in_flight_;
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  size_t distinct_ids() const {
    absl::MutexLock lock(&mu_);
    return ids_.size();
  }

 private:
  const int gate_;
  const absl::Duration cap_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> ids_ ABSL_GUARDED_BY(mu_);
};

TEST_F(OutboxTest, OnePassHasUpToConcurrencyDeliveriesInFlight) {
  for (int i = 0; i < 8; ++i) ASSERT_OK(EnqueueOne(absl::StrCat("ev-", i)));
  // Delivered one after another, the first call would wait out the cap alone.
  GatedReceiver receiver(/*gate=*/8, absl::Seconds(20));
  RelayOptions options = ExactOptions();
  options.concurrency = 8;
  Relay relay(db_.get(), &clock_, {{kCredit, receiver.AsDeliverer()}}, options);

  EXPECT_THAT(relay.RunOnce(), IsOkAndHolds(8));

  EXPECT_EQ(receiver.max_in_flight(), 8);
  EXPECT_EQ(relay.Depth(), 0);
}

TEST_F(OutboxTest, DeliveriesInFlightNeverExceedConcurrency) {
  for (int i = 0; i < 40; ++i) ASSERT_OK(EnqueueOne(absl::StrCat("ev-", i)));
  GatedReceiver receiver(/*gate=*/4, absl::Seconds(20));
  RelayOptions options = ExactOptions();
  options.concurrency = 4;
  Relay relay(db_.get(), &clock_, {{kCredit, receiver.AsDeliverer()}}, options);

  EXPECT_THAT(relay.RunOnce(), IsOkAndHolds(40));

  EXPECT_EQ(receiver.max_in_flight(), 4);
  EXPECT_EQ(receiver.calls(), 40);
  EXPECT_EQ(receiver.distinct_ids(), 40u);
}

TEST_F(OutboxTest, FailingEventAmongConcurrentOnesIsRescheduledAloneAndRetried) {
  for (int i = 0; i < 10; ++i) ASSERT_OK(EnqueueOne(absl::StrCat("ev-", i)));
  credit_.FailEvent("ev-3", absl::UnavailableError("credit down"));
  std::unique_ptr<Relay> relay = MakeRelay();

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(9));

  Row failed = GetRow("ev-3");
  EXPECT_FALSE(failed.delivered);
  EXPECT_EQ(failed.attempts, 1);
  EXPECT_THAT(failed.last_error, HasSubstr("credit down"));
  EXPECT_EQ(failed.next_attempt_time, kStart + absl::Seconds(1));
  for (int i : {0, 1, 2, 4, 9}) {
    Row row = GetRow(absl::StrCat("ev-", i));
    EXPECT_TRUE(row.delivered) << i;
    EXPECT_EQ(row.attempts, 1) << i;
  }
  credit_.FailEvent("ev-3", absl::OkStatus());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  EXPECT_EQ(relay->Depth(), 0);
  EXPECT_EQ(credit_.call_count(), 11u);
}

TEST_F(OutboxTest, APassRecordsAllItsOutcomesInOneWrite) {
  for (int i = 0; i < 10; ++i) ASSERT_OK(EnqueueOne(absl::StrCat("ev-", i)));
  credit_.FailEvent("ev-5", absl::UnavailableError("credit down"));
  std::unique_ptr<Relay> relay = MakeRelay();
  const uint64_t writes_before = db_->GetWriteStats().writes;

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(9));

  EXPECT_EQ(db_->GetWriteStats().writes - writes_before, 1u);
}

TEST_F(OutboxTest, PurgeDeliveredKeepsPendingAndRecentlyDeliveredEvents) {
  ASSERT_OK(EnqueueOne("old"));
  std::unique_ptr<Relay> relay = MakeRelay();
  ASSERT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  clock_.Advance(absl::Hours(1));
  ASSERT_OK(EnqueueOne("recent"));
  ASSERT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  ASSERT_OK(EnqueueOne("pending", "nowhere.Method"));

  ASSERT_OK(PurgeDelivered(*db_, kStart + absl::Minutes(30)));

  EXPECT_EQ(RowCount("outbox"), 2);
  EXPECT_TRUE(GetRow("recent").delivered);
  EXPECT_FALSE(GetRow("pending").delivered);
  EXPECT_OK(EnqueueOne("old"));
}

// Per-key ordering. Keyed test events are named "<key>-<n>" with ordering
// key "<key>".
std::string KeyOf(const std::string& event_id) { return event_id.substr(0, event_id.find('-')); }

// A receiver that sleeps a random 0-3 ms in every call and fails a call with
// probability `fail_rate`, recording per key the events it accepted (in the
// order their calls returned) and the most calls of one key, and of all keys,
// ever in flight at once. Thread-safe.
class OrderCheckingReceiver {
 public:
  explicit OrderCheckingReceiver(double fail_rate) : fail_rate_(fail_rate) {}

  Relay::Deliverer AsDeliverer() {
    return [this](const std::string& event_id, const std::string&) -> absl::Status {
      const std::string key = KeyOf(event_id);
      absl::Duration delay;
      bool fail = false;
      {
        absl::MutexLock lock(&mu_);
        max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
        max_key_in_flight_ = std::max(max_key_in_flight_, ++key_in_flight_[key]);
        delay = absl::Microseconds(std::uniform_int_distribution<int>(0, 3000)(rng_));
        fail = std::bernoulli_distribution(fail_rate_)(rng_);
      }
      absl::SleepFor(delay);
      absl::MutexLock lock(&mu_);
      --in_flight_;
      --key_in_flight_[key];
      if (fail) return absl::UnavailableError("receiver busy");
      accepted_[key].push_back(event_id);
      return absl::OkStatus();
    };
  }
  std::map<std::string, std::vector<std::string>> accepted() const {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }
  int max_in_flight() const {
    absl::MutexLock lock(&mu_);
    return max_in_flight_;
  }
  int max_key_in_flight() const {
    absl::MutexLock lock(&mu_);
    return max_key_in_flight_;
  }

 private:
  const double fail_rate_;
  mutable absl::Mutex mu_;
  std::mt19937 rng_ ABSL_GUARDED_BY(mu_){20261208};
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> key_in_flight_ ABSL_GUARDED_BY(mu_);
  int max_key_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::vector<std::string>> accepted_ ABSL_GUARDED_BY(mu_);
};

// Enqueues `per_key` events for each of `keys` keys, the keys interleaved in
// a shuffled order; returns each key's events in enqueue order.
std::map<std::string, std::vector<std::string>> EnqueueInterleaved(
    const std::function<absl::Status(const std::string&, const std::string&)>& enqueue, int keys,
    int per_key) {
  std::vector<std::string> sequence;
  for (int k = 0; k < keys; ++k) {
    for (int n = 0; n < per_key; ++n) sequence.push_back(absl::StrCat("k", k));
  }
  std::shuffle(sequence.begin(), sequence.end(), std::mt19937(7));
  std::map<std::string, std::vector<std::string>> order;
  for (const std::string& key : sequence) {
    std::vector<std::string>& events = order[key];
    events.push_back(absl::StrCat(key, "-", events.size()));
    EXPECT_OK(enqueue(events.back(), key));
  }
  return order;
}

TEST_F(OutboxTest, KeyedEventsArriveInEnqueueOrderAtConcurrency32WithRandomDelays) {
  std::map<std::string, std::vector<std::string>> want = EnqueueInterleaved(
      [&](const std::string& id, const std::string& key) { return EnqueueKeyed(id, key); },
      /*keys=*/12, /*per_key=*/25);
  OrderCheckingReceiver receiver(/*fail_rate=*/0);
  RelayOptions options = ExactOptions();
  options.concurrency = 32;
  Relay relay(db_.get(), &clock_, {{kCredit, receiver.AsDeliverer()}}, options);

  int delivered = 0;
  for (int pass = 0; pass < 10 && delivered < 300; ++pass) {
    ASSERT_OK_AND_ASSIGN(int n, relay.RunOnce());
    delivered += n;
  }

  EXPECT_EQ(delivered, 300);
  EXPECT_EQ(receiver.accepted(), want);
  EXPECT_EQ(receiver.max_key_in_flight(), 1);
  EXPECT_GT(receiver.max_in_flight(), 1) << "different keys were not delivered concurrently";
  EXPECT_EQ(relay.Depth(), 0);
}

TEST_F(OutboxTest, KeyedEventsArriveInEnqueueOrderThroughRandomFailuresAndRetries) {
  std::map<std::string, std::vector<std::string>> want = EnqueueInterleaved(
      [&](const std::string& id, const std::string& key) { return EnqueueKeyed(id, key); },
      /*keys=*/8, /*per_key=*/15);
  OrderCheckingReceiver receiver(/*fail_rate=*/0.2);
  Relay relay(db_.get(), &clock_, {{kCredit, receiver.AsDeliverer()}}, ExactOptions());

  int delivered = 0;
  for (int pass = 0; pass < 200 && delivered < 120; ++pass) {
    ASSERT_OK_AND_ASSIGN(int n, relay.RunOnce());
    delivered += n;
    clock_.Advance(absl::Seconds(1) + absl::Milliseconds(pass % 3 * 700));
  }

  EXPECT_EQ(delivered, 120);
  EXPECT_EQ(receiver.accepted(), want);
  EXPECT_EQ(receiver.max_key_in_flight(), 1);
}

TEST_F(OutboxTest, FailingEventHoldsBackLaterEventsOfItsKeyButNotOtherKeys) {
  ASSERT_OK(EnqueueKeyed("a-1", "a"));
  ASSERT_OK(EnqueueKeyed("a-2", "a"));
  ASSERT_OK(EnqueueKeyed("b-1", "b"));
  ASSERT_OK(EnqueueKeyed("b-2", "b"));
  credit_.FailEvent("a-1", absl::UnavailableError("credit down"));
  std::unique_ptr<Relay> relay = MakeRelay();

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(2));

  std::set<std::string> called;
  for (const auto& call : credit_.calls()) called.insert(call.first);
  EXPECT_THAT(called, ::testing::ElementsAre("a-1", "b-1", "b-2"));
  Row held = GetRow("a-2");
  EXPECT_EQ(held.attempts, 0);
  EXPECT_EQ(held.next_attempt_time, kStart + absl::Seconds(1));  // a-1's retry
  // While a-1 waits, a new event of its key waits too; one of b's goes ahead.
  clock_.Advance(absl::Milliseconds(500));
  ASSERT_OK(EnqueueKeyed("a-3", "a"));
  ASSERT_OK(EnqueueKeyed("b-3", "b"));
  EXPECT_EQ(GetRow("a-3").next_attempt_time, kStart + absl::Seconds(1));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));
  EXPECT_TRUE(GetRow("b-3").delivered);
  EXPECT_EQ(GetRow("a-3").attempts, 0);

  credit_.FailEvent("a-1", absl::OkStatus());
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(3));
  std::vector<std::string> a_calls;
  for (const auto& call : credit_.calls()) {
    if (KeyOf(call.first) == "a") a_calls.push_back(call.first);
  }
  EXPECT_THAT(a_calls, ElementsAre("a-1", "a-1", "a-2", "a-3"));
}

TEST_F(OutboxTest, AFailureEndsItsKeysEventsForThePass) {
  ASSERT_OK(EnqueueKeyed("a-1", "a"));
  ASSERT_OK(EnqueueKeyed("a-2", "a"));
  ASSERT_OK(EnqueueKeyed("a-3", "a"));
  credit_.FailEvent("a-2", absl::UnavailableError("credit down"));
  std::unique_ptr<Relay> relay = MakeRelay();

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(1));

  EXPECT_THAT(credit_.calls(),
              ElementsAre(Pair("a-1", "payload-a-1"), Pair("a-2", "payload-a-2")));
  EXPECT_TRUE(GetRow("a-1").delivered);
  Row waiting = GetRow("a-3");
  EXPECT_EQ(waiting.attempts, 0);
  EXPECT_EQ(waiting.next_attempt_time, kStart + absl::Seconds(1));
}

TEST_F(OutboxTest, KeyOrderHoldsAfterReopeningTheDatabase) {
  ASSERT_OK(EnqueueKeyed("a-1", "a"));
  ASSERT_OK(EnqueueKeyed("a-2", "a"));
  credit_.FailEvent("a-1", absl::UnavailableError("credit down"));
  ASSERT_THAT(MakeRelay()->RunOnce(), IsOkAndHolds(0));
  db_.reset();
  OpenDatabase();
  credit_.FailEvent("a-1", absl::OkStatus());
  std::unique_ptr<Relay> relay = MakeRelay();

  clock_.Advance(absl::Milliseconds(500));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));  // a-2 waits for a-1's retry
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(2));

  EXPECT_THAT(credit_.calls(), ElementsAre(Pair("a-1", "payload-a-1"), Pair("a-1", "payload-a-1"),
                                           Pair("a-2", "payload-a-2")));
}

TEST_F(OutboxTest, LaterEventMadeDueByHandStillWaitsForItsKey) {
  ASSERT_OK(EnqueueKeyed("a-1", "a"));
  ASSERT_OK(EnqueueKeyed("a-2", "a"));
  credit_.FailEvent("a-1", absl::UnavailableError("credit down"));
  std::unique_ptr<Relay> relay = MakeRelay();
  ASSERT_THAT(relay->RunOnce(), IsOkAndHolds(0));
  ASSERT_OK(db_->Write([&](sqlite::Connection& c) {
    return c.Exec("UPDATE outbox SET next_attempt_time = 0 WHERE event_id = 'a-2'");
  }));

  EXPECT_THAT(relay->RunOnce(), IsOkAndHolds(0));

  EXPECT_EQ(credit_.call_count(), 1u);
  EXPECT_FALSE(GetRow("a-2").delivered);
}

TEST_F(OutboxTest, SameKeyToAnotherDestinationIsNotHeldBack) {
  constexpr char kStats[] = "stats.RecordStatsEvent";
  ASSERT_OK(EnqueueOne("a-1", kCredit, "a"));
  ASSERT_OK(EnqueueOne("a-2", kStats, "a"));
  credit_.FailEvent("a-1", absl::UnavailableError("credit down"));
  FakeReceiver stats;
  Relay relay(db_.get(), &clock_,
              {{kCredit, credit_.AsDeliverer()}, {kStats, stats.AsDeliverer()}}, ExactOptions());

  EXPECT_THAT(relay.RunOnce(), IsOkAndHolds(1));

  EXPECT_TRUE(GetRow("a-2").delivered);
}

TEST(RetryDelayTest, JitterAddsAtMostTheFractionDeterministically) {
  RelayOptions options;  // jitter 0.1
  std::set<absl::Duration> seen;
  for (int i = 0; i < 50; ++i) {
    std::string event_id = absl::StrCat("ev-", i);
    absl::Duration delay = RetryDelay(options, 3, event_id);
    EXPECT_GE(delay, absl::Seconds(4));
    EXPECT_LT(delay, absl::Seconds(4) * 1.1);
    EXPECT_EQ(delay, RetryDelay(options, 3, event_id));
    seen.insert(delay);
  }
  EXPECT_GT(seen.size(), 40u);
}

TEST(RetryDelayTest, HugeAttemptCountsStayAtTheCap) {
  RelayOptions options;
  options.jitter = 0;

  EXPECT_EQ(RetryDelay(options, 1, "ev"), absl::Seconds(1));
  EXPECT_EQ(RetryDelay(options, 2'000'000'000, "ev"), absl::Minutes(5));
}

}  // namespace
}  // namespace market::outbox
