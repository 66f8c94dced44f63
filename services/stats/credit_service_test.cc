// QueryCredit over gRPC on a real server and stats.db, fed through
// RecordStatsEvent as the credit outbox relay would: the supervisor's figures
// per role, the operator's refusal, the public's months with the suppression
// of rows from fewer than 5 subjects, and the validation of group_by.
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/identity/identity_testing.h"
#include "services/stats/credit_figures.h"
#include "services/stats/credit_history_testing.h"
#include "services/stats/stats_service.h"

namespace market::stats {
namespace {

using common::v1::Role;
namespace cv1 = ::market::credit::v1;

absl::Time At(int month, int day) {
  return absl::FromCivil(absl::CivilSecond(2026, month, day, 10, 0, 0), ChinaTime());
}

class CreditServiceTest : public identity::testing::ServiceTest {
 protected:
  CreditServiceTest() : ServiceTest(At(6, 1)) {}

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    ASSERT_OK_AND_ASSIGN(store_, StatsStore::Open(TempPath("stats.db")));
    ASSERT_OK_AND_ASSIGN(service_, StatisticsServiceImpl::Create(store_.get(), &clock_, verifier_,
                                                                identity_.suspension, nullptr));
    ASSERT_OK_AND_ASSIGN(auto channel,
                         StartServer({{service_.get(), "market.stats.v1.StatisticsService"}}));
    stub_ = v1::StatisticsService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    operator_ = AddSubject("op", Role::OPERATOR);
    relay_ = AddSubject("relay", Role::SERVICE);
  }

