#include "services/webhook/webhook_rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/webhook/webhook_dispatcher.h"

namespace market::webhook {
namespace {

using common::v1::APPRAISAL_FIRM;
using common::v1::BUYER;
using common::v1::OPERATOR;
using common::v1::SELLER;
using common::v1::SUPERVISOR;

v1::Event EventFor(std::vector<std::string> audience) {
  v1::Event e;
  e.set_event_id("e1");
  e.set_kind(v1::CLAIM_FILED);
  e.mutable_time()->set_seconds(1796000000);
  e.set_resource("claims/1");
  for (auto& s : audience) e.add_audience(s);
  return e;
}

TEST(WebhookRulesTest, ScopeIsTheWidestOwnerRole) {
  EXPECT_EQ(*OwnerScope({OPERATOR, SUPERVISOR}), SUPERVISOR);
  EXPECT_EQ(*OwnerScope({APPRAISAL_FIRM, OPERATOR}), OPERATOR);
  EXPECT_EQ(*OwnerScope({SELLER, APPRAISAL_FIRM}), APPRAISAL_FIRM);
}

TEST(WebhookRulesTest, SellersAndBuyersMayNotRegister) {
  EXPECT_EQ(OwnerScope({SELLER, BUYER}).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(WebhookRulesTest, SupervisorReceivesEveryEvent) {
  EXPECT_TRUE(MayReceive(SUPERVISOR, "subjects/sup", EventFor({})));
}

TEST(WebhookRulesTest, OperatorAndFirmReceiveOnlyEventsNamingThem) {
  for (auto scope : {OPERATOR, APPRAISAL_FIRM}) {
    EXPECT_TRUE(MayReceive(scope, "subjects/a", EventFor({"subjects/b", "subjects/a"})));
    EXPECT_FALSE(MayReceive(scope, "subjects/a", EventFor({"subjects/b"})));
    EXPECT_FALSE(MayReceive(scope, "subjects/a", EventFor({})));
  }
}

TEST(WebhookRulesTest, OtherScopesReceiveNothing) {
  EXPECT_FALSE(MayReceive(SELLER, "subjects/a", EventFor({"subjects/a"})));
}

TEST(WebhookRulesTest, PingIsNeverBroadcast) {
  v1::Event e = EventFor({});
  e.set_kind(v1::PING);
  EXPECT_FALSE(MayReceive(SUPERVISOR, "subjects/sup", e));
}

TEST(WebhookRulesTest, EndpointMustBeHttps) {
  auto e = ParseEndpoint("https://hooks.example.org:8443/in?x=1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "hooks.example.org");
  EXPECT_EQ(e->port, 8443);
  EXPECT_EQ(e->path, "/in?x=1");
  EXPECT_EQ(ParseEndpoint("https://h").value().path, "/");
  for (const char* bad : {"http://h/x", "https://", "https://:80/x", "https://h:0/",
                          "https://h:99999/", "https://u@h/", "https://h/a b", "https://h/#f",
                          "ftp://h"}) {
    EXPECT_EQ(ParseEndpoint(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(WebhookRulesTest, WebhookNeedsSubscribableKinds) {
  v1::Webhook w;
  w.set_url("https://h/x");
  EXPECT_FALSE(ValidateWebhook(w).ok());
  w.add_event_kinds(v1::PING);
  EXPECT_FALSE(ValidateWebhook(w).ok());
  w.set_event_kinds(0, v1::DISPUTE_FILED);
  EXPECT_TRUE(ValidateWebhook(w).ok());
}

TEST(WebhookRulesTest, EventValidationNamesFields) {
  v1::Event e;
  absl::Status s = ValidateEvent(e);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  for (const char* field : {"event.event_id", "event.kind", "event.time", "event.resource"}) {
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr(field));
  }
  EXPECT_TRUE(ValidateEvent(EventFor({"subjects/op"})).ok());
  EXPECT_FALSE(ValidateEvent(EventFor({"op"})).ok());
}

TEST(WebhookRulesTest, JsonBodyCarriesIdTypeAndData) {
  v1::Event e = EventFor({"subjects/op"});
  e.set_market("markets/m1");
  (*e.mutable_attributes())["order"] = "orders/9";
  nlohmann::json j = nlohmann::json::parse(EventJson(e));
  EXPECT_EQ(j["id"], "e1");
  EXPECT_EQ(j["type"], "claim.filed");
  EXPECT_EQ(j["created"], "2026-11-30T00:53:20Z");
  EXPECT_EQ(j["market"], "markets/m1");
  EXPECT_EQ(j["data"]["order"], "orders/9");
  EXPECT_FALSE(j.contains("audience"));
}

TEST(WebhookBackoffTest, DoublesFromTheBaseUpToTheCap) {
  DispatcherOptions o;
  o.backoff.jitter = 0;
  const absl::Time t0 = absl::FromUnixSeconds(1796000000);
  EXPECT_EQ(*NextAttempt(o, 1, "k", t0, t0), t0 + absl::Seconds(30));
  EXPECT_EQ(*NextAttempt(o, 2, "k", t0, t0), t0 + absl::Seconds(60));
  EXPECT_EQ(*NextAttempt(o, 5, "k", t0, t0), t0 + absl::Seconds(480));
  EXPECT_EQ(*NextAttempt(o, 20, "k", t0, t0), t0 + absl::Hours(1));
}

TEST(WebhookBackoffTest, JitterAddsUpToItsFraction) {
  DispatcherOptions o;
  const absl::Time t0 = absl::FromUnixSeconds(1796000000);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    absl::Time next = *NextAttempt(o, 3, absl::StrCat("k", i), t0, t0);
    EXPECT_GE(next, t0 + absl::Seconds(120));
    EXPECT_LT(next, t0 + absl::Seconds(144));
    differs |= next != t0 + absl::Seconds(120);
  }
  EXPECT_TRUE(differs);
}

TEST(WebhookBackoffTest, GivesUpAfterThreeDays) {
  DispatcherOptions o;
  o.backoff.jitter = 0;
  const absl::Time t0 = absl::FromUnixSeconds(1796000000);
  EXPECT_TRUE(NextAttempt(o, 40, "k", t0, t0 + absl::Hours(70)).has_value());
  EXPECT_FALSE(NextAttempt(o, 40, "k", t0, t0 + absl::Hours(71) + absl::Minutes(1)).has_value());
}

TEST(WebhookBackoffTest, ThreeDaysTakeAboutEightyAttempts) {
  DispatcherOptions o;
  const absl::Time t0 = absl::FromUnixSeconds(1796000000);
  absl::Time now = t0;
  int attempts = 0;
  while (auto next = NextAttempt(o, attempts + 1, "k", t0, now)) {
    now = *next;
    ++attempts;
  }
  EXPECT_GT(attempts, 55);
  EXPECT_LT(attempts, 85);
}

}  // namespace
}  // namespace market::webhook
