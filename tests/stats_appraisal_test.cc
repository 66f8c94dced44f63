// The appraisal figures (QueryAppraisals) through the real services: three
// firms' appraisers file signed reports (phones and appliances) through
// AppraisalService over four months; listing parties dispute half of them,
// the supervisor rules on most disputes (some UPHELD, overturning the
// report; some DISMISSED; some left open), rulings often in a later month
// than the dispute. Appraisal's outbox is relayed to StatisticsService over
// gRPC, and every column of every row, grouped by FIRM and by CATEGORY, for
// every month, a quarter and a custom range, equals the test's own count of
// what it did.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/outbox/outbox.h"
#include "common/resource/resource.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "market/appraisal/v1/appraisal.grpc.pb.h"
#include "services/appraisal/appraisal_module.h"
#include "services/credit/case_events.h"
#include "services/credit/credit_events.h"
#include "services/identity/identity_testing.h"
#include "services/listing/listing_events.h"
#include "services/stats/stats_client.h"
#include "services/stats/stats_period.h"
#include "services/stats/stats_service.h"
#include "services/webhook/webhook_events.h"

namespace market::stats {
namespace {

using common::v1::Role;
namespace av1 = ::market::appraisal::v1;

// One report as the test filed it, and what became of its dispute.
struct Report {
  std::string firm;  // "firms/acme"
  common::v1::Category category;
  int64_t file_day;
  std::optional<int64_t> raise_day, rule_day;
  bool overturned = false;
};

// The figures of one group, as the test counts them.
struct Counts {
  int64_t reports_filed = 0, disputes_raised = 0, disputes_ruled = 0, overturned = 0;
};

// A valid IMEI (Luhn check digit) from a 14-digit body.
std::string Imei(int64_t n) {
  std::string body = absl::StrCat(35000000000000 + n);
  int sum = 0;
  for (int i = 0; i < 14; ++i) {
    int d = body[13 - i] - '0';
    if (i % 2 == 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return body + static_cast<char>('0' + (10 - sum % 10) % 10);
}

class StatsAppraisalTest : public identity::testing::ServiceTest {
 protected:
  StatsAppraisalTest()
      : ServiceTest(absl::FromCivil(absl::CivilSecond(2026, 1, 5, 10, 0, 0), ChinaTime())) {}

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    // Listing's part: the parties (seller, buyer) of the listings appraised.
    appraisal::ListingParties parties =
        [this](const std::string& listing) -> absl::StatusOr<std::vector<std::string>> {
      if (listing.rfind("markets/east/listings/", 0) != 0) return absl::NotFoundError(listing);
      return std::vector<std::string>{seller_, buyer_};
    };
    ASSERT_OK_AND_ASSIGN(appraisal_,
                         appraisal::OpenAppraisalModule(dir_, &clock_, TestSubjectLookup(), parties,
                                                        verifier_, identity_.suspension, nullptr));
    ASSERT_OK_AND_ASSIGN(stats_store_, StatsStore::Open(TempPath("stats.db")));
    ASSERT_OK_AND_ASSIGN(stats_,
                         StatisticsServiceImpl::Create(stats_store_.get(), &clock_, verifier_,
                                                       identity_.suspension, nullptr));
    ASSERT_OK_AND_ASSIGN(
        auto channel,
        StartServer({{appraisal_.service.get(), "market.appraisal.v1.AppraisalService"},
                     {stats_.get(), "market.stats.v1.StatisticsService"}}));
    appraisals_ = av1::AppraisalService::NewStub(channel);
    stub_ = v1::StatisticsService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    seller_ = AddSubject("seller", Role::SELLER);
    buyer_ = AddSubject("buyer", Role::BUYER);
    relay_account_ = AddSubject("relay", Role::SERVICE);
    client::TokenSource token = [this]() -> absl::StatusOr<std::string> {
      return Token(relay_account_, Role::SERVICE);
    };
    auto accept = [](const std::string&, const std::string&) { return absl::OkStatus(); };
    outbox::RelayOptions options;
    options.jitter = 0;
    // The statistics snapshots go to StatisticsService; the other
    // destinations are other tests' concern.
    relay_ =
        std::make_unique<outbox::Relay>(appraisal_.db, &clock_,
                                        std::map<std::string, outbox::Relay::Deliverer>{
                                            {kFiguresDestination, FiguresDeliverer(channel, token)},
                                            {credit::kCreditDestination, accept},
                                            {credit::kCaseDestination, accept},
                                            {listing::kObservationDestination, accept},
                                            {webhook::kWebhookDestination, accept}},
                                        options);
    // acme: phones and appliances; beta: phones; gamma: appliances.
    AddFirm("acme", {common::v1::PHONE, common::v1::APPLIANCE});
    AddFirm("beta", {common::v1::PHONE});
    AddFirm("gamma", {common::v1::APPLIANCE});
  }

  struct Firm {
    std::string subject, appraiser, key_name;
    std::unique_ptr<Ed25519PrivateKey> key;
    std::vector<common::v1::Category> categories;
  };

  void AddFirm(const std::string& id, std::vector<common::v1::Category> categories) {
    Firm& f = firms_["firms/" + id];
    f.subject = AddSubject(id, Role::APPRAISAL_FIRM);
    f.appraiser = AddSubject(id + "-appraiser", Role::APPRAISER, f.subject);
    f.key = std::make_unique<Ed25519PrivateKey>(*Ed25519PrivateKey::Generate());
    f.categories = categories;
    av1::RegisterSigningKeyRequest key;
    key.set_parent("firms/" + id);
    key.set_key_id(id + "-2026");
    key.mutable_signing_key()->set_public_key(f.key->PublicKeyRaw());
    av1::SigningKey registered;
    grpc::Status s = appraisals_->RegisterSigningKey(Ctx(f.subject).get(), key, &registered);
    ASSERT_TRUE(s.ok()) << s.error_message();
    f.key_name = registered.name();
    av1::GrantAccreditationRequest grant;
    grant.set_parent("firms/" + id);
    grant.set_accreditation_id(id + "-2026");
    for (auto c : categories) grant.mutable_accreditation()->add_categories(c);
    *grant.mutable_accreditation()->mutable_valid_from() =
        ToTimestamp(clock_.Now() - absl::Hours(24 * 30));
    *grant.mutable_accreditation()->mutable_valid_until() =
        ToTimestamp(clock_.Now() + absl::Hours(24 * 400));
    grant.mutable_accreditation()->set_certificate_number("闽鉴字 2026-" + id);
    av1::Accreditation accreditation;
    s = appraisals_->GrantAccreditation(Ctx(supervisor_).get(), grant, &accreditation);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // The signed content of report `n` by `firm` of `category`.
  av1::AppraisalContent Content(int n, const std::string& firm, common::v1::Category category) {
    av1::AppraisalContent c;
    c.set_report_number(absl::StrCat("R-2026-", n));
    c.set_firm(firm);
    c.set_firm_credit_code("91350100M000100Y43");
    c.set_appraiser(firms_[firm].appraiser);
    c.set_appraiser_qualification_number("ZG-2026-0042");
    c.set_listing(absl::StrCat("markets/east/listings/item-", n));
    c.set_category(category);
    common::v1::GradeRef* g = c.add_grades();
    g->set_version(1);
    if (category == common::v1::PHONE) {
      c.mutable_identifiers()->set_imei(Imei(n));
      c.mutable_identifiers()->set_brand("Huawei");
      c.mutable_identifiers()->set_model("Mate 60 Pro");
      g->set_scheme("phone-cosmetic-v1");
      g->set_level("95新");
      common::v1::GradeRef* f = c.add_grades();
      f->set_scheme("phone-function-v1");
      f->set_version(1);
      f->set_level("0");
    } else {
      c.mutable_identifiers()->set_brand("Haier");
      c.mutable_identifiers()->set_model("BCD-216");
      c.mutable_identifiers()->set_serial_number(absl::StrCat("SN-", n));
      g->set_scheme("general-condition-v1");
      g->set_level("9成新");
    }
    auto* item = c.add_inspection_items();
    item->set_code("appearance");
    item->set_result(av1::InspectionItem::NORMAL);
    c.mutable_appraised_value_min()->set_amount_fen(100000 + n);
    c.mutable_appraised_value_max()->set_amount_fen(120000 + n);
    *c.mutable_inspected_time() = ToTimestamp(clock_.Now() - absl::Hours(2));
    *c.mutable_valid_until() = ToTimestamp(clock_.Now() + absl::Hours(24 * 30));
    return c;
  }

  std::string File(int n, const std::string& firm, common::v1::Category category) {
    std::string bytes = Content(n, firm, category).SerializeAsString();
    av1::FileAppraisalRequest req;
    req.mutable_appraisal()->set_signed_content(bytes);
    req.mutable_appraisal()->set_signature(*firms_[firm].key->Sign(bytes));
    req.mutable_appraisal()->set_key(firms_[firm].key_name);
    av1::Appraisal a;
    grpc::Status s = appraisals_->FileAppraisal(Ctx(firms_[firm].appraiser).get(), req, &a);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return a.name();
  }

  // Files 36 reports over January to April (three firms, both categories),
  // disputes every other one a few days later, rules on three of every four
  // disputes 2-14 days after (UPHELD for every other ruled one), and relays
  // appraisal's outbox to the statistics ledger.
  void MakeHistory() {
    const absl::Time start = clock_.Now();
    struct Pending {
      absl::Time at;
      std::string name;  // appraisal (to dispute) or dispute (to rule on)
      size_t report;
    };
    std::vector<Pending> disputes, rulings;
    const std::vector<std::pair<std::string, common::v1::Category>> kinds = {
        {"firms/acme", common::v1::PHONE},
        {"firms/beta", common::v1::PHONE},
        {"firms/acme", common::v1::APPLIANCE},
        {"firms/gamma", common::v1::APPLIANCE},
        {"firms/gamma", common::v1::APPLIANCE}};
    for (int n = 0; n < 36; ++n) {
      clock_.Set(start + absl::Hours(24 * 3 * n + 5 * (n % 3)));
      // Disputes and rulings that fall due before this report.
      ASSERT_NO_FATAL_FAILURE(RunDue(disputes, rulings, clock_.Now()));
      const auto& [firm, category] = kinds[n % kinds.size()];
      std::string name = File(n, firm, category);
      ASSERT_FALSE(name.empty());
      reports_.push_back({firm, category, DayOf(clock_.Now()), {}, {}, false});
      if (n % 2 == 0) {
        disputes.push_back(
            {clock_.Now() + absl::Hours(24 * (1 + n % 5)), name, reports_.size() - 1});
      }
    }
    ASSERT_NO_FATAL_FAILURE(RunDue(disputes, rulings, start + absl::Hours(24 * 140)));
    // Deliver everything.
    for (int pass = 0; pass < 200 && relay_->Depth() > 0; ++pass) {
      ASSERT_OK(relay_->RunOnce().status());
    }
    ASSERT_EQ(relay_->Depth(), 0);
  }

  // Raises the disputes and makes the rulings due by `until`, in time order.
  template <typename Queue>
  void RunDue(Queue& disputes, Queue& rulings, absl::Time until) {
    for (;;) {
      auto first = [](Queue& q) {
        return std::min_element(q.begin(), q.end(), [](auto& a, auto& b) { return a.at < b.at; });
      };
      auto d = first(disputes);
      auto r = first(rulings);
      bool take_d = d != disputes.end() && d->at <= until && (r == rulings.end() || d->at <= r->at);
      bool take_r = !take_d && r != rulings.end() && r->at <= until;
      if (!take_d && !take_r) return;
      if (take_d) {
        auto p = *d;
        disputes.erase(d);
        clock_.Set(std::max(clock_.Now(), p.at));
        av1::FileDisputeRequest req;
        req.set_parent(p.name);
        req.mutable_dispute()->set_reason("成色与报告不符");
        av1::Dispute dispute;
        const std::string& who = p.report % 4 == 0 ? buyer_ : seller_;
        grpc::Status s = appraisals_->FileDispute(Ctx(who).get(), req, &dispute);
        ASSERT_TRUE(s.ok()) << s.error_message();
        reports_[p.report].raise_day = DayOf(clock_.Now());
        // Three of every four disputes are ruled on, 2-14 days later.
        if (p.report % 8 != 6) {
          rulings.push_back({clock_.Now() + absl::Hours(24 * (2 + (p.report * 5) % 13)),
                             dispute.name(), p.report});
        }
      } else {
        auto p = *r;
        rulings.erase(r);
        clock_.Set(std::max(clock_.Now(), p.at));
        av1::RuleOnDisputeRequest req;
        req.set_name(p.name);
        bool uphold = p.report % 4 == 0;
        req.set_outcome(uphold ? av1::Dispute::UPHELD : av1::Dispute::DISMISSED);
        req.set_reason("复检结论");
        req.set_decision_document_number("闽市监鉴裁〔2026〕1号");
        av1::Dispute ruled;
        grpc::Status s = appraisals_->RuleOnDispute(Ctx(supervisor_).get(), req, &ruled);
        ASSERT_TRUE(s.ok()) << s.error_message();
        reports_[p.report].rule_day = DayOf(clock_.Now());
        reports_[p.report].overturned = uphold;
      }
    }
  }

  // The test's own figures of `range` by `key`.
  std::map<std::string, Counts> Expected(DayRange range,
                                         const std::function<std::string(const Report&)>& key) {
    std::map<std::string, Counts> out;
    auto in = [&](std::optional<int64_t> d) { return d && *d >= range.first && *d <= range.last; };
    for (const Report& r : reports_) {
      if (in(r.file_day)) ++out[key(r)].reports_filed;
      if (in(r.raise_day)) ++out[key(r)].disputes_raised;
      if (in(r.rule_day)) {
        ++out[key(r)].disputes_ruled;
        if (r.overturned) ++out[key(r)].overturned;
      }
    }
    return out;
  }

  // Every column of every row of QueryAppraisals equals Expected().
  void ExpectFigures(v1::Period period, const std::string& from, v1::GroupBy group,
                     const std::function<std::string(const Report&)>& key,
                     const std::string& to = "") {
    SCOPED_TRACE(absl::StrCat(v1::Period_Name(period), " ", from, " ", v1::GroupBy_Name(group)));
    v1::QueryFiguresRequest req;
    req.set_period(period);
    req.set_from_date(from);
    req.set_to_date(to);
    req.set_group_by(group);
    v1::QueryFiguresResponse resp;
    grpc::Status s = stub_->QueryAppraisals(Ctx(supervisor_).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_THAT(resp.columns(),
                ::testing::ElementsAre("reports_filed", "disputes_raised", "disputes_ruled",
                                       "overturned", "overturn_permille"));
    ASSERT_OK_AND_ASSIGN(DayRange range, ResolvePeriod(period, from, to));
    std::map<std::string, Counts> want = Expected(range, key);
    std::map<std::string, std::vector<int64_t>> got;
    for (const v1::FigureRow& r : resp.rows())
      got[r.key()] = {r.values().begin(), r.values().end()};
    std::map<std::string, std::vector<int64_t>> expected;
    for (const auto& [k, c] : want) {
      expected[k] = {c.reports_filed, c.disputes_raised, c.disputes_ruled, c.overturned,
                     c.disputes_ruled > 0 ? c.overturned * 1000 / c.disputes_ruled : 0};
    }
    EXPECT_EQ(got, expected) << resp.DebugString();
  }

  static std::string ByFirm(const Report& r) { return r.firm; }
  static std::string ByCategory(const Report& r) { return common::v1::Category_Name(r.category); }

  appraisal::AppraisalModule appraisal_;
  std::unique_ptr<StatsStore> stats_store_;
  std::unique_ptr<StatisticsServiceImpl> stats_;
  std::unique_ptr<av1::AppraisalService::Stub> appraisals_;
  std::unique_ptr<v1::StatisticsService::Stub> stub_;
  std::unique_ptr<outbox::Relay> relay_;
  std::map<std::string, Firm> firms_;
  std::vector<Report> reports_;
  std::string supervisor_, seller_, buyer_, relay_account_;
};

TEST_F(StatsAppraisalTest, EveryMonthsFiguresByFirmAndByCategoryMatchTheReportsFiled) {
  ASSERT_NO_FATAL_FAILURE(MakeHistory());
  // The history has what the figures need: overturns, dismissals, open
  // disputes, and rulings in a later month than their dispute.
  int overturned = 0, dismissed = 0, open = 0, later_month = 0;
  for (const Report& r : reports_) {
    if (!r.raise_day) continue;
    if (!r.rule_day)
      ++open;
    else if (r.overturned)
      ++overturned;
    else
      ++dismissed;
    if (r.rule_day && MonthOfDay(*r.rule_day) != MonthOfDay(*r.raise_day)) ++later_month;
  }
  EXPECT_GT(overturned, 2);
  EXPECT_GT(dismissed, 2);
  EXPECT_GT(open, 0);
  EXPECT_GT(later_month, 0);
  for (const char* month : {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01"}) {
    ExpectFigures(v1::MONTH, month, v1::FIRM, ByFirm);
    ExpectFigures(v1::MONTH, month, v1::CATEGORY, ByCategory);
  }
  ExpectFigures(v1::QUARTER, "2026-02-10", v1::FIRM, ByFirm);
  ExpectFigures(v1::QUARTER, "2026-02-10", v1::CATEGORY, ByCategory);
  ExpectFigures(v1::CUSTOM, "2026-01-20", v1::FIRM, ByFirm, "2026-03-15");
  ExpectFigures(v1::YEAR, "2026-06-01", v1::GROUP_BY_UNSPECIFIED, [](const Report&) { return ""; });
}

}  // namespace
}  // namespace market::stats
