// The credit figures over a real stats.db: a generated credit history of
// several subjects and roles over half a year (credit_history_testing.h),
// its record and standing snapshots delivered shuffled and partly twice, the
// figures of many periods compared with the test's computation from the
// records; a tampered counter is found and repaired by the rebuild.
#include "services/stats/credit_figures.h"

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/stats/credit_history_testing.h"
#include "services/stats/figure_rules.h"
#include "services/stats/figures_store.h"

namespace market::stats {
namespace {

using Rows = std::map<std::string, std::vector<int64_t>>;

absl::Time Start() {
  return absl::FromCivil(absl::CivilSecond(2026, 1, 1, 8, 0, 0), ChinaTime());
}

class CreditFiguresTest : public ::testing::Test {
 protected:
  CreditFiguresTest() : history_(9, 400, Start(), 20 * 60, 13) {}

  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, StatsStore::Open(dir_.path() + "/stats.db"));
    figures_ = std::make_unique<FiguresStore>(&store_->db());
  }

  // Every event of the history, shuffled, every seventh delivered twice.
  void DeliverShuffled() {
    auto events = history_.Events();
    std::mt19937 rng(7);
    std::shuffle(events.begin(), events.end(), rng);
    for (size_t k = 0; k < events.size(); ++k) {
      ASSERT_OK(ValidateSnapshot(events[k].second));
      ASSERT_OK_AND_ASSIGN(bool applied, figures_->Apply(events[k].first, events[k].second));
      EXPECT_TRUE(applied) << events[k].first;
      if (k % 7 == 0) {
        ASSERT_OK_AND_ASSIGN(applied, figures_->Apply(events[k].first, events[k].second));
        EXPECT_FALSE(applied);
      }
    }
  }

  Rows Query(DayRange range, bool by_role) {
    absl::StatusOr<CreditRows> got = figures_->QueryCredit(range, by_role);
    EXPECT_OK(got.status());
    Rows out;
    if (!got.ok()) return out;
    for (const v1::FigureRow& r : got->rows) out[r.key()] = {r.values().begin(), r.values().end()};
    return out;
  }

  void ExpectAllPeriodsMatch() {
    std::vector<DayRange> ranges;
    for (int month = 1; month <= 9; ++month) {
      ranges.push_back(*ResolvePeriod(v1::MONTH, absl::StrFormat("2026-%02d-01", month), ""));
    }
    ranges.push_back(*ResolvePeriod(v1::QUARTER, "2026-04-01", ""));
    ranges.push_back(*ResolvePeriod(v1::WEEK, "2026-03-11", ""));
    ranges.push_back(*ResolvePeriod(v1::CUSTOM, "2026-02-17", "2026-05-09"));
    for (int d = 0; d < 200; d += 9) {
      const int64_t day = DayOf(Start()) + d;
      ranges.push_back({day, day});
    }
    for (const DayRange& r : ranges) {
      for (bool by_role : {false, true}) {
        EXPECT_EQ(Query(r, by_role), history_.Expected(r, by_role, CreditColumns()))
            << FormatDay(r.first) << ".." << FormatDay(r.last) << " by_role=" << by_role;
      }
    }
  }

  sqlite::testing::ScopedTempDir dir_;
  std::unique_ptr<StatsStore> store_;
  std::unique_ptr<FiguresStore> figures_;
  testing::CreditHistory history_;
};

TEST_F(CreditFiguresTest, TheHistoryIsRich) {
  // The comparison below means something only if the history has it all.
  int serious = 0;
  std::set<common::v1::Role> roles;
  for (const auto& r : history_.records()) {
    serious += r.tier == credit::v1::Record::SERIOUS;
    roles.insert(r.role);
  }
  EXPECT_GE(serious, 20);
  EXPECT_EQ(roles.size(), 3u);
  int replaced = 0, expiring_blacklist = 0;
  std::set<std::string> standings;
  for (const auto& [id, s] : history_.Events()) {
    if (!s.has_credit_standing()) continue;
    replaced += !standings.insert(s.entity()).second;
    const auto& segs = s.credit_standing().segments();
    for (int i = 0; i + 1 < segs.size(); ++i) {
      expiring_blacklist += segs[i].blacklisted() && !segs[i + 1].blacklisted();
    }
  }
  EXPECT_GE(replaced, 300);
  EXPECT_GE(expiring_blacklist, 20);
}

TEST_F(CreditFiguresTest, FiguresOfEveryPeriodMatchTheRecords) {
  ASSERT_NO_FATAL_FAILURE(DeliverShuffled());
  ASSERT_NO_FATAL_FAILURE(ExpectAllPeriodsMatch());
  v1::RebuildTradeResponse report;
  ASSERT_OK(figures_->Rebuild(false, report));
  EXPECT_EQ(report.differences_size(), 0);
  EXPECT_GT(report.counters_checked(), 100);
}

