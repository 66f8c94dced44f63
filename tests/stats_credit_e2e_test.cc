// Credit figures end to end (issue 13): marketd in-process on loopback (real
// gRPC, real SQLite files, a FakeClock) appends four months of credit records
// through CreditService.RecordEvent — trades for sellers and buyers,
// commendations, missed replies, upheld claims, a counterfeit sanction;
// credit.db's outbox relay carries each record and each subject's standing to
// the statistics service, and StatisticsService.QueryCredit is compared with
// figures computed here: record counts from the records this test appended
// (with its own type → tier table), and the end-of-month levels and list
// sizes from GetCreditProfile of every subject read at the end of that month.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/clock/clock.h"
#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "market/stats/v1/stats.grpc.pb.h"
#include "services/identity/identity_testing.h"
#include "services/marketd/marketd.h"
#include "tests/marketd_testing.h"

namespace market {
namespace {

namespace cv1 = credit::v1;
namespace sv1 = stats::v1;
using Figures = std::map<std::string, int64_t>;  // column → value

const absl::TimeZone& China() {
  static const absl::TimeZone* tz = new absl::TimeZone(absl::FixedTimeZone(8 * 3600));
  return *tz;
}

absl::Time ChinaTime(int year, int month, int day, int hour) {
  return absl::FromCivil(absl::CivilHour(year, month, day, hour), China());
}

// The tier of each record type this test appends (DOMAIN.md §6), written
// down here rather than taken from the policy code.
std::string TierColumn(cv1::Record::Type type) {
  switch (type) {
    case cv1::Record::TRADE_COMPLETED:
    case cv1::Record::COMMENDATION: return "positive_records";
    case cv1::Record::CLAIM_REPLY_MISSED: return "minor_records";
    case cv1::Record::CLAIM_UPHELD: return "general_records";
    case cv1::Record::COUNTERFEIT_CONFIRMED: return "serious_records";
    default: return "unexpected";
  }
}

std::string LevelColumn(cv1::CreditProfile::Level level) {
  return "subjects_level_" +
         absl::AsciiStrToLower(cv1::CreditProfile::Level_Name(level));
}

class StatsCreditE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started =
        marketd::Marketd::Start(marketd::testing::RelayingOptions(dir_.path() + "/var"), &clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    marketd_ = std::move(*started);
    auto channel = marketd::testing::Channel(*marketd_);
    credit_ = cv1::CreditService::NewStub(channel);
    stats_ = sv1::StatisticsService::NewStub(channel);
    const absl::Time now = clock_.Now();
    sup_ = identity::testing::AddTestSubject(marketd_->identity(), now, "sup",
                                             {common::v1::SUPERVISOR});
    svc_ = identity::testing::AddTestSubject(marketd_->identity(), now, "svc",
                                             {common::v1::SERVICE});
  }
  void TearDown() override {
    if (marketd_ != nullptr) marketd_->Shutdown();
  }

  // Calls `rpc` on `stub` as `subject`.
  template <typename... Args>
  grpc::Status Call(Args&&... args) {
    return marketd::testing::CallAs(*marketd_, std::forward<Args>(args)...);
  }

