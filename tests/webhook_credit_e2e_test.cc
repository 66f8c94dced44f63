// Credit list entries as webhooks end to end (issue 14): marketd in-process on
// loopback (real gRPC, real SQLite files, a FakeClock) appends credit records
// through CreditService.RecordEvent; credit.db's outbox relay publishes
// "subject.blacklisted" / "subject.redlisted" to the webhook service hosted
// in the same process, which delivers them to a local HTTPS receiver
// (webhook_testing.h) that verifies signatures and counts posts per event id.
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock/clock.h"
#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "market/webhook/v1/webhook.grpc.pb.h"
#include "services/identity/identity_testing.h"
#include "services/marketd/marketd.h"
#include "services/webhook/webhook_testing.h"
#include "tests/marketd_testing.h"

namespace market {
namespace {

using webhook::testing::Eventually;
using webhook::testing::Receiver;
namespace wv1 = webhook::v1;
namespace cv1 = credit::v1;

class WebhookCreditE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = dir_.path() + "/pki";
    ASSERT_TRUE(webhook::testing::ReceiverPki(pki_));
    receiver_ = std::make_unique<Receiver>(pki_ + "/receiver.crt", pki_ + "/receiver.key");
    port_ = receiver_->Start(0);
    ASSERT_GT(port_, 0);

    marketd::MarketdOptions options = marketd::testing::WebhookOptions(
        dir_.path() + "/var", webhook::testing::FastDispatcherOptions(pki_ + "/ca.crt"));
    options.expiry_period = absl::Milliseconds(100);  // the credit scheduler
    auto started = marketd::Marketd::Start(options, &clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    marketd_ = std::move(*started);
    auto channel = marketd::testing::Channel(*marketd_);
    webhooks_ = wv1::WebhookService::NewStub(channel);
    credit_ = cv1::CreditService::NewStub(channel);
    const absl::Time now = clock_.Now();
    sup_ = identity::testing::AddTestSubject(marketd_->identity(), now, "sup",
                                             {common::v1::SUPERVISOR});
    svc_ = identity::testing::AddTestSubject(marketd_->identity(), now, "svc",
                                             {common::v1::SERVICE});
    seller_ = identity::testing::AddTestSubject(marketd_->identity(), now, "seller",
                                                {common::v1::SELLER});
  }
  void TearDown() override {
    if (marketd_ != nullptr) marketd_->Shutdown();
    receiver_.reset();
  }

  // Calls `rpc` on `stub` as `subject`.
  template <typename... Args>
  grpc::Status Call(Args&&... args) {
    return marketd::testing::CallAs(*marketd_, std::forward<Args>(args)...);
  }

