// AppraisalService through a real gRPC server on 127.0.0.1:0 over a real
// appraisal.db, with identity subjects and tokens from the identity module, a
// fake clock and injected listing parties.
#include "services/appraisal/appraisal_service.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/crypto.h"
#include "common/outbox/outbox_testing.h"
#include "common/resource/resource.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "grpcpp/create_channel.h"
#include "gmock/gmock.h"
#include "httplib.h"
#include "gtest/gtest.h"
#include "market/credit/v1/credit.pb.h"
#include "market/listing/v1/listing.pb.h"
#include "services/appraisal/appraisal_module.h"
#include "services/appraisal/certificate_testing.h"
#include "services/appraisal/verify_http.h"
#include "services/credit/credit_events.h"
#include "services/identity/identity_testing.h"
#include "services/listing/listing_events.h"

namespace market::appraisal {
namespace {

using common::v1::Role;
using grpc::StatusCode;

constexpr char kImei[] = "355383063760236";
constexpr char kImei2[] = "490154203237518";
constexpr char kVin[] = "1M8GDM9AXKP042788";
constexpr char kUscc[] = "91350100M000100Y43";
constexpr char kListing[] = "markets/east/listings/phone-1";

std::string Reason(const grpc::Status& s) { return ReasonOf(FromGrpcStatus(s)); }

std::vector<std::string> BadFields(const grpc::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(FromGrpcStatus(s))) out.push_back(v.field);
  return out;
}

common::v1::GradeRef Grade(const std::string& scheme, const std::string& level) {
  common::v1::GradeRef g;
  g.set_scheme(scheme);
  g.set_version(1);
  g.set_level(level);
  return g;
}

class AppraisalServiceTest : public identity::testing::ServiceTest {
 protected:
  AppraisalServiceTest()
      : ServiceTest(absl::FromCivil(absl::CivilSecond(2026, 11, 2, 10, 0, 0),
                                    absl::FixedTimeZone(8 * 3600))) {}

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    ListingParties parties =
        [this](const std::string& listing) -> absl::StatusOr<std::vector<std::string>> {
      absl::MutexLock lock(&parties_mu_);
      auto it = parties_.find(listing);
      if (it == parties_.end()) return absl::NotFoundError(listing + " not found");
      return it->second;
    };
    ASSERT_OK_AND_ASSIGN(module_,
                         OpenAppraisalModule(dir_, &clock_, TestSubjectLookup(), parties, verifier_,
                                             identity_.suspension, nullptr, public_base_url_));
    ASSERT_OK_AND_ASSIGN(
        auto channel,
        StartServer({{module_.service.get(), "market.appraisal.v1.AppraisalService"}}));
    stub_ = v1::AppraisalService::NewStub(channel);
    supervisor_ = AddSubject("supervisor", Role::SUPERVISOR);
    firm_ = AddSubject("acme", Role::APPRAISAL_FIRM);
    appraiser_ = AddSubject("zhang", Role::APPRAISER, firm_);
    other_firm_ = AddSubject("beta", Role::APPRAISAL_FIRM);
    other_appraiser_ = AddSubject("li", Role::APPRAISER, other_firm_);
    seller_ = AddSubject("seller", Role::SELLER);
    buyer_ = AddSubject("buyer", Role::BUYER);
    operator_ = AddSubject("operator", Role::OPERATOR);
    service_ = AddSubject("svc", Role::SERVICE);
    SetParties(kListing, {seller_, buyer_});
    key_ = std::make_unique<Ed25519PrivateKey>(*Ed25519PrivateKey::Generate());
    key_name_ = RegisterKey(firm_, "firms/acme", *key_, "acme-2026");
    Accredit("firms/acme", {common::v1::PHONE, common::v1::VEHICLE}, clock_.Now() - Days(30),
             clock_.Now() + Days(365), "acme-phones");
  }

  static absl::Duration Days(int n) { return absl::Hours(24 * n); }

  void SetParties(const std::string& listing, std::vector<std::string> parties) {
    absl::MutexLock lock(&parties_mu_);
    parties_[listing] = std::move(parties);
  }

