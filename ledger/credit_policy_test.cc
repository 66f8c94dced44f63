#include "ledger/credit_policy.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "market/credit/v1/credit.pb.h"

namespace market::ledger {
namespace {

using credit::v1::CreditProfile;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kSubject[] = "subjects/seller1";
const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 6, 1, 12, 0, 0), absl::UTCTimeZone());

absl::Duration Days(int64_t n) { return absl::Hours(24) * n; }

// Builds a ledger for kSubject; each Add appends at the next index.
class Ledger {
 public:
  Record& Add(Record::Type type, absl::Duration ago, const std::string& counterparty = "",
              const std::string& subject = kSubject) {
    Record& r = records_.emplace_back();
    r.set_index(static_cast<int64_t>(records_.size()) - 1);
    r.set_subject(subject);
    r.set_type(type);
    r.set_counterparty(counterparty);
    r.mutable_occurred_time()->set_seconds(absl::ToUnixSeconds(kNow - ago));
    return r;
  }
  Record& AddMeta(Record::Type type, int64_t refers_to, const std::string& subject = kSubject) {
    Record& r = Add(type, Days(0), "", subject);
    r.set_refers_to(refers_to);
    return r;
  }
  // `n` COMMENDATIONs (positive, no counterparty) today.
  void AddCommendations(int n) {
    for (int i = 0; i < n; ++i) Add(Record::COMMENDATION, Days(1));
  }
  // Trades with `n` distinct counterparties.
  void AddTrades(int n) {
    for (int i = 0; i < n; ++i) {
      Add(Record::TRADE_COMPLETED, Days(2), absl::StrCat("subjects/buyer", i));
    }
  }
  Evaluation Evaluate() const { return ledger::Evaluate(kSubject, records_, kNow); }

 private:
  std::vector<Record> records_;
};

// ---- Tables ----

TEST(CreditPolicyTablesTest, DisplayPeriodsFollowDomainTiers) {
  EXPECT_EQ(MinDisplay(Record::POSITIVE), Days(0));
  EXPECT_EQ(MaxDisplay(Record::POSITIVE), Days(365));
  EXPECT_EQ(MinDisplay(Record::MINOR), Days(0));
  EXPECT_EQ(MaxDisplay(Record::MINOR), Days(90));
  EXPECT_EQ(MinDisplay(Record::GENERAL), Days(90));
  EXPECT_EQ(MaxDisplay(Record::GENERAL), Days(365));
  EXPECT_EQ(MinDisplay(Record::SERIOUS), Days(365));
  EXPECT_EQ(MaxDisplay(Record::SERIOUS), Days(1095));
}

TEST(CreditPolicyTablesTest, TypesImplyTheirTier) {
  EXPECT_EQ(TierOf(Record::TRADE_COMPLETED), Record::POSITIVE);
  EXPECT_EQ(TierOf(Record::CLAIM_RESOLVED_ON_TIME), Record::POSITIVE);
  EXPECT_EQ(TierOf(Record::COMMENDATION), Record::POSITIVE);
  EXPECT_EQ(TierOf(Record::CLAIM_REPLY_MISSED), Record::MINOR);
  EXPECT_EQ(TierOf(Record::CLAIM_UNFOUNDED), Record::MINOR);
  EXPECT_EQ(TierOf(Record::LISTING_REMOVED), Record::MINOR);
  EXPECT_EQ(TierOf(Record::CLAIM_UPHELD), Record::GENERAL);
  EXPECT_EQ(TierOf(Record::APPRAISAL_OVERTURNED), Record::GENERAL);
  EXPECT_EQ(TierOf(Record::COUNTERFEIT_CONFIRMED), Record::SERIOUS);
  EXPECT_EQ(TierOf(Record::FRAUD_CONFIRMED), Record::SERIOUS);
  EXPECT_EQ(TierOf(Record::MILEAGE_ROLLBACK_CONFIRMED), Record::SERIOUS);
  EXPECT_EQ(TierOf(Record::UNLICENSED_OPERATION), Record::SERIOUS);
  for (Record::Type t : {Record::SANCTION_OTHER, Record::CREDIT_REPAIRED, Record::RECORD_EXPIRED,
                         Record::RECORD_WITHDRAWN, Record::TYPE_UNSPECIFIED}) {
    EXPECT_EQ(TierOf(t), Record::TIER_UNSPECIFIED) << Record::Type_Name(t);
  }
}

