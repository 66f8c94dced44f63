// Certificates without a server: QR codes read back with libzbar, the SVG
// parsed with expat, verify URLs, the public base URL and the verdict order.
#include "services/appraisal/certificate.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/crypto/crypto.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/appraisal/certificate_testing.h"

namespace market::appraisal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kUrl[] =
    "https://market.example.cn/verify?report=appraisals/r-1&sha256="
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

CertificateInput Input() {
  CertificateInput in;
  v1::Appraisal& a = in.appraisal;
  a.set_name("appraisals/r-1");
  a.set_signed_content("signed bytes");
  v1::AppraisalContent& c = *a.mutable_content();
  c.set_report_number("ACME-2026-0001");
  c.set_firm("firms/acme");
  c.set_firm_credit_code("91350100M000100Y43");
  c.set_appraiser("subjects/zhang");
  c.set_appraiser_qualification_number("ZG-2026-0042");
  c.set_category(common::v1::PHONE);
  c.mutable_identifiers()->set_imei("355383063760236");
  c.mutable_identifiers()->set_model("Mate 60 Pro");
  common::v1::GradeRef* g = c.add_grades();
  g->set_scheme("phone-cosmetic-v1");
  g->set_version(1);
  g->set_level("95新");
  *c.mutable_inspected_time() =
      ToTimestamp(absl::FromCivil(absl::CivilSecond(2026, 11, 2, 8, 0, 0), absl::UTCTimeZone()));
  *c.mutable_valid_until() =
      ToTimestamp(absl::FromCivil(absl::CivilSecond(2026, 12, 1, 20, 0, 0), absl::UTCTimeZone()));
  v1::GradingScheme scheme;
  scheme.set_scheme("phone-cosmetic-v1");
  scheme.set_version(1);
  scheme.set_display_name("手机外观成色");
  in.schemes.push_back(scheme);
  in.firm_display_name = "福州 <Acme> & 鉴定";
  in.appraiser_display_name = "张三";
  in.verify_url = kUrl;
  in.report_sha256 = HexEncode(Sha256("signed bytes"));
  return in;
}

TEST(EncodeQrTest, ZbarReadsBackTheText) {
  ASSERT_OK_AND_ASSIGN(QrMatrix qr, EncodeQr(kUrl));
  EXPECT_GE(qr.width, 21);
  EXPECT_THAT(testing::DecodeQr(qr), ElementsAre(kUrl));
}

TEST(EncodeQrTest, DifferentTextGivesAnotherCode) {
  ASSERT_OK_AND_ASSIGN(QrMatrix a, EncodeQr(kUrl));
  ASSERT_OK_AND_ASSIGN(QrMatrix b, EncodeQr(std::string(kUrl) + "0"));
  EXPECT_NE(a.dark, b.dark);
}

TEST(RenderCertificateSvgTest, IsWellFormedXmlEvenWithMarkupInNames) {
  ASSERT_OK_AND_ASSIGN(std::string svg, RenderCertificateSvg(Input()));
  EXPECT_OK(testing::CheckWellFormedXml(svg));
  EXPECT_THAT(svg, HasSubstr("福州 &lt;Acme&gt; &amp; 鉴定"));
  EXPECT_THAT(svg, HasSubstr("width=\"148mm\" height=\"210mm\""));
}

TEST(RenderCertificateSvgTest, QrCodeInTheDrawingDecodesToTheVerifyUrl) {
  ASSERT_OK_AND_ASSIGN(std::string svg, RenderCertificateSvg(Input()));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> texts, testing::DecodeQrInDocument(svg));
  EXPECT_THAT(texts, ElementsAre(kUrl));
}

TEST(RenderCertificateHtmlTest, CarriesTheSameRowsAndQrCode) {
  CertificateInput in = Input();
  ASSERT_OK_AND_ASSIGN(std::string html, RenderCertificateHtml(in));
  EXPECT_THAT(html, HasSubstr("<html lang=\"zh-CN\">"));
  EXPECT_THAT(html, HasSubstr("size: A5"));
  for (const auto& [label, value] : CertificateRows(in)) {
    EXPECT_THAT(html, HasSubstr(label));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> texts, testing::DecodeQrInDocument(html));
  EXPECT_THAT(texts, ElementsAre(kUrl));
}

TEST(CertificateRowsTest, ShowGradeUnderItsSchemeAndChinaDates) {
  std::vector<std::pair<std::string, std::string>> rows = CertificateRows(Input());
  std::map<std::string, std::string> m(rows.begin(), rows.end());
  EXPECT_EQ(m["鉴定等级"], "95新（手机外观成色 v1）");
  EXPECT_EQ(m["检验日期"], "2026年11月02日");
  EXPECT_EQ(m["有效期至"], "2026年12月02日");  // 20:00 UTC is the next day in China
  EXPECT_EQ(m["IMEI"], "355383063760236");
  EXPECT_EQ(m["鉴定人员"], "张三（subjects/zhang）");
  EXPECT_EQ(m.count("车辆识别代号（VIN）"), 0u);  // empty identifiers are left out
}

TEST(VerifyUrlTest, ParsesBackWhatItBuilds) {
  std::string sha = HexEncode(Sha256("x"));
  std::string url = VerifyUrl("http://127.0.0.1:7401", "appraisals/r-1", sha);
  EXPECT_EQ(url, "http://127.0.0.1:7401/verify?report=appraisals/r-1&sha256=" + sha);
  ASSERT_OK_AND_ASSIGN(VerifyTarget t, ParseVerifyUrl(url));
  EXPECT_EQ(t.report, "appraisals/r-1");
  EXPECT_EQ(t.sha256, sha);
}