  std::string RegisterKey(const std::string& who, const std::string& firm,
                          const Ed25519PrivateKey& key, const std::string& id) {
    v1::RegisterSigningKeyRequest req;
    req.set_parent(firm);
    req.set_key_id(id);
    req.mutable_signing_key()->set_public_key(key.PublicKeyRaw());
    v1::SigningKey out;
    grpc::Status s = stub_->RegisterSigningKey(Ctx(who).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.name();
  }
  grpc::Status GrantAs(const std::string& who, const std::string& firm,
                       std::vector<common::v1::Category> categories, absl::Time from,
                       absl::Time until, const std::string& id, v1::Accreditation* out) {
    v1::GrantAccreditationRequest req;
    req.set_parent(firm);
    req.set_accreditation_id(id);
    for (auto c : categories) req.mutable_accreditation()->add_categories(c);
    *req.mutable_accreditation()->mutable_valid_from() = ToTimestamp(from);
    *req.mutable_accreditation()->mutable_valid_until() = ToTimestamp(until);
    req.mutable_accreditation()->set_certificate_number("闽鉴字 2026-001");
    return stub_->GrantAccreditation(Ctx(who).get(), req, out);
  }
  v1::Accreditation Accredit(const std::string& firm, std::vector<common::v1::Category> categories,
                             absl::Time from, absl::Time until, const std::string& id) {
    v1::Accreditation out;
    grpc::Status s = GrantAs(supervisor_, firm, std::move(categories), from, until, id, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::AppraisalContent Phone(const std::string& report_number, const std::string& imei = kImei,
                             const std::string& firm = "firms/acme",
                             const std::string& appraiser = "subjects/zhang") {
    v1::AppraisalContent c;
    c.set_report_number(report_number);
    c.set_firm(firm);
    c.set_firm_credit_code(kUscc);
    c.set_appraiser(appraiser);
    c.set_appraiser_qualification_number("ZG-2026-0042");
    c.set_listing(kListing);
    c.set_category(common::v1::PHONE);
    c.mutable_identifiers()->set_imei(imei);
    c.mutable_identifiers()->set_brand("Huawei");
    c.mutable_identifiers()->set_model("Mate 60 Pro");
    auto* item = c.add_inspection_items();
    item->set_code("screen");
    item->set_result(v1::InspectionItem::DEFECT);
    item->set_defect_code("HH");
    item->set_degree(1);
    item->add_photo_sha256(HexEncode(Sha256("photo")));
    *c.add_grades() = Grade("phone-cosmetic-v1", "95新");
    *c.add_grades() = Grade("phone-function-v1", "0");
    c.add_disclosed_defects("屏幕轻微划痕");
    c.mutable_appraised_value_min()->set_amount_fen(300000);
    c.mutable_appraised_value_max()->set_amount_fen(340000);
    *c.mutable_inspected_time() = ToTimestamp(clock_.Now() - absl::Hours(2));
    *c.mutable_valid_until() = ToTimestamp(clock_.Now() + Days(30));
    return c;
  }
  v1::AppraisalContent Vehicle(const std::string& report_number, int score, bool accident,
                               const std::string& level) {
    v1::AppraisalContent c;
    c.set_report_number(report_number);
    c.set_firm("firms/acme");
    c.set_firm_credit_code(kUscc);
    c.set_appraiser("subjects/zhang");
    c.set_appraiser_qualification_number("ZG-2026-0042");
    c.set_category(common::v1::VEHICLE);
    c.mutable_identifiers()->set_vin(kVin);
    c.mutable_identifiers()->set_engine_number("E123456");
    c.set_mileage_km(56000);
    c.mutable_tradability_checks();
    for (int p = 1; p <= 13; ++p) {
      auto* point = c.add_structural_points();
      point->set_point(static_cast<v1::StructuralPoint::Point>(p));
      if (accident && p == v1::StructuralPoint::A_PILLAR_LEFT) point->add_defect_codes("SH");
    }
    c.set_accident_found(accident);
    auto* body = c.add_inspection_items();
    body->set_code("body.front_bumper");
    body->set_result(v1::InspectionItem::DEFECT);
    body->set_defect_code("AX");
    body->set_degree(2);
    c.set_score(score);
    *c.add_grades() = Grade("vehicle-gbt30323", level);
    *c.mutable_inspected_time() = ToTimestamp(clock_.Now() - absl::Hours(1));
    return c;
  }

  grpc::Status FileRaw(const std::string& who, const std::string& bytes,
                       const std::string& signature, const std::string& key, v1::Appraisal* out,
                       const std::string& id = "", const std::string& request_id = "") {
    v1::FileAppraisalRequest req;
    req.mutable_appraisal()->set_signed_content(bytes);
    req.mutable_appraisal()->set_signature(signature);
    req.mutable_appraisal()->set_key(key);
    req.set_appraisal_id(id);
    req.set_request_id(request_id);
    return stub_->FileAppraisal(Ctx(who).get(), req, out);
  }
  grpc::Status File(const std::string& who, const v1::AppraisalContent& c, v1::Appraisal* out,
                    const std::string& id = "") {
    std::string bytes = c.SerializeAsString();
    return FileRaw(who, bytes, *key_->Sign(bytes), key_name_, out, id);
  }
  v1::Appraisal Filed(const v1::AppraisalContent& c, const std::string& id = "") {
    v1::Appraisal a;
    grpc::Status s = File(appraiser_, c, &a, id);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return a;
  }
  grpc::Status Dispute(const std::string& who, const std::string& appraisal, v1::Dispute* out,
                       const std::string& counter = "") {
    v1::FileDisputeRequest req;
    req.set_parent(appraisal);
    req.mutable_dispute()->set_reason("屏幕有明显划痕，不是95新");
    req.mutable_dispute()->set_counter_appraisal(counter);
    return stub_->FileDispute(Ctx(who).get(), req, out);
  }
  grpc::Status Rule(const std::string& dispute, v1::Dispute::State outcome, v1::Dispute* out,
                    const std::string& etag = "") {
    v1::RuleOnDisputeRequest req;
    req.set_name(dispute);
    req.set_outcome(outcome);
    req.set_reason("复检结论与原报告不符");
    req.set_decision_document_number("闽市监鉴裁〔2026〕7号");
    req.set_etag(etag);
    return stub_->RuleOnDispute(Ctx(supervisor_).get(), req, out);
  }
  v1::Appraisal Get(const std::string& name, const std::string& who = "") {
    v1::GetAppraisalRequest req;
    req.set_name(name);
    v1::Appraisal a;
    grpc::Status s = stub_->GetAppraisal(Ctx(who).get(), req, &a);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return a;
  }
  std::vector<listing::v1::RecordObservationRequest> Observations() {
    std::vector<listing::v1::RecordObservationRequest> out;
    for (const outbox::testing::OutboxRow& row :
         outbox::testing::PendingRows(*module_.db, listing::kObservationDestination)) {
      listing::v1::RecordObservationRequest req;
      EXPECT_TRUE(req.ParseFromString(row.payload));
      EXPECT_EQ(req.request_id(), row.event_id);
      out.push_back(req);
    }
    return out;
  }
  std::vector<credit::v1::Record> CreditEvents() {
    std::vector<credit::v1::Record> out;
    for (const outbox::testing::OutboxRow& row :
         outbox::testing::PendingRows(*module_.db, credit::kCreditDestination)) {
      credit::v1::RecordEventRequest req;
      EXPECT_TRUE(req.ParseFromString(row.payload));
      EXPECT_EQ(req.record().event_id(), row.event_id);
      out.push_back(req.record());
    }
    return out;
  }

  std::string public_base_url_ = kDefaultPublicBaseUrl;  // a fixture may set it first
  AppraisalModule module_;
  std::unique_ptr<v1::AppraisalService::Stub> stub_;
  absl::Mutex parties_mu_;
  std::map<std::string, std::vector<std::string>> parties_;
  std::unique_ptr<Ed25519PrivateKey> key_;
  std::string key_name_;
  std::string supervisor_, firm_, appraiser_, other_firm_, other_appraiser_, seller_, buyer_,
      operator_, service_;
};

// ---- Grading schemes ----------------------------------------------------------

TEST_F(AppraisalServiceTest, ListGradingSchemesReturnsTheBuiltinsInNameOrder) {
  v1::ListGradingSchemesRequest req;
  v1::ListGradingSchemesResponse resp;
  ASSERT_TRUE(stub_->ListGradingSchemes(Ctx("").get(), req, &resp).ok());
  std::vector<std::string> names;
  for (const auto& s : resp.grading_schemes()) names.push_back(s.name());
  EXPECT_EQ(names, (std::vector<std::string>{"gradingSchemes/general-condition-v1/versions/1",
                                             "gradingSchemes/phone-cosmetic-v1/versions/1",
                                             "gradingSchemes/phone-function-v1/versions/1",
                                             "gradingSchemes/vehicle-gbt30323/versions/1"}));
  req.set_filter("category=VEHICLE");
  resp.Clear();
  ASSERT_TRUE(stub_->ListGradingSchemes(Ctx("").get(), req, &resp).ok());
  ASSERT_EQ(resp.grading_schemes_size(), 1);
  const v1::GradingScheme& v = resp.grading_schemes(0);
  EXPECT_TRUE(v.scored());
  EXPECT_EQ(v.levels(4).code(), "五级");
  EXPECT_EQ(v.levels(1).min_score(), 60);
  req.set_filter("scheme=\"general-condition-v1\"");
  resp.Clear();
  ASSERT_TRUE(stub_->ListGradingSchemes(Ctx("").get(), req, &resp).ok());
  ASSERT_EQ(resp.grading_schemes_size(), 1);
  EXPECT_EQ(resp.grading_schemes(0).levels_size(), 8);
  EXPECT_EQ(resp.grading_schemes(0).levels(0).code(), "全新");
}

TEST_F(AppraisalServiceTest, ListGradingSchemesPagesAndRefusesTamperedTokens) {
  v1::ListGradingSchemesRequest req;
  req.set_page_size(3);
  v1::ListGradingSchemesResponse first, second;
  ASSERT_TRUE(stub_->ListGradingSchemes(Ctx("").get(), req, &first).ok());
  ASSERT_EQ(first.grading_schemes_size(), 3);
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ASSERT_TRUE(stub_->ListGradingSchemes(Ctx("").get(), req, &second).ok());
  ASSERT_EQ(second.grading_schemes_size(), 1);
  EXPECT_TRUE(second.next_page_token().empty());
  req.set_page_token(first.next_page_token() + "x");
  EXPECT_EQ(stub_->ListGradingSchemes(Ctx("").get(), req, &second).error_code(),
            StatusCode::INVALID_ARGUMENT);
  req.set_page_token("");
  req.set_filter("colour=red");
  EXPECT_EQ(stub_->ListGradingSchemes(Ctx("").get(), req, &second).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

TEST_F(AppraisalServiceTest, SchemesFromTheDataDirAreLoadedAtStart) {
  std::filesystem::create_directories(SchemesDir(dir_));
  std::ofstream(SchemesDir(dir_) + "/appliance.json")
      << R"({"scheme":"appliance-energy-v1","version":1,"categories":["APPLIANCE"],
            "levels":[{"code":"A"},{"code":"B"}]})";
  auto m = OpenAppraisalModule(dir_ + "/second", &clock_, nullptr, nullptr, verifier_,
                               identity_.suspension, nullptr);
  ASSERT_OK(m);  // another data dir: only the built-ins
  std::filesystem::create_directories(SchemesDir(dir_ + "/second"));
  std::filesystem::copy_file(SchemesDir(dir_) + "/appliance.json",
                             SchemesDir(dir_ + "/second") + "/appliance.json");
  m->service.reset();
  m->store.reset();
  m = OpenAppraisalModule(dir_ + "/second", &clock_, nullptr, nullptr, verifier_,
                          identity_.suspension, nullptr);
  ASSERT_OK(m);
  int count = 0;
  ASSERT_OK(m->db->Read([&](sqlite::Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(sqlite::Statement st, c.Prepare("SELECT COUNT(*) FROM schemes"));
    MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) count = static_cast<int>(st.ColumnInt64(0));
    return absl::OkStatus();
  }));
  EXPECT_EQ(count, 5);
}

// ---- Accreditations --------------------------------------------------------------

TEST_F(AppraisalServiceTest, GrantSuspendRevokeAndDerivedExpiry) {
  v1::Accreditation a;
  ASSERT_TRUE(GrantAs(supervisor_, "firms/beta", {common::v1::APPLIANCE}, clock_.Now(),
                      clock_.Now() + Days(10), "beta-appl", &a)
                  .ok());
  EXPECT_EQ(a.name(), "firms/beta/accreditations/beta-appl");
  EXPECT_EQ(a.state(), v1::Accreditation::ACTIVE);
  EXPECT_EQ(a.granted_by(), supervisor_);
  v1::Accreditation again;
  EXPECT_EQ(GrantAs(supervisor_, "firms/beta", {common::v1::APPLIANCE}, clock_.Now(),
                    clock_.Now() + Days(10), "beta-appl", &again)
                .error_code(),
            StatusCode::ALREADY_EXISTS);
  grpc::Status s = GrantAs(supervisor_, "firms/seller", {common::v1::PHONE}, clock_.Now(),
                           clock_.Now() + Days(1), "", &again);
  EXPECT_EQ(Reason(s), "SUBJECT_NOT_FIRM");
  EXPECT_EQ(GrantAs(supervisor_, "firms/nobody", {common::v1::PHONE}, clock_.Now(),
                    clock_.Now() + Days(1), "", &again)
                .error_code(),
            StatusCode::NOT_FOUND);
  s = GrantAs(supervisor_, "firms/beta", {}, clock_.Now(), clock_.Now() - Days(1), "", &again);
  EXPECT_EQ(BadFields(s),
            (std::vector<std::string>{"accreditation.categories", "accreditation.valid_until"}));

  v1::SuspendAccreditationRequest suspend;
  suspend.set_name(a.name());
  suspend.set_reason("年检未通过");
  suspend.set_etag("\"v9\"");
  v1::Accreditation out;
  EXPECT_EQ(stub_->SuspendAccreditation(Ctx(supervisor_).get(), suspend, &out).error_code(),
            StatusCode::ABORTED);
  suspend.set_etag(a.etag());
  ASSERT_TRUE(stub_->SuspendAccreditation(Ctx(supervisor_).get(), suspend, &out).ok());
  EXPECT_EQ(out.state(), v1::Accreditation::SUSPENDED);
  EXPECT_EQ(out.state_reason(), "年检未通过");
  suspend.clear_etag();
  EXPECT_EQ(Reason(stub_->SuspendAccreditation(Ctx(supervisor_).get(), suspend, &out)),
            "ACCREDITATION_NOT_ACTIVE");
  v1::RevokeAccreditationRequest revoke;
  revoke.set_name(a.name());
  revoke.set_reason("违规出具报告");
  ASSERT_TRUE(stub_->RevokeAccreditation(Ctx(supervisor_).get(), revoke, &out).ok());
  EXPECT_EQ(out.state(), v1::Accreditation::REVOKED);
  EXPECT_EQ(Reason(stub_->RevokeAccreditation(Ctx(supervisor_).get(), revoke, &out)),
            "ACCREDITATION_ALREADY_ENDED");

  // The state is derived from the clock: past valid_until it reads EXPIRED.
  v1::Accreditation short_lived = Accredit("firms/beta", {common::v1::FURNITURE}, clock_.Now(),
                                           clock_.Now() + Days(2), "beta-furn");
  clock_.Advance(Days(3));
  v1::ListAccreditationsRequest list;
  list.set_parent("firms/beta");
  list.set_filter("state=EXPIRED");
  v1::ListAccreditationsResponse resp;
  ASSERT_TRUE(stub_->ListAccreditations(Ctx("").get(), list, &resp).ok());
  ASSERT_EQ(resp.accreditations_size(), 1);
  EXPECT_EQ(resp.accreditations(0).name(), short_lived.name());
  EXPECT_EQ(resp.accreditations(0).state(), v1::Accreditation::EXPIRED);
  revoke.set_name(short_lived.name());
  EXPECT_EQ(Reason(stub_->RevokeAccreditation(Ctx(supervisor_).get(), revoke, &out)),
            "ACCREDITATION_ALREADY_ENDED");
  list.set_parent("firms/-");
  list.set_filter("category=PHONE AND state=ACTIVE");
  resp.Clear();
  ASSERT_TRUE(stub_->ListAccreditations(Ctx("").get(), list, &resp).ok());
  ASSERT_EQ(resp.accreditations_size(), 1);
  EXPECT_EQ(resp.accreditations(0).name(), "firms/acme/accreditations/acme-phones");
  list.set_filter("");
  list.set_page_size(2);
  resp.Clear();
  ASSERT_TRUE(stub_->ListAccreditations(Ctx("").get(), list, &resp).ok());
  ASSERT_EQ(resp.accreditations_size(), 2);
  list.set_page_token(resp.next_page_token());
  v1::ListAccreditationsResponse rest;
  ASSERT_TRUE(stub_->ListAccreditations(Ctx("").get(), list, &rest).ok());
  ASSERT_EQ(rest.accreditations_size(), 1);  // three in all
  EXPECT_EQ(rest.accreditations(0).name(), "firms/beta/accreditations/beta-furn");
  list.set_page_token("");
  list.set_filter("state=SLEEPING");
  EXPECT_EQ(stub_->ListAccreditations(Ctx("").get(), list, &resp).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

// ---- Signing keys -----------------------------------------------------------------

TEST_F(AppraisalServiceTest, RegisterRetireAndListSigningKeys) {
  Ed25519PrivateKey k2 = *Ed25519PrivateKey::Generate();
  v1::RegisterSigningKeyRequest req;
  req.set_parent("firms/acme");
  req.mutable_signing_key()->set_public_key_pem(k2.PublicKeyPem());
  v1::SigningKey key;
  ASSERT_TRUE(stub_->RegisterSigningKey(Ctx(firm_).get(), req, &key).ok());
  EXPECT_EQ(key.public_key(), k2.PublicKeyRaw());
  EXPECT_EQ(key.fingerprint(), HexEncode(Sha256(k2.PublicKeyRaw())));
  EXPECT_EQ(key.state(), v1::SigningKey::ACTIVE);
  // The same public key again, under any name, is ALREADY_EXISTS.
  EXPECT_EQ(stub_->RegisterSigningKey(Ctx(firm_).get(), req, &key).error_code(),
            StatusCode::ALREADY_EXISTS);
  req.mutable_signing_key()->set_public_key(k2.PublicKeyRaw());
  EXPECT_EQ(BadFields(stub_->RegisterSigningKey(Ctx(firm_).get(), req, &key)),
            std::vector<std::string>{"signing_key.public_key"});
  req.mutable_signing_key()->clear_public_key_pem();
  req.mutable_signing_key()->set_public_key("short");
  EXPECT_EQ(stub_->RegisterSigningKey(Ctx(firm_).get(), req, &key).error_code(),
            StatusCode::INVALID_ARGUMENT);
  // A firm registers keys only for itself.
  req.set_parent("firms/beta");
  req.mutable_signing_key()->set_public_key(Ed25519PrivateKey::Generate()->PublicKeyRaw());
  EXPECT_EQ(stub_->RegisterSigningKey(Ctx(firm_).get(), req, &key).error_code(),
            StatusCode::PERMISSION_DENIED);

  v1::RetireSigningKeyRequest retire;
  retire.set_name(key_name_);
  EXPECT_EQ(stub_->RetireSigningKey(Ctx(other_firm_).get(), retire, &key).error_code(),
            StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->RetireSigningKey(Ctx(firm_).get(), retire, &key).ok());
  EXPECT_EQ(key.state(), v1::SigningKey::RETIRED);
  EXPECT_TRUE(key.has_retire_time());
  EXPECT_EQ(Reason(stub_->RetireSigningKey(Ctx(supervisor_).get(), retire, &key)),
            "KEY_ALREADY_RETIRED");
  retire.set_name("firms/acme/keys/none");
  EXPECT_EQ(stub_->RetireSigningKey(Ctx(supervisor_).get(), retire, &key).error_code(),
            StatusCode::NOT_FOUND);

  v1::ListSigningKeysRequest list;
  list.set_parent("firms/acme");
  list.set_filter("state=ACTIVE");
  v1::ListSigningKeysResponse resp;
  ASSERT_TRUE(stub_->ListSigningKeys(Ctx("").get(), list, &resp).ok());
  ASSERT_EQ(resp.signing_keys_size(), 1);
  EXPECT_EQ(resp.signing_keys(0).public_key(), k2.PublicKeyRaw());
  list.set_filter("");
  list.set_parent("firms/-");
  resp.Clear();
  ASSERT_TRUE(stub_->ListSigningKeys(Ctx("").get(), list, &resp).ok());
  EXPECT_EQ(resp.signing_keys_size(), 2);
  list.set_page_size(1);
  v1::ListSigningKeysResponse page1, page2;
  ASSERT_TRUE(stub_->ListSigningKeys(Ctx("").get(), list, &page1).ok());
  list.set_page_token(page1.next_page_token());
  ASSERT_TRUE(stub_->ListSigningKeys(Ctx("").get(), list, &page2).ok());
  ASSERT_EQ(page1.signing_keys_size(), 1);
  ASSERT_EQ(page2.signing_keys_size(), 1);
  EXPECT_LT(page1.signing_keys(0).name(), page2.signing_keys(0).name());
  EXPECT_TRUE(page2.next_page_token().empty());
}

// ---- FileAppraisal ---------------------------------------------------------------

TEST_F(AppraisalServiceTest, AppraiserFilesASignedPhoneReport) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0001"), "phone-report");
  EXPECT_EQ(a.name(), "appraisals/phone-report");
  EXPECT_EQ(a.state(), v1::Appraisal::FILED);
  EXPECT_EQ(a.item(), absl::StrCat("items/PHONE:", kImei));
  EXPECT_EQ(a.filer(), appraiser_);
  EXPECT_EQ(a.content().report_number(), "ACME-2026-0001");
  EXPECT_EQ(a.key(), key_name_);

  // The observation and the listing's latest appraisal leave through the outbox.
  std::vector<listing::v1::RecordObservationRequest> obs = Observations();
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].parent(), a.item());
  EXPECT_EQ(obs[0].request_id(), "appraisal-filed-phone-report");
  EXPECT_EQ(obs[0].observation().kind(), listing::v1::Observation::IDENTITY);
  EXPECT_EQ(obs[0].observation().source(), a.name());
  EXPECT_EQ(obs[0].observation().identifiers().at("imei"), kImei);
  EXPECT_EQ(obs[0].observation().observed_time().seconds(), a.content().inspected_time().seconds());
  EXPECT_EQ(obs[0].listing(), kListing);
  EXPECT_EQ(obs[0].latest_appraisal().name(), a.name());
  EXPECT_EQ(obs[0].latest_appraisal().grades(0).level(), "95新");
  EXPECT_EQ(obs[0].latest_appraisal().valid_until().seconds(), a.content().valid_until().seconds());

  // Public readers do not see the filer; the firm and supervisors do.
  EXPECT_EQ(Get(a.name()).filer(), "");
  EXPECT_EQ(Get(a.name(), seller_).filer(), "");
  EXPECT_EQ(Get(a.name(), firm_).filer(), appraiser_);
  EXPECT_EQ(Get(a.name(), supervisor_).filer(), appraiser_);
  EXPECT_EQ(Get(a.name(), other_appraiser_).filer(), "");
}

TEST_F(AppraisalServiceTest, FirmFilesAndRetryWithRequestIdReplays) {
  v1::AppraisalContent c = Phone("ACME-2026-0002");
  std::string bytes = c.SerializeAsString();
  std::string sig = *key_->Sign(bytes);
  v1::Appraisal first, second;
  ASSERT_TRUE(FileRaw(firm_, bytes, sig, key_name_, &first, "", "req-1").ok());
  ASSERT_TRUE(FileRaw(firm_, bytes, sig, key_name_, &second, "", "req-1").ok());
  EXPECT_EQ(first.name(), second.name());
  EXPECT_EQ(FileRaw(firm_, bytes, sig, key_name_, &second).error_code(),
            StatusCode::ALREADY_EXISTS);
}

TEST_F(AppraisalServiceTest, ReportSignedWithAnotherKeyIsRejected) {
  v1::AppraisalContent c = Phone("ACME-2026-0003");
  std::string bytes = c.SerializeAsString();
  Ed25519PrivateKey stranger = *Ed25519PrivateKey::Generate();
  v1::Appraisal a;
  grpc::Status s = FileRaw(appraiser_, bytes, *stranger.Sign(bytes), key_name_, &a);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reason(s), "SIGNATURE_INVALID");
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"appraisal.signature"});
}