TEST(CreditPolicyTablesTest, MetaTypesAreRepairExpiryAndWithdrawal) {
  EXPECT_TRUE(IsMetaType(Record::CREDIT_REPAIRED));
  EXPECT_TRUE(IsMetaType(Record::RECORD_EXPIRED));
  EXPECT_TRUE(IsMetaType(Record::RECORD_WITHDRAWN));
  EXPECT_FALSE(IsMetaType(Record::SANCTION_OTHER));
  EXPECT_FALSE(IsMetaType(Record::TRADE_COMPLETED));
}

// ---- Score ----

// The header's level rule puts A at >= 650, so the 600 base is level B.
TEST(EvaluateTest, NoRecordsGivesBaseScoreAndLevelB) {
  const Evaluation ev = Ledger().Evaluate();
  EXPECT_EQ(ev.score, 600);
  EXPECT_EQ(ev.level, CreditProfile::B);
  EXPECT_FALSE(ev.blacklisted);
  EXPECT_FALSE(ev.redlisted);
  EXPECT_THAT(ev.active, IsEmpty());
  EXPECT_EQ(ev.blacklist_record, -1);
}

TEST(EvaluateTest, PositiveAddsTwo) {
  Ledger l;
  l.Add(Record::TRADE_COMPLETED, Days(3), "subjects/buyer");
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 602);
  EXPECT_EQ(ev.positive_count, 1);
}

TEST(EvaluateTest, MinorSubtractsTen) {
  Ledger l;
  l.Add(Record::CLAIM_REPLY_MISSED, Days(3));
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 590);
  EXPECT_EQ(ev.minor_count, 1);
}

TEST(EvaluateTest, GeneralSubtractsFifty) {
  Ledger l;
  l.Add(Record::CLAIM_UPHELD, Days(3));
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 550);
  EXPECT_EQ(ev.general_count, 1);
}

TEST(EvaluateTest, SeriousSubtractsTwoHundred) {
  Ledger l;
  l.Add(Record::FRAUD_CONFIRMED, Days(3));
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 400);
  EXPECT_EQ(ev.serious_count, 1);
}

TEST(EvaluateTest, ScoreClampsAtZero) {
  Ledger l;
  for (int i = 0; i < 4; ++i) l.Add(Record::COUNTERFEIT_CONFIRMED, Days(3));
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 0);
  EXPECT_EQ(ev.level, CreditProfile::D);
}

TEST(EvaluateTest, SameCounterpartyTenDaysApartCountsOnce) {
  Ledger l;
  l.Add(Record::TRADE_COMPLETED, Days(20), "subjects/buyer");
  l.Add(Record::TRADE_COMPLETED, Days(10), "subjects/buyer");
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 602);
  EXPECT_EQ(ev.positive_count, 2);  // both active, one counted
}

TEST(EvaluateTest, SameCounterpartyThirtyOneDaysApartCountsTwice) {
  Ledger l;
  l.Add(Record::TRADE_COMPLETED, Days(41), "subjects/buyer");
  l.Add(Record::TRADE_COMPLETED, Days(10), "subjects/buyer");
  EXPECT_EQ(l.Evaluate().score, 604);
}

TEST(EvaluateTest, CounterpartyWindowStartsAtTheLastCountedPositive) {
  Ledger l;  // days 0, 20 and 40 of a series: 0 and 40 count, 20 does not
  l.Add(Record::TRADE_COMPLETED, Days(50), "subjects/buyer");
  l.Add(Record::TRADE_COMPLETED, Days(30), "subjects/buyer");
  l.Add(Record::TRADE_COMPLETED, Days(10), "subjects/buyer");
  EXPECT_EQ(l.Evaluate().score, 604);
}

TEST(EvaluateTest, PositivesWithoutCounterpartyCountIndividually) {
  Ledger l;
  l.AddCommendations(3);
  EXPECT_EQ(l.Evaluate().score, 606);
}

TEST(EvaluateTest, PositivesAddAtMostOneHundred) {
  Ledger l;
  l.AddCommendations(60);
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 700);
  EXPECT_EQ(ev.positive_count, 60);
}

