#include "services/webhook/webhook_store.h"

#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "gtest/gtest.h"

namespace market::webhook {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1796000000);

class WebhookStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = WebhookStore::Open(dir_.path() + "/webhook.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void AddWebhook(const std::string& name, const std::string& owner, common::v1::Role scope,
                  std::vector<v1::EventKind> kinds) {
    StoredWebhook w;
    w.webhook.set_name(name);
    w.webhook.set_owner(owner);
    w.webhook.set_url("https://127.0.0.1:1/hook");
    for (auto k : kinds) w.webhook.add_event_kinds(k);
    *w.webhook.mutable_create_time() = ToTimestamp(kT0);
    w.scope = scope;
    w.secret = "whsec_" + name;
    ASSERT_TRUE(store_->Create(w).ok());
  }
  static v1::Event Event(const std::string& id, v1::EventKind kind,
                         std::vector<std::string> audience) {
    v1::Event e;
    e.set_event_id(id);
    e.set_kind(kind);
    *e.mutable_time() = ToTimestamp(kT0);
    e.set_resource("claims/1");
    for (auto& s : audience) e.add_audience(s);
    return e;
  }
  sqlite::testing::ScopedTempDir dir_;
  std::unique_ptr<WebhookStore> store_;
};

TEST_F(WebhookStoreTest, PublishQueuesSubscribersTheOwnerMaySee) {
  AddWebhook("webhooks/sup", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  AddWebhook("webhooks/op", "subjects/op", common::v1::OPERATOR, {v1::CLAIM_FILED});
  AddWebhook("webhooks/other", "subjects/op2", common::v1::OPERATOR, {v1::CLAIM_FILED});
  AddWebhook("webhooks/kind", "subjects/op", common::v1::OPERATOR, {v1::DISPUTE_FILED});
  auto r = store_->Publish(Event("e1", v1::CLAIM_FILED, {"subjects/op"}), kT0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->accepted);
  EXPECT_EQ(r->deliveries, 2);
  auto due = store_->Due(kT0, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
}

TEST_F(WebhookStoreTest, PublishIsIdempotentByEventId) {
  AddWebhook("webhooks/sup", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  ASSERT_TRUE(store_->Publish(Event("e1", v1::CLAIM_FILED, {}), kT0).ok());
  auto again = store_->Publish(Event("e1", v1::CLAIM_FILED, {}), kT0);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->accepted);
  EXPECT_EQ(again->deliveries, 0);
  EXPECT_EQ(store_->Due(kT0, 10)->size(), 1u);
}

TEST_F(WebhookStoreTest, FailedAttemptReschedulesThenDelivers) {
  AddWebhook("webhooks/sup", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  ASSERT_TRUE(store_->Publish(Event("e1", v1::CLAIM_FILED, {}), kT0).ok());
  int64_t id = store_->Due(kT0, 10)->at(0).id;
  ASSERT_TRUE(store_->RecordAttempt(id, kT0, 503, "HTTP 503", false, kT0 + absl::Seconds(30)).ok());
  EXPECT_TRUE(store_->Due(kT0 + absl::Seconds(29), 10)->empty());
  ASSERT_EQ(store_->Due(kT0 + absl::Seconds(30), 10)->at(0).attempts, 1);
  ASSERT_TRUE(store_->RecordAttempt(id, kT0 + absl::Seconds(30), 200, "", true, std::nullopt).ok());
  EXPECT_TRUE(store_->Due(kT0 + absl::Hours(1), 10)->empty());
  auto page = store_->ListDeliveries("webhooks/sup", 0, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->first.size(), 1u);
  const v1::Delivery& d = page->first[0];
  EXPECT_EQ(d.state(), v1::Delivery::DELIVERED);
  ASSERT_EQ(d.attempts_size(), 2);
  EXPECT_EQ(d.attempts(0).http_status(), 503);
  EXPECT_EQ(d.attempts(0).error(), "HTTP 503");
  EXPECT_EQ(d.attempts(1).http_status(), 200);
}

TEST_F(WebhookStoreTest, DeleteCancelsPendingDeliveries) {
  AddWebhook("webhooks/sup", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  ASSERT_TRUE(store_->Publish(Event("e1", v1::CLAIM_FILED, {}), kT0).ok());
  ASSERT_TRUE(store_->Delete("webhooks/sup", kT0).ok());
  EXPECT_TRUE(store_->Due(kT0, 10)->empty());
  EXPECT_EQ(store_->ListDeliveries("webhooks/sup", 0, 10)->first.at(0).state(),
            v1::Delivery::CANCELLED);
  EXPECT_EQ(store_->Delete("webhooks/sup", kT0).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(store_->Get("webhooks/sup")->has_value());
}

TEST_F(WebhookStoreTest, OwnerMayHaveAtMostTwentyWebhooks) {
  for (int i = 0; i < 20; ++i) {
    AddWebhook("webhooks/w" + std::to_string(i), "subjects/op", common::v1::OPERATOR,
               {v1::CLAIM_FILED});
  }
  StoredWebhook w;
  w.webhook.set_name("webhooks/w20");
  w.webhook.set_owner("subjects/op");
  EXPECT_EQ(store_->Create(w).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(WebhookStoreTest, DeliveriesPageNewestFirst) {
  AddWebhook("webhooks/sup", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->Publish(Event("e" + std::to_string(i), v1::CLAIM_FILED, {}), kT0).ok());
  }
  auto first = store_->ListDeliveries("webhooks/sup", 0, 3);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->first.size(), 3u);
  EXPECT_EQ(first->first[0].event_id(), "e4");
  ASSERT_NE(first->second, 0);
  auto second = store_->ListDeliveries("webhooks/sup", first->second, 3);
  ASSERT_EQ(second->first.size(), 2u);
  EXPECT_EQ(second->first[1].event_id(), "e0");
  EXPECT_EQ(second->second, 0);
}

}  // namespace
}  // namespace market::webhook