  // A supervisor's webhook for `kind`; the receiver gets its secret.
  void Subscribe(wv1::EventKind kind) {
    wv1::CreateWebhookRequest req;
    req.mutable_webhook()->set_url(absl::StrCat("https://127.0.0.1:", port_, "/hook"));
    req.mutable_webhook()->add_event_kinds(kind);
    wv1::CreateWebhookResponse resp;
    grpc::Status st = Call(*webhooks_, sup_, &wv1::WebhookService::Stub::CreateWebhook, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    receiver_->SetSecret(resp.secret());
  }

  // Records `type` about the seller as `by`; returns the stored record.
  cv1::Record Record(const std::string& by, cv1::Record::Type type, absl::Time occurred,
                     const std::string& event_id, const std::string& counterparty = "") {
    cv1::RecordEventRequest req;
    cv1::Record& r = *req.mutable_record();
    r.set_subject(seller_);
    r.set_subject_role(common::v1::SELLER);
    r.set_type(type);
    r.set_counterparty(counterparty);
    r.set_decision_document_number(by == sup_ ? "SUP-2026-7" : "");
    *r.mutable_occurred_time() = ToTimestamp(occurred);
    r.set_event_id(event_id);
    cv1::RecordEventResponse resp;
    grpc::Status st = Call(*credit_, by, &cv1::CreditService::Stub::RecordEvent, req, &resp);
    EXPECT_TRUE(st.ok()) << event_id << ": " << st.error_message();
    return resp.record();
  }

  // Posts the receiver accepted whose id starts with `prefix`.
  std::map<std::string, int> PostsOf(const std::string& prefix) {
    std::map<std::string, int> out;
    for (const auto& [id, n] : receiver_->Posts()) {
      if (id.rfind(prefix, 0) == 0) out[id] = n;
    }
    return out;
  }

  sqlite::testing::ScopedTempDir dir_;
  FakeClock clock_{absl::Now()};
  std::string pki_;
  std::unique_ptr<Receiver> receiver_;
  int port_ = 0;
  std::unique_ptr<marketd::Marketd> marketd_;
  std::unique_ptr<wv1::WebhookService::Stub> webhooks_;
  std::unique_ptr<cv1::CreditService::Stub> credit_;
  std::string sup_, svc_, seller_;
};

TEST_F(WebhookCreditE2eTest, SeriousRecordDeliversSubjectBlacklistedOnce) {
  Subscribe(wv1::SUBJECT_BLACKLISTED);
  const absl::Time now = clock_.Now();
  cv1::Record serious = Record(sup_, cv1::Record::COUNTERFEIT_CONFIRMED, now, "sanction-1");
  Record(sup_, cv1::Record::COUNTERFEIT_CONFIRMED, now, "sanction-1");  // a retry
  clock_.Advance(absl::Seconds(1));
  Record(sup_, cv1::Record::FRAUD_CONFIRMED, clock_.Now(), "sanction-2");  // already listed

  const std::string id = absl::StrCat("subject-blacklisted:", seller_, "@",
                                      absl::ToUnixMicros(FromTimestamp(serious.recorded_time())));
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains(id); }));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(PostsOf("subject-"), (std::map<std::string, int>{{id, 1}}));
  nlohmann::json body = receiver_->Bodies()[id];
  EXPECT_EQ(body["type"], "subject.blacklisted");
  EXPECT_EQ(body["resource"], seller_);
  EXPECT_EQ(body["data"]["blacklist_record"], serious.name());
  EXPECT_EQ(body["data"]["subject_role"], "SELLER");
  EXPECT_EQ(receiver_->Rejected(), 0);
}

TEST_F(WebhookCreditE2eTest, RedListEntryByTimePassingIsDeliveredOnceByTheScheduler) {
  Subscribe(wv1::SUBJECT_REDLISTED);
  const absl::Time now = clock_.Now();
  // A missed reply that leaves the trailing 365 days in 30 seconds, and 25
  // trades with distinct buyers (650: level A) keep the seller off the red
  // list only until then.
  const absl::Time minor = now - absl::Hours(24 * 365) + absl::Seconds(30);
  Record(svc_, cv1::Record::CLAIM_REPLY_MISSED, minor, "missed-1");
  for (int i = 0; i < 25; ++i) {
    Record(svc_, cv1::Record::TRADE_COMPLETED, now - absl::Hours(1), absl::StrCat("trade-", i),
           absl::StrCat("subjects/buyer-", i));
  }
  absl::SleepFor(absl::Milliseconds(500));  // scheduler passes with nothing due
  EXPECT_TRUE(PostsOf("subject-").empty());

  clock_.Advance(absl::Seconds(31));
  const std::string id = absl::StrCat("subject-redlisted:", seller_, "@",
                                      absl::ToUnixMicros(minor + absl::Hours(24 * 365)));
  ASSERT_TRUE(Eventually([&] { return receiver_->Posts().contains(id); }));
  absl::SleepFor(absl::Milliseconds(500));  // more scheduler passes
  EXPECT_EQ(PostsOf("subject-"), (std::map<std::string, int>{{id, 1}}));
  nlohmann::json body = receiver_->Bodies()[id];
  EXPECT_EQ(body["type"], "subject.redlisted");
  EXPECT_EQ(body["resource"], seller_);
  EXPECT_EQ(body["data"]["level"], "A");
}

}  // namespace
}  // namespace market
