// credit.db's outbox (credit_outbox.h) on a real SQLite file: the events an
// append enqueues in its own transaction, the stored standing segments
// against ledger::Evaluate, and the list entries that time causes.
#include "services/credit/credit_outbox.h"

#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/credit_policy.h"
#include "market/stats/v1/stats.pb.h"
#include "market/webhook/v1/webhook.pb.h"
#include "services/credit/sqlite_credit_store.h"

namespace market::credit {
namespace {

using ::market::testing::StatusIs;

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);
constexpr char kSubject[] = "subjects/seller-a";

absl::Time Day(double d) { return kNow + absl::Hours(24) * d; }

CheckpointSigner TestSigner(int64_t fail_at_size = -1) {
  auto key = std::make_shared<Ed25519PrivateKey>(*Ed25519PrivateKey::Generate());
  return [key, fail_at_size](int64_t size, const Hash& root) -> absl::StatusOr<std::string> {
    if (size == fail_at_size) return absl::UnavailableError("signer offline");
    return ledger::SignCheckpoint({"test/ledger", size, root}, "test/ledger", *key);
  };
}

// A record of kSubject of `type` that occurred at `occurred`, recorded at `recorded`.
Record Rec(Record::Type type, absl::Time occurred, absl::Time recorded = kNow,
           const std::string& counterparty = "") {
  static int next = 0;
  Record r;
  r.set_subject(kSubject);
  r.set_subject_role(common::v1::SELLER);
  r.set_type(type);
  r.set_tier(ledger::TierOf(type));
  r.set_counterparty(counterparty);
  *r.mutable_occurred_time() = ToTimestamp(occurred);
  *r.mutable_recorded_time() = ToTimestamp(recorded);
  r.set_event_id(absl::StrCat("ev-", ++next));
  return r;
}

// `n` trades with distinct buyers, one a day from `first`.
std::vector<Record> Trades(int n, absl::Time first, absl::Time recorded = kNow) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(Rec(Record::TRADE_COMPLETED, first + absl::Hours(24) * i, recorded,
                      absl::StrCat("subjects/buyer-", i)));
  }
  return out;
}

struct OutboxRow {
  std::string destination;
  std::string payload;
};

// The outbox of `store` by event id.
std::map<std::string, OutboxRow> Outbox(SqliteCreditStore& store) {
  std::map<std::string, OutboxRow> rows;
  EXPECT_OK(store.database()->Read([&](sqlite::Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(sqlite::Statement st,
                            c.Prepare("SELECT event_id, destination, payload FROM outbox"));
    for (;;) {
      MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return absl::OkStatus();
      rows[st.ColumnText(0)] = {st.ColumnText(1), st.ColumnBlob(2)};
    }
  }));
  return rows;
}

stats::v1::FigureSnapshot Snapshot(const OutboxRow& row) {
  stats::v1::RecordStatsEventRequest req;
  EXPECT_TRUE(req.ParseFromString(row.payload));
  return req.snapshot();
}

webhook::v1::Event WebhookEvent(const OutboxRow& row) {
  webhook::v1::PublishEventRequest req;
  EXPECT_TRUE(req.ParseFromString(row.payload));
  return req.event();
}

class CreditOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(int64_t fail_at_size = -1) {
    store_.reset();
    auto opened = SqliteCreditStore::Open(dir_.path() + "/credit.db", TestSigner(fail_at_size));
    ASSERT_OK(opened.status());
    store_ = *std::move(opened);
  }
  void Append(const std::vector<Record>& records) {
    for (const Record& r : records) ASSERT_OK(store_->Append(r));
  }

  sqlite::testing::ScopedTempDir dir_;
  std::unique_ptr<SqliteCreditStore> store_;
};

