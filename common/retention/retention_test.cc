// TablePurger on a real SQLite file with a FakeClock: the scheduled job
// deletes delivered outbox events after 7 days and request ids after 24 h,
// never pending events, hands a service's own finished-rows purge the same
// cutoff, and the table sizes are exported as gauges.
#include "common/retention/retention.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/idempotency/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/sqlite/statement.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::retention {
namespace {

using ::market::sqlite::testing::ScopedTempDir;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
constexpr char kCredit[] = "credit.RecordEvent";
// Real time between scheduled runs, so a test waits milliseconds for one.
constexpr absl::Duration kTestPeriod = absl::Milliseconds(5);
// Bound on waiting for scheduled runs: a job that never runs fails the test.
constexpr absl::Duration kRunTimeout = absl::Seconds(30);

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(
        db_, sqlite::Database::Open(dir_.File("service.db"), sqlite::Options(),
                                    {{1, absl::StrCat(outbox::kOutboxSchema,
                                                      outbox::kOutboxOrderingSchema,
                                                      kIdempotencySchema)}}));
    purger_ = std::make_unique<TablePurger>("listing", db_.get(), &clock_,
                                            Tables{.outbox = true, .idempotency = true});
  }
  void TearDown() override { purger_->Stop(); }

  void Enqueue(const std::string& event_id, const std::string& destination = kCredit) {
    ASSERT_OK(db_->Write([&](sqlite::Connection& c) {
      return outbox::Enqueue(c, {event_id, destination, "payload"}, clock_.Now());
    }));
  }
  // Delivers every due event to kCredit (others stay pending with an error).
  void Deliver() {
    outbox::Relay relay(db_.get(), &clock_,
                        {{kCredit, [](const std::string&, const std::string&) {
                            return absl::OkStatus();
                          }}});
    ASSERT_OK(relay.RunOnce());
  }
  void StoreRequestId(const std::string& request_id) {
    ASSERT_OK(db_->Write([&](sqlite::Connection& c) {
      return StoreResponse(c, "CreateListing", "subjects/seller", request_id, "response",
                           clock_.Now());
    }));
  }
  std::vector<std::string> EventIds() {
    std::vector<std::string> ids;
    EXPECT_OK(db_->Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement s,
                              c.Prepare("SELECT event_id FROM outbox ORDER BY id"));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) return absl::OkStatus();
        ids.push_back(s.ColumnText(0));
      }
    }));
    return ids;
  }
  std::vector<std::string> RequestIds() {
    std::vector<std::string> ids;
    EXPECT_OK(db_->Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement s,
                              c.Prepare("SELECT request_id FROM idempotency ORDER BY request_id"));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) return absl::OkStatus();
        ids.push_back(s.ColumnText(0));
      }
    }));
    return ids;
  }
  // Advances the clock by `d`, then waits for a scheduled run that started
  // after the advance (the run in progress, if any, may have read the old
  // time; the one after it has not).
  void AdvanceAndAwaitPurge(absl::Duration d) {
    const int64_t runs = purger_->job().runs();
    clock_.Advance(d);
    ASSERT_TRUE(purger_->job().AwaitRuns(runs + 2, kRunTimeout))
        << "the purge job did not run within " << kRunTimeout;
  }
  void StartJob() {
    RetentionOptions options;
    options.period = kTestPeriod;
    purger_->Start(options);
  }

  ScopedTempDir dir_;
  FakeClock clock_{kStart};
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<TablePurger> purger_;
};

TEST_F(RetentionTest, RetentionConstantsAreADayForRequestIdsAndAWeekForDeliveredEvents) {
  EXPECT_GE(kRequestIdRetention, absl::Hours(24));
  EXPECT_EQ(kDeliveredEventRetention, absl::Hours(7 * 24));
  RetentionOptions defaults;
  EXPECT_EQ(defaults.request_ids, kRequestIdRetention);
  EXPECT_EQ(defaults.delivered_events, kDeliveredEventRetention);
  EXPECT_EQ(defaults.period, kPurgePeriod);
}

TEST_F(RetentionTest, ScheduledJobDeletesDeliveredEventsOnlyAfterSevenDays) {
  Enqueue("delivered-early");
  Deliver();
  clock_.Advance(absl::Hours(24));
  Enqueue("delivered-a-day-later");
  Deliver();
  StartJob();

  // Six days after the first delivery: both are inside the window.
  AdvanceAndAwaitPurge(absl::Hours(5 * 24));
  EXPECT_THAT(EventIds(), ::testing::ElementsAre("delivered-early", "delivered-a-day-later"));
  // Seven days and an hour after the first delivery: only it is gone.
  AdvanceAndAwaitPurge(absl::Hours(24 + 1));
  EXPECT_THAT(EventIds(), ::testing::ElementsAre("delivered-a-day-later"));
  AdvanceAndAwaitPurge(absl::Hours(24));
  EXPECT_THAT(EventIds(), ::testing::IsEmpty());
}

TEST_F(RetentionTest, PendingEventsAreNeverPurged) {
  Enqueue("undeliverable", "nowhere.Method");  // no deliverer: stays pending
  Enqueue("delivered");
  Deliver();
  StartJob();
  AdvanceAndAwaitPurge(absl::Hours(365 * 24));
  EXPECT_THAT(EventIds(), ::testing::ElementsAre("undeliverable"));
  ASSERT_OK_AND_ASSIGN(TableSizes sizes, purger_->Sizes());
  EXPECT_EQ(sizes.pending_events, 1);
  EXPECT_EQ(sizes.delivered_events, 0);
}

