// Appraisal disputes reach webhooks (issue 14): marketd in-process on loopback
// (real gRPC, real SQLite files, the appraisal outbox relayed to
// WebhookService.PublishEvent) and local HTTPS receivers (deploy/pki.sh
// certificates, verified against their CA) that check every signature. A
// dispute filed through the real AppraisalService arrives as "dispute.filed"
// exactly once at the report's firm's webhook and at a supervisor's, and at
// no other firm's; the supervisor's ruling arrives at both as "ruling.made",
// once, after the filing (the dispute's events are ordered by their resource
// through the appraisal outbox relay and the webhook dispatcher).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock/clock.h"
#include "common/crypto/crypto.h"
#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "market/appraisal/v1/appraisal.grpc.pb.h"
#include "market/webhook/v1/webhook.grpc.pb.h"
#include "services/identity/identity_testing.h"
#include "services/marketd/marketd.h"
#include "services/webhook/webhook_testing.h"
#include "tests/marketd_testing.h"

namespace market {
namespace {

namespace av1 = appraisal::v1;
namespace wv1 = webhook::v1;
using common::v1::Role;
using webhook::testing::Eventually;
using webhook::testing::ReceiverPki;
using webhook::testing::Receiver;

class WebhookDisputeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = dir_.path() + "/pki";
    ASSERT_TRUE(ReceiverPki(pki_));
    auto started = marketd::testing::StartWebhookMarketd(
        dir_.path() + "/var", webhook::testing::FastDispatcherOptions(pki_ + "/ca.crt"));
    ASSERT_TRUE(started.ok()) << started.status();
    marketd_ = std::move(*started);
    auto channel = marketd::testing::Channel(*marketd_);
    appraisals_ = av1::AppraisalService::NewStub(channel);
    webhooks_ = wv1::WebhookService::NewStub(channel);
    const absl::Time now = absl::Now();
    auto& identity = marketd_->identity();
    sup_ = identity::testing::AddTestSubject(identity, now, "sup", {Role::SUPERVISOR});
    acme_ = identity::testing::AddTestSubject(identity, now, "acme", {Role::APPRAISAL_FIRM});
    zhang_ = identity::testing::AddTestSubject(identity, now, "zhang", {Role::APPRAISER}, acme_,
                                               identity::v1::Subject::PERSON);
    beta_ = identity::testing::AddTestSubject(identity, now, "beta", {Role::APPRAISAL_FIRM});
    for (auto* r : {&firm_hook_, &sup_hook_, &beta_hook_}) {
      *r = std::make_unique<Receiver>(pki_ + "/receiver.crt", pki_ + "/receiver.key");
    }
    Register(acme_, *firm_hook_);
    Register(sup_, *sup_hook_);
    Register(beta_, *beta_hook_);
    for (const char* firm : {"firms/acme", "firms/beta"}) Accredit(firm);
    key_ = std::make_unique<Ed25519PrivateKey>(*Ed25519PrivateKey::Generate());
    RegisterKey();
  }
  void TearDown() override {
    if (marketd_ != nullptr) marketd_->Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& subject) {
    return marketd::testing::ContextAs(*marketd_, subject);
  }

