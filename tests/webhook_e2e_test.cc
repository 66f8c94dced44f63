// Webhooks end to end (issue 14): marketd in-process on loopback (real gRPC,
// real SQLite files) delivers events published through a source service's
// transactional outbox (warranty.db) to a local HTTPS receiver
// (httplib::SSLServer with a deploy/pki.sh certificate, verified by the
// sender against the pki CA). The receiver checks each signature with the
// shared secret, refuses timestamps more than 5 minutes old and deduplicates
// by event id. Each event arrives exactly once across a receiver outage and a
// sender restart on the same data dir.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock/clock.h"
#include "common/config/files.h"
#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "market/supervision/v1/supervision.grpc.pb.h"
#include "market/webhook/v1/webhook.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/identity/identity_testing.h"
#include "services/marketd/marketd.h"
#include "services/webhook/webhook_events.h"
#include "services/webhook/webhook_signature.h"
#include "services/webhook/webhook_testing.h"
#include "tests/marketd_testing.h"

namespace market {
namespace {

namespace v1 = webhook::v1;

using webhook::testing::Eventually;
using webhook::testing::Pki;
using webhook::testing::ReceiverPki;
using webhook::testing::Receiver;

class WebhookE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = dir_.path() + "/pki";
    ASSERT_TRUE(ReceiverPki(pki_));
    receiver_ = std::make_unique<Receiver>(pki_ + "/receiver.crt", pki_ + "/receiver.key");
    port_ = receiver_->Start(0);
    ASSERT_GT(port_, 0);
    StartMarketd();
    ASSERT_NE(marketd_, nullptr);
    const absl::Time now = absl::Now();
    sup_ = identity::testing::AddTestSubject(marketd_->identity(), now, "sup",
                                             {common::v1::SUPERVISOR});
    op_ = identity::testing::AddTestSubject(marketd_->identity(), now, "op",
                                            {common::v1::OPERATOR});
    seller_ = identity::testing::AddTestSubject(marketd_->identity(), now, "seller",
                                                {common::v1::SELLER});
  }
  void TearDown() override {
    if (marketd_ != nullptr) marketd_->Shutdown();
    receiver_.reset();
  }

  void StartMarketd() {
    auto started = marketd::testing::StartWebhookMarketd(
        dir_.path() + "/var", webhook::testing::FastDispatcherOptions(pki_ + "/ca.crt"));
    ASSERT_TRUE(started.ok()) << started.status();
    marketd_ = std::move(*started);
    stub_ = v1::WebhookService::NewStub(marketd::testing::Channel(*marketd_));
  }
  void StopMarketd() {
    marketd_->Shutdown();
    marketd_.reset();
  }

  // Calls WebhookService's `rpc` as `subject`.
  template <typename Req, typename Resp, typename Rpc>
  grpc::Status Call(const std::string& subject, Rpc rpc, const Req& req, Resp* resp) {
    return marketd::testing::CallAs(*marketd_, *stub_, subject, rpc, req, resp);
  }

