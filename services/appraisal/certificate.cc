#include "services/appraisal/certificate.h"

#include <qrencode.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/crypto/crypto.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/status/status.h"

namespace market::appraisal {
namespace {

constexpr int kQuietZone = 4;  // modules of white border a scanner needs

absl::TimeZone ChinaTime() { return absl::FixedTimeZone(8 * 3600); }

// Escapes text for XML/HTML character data and attribute values.
std::string Escape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

// RFC 3986 percent-encoding of a query value; '/' stays readable.
std::string PercentEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes a query component's %XX escapes ('+' stays '+', as the HTTP
// port's parser leaves it); false on a broken escape.
bool PercentDecode(absl::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      *out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      *out += s[i];
    }
  }
  return true;
}

std::string ChinaDate(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y年%m月%d日", FromTimestamp(t), ChinaTime());
}

const char* CategoryLabel(common::v1::Category c) {
  switch (c) {
    case common::v1::PHONE:
      return "手机";
    case common::v1::APPLIANCE:
      return "家用电器";
    case common::v1::FURNITURE:
      return "家具";
    case common::v1::VEHICLE:
      return "机动车";
    default:
      return "未知";
  }
}

// The nested QR <svg> at (x, y) mm, `size` mm square.
std::string QrSvg(const QrMatrix& qr, double x, double y, double size) {
  int n = qr.width + 2 * kQuietZone;
  std::string out = absl::StrCat(
      "<svg id=\"qr\" x=\"", x, "\" y=\"", y, "\" width=\"", size, "\" height=\"", size,
      "\" viewBox=\"0 0 ", n, " ", n, "\" shape-rendering=\"crispEdges\">", "<rect width=\"", n,
      "\" height=\"", n, "\" fill=\"#fff\"/><g id=\"qr-modules\" fill=\"#000\">");
  for (int row = 0; row < qr.width; ++row) {
    for (int col = 0; col < qr.width;) {
      if (!qr.At(col, row)) {
        ++col;
        continue;
      }
      int run = 1;
      while (col + run < qr.width && qr.At(col + run, row)) ++run;
      absl::StrAppend(&out, "<rect x=\"", col + kQuietZone, "\" y=\"", row + kQuietZone,
                      "\" width=\"", run, "\" height=\"1\"/>");
      col += run;
    }
  }
  out += "</g></svg>";
  return out;
}

const v1::GradingScheme* FindScheme(const CertificateInput& in, const common::v1::GradeRef& g) {
  for (const v1::GradingScheme& s : in.schemes) {
    if (s.scheme() == g.scheme() && s.version() == g.version()) return &s;
  }
  return nullptr;
}

const char* kTitle = "二手商品鉴定评估证书";
const char* kSubtitle = "Appraisal Certificate";
const char* kFooter = "本证书依据鉴定机构签名的鉴定报告生成，真伪与效力以扫码核验结果为准。";
const char* kScanCaption = "扫码核验真伪";

}  // namespace

absl::StatusOr<std::string> NormalizePublicBaseUrl(absl::string_view base) {
  std::string b(base);
  while (!b.empty() && b.back() == '/') b.pop_back();
  absl::string_view rest = b;
  if (!absl::ConsumePrefix(&rest, "http://") && !absl::ConsumePrefix(&rest, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("public base URL \"", base, "\": want http://HOST[:PORT][/PATH]"));
  }
  if (rest.empty() || rest.front() == '/' || absl::StrContains(rest, '?') ||
      absl::StrContains(rest, '#') || absl::StrContains(rest, ' ')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "public base URL \"", base, "\": want a host and no query, fragment or spaces"));
  }
  return b;
}

std::string VerifyUrl(absl::string_view base, absl::string_view report,
                      absl::string_view sha256_hex) {
  return absl::StrCat(base, "/verify?report=", PercentEncode(report),
                      "&sha256=", PercentEncode(sha256_hex));
}

absl::StatusOr<VerifyTarget> CheckVerifyTarget(std::string report, std::string sha256) {
  Violations v;
  if (!ValidCollectionName(report, "appraisals")) v.Add("report", "want appraisals/{appraisal}");
  absl::AsciiStrToLower(&sha256);
  if (!IsSha256Hex(sha256)) v.Add("sha256", "want 64 hex digits");
  MARKET_RETURN_IF_ERROR(v.ToStatus());
  return VerifyTarget{std::move(report), std::move(sha256)};
}