  // Appends `type` about `subject` (as a supervisor for sanctions and
  // commendations, else as the service) and counts it for the month.
  void Record(const std::string& subject, common::v1::Role role, cv1::Record::Type type,
              const std::string& counterparty = "") {
    const bool by_supervisor =
        type == cv1::Record::COMMENDATION || type == cv1::Record::COUNTERFEIT_CONFIRMED;
    cv1::RecordEventRequest req;
    cv1::Record& r = *req.mutable_record();
    r.set_subject(subject);
    r.set_subject_role(role);
    r.set_type(type);
    r.set_counterparty(counterparty);
    if (by_supervisor) r.set_decision_document_number("SUP-2026-13");
    *r.mutable_occurred_time() = ToTimestamp(clock_.Now());
    r.set_event_id(absl::StrCat("e2e-", ++events_));
    if (!subjects_.contains(subject)) {  // a profile is read only for known subjects
      identity::testing::AddTestSubject(marketd_->identity(), clock_.Now(),
                                        subject.substr(sizeof("subjects/") - 1), {role});
    }
    cv1::RecordEventResponse resp;
    grpc::Status st =
        Call(*credit_, by_supervisor ? sup_ : svc_, &cv1::CreditService::Stub::RecordEvent, req,
             &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    subjects_[subject] = role;
    const std::string role_name = common::v1::Role_Name(role);
    for (const std::string& row : {std::string("total"), role_name}) {
      Figures& f = expected_[month_][row];
      ++f["records"];
      ++f[TierColumn(type)];
      ++f["records_" + absl::AsciiStrToLower(cv1::Record::Type_Name(type))];
    }
  }

  // Every subject's profile now (the end of the month): levels and lists.
  void CloseMonth() {
    for (const auto& [subject, role] : subjects_) {
      cv1::GetCreditProfileRequest req;
      req.set_name(subject + "/creditProfile");
      req.set_purpose("e2e statistics check");
      cv1::CreditProfile p;
      grpc::Status st = Call(*credit_, sup_, &cv1::CreditService::Stub::GetCreditProfile, req, &p);
      ASSERT_TRUE(st.ok()) << st.error_message();
      for (const std::string& row : {std::string("total"), common::v1::Role_Name(role)}) {
        Figures& f = expected_[month_][row];
        ++f[LevelColumn(p.level())];
        if (p.blacklisted()) ++f["blacklisted"];
        if (p.redlisted()) ++f["redlisted"];
      }
    }
  }

  absl::StatusOr<sv1::QueryFiguresResponse> Query(const std::string& from, sv1::GroupBy group) {
    sv1::QueryFiguresRequest req;
    req.set_period(sv1::MONTH);
    req.set_from_date(from);
    req.set_group_by(group);
    sv1::QueryFiguresResponse resp;
    grpc::Status st = Call(*stats_, sup_, &sv1::StatisticsService::Stub::QueryCredit, req, &resp);
    if (!st.ok()) return absl::InternalError(st.error_message());
    return resp;
  }

  // The non-zero figures of each row ("total" for the ungrouped row).
  static std::map<std::string, Figures> Rows(const sv1::QueryFiguresResponse& resp,
                                             bool grouped) {
    std::map<std::string, Figures> out;
    for (const sv1::FigureRow& row : resp.rows()) {
      Figures& f = out[grouped ? row.key() : "total"];
      for (int i = 0; i < resp.columns_size() && i < row.values_size(); ++i) {
        if (row.values(i) != 0) f[resp.columns(i)] = row.values(i);
      }
    }
    return out;
  }

  sqlite::testing::ScopedTempDir dir_;
  FakeClock clock_{ChinaTime(2026, 1, 3, 10)};
  std::unique_ptr<marketd::Marketd> marketd_;
  std::unique_ptr<cv1::CreditService::Stub> credit_;
  std::unique_ptr<sv1::StatisticsService::Stub> stats_;
  std::string sup_, svc_;
  int events_ = 0;
  std::string month_;
  std::map<std::string, common::v1::Role> subjects_;
  // month ("2026-01-01") → row ("total", "SELLER", "BUYER") → figures.
  std::map<std::string, std::map<std::string, Figures>> expected_;
};

TEST_F(StatsCreditE2eTest, MonthlyCreditFiguresMatchTheLedgerAndTheProfiles) {
  const std::vector<std::string> buyers = {"subjects/buyer-1", "subjects/buyer-2",
                                           "subjects/buyer-3"};
  for (int month = 1; month <= 4; ++month) {
    month_ = absl::StrFormat("2026-%02d-01", month);
    clock_.Set(ChinaTime(2026, month, 3, 10));
    // Trades: the busy seller sells to 9 new buyers a month: +2 each, so 27
    // in March reach level A (score 654 ≥ 650) with ≥ 10 distinct buyers —
    // the red list.
    for (int i = 0; i < 9; ++i) {
      const std::string buyer = absl::StrCat("subjects/buyer-m", month, "-", i);
      Record("subjects/s-busy", common::v1::SELLER, cv1::Record::TRADE_COMPLETED, buyer);
      Record(buyer, common::v1::BUYER, cv1::Record::TRADE_COMPLETED, "subjects/s-busy");
    }
    Record("subjects/s-honest", common::v1::SELLER, cv1::Record::TRADE_COMPLETED,
           buyers[month % buyers.size()]);
    Record(buyers[month % buyers.size()], common::v1::BUYER, cv1::Record::TRADE_COMPLETED,
           "subjects/s-honest");
    clock_.Set(ChinaTime(2026, month, 18, 15));
    if (month == 1) Record("subjects/s-honest", common::v1::SELLER, cv1::Record::COMMENDATION);
    if (month <= 2) Record("subjects/s-late", common::v1::SELLER, cv1::Record::CLAIM_REPLY_MISSED);
    if (month == 2) Record("subjects/s-late", common::v1::SELLER, cv1::Record::CLAIM_UPHELD);
    if (month == 3) {
      Record("subjects/s-fake", common::v1::SELLER, cv1::Record::TRADE_COMPLETED, buyers[0]);
      Record("subjects/s-fake", common::v1::SELLER, cv1::Record::COUNTERFEIT_CONFIRMED);
    }
    const absl::CivilDay last = absl::CivilDay(2026, month + 1, 1) - 1;
    clock_.Set(ChinaTime(2026, month, last.day(), 22));
    CloseMonth();
  }

  // Every record reached the statistics: April's ledger total as the check.
  const std::map<std::string, Figures> want_april = expected_["2026-04-01"];
  bool arrived = false;
  for (int i = 0; i < 200; ++i) {
    auto april = Query("2026-04-01", sv1::GROUP_BY_UNSPECIFIED);
    ASSERT_TRUE(april.ok()) << april.status();
    arrived = Rows(*april, false) == want_april;
    if (arrived) break;
    // A delivery that failed across a clock jump (the relay's token had
    // expired) is retried after its back-off, in the fake clock's seconds.
    clock_.Advance(absl::Seconds(1));
    absl::SleepFor(absl::Milliseconds(50));
  }
  for (const auto& [month, want] : expected_) {
    SCOPED_TRACE(month);
    auto total = Query(month, sv1::GROUP_BY_UNSPECIFIED);
    ASSERT_TRUE(total.ok()) << total.status();
    EXPECT_EQ(Rows(*total, false)["total"], want.at("total"));
    auto by_role = Query(month, sv1::SUBJECT_ROLE);
    ASSERT_TRUE(by_role.ok()) << by_role.status();
    std::map<std::string, Figures> got = Rows(*by_role, true);
    for (const char* role : {"SELLER", "BUYER"}) {
      EXPECT_EQ(got[role], want.at(role)) << role;
    }
  }
  // The story is in the figures: the counterfeit seller is blacklisted from
  // March, the busy seller red-listed from March.
  EXPECT_EQ(expected_["2026-02-01"]["total"]["blacklisted"], 0);
  EXPECT_EQ(expected_["2026-03-01"]["total"]["blacklisted"], 1);
  EXPECT_EQ(expected_["2026-03-01"]["total"]["redlisted"], 1);
}

}  // namespace
}  // namespace market