  void Record(const std::string& event_id, const v1::FigureSnapshot& s) {
    v1::RecordStatsEventRequest req;
    req.set_event_id(event_id);
    *req.mutable_snapshot() = s;
    v1::RecordStatsEventResponse resp;
    grpc::Status st = stub_->RecordStatsEvent(Ctx(relay_).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(resp.applied());
  }

  // A MINOR record about subject k at `t` (ledger index i), and the subject's
  // standing from then on (level B).
  void MinorRecord(int i, int k, absl::Time t) {
    v1::FigureSnapshot rec;
    rec.set_entity(absl::StrCat("ledgers/main/records/", i));
    rec.set_version(1);
    *rec.mutable_time() = ToTimestamp(t);
    auto* r = rec.mutable_credit_record();
    r->set_type(cv1::Record::CLAIM_REPLY_MISSED);
    r->set_tier(cv1::Record::MINOR);
    r->set_subject(absl::StrCat("subjects/s", k));
    r->set_subject_role(Role::SELLER);
    *r->mutable_recorded_time() = rec.time();
    ASSERT_NO_FATAL_FAILURE(Record(absl::StrCat("rec-", i), rec));
    v1::FigureSnapshot st;
    st.set_entity(absl::StrCat("subjects/s", k, "/creditProfile"));
    st.set_version(i + 1);
    *st.mutable_time() = rec.time();
    st.mutable_credit_standing()->set_subject(r->subject());
    st.mutable_credit_standing()->set_subject_role(Role::SELLER);
    auto* seg = st.mutable_credit_standing()->add_segments();
    *seg->mutable_start_time() = rec.time();
    seg->set_level(cv1::CreditProfile::B);
    ASSERT_NO_FATAL_FAILURE(Record(absl::StrCat("standing-", i), st));
  }

  grpc::Status Query(const std::string& who, v1::Period period, const std::string& from,
                     v1::GroupBy group_by, v1::QueryFiguresResponse* resp) {
    v1::QueryFiguresRequest req;
    req.set_period(period);
    req.set_from_date(from);
    req.set_group_by(group_by);
    return stub_->QueryCredit(Ctx(who).get(), req, resp);
  }

  std::unique_ptr<StatsStore> store_;
  std::unique_ptr<StatisticsServiceImpl> service_;
  std::unique_ptr<v1::StatisticsService::Stub> stub_;
  std::string supervisor_, operator_, relay_;
};

TEST_F(CreditServiceTest, SupervisorSeesEachMonthPerRoleAsTheRecordsSay) {
  const testing::CreditHistory history(7, 150, At(1, 1), 20 * 60, 5);
  for (const auto& [id, s] : history.Events()) ASSERT_NO_FATAL_FAILURE(Record(id, s));
  for (const char* month : {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"}) {
    v1::QueryFiguresResponse resp;
    grpc::Status st = Query(supervisor_, v1::MONTH, month, v1::SUBJECT_ROLE, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(std::vector<std::string>(resp.columns().begin(), resp.columns().end()),
              CreditColumns());
    std::map<std::string, std::vector<int64_t>> got;
    for (const auto& r : resp.rows()) got[r.key()] = {r.values().begin(), r.values().end()};
    EXPECT_EQ(got, history.Expected(*ResolvePeriod(v1::MONTH, month, ""), true, CreditColumns()))
        << month;
    EXPECT_TRUE(got.contains("SELLER"));
  }
}

TEST_F(CreditServiceTest, EachColumnComesWithItsChineseTitle) {
  v1::QueryFiguresResponse resp;
  grpc::Status st = Query(supervisor_, v1::MONTH, "2026-03-01", v1::SUBJECT_ROLE, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.column_titles_size(), resp.columns_size());
  std::map<std::string, std::string> title;
  for (int i = 0; i < resp.columns_size(); ++i) title[resp.columns(i)] = resp.column_titles(i);
  EXPECT_EQ(title["records"], "新增信用记录");
  EXPECT_EQ(title["records_counterfeit_confirmed"], "售假");
  EXPECT_EQ(title["blacklisted"], "黑名单");
  for (const auto& [column, text] : title) EXPECT_NE(text, column) << "no Chinese title";
}

TEST_F(CreditServiceTest, AnOperatorSeesNoCreditFigures) {
  ASSERT_NO_FATAL_FAILURE(MinorRecord(0, 0, At(3, 2)));
  v1::QueryFiguresResponse resp;
  grpc::Status st = Query(operator_, v1::MONTH, "2026-03-01", v1::GROUP_BY_UNSPECIFIED, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), ::testing::HasSubstr("no market"));
}

TEST_F(CreditServiceTest, APublicMonthOfFourSubjectsIsSuppressedAndOfFiveShown) {
  for (int k = 0; k < 4; ++k) ASSERT_NO_FATAL_FAILURE(MinorRecord(k, k, At(3, 2 + k)));
  v1::QueryFiguresResponse resp;
  grpc::Status st = Query("", v1::MONTH, "2026-03-01", v1::GROUP_BY_UNSPECIFIED, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.rows_size(), 1);
  EXPECT_TRUE(resp.rows(0).suppressed());
  EXPECT_THAT(resp.rows(0).values(), ::testing::Each(0));
  ASSERT_NO_FATAL_FAILURE(MinorRecord(4, 4, At(3, 20)));
  st = Query("", v1::MONTH, "2026-03-01", v1::GROUP_BY_UNSPECIFIED, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.rows_size(), 1);
  EXPECT_FALSE(resp.rows(0).suppressed());
  EXPECT_EQ(resp.rows(0).values(0), 5);  // records
  v1::QueryFiguresResponse supervisor;
  ASSERT_TRUE(Query(supervisor_, v1::MONTH, "2026-03-01", v1::GROUP_BY_UNSPECIFIED, &supervisor).ok());
  EXPECT_THAT(resp.rows(0).values(), ::testing::ElementsAreArray(supervisor.rows(0).values()));
}

TEST_F(CreditServiceTest, APublicMonthWithRecordsOfFourSubjectsIsSuppressedAmongFiveStanding) {
  for (int k = 0; k < 5; ++k) ASSERT_NO_FATAL_FAILURE(MinorRecord(k, k, At(2, 2 + k)));
  for (int k = 0; k < 4; ++k) ASSERT_NO_FATAL_FAILURE(MinorRecord(5 + k, k, At(3, 2 + k)));
  v1::QueryFiguresResponse march, april;
  ASSERT_TRUE(Query("", v1::MONTH, "2026-03-01", v1::GROUP_BY_UNSPECIFIED, &march).ok());
  ASSERT_EQ(march.rows_size(), 1);
  EXPECT_TRUE(march.rows(0).suppressed());
  // April: no records, five subjects standing: shown.
  ASSERT_TRUE(Query("", v1::MONTH, "2026-04-01", v1::GROUP_BY_UNSPECIFIED, &april).ok());
  ASSERT_EQ(april.rows_size(), 1);
  EXPECT_FALSE(april.rows(0).suppressed());
  EXPECT_EQ(april.rows(0).values(0), 0);
}

TEST_F(CreditServiceTest, ThePublicSeesUngroupedMonthsOnly) {
  v1::QueryFiguresResponse resp;
  EXPECT_EQ(Query("", v1::MONTH, "2026-03-01", v1::SUBJECT_ROLE, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Query("", v1::WEEK, "2026-03-01", v1::GROUP_BY_UNSPECIFIED, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CreditServiceTest, AnotherGroupingIsInvalidNamingGroupBy) {
  v1::QueryFiguresResponse resp;
  grpc::Status st = Query(supervisor_, v1::MONTH, "2026-03-01", v1::MARKET, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<FieldViolation> fields = FieldViolationsOf(FromGrpcStatus(st));
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field, "group_by");
}

TEST_F(CreditServiceTest, SubjectRoleGroupsCreditFiguresOnly) {
  v1::QueryFiguresRequest req;
  req.set_period(v1::MONTH);
  req.set_from_date("2026-03-01");
  req.set_group_by(v1::SUBJECT_ROLE);
  v1::QueryFiguresResponse resp;
  grpc::Status st = stub_->QueryAfterSales(Ctx(supervisor_).get(), req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<FieldViolation> fields = FieldViolationsOf(FromGrpcStatus(st));
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field, "group_by");
}

}  // namespace
}  // namespace market::stats
