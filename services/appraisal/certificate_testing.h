// Test helpers for certificates: well-formedness of the SVG (expat) and the
// QR code read back from a rendered certificate with libzbar, so tests check
// what a phone camera would read rather than the encoder's input.
#ifndef MARKET_SERVICES_APPRAISAL_CERTIFICATE_TESTING_H_
#define MARKET_SERVICES_APPRAISAL_CERTIFICATE_TESTING_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/appraisal/certificate.h"

namespace market::appraisal::testing {

// OK when `xml` is a well-formed XML document; else INVALID_ARGUMENT with
// expat's error and line.
absl::Status CheckWellFormedXml(absl::string_view xml);

// Decodes the QR code drawn by `qr` with libzbar (each module 4 pixels,
// a white quiet zone around it); the texts of the QR symbols found.
std::vector<std::string> DecodeQr(const QrMatrix& qr);

// Finds the QR code <svg id="qr">…</svg> in a certificate (SVG or HTML),
// parses it with expat, rebuilds its modules from the <rect>s of
// <g id="qr-modules"> and decodes them with DecodeQr. NOT_FOUND without a QR
// <svg>, INVALID_ARGUMENT when it does not parse.
absl::StatusOr<std::vector<std::string>> DecodeQrInDocument(absl::string_view document);

}  // namespace market::appraisal::testing

#endif  // MARKET_SERVICES_APPRAISAL_CERTIFICATE_TESTING_H_