  // Starts `receiver` and registers it as `owner`'s webhook for disputes and
  // rulings; returns the webhook's name.
  std::string Register(const std::string& owner, Receiver& receiver) {
    const int port = receiver.Start(0);
    EXPECT_GT(port, 0);
    wv1::CreateWebhookRequest req;
    req.mutable_webhook()->set_url(absl::StrCat("https://127.0.0.1:", port, "/hook"));
    req.mutable_webhook()->add_event_kinds(wv1::DISPUTE_FILED);
    req.mutable_webhook()->add_event_kinds(wv1::RULING_MADE);
    wv1::CreateWebhookResponse resp;
    grpc::Status st = webhooks_->CreateWebhook(Ctx(owner).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    receiver.SetSecret(resp.secret());
    webhook_names_.push_back(resp.webhook().name());
    return resp.webhook().name();
  }

  void Accredit(const std::string& firm) {
    av1::GrantAccreditationRequest req;
    req.set_parent(firm);
    req.mutable_accreditation()->add_categories(common::v1::PHONE);
    *req.mutable_accreditation()->mutable_valid_from() =
        ToTimestamp(absl::Now() - absl::Hours(24));
    *req.mutable_accreditation()->mutable_valid_until() =
        ToTimestamp(absl::Now() + absl::Hours(24 * 365));
    req.mutable_accreditation()->set_certificate_number("闽鉴字 2026-001");
    av1::Accreditation out;
    grpc::Status st = appraisals_->GrantAccreditation(Ctx(sup_).get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  void RegisterKey() {
    av1::RegisterSigningKeyRequest req;
    req.set_parent("firms/acme");
    req.set_key_id("acme-2026");
    req.mutable_signing_key()->set_public_key(key_->PublicKeyRaw());
    av1::SigningKey out;
    grpc::Status st = appraisals_->RegisterSigningKey(Ctx(acme_).get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    key_name_ = out.name();
  }

  static common::v1::GradeRef Grade(const std::string& scheme, const std::string& level) {
    common::v1::GradeRef g;
    g.set_scheme(scheme);
    g.set_version(1);
    g.set_level(level);
    return g;
  }

  // A phone report by acme's appraiser, signed with acme's key and filed.
  av1::Appraisal FileReport() {
    av1::AppraisalContent c;
    c.set_report_number("MJ-2026-0001");
    c.set_firm("firms/acme");
    c.set_firm_credit_code("91350100M000100Y43");
    c.set_appraiser(zhang_);
    c.set_appraiser_qualification_number("ZG-2026-0042");
    c.set_category(common::v1::PHONE);
    c.mutable_identifiers()->set_imei("355383063760236");
    c.mutable_identifiers()->set_brand("Huawei");
    c.mutable_identifiers()->set_model("Mate 60 Pro");
    auto* item = c.add_inspection_items();
    item->set_code("screen");
    item->set_result(av1::InspectionItem::DEFECT);
    item->set_defect_code("HH");
    item->set_degree(1);
    *c.add_grades() = Grade("phone-cosmetic-v1", "95新");
    *c.add_grades() = Grade("phone-function-v1", "0");
    c.add_disclosed_defects("屏幕轻微划痕");
    c.mutable_appraised_value_min()->set_amount_fen(300000);
    c.mutable_appraised_value_max()->set_amount_fen(340000);
    *c.mutable_inspected_time() = ToTimestamp(absl::Now() - absl::Hours(2));
    *c.mutable_valid_until() = ToTimestamp(absl::Now() + absl::Hours(24 * 30));
    const std::string bytes = c.SerializeAsString();
    av1::FileAppraisalRequest req;
    req.mutable_appraisal()->set_signed_content(bytes);
    req.mutable_appraisal()->set_signature(*key_->Sign(bytes));
    req.mutable_appraisal()->set_key(key_name_);
    av1::Appraisal out;
    grpc::Status st = appraisals_->FileAppraisal(Ctx(zhang_).get(), req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  }

  // beta disputes `appraisal`, twice with the same request id (a retry).
  av1::Dispute FileDispute(const std::string& appraisal) {
    av1::FileDisputeRequest req;
    req.set_parent(appraisal);
    req.mutable_dispute()->set_reason("屏幕有明显划痕，不是95新");
    req.set_request_id("dispute-1");
    av1::Dispute first, again;
    for (av1::Dispute* out : {&first, &again}) {
      grpc::Status st = appraisals_->FileDispute(Ctx(beta_).get(), req, out);
      EXPECT_TRUE(st.ok()) << st.error_message();
    }
    EXPECT_EQ(first.name(), again.name());
    return first;
  }

  // Every delivery of every webhook is DELIVERED (none pending, none failed).
  bool AllDelivered() {
    for (const std::string& name : webhook_names_) {
      wv1::ListWebhookDeliveriesRequest req;
      req.set_name(name);
      wv1::ListWebhookDeliveriesResponse resp;
      if (!webhooks_->ListWebhookDeliveries(Ctx(sup_).get(), req, &resp).ok()) return false;
      for (const wv1::Delivery& d : resp.deliveries()) {
        if (d.state() != wv1::Delivery::DELIVERED) return false;
      }
    }
    return true;
  }

  sqlite::testing::ScopedTempDir dir_;
  std::string pki_;
  std::unique_ptr<marketd::Marketd> marketd_;
  std::unique_ptr<av1::AppraisalService::Stub> appraisals_;
  std::unique_ptr<wv1::WebhookService::Stub> webhooks_;
  std::string sup_, acme_, zhang_, beta_;
  std::unique_ptr<Receiver> firm_hook_, sup_hook_, beta_hook_;
  std::vector<std::string> webhook_names_;
  std::unique_ptr<Ed25519PrivateKey> key_;
  std::string key_name_;
};

TEST_F(WebhookDisputeTest, FiledDisputeReachesTheReportsFirmAndASupervisorOnce) {
  const av1::Appraisal report = FileReport();
  const av1::Dispute dispute = FileDispute(report.name());
  const std::string id = "dispute-filed:" + dispute.name();
  ASSERT_TRUE(Eventually([&] {
    return firm_hook_->Posts().contains(id) && sup_hook_->Posts().contains(id);
  }));
  ASSERT_TRUE(Eventually([&] { return AllDelivered(); }));
  absl::SleepFor(absl::Milliseconds(500));  // ten more dispatcher polls: nothing else comes
  for (Receiver* r : {firm_hook_.get(), sup_hook_.get()}) {
    EXPECT_EQ(r->Arrivals(), std::vector<std::string>{id});
    EXPECT_EQ(r->Rejected(), 0);
    nlohmann::json body = r->Bodies()[id];
    EXPECT_EQ(body["type"], "dispute.filed");
    EXPECT_EQ(body["resource"], dispute.name());
    EXPECT_EQ(body["data"]["appraisal"], report.name());
    EXPECT_EQ(body["data"]["raiser"], beta_);
    EXPECT_EQ(body["data"]["state"], "OPEN");
  }
  // The disputing firm is not the report's firm: its webhook gets nothing.
  EXPECT_TRUE(beta_hook_->Arrivals().empty());
}

TEST_F(WebhookDisputeTest, RulingReachesTheReportsFirmAndASupervisorOnce) {
  const av1::Appraisal report = FileReport();
  const av1::Dispute dispute = FileDispute(report.name());
  av1::RuleOnDisputeRequest req;
  req.set_name(dispute.name());
  req.set_outcome(av1::Dispute::UPHELD);
  req.set_reason("复检确认屏幕划痕超出95新标准");
  req.set_request_id("rule-1");
  av1::Dispute ruled;
  for (int i = 0; i < 2; ++i) {  // a retry with the same request id
    grpc::Status st = appraisals_->RuleOnDispute(Ctx(sup_).get(), req, &ruled);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  const std::string filed = "dispute-filed:" + dispute.name();
  const std::string id = "dispute-ruled:" + dispute.name();
  ASSERT_TRUE(Eventually([&] {
    return firm_hook_->Posts().contains(id) && sup_hook_->Posts().contains(id);
  }));
  ASSERT_TRUE(Eventually([&] { return AllDelivered(); }));
  absl::SleepFor(absl::Milliseconds(500));
  for (Receiver* r : {firm_hook_.get(), sup_hook_.get()}) {
    // Each event once, the filing before the ruling.
    EXPECT_EQ(r->Arrivals(), (std::vector<std::string>{filed, id}));
    nlohmann::json body = r->Bodies()[id];
    EXPECT_EQ(body["type"], "ruling.made");
    EXPECT_EQ(body["resource"], dispute.name());
    EXPECT_EQ(body["data"]["state"], "UPHELD");
  }
  EXPECT_TRUE(beta_hook_->Arrivals().empty());
}

}  // namespace
}  // namespace market