TEST(EvaluateTest, PositivesOlderThan365DaysStopCounting) {
  Ledger l;
  l.Add(Record::COMMENDATION, Days(364));
  l.Add(Record::COMMENDATION, Days(365));
  l.Add(Record::COMMENDATION, Days(400));
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 602);
  EXPECT_EQ(ev.positive_count, 1);
  EXPECT_THAT(ev.active, ElementsAre(0));
}

// ---- Level ----

TEST(EvaluateTest, LevelAAtSixHundredFifty) {
  Ledger l;
  l.AddCommendations(25);
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 650);
  EXPECT_EQ(ev.level, CreditProfile::A);
}

TEST(EvaluateTest, LevelBelowSixHundredFiftyIsB) {
  Ledger l;
  l.AddCommendations(24);
  EXPECT_EQ(l.Evaluate().level, CreditProfile::B);
}

TEST(EvaluateTest, GeneralRecordMakesLevelAtMostB) {
  Ledger l;
  l.AddCommendations(60);
  l.Add(Record::APPRAISAL_OVERTURNED, Days(5));
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 650);
  EXPECT_EQ(ev.level, CreditProfile::B);
}

TEST(EvaluateTest, LevelCFromFourHundredToFiveHundredFortyNine) {
  Ledger l;
  for (int i = 0; i < 4; ++i) l.Add(Record::CLAIM_UPHELD, Days(5));
  Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 400);
  EXPECT_EQ(ev.level, CreditProfile::C);
  l.AddCommendations(24);
  ev = l.Evaluate();
  EXPECT_EQ(ev.score, 448);
  EXPECT_EQ(ev.level, CreditProfile::C);
}

TEST(EvaluateTest, BelowFourHundredIsD) {
  Ledger l;
  for (int i = 0; i < 4; ++i) l.Add(Record::CLAIM_UPHELD, Days(5));
  l.Add(Record::LISTING_REMOVED, Days(5));
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 390);
  EXPECT_EQ(ev.level, CreditProfile::D);
}

TEST(EvaluateTest, ActiveSeriousRecordMeansLevelDAndBlacklist) {
  Ledger l;
  l.AddCommendations(60);
  const int64_t serious = l.Add(Record::MILEAGE_ROLLBACK_CONFIRMED, Days(5)).index();
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 500);
  EXPECT_EQ(ev.level, CreditProfile::D);
  EXPECT_TRUE(ev.blacklisted);
  EXPECT_EQ(ev.blacklist_record, serious);
}

TEST(EvaluateTest, CreditRepairedRemovesSeriousRecord) {
  Ledger l;
  const int64_t serious = l.Add(Record::COUNTERFEIT_CONFIRMED, Days(400)).index();
  l.AddMeta(Record::CREDIT_REPAIRED, serious);
  const Evaluation ev = l.Evaluate();
  EXPECT_FALSE(ev.blacklisted);
  EXPECT_EQ(ev.blacklist_record, -1);
  EXPECT_EQ(ev.serious_count, 0);
  EXPECT_EQ(ev.score, 600);
  EXPECT_THAT(ev.active, IsEmpty());
}

TEST(EvaluateTest, WithdrawnRecordStopsCounting) {
  Ledger l;
  const int64_t general = l.Add(Record::CLAIM_UPHELD, Days(5)).index();
  l.AddMeta(Record::RECORD_WITHDRAWN, general);
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 600);
  EXPECT_EQ(ev.general_count, 0);
}

TEST(EvaluateTest, SeriousRecordInactiveAfter1095Days) {
  Ledger l;
  l.Add(Record::UNLICENSED_OPERATION, Days(1095));
  Evaluation ev = l.Evaluate();
  EXPECT_FALSE(ev.blacklisted);
  EXPECT_EQ(ev.score, 600);

  Ledger still;
  still.Add(Record::UNLICENSED_OPERATION, Days(1094));
  ev = still.Evaluate();
  EXPECT_TRUE(ev.blacklisted);
  EXPECT_EQ(ev.score, 400);
}

TEST(EvaluateTest, MinorRecordInactiveAfter90Days) {
  Ledger l;
  l.Add(Record::LISTING_REMOVED, Days(89));
  l.Add(Record::LISTING_REMOVED, Days(90));
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 590);
  EXPECT_EQ(ev.minor_count, 1);
  EXPECT_THAT(ev.active, ElementsAre(0));
}