absl::StatusOr<VerifyTarget> ParseVerifyUrl(absl::string_view url) {
  size_t q = url.find('?');
  if (q == absl::string_view::npos) {
    return InvalidField("url", "no query: want …/verify?report=NAME&sha256=HEX");
  }
  absl::string_view query = url.substr(q + 1);
  query = query.substr(0, query.find('#'));
  std::string report, sha256;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::string value;
    if (!PercentDecode(kv.second, &value)) {
      return InvalidField("url", absl::StrCat("broken percent-encoding in ", kv.first));
    }
    if (kv.first == "report") report = std::move(value);
    if (kv.first == "sha256") sha256 = std::move(value);
  }
  return CheckVerifyTarget(std::move(report), std::move(sha256));
}

absl::StatusOr<QrMatrix> EncodeQr(absl::string_view text) {
  std::string s(text);
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(
      QRcode_encodeString8bit(s.c_str(), 0, QR_ECLEVEL_M), QRcode_free);
  if (code == nullptr) {
    return absl::InternalError(absl::StrCat("libqrencode cannot encode ", s.size(), " bytes"));
  }
  QrMatrix m;
  m.width = code->width;
  m.dark.resize(static_cast<size_t>(m.width) * m.width);
  for (size_t i = 0; i < m.dark.size(); ++i) m.dark[i] = (code->data[i] & 1) != 0;
  return m;
}

std::vector<std::pair<std::string, std::string>> CertificateRows(const CertificateInput& in) {
  const v1::AppraisalContent& c = in.appraisal.content();
  std::vector<std::pair<std::string, std::string>> rows;
  auto add = [&](const char* label, const std::string& value) {
    if (!value.empty()) rows.emplace_back(label, value);
  };
  add("报告编号", c.report_number());
  add("鉴定机构", in.firm_display_name.empty()
                      ? c.firm()
                      : absl::StrCat(in.firm_display_name, "（", c.firm(), "）"));
  add("统一社会信用代码", c.firm_credit_code());
  add("鉴定人员", in.appraiser_display_name.empty()
                      ? c.appraiser()
                      : absl::StrCat(in.appraiser_display_name, "（", c.appraiser(), "）"));
  add("职业资格证书编号", c.appraiser_qualification_number());
  add("物品类别", CategoryLabel(c.category()));
  const v1::ItemIdentifiers& id = c.identifiers();
  add("IMEI", id.imei());
  add("IMEI2", id.imei2());
  add("车辆识别代号（VIN）", id.vin());
  add("发动机号", id.engine_number());
  add("品牌", id.brand());
  add("型号", id.model());
  add("序列号", id.serial_number());
  if (c.has_mileage_km()) add("表显里程", absl::StrCat(c.mileage_km(), " 公里"));
  for (const common::v1::GradeRef& g : c.grades()) {
    const v1::GradingScheme* s = FindScheme(in, g);
    std::string scheme = s == nullptr ? absl::StrCat(g.scheme(), " v", g.version())
                                      : absl::StrCat(s->display_name(), " v", g.version());
    add("鉴定等级", absl::StrCat(g.level(), "（", scheme, "）"));
  }
  if (c.has_score()) add("综合评分", absl::StrCat(c.score(), " / 100"));
  add("检验日期", ChinaDate(c.inspected_time()));
  add("有效期至", ChinaDate(c.valid_until()));
  add("报告标识", in.appraisal.name());
  return rows;
}