TEST_F(AppraisalServiceTest, ReportAlteredAfterSigningIsRejected) {
  v1::AppraisalContent c = Phone("ACME-2026-0004");
  std::string signature = *key_->Sign(c.SerializeAsString());
  c.mutable_grades(0)->set_level("99新");  // upgraded after signing
  v1::Appraisal a;
  grpc::Status s = FileRaw(appraiser_, c.SerializeAsString(), signature, key_name_, &a);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reason(s), "SIGNATURE_INVALID");
  // Also a single flipped byte, not a re-serialization.
  std::string bytes = Phone("ACME-2026-0005").SerializeAsString();
  std::string sig = *key_->Sign(bytes);
  bytes[bytes.find("0005") + 3] = '6';
  EXPECT_EQ(Reason(FileRaw(appraiser_, bytes, sig, key_name_, &a)), "SIGNATURE_INVALID");
  EXPECT_EQ(Reason(FileRaw(appraiser_, "\xff\xff\xff", sig, key_name_, &a)), "UNPARSABLE_CONTENT");
}

TEST_F(AppraisalServiceTest, FirmWithoutAccreditationForTheCategoryIsRejected) {
  v1::AppraisalContent c = Phone("ACME-2026-0006");
  c.set_category(common::v1::APPLIANCE);
  c.mutable_identifiers()->clear_imei();
  c.mutable_identifiers()->set_serial_number("SN-1");
  c.clear_grades();
  *c.add_grades() = Grade("general-condition-v1", "9成新");
  v1::Appraisal a;
  grpc::Status s = File(appraiser_, c, &a);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "NOT_ACCREDITED");
}

