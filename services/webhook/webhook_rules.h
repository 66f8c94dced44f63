// The webhook service's rules as pure functions: who may register and which
// events an owner may receive, validation of webhooks and published events,
// the endpoint URL and the JSON body a delivery carries. Thread-safe.
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_RULES_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_RULES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "market/common/v1/common.pb.h"
#include "market/webhook/v1/webhook.pb.h"

namespace market::webhook {

// Most webhooks one owner may have.
inline constexpr int kMaxWebhooksPerOwner = 20;

// The scope a webhook registered by a caller holding `roles` gets: SUPERVISOR
// (every event) before OPERATOR (events of its markets) before APPRAISAL_FIRM
// (events of its reports and disputes). PERMISSION_DENIED for anyone else.
absl::StatusOr<common::v1::Role> OwnerScope(const std::vector<common::v1::Role>& roles);

// Whether a webhook of `owner` registered with `scope` may receive `event`:
// SUPERVISOR every event; OPERATOR and APPRAISAL_FIRM only events whose
// audience names `owner`; nobody else anything.
bool MayReceive(common::v1::Role scope, absl::string_view owner, const v1::Event& event);

// The "type" a delivery's JSON carries, e.g. "claim.filed"; "" for
// EVENT_KIND_UNSPECIFIED or an unknown value.
std::string EventType(v1::EventKind kind);

// Validates the caller-set fields of a webhook to create (url, event_kinds,
// description); INVALID_ARGUMENT naming each bad field under `prefix`.
absl::Status ValidateWebhook(const v1::Webhook& webhook, absl::string_view prefix = "webhook");

// Validates an event to publish; INVALID_ARGUMENT naming each bad field.
absl::Status ValidateEvent(const v1::Event& event);

// An https:// URL split for the HTTP client.
struct Endpoint {
  std::string host;
  int port = 443;
  std::string path;  // starts with "/"
};
// INVALID_ARGUMENT (naming "url") unless `url` is "https://HOST[:PORT][/PATH]"
// with a non-empty host, a port in 1..65535, no user info, no fragment and no
// whitespace or control characters, up to 2048 characters.
absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view url);

// The body of a delivery: {"id","type","created","resource","market",
// "data":{attributes}} (fields of the event, "market" omitted when empty).
std::string EventJson(const v1::Event& event);

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_RULES_H_