  v1::CreateWebhookResponse Create(const std::string& subject, std::vector<v1::EventKind> kinds) {
    v1::CreateWebhookRequest req;
    req.mutable_webhook()->set_url(absl::StrCat("https://127.0.0.1:", port_, "/hook"));
    for (auto k : kinds) req.mutable_webhook()->add_event_kinds(k);
    v1::CreateWebhookResponse resp;
    grpc::Status st = Call(subject, &v1::WebhookService::Stub::CreateWebhook, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  // Publishes `id` the way a source service does: an outbox row written in a
  // warranty.db transaction, relayed to PublishEvent.
  void PublishThroughOutbox(const std::string& id, v1::EventKind kind,
                            std::vector<std::string> audience = {}) {
    v1::Event e;
    e.set_event_id(id);
    e.set_kind(kind);
    *e.mutable_time() = ToTimestamp(absl::Now());
    e.set_resource("claims/" + id);
    e.set_market("markets/m1");
    for (auto& a : audience) e.add_audience(a);
    (*e.mutable_attributes())["order"] = "orders/" + id;
    ASSERT_TRUE(marketd_->warranty()
                    .db->Write([&](sqlite::Connection& c) {
                      return webhook::EnqueueWebhookEvent(c, e, absl::Now());
                    })
                    .ok());
  }

  std::vector<v1::Delivery> Deliveries(const std::string& subject, const std::string& webhook) {
    v1::ListWebhookDeliveriesRequest req;
    req.set_name(webhook);
    v1::ListWebhookDeliveriesResponse resp;
    grpc::Status st = Call(subject, &v1::WebhookService::Stub::ListWebhookDeliveries, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {resp.deliveries().begin(), resp.deliveries().end()};
  }
  // Failed attempts so far of the delivery of `event_id`.
  int FailedAttempts(const std::string& webhook, const std::string& event_id) {
    int n = 0;
    for (const v1::Delivery& d : Deliveries(sup_, webhook)) {
      if (d.event_id() != event_id) continue;
      for (const auto& a : d.attempts()) n += a.error().empty() ? 0 : 1;
    }
    return n;
  }

  sqlite::testing::ScopedTempDir dir_;
  std::string pki_;
  std::unique_ptr<Receiver> receiver_;
  int port_ = 0;
  std::unique_ptr<marketd::Marketd> marketd_;
  std::unique_ptr<v1::WebhookService::Stub> stub_;
  std::string sup_, op_, seller_;
};

TEST_F(WebhookE2eTest, EachEventArrivesOnceAcrossReceiverOutageAndSenderRestart) {
  v1::CreateWebhookResponse hook = Create(sup_, {v1::CLAIM_FILED, v1::SUBJECT_BLACKLISTED});
  ASSERT_TRUE(absl::StartsWith(hook.secret(), "whsec_"));
  const std::string name = hook.webhook().name();
  receiver_->SetSecret(hook.secret());

  // 1. Receiver up.
  PublishThroughOutbox("ev-1", v1::CLAIM_FILED);
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains("ev-1"); }));

  // 2. Receiver down: attempts fail and are retried; up again: delivered.
  receiver_->Stop();
  PublishThroughOutbox("ev-2", v1::SUBJECT_BLACKLISTED);
  ASSERT_TRUE(Eventually([&] { return FailedAttempts(name, "ev-2") >= 2; }));
  ASSERT_EQ(receiver_->Start(port_), port_);
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains("ev-2"); }));

  // 3. Sender restart: an event pending while marketd stops is delivered by
  //    the next marketd on the same data dir.
  receiver_->Stop();
  PublishThroughOutbox("ev-3", v1::CLAIM_FILED);
  ASSERT_TRUE(Eventually([&] { return FailedAttempts(name, "ev-3") >= 1; }));
  StopMarketd();
  ASSERT_EQ(receiver_->Start(port_), port_);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(receiver_->Posts().contains("ev-3"));
  StartMarketd();
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains("ev-3"); }));

  // Nothing arrives twice, even after more back-off periods.
  absl::SleepFor(absl::Milliseconds(600));
  std::map<std::string, int> posts = receiver_->Posts();
  EXPECT_EQ(posts, (std::map<std::string, int>{{"ev-1", 1}, {"ev-2", 1}, {"ev-3", 1}}));
  EXPECT_EQ(receiver_->Rejected(), 0);
  nlohmann::json body = receiver_->Bodies()["ev-2"];
  EXPECT_EQ(body["type"], "subject.blacklisted");
  EXPECT_EQ(body["resource"], "claims/ev-2");
  EXPECT_EQ(body["data"]["order"], "orders/ev-2");

  // The deliveries list shows the failed attempts, then the 2xx.
  for (const v1::Delivery& d : Deliveries(sup_, name)) {
    EXPECT_EQ(d.state(), v1::Delivery::DELIVERED) << d.event_id();
    ASSERT_GT(d.attempts_size(), 0);
    EXPECT_EQ(d.attempts(d.attempts_size() - 1).http_status(), 204);
    if (d.event_id() != "ev-1") {
      EXPECT_GT(d.attempts_size(), 1) << d.event_id();
      EXPECT_EQ(d.attempts(0).http_status(), 0);
      EXPECT_FALSE(d.attempts(0).error().empty());
    }
  }
}