TEST(EvaluateTest, RecordsOccurringAfterNowAreNotActive) {
  Ledger l;
  l.Add(Record::FRAUD_CONFIRMED, -Days(1));
  const Evaluation ev = l.Evaluate();
  EXPECT_FALSE(ev.blacklisted);
  EXPECT_EQ(ev.score, 600);
}

TEST(EvaluateTest, TierFieldOverridesTypeForSanctionOther) {
  Ledger l;
  l.Add(Record::SANCTION_OTHER, Days(5)).set_tier(Record::SERIOUS);
  l.Add(Record::SANCTION_OTHER, Days(5));  // no tier: never active
  const Evaluation ev = l.Evaluate();
  EXPECT_TRUE(ev.blacklisted);
  EXPECT_EQ(ev.score, 400);
  EXPECT_THAT(ev.active, ElementsAre(0));
}

TEST(EvaluateTest, ActiveListsLedgerIndicesOfNonMetaRecordsAscending) {
  Ledger l;
  l.Add(Record::CLAIM_UPHELD, Days(5));
  l.Add(Record::TRADE_COMPLETED, Days(300), "subjects/b");
  l.Add(Record::CLAIM_REPLY_MISSED, Days(1));
  l.AddMeta(Record::CREDIT_REPAIRED, 0);
  const Evaluation ev = l.Evaluate();
  EXPECT_THAT(ev.active, ElementsAre(1, 2));
}

TEST(EvaluateTest, RecordsOfOtherSubjectsAreIgnored) {
  Ledger l;
  const int64_t own = l.Add(Record::FRAUD_CONFIRMED, Days(5)).index();
  l.Add(Record::FRAUD_CONFIRMED, Days(5), "", "subjects/other");
  l.AddCommendations(1);
  l.Add(Record::COMMENDATION, Days(1), "", "subjects/other");
  // Another subject's meta record does not repair our record.
  l.AddMeta(Record::CREDIT_REPAIRED, own, "subjects/other");
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 402);
  EXPECT_EQ(ev.serious_count, 1);
  EXPECT_EQ(ev.positive_count, 1);
  EXPECT_THAT(ev.active, ElementsAre(own, 2));
}

// ---- Red list ----

TEST(EvaluateTest, RedlistedWithTenDistinctTradeCounterparties) {
  Ledger l;
  l.AddTrades(10);
  l.AddCommendations(15);
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 650);
  EXPECT_EQ(ev.level, CreditProfile::A);
  EXPECT_TRUE(ev.redlisted);
}

TEST(EvaluateTest, NotRedlistedWithNineDistinctTradeCounterparties) {
  Ledger l;
  l.AddTrades(9);
  l.Add(Record::TRADE_COMPLETED, Days(1), "subjects/buyer0");  // a repeat, not a tenth
  l.AddCommendations(16);
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.level, CreditProfile::A);
  EXPECT_FALSE(ev.redlisted);
}

TEST(EvaluateTest, InactiveNegativeRecordInTrailingYearBlocksRedlist) {
  Ledger l;
  l.AddTrades(10);
  l.AddCommendations(15);
  l.Add(Record::CLAIM_REPLY_MISSED, Days(100));  // past its 90 days, inside the year
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.score, 650);
  EXPECT_EQ(ev.level, CreditProfile::A);
  EXPECT_FALSE(ev.redlisted);
}

TEST(EvaluateTest, NegativeRecordOlderThanAYearDoesNotBlockRedlist) {
  Ledger l;
  l.AddTrades(10);
  l.AddCommendations(15);
  l.Add(Record::CLAIM_REPLY_MISSED, Days(366));
  EXPECT_TRUE(l.Evaluate().redlisted);
}

TEST(EvaluateTest, RedlistNeedsLevelA) {
  Ledger l;
  l.AddTrades(12);  // 624: level B
  const Evaluation ev = l.Evaluate();
  EXPECT_EQ(ev.level, CreditProfile::B);
  EXPECT_FALSE(ev.redlisted);
}

// ---- docs/credit-policy-v1.md ----

