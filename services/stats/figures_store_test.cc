// FiguresStore over a real stats.db: appraisal reports and disputes of two
// firms over three months, delivered out of order and partly twice, grouped
// by firm and category and compared with the test's own computation; a later
// snapshot moves its counters; an older one changes nothing.
#include "services/stats/figures_store.h"

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/stats/figure_rules.h"

namespace market::stats {
namespace {

using Rows = std::map<std::string, std::vector<int64_t>>;

const std::vector<FigureColumn> kAppraisalColumns = {
    {"reports_filed", FigureColumn::kSum, "reports_filed"},
    {"disputes_raised", FigureColumn::kSum, "disputes_raised"},
    {"disputes_ruled", FigureColumn::kSum, "disputes_ruled"},
    {"overturned", FigureColumn::kSum, "overturned"},
    {"overturn_permille", FigureColumn::kPermille, "overturned", "disputes_ruled"},
};

absl::Time Day(int month, int day) {
  return absl::FromCivil(absl::CivilSecond(2026, month, day, 15, 0, 0), ChinaTime());
}

v1::FigureSnapshot Report(int i, int64_t version) {
  v1::FigureSnapshot s;
  s.set_entity(absl::StrCat("appraisals/r", i));
  s.set_version(version);
  s.set_firm(i % 3 == 0 ? "firms/minhou" : "firms/gulou");
  s.set_category(i % 2 == 0 ? common::v1::PHONE : common::v1::VEHICLE);
  *s.mutable_time() = ToTimestamp(Day(1 + i % 3, 1 + i % 27));
  s.mutable_appraisal()->set_filer(absl::StrCat("subjects/appraiser-", i % 4));
  *s.mutable_appraisal()->mutable_file_time() = s.time();
  return s;
}

// A dispute of report i raised 3 days after it; ruled (version 2) 10 days
// after, overturned for every third.
v1::FigureSnapshot Dispute(int i, int64_t version) {
  v1::FigureSnapshot r = Report(i, 1);
  v1::FigureSnapshot s;
  s.set_entity(absl::StrCat(r.entity(), "/disputes/d"));
  s.set_version(version);
  s.set_firm(r.firm());
  s.set_category(r.category());
  const absl::Time raised = FromTimestamp(r.time()) + absl::Hours(72);
  s.mutable_dispute()->set_raiser("subjects/buyer-1");
  *s.mutable_dispute()->mutable_raise_time() = ToTimestamp(raised);
  *s.mutable_time() = ToTimestamp(raised);
  if (version >= 2) {
    *s.mutable_time() = ToTimestamp(raised + absl::Hours(240));
    *s.mutable_dispute()->mutable_rule_time() = s.time();
    s.mutable_dispute()->set_overturned(i % 3 == 1);
  }
  return s;
}

class FiguresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, StatsStore::Open(dir_.path() + "/stats.db"));
    figures_ = std::make_unique<FiguresStore>(&store_->db());
  }

  Rows Query(DayRange range, v1::GroupBy g) {
    TradeQuery q{.range = range, .group_by = g};
    absl::StatusOr<std::vector<v1::FigureRow>> rows = figures_->Query(kAppraisalColumns, q);
    EXPECT_OK(rows.status());
    Rows out;
    if (!rows.ok()) return out;
    for (const v1::FigureRow& r : *rows) out[r.key()] = {r.values().begin(), r.values().end()};
    return out;
  }

  sqlite::testing::ScopedTempDir dir_;
  std::unique_ptr<StatsStore> store_;
  std::unique_ptr<FiguresStore> figures_;
};

