// Appraisal certificates: the printable A5 certificate of a filed report (SVG
// or HTML, zh-CN labels) with a QR code (libqrencode) carrying the verify URL
// `{base}/verify?report=NAME&sha256=HEX`, and the verdict a verifier reaches
// for such a URL from GetAppraisal and VerifyAppraisal. Thread-safe: pure
// functions.
#ifndef MARKET_SERVICES_APPRAISAL_CERTIFICATE_H_
#define MARKET_SERVICES_APPRAISAL_CERTIFICATE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "market/appraisal/v1/appraisal.pb.h"

namespace market::appraisal {

// The public base URL of the HTTP port when none is configured.
inline constexpr char kDefaultPublicBaseUrl[] = "http://127.0.0.1:7401";
// The flag's environment variable (marketd, market-appraisal).
inline constexpr char kPublicBaseUrlEnv[] = "MARKET_PUBLIC_BASE_URL";

// `base` without trailing slashes; INVALID_ARGUMENT unless it is an http:// or
// https:// URL with a host and no query or fragment.
absl::StatusOr<std::string> NormalizePublicBaseUrl(absl::string_view base);

// `{base}/verify?report=NAME&sha256=HEX`, NAME and HEX percent-encoded.
std::string VerifyUrl(absl::string_view base, absl::string_view report,
                      absl::string_view sha256_hex);

// What a verify URL names.
struct VerifyTarget {
  std::string report;  // appraisals/{appraisal}
  std::string sha256;  // 64 lower-case hex
};
// Parses the query of `url` (any scheme, host and path; only `report` and
// `sha256` are read). INVALID_ARGUMENT naming the parameter when `report` is
// not `appraisals/{id}` or `sha256` is not 64 hex digits (upper case is
// accepted and lowered).
absl::StatusOr<VerifyTarget> ParseVerifyUrl(absl::string_view url);
// The same from already-decoded query parameters.
absl::StatusOr<VerifyTarget> CheckVerifyTarget(std::string report, std::string sha256);

// A QR code's modules, row by row; true is dark.
struct QrMatrix {
  int width = 0;
  std::vector<bool> dark;  // width * width
  bool At(int x, int y) const { return dark[static_cast<size_t>(y) * width + x]; }
};
// Encodes `text` as 8-bit data at error-correction level M in the smallest
// version that holds it. INTERNAL when libqrencode fails (text too long).
absl::StatusOr<QrMatrix> EncodeQr(absl::string_view text);

// Everything a certificate shows besides the report itself.
struct CertificateInput {
  v1::Appraisal appraisal;        // content decoded
  std::string firm_display_name;  // "" shows the firm's resource name
  std::string appraiser_display_name;
  std::vector<v1::GradingScheme> schemes;  // those the grades name, when known
  std::string verify_url;
  std::string report_sha256;
};

// The label/value rows of the certificate body, in print order (zh-CN labels).
std::vector<std::pair<std::string, std::string>> CertificateRows(const CertificateInput& in);

// The certificate as an A5 SVG document (viewBox in millimetres); the QR code
// is the nested <svg id="qr"> whose viewBox counts modules (4-module quiet
// zone), dark runs drawn as <rect>s in <g id="qr-modules">.
absl::StatusOr<std::string> RenderCertificateSvg(const CertificateInput& in);
// The certificate as a standalone HTML page printing on A5, the same rows and
// the same QR <svg> inline.
absl::StatusOr<std::string> RenderCertificateHtml(const CertificateInput& in);

// A verifier's conclusion about a verify URL.
enum class Verdict {
  kValid,
  kHashMismatch,  // the URL's sha256 is not the filed report's
  kBadSignature,  // the filed bytes do not verify under the key
  kOverturned,    // a dispute was upheld
  kRevoked,
  kSuperseded,  // a newer report on the item was filed
  kDisputed,    // a dispute is open
  kExpired,
  kInvalid,  // another VerifyAppraisal problem (accreditation, key, ...)
};
// VALID, HASH_MISMATCH, BAD_SIGNATURE, OVERTURNED, ... (VerifyAppraisal's
// problem names where one exists).
const char* VerdictName(Verdict v);
// A short zh-CN description, e.g. "有效", "已被推翻".
const char* VerdictLabel(Verdict v);

// The verdict for a URL naming `sha256` about `appraisal` (from GetAppraisal)
// and VerifyAppraisal's answer for it: a hash mismatch first, then a bad
// signature, then the report's state, then expiry, then any other problem.
Verdict Judge(absl::string_view sha256, const v1::Appraisal& appraisal,
              const v1::VerifyAppraisalResponse& verification);

// The small HTML page GET /verify answers with for `target`: the verdict, the
// report's firm, item and validity, and VerifyAppraisal's problems.
std::string RenderVerifyPage(const VerifyTarget& target, Verdict verdict,
                             const v1::Appraisal& appraisal,
                             const v1::VerifyAppraisalResponse& verification);
// The same page when the URL cannot be checked (bad parameters, unknown
// report): `title` and `detail`.
std::string RenderVerifyErrorPage(absl::string_view title, absl::string_view detail);

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_CERTIFICATE_H_