TEST(EvaluateTest, WorkedExampleFromPolicyDocument) {
  const auto at = [](int y, int m, int d) {
    google::protobuf::Timestamp ts;
    ts.set_seconds(
        absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone())));
    return ts;
  };
  std::vector<Record> records;
  const auto add = [&](int64_t index, Record::Type type, google::protobuf::Timestamp occurred,
                       const std::string& counterparty) -> Record& {
    Record& r = records.emplace_back();
    r.set_index(index);
    r.set_subject(kSubject);
    r.set_type(type);
    r.set_counterparty(counterparty);
    *r.mutable_occurred_time() = occurred;
    return r;
  };
  add(10, Record::TRADE_COMPLETED, at(2026, 5, 1), "subjects/buyerA");
  add(11, Record::TRADE_COMPLETED, at(2026, 5, 15), "subjects/buyerA");
  add(12, Record::TRADE_COMPLETED, at(2026, 5, 20), "subjects/buyerB");
  add(13, Record::COMMENDATION, at(2026, 3, 1), "");
  add(14, Record::TRADE_COMPLETED, at(2025, 5, 1), "subjects/buyerC");
  add(15, Record::CLAIM_REPLY_MISSED, at(2026, 4, 1), "");
  add(16, Record::CLAIM_UPHELD, at(2025, 9, 1), "");
  add(17, Record::LISTING_REMOVED, at(2026, 1, 10), "");
  add(18, Record::COUNTERFEIT_CONFIRMED, at(2024, 3, 1), "");
  add(19, Record::CREDIT_REPAIRED, at(2025, 4, 2), "").set_refers_to(18);

  const Evaluation ev = Evaluate(kSubject, records, kNow);
  EXPECT_EQ(ev.score, 546);
  EXPECT_EQ(ev.level, CreditProfile::C);
  EXPECT_FALSE(ev.blacklisted);
  EXPECT_FALSE(ev.redlisted);
  EXPECT_THAT(ev.active, ElementsAre(10, 11, 12, 13, 15, 16));
  EXPECT_EQ(ev.positive_count, 4);
  EXPECT_EQ(ev.minor_count, 1);
  EXPECT_EQ(ev.general_count, 1);
  EXPECT_EQ(ev.serious_count, 0);
}