TEST_F(RetentionTest, ScheduledJobKeepsRequestIdsForADayThenDeletesThem) {
  StoreRequestId("first");
  clock_.Advance(absl::Hours(2));
  StoreRequestId("second");
  StartJob();

  AdvanceAndAwaitPurge(absl::Hours(21));  // 23 h after "first"
  EXPECT_THAT(RequestIds(), ::testing::ElementsAre("first", "second"));
  AdvanceAndAwaitPurge(absl::Hours(2));  // 25 h after "first", 23 h after "second"
  EXPECT_THAT(RequestIds(), ::testing::ElementsAre("second"));
  AdvanceAndAwaitPurge(absl::Hours(2));
  EXPECT_THAT(RequestIds(), ::testing::IsEmpty());
}

TEST_F(RetentionTest, LongerRetentionFromOptionsIsHonoured) {
  StoreRequestId("kept");
  RetentionOptions options;
  options.period = kTestPeriod;
  options.request_ids = absl::Hours(48);
  purger_->Start(options);
  AdvanceAndAwaitPurge(absl::Hours(47));
  EXPECT_THAT(RequestIds(), ::testing::ElementsAre("kept"));
  AdvanceAndAwaitPurge(absl::Hours(2));
  EXPECT_THAT(RequestIds(), ::testing::IsEmpty());
}

TEST_F(RetentionTest, PurgeOnceReturnsDeletedRows) {
  Enqueue("old");
  Deliver();
  StoreRequestId("old");
  clock_.Advance(kDeliveredEventRetention + absl::Seconds(1));
  EXPECT_THAT(purger_->PurgeOnce(), sqlite::testing::IsOkAndHolds(2));
  EXPECT_THAT(purger_->PurgeOnce(), sqlite::testing::IsOkAndHolds(0));
}

TEST_F(RetentionTest, FinishedPurgeGetsTheDeliveredEventCutoffInAWriteTransaction) {
  std::vector<absl::Time> cutoffs;
  TablePurger purger("webhook", db_.get(), &clock_,
                     Tables{.finished = [&](sqlite::Connection& c,
                                            absl::Time before) -> absl::StatusOr<int64_t> {
                       cutoffs.push_back(before);
                       // Its rows are deleted in the purge's write transaction.
                       MARKET_RETURN_IF_ERROR(c.Exec("DELETE FROM idempotency"));
                       return c.Changes();
                     }});
  StoreRequestId("finished-row");
  EXPECT_THAT(purger.PurgeOnce(), sqlite::testing::IsOkAndHolds(1));
  EXPECT_THAT(cutoffs, ::testing::ElementsAre(clock_.Now() - kDeliveredEventRetention));
  EXPECT_THAT(RequestIds(), ::testing::IsEmpty());
}

TEST_F(RetentionTest, TableSizesAreExportedAsGaugesLabelledByService) {
  Enqueue("pending", "nowhere.Method");
  Enqueue("delivered");
  Deliver();
  StoreRequestId("a");
  StoreRequestId("b");
  StoreRequestId("c");
  server::Metrics metrics;
  purger_->ExportMetrics(&metrics);
  TablePurger credit("credit", db_.get(), &clock_, Tables{.idempotency = true});
  credit.ExportMetrics(&metrics);
  std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE market_outbox_pending_events gauge\n"
                              "market_outbox_pending_events{service=\"listing\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("market_outbox_delivered_events{service=\"listing\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE market_idempotency_keys gauge\n"
                              "market_idempotency_keys{service=\"credit\"} 3\n"
                              "market_idempotency_keys{service=\"listing\"} 3\n"));
  // A database without an outbox exports no outbox series.
  EXPECT_THAT(text, ::testing::Not(HasSubstr("service=\"credit\"} 1")));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("market_outbox_pending_events{service=\"credit\"}")));
}

TEST(RetentionFlagsTest, RequestIdRetentionBelowADayIsRefused) {
  for (const auto& [args, ok] : std::vector<std::pair<std::vector<std::string>, bool>>{
           {{"--request-id-retention-hours", "23"}, false},
           {{"--request-id-retention-hours", "36"}, true},
           {{"--delivered-event-retention-days", "30", "--purge-period", "60"}, true},
           {{"--purge-period", "0"}, false}}) {
    CLI::App app;
    RetentionOptions options;
    AddRetentionFlags(app, &options);
    std::vector<std::string> argv(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
    bool parsed = true;
    try {
      app.parse(argv);
    } catch (const CLI::ParseError&) {
      parsed = false;
    }
    EXPECT_EQ(parsed, ok) << args[0] << " " << args[1];
    if (parsed && args[1] == "36") {
      EXPECT_EQ(options.request_ids, absl::Hours(36));
    }
    if (parsed && args[1] == "30") {
      EXPECT_EQ(options.delivered_events, absl::Hours(30 * 24));
      EXPECT_EQ(options.period, absl::Seconds(60));
    }
  }
}

}  // namespace
}  // namespace market::retention
