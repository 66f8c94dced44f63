// marketd in-process for the tests/ suites: loopback gRPC and HTTP on free
// ports over real SQLite files, calls as a test subject, and a suite fixture
// sharing one marketd driven over the HTTP/JSON API.
#ifndef MARKET_TESTS_MARKETD_TESTING_H_
#define MARKET_TESTS_MARKETD_TESTING_H_

#include <fstream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/sqlite/sqlite_testing.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "services/identity/identity_testing.h"
#include "services/marketd/marketd.h"

namespace market::marketd::testing {

// marketd over `data_dir` with gRPC and HTTP on free loopback ports.
inline MarketdOptions LoopbackOptions(const std::string& data_dir) {
  MarketdOptions options;
  options.data_dir = data_dir;
  options.server.listen = "127.0.0.1:0";
  options.server.http_listen = "127.0.0.1:0";
  return options;
}

// LoopbackOptions with the outboxes relayed every 50 ms (cross-service
// events arrive within a test's patience).
inline MarketdOptions RelayingOptions(const std::string& data_dir) {
  MarketdOptions options = LoopbackOptions(data_dir);
  options.outbox_poll = absl::Milliseconds(50);
  return options;
}

// RelayingOptions for the webhook tests: webhooks delivered with `dispatcher`
// (webhook::testing::FastDispatcherOptions: receivers verified against the
// test CA, fast retries).
inline MarketdOptions WebhookOptions(const std::string& data_dir,
                                     const webhook::DispatcherOptions& dispatcher) {
  MarketdOptions options = RelayingOptions(data_dir);
  options.webhook = dispatcher;
  return options;
}

inline absl::StatusOr<std::unique_ptr<Marketd>> StartWebhookMarketd(
    const std::string& data_dir, const webhook::DispatcherOptions& dispatcher) {
  return Marketd::Start(WebhookOptions(data_dir, dispatcher), RealClock());
}

// A plaintext channel to `marketd`'s gRPC port.
inline std::shared_ptr<grpc::Channel> Channel(const Marketd& marketd) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", marketd.grpc_port()),
                             grpc::InsecureChannelCredentials());
}

// "Bearer …" for `subject`, signed by marketd's identity module
// (identity::testing::TestToken).
inline std::string BearerFor(Marketd& marketd, const std::string& subject) {
  return "Bearer " + identity::testing::TestToken(marketd.identity(), subject);
}

// A client context carrying `subject`'s token.
inline std::unique_ptr<grpc::ClientContext> ContextAs(Marketd& marketd,
                                                      const std::string& subject) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", BearerFor(marketd, subject));
  return ctx;
}

// Calls `rpc` ("&Service::Stub::Method") on `stub` as `subject`.
template <typename Stub, typename Rpc, typename Req, typename Resp>
grpc::Status CallAs(Marketd& marketd, Stub& stub, const std::string& subject, Rpc rpc,
                    const Req& req, Resp* resp) {
  return (stub.*rpc)(ContextAs(marketd, subject).get(), req, resp);
}

// One marketd (real clock, LoopbackOptions) shared by every test of the suite
// `Suite` (CRTP, so that each suite has its own), an HTTP client per test, and
// the HTTP/JSON API's calls.
template <typename Suite>
class SharedMarketdTest : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  static void SetUpTestSuite() {
    dir_ = new sqlite::testing::ScopedTempDir();
    auto started = Marketd::Start(LoopbackOptions(dir_->path() + "/var"), RealClock());
    ASSERT_TRUE(started.ok()) << started.status();
    marketd_ = started->release();
  }
  static void TearDownTestSuite() {
    delete marketd_;
    marketd_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(marketd_, nullptr);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", marketd_->http_port());
    http_->set_read_timeout(60, 0);
  }

  // POSTs `body` to the RPC `path` ("/pkg.Service/Method"); `token` "" = anonymous.
  httplib::Result Rpc(const std::string& path, const json& body, const std::string& token = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return http_->Post(path.c_str(), headers, body.dump(), "application/json");
  }
  // The JSON answer of a call that must succeed.
  json Ok(const std::string& path, const json& body, const std::string& token = "") {
    auto r = Rpc(path, body, token);
    EXPECT_TRUE(r) << path;
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << path << " " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  // The bootstrap supervisor's login, its password changed to
  // "supervisor-password-1" (call once per suite); returns the new token.
  std::string BootstrapSupervisor() {
    std::ifstream in(marketd_->bootstrap_file());
    json creds = json::parse(in, nullptr, false);
    json login = Ok("/market.identity.v1.IdentityService/Login",
                    {{"subject", creds["subject"]}, {"password", creds["password"]}});
    EXPECT_EQ(login["passwordChangeRequired"], true);
    return Ok("/market.identity.v1.IdentityService/ChangePassword",
              {{"name", creds["subject"]},
               {"oldPassword", creds["password"]},
               {"newPassword", "supervisor-password-1"}},
              login["accessToken"])
        .value("accessToken", "");
  }

  // Creates subject `id` (fields `subject`, password "password-ID") as
  // `creator` and logs it in; returns its token.
  std::string CreateSubject(const std::string& creator, const std::string& id,
                            const json& subject) {
    Ok("/market.identity.v1.IdentityService/CreateSubject",
       {{"subject", subject}, {"subjectId", id}, {"password", "password-" + id}}, creator);
    return Ok("/market.identity.v1.IdentityService/Login",
              {{"subject", "subjects/" + id}, {"password", "password-" + id}})
        .value("accessToken", "");
  }

  static inline sqlite::testing::ScopedTempDir* dir_ = nullptr;
  static inline Marketd* marketd_ = nullptr;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace market::marketd::testing

#endif  // MARKET_TESTS_MARKETD_TESTING_H_