// StandingFrom() against Evaluate() on random ledgers: each segment's
// evaluation is Evaluate() at its start, and Evaluate() at every change time
// (and just before it) and at random times lies in the segment covering it.
TEST(StandingFromTest, SegmentsAgreeWithEvaluateOnRandomLedgers) {
  const Record::Type kTypes[] = {Record::TRADE_COMPLETED, Record::COMMENDATION,
                                 Record::CLAIM_REPLY_MISSED, Record::CLAIM_UPHELD,
                                 Record::FRAUD_CONFIRMED, Record::TRADE_COMPLETED};
  uint64_t seed = 12345;
  auto next = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  int redlisted_segments = 0, blacklisted_segments = 0;
  for (int round = 0; round < 80; ++round) {
    Ledger ledger;
    std::vector<Record> records;
    // Odd rounds: a busy seller (mostly trades with 30 buyers in 500 days, so
    // level A and the red list come and go), every other one with a negative
    // record; even rounds: anything in 3.5 years.
    const bool busy = round % 2 == 1;
    if (round % 4 == 1) {  // a busy seller with one negative record in its last 450 days
      records.push_back(ledger.Add(round % 8 == 1 ? Record::CLAIM_REPLY_MISSED
                                                  : Record::CLAIM_UPHELD,
                                   Days(static_cast<int64_t>(next(450)))));
    }
    const int n = busy ? 30 + static_cast<int>(next(50)) : 5 + static_cast<int>(next(60));
    for (int i = 0; i < n; ++i) {
      Record::Type type = busy && next(40) < 39 ? Record::TRADE_COMPLETED
                                               : kTypes[next(std::size(kTypes))];
      const bool trade = type == Record::TRADE_COMPLETED;
      const int64_t days_ago = static_cast<int64_t>(next(busy ? 500 : 1300));
      Record r = ledger.Add(type, Days(days_ago) - absl::Hours(next(48)),
                            trade || next(3) == 0
                                ? absl::StrCat("subjects/b", next(busy ? 30 : 14))
                                : "");
      records.push_back(r);
      if (next(12) == 0 && i > 0) {
        Record m = ledger.AddMeta(Record::CREDIT_REPAIRED, static_cast<int64_t>(next(i)));
        records.push_back(m);
      }
    }
    const absl::Time from = kNow - Days(static_cast<int64_t>(next(400)));
    std::vector<StandingSegment> segs = StandingFrom(kSubject, records, from);
    ASSERT_FALSE(segs.empty());
    EXPECT_EQ(segs.front().start, from);
    auto check = [&](absl::Time t) {
      if (t < from) return;
      size_t i = 0;
      while (i + 1 < segs.size() && segs[i + 1].start <= t) ++i;
      Evaluation want = Evaluate(kSubject, records, t);
      ASSERT_EQ(want.level, segs[i].evaluation.level) << "round " << round << " at " << t;
      ASSERT_EQ(want.blacklisted, segs[i].evaluation.blacklisted) << "round " << round;
      ASSERT_EQ(want.redlisted, segs[i].evaluation.redlisted) << "round " << round;
    };
    for (size_t i = 0; i < segs.size(); ++i) {
      Evaluation at = Evaluate(kSubject, records, segs[i].start);
      EXPECT_EQ(at.score, segs[i].evaluation.score);
      if (i > 0) {
        const Evaluation& a = segs[i - 1].evaluation;
        const Evaluation& b = segs[i].evaluation;
        EXPECT_TRUE(a.level != b.level || a.blacklisted != b.blacklisted ||
                    a.redlisted != b.redlisted);
      }
    }
    for (const Record& r : records) {
      for (absl::Time t : ChangeTimes(r)) {
        check(t);
        check(t - absl::Microseconds(1));
      }
    }
    for (int k = 0; k < 40; ++k) check(from + absl::Minutes(static_cast<int64_t>(next(2'200'000))));
    for (const StandingSegment& seg : segs) {
      redlisted_segments += seg.evaluation.redlisted;
      blacklisted_segments += seg.evaluation.blacklisted;
    }
  }
  // The generator reaches both lists, so the comparison covers their rules.
  EXPECT_GT(redlisted_segments, 3);
  EXPECT_GT(blacklisted_segments, 3);
}

// Every field of two evaluations.
void ExpectSameEvaluation(const Evaluation& got, const Evaluation& want, const std::string& where) {
  EXPECT_EQ(got.score, want.score) << where;
  EXPECT_EQ(got.level, want.level) << where;
  EXPECT_EQ(got.blacklisted, want.blacklisted) << where;
  EXPECT_EQ(got.redlisted, want.redlisted) << where;
  EXPECT_EQ(got.positive_count, want.positive_count) << where;
  EXPECT_EQ(got.minor_count, want.minor_count) << where;
  EXPECT_EQ(got.general_count, want.general_count) << where;
  EXPECT_EQ(got.serious_count, want.serious_count) << where;
  EXPECT_EQ(got.active, want.active) << where;
  EXPECT_EQ(got.blacklist_record, want.blacklist_record) << where;
}

void ExpectSameSegments(const std::vector<StandingSegment>& got,
                        const std::vector<StandingSegment>& want, const std::string& where) {
  ASSERT_EQ(got.size(), want.size()) << where;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].start, want[i].start) << where << " segment " << i;
    ExpectSameEvaluation(got[i].evaluation, want[i].evaluation,
                         absl::StrCat(where, " segment ", i));
  }
}