TEST_F(AppraisalServiceTest, ExpiredAccreditationIsRejected) {
  Ed25519PrivateKey beta_key = *Ed25519PrivateKey::Generate();
  std::string beta_key_name = RegisterKey(other_firm_, "firms/beta", beta_key, "beta-1");
  Accredit("firms/beta", {common::v1::PHONE}, clock_.Now() - Days(400), clock_.Now() - Days(1),
           "beta-old");
  v1::AppraisalContent c = Phone("BETA-1", kImei, "firms/beta", "subjects/li");
  std::string bytes = c.SerializeAsString();
  v1::Appraisal a;
  grpc::Status s = FileRaw(other_appraiser_, bytes, *beta_key.Sign(bytes), beta_key_name, &a);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "ACCREDITATION_EXPIRED");
}

TEST_F(AppraisalServiceTest, SuspendedAccreditationRejectsReports) {
  v1::SuspendAccreditationRequest suspend;
  suspend.set_name("firms/acme/accreditations/acme-phones");
  suspend.set_reason("调查中");
  v1::Accreditation out;
  ASSERT_TRUE(stub_->SuspendAccreditation(Ctx(supervisor_).get(), suspend, &out).ok());
  v1::Appraisal a;
  EXPECT_EQ(Reason(File(appraiser_, Phone("ACME-2026-0007"), &a)), "NOT_ACCREDITED");
}

TEST_F(AppraisalServiceTest, UnknownGradeLevelIsRejected) {
  v1::AppraisalContent c = Phone("ACME-2026-0008");
  c.mutable_grades(0)->set_level("98新");
  v1::Appraisal a;
  grpc::Status s = File(appraiser_, c, &a);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reason(s), "UNKNOWN_GRADE");
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"appraisal.signed_content.grades[0].level"});
  c = Phone("ACME-2026-0009");
  c.mutable_grades(1)->set_version(7);
  EXPECT_EQ(Reason(File(appraiser_, c, &a)), "UNKNOWN_GRADE");
}

TEST_F(AppraisalServiceTest, KeyMustBeTheFirmsAndActive) {
  Ed25519PrivateKey beta_key = *Ed25519PrivateKey::Generate();
  std::string beta_key_name = RegisterKey(other_firm_, "firms/beta", beta_key, "beta-1");
  v1::AppraisalContent c = Phone("ACME-2026-0010");
  std::string bytes = c.SerializeAsString();
  v1::Appraisal a;
  EXPECT_EQ(Reason(FileRaw(appraiser_, bytes, *beta_key.Sign(bytes), beta_key_name, &a)),
            "KEY_NOT_OWNED_BY_FIRM");
  EXPECT_EQ(FileRaw(appraiser_, bytes, *key_->Sign(bytes), "firms/acme/keys/nope", &a).error_code(),
            StatusCode::NOT_FOUND);
  v1::RetireSigningKeyRequest retire;
  retire.set_name(key_name_);
  v1::SigningKey k;
  ASSERT_TRUE(stub_->RetireSigningKey(Ctx(firm_).get(), retire, &k).ok());
  EXPECT_EQ(Reason(FileRaw(appraiser_, bytes, *key_->Sign(bytes), key_name_, &a)),
            "KEY_NOT_ACTIVE");
}

TEST_F(AppraisalServiceTest, OnlyTheFirmOrItsNamedAppraiserFiles) {
  v1::Appraisal a;
  // An appraiser of another firm.
  EXPECT_EQ(File(other_appraiser_, Phone("ACME-2026-0011"), &a).error_code(),
            StatusCode::PERMISSION_DENIED);
  // Another firm.
  EXPECT_EQ(File(other_firm_, Phone("ACME-2026-0011"), &a).error_code(),
            StatusCode::PERMISSION_DENIED);
  // The firm naming an appraiser who does not work for it.
  EXPECT_EQ(Reason(File(firm_, Phone("ACME-2026-0011", kImei, "firms/acme", "subjects/li"), &a)),
            "APPRAISER_NOT_AFFILIATED");
  // Bad input is named, never INTERNAL.
  v1::AppraisalContent bad = Phone("ACME-2026-0012", "352099081234563");
  grpc::Status s = File(appraiser_, bad, &a);
  EXPECT_EQ(BadFields(s), std::vector<std::string>{"appraisal.signed_content.identifiers.imei"});
  bad = Phone("ACME-2026-0012");
  bad.set_listing("markets/east/listings/unknown");
  EXPECT_EQ(File(appraiser_, bad, &a).error_code(), StatusCode::NOT_FOUND);
  v1::FileAppraisalRequest empty;
  EXPECT_EQ(BadFields(stub_->FileAppraisal(Ctx(appraiser_).get(), empty, &a)),
            (std::vector<std::string>{"appraisal.signed_content", "appraisal.signature",
                                      "appraisal.key"}));
}

