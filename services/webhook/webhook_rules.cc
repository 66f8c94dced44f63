#include "services/webhook/webhook_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "nlohmann/json.hpp"

namespace market::webhook {

using common::v1::Role;

absl::StatusOr<Role> OwnerScope(const std::vector<Role>& roles) {
  for (Role r : {common::v1::SUPERVISOR, common::v1::OPERATOR, common::v1::APPRAISAL_FIRM}) {
    if (std::find(roles.begin(), roles.end(), r) != roles.end()) return r;
  }
  return absl::PermissionDeniedError(
      "webhooks are for SUPERVISOR, OPERATOR and APPRAISAL_FIRM accounts");
}

bool MayReceive(Role scope, absl::string_view owner, const v1::Event& event) {
  if (event.kind() == v1::PING) return false;  // queued for one webhook only
  switch (scope) {
    case common::v1::SUPERVISOR:
      return true;
    case common::v1::OPERATOR:
    case common::v1::APPRAISAL_FIRM:
      return std::find(event.audience().begin(), event.audience().end(), owner) !=
             event.audience().end();
    default:
      return false;
  }
}

std::string EventType(v1::EventKind kind) {
  switch (kind) {
    case v1::CLAIM_FILED: return "claim.filed";
    case v1::CLAIM_REPLY_DUE: return "claim.reply_due";
    case v1::CLAIM_ESCALATED: return "claim.escalated";
    case v1::RULING_MADE: return "ruling.made";
    case v1::DISPUTE_FILED: return "dispute.filed";
    case v1::CASE_OPENED: return "case.opened";
    case v1::SUBJECT_BLACKLISTED: return "subject.blacklisted";
    case v1::SUBJECT_REDLISTED: return "subject.redlisted";
    case v1::PING: return "ping";
    default: return "";
  }
}

namespace {

// A kind a webhook may subscribe to or a service may publish.
bool Subscribable(int kind) {
  return v1::EventKind_IsValid(kind) && kind != v1::EVENT_KIND_UNSPECIFIED && kind != v1::PING;
}

bool Printable(absl::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_iscntrl(static_cast<unsigned char>(c)) ||
           absl::ascii_isspace(static_cast<unsigned char>(c));
  });
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view url) {
  auto bad = [](absl::string_view why) { return InvalidField("url", why); };
  if (url.size() > 2048) return bad("up to 2048 characters");
  if (!Printable(url)) return bad("no whitespace or control characters");
  if (!absl::ConsumePrefix(&url, "https://")) return bad("want https://HOST[:PORT]/PATH");
  if (absl::StrContains(url, '#')) return bad("no fragment");
  size_t slash = url.find_first_of("/?");
  absl::string_view authority = url.substr(0, slash);
  Endpoint e;
  absl::string_view rest = slash == absl::string_view::npos ? "" : url.substr(slash);
  e.path = absl::StrCat(absl::StartsWith(rest, "/") ? "" : "/", rest);
  if (absl::StrContains(authority, '@')) return bad("no user info");
  if (!authority.empty() && authority.front() == '[') {
    return bad("IPv6 literals are not supported; use a host name");
  }
  size_t colon = authority.rfind(':');
  if (colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(authority.substr(colon + 1), &e.port) || e.port < 1 || e.port > 65535) {
      return bad("port must be 1..65535");
    }
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return bad("host is required");
  e.host = std::string(authority);
  return e;
}

absl::Status ValidateWebhook(const v1::Webhook& webhook, absl::string_view prefix) {
  Violations v;
  absl::StatusOr<Endpoint> endpoint = ParseEndpoint(webhook.url());
  if (!endpoint.ok()) v.Merge(endpoint.status(), prefix);
  if (webhook.event_kinds().empty()) v.Add(absl::StrCat(prefix, ".event_kinds"), "at least one");
  for (int i = 0; i < webhook.event_kinds_size(); ++i) {
    if (!Subscribable(webhook.event_kinds(i))) {
      v.Add(absl::StrCat(prefix, ".event_kinds[", i, "]"), "unknown or not subscribable");
    }
  }
  if (Utf8CharCount(webhook.description()) > 200) {
    v.Add(absl::StrCat(prefix, ".description"), "up to 200 characters");
  }
  return v.ToStatus();
}

absl::Status ValidateEvent(const v1::Event& e) {
  Violations v;
  if (e.event_id().empty() || e.event_id().size() > 128 || !Printable(e.event_id())) {
    v.Add("event.event_id", "required, up to 128 printable characters");
  }
  if (!Subscribable(e.kind())) v.Add("event.kind", "unknown, unspecified or PING");
  if (!e.has_time()) v.Add("event.time", "required");
  if (e.resource().empty() || e.resource().size() > 256) {
    v.Add("event.resource", "required, up to 256 characters");
  }
  if (e.market().size() > 256) v.Add("event.market", "up to 256 characters");
  if (e.audience_size() > 16) v.Add("event.audience", "up to 16 subjects");
  for (int i = 0; i < e.audience_size(); ++i) {
    if (!absl::StartsWith(e.audience(i), "subjects/") || e.audience(i).size() > 256) {
      v.Add(absl::StrCat("event.audience[", i, "]"), "want subjects/{id}");
    }
  }
  if (e.attributes_size() > 32) v.Add("event.attributes", "up to 32 entries");
  for (const auto& [key, value] : e.attributes()) {
    if (key.empty() || key.size() > 64 || value.size() > 1024) {
      v.Add(absl::StrCat("event.attributes[", key.substr(0, 64), "]"),
            "keys 1..64 and values up to 1024 characters");
    }
  }
  return v.ToStatus();
}

std::string EventJson(const v1::Event& event) {
  nlohmann::json j;
  j["id"] = event.event_id();
  j["type"] = EventType(event.kind());
  j["created"] = absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", FromTimestamp(event.time()),
                                  absl::UTCTimeZone());
  j["resource"] = event.resource();
  if (!event.market().empty()) j["market"] = event.market();
  nlohmann::json data = nlohmann::json::object();
  for (const auto& [key, value] : event.attributes()) data[key] = value;
  j["data"] = std::move(data);
  // Invalid UTF-8 (published by a buggy source) is replaced, never thrown on.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace market::webhook