TEST_F(CreditFiguresTest, AStandingDeliveredAfterANewerOneFillsItsPlace) {
  // Subject s: level A from March 1 (v1), blacklisted from March 10 (v2);
  // v2 arrives first. At the end of March 5 the subject is A; after March 10 D.
  auto standing = [](int64_t version, int day, credit::v1::CreditProfile::Level level, bool black) {
    v1::FigureSnapshot s;
    s.set_entity("subjects/s/creditProfile");
    s.set_version(version);
    *s.mutable_time() =
        ToTimestamp(absl::FromCivil(absl::CivilSecond(2026, 3, day, 12, 0, 0), ChinaTime()));
    s.mutable_credit_standing()->set_subject("subjects/s");
    s.mutable_credit_standing()->set_subject_role(common::v1::SELLER);
    auto* seg = s.mutable_credit_standing()->add_segments();
    *seg->mutable_start_time() = s.time();
    seg->set_level(level);
    seg->set_blacklisted(black);
    return s;
  };
  const std::vector<std::string>& cols = CreditColumns();
  const size_t a = std::find(cols.begin(), cols.end(), "subjects_level_a") - cols.begin();
  const size_t black = std::find(cols.begin(), cols.end(), "blacklisted") - cols.begin();
  ASSERT_OK_AND_ASSIGN(bool applied,
                       figures_->Apply("v2", standing(2, 10, credit::v1::CreditProfile::D, true)));
  EXPECT_TRUE(applied);
  const int64_t march5 = *ParseDay("2026-03-05", "d"), march20 = *ParseDay("2026-03-20", "d");
  EXPECT_TRUE(Query({march5, march5}, false).empty());
  ASSERT_OK_AND_ASSIGN(applied,
                       figures_->Apply("v1", standing(1, 1, credit::v1::CreditProfile::A, false)));
  EXPECT_TRUE(applied);
  Rows early = Query({march5, march5}, false);
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[""][a], 1);
  EXPECT_EQ(early[""][black], 0);
  Rows late = Query({march20, march20}, false);
  EXPECT_EQ(late[""][a], 0);
  EXPECT_EQ(late[""][black], 1);
  // The same version again changes nothing.
  ASSERT_OK_AND_ASSIGN(applied,
                       figures_->Apply("v1-again", standing(1, 1, credit::v1::CreditProfile::A, false)));
  EXPECT_FALSE(applied);
}

TEST_F(CreditFiguresTest, RebuildFindsAndRepairsATamperedCreditCounter) {
  ASSERT_NO_FATAL_FAILURE(DeliverShuffled());
  ASSERT_OK(store_->db().Write([](sqlite::Connection& c) {
    return c.Exec(
        "UPDATE credit_deltas SET n = n + 1 WHERE (day, metric, role) = (SELECT day, metric, "
        "role FROM credit_deltas WHERE metric = 'blacklisted' LIMIT 1)");
  }));
  v1::RebuildTradeResponse report;
  ASSERT_OK(figures_->Rebuild(false, report));
  ASSERT_EQ(report.differences_size(), 1);
  EXPECT_TRUE(absl::StartsWith(report.differences(0).counter(), "credit_deltas "))
      << report.differences(0).counter();
  EXPECT_THAT(report.differences(0).counter(), ::testing::HasSubstr("blacklisted"));
  EXPECT_EQ(report.differences(0).stored(), report.differences(0).recomputed() + 1);
  v1::RebuildTradeResponse repaired;
  ASSERT_OK(figures_->Rebuild(true, repaired));
  v1::RebuildTradeResponse after;
  ASSERT_OK(figures_->Rebuild(false, after));
  EXPECT_EQ(after.differences_size(), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectAllPeriodsMatch());
}

TEST_F(CreditFiguresTest, RebuildFindsAWrongPartyCount) {
  ASSERT_NO_FATAL_FAILURE(DeliverShuffled());
  ASSERT_OK(store_->db().Write([](sqlite::Connection& c) {
    return c.Exec("UPDATE credit_party_counts SET subjects = subjects + 1 WHERE role = '' AND "
                  "month = (SELECT MIN(month) FROM credit_party_counts)");
  }));
  v1::RebuildTradeResponse report;
  ASSERT_OK(figures_->Rebuild(false, report));
  ASSERT_EQ(report.differences_size(), 1);
  EXPECT_EQ(report.differences(0).counter(), "credit_party_counts 2026-01 *");
}

TEST(CreditRulesTest, StandingSegmentsOutOfOrderNameTheField) {
  v1::FigureSnapshot s;
  s.set_entity("subjects/s/creditProfile");
  s.set_version(3);
  *s.mutable_time() = ToTimestamp(Start());
  s.mutable_credit_standing()->set_subject("subjects/s");
  s.mutable_credit_standing()->set_subject_role(common::v1::BUYER);
  *s.mutable_credit_standing()->add_segments()->mutable_start_time() =
      ToTimestamp(Start() + absl::Hours(2));
  *s.mutable_credit_standing()->add_segments()->mutable_start_time() =
      ToTimestamp(Start() + absl::Hours(1));
  absl::Status st = ValidateSnapshot(s);
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(st).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(st)[0].field, "snapshot.credit_standing.segments[1].start_time");
}

TEST(CreditRulesTest, ARecordWithoutTierNamesTheField) {
  v1::FigureSnapshot s;
  s.set_entity("ledgers/main/records/0");
  s.set_version(1);
  *s.mutable_time() = ToTimestamp(Start());
  auto* r = s.mutable_credit_record();
  r->set_type(credit::v1::Record::FRAUD_CONFIRMED);
  r->set_subject("subjects/s");
  r->set_subject_role(common::v1::SELLER);
  *r->mutable_recorded_time() = s.time();
  absl::Status st = ValidateSnapshot(s);
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(st).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(st)[0].field, "snapshot.credit_record.tier");
}

}  // namespace
}  // namespace market::stats