TEST_F(AppraisalServiceTest, AccidentVehicleIsGradedFiveWhateverTheScore) {
  v1::Appraisal a = Filed(Vehicle("ACME-V-1", 95, /*accident=*/true, "五级"));
  EXPECT_EQ(a.item(), absl::StrCat("items/VEHICLE:", kVin));
  // valid_until defaults to inspected_time + 90 days.
  EXPECT_EQ(FromTimestamp(a.content().valid_until()),
            FromTimestamp(a.content().inspected_time()) + Days(90));
  v1::Appraisal b;
  grpc::Status s = File(appraiser_, Vehicle("ACME-V-2", 95, true, "一级"), &b);
  EXPECT_EQ(Reason(s), "GRADE_SCORE_MISMATCH");
  s = File(appraiser_, Vehicle("ACME-V-3", 95, false, "二级"), &b);
  EXPECT_EQ(Reason(s), "GRADE_SCORE_MISMATCH");
  ASSERT_TRUE(File(appraiser_, Vehicle("ACME-V-4", 72, false, "二级"), &b).ok());
  // The vehicle's mileage is observed on the item.
  std::vector<listing::v1::RecordObservationRequest> obs = Observations();
  ASSERT_EQ(obs.size(), 2u);
  EXPECT_EQ(obs[1].observation().kind(), listing::v1::Observation::MILEAGE);
  EXPECT_EQ(obs[1].observation().mileage_km(), 56000);
  EXPECT_EQ(obs[1].listing(), "");
  // A stolen vehicle is not graded.
  v1::AppraisalContent stolen = Vehicle("ACME-V-5", 72, false, "二级");
  stolen.mutable_tradability_checks()->set_stolen(true);
  EXPECT_EQ(Reason(File(appraiser_, stolen, &b)), "VEHICLE_NOT_TRADABLE");
  // 12 structural points only.
  v1::AppraisalContent partial = Vehicle("ACME-V-6", 72, false, "二级");
  partial.mutable_structural_points()->RemoveLast();
  EXPECT_EQ(BadFields(File(appraiser_, partial, &b)),
            std::vector<std::string>{"appraisal.signed_content.structural_points"});
}

TEST_F(AppraisalServiceTest, NewReportOnTheSameItemSupersedesTheOlder) {
  v1::Appraisal first = Filed(Phone("ACME-2026-0020"), "first");
  clock_.Advance(absl::Hours(3));
  v1::AppraisalContent c = Phone("ACME-2026-0021");
  c.set_listing("");
  v1::Appraisal second = Filed(c, "second");
  v1::Appraisal old = Get(first.name());
  EXPECT_EQ(old.state(), v1::Appraisal::SUPERSEDED);
  EXPECT_EQ(old.superseded_by(), second.name());
  EXPECT_EQ(Get(second.name()).state(), v1::Appraisal::FILED);
  // The older report's listing no longer shows it.
  std::vector<listing::v1::RecordObservationRequest> obs = Observations();
  ASSERT_EQ(obs.size(), 3u);
  EXPECT_EQ(obs[1].request_id(), "appraisal-cleared-first");
  EXPECT_EQ(obs[1].listing(), kListing);
  EXPECT_FALSE(obs[1].has_latest_appraisal());
  // A report on another item supersedes nothing.
  Filed(Phone("ACME-2026-0022", kImei2));
  EXPECT_EQ(Get(second.name()).state(), v1::Appraisal::FILED);

  v1::ListAppraisalsRequest list;
  list.set_filter(absl::StrCat("item=\"items/PHONE:", kImei, "\""));
  v1::ListAppraisalsResponse resp;
  ASSERT_TRUE(stub_->ListAppraisals(Ctx("").get(), list, &resp).ok());
  ASSERT_EQ(resp.appraisals_size(), 2);
  EXPECT_EQ(resp.appraisals(0).name(), second.name());  // newest inspection first
  EXPECT_EQ(resp.appraisals(0).filer(), "");
  list.set_filter("state=SUPERSEDED AND firm=\"firms/acme\"");
  list.set_page_size(1);
  resp.Clear();
  ASSERT_TRUE(stub_->ListAppraisals(Ctx(firm_).get(), list, &resp).ok());
  ASSERT_EQ(resp.appraisals_size(), 1);
  EXPECT_EQ(resp.appraisals(0).filer(), appraiser_);
  EXPECT_TRUE(resp.next_page_token().empty());
}

// ---- Verification -------------------------------------------------------------------

TEST_F(AppraisalServiceTest, OutsiderVerifiesAFiledReportOfflineWithOpenSsl) {
  v1::Appraisal filed = Filed(Phone("ACME-2026-0030"));
  // Everything an outsider needs comes from public RPCs.
  v1::Appraisal a = Get(filed.name());
  v1::ListSigningKeysRequest keys_req;
  keys_req.set_parent("firms/acme");
  v1::ListSigningKeysResponse keys;
  ASSERT_TRUE(stub_->ListSigningKeys(Ctx("").get(), keys_req, &keys).ok());
  std::string raw;
  for (const auto& k : keys.signing_keys()) {
    if (k.name() == a.key()) raw = k.public_key();
  }
  ASSERT_EQ(raw.size(), 32u);
  // Plain OpenSSL EVP, not the service's code path.
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  ASSERT_NE(pkey, nullptr);
  auto verify = [pkey](const std::string& msg, const std::string& sig) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey);
    if (ok == 1) {
      ok = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                            reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
    }
    EVP_MD_CTX_free(ctx);
    return ok == 1;
  };
  EXPECT_TRUE(verify(a.signed_content(), a.signature()));
  std::string tampered = a.signed_content();
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(verify(tampered, a.signature()));
  EVP_PKEY_free(pkey);
  // The stored bytes decode to the report as filed.
  v1::AppraisalContent decoded;
  ASSERT_TRUE(decoded.ParseFromString(a.signed_content()));
  EXPECT_EQ(decoded.report_number(), "ACME-2026-0030");
  EXPECT_EQ(decoded.identifiers().imei(), kImei);
}

TEST_F(AppraisalServiceTest, VerifyAppraisalReportsEachProblem) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0040"));
  v1::VerifyAppraisalRequest req;
  req.set_name(a.name());
  v1::VerifyAppraisalResponse resp;
  ASSERT_TRUE(stub_->VerifyAppraisal(Ctx("").get(), req, &resp).ok());
  EXPECT_TRUE(resp.valid());
  EXPECT_TRUE(resp.signature_valid());
  EXPECT_TRUE(resp.accreditation_valid());
  EXPECT_EQ(resp.accreditation(), "firms/acme/accreditations/acme-phones");
  EXPECT_EQ(resp.key_state(), v1::SigningKey::ACTIVE);
  EXPECT_EQ(resp.appraisal_state(), v1::Appraisal::FILED);
  EXPECT_EQ(resp.content().report_number(), "ACME-2026-0040");

  // Raw bytes of the filed report verify too; altered bytes do not.
  v1::VerifyAppraisalRequest raw;
  raw.set_signed_content(a.signed_content());
  raw.set_signature(a.signature());
  raw.set_key(a.key());
  resp.Clear();
  ASSERT_TRUE(stub_->VerifyAppraisal(Ctx("").get(), raw, &resp).ok());
  EXPECT_TRUE(resp.valid());
  EXPECT_EQ(resp.appraisal(), a.name());
  v1::AppraisalContent changed = a.content();
  changed.set_report_number("ACME-2026-0041");
  raw.set_signed_content(changed.SerializeAsString());
  resp.Clear();
  ASSERT_TRUE(stub_->VerifyAppraisal(Ctx("").get(), raw, &resp).ok());
  EXPECT_FALSE(resp.valid());
  EXPECT_FALSE(resp.signature_valid());
  EXPECT_EQ(std::vector<std::string>(resp.problems().begin(), resp.problems().end()),
            (std::vector<std::string>{"BAD_SIGNATURE", "NOT_FILED"}));

  // Superseded, then expired.
  Filed(Phone("ACME-2026-0042"));
  resp.Clear();
  ASSERT_TRUE(stub_->VerifyAppraisal(Ctx("").get(), req, &resp).ok());
  EXPECT_FALSE(resp.valid());
  EXPECT_EQ(resp.appraisal_state(), v1::Appraisal::SUPERSEDED);
  clock_.Advance(Days(31));
  resp.Clear();
  ASSERT_TRUE(stub_->VerifyAppraisal(Ctx("").get(), req, &resp).ok());
  EXPECT_TRUE(resp.expired());
  EXPECT_EQ(std::vector<std::string>(resp.problems().begin(), resp.problems().end()),
            (std::vector<std::string>{"SUPERSEDED", "EXPIRED"}));

  v1::VerifyAppraisalRequest neither;
  EXPECT_EQ(stub_->VerifyAppraisal(Ctx("").get(), neither, &resp).error_code(),
            StatusCode::INVALID_ARGUMENT);
  neither.set_name("appraisals/none");
  EXPECT_EQ(stub_->VerifyAppraisal(Ctx("").get(), neither, &resp).error_code(),
            StatusCode::NOT_FOUND);
}