// The file's bytes; "" when absent.
std::string FileBytes(const std::string& path) {
  return config::ReadFile(path).value_or("");
}

// The secret is sealed in webhook.db (its key is in webhook/secret-box.key):
// the database file and its WAL never contain it, yet every delivery is
// signed with it.
TEST_F(WebhookE2eTest, WebhookDbHoldsNoSecretYetDeliveriesVerify) {
  v1::CreateWebhookResponse hook = Create(sup_, {v1::CLAIM_FILED});
  receiver_->SetSecret(hook.secret());
  PublishThroughOutbox("ev-s", v1::CLAIM_FILED);
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains("ev-s"); }));
  EXPECT_EQ(receiver_->Rejected(), 0);
  const std::string db = dir_.path() + "/var/webhook.db";
  ASSERT_FALSE(FileBytes(db).empty());
  for (const std::string& file : {db, db + "-wal"}) {
    EXPECT_EQ(FileBytes(file).find(hook.secret()), std::string::npos) << file;
    EXPECT_EQ(FileBytes(file).find(hook.secret().substr(6)), std::string::npos) << file;
  }
}

TEST_F(WebhookE2eTest, ReceiverRejectsAReplayedTimestampOlderThanFiveMinutes) {
  v1::CreateWebhookResponse hook = Create(sup_, {v1::CLAIM_FILED});
  receiver_->SetSecret(hook.secret());
  PublishThroughOutbox("ev-r", v1::CLAIM_FILED);
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains("ev-r"); }));
  auto [body, signature] = receiver_->Raw("ev-r");

  httplib::SSLClient client("127.0.0.1", port_);
  client.set_ca_cert_path((pki_ + "/ca.crt").c_str());
  client.enable_server_certificate_verification(true);
  httplib::Headers headers = {{webhook::kSignatureHeader, signature},
                              {webhook::kEventIdHeader, "ev-r"}};
  // An attacker replays the captured delivery six minutes later.
  receiver_->SetClockSkew(absl::Minutes(6));
  auto replay = client.Post("/hook", headers, body, "application/json");
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 400);
  EXPECT_NE(replay->body.find("replayed"), std::string::npos) << replay->body;
  // A forged body with the captured signature fails even within 5 minutes.
  receiver_->SetClockSkew(absl::ZeroDuration());
  auto forged = client.Post("/hook", headers, body + " ", "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 400);
  EXPECT_EQ(receiver_->Posts()["ev-r"], 1);
  EXPECT_EQ(receiver_->Rejected(), 2);
}

TEST_F(WebhookE2eTest, ReceiverWithACertificateFromAnotherCaGetsNothing) {
  const std::string other = dir_.path() + "/other";
  ASSERT_TRUE(Pki("ca " + other));
  ASSERT_TRUE(Pki("server " + other + " impostor --ip 127.0.0.1"));
  Receiver impostor(other + "/impostor.crt", other + "/impostor.key");
  receiver_->Stop();
  ASSERT_EQ(impostor.Start(port_), port_);
  v1::CreateWebhookResponse hook = Create(sup_, {v1::CLAIM_FILED});
  impostor.SetSecret(hook.secret());
  PublishThroughOutbox("ev-x", v1::CLAIM_FILED);
  ASSERT_TRUE(Eventually([&] { return FailedAttempts(hook.webhook().name(), "ev-x") >= 2; }));
  EXPECT_TRUE(impostor.Posts().empty());
  const v1::Delivery d = Deliveries(sup_, hook.webhook().name()).at(0);
  EXPECT_EQ(d.state(), v1::Delivery::PENDING);
  EXPECT_NE(d.attempts(0).error().find("certificate"), std::string::npos) << d.attempts(0).error();
}

