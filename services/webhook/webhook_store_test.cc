#include "services/webhook/webhook_store.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/resource/resource.h"
#include "common/retention/retention.h"
#include "common/sqlite/sqlite_testing.h"
#include "gtest/gtest.h"

namespace market::webhook {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1796000000);

class WebhookStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto store = WebhookStore::Open(db_path(), key_path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  std::string db_path() const { return dir_.path() + "/webhook.db"; }
  std::string key_path() const { return dir_.path() + "/secret-box.key"; }
  // The stored secret column of `name`.
  std::string StoredSecret(const std::string& name) {
    std::string out;
    EXPECT_TRUE(store_->database()
                    ->Read([&](sqlite::Connection& c) -> absl::Status {
                      auto s = c.Prepare("SELECT secret FROM webhooks WHERE name = ?");
                      if (!s.ok()) return s.status();
                      if (auto b = s->BindText(1, name); !b.ok()) return b;
                      auto row = s->Step();
                      if (!row.ok()) return row.status();
                      out = s->ColumnText(0);
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
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
                         std::vector<std::string> audience,
                         const std::string& resource = "claims/1") {
    v1::Event e;
    e.set_event_id(id);
    e.set_kind(kind);
    *e.mutable_time() = ToTimestamp(kT0);
    e.set_resource(resource);
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

TEST_F(WebhookStoreTest, DueTakesEachWebhooksFirstQueuedDeliveryAndSkipsBusyOnes) {
  AddWebhook("webhooks/a", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  AddWebhook("webhooks/b", "subjects/sup2", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  for (const char* id : {"e1", "e2", "e3"}) {
    ASSERT_TRUE(store_->Publish(Event(id, v1::CLAIM_FILED, {}, absl::StrCat("claims/", id)), kT0)
                    .ok());
  }
  auto due = store_->Due(kT0, 10);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 2u);
  for (const DueDelivery& d : *due) EXPECT_EQ(d.event.event_id(), "e1") << d.webhook;
  auto not_a = store_->Due(kT0, 10, {"webhooks/a"});
  ASSERT_EQ(not_a->size(), 1u);
  EXPECT_EQ(not_a->at(0).webhook, "webhooks/b");
  // e1 to a retried later: a's next due delivery is e2 (another claim's).
  ASSERT_TRUE(store_->RecordAttempt(due->at(0).id, kT0, 0, "refused", false,
                                    kT0 + absl::Minutes(1))
                  .ok());
  auto next = store_->Due(kT0, 10, {"webhooks/b"});
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(next->at(0).event.event_id(), "e2");
}

TEST_F(WebhookStoreTest, RetriedDeliveryHoldsBackLaterOnesOfItsResourceToItsWebhookOnly) {
  AddWebhook("webhooks/a", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  AddWebhook("webhooks/b", "subjects/sup2", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  for (const char* id : {"filed", "queued"}) {
    ASSERT_TRUE(store_->Publish(Event(id, v1::CLAIM_FILED, {}, "claims/1"), kT0).ok());
  }
  auto first = store_->Due(kT0, 10, {"webhooks/b"});
  ASSERT_EQ(first->size(), 1u);
  ASSERT_TRUE(store_->RecordAttempt(first->at(0).id, kT0, 503, "HTTP 503", false,
                                    kT0 + absl::Minutes(1))
                  .ok());
  // Published while "filed" to a waits for its retry: "again" waits too.
  ASSERT_TRUE(
      store_->Publish(Event("again", v1::CLAIM_FILED, {}, "claims/1"), kT0 + absl::Seconds(10))
          .ok());
  ASSERT_TRUE(
      store_->Publish(Event("other", v1::CLAIM_FILED, {}, "claims/2"), kT0 + absl::Seconds(10))
          .ok());

  auto a_now = store_->Due(kT0 + absl::Seconds(30), 10, {"webhooks/b"});
  ASSERT_EQ(a_now->size(), 1u);
  EXPECT_EQ(a_now->at(0).event.event_id(), "other");
  ASSERT_TRUE(store_->RecordAttempt(a_now->at(0).id, kT0 + absl::Seconds(30), 204, "", true,
                                    std::nullopt)
                  .ok());
  EXPECT_TRUE(store_->Due(kT0 + absl::Seconds(59), 10, {"webhooks/b"})->empty());
  // b's deliveries of claims/1 are not held back by a's retry.
  auto b_now = store_->Due(kT0 + absl::Seconds(30), 10, {"webhooks/a"});
  ASSERT_EQ(b_now->size(), 1u);
  EXPECT_EQ(b_now->at(0).event.event_id(), "filed");
  // From the retry time on, a's claims/1 deliveries go in publication order.
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    auto due = store_->Due(kT0 + absl::Minutes(1), 10, {"webhooks/b"});
    ASSERT_EQ(due->size(), 1u);
    order.push_back(due->at(0).event.event_id());
    ASSERT_TRUE(
        store_->RecordAttempt(due->at(0).id, kT0 + absl::Minutes(1), 204, "", true, std::nullopt)
            .ok());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"filed", "queued", "again"}));
}

TEST_F(WebhookStoreTest, SecretIsSealedAtRestAndOpenedForDelivery) {
  AddWebhook("webhooks/sup", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  const std::string stored = StoredSecret("webhooks/sup");
  EXPECT_TRUE(SecretBox::IsSealed(stored)) << stored;
  EXPECT_EQ(stored.find("whsec_webhooks/sup"), std::string::npos);
  ASSERT_TRUE(store_->Publish(Event("e1", v1::CLAIM_FILED, {}), kT0).ok());
  EXPECT_EQ(store_->Due(kT0, 10)->at(0).secret, "whsec_webhooks/sup");
  EXPECT_EQ((*store_->Get("webhooks/sup"))->secret, "whsec_webhooks/sup");
}

TEST_F(WebhookStoreTest, KeyFileIsCreatedOwnerOnly) {
  struct stat st;
  ASSERT_EQ(::stat(key_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(st.st_size, static_cast<off_t>(SecretBox::kKeySize));
}

// The file's bytes; "" when absent.
std::string FileBytes(const std::string& path) {
  return config::ReadFile(path).value_or("");
}

TEST_F(WebhookStoreTest, PlaintextSecretsFromBeforeEncryptionAreSealedOnOpen) {
  AddWebhook("webhooks/old", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  const std::string plain = "whsec_0123456789abcdef0123456789abcdef-legacy";
  // A database written before encryption: the column holds the plaintext.
  ASSERT_TRUE(store_->database()
                  ->Write([&](sqlite::Connection& c) -> absl::Status {
                    auto s = c.Prepare("UPDATE webhooks SET secret = ? WHERE name = ?");
                    if (!s.ok()) return s.status();
                    if (auto b = s->BindText(1, plain); !b.ok()) return b;
                    if (auto b = s->BindText(2, "webhooks/old"); !b.ok()) return b;
                    return s->Run();
                  })
                  .ok());
  ASSERT_TRUE(FileBytes(db_path()).find(plain) != std::string::npos ||
              FileBytes(db_path() + "-wal").find(plain) != std::string::npos);
  Reopen();
  const std::string stored = StoredSecret("webhooks/old");
  EXPECT_TRUE(SecretBox::IsSealed(stored)) << stored;
  // Neither the database file nor its WAL still holds the plaintext.
  EXPECT_EQ(FileBytes(db_path()).find(plain), std::string::npos);
  EXPECT_EQ(FileBytes(db_path() + "-wal").find(plain), std::string::npos);
  ASSERT_TRUE(store_->Publish(Event("e1", v1::CLAIM_FILED, {}), kT0).ok());
  EXPECT_EQ(store_->Due(kT0, 10)->at(0).secret, plain);
}

TEST_F(WebhookStoreTest, OpenRefusesSealedSecretsWithoutTheirKey) {
  AddWebhook("webhooks/sup", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  store_.reset();
  std::filesystem::rename(key_path(), key_path() + ".saved");
  auto missing = WebhookStore::Open(db_path(), key_path());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition) << missing.status();
  EXPECT_FALSE(std::filesystem::exists(key_path()));  // no fresh key was made
  ASSERT_TRUE(config::WriteOwnerOnlyFile(key_path(), std::string(32, 'k')).ok());
  auto wrong = WebhookStore::Open(db_path(), key_path());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition) << wrong.status();
  std::filesystem::rename(key_path() + ".saved", key_path());
  EXPECT_TRUE(WebhookStore::Open(db_path(), key_path()).ok());
}

TEST_F(WebhookStoreTest, PurgeDeletesFinishedDeliveriesPastRetentionNeverPendingOnes) {
  AddWebhook("webhooks/sup", "subjects/sup", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  AddWebhook("webhooks/gone", "subjects/sup2", common::v1::SUPERVISOR, {v1::CLAIM_FILED});
  for (const char* id : {"delivered", "failed", "pending", "recent"}) {  // four claims
    ASSERT_TRUE(store_->Publish(Event(id, v1::CLAIM_FILED, {}, absl::StrCat("claims/", id)), kT0)
                    .ok());
  }
  std::map<std::string, int64_t> ids;  // event id -> delivery id of webhooks/sup
  for (int i = 0; i < 4; ++i) {
    auto due = store_->Due(kT0, 10, {"webhooks/gone"});
    ASSERT_EQ(due->size(), 1u);
    ids[due->at(0).event.event_id()] = due->at(0).id;
    // Out of the way until each is settled below.
    ASSERT_TRUE(store_->RecordAttempt(due->at(0).id, kT0, 503, "HTTP 503", false,
                                      kT0 + absl::Hours(100))
                    .ok());
  }
  const absl::Time t1 = kT0 + absl::Hours(1);
  ASSERT_TRUE(store_->RecordAttempt(ids["delivered"], t1, 204, "", true, std::nullopt).ok());
  ASSERT_TRUE(store_->RecordAttempt(ids["failed"], t1, 503, "HTTP 503", false, std::nullopt).ok());
  ASSERT_TRUE(store_->Delete("webhooks/gone", t1).ok());  // its 4 deliveries: CANCELLED
  ASSERT_TRUE(store_->RecordAttempt(ids["recent"], kT0 + absl::Hours(6 * 24), 204, "", true,
                                    std::nullopt)
                  .ok());
  FakeClock clock(kT0 + absl::Hours(8 * 24));
  retention::TablePurger purger("webhook", store_->database(), &clock,
                                retention::Tables{.finished = PurgeFinished});
  // 7 days after t1: delivered, failed and the 4 cancelled go with their
  // attempts and events, and the deleted webhook; "pending" and "recent" stay.
  auto purged = purger.PurgeOnce();
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_GT(*purged, 0);
  auto left = store_->ListDeliveries("webhooks/sup", 0, 10);
  ASSERT_TRUE(left.ok());
  std::vector<std::string> events;
  for (const v1::Delivery& d : left->first) events.push_back(d.event_id());
  EXPECT_EQ(events, (std::vector<std::string>{"recent", "pending"}));
  EXPECT_EQ(left->first[1].state(), v1::Delivery::PENDING);
  EXPECT_EQ(left->first[1].attempts_size(), 1);
  EXPECT_TRUE(store_->ListDeliveries("webhooks/gone", 0, 10)->first.empty());
  EXPECT_EQ(store_->PendingCount(), 1);
  // The purged events' ids are free again; the kept ones are still known.
  EXPECT_TRUE(store_->Publish(Event("delivered", v1::CLAIM_FILED, {}), clock.Now())->accepted);
  EXPECT_FALSE(store_->Publish(Event("pending", v1::CLAIM_FILED, {}), clock.Now())->accepted);
  EXPECT_EQ(*purger.PurgeOnce(), 0);
}

}  // namespace
}  // namespace market::webhook