TEST_F(FiguresStoreTest, AppraisalFiguresByFirmMatchAnIndependentCount) {
  // 60 reports, a dispute on every other one (raised, then ruled), shuffled,
  // with every tenth event delivered twice.
  std::vector<std::pair<std::string, v1::FigureSnapshot>> events;
  for (int i = 0; i < 60; ++i) {
    events.push_back({absl::StrCat("r", i), Report(i, 1)});
    if (i % 2 == 0) {
      events.push_back({absl::StrCat("d", i, "@1"), Dispute(i, 1)});
      events.push_back({absl::StrCat("d", i, "@2"), Dispute(i, 2)});
    }
  }
  std::mt19937 rng(13);
  std::shuffle(events.begin(), events.end(), rng);
  for (size_t k = 0; k < events.size(); ++k) {
    ASSERT_OK(figures_->Apply(events[k].first, events[k].second).status());
    if (k % 10 == 0) {
      ASSERT_OK_AND_ASSIGN(bool again, figures_->Apply(events[k].first, events[k].second));
      EXPECT_FALSE(again);
    }
  }
  for (int month = 1; month <= 4; ++month) {
    const DayRange range = *ResolvePeriod(v1::MONTH, absl::StrCat("2026-0", month, "-01"), "");
    Rows want;
    auto in = [&](absl::Time t) { return DayOf(t) >= range.first && DayOf(t) <= range.last; };
    for (int i = 0; i < 60; ++i) {
      const v1::FigureSnapshot r = Report(i, 1);
      std::vector<int64_t> add(5, 0);
      if (in(FromTimestamp(r.time()))) add[0] = 1;
      if (i % 2 == 0) {
        const v1::FigureSnapshot d = Dispute(i, 2);
        if (in(FromTimestamp(d.dispute().raise_time()))) add[1] = 1;
        if (in(FromTimestamp(d.dispute().rule_time()))) {
          add[2] = 1;
          add[3] = d.dispute().overturned() ? 1 : 0;
        }
      }
      if (add == std::vector<int64_t>(5, 0)) continue;
      auto& row = want[r.firm()];
      row.resize(5);
      for (int c = 0; c < 4; ++c) row[c] += add[c];
    }
    for (auto& [firm, row] : want) row[4] = row[2] > 0 ? row[3] * 1000 / row[2] : 0;
    EXPECT_EQ(Query(range, v1::FIRM), want) << "month " << month;
  }
  v1::RebuildTradeResponse report;
  ASSERT_OK(figures_->Rebuild(false, report));
  EXPECT_EQ(report.differences_size(), 0);
  EXPECT_GT(report.counters_checked(), 0);
}

TEST_F(FiguresStoreTest, ANewerSnapshotMovesItsCountersAndAnOlderOneChangesNothing) {
  ASSERT_OK_AND_ASSIGN(bool applied, figures_->Apply("d@2", Dispute(1, 2)));
  EXPECT_TRUE(applied);
  // The raised-only version arrives late: ignored, the ruling stays.
  ASSERT_OK_AND_ASSIGN(applied, figures_->Apply("d@1", Dispute(1, 1)));
  EXPECT_FALSE(applied);
  const DayRange year = *ResolvePeriod(v1::YEAR, "2026-01-01", "");
  EXPECT_EQ(Query(year, v1::GROUP_BY_UNSPECIFIED), (Rows{{"", {0, 1, 1, 1, 1000}}}));
  // A third version (the ruling revised: not overturned) replaces the counters.
  v1::FigureSnapshot revised = Dispute(1, 3);
  revised.mutable_dispute()->set_overturned(false);
  ASSERT_OK_AND_ASSIGN(applied, figures_->Apply("d@3", revised));
  EXPECT_TRUE(applied);
  EXPECT_EQ(Query(year, v1::GROUP_BY_UNSPECIFIED), (Rows{{"", {0, 1, 1, 0, 0}}}));
}

TEST(FigureRulesTest, AnUnansweredClaimCountsAMissedReplyOnlyOnceItsDeadlinePassed) {
  v1::FigureSnapshot s;
  s.set_entity("claims/c1");
  s.set_version(1);
  s.set_category(common::v1::PHONE);
  s.set_seller("subjects/s");
  s.mutable_claim()->set_kind(v1::ClaimSnapshot::REPAIR);
  *s.mutable_claim()->mutable_file_time() = ToTimestamp(Day(3, 2));
  *s.mutable_claim()->mutable_reply_deadline() = ToTimestamp(Day(3, 5));
  *s.mutable_time() = ToTimestamp(Day(3, 4));
  ASSERT_OK(ValidateSnapshot(s));
  auto missed = [](const std::vector<FigureCell>& cells) {
    return std::count_if(cells.begin(), cells.end(),
                         [](const FigureCell& c) { return c.metric == "replies_missed"; });
  };
  EXPECT_EQ(missed(Contributions(s)), 0);
  *s.mutable_time() = ToTimestamp(Day(3, 6));
  std::vector<FigureCell> cells = Contributions(s);
  ASSERT_EQ(missed(cells), 1);
  for (const FigureCell& c : cells) {
    if (c.metric == "replies_missed") {
      EXPECT_EQ(c.day, DayOf(Day(3, 5)));
    }
  }
}

TEST(FigureRulesTest, ASnapshotWithoutStateNamesTheField) {
  v1::FigureSnapshot s;
  s.set_entity("claims/c1");
  s.set_version(1);
  *s.mutable_time() = ToTimestamp(Day(3, 4));
  absl::Status st = ValidateSnapshot(s);
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(st).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(st)[0].field, "snapshot.state");
}

}  // namespace
}  // namespace market::stats