TEST_F(CreditOutboxTest, AppendEnqueuesTheRecordAndTheSubjectsStanding) {
  Append({Rec(Record::CLAIM_UPHELD, Day(-3))});
  std::map<std::string, OutboxRow> rows = Outbox(*store_);
  ASSERT_EQ(rows.size(), 2u);

  const OutboxRow& record = rows.at("stats-ledgers/main/records/0@1");
  EXPECT_EQ(record.destination, "stats.RecordStatsEvent");
  stats::v1::FigureSnapshot r = Snapshot(record);
  EXPECT_EQ(r.entity(), "ledgers/main/records/0");
  EXPECT_EQ(r.version(), 1);
  EXPECT_EQ(FromTimestamp(r.time()), kNow);
  EXPECT_EQ(r.credit_record().type(), Record::CLAIM_UPHELD);
  EXPECT_EQ(r.credit_record().tier(), Record::GENERAL);
  EXPECT_EQ(r.credit_record().subject(), kSubject);
  EXPECT_EQ(r.credit_record().subject_role(), common::v1::SELLER);
  EXPECT_EQ(FromTimestamp(r.credit_record().recorded_time()), kNow);

  stats::v1::FigureSnapshot s = Snapshot(rows.at("stats-subjects/seller-a/creditProfile@1"));
  EXPECT_EQ(s.version(), 1);  // the tree size after the append
  EXPECT_EQ(s.credit_standing().subject(), kSubject);
  EXPECT_EQ(s.credit_standing().subject_role(), common::v1::SELLER);
  // GENERAL (−50 → 550, B); at 600 once it leaves its 365 days, still B.
  ASSERT_EQ(s.credit_standing().segments_size(), 1);
  EXPECT_EQ(FromTimestamp(s.credit_standing().segments(0).start_time()), kNow);
  EXPECT_EQ(s.credit_standing().segments(0).level(), v1::CreditProfile::B);
  EXPECT_FALSE(s.credit_standing().segments(0).blacklisted());
}

TEST_F(CreditOutboxTest, AFailedBatchLeavesNoOutboxRows) {
  Open(/*fail_at_size=*/2);  // the checkpoint of the second record cannot be signed
  Append({Rec(Record::COMMENDATION, Day(-1))});
  const size_t before = Outbox(*store_).size();
  EXPECT_THAT(store_->Append(Rec(Record::FRAUD_CONFIRMED, Day(-1))).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Outbox(*store_).size(), before);
  EXPECT_EQ(*store_->Size(), 1);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredSegment> segs, store_->StandingSegments(kSubject));
  for (const StoredSegment& s : segs) EXPECT_FALSE(s.blacklisted);
}