TEST(VerifyUrlTest, AcceptsEncodedNamesUpperCaseHexAndAnyOrder) {
  std::string sha = HexEncode(Sha256("x"));
  ASSERT_OK_AND_ASSIGN(VerifyTarget t,
                       ParseVerifyUrl("https://h/verify?sha256=" + absl::AsciiStrToUpper(sha) +
                                      "&report=appraisals%2Fr-1#top"));
  EXPECT_EQ(t.report, "appraisals/r-1");
  EXPECT_EQ(t.sha256, sha);
}

TEST(VerifyUrlTest, RefusesMissingOrMalformedParametersNamingThem) {
  std::string sha = HexEncode(Sha256("x"));
  auto bad_fields = [](const absl::StatusOr<VerifyTarget>& r) {
    std::vector<std::string> out;
    for (const auto& v : FieldViolationsOf(r.status())) out.push_back(v.field);
    return out;
  };
  EXPECT_THAT(bad_fields(ParseVerifyUrl("https://h/verify?report=r-1&sha256=" + sha)),
              ElementsAre("report"));
  EXPECT_THAT(bad_fields(ParseVerifyUrl("https://h/verify?report=appraisals/r-1&sha256=abc")),
              ElementsAre("sha256"));
  EXPECT_THAT(bad_fields(ParseVerifyUrl("https://h/verify")), ElementsAre("url"));
  EXPECT_THAT(bad_fields(ParseVerifyUrl("https://h/verify?report=appraisals%2&sha256=" + sha)),
              ElementsAre("url"));
}

TEST(NormalizePublicBaseUrlTest, StripsTrailingSlashesAndRefusesNonHttp) {
  ASSERT_OK_AND_ASSIGN(std::string base, NormalizePublicBaseUrl("https://market.example.cn/app/"));
  EXPECT_EQ(base, "https://market.example.cn/app");
  EXPECT_FALSE(NormalizePublicBaseUrl("ftp://x").ok());
  EXPECT_FALSE(NormalizePublicBaseUrl("http://").ok());
  EXPECT_FALSE(NormalizePublicBaseUrl("http://x/?a=b").ok());
}

// ---- Judge ----------------------------------------------------------------------

struct JudgeCase {
  const char* name;
  bool hash_matches;
  bool signature_valid;
  v1::Appraisal::State state;
  bool expired;
  std::vector<std::string> other_problems;
  Verdict want;
};

void PrintTo(const JudgeCase& c, std::ostream* os) { *os << c.name; }

class JudgeTest : public ::testing::TestWithParam<JudgeCase> {};

TEST_P(JudgeTest, PicksTheFirstProblemInOrder) {
  const JudgeCase& c = GetParam();
  v1::Appraisal a;
  a.set_signed_content("bytes");
  v1::VerifyAppraisalResponse v;
  v.set_signature_valid(c.signature_valid);
  if (!c.signature_valid) v.add_problems("BAD_SIGNATURE");
  v.set_appraisal_state(c.state);
  if (c.state != v1::Appraisal::FILED) v.add_problems(v1::Appraisal::State_Name(c.state));
  v.set_expired(c.expired);
  if (c.expired) v.add_problems("EXPIRED");
  for (const std::string& p : c.other_problems) v.add_problems(p);
  v.set_valid(v.problems_size() == 0);
  std::string sha = HexEncode(Sha256(c.hash_matches ? "bytes" : "other"));
  EXPECT_EQ(VerdictName(Judge(sha, a, v)), std::string(VerdictName(c.want)));
}

INSTANTIATE_TEST_SUITE_P(
    Order, JudgeTest,
    ::testing::Values(
        JudgeCase{"Valid", true, true, v1::Appraisal::FILED, false, {}, Verdict::kValid},
        JudgeCase{
            "HashFirst", false, false, v1::Appraisal::OVERTURNED, true, {}, Verdict::kHashMismatch},
        JudgeCase{"SignatureBeforeState",
                  true,
                  false,
                  v1::Appraisal::OVERTURNED,
                  false,
                  {},
                  Verdict::kBadSignature},
        JudgeCase{
            "Overturned", true, true, v1::Appraisal::OVERTURNED, true, {}, Verdict::kOverturned},
        JudgeCase{"Revoked", true, true, v1::Appraisal::REVOKED, false, {}, Verdict::kRevoked},
        JudgeCase{
            "Superseded", true, true, v1::Appraisal::SUPERSEDED, true, {}, Verdict::kSuperseded},
        JudgeCase{"Disputed", true, true, v1::Appraisal::DISPUTED, false, {}, Verdict::kDisputed},
        JudgeCase{"Expired", true, true, v1::Appraisal::FILED, true, {}, Verdict::kExpired},
        JudgeCase{"OtherProblem",
                  true,
                  true,
                  v1::Appraisal::FILED,
                  false,
                  {"NOT_ACCREDITED"},
                  Verdict::kInvalid}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RenderVerifyPageTest, NamesTheVerdictAndEscapesTheReport) {
  v1::Appraisal a;
  a.set_signed_content("bytes");
  a.mutable_content()->set_firm("firms/<acme>");
  v1::VerifyAppraisalResponse v;
  v.set_appraisal_state(v1::Appraisal::OVERTURNED);
  v.add_problems("OVERTURNED");
  std::string page =
      RenderVerifyPage({"appraisals/r-1", HexEncode(Sha256("bytes"))}, Verdict::kOverturned, a, v);
  EXPECT_THAT(page, HasSubstr("data-verdict=\"OVERTURNED\""));
  EXPECT_THAT(page, HasSubstr("已被推翻"));
  EXPECT_THAT(page, HasSubstr("firms/&lt;acme&gt;"));
}

}  // namespace
}  // namespace market::appraisal