TEST_F(WebhookE2eTest, TestWebhookSendsASignedPing) {
  v1::CreateWebhookResponse hook = Create(op_, {v1::CLAIM_FILED});
  receiver_->SetSecret(hook.secret());
  v1::TestWebhookRequest req;
  req.set_name(hook.webhook().name());
  v1::TestWebhookResponse resp;
  ASSERT_TRUE(Call(op_, &v1::WebhookService::Stub::TestWebhook, req, &resp).ok());
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains(resp.event_id()); }));
  EXPECT_EQ(receiver_->Bodies()[resp.event_id()]["type"], "ping");
}

TEST_F(WebhookE2eTest, OperatorGetsOnlyEventsOfItsMarkets) {
  v1::CreateWebhookResponse hook = Create(op_, {v1::CLAIM_FILED});
  receiver_->SetSecret(hook.secret());
  PublishThroughOutbox("other-market", v1::CLAIM_FILED, {"subjects/op2"});
  PublishThroughOutbox("own-market", v1::CLAIM_FILED, {op_});
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains("own-market"); }));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(receiver_->Posts().contains("other-market"));
  std::vector<v1::Delivery> list = Deliveries(op_, hook.webhook().name());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].event_id(), "own-market");
}

// The case queue (same process) announces a new case once: a retried
// OpenCase with the same request id publishes nothing new.
TEST_F(WebhookE2eTest, OpenedCaseReachesSupervisorsWebhookOnce) {
  v1::CreateWebhookResponse hook = Create(sup_, {v1::CASE_OPENED});
  receiver_->SetSecret(hook.secret());
  auto cases = supervision::v1::CaseService::NewStub(marketd::testing::Channel(*marketd_));
  supervision::v1::OpenCaseRequest req;
  supervision::v1::Party* party = req.mutable_case_()->add_subjects();
  party->set_subject(seller_);
  party->set_role(common::v1::SELLER);
  req.mutable_case_()->set_summary("counterfeit phones reported at the stall");
  req.set_request_id("open-1");
  supervision::v1::Case opened, again;
  for (supervision::v1::Case* out : {&opened, &again}) {
    grpc::Status st = cases->OpenCase(marketd::testing::ContextAs(*marketd_, sup_).get(), req, out);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  ASSERT_EQ(opened.name(), again.name());
  const std::string id = "case-opened:" + opened.name();
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains(id); }));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(receiver_->Posts()[id], 1);
  EXPECT_EQ(receiver_->Bodies()[id]["type"], "case.opened");
  EXPECT_EQ(receiver_->Bodies()[id]["resource"], opened.name());
  EXPECT_EQ(receiver_->Bodies()[id]["data"]["kind"], "MANUAL");
}

TEST_F(WebhookE2eTest, SellersCannotRegisterAndOthersCannotReadYourDeliveries) {
  v1::CreateWebhookRequest req;
  req.mutable_webhook()->set_url("https://127.0.0.1:1/hook");
  req.mutable_webhook()->add_event_kinds(v1::CLAIM_FILED);
  v1::CreateWebhookResponse resp;
  EXPECT_EQ(Call(seller_, &v1::WebhookService::Stub::CreateWebhook, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CreateWebhookResponse sup_hook = Create(sup_, {v1::CLAIM_FILED});
  v1::ListWebhookDeliveriesRequest list;
  list.set_name(sup_hook.webhook().name());
  v1::ListWebhookDeliveriesResponse out;
  EXPECT_EQ(Call(op_, &v1::WebhookService::Stub::ListWebhookDeliveries, list, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(WebhookE2eTest, PlainHttpUrlIsInvalidArgument) {
  v1::CreateWebhookRequest req;
  req.mutable_webhook()->set_url("http://127.0.0.1/hook");
  req.mutable_webhook()->add_event_kinds(v1::CLAIM_FILED);
  v1::CreateWebhookResponse resp;
  grpc::Status st = Call(sup_, &v1::WebhookService::Stub::CreateWebhook, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("webhook.url"), std::string::npos) << st.error_message();
}

}  // namespace
}  // namespace market