absl::StatusOr<std::string> RenderCertificateSvg(const CertificateInput& in) {
  MARKET_ASSIGN_OR_RETURN(QrMatrix qr, EncodeQr(in.verify_url));
  std::string out = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"148mm\" height=\"210mm\" "
      "viewBox=\"0 0 148 210\" xml:lang=\"zh-CN\" "
      "font-family=\"'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif\">\n",
      "<title>", Escape(kTitle), " ", Escape(in.appraisal.content().report_number()),
      "</title>\n<rect width=\"148\" height=\"210\" fill=\"#fff\"/>\n"
      "<rect x=\"6\" y=\"6\" width=\"136\" height=\"198\" fill=\"none\" stroke=\"#8a1c1c\" "
      "stroke-width=\"0.8\"/>\n"
      "<rect x=\"8\" y=\"8\" width=\"132\" height=\"194\" fill=\"none\" stroke=\"#8a1c1c\" "
      "stroke-width=\"0.3\"/>\n"
      "<text x=\"74\" y=\"24\" text-anchor=\"middle\" font-size=\"8\" font-weight=\"bold\" "
      "fill=\"#8a1c1c\">",
      Escape(kTitle),
      "</text>\n<text x=\"74\" y=\"30\" text-anchor=\"middle\" font-size=\"3.2\" "
      "fill=\"#555\">",
      Escape(kSubtitle), "</text>\n<g id=\"fields\" font-size=\"3.4\">\n");
  double y = 42;
  for (const auto& [label, value] : CertificateRows(in)) {
    absl::StrAppend(&out, "<text x=\"14\" y=\"", y, "\" fill=\"#555\">", Escape(label),
                    "</text><text x=\"50\" y=\"", y, "\">", Escape(value), "</text>\n");
    y += 6;
  }
  out += "</g>\n";
  absl::StrAppend(&out, QrSvg(qr, 98, 150, 38),
                  "\n<text x=\"117\" y=\"192\" text-anchor=\"middle\" "
                  "font-size=\"3\">",
                  Escape(kScanCaption),
                  "</text>\n<text x=\"14\" y=\"160\" font-size=\"2.6\" "
                  "fill=\"#555\">报告 SHA-256</text>\n");
  // The digest in four lines of 16 hex digits, monospaced.
  for (int i = 0; i < 4 && static_cast<size_t>(i * 16) < in.report_sha256.size(); ++i) {
    absl::StrAppend(&out, "<text x=\"14\" y=\"", 165 + 4 * i,
                    "\" font-size=\"2.8\" font-family=\"monospace\">",
                    Escape(in.report_sha256.substr(i * 16, 16)), "</text>\n");
  }
  absl::StrAppend(&out,
                  "<text x=\"74\" y=\"199\" text-anchor=\"middle\" font-size=\"2.6\" "
                  "fill=\"#555\">",
                  Escape(kFooter), "</text>\n</svg>\n");
  return out;
}

absl::StatusOr<std::string> RenderCertificateHtml(const CertificateInput& in) {
  MARKET_ASSIGN_OR_RETURN(QrMatrix qr, EncodeQr(in.verify_url));
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
      Escape(kTitle), " ", Escape(in.appraisal.content().report_number()),
      "</title>\n<style>\n@page { size: A5; margin: 0; }\n"
      "body { margin: 0; font-family: 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif; }\n"
      ".cert { box-sizing: border-box; width: 148mm; height: 210mm; padding: 10mm 9mm; "
      "border: 2mm double #8a1c1c; }\n"
      "h1 { color: #8a1c1c; text-align: center; font-size: 20pt; margin: 2mm 0 0; }\n"
      ".sub { text-align: center; color: #555; font-size: 8pt; margin-bottom: 4mm; }\n"
      "table { border-collapse: collapse; font-size: 9pt; width: 100%; }\n"
      "th { text-align: left; color: #555; font-weight: normal; width: 34mm; padding: 0.6mm 0; }\n"
      "td { padding: 0.6mm 0; }\n"
      ".bottom { display: flex; justify-content: space-between; align-items: flex-end; "
      "margin-top: 4mm; }\n"
      ".hash { font-family: monospace; font-size: 7pt; word-break: break-all; width: 60mm; }\n"
      "figure { margin: 0; text-align: center; font-size: 8pt; }\n"
      "footer { font-size: 7pt; color: #555; text-align: center; margin-top: 3mm; }\n"
      "</style>\n</head>\n<body>\n<main class=\"cert\">\n<h1>",
      Escape(kTitle), "</h1>\n<div class=\"sub\">", Escape(kSubtitle), "</div>\n<table>\n");
  for (const auto& [label, value] : CertificateRows(in)) {
    absl::StrAppend(&out, "<tr><th>", Escape(label), "</th><td>", Escape(value), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</table>\n<div class=\"bottom\">\n<div class=\"hash\">报告 SHA-256<br>",
                  Escape(in.report_sha256),
                  "</div>\n<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                  "width=\"38mm\" height=\"38mm\" viewBox=\"0 0 38 38\">",
                  QrSvg(qr, 0, 0, 38), "</svg>\n<figcaption><a href=\"", Escape(in.verify_url),
                  "\">", Escape(kScanCaption), "</a></figcaption>\n</figure>\n</div>\n<footer>",
                  Escape(kFooter), "</footer>\n</main>\n</body>\n</html>\n");
  return out;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kValid:
      return "VALID";
    case Verdict::kHashMismatch:
      return "HASH_MISMATCH";
    case Verdict::kBadSignature:
      return "BAD_SIGNATURE";
    case Verdict::kOverturned:
      return "OVERTURNED";
    case Verdict::kRevoked:
      return "REVOKED";
    case Verdict::kSuperseded:
      return "SUPERSEDED";
    case Verdict::kDisputed:
      return "DISPUTED";
    case Verdict::kExpired:
      return "EXPIRED";
    case Verdict::kInvalid:
      return "INVALID";
  }
  return "INVALID";
}