// ---- Disputes -------------------------------------------------------------------------

TEST_F(AppraisalServiceTest, UpheldDisputeOverturnsAndRecordsCreditEvents) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0050"), "disputed");
  v1::Dispute d;
  ASSERT_TRUE(Dispute(buyer_, a.name(), &d).ok());
  EXPECT_EQ(d.state(), v1::Dispute::OPEN);
  EXPECT_EQ(d.raiser(), buyer_);
  EXPECT_EQ(d.raiser_role(), Role::BUYER);
  EXPECT_EQ(Get(a.name()).state(), v1::Appraisal::DISPUTED);
  v1::Dispute dup;
  EXPECT_EQ(Dispute(buyer_, a.name(), &dup).error_code(), StatusCode::ALREADY_EXISTS);

  // Involved parties read it; others do not.
  v1::GetDisputeRequest get;
  get.set_name(d.name());
  v1::Dispute read;
  EXPECT_TRUE(stub_->GetDispute(Ctx(seller_).get(), get, &read).ok());
  EXPECT_TRUE(stub_->GetDispute(Ctx(appraiser_).get(), get, &read).ok());
  EXPECT_EQ(stub_->GetDispute(Ctx(other_firm_).get(), get, &read).error_code(),
            StatusCode::PERMISSION_DENIED);

  EXPECT_EQ(Rule(d.name(), v1::Dispute::UPHELD, &read, "\"v7\"").error_code(), StatusCode::ABORTED);
  EXPECT_EQ(BadFields(Rule(d.name(), v1::Dispute::OPEN, &read)),
            std::vector<std::string>{"outcome"});
  ASSERT_TRUE(Rule(d.name(), v1::Dispute::UPHELD, &read, d.etag()).ok());
  EXPECT_EQ(read.state(), v1::Dispute::UPHELD);
  EXPECT_EQ(read.ruled_by(), supervisor_);
  EXPECT_EQ(Reason(Rule(d.name(), v1::Dispute::DISMISSED, &read)), "DISPUTE_NOT_OPEN");
  v1::Appraisal overturned = Get(a.name(), supervisor_);
  EXPECT_EQ(overturned.state(), v1::Appraisal::OVERTURNED);
  EXPECT_EQ(overturned.state_reason(), "复检结论与原报告不符");

  std::vector<credit::v1::Record> events = CreditEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].subject(), firm_);
  EXPECT_EQ(events[0].subject_role(), Role::APPRAISAL_FIRM);
  EXPECT_EQ(events[1].subject(), appraiser_);
  EXPECT_EQ(events[1].subject_role(), Role::APPRAISER);
  for (const auto& e : events) {
    EXPECT_EQ(e.type(), credit::v1::Record::APPRAISAL_OVERTURNED);
    EXPECT_EQ(e.tier(), credit::v1::Record::GENERAL);
    EXPECT_EQ(e.reference(), a.name());
    EXPECT_EQ(e.decision_document_number(), "闽市监鉴裁〔2026〕7号");
    EXPECT_LE(e.event_id().size(), 128u);
  }
  // The listing's latest appraisal is cleared.
  std::vector<listing::v1::RecordObservationRequest> obs = Observations();
  ASSERT_EQ(obs.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(obs[1].request_id(), "appraisal-ruling-cleared-"))
      << obs[1].request_id();
  EXPECT_EQ(obs[1].listing(), kListing);
  EXPECT_FALSE(obs[1].has_latest_appraisal());
  EXPECT_EQ(Reason(Dispute(seller_, a.name(), &dup)), "APPRAISAL_NOT_DISPUTABLE");

  v1::VerifyAppraisalRequest verify;
  verify.set_name(a.name());
  v1::VerifyAppraisalResponse vr;
  ASSERT_TRUE(stub_->VerifyAppraisal(Ctx("").get(), verify, &vr).ok());
  EXPECT_FALSE(vr.valid());
  EXPECT_EQ(std::vector<std::string>(vr.problems().begin(), vr.problems().end()),
            std::vector<std::string>{"OVERTURNED"});
}

TEST_F(AppraisalServiceTest, DismissedDisputeReturnsTheReportToFiled) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0060"));
  v1::Dispute by_seller, by_buyer, ruled;
  ASSERT_TRUE(Dispute(seller_, a.name(), &by_seller).ok());
  EXPECT_EQ(by_seller.raiser_role(), Role::SELLER);
  ASSERT_TRUE(Dispute(buyer_, a.name(), &by_buyer).ok());
  ASSERT_TRUE(Rule(by_seller.name(), v1::Dispute::DISMISSED, &ruled).ok());
  EXPECT_EQ(Get(a.name()).state(), v1::Appraisal::DISPUTED);  // another dispute is open
  ASSERT_TRUE(Rule(by_buyer.name(), v1::Dispute::DISMISSED, &ruled).ok());
  EXPECT_EQ(Get(a.name()).state(), v1::Appraisal::FILED);
  EXPECT_TRUE(CreditEvents().empty());

  v1::ListDisputesRequest list;
  list.set_parent(a.name());
  v1::ListDisputesResponse resp;
  ASSERT_TRUE(stub_->ListDisputes(Ctx(supervisor_).get(), list, &resp).ok());
  ASSERT_EQ(resp.disputes_size(), 2);
  EXPECT_EQ(resp.disputes(0).name(), by_buyer.name());  // newest first
  list.set_parent("appraisals/-");
  list.set_filter(absl::StrCat("raiser=\"", seller_, "\""));
  resp.Clear();
  ASSERT_TRUE(stub_->ListDisputes(Ctx(seller_).get(), list, &resp).ok());
  ASSERT_EQ(resp.disputes_size(), 1);
  // Someone uninvolved sees none of them.
  list.set_filter("");
  resp.Clear();
  ASSERT_TRUE(stub_->ListDisputes(Ctx(other_appraiser_).get(), list, &resp).ok());
  EXPECT_EQ(resp.disputes_size(), 0);
}

TEST_F(AppraisalServiceTest, DisputeWindowClosesAfterFifteenDays) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0070"));
  clock_.Advance(Days(15) + absl::Seconds(1));
  v1::Dispute d;
  EXPECT_EQ(Reason(Dispute(buyer_, a.name(), &d)), "DISPUTE_WINDOW_CLOSED");
}