TEST_F(CreditOutboxTest, AnAppendRolledBackByItsCallerLeavesNoOutboxRows) {
  absl::Status s = store_->database()->Write([&](sqlite::Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(store_->AppendInTransaction(c, Rec(Record::FRAUD_CONFIRMED, Day(-1)))
                               .status());
    return absl::AbortedError("case closing failed after the append");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_TRUE(Outbox(*store_).empty());
  EXPECT_OK(store_->database()->Write([&](sqlite::Connection& c) {
    return store_->AppendInTransaction(c, Rec(Record::FRAUD_CONFIRMED, Day(-1))).status();
  }));
  EXPECT_EQ(Outbox(*store_).size(), 3u);  // record, standing, subject.blacklisted
}

TEST_F(CreditOutboxTest, SeriousRecordEntersTheBlacklistOnceWithItsRecord) {
  Append({Rec(Record::COMMENDATION, Day(-2)), Rec(Record::FRAUD_CONFIRMED, Day(-1)),
          Rec(Record::COUNTERFEIT_CONFIRMED, Day(0))});
  std::map<std::string, OutboxRow> rows = Outbox(*store_);
  std::vector<std::string> entries;
  for (const auto& [id, row] : rows) {
    if (row.destination == "webhook.PublishEvent") entries.push_back(id);
  }
  const std::string id = absl::StrCat("subject-blacklisted:", kSubject, "@", absl::ToUnixMicros(kNow));
  ASSERT_EQ(entries, std::vector<std::string>{id});  // the second SERIOUS is no entry
  webhook::v1::Event e = WebhookEvent(rows.at(id));
  EXPECT_EQ(e.kind(), webhook::v1::SUBJECT_BLACKLISTED);
  EXPECT_EQ(e.resource(), kSubject);
  EXPECT_EQ(FromTimestamp(e.time()), kNow);
  EXPECT_EQ(e.attributes().at("blacklist_record"), "ledgers/main/records/1");
  EXPECT_EQ(e.attributes().at("subject_role"), "SELLER");
  EXPECT_EQ(e.audience_size(), 0);  // supervisors; operators are added when relayed
}

TEST_F(CreditOutboxTest, NegativeLeavingTheCleanWindowIsARedListEntryPublishedOnceWhenDue) {
  // 30 trades with distinct buyers (A at 660) but a MINOR 300 days ago: on the
  // red list once the MINOR is 365 days old.
  std::vector<Record> records = Trades(30, Day(-40));
  records.push_back(Rec(Record::CLAIM_REPLY_MISSED, Day(-300)));
  Append(records);
  const absl::Time entry = Day(-300 + 365);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredSegment> segs, store_->StandingSegments(kSubject));
  ASSERT_GE(segs.size(), 2u);
  EXPECT_FALSE(segs[0].redlisted);
  EXPECT_EQ(segs[1].start, entry);
  EXPECT_TRUE(segs[1].redlisted);
  EXPECT_TRUE(segs[1].enters_redlist);
  EXPECT_FALSE(segs[1].published);

  const std::string id = absl::StrCat("subject-redlisted:", kSubject, "@", absl::ToUnixMicros(entry));
  EXPECT_EQ(*store_->PublishDueListEntries(entry - absl::Microseconds(1)), 0);
  EXPECT_FALSE(Outbox(*store_).contains(id));
  EXPECT_EQ(*store_->PublishDueListEntries(entry + absl::Hours(1)), 1);
  EXPECT_EQ(*store_->PublishDueListEntries(entry + absl::Hours(2)), 0);
  std::map<std::string, OutboxRow> rows = Outbox(*store_);
  ASSERT_TRUE(rows.contains(id));
  webhook::v1::Event e = WebhookEvent(rows.at(id));
  EXPECT_EQ(e.kind(), webhook::v1::SUBJECT_REDLISTED);
  EXPECT_EQ(FromTimestamp(e.time()), entry);
  EXPECT_EQ(e.attributes().at("level"), "A");
}

TEST_F(CreditOutboxTest, DueEntryIsPublishedByTheNextAppendBeforeItsSegmentsAreReplaced) {
  std::vector<Record> records = Trades(30, Day(-40));
  records.push_back(Rec(Record::CLAIM_REPLY_MISSED, Day(-300)));
  Append(records);
  const absl::Time entry = Day(-300 + 365);
  // The scheduler has not run; a record appended after the entry came due.
  Append({Rec(Record::COMMENDATION, entry + absl::Hours(1), entry + absl::Hours(1))});
  EXPECT_TRUE(Outbox(*store_).contains(
      absl::StrCat("subject-redlisted:", kSubject, "@", absl::ToUnixMicros(entry))));
  EXPECT_EQ(*store_->PublishDueListEntries(entry + absl::Hours(2)), 0);
}

// Stored segments against Evaluate() over every record of the subject, at
// each segment's start, middle and last microsecond (one year past the last
// start for the open-ended one).
struct SegmentCase {
  std::string name;
  std::vector<Record> records;  // appended in order; the last one's recorded_time is "now"
  std::vector<absl::Time> starts_include;
};

void PrintTo(const SegmentCase& c, std::ostream* os) { *os << c.name; }

std::vector<SegmentCase> SegmentCases() {
  std::vector<SegmentCase> cases;
  {
    SegmentCase c{.name = "serious_expires_after_max_display"};
    c.records = Trades(3, Day(-20));
    c.records.push_back(Rec(Record::FRAUD_CONFIRMED, Day(-10)));
    c.starts_include = {Day(-10 + 1095)};
    cases.push_back(c);
  }
  {
    SegmentCase c{.name = "positives_leave_the_365_day_window"};
    c.records = Trades(30, Day(-200));  // 660 (A, red list) until they age out
    c.records.push_back(Rec(Record::CLAIM_UNFOUNDED, Day(-100)));  // −10 → 650, no red list
    // The sixth trade to age out leaves 24 counted: 648, B.
    c.starts_include = {Day(-200 + 5 + 365)};
    cases.push_back(c);
  }
  {
    SegmentCase c{.name = "repair_ends_a_general_record"};
    c.records = Trades(12, Day(-50));
    c.records.push_back(Rec(Record::CLAIM_UPHELD, Day(-30)));
    Record repaired = Rec(Record::CREDIT_REPAIRED, Day(0));
    repaired.set_tier(Record::GENERAL);
    repaired.set_refers_to(12);
    c.records.push_back(repaired);
    c.records.push_back(Rec(Record::LISTING_REMOVED, Day(-5)));
    cases.push_back(c);
  }
  {
    SegmentCase c{.name = "mixed_with_counterparty_repeats"};
    c.records = Trades(15, Day(-380));
    for (Record& r : Trades(15, Day(-20))) c.records.push_back(r);  // same buyers again
    c.records.push_back(Rec(Record::APPRAISAL_OVERTURNED, Day(-200)));
    c.records.push_back(Rec(Record::MILEAGE_ROLLBACK_CONFIRMED, Day(-1000)));
    c.records.push_back(Rec(Record::CLAIM_REPLY_MISSED, Day(-60)));
    cases.push_back(c);
  }
  return cases;
}

class StandingSegmentsTest : public CreditOutboxTest,
                             public ::testing::WithParamInterface<SegmentCase> {};

TEST_P(StandingSegmentsTest, EqualEvaluateInsideEverySegment) {
  const SegmentCase& c = GetParam();
  Append(c.records);
  ASSERT_OK_AND_ASSIGN(std::vector<Record> all, store_->RecordsOfSubject(kSubject));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredSegment> segs, store_->StandingSegments(kSubject));
  ASSERT_FALSE(segs.empty());
  EXPECT_EQ(segs.front().start, FromTimestamp(c.records.back().recorded_time()));
  for (size_t i = 0; i < segs.size(); ++i) {
    const absl::Time end = i + 1 < segs.size() ? segs[i + 1].start : segs[i].start + absl::Hours(24 * 365);
    if (i > 0) {
      EXPECT_TRUE(segs[i].level != segs[i - 1].level ||
                  segs[i].blacklisted != segs[i - 1].blacklisted ||
                  segs[i].redlisted != segs[i - 1].redlisted)
          << "segment " << i << " repeats its predecessor";
    }
    for (absl::Time t : {segs[i].start, segs[i].start + (end - segs[i].start) / 2,
                         end - absl::Microseconds(1)}) {
      ledger::Evaluation ev = ledger::Evaluate(kSubject, all, t);
      EXPECT_EQ(ev.level, segs[i].level) << "segment " << i << " at " << t;
      EXPECT_EQ(ev.blacklisted, segs[i].blacklisted) << "segment " << i << " at " << t;
      EXPECT_EQ(ev.redlisted, segs[i].redlisted) << "segment " << i << " at " << t;
    }
  }
  for (absl::Time want : c.starts_include) {
    bool found = false;
    for (const StoredSegment& s : segs) found = found || s.start == want;
    EXPECT_TRUE(found) << "no segment starts at " << want;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, StandingSegmentsTest, ::testing::ValuesIn(SegmentCases()),
                         [](const auto& info) { return info.param.name; });

// ---- Long histories: the stored rows against a computation from scratch ----

// A busy seller's record `i`: trades with 20 buyers every 36 hours (some at
// odd nanoseconds), a MINOR every 23rd, a GENERAL every 97th, a SERIOUS at
// 150; recorded at `recorded` (its occurrence plus an hour when unset).
Record BusyRecord(int i, std::optional<absl::Time> recorded = std::nullopt) {
  const absl::Time occurred = Day(-600) + absl::Hours(36) * i + absl::Nanoseconds(i % 7 * 123);
  const absl::Time at = recorded.value_or(occurred + absl::Hours(1));
  if (i == 150) return Rec(Record::FRAUD_CONFIRMED, occurred, at);
  if (i % 97 == 50) return Rec(Record::CLAIM_UPHELD, occurred, at);
  if (i % 23 == 11) return Rec(Record::CLAIM_REPLY_MISSED, occurred, at);
  return Rec(Record::TRADE_COMPLETED, occurred, at, absl::StrCat("subjects/buyer-", i % 20));
}

// The stored segments of kSubject equal ledger::StandingFromByEvaluate (the
// definition: Evaluate at every change time) over all its records, from `now`.
void ExpectSegmentsFromScratch(SqliteCreditStore& store, absl::Time now) {
  ASSERT_OK_AND_ASSIGN(std::vector<Record> all, store.RecordsOfSubject(kSubject));
  const std::vector<ledger::StandingSegment> want =
      ledger::StandingFromByEvaluate(kSubject, all, now);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredSegment> got, store.StandingSegments(kSubject));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const ledger::Evaluation& ev = want[i].evaluation;
    const bool enters_black = i > 0 && ev.blacklisted && !want[i - 1].evaluation.blacklisted;
    const bool enters_red = i > 0 && ev.redlisted && !want[i - 1].evaluation.redlisted;
    EXPECT_EQ(got[i].start, absl::FromUnixMicros(absl::ToUnixMicros(want[i].start))) << i;
    EXPECT_EQ(got[i].level, ev.level) << "segment " << i;
    EXPECT_EQ(got[i].blacklisted, ev.blacklisted) << "segment " << i;
    EXPECT_EQ(got[i].redlisted, ev.redlisted) << "segment " << i;
    EXPECT_EQ(got[i].blacklist_record, ev.blacklist_record) << "segment " << i;
    EXPECT_EQ(got[i].enters_blacklist, enters_black) << "segment " << i;
    EXPECT_EQ(got[i].enters_redlist, enters_red) << "segment " << i;
    EXPECT_EQ(got[i].published, !enters_black && !enters_red) << "segment " << i;
  }
}

