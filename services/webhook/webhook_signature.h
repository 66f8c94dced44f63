// The webhook signature (Stripe's scheme): a delivery carries
//   X-Market-Signature: t=TIMESTAMP,v1=HEX(HMAC-SHA256(secret, TIMESTAMP + "." + body))
// where TIMESTAMP is Unix seconds at sending time and `secret` is the whole
// "whsec_…" string CreateWebhook returned. A receiver (VerifySignature)
// recomputes the HMAC over the raw body, compares it in constant time, refuses
// a timestamp more than 5 minutes from its clock (a replay), and deduplicates
// by X-Market-Event-Id. Pure functions; thread-safe.
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_SIGNATURE_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_SIGNATURE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace market::webhook {

inline constexpr char kSignatureHeader[] = "X-Market-Signature";
inline constexpr char kEventIdHeader[] = "X-Market-Event-Id";
// How far a signature's timestamp may be from the receiver's clock.
inline constexpr absl::Duration kSignatureTolerance = absl::Minutes(5);

// The X-Market-Signature value for `body` sent at `t` (whole seconds).
std::string SignatureHeader(absl::string_view secret, absl::Time t, absl::string_view body);

// Checks a received X-Market-Signature `header` for `body` at `now`:
// INVALID_ARGUMENT for a malformed header (no t= or v1=), UNAUTHENTICATED when
// no v1= value matches, FAILED_PRECONDITION when the timestamp is more than
// `tolerance` before or after `now` (a replayed or delayed delivery).
absl::Status VerifySignature(absl::string_view secret, absl::string_view header,
                             absl::string_view body, absl::Time now,
                             absl::Duration tolerance = kSignatureTolerance);

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_SIGNATURE_H_