TEST_F(AppraisalServiceTest, AnotherAccreditedFirmDisputesWithACounterAppraisal) {
  v1::Appraisal original = Filed(Phone("ACME-2026-0080"), "original");
  Ed25519PrivateKey beta_key = *Ed25519PrivateKey::Generate();
  std::string beta_key_name = RegisterKey(other_firm_, "firms/beta", beta_key, "beta-1");
  v1::Dispute d;
  // Not accredited yet: not allowed to dispute.
  EXPECT_EQ(Dispute(other_appraiser_, original.name(), &d).error_code(),
            StatusCode::PERMISSION_DENIED);
  Accredit("firms/beta", {common::v1::PHONE}, clock_.Now() - Days(1), clock_.Now() + Days(300),
           "beta-phones");
  v1::AppraisalContent c = Phone("BETA-0001", kImei, "firms/beta", "subjects/li");
  c.mutable_grades(0)->set_level("8成新");
  std::string bytes = c.SerializeAsString();
  v1::Appraisal counter;
  ASSERT_TRUE(
      FileRaw(other_appraiser_, bytes, *beta_key.Sign(bytes), beta_key_name, &counter).ok());
  EXPECT_EQ(Get(original.name()).state(), v1::Appraisal::SUPERSEDED);
  // The same firm cannot dispute its own report; another item is no counter.
  EXPECT_EQ(Dispute(appraiser_, original.name(), &d).error_code(), StatusCode::PERMISSION_DENIED);
  v1::Appraisal other_item = Filed(Phone("ACME-2026-0081", kImei2));
  EXPECT_EQ(Dispute(buyer_, original.name(), &d, other_item.name()).error_code(),
            StatusCode::FAILED_PRECONDITION);  // superseded, and not by that report
  ASSERT_TRUE(Dispute(other_appraiser_, original.name(), &d, counter.name()).ok());
  EXPECT_EQ(d.raiser_role(), Role::APPRAISER);
  EXPECT_EQ(d.counter_appraisal(), counter.name());
  v1::Dispute ruled;
  ASSERT_TRUE(Rule(d.name(), v1::Dispute::UPHELD, &ruled).ok());
  EXPECT_EQ(Get(original.name()).state(), v1::Appraisal::OVERTURNED);
  EXPECT_EQ(CreditEvents().size(), 2u);
  // Beta's own report is a counter of the same item by another firm only.
  v1::Appraisal beta_only = Get(counter.name());
  EXPECT_EQ(beta_only.state(), v1::Appraisal::FILED);
  EXPECT_EQ(Dispute(buyer_, counter.name(), &d, other_item.name()).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

// ---- Role matrix ------------------------------------------------------------------------

TEST_F(AppraisalServiceTest, RoleMatrixForEveryRpc) {
  using Call = std::function<grpc::Status(grpc::ClientContext*)>;
  struct Row {
    std::string method;
    bool is_public;
    std::set<Role> roles;
    Call call;
  };
  auto* stub = stub_.get();
  // Empty requests: an allowed caller gets INVALID_ARGUMENT (or OK), never a
  // role error; validation precedes every ownership check.
  std::vector<Row> rows = {
      {"GrantAccreditation",
       false,
       {Role::SUPERVISOR},
       [&](grpc::ClientContext* c) {
         v1::Accreditation r;
         return stub->GrantAccreditation(c, v1::GrantAccreditationRequest(), &r);
       }},
      {"SuspendAccreditation",
       false,
       {Role::SUPERVISOR},
       [&](grpc::ClientContext* c) {
         v1::Accreditation r;
         return stub->SuspendAccreditation(c, v1::SuspendAccreditationRequest(), &r);
       }},
      {"RevokeAccreditation",
       false,
       {Role::SUPERVISOR},
       [&](grpc::ClientContext* c) {
         v1::Accreditation r;
         return stub->RevokeAccreditation(c, v1::RevokeAccreditationRequest(), &r);
       }},
      {"ListAccreditations",
       true,
       {},
       [&](grpc::ClientContext* c) {
         v1::ListAccreditationsRequest req;
         req.set_parent("firms/-");
         v1::ListAccreditationsResponse r;
         return stub->ListAccreditations(c, req, &r);
       }},
      {"RegisterSigningKey",
       false,
       {Role::APPRAISAL_FIRM},
       [&](grpc::ClientContext* c) {
         v1::SigningKey r;
         return stub->RegisterSigningKey(c, v1::RegisterSigningKeyRequest(), &r);
       }},
      {"RetireSigningKey",
       false,
       {Role::APPRAISAL_FIRM, Role::SUPERVISOR},
       [&](grpc::ClientContext* c) {
         v1::SigningKey r;
         return stub->RetireSigningKey(c, v1::RetireSigningKeyRequest(), &r);
       }},
      {"ListSigningKeys",
       true,
       {},
       [&](grpc::ClientContext* c) {
         v1::ListSigningKeysRequest req;
         req.set_parent("firms/-");
         v1::ListSigningKeysResponse r;
         return stub->ListSigningKeys(c, req, &r);
       }},
      {"FileAppraisal",
       false,
       {Role::APPRAISAL_FIRM, Role::APPRAISER},
       [&](grpc::ClientContext* c) {
         v1::Appraisal r;
         return stub->FileAppraisal(c, v1::FileAppraisalRequest(), &r);
       }},
      {"GetAppraisal",
       true,
       {},
       [&](grpc::ClientContext* c) {
         v1::Appraisal r;
         return stub->GetAppraisal(c, v1::GetAppraisalRequest(), &r);
       }},
      {"ListAppraisals",
       true,
       {},
       [&](grpc::ClientContext* c) {
         v1::ListAppraisalsResponse r;
         return stub->ListAppraisals(c, v1::ListAppraisalsRequest(), &r);
       }},
      {"VerifyAppraisal",
       true,
       {},
       [&](grpc::ClientContext* c) {
         v1::VerifyAppraisalResponse r;
         return stub->VerifyAppraisal(c, v1::VerifyAppraisalRequest(), &r);
       }},
      {"FileDispute",
       false,
       {Role::SELLER, Role::BUYER, Role::APPRAISAL_FIRM, Role::APPRAISER},
       [&](grpc::ClientContext* c) {
         v1::Dispute r;
         return stub->FileDispute(c, v1::FileDisputeRequest(), &r);
       }},
      {"GetDispute",
       false,
       {Role::SUPERVISOR, Role::SELLER, Role::BUYER, Role::APPRAISAL_FIRM, Role::APPRAISER},
       [&](grpc::ClientContext* c) {
         v1::Dispute r;
         return stub->GetDispute(c, v1::GetDisputeRequest(), &r);
       }},
      {"ListDisputes",
       false,
       {Role::SUPERVISOR, Role::SELLER, Role::BUYER, Role::APPRAISAL_FIRM, Role::APPRAISER},
       [&](grpc::ClientContext* c) {
         v1::ListDisputesResponse r;
         return stub->ListDisputes(c, v1::ListDisputesRequest(), &r);
       }},
      {"RuleOnDispute",
       false,
       {Role::SUPERVISOR},
       [&](grpc::ClientContext* c) {
         v1::Dispute r;
         return stub->RuleOnDispute(c, v1::RuleOnDisputeRequest(), &r);
       }},
      {"ListGradingSchemes",
       true,
       {},
       [&](grpc::ClientContext* c) {
         v1::ListGradingSchemesResponse r;
         return stub->ListGradingSchemes(c, v1::ListGradingSchemesRequest(), &r);
       }},
      {"GetAppraisalCertificate",
       true,
       {},
       [&](grpc::ClientContext* c) {
         v1::AppraisalCertificate r;
         return stub->GetAppraisalCertificate(c, v1::GetAppraisalCertificateRequest(), &r);
       }},
  };
  ASSERT_EQ(
      static_cast<int>(rows.size()),
      v1::Appraisal::descriptor()->file()->FindServiceByName("AppraisalService")->method_count());
  const std::vector<std::pair<Role, std::string>> callers = {
      {Role::SUPERVISOR, supervisor_}, {Role::OPERATOR, operator_},   {Role::SELLER, seller_},
      {Role::BUYER, buyer_},           {Role::APPRAISAL_FIRM, firm_}, {Role::APPRAISER, appraiser_},
      {Role::SERVICE, service_}};
  for (const Row& row : rows) {
    grpc::ClientContext anonymous;
    grpc::Status s = row.call(&anonymous);
    if (row.is_public) {
      EXPECT_TRUE(s.ok() || s.error_code() == StatusCode::INVALID_ARGUMENT)
          << row.method << " anonymous: " << s.error_code() << " " << s.error_message();
    } else {
      EXPECT_EQ(s.error_code(), StatusCode::UNAUTHENTICATED) << row.method << " anonymous";
    }
    for (const auto& [role, subject] : callers) {
      s = row.call(Ctx(subject).get());
      bool allowed = row.is_public || row.roles.contains(role);
      if (allowed) {
        EXPECT_TRUE(s.ok() || s.error_code() == StatusCode::INVALID_ARGUMENT)
            << row.method << " as " << common::v1::Role_Name(role) << ": " << s.error_code() << " "
            << s.error_message();
      } else {
        EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED)
            << row.method << " as " << common::v1::Role_Name(role);
      }
    }
  }
}

// ---- Certificates -------------------------------------------------------------------

// Certificates through the real server, and their verify URLs answered both
// by Judge over GetAppraisal + VerifyAppraisal (what marketctl does) and by
// GET /verify on a second runner's HTTP port asking this server.
class CertificateTest : public AppraisalServiceTest {
 protected:
  void TearDown() override {
    if (http_ != nullptr) http_->Shutdown(absl::ZeroDuration());
    http_.reset();
    AppraisalServiceTest::TearDown();
  }

  grpc::Status Certificate(const std::string& name, v1::GetAppraisalCertificateRequest::Format f,
                           v1::AppraisalCertificate* out) {
    v1::GetAppraisalCertificateRequest req;
    req.set_name(name);
    req.set_format(f);
    return stub_->GetAppraisalCertificate(Ctx("").get(), req, out);
  }
  v1::AppraisalCertificate CertificateOf(const std::string& name) {
    v1::AppraisalCertificate cert;
    grpc::Status s = Certificate(name, v1::GetAppraisalCertificateRequest::SVG, &cert);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return cert;
  }
  // The URL the certificate's QR code carries, read back from the SVG.
  std::string ScannedUrl(const v1::AppraisalCertificate& cert) {
    absl::StatusOr<std::vector<std::string>> texts =
        testing::DecodeQrInDocument(cert.document());
    EXPECT_TRUE(texts.ok()) << texts.status();
    if (!texts.ok() || texts->size() != 1) return "";
    return texts->front();
  }
  v1::VerifyAppraisalResponse Verify(const std::string& name) {
    v1::VerifyAppraisalRequest req;
    req.set_name(name);
    v1::VerifyAppraisalResponse resp;
    grpc::Status s = stub_->VerifyAppraisal(Ctx("").get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  // marketctl's way: parse the URL, GetAppraisal and VerifyAppraisal, Judge.
  std::string VerdictOf(const std::string& url) {
    absl::StatusOr<VerifyTarget> t = ParseVerifyUrl(url);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return "";
    return VerdictName(Judge(t->sha256, Get(t->report), Verify(t->report)));
  }
  // GET /verify: status and the page's data-verdict ("" when none).
  std::pair<int, std::string> VerdictOverHttp(const std::string& url) {
    if (http_ == nullptr) {
      http_ = std::make_unique<server::ServerRunner>(
          server::ServerOptions{.listen = "127.0.0.1:0", .http_listen = "127.0.0.1:0"}, nullptr);
      AddVerifyHttpRoute(*http_, [this] { return NewChannel(); });
      absl::Status s = http_->Start();
      EXPECT_TRUE(s.ok()) << s;
    }
    httplib::Client client("127.0.0.1", http_->http_port());
    httplib::Result res = client.Get(url.substr(url.find("/verify")));
    if (!res) return {0, ""};
    EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
    std::smatch m;
    std::regex verdict("data-verdict=\"([A-Z_]+)\"");
    std::string verdict_name;
    if (std::regex_search(res->body, m, verdict)) verdict_name = m[1];
    return {res->status, verdict_name};
  }
  // The verdict of `url` is `want` both ways, and VerifyAppraisal on the
  // report agrees: valid for VALID, else `want` among its problems.
  void ExpectVerdict(const std::string& url, const std::string& want) {
    EXPECT_EQ(VerdictOf(url), want) << url;
    EXPECT_EQ(VerdictOverHttp(url), std::make_pair(200, want)) << url;
    v1::VerifyAppraisalResponse v = Verify(ParseVerifyUrl(url)->report);
    if (want == "VALID") {
      EXPECT_TRUE(v.valid());
    } else if (want != "HASH_MISMATCH") {
      EXPECT_THAT(v.problems(), ::testing::Contains(want));
    }
  }

  std::unique_ptr<server::ServerRunner> http_;
};

TEST_F(CertificateTest, QrCodeDecodesToTheVerifyUrlOfTheSignedBytes) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0200"), "cert-1");
  v1::AppraisalCertificate cert = CertificateOf(a.name());  // anonymous: public
  std::string sha = HexEncode(Sha256(a.signed_content()));
  EXPECT_EQ(cert.report_sha256(), sha);
  EXPECT_EQ(cert.verify_url(),
            "http://127.0.0.1:7401/verify?report=appraisals/cert-1&sha256=" + sha);
  EXPECT_EQ(ScannedUrl(cert), cert.verify_url());
  EXPECT_EQ(cert.content_type(), "image/svg+xml");
  EXPECT_OK(testing::CheckWellFormedXml(cert.document()));
}

TEST_F(CertificateTest, SvgAndHtmlShowFirmAppraiserItemGradeAndDates) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0201"), "cert-2");
  for (auto format : {v1::GetAppraisalCertificateRequest::SVG,
                      v1::GetAppraisalCertificateRequest::HTML}) {
    v1::AppraisalCertificate cert;
    ASSERT_TRUE(Certificate(a.name(), format, &cert).ok());
    EXPECT_EQ(cert.format(), format);
    const std::string& doc = cert.document();
    for (const char* want :
         {"二手商品鉴定评估证书", "鉴定机构", "acme（firms/acme）", kUscc, "鉴定人员",
          "zhang（subjects/zhang）", "ZG-2026-0042", "手机", kImei, "Huawei", "Mate 60 Pro",
          "鉴定等级", "95新（Phone cosmetic condition (N成新) v1）", "Phone functional grade",
          "检验日期", "2026年11月02日", "有效期至", "2026年12月02日", "ACME-2026-0201",
          "扫码核验"}) {
      EXPECT_THAT(doc, ::testing::HasSubstr(want)) << want;
    }
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> texts, testing::DecodeQrInDocument(doc));
    EXPECT_THAT(texts, ::testing::ElementsAre(cert.verify_url()));
  }
}