TEST_F(CreditOutboxTest, LongHistoryAppendedOneAtATimeGivesTheSegmentsFromScratch) {
  for (int i = 0; i < 400; ++i) {
    ASSERT_OK(store_->Append(BusyRecord(i)));
    if (i % 50 == 49 || i == 151) {
      ExpectSegmentsFromScratch(*store_, FromTimestamp(BusyRecord(i).recorded_time()));
      if (HasFailure()) return;
    }
  }
  Record repaired = Rec(Record::CREDIT_REPAIRED, Day(-1), Day(0));
  repaired.set_refers_to(150);  // the SERIOUS record
  ASSERT_OK(store_->Append(repaired));
  ExpectSegmentsFromScratch(*store_, Day(0));
}

TEST_F(CreditOutboxTest, LongHistoryAppendedInBatchesGivesTheSegmentsFromScratch) {
  // 16 concurrent appenders: the group commit puts many records of the
  // subject into one transaction.
  std::vector<std::thread> appenders;
  for (int t = 0; t < 16; ++t) {
    appenders.emplace_back([this, t] {
      for (int i = t; i < 480; i += 16) EXPECT_OK(store_->Append(BusyRecord(i, kNow)));
    });
  }
  for (std::thread& a : appenders) a.join();
  const AppendStats stats = store_->GetAppendStats();
  EXPECT_LT(stats.batches, stats.appends);
  ExpectSegmentsFromScratch(*store_, kNow);
}