const char* VerdictLabel(Verdict v) {
  switch (v) {
    case Verdict::kValid:
      return "有效";
    case Verdict::kHashMismatch:
      return "摘要不符：证书内容与备案报告不一致";
    case Verdict::kBadSignature:
      return "签名无效";
    case Verdict::kOverturned:
      return "已被推翻（异议成立）";
    case Verdict::kRevoked:
      return "已撤销";
    case Verdict::kSuperseded:
      return "已被新报告取代";
    case Verdict::kDisputed:
      return "异议处理中";
    case Verdict::kExpired:
      return "已过有效期";
    case Verdict::kInvalid:
      return "无效";
  }
  return "无效";
}

Verdict Judge(absl::string_view sha256, const v1::Appraisal& appraisal,
              const v1::VerifyAppraisalResponse& verification) {
  if (HexEncode(Sha256(appraisal.signed_content())) != sha256) return Verdict::kHashMismatch;
  if (!verification.signature_valid()) return Verdict::kBadSignature;
  switch (verification.appraisal_state()) {
    case v1::Appraisal::OVERTURNED:
      return Verdict::kOverturned;
    case v1::Appraisal::REVOKED:
      return Verdict::kRevoked;
    case v1::Appraisal::SUPERSEDED:
      return Verdict::kSuperseded;
    case v1::Appraisal::DISPUTED:
      return Verdict::kDisputed;
    default:
      break;
  }
  if (verification.expired()) return Verdict::kExpired;
  return verification.valid() ? Verdict::kValid : Verdict::kInvalid;
}

namespace {

std::string PageHead(absl::string_view title) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      Escape(title),
      "</title>\n<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
      ".ok{color:#1a7f37}.bad{color:#b42318}th{text-align:left;padding-right:1em;color:#555;"
      "font-weight:normal}</style>\n</head>\n<body>\n");
}

}  // namespace

std::string RenderVerifyPage(const VerifyTarget& target, Verdict verdict,
                             const v1::Appraisal& appraisal,
                             const v1::VerifyAppraisalResponse& verification) {
  const v1::AppraisalContent& c = appraisal.content();
  bool ok = verdict == Verdict::kValid;
  std::string out = absl::StrCat(
      PageHead(absl::StrCat("鉴定报告核验 ", target.report)), "<h1 class=\"", ok ? "ok" : "bad",
      "\" id=\"verdict\" data-verdict=\"", VerdictName(verdict), "\">",
      Escape(VerdictLabel(verdict)), "（", VerdictName(verdict), "）</h1>\n<table>\n");
  std::vector<std::pair<std::string, std::string>> rows = {
      {"报告标识", target.report},
      {"报告编号", c.report_number()},
      {"鉴定机构", c.firm()},
      {"物品", appraisal.item()},
      {"检验日期", c.has_inspected_time() ? ChinaDate(c.inspected_time()) : ""},
      {"有效期至", c.has_valid_until() ? ChinaDate(c.valid_until()) : ""},
      {"报告状态", v1::Appraisal::State_Name(verification.appraisal_state())},
      {"核验问题", absl::StrJoin(verification.problems(), ", ")},
      {"证书 SHA-256", target.sha256},
      {"备案 SHA-256", HexEncode(Sha256(appraisal.signed_content()))},
  };
  if (!appraisal.superseded_by().empty()) rows.emplace_back("取代报告", appraisal.superseded_by());
  for (const auto& [label, value] : rows) {
    absl::StrAppend(&out, "<tr><th>", Escape(label), "</th><td>", Escape(value), "</td></tr>\n");
  }
  out += "</table>\n</body>\n</html>\n";
  return out;
}

std::string RenderVerifyErrorPage(absl::string_view title, absl::string_view detail) {
  return absl::StrCat(PageHead(title), "<h1 class=\"bad\" id=\"verdict\">", Escape(title),
                      "</h1>\n<p>", Escape(detail), "</p>\n</body>\n</html>\n");
}

}  // namespace market::appraisal