TEST_F(CertificateTest, VerdictFollowsVerifyAppraisalThroughDisputeAndOverturn) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0202"), "cert-3");
  std::string url = ScannedUrl(CertificateOf(a.name()));
  ExpectVerdict(url, "VALID");
  v1::Dispute d;
  ASSERT_TRUE(Dispute(buyer_, a.name(), &d).ok());
  ExpectVerdict(url, "DISPUTED");
  v1::Dispute ruled;
  ASSERT_TRUE(Rule(d.name(), v1::Dispute::UPHELD, &ruled).ok());
  ExpectVerdict(url, "OVERTURNED");
}

TEST_F(CertificateTest, VerdictIsSupersededOnceANewerReportIsFiled) {
  v1::Appraisal first = Filed(Phone("ACME-2026-0203"), "cert-4");
  std::string url = ScannedUrl(CertificateOf(first.name()));
  clock_.Advance(absl::Hours(3));
  v1::Appraisal second = Filed(Phone("ACME-2026-0204"), "cert-5");
  ExpectVerdict(url, "SUPERSEDED");
  ExpectVerdict(ScannedUrl(CertificateOf(second.name())), "VALID");
}

TEST_F(CertificateTest, VerdictIsExpiredAfterValidUntil) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0205"), "cert-6");
  std::string url = ScannedUrl(CertificateOf(a.name()));
  clock_.Advance(Days(31));
  ExpectVerdict(url, "EXPIRED");
}

TEST_F(CertificateTest, TamperedSha256GivesAHashMismatch) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0206"), "cert-7");
  std::string url = ScannedUrl(CertificateOf(a.name()));
  std::string tampered = url;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  ExpectVerdict(tampered, "HASH_MISMATCH");
  ExpectVerdict(url, "VALID");
}

TEST_F(CertificateTest, VerifyPageRefusesBadParametersAndUnknownReports) {
  std::string sha = HexEncode(Sha256("x"));
  EXPECT_EQ(VerdictOverHttp("/verify?report=appraisals/cert-8&sha256=abc").first, 400);
  EXPECT_EQ(VerdictOverHttp("/verify?sha256=" + sha).first, 400);
  EXPECT_EQ(VerdictOverHttp("/verify?report=appraisals/nobody&sha256=" + sha).first, 404);
}

TEST_F(CertificateTest, OnlyACurrentReportGetsACertificate) {
  v1::Appraisal first = Filed(Phone("ACME-2026-0207"), "cert-9");
  clock_.Advance(absl::Hours(3));
  Filed(Phone("ACME-2026-0208"), "cert-10");
  v1::AppraisalCertificate cert;
  grpc::Status s = Certificate(first.name(), v1::GetAppraisalCertificateRequest::SVG, &cert);
  EXPECT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(s), "APPRAISAL_NOT_CURRENT");
}

TEST_F(CertificateTest, BadNameOrFormatIsInvalidNamingTheField) {
  v1::AppraisalCertificate cert;
  EXPECT_EQ(BadFields(Certificate("cert-1", v1::GetAppraisalCertificateRequest::SVG, &cert)),
            std::vector<std::string>{"name"});
  EXPECT_EQ(BadFields(Certificate("appraisals/cert-1",
                                  static_cast<v1::GetAppraisalCertificateRequest::Format>(9),
                                  &cert)),
            std::vector<std::string>{"format"});
  EXPECT_EQ(Certificate("appraisals/none", v1::GetAppraisalCertificateRequest::HTML, &cert)
                .error_code(),
            StatusCode::NOT_FOUND);
}

class PublicBaseCertificateTest : public CertificateTest {
 protected:
  PublicBaseCertificateTest() { public_base_url_ = "https://market.example.cn/"; }
};

TEST_F(PublicBaseCertificateTest, VerifyUrlStartsWithTheConfiguredPublicBase) {
  v1::Appraisal a = Filed(Phone("ACME-2026-0209"), "cert-11");
  v1::AppraisalCertificate cert = CertificateOf(a.name());
  EXPECT_EQ(cert.verify_url(),
            "https://market.example.cn/verify?report=appraisals/cert-11&sha256=" +
                cert.report_sha256());
  EXPECT_EQ(ScannedUrl(cert), cert.verify_url());
}

TEST_F(CertificateTest, ModuleRefusesAPublicBaseThatIsNoHttpUrl) {
  EXPECT_EQ(OpenAppraisalModule(dir_ + "/bad", &clock_, nullptr, nullptr, verifier_,
                                identity_.suspension, nullptr, "market.example.cn")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace market::appraisal