TEST_F(CreditOutboxTest, RecordsFromBeforeMigration5AreReadFromTheirLeaves) {
  for (int i = 0; i < 120; ++i) ASSERT_OK(store_->Append(BusyRecord(i, kNow)));
  // Rows written before migration 5 have no counterparty or nanos columns.
  ASSERT_OK(store_->database()->Write([](sqlite::Connection& c) {
    return c.Exec("UPDATE records SET counterparty = NULL, occurred_nanos = NULL");
  }));
  ASSERT_OK(store_->Append(BusyRecord(120, kNow)));
  ExpectSegmentsFromScratch(*store_, kNow);
}

TEST(WithSellerOperatorsTest, ASellersListEntryGetsTheOperatorsOfItsMarkets) {
  std::string delivered;
  auto deliverer = WithSellerOperators(
      [&](const std::string&, const std::string& payload) {
        delivered = payload;
        return absl::OkStatus();
      },
      [](const std::string& seller) -> absl::StatusOr<std::vector<std::string>> {
        EXPECT_EQ(seller, kSubject);
        return std::vector<std::string>{"subjects/op-2", "subjects/op-1", "subjects/op-2"};
      });
  webhook::v1::PublishEventRequest req;
  req.mutable_event()->set_kind(webhook::v1::SUBJECT_BLACKLISTED);
  req.mutable_event()->set_resource(kSubject);
  (*req.mutable_event()->mutable_attributes())["subject_role"] = "SELLER";
  ASSERT_OK(deliverer("e1", req.SerializeAsString()));
  webhook::v1::PublishEventRequest out;
  ASSERT_TRUE(out.ParseFromString(delivered));
  EXPECT_EQ(std::vector<std::string>(out.event().audience().begin(), out.event().audience().end()),
            (std::vector<std::string>{"subjects/op-1", "subjects/op-2"}));
}

TEST(WithSellerOperatorsTest, AFailedLookupFailsTheAttempt) {
  bool called = false;
  auto deliverer = WithSellerOperators(
      [&](const std::string&, const std::string&) {
        called = true;
        return absl::OkStatus();
      },
      [](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
        return absl::UnavailableError("listing down");
      });
  webhook::v1::PublishEventRequest req;
  req.mutable_event()->set_kind(webhook::v1::SUBJECT_REDLISTED);
  req.mutable_event()->set_resource(kSubject);
  (*req.mutable_event()->mutable_attributes())["subject_role"] = "SELLER";
  EXPECT_THAT(deliverer("e1", req.SerializeAsString()), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace market::credit
