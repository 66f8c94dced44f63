// The dispatcher against real HTTPS receivers on loopback (deploy/pki.sh
// certificates, verified against their CA): a receiver that never answers
// holds one worker and no other webhook's deliveries; an attempt still
// receiving at its deadline is cut off.
#include "services/webhook/webhook_dispatcher.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "services/webhook/webhook_signature.h"
#include "services/webhook/webhook_testing.h"

namespace market::webhook {
namespace {

using testing::Eventually;
using testing::ReceiverPki;
using testing::Receiver;

// Accepts TCP connections on loopback and never sends a byte (no TLS
// handshake, no answer): a receiver that hangs.
class DeadReceiver {
 public:
  DeadReceiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 16);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        absl::MutexLock l(&mu_);
        conns_.push_back(c);
      }
    });
  }
  ~DeadReceiver() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int c : conns_) ::close(c);
  }
  int port() const { return port_; }
  int connections() {
    absl::MutexLock l(&mu_);
    return static_cast<int>(conns_.size());
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<int> conns_ ABSL_GUARDED_BY(mu_);
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = dir_.path() + "/pki";
    ASSERT_TRUE(ReceiverPki(pki_));
    auto store = WebhookStore::Open(dir_.path() + "/webhook.db", dir_.path() + "/secret-box.key");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    server_ = std::make_unique<httplib::SSLServer>((pki_ + "/receiver.crt").c_str(),
                                                   (pki_ + "/receiver.key").c_str());
  }
  void TearDown() override {
    if (dispatcher_ != nullptr) dispatcher_->Stop();
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  int Serve() {
    int port = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    Eventually([this] { return server_->is_running(); }, 5);
    return port;
  }
  void AddWebhook(const std::string& name, int port) {
    StoredWebhook w;
    w.webhook.set_name(name);
    w.webhook.set_owner("subjects/" + name.substr(name.find('/') + 1));
    w.webhook.set_url(absl::StrCat("https://127.0.0.1:", port, "/hook"));
    w.webhook.add_event_kinds(v1::CLAIM_FILED);
    *w.webhook.mutable_create_time() = ToTimestamp(absl::Now());
    w.scope = common::v1::SUPERVISOR;
    w.secret = "whsec_" + name;
    ASSERT_TRUE(store_->Create(w).ok());
  }
  void Publish(const std::string& id) {
    v1::Event e;
    e.set_event_id(id);
    e.set_kind(v1::CLAIM_FILED);
    *e.mutable_time() = ToTimestamp(absl::Now());
    e.set_resource("claims/" + id);
    ASSERT_TRUE(store_->Publish(e, absl::Now()).ok());
  }
  std::vector<v1::Delivery> Deliveries(const std::string& webhook) {
    auto page = store_->ListDeliveries(webhook, 0, 100);
    EXPECT_TRUE(page.ok());
    return page->first;
  }
  void StartDispatcher(absl::Duration timeout) {
    DispatcherOptions o = testing::FastDispatcherOptions(pki_ + "/ca.crt");
    o.timeout = timeout;
    o.backoff.initial_backoff = absl::Hours(1);  // one attempt per delivery in these tests
    dispatcher_ = std::make_unique<Dispatcher>(store_.get(), RealClock(), o);
    dispatcher_->Start();
  }

  sqlite::testing::ScopedTempDir dir_;
  std::string pki_;
  std::unique_ptr<WebhookStore> store_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, DeadReceiverHoldsUpNoOtherWebhook) {
  Receiver live(pki_ + "/receiver.crt", pki_ + "/receiver.key");
  live.SetSecret("whsec_webhooks/live");
  const int live_port = live.Start(0);
  ASSERT_GT(live_port, 0);
  DeadReceiver dead;
  // "dead" sorts first and every event is queued to it first.
  AddWebhook("webhooks/dead", dead.port());
  AddWebhook("webhooks/live", live_port);
  for (const char* id : {"e1", "e2", "e3", "e4"}) Publish(id);
  // An attempt's deadline far beyond the test: the dead receiver's first
  // attempt is still in flight while the live receiver gets all four.
  StartDispatcher(absl::Minutes(10));
  ASSERT_TRUE(Eventually([&] { return live.Arrivals().size() == 4; }));
  // In queue order, each once, every signature valid.
  EXPECT_EQ(live.Arrivals(), (std::vector<std::string>{"e1", "e2", "e3", "e4"}));
  EXPECT_EQ(live.Rejected(), 0);
  ASSERT_TRUE(Eventually([&] {
    std::vector<v1::Delivery> list = Deliveries("webhooks/live");
    return std::all_of(list.begin(), list.end(), [](const v1::Delivery& d) {
      return d.state() == v1::Delivery::DELIVERED;
    });
  }));
  // The dead webhook: one attempt in flight (one connection), nothing
  // recorded yet, its other deliveries waiting behind it.
  EXPECT_EQ(dead.connections(), 1);
  for (const v1::Delivery& d : Deliveries("webhooks/dead")) {
    EXPECT_EQ(d.state(), v1::Delivery::PENDING) << d.event_id();
    EXPECT_EQ(d.attempts_size(), 0) << d.event_id();
  }
  // Stop() aborts the hung attempt without recording it: still due.
  dispatcher_->Stop();
  EXPECT_EQ(store_->Due(absl::Now(), 10, {"webhooks/live"})->at(0).event.event_id(), "e1");
}

TEST_F(DispatcherTest, AttemptStillReceivingAtItsDeadlineIsCutOff) {
  std::atomic<bool> done{false};
  // Answers 200 but trickles a never-ending chunked body, a byte every 20 ms:
  // no single read ever times out.
  server_->Post("/hook", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
      if (done) return false;
      absl::SleepFor(absl::Milliseconds(20));
      return sink.write(".", 1);
    });
  });
  const int port = Serve();
  AddWebhook("webhooks/slow", port);
  Publish("e1");
  StartDispatcher(absl::Milliseconds(500));
  ASSERT_TRUE(Eventually([&] {
    std::vector<v1::Delivery> list = Deliveries("webhooks/slow");
    return !list.empty() && list[0].attempts_size() > 0;
  }));
  const v1::Delivery d = Deliveries("webhooks/slow").at(0);
  EXPECT_EQ(d.state(), v1::Delivery::PENDING);  // retried later
  EXPECT_EQ(d.attempts(0).http_status(), 0);
  EXPECT_NE(d.attempts(0).error().find("cut off"), std::string::npos) << d.attempts(0).error();
  done = true;
}

}  // namespace
}  // namespace market::webhook