// A random ledger of kSubject (and a few records of another subject) using
// every rule: all tiers, tier overrides, repairs, expiries and withdrawals
// (some of unknown or foreign indices), equal times, sub-second times, records
// without a time, bursts of one counterparty, and records in the future.
std::vector<Record> RandomLedger(uint64_t& seed, int n) {
  auto next = [&seed](uint64_t m) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % m;
  };
  const Record::Type kTypes[] = {
      Record::TRADE_COMPLETED, Record::TRADE_COMPLETED, Record::TRADE_COMPLETED,
      Record::COMMENDATION,    Record::CLAIM_RESOLVED_ON_TIME, Record::CLAIM_REPLY_MISSED,
      Record::LISTING_REMOVED, Record::CLAIM_UPHELD,    Record::FRAUD_CONFIRMED,
      Record::SANCTION_OTHER};
  const Record::Type kMeta[] = {Record::CREDIT_REPAIRED, Record::RECORD_EXPIRED,
                                Record::RECORD_WITHDRAWN};
  std::vector<Record> records;
  std::vector<absl::Time> used;
  for (int i = 0; i < n; ++i) {
    Record& r = records.emplace_back();
    r.set_index(i);
    r.set_subject(next(25) == 0 ? "subjects/other" : kSubject);
    if (i > 0 && next(10) == 0) {
      r.set_type(kMeta[next(std::size(kMeta))]);
      r.set_refers_to(next(8) == 0 ? 100'000 : static_cast<int64_t>(next(i)));
      continue;
    }
    r.set_type(kTypes[next(std::size(kTypes))]);
    if (r.type() == Record::SANCTION_OTHER || next(15) == 0) {
      r.set_tier(static_cast<Record::Tier>(next(5)));  // TIER_UNSPECIFIED included
    }
    if (next(4) != 0) r.set_counterparty(absl::StrCat("subjects/b", next(next(2) ? 12 : 3)));
    if (next(40) == 0) continue;  // no occurred_time: never active
    absl::Time t;
    if (!used.empty() && next(6) == 0) {
      t = used[next(used.size())];  // the same instant as an earlier record
    } else {
      t = kNow - Days(static_cast<int64_t>(next(1300))) + absl::Hours(next(48)) +
          absl::Nanoseconds(next(3) == 0 ? next(1'000'000'000) : 0);
      if (next(20) == 0) t = kNow + Days(static_cast<int64_t>(next(200)));
    }
    used.push_back(t);
    *r.mutable_occurred_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
        absl::ToUnixNanos(t));
  }
  return records;
}

// The sweep against the definition (Evaluate() at every change time): the
// same segment starts and the same full evaluations, on ledgers up to 400
// records.
TEST(StandingFromTest, EqualsTheDefinitionOnRandomLedgers) {
  uint64_t seed = 777;
  for (int round = 0; round < 150; ++round) {
    const int n = round % 10 == 9 ? 400 : 1 + round % 90;
    std::vector<Record> records = RandomLedger(seed, n);
    for (absl::Time from : {kNow - Days(400 + round), kNow, kNow + Days(round * 3)}) {
      ExpectSameSegments(StandingFrom(kSubject, records, from),
                         StandingFromByEvaluate(kSubject, records, from),
                         absl::StrCat("round ", round, " from ", absl::FormatTime(from)));
    }
    if (HasFailure()) return;
  }
}

// A busy seller (hundreds of trades with a few dozen buyers, level A and the
// red list coming and going) against the definition.
TEST(StandingFromTest, EqualsTheDefinitionForALongBusyHistory) {
  Ledger ledger;
  std::vector<Record> records;
  int64_t counterfeit = -1;
  for (int i = 0; i < 600; ++i) {
    const absl::Duration ago = Days(1000) - absl::Hours(40) * i;
    records.push_back(i < 250 && i % 47 == 0
                          ? ledger.Add(Record::CLAIM_REPLY_MISSED, ago)
                          : ledger.Add(Record::TRADE_COMPLETED, ago,
                                       absl::StrCat("subjects/b", i % 37)));
    // Blacklisted until 805 days ago; a repaired sanction never counts.
    if (i == 100) records.push_back(ledger.Add(Record::FRAUD_CONFIRMED, Days(1900)));
    if (i == 200) {
      counterfeit = records.emplace_back(ledger.Add(Record::COUNTERFEIT_CONFIRMED, Days(500))).index();
    }
    if (i == 300) records.push_back(ledger.AddMeta(Record::CREDIT_REPAIRED, counterfeit));
  }
  const std::vector<StandingSegment> segs = StandingFrom(kSubject, records, kNow - Days(1000));
  ExpectSameSegments(segs, StandingFromByEvaluate(kSubject, records, kNow - Days(1000)), "busy");
  int redlisted = 0, blacklisted = 0;
  for (const StandingSegment& s : segs) {
    redlisted += s.evaluation.redlisted;
    blacklisted += s.evaluation.blacklisted;
  }
  EXPECT_GT(redlisted, 0);  // the history reaches both lists
  EXPECT_GT(blacklisted, 0);
}

}  // namespace
}  // namespace market::ledger
