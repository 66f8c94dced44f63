// The foundation journey through real processes: marketd started as a user
// would start it, driven by the marketctl binary.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "grpcpp/grpcpp.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/process_helpers.h"

namespace market {
namespace {

using ::market::testing::Child;
using ::market::testing::kAnyLoopbackPort;
using ::market::testing::ReadWholeFile;

using ::market::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

class MarketdE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = market::testing::MakeTempDir("e2e");
    ASSERT_FALSE(dir_.empty());
    Start();
  }
  void TearDown() override {
    if (marketd_) marketd_->Stop(SIGKILL, 5);
    std::filesystem::remove_all(dir_);
  }
  // Starts marketd on kernel-chosen ports and reads them from its log.
  void Start() {
    marketd_ = std::make_unique<Child>(
        std::vector<std::string>{MARKETD_BIN, "--data-dir", dir_ + "/var", "--listen",
                                 kAnyLoopbackPort, "--http-listen", kAnyLoopbackPort},
        dir_ + "/marketd.out", dir_ + "/marketd.err");
    auto ports = market::testing::WaitForServing(*marketd_, dir_ + "/marketd.err", 60);
    ASSERT_TRUE(ports.has_value()) << ReadWholeFile(dir_ + "/marketd.err");
    port_ = ports->grpc;
    http_port_ = ports->http;
    ASSERT_GT(port_, 0);
    ASSERT_GT(http_port_, 0);
  }
  RunResult Ctl(std::vector<std::string> args, const std::string& stdin_text = "") {
    std::vector<std::string> argv = {MARKETCTL_BIN, "--server",
                                     absl::StrCat("127.0.0.1:", port_), "--credentials",
                                     dir_ + "/credentials.json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return market::testing::Run(argv, stdin_text);
  }
  // The bootstrap login with its first password change.
  RunResult LoginAsSupervisor() {
    return Ctl({"login", "--bootstrap", dir_ + "/var/bootstrap-admin.json",
                "--new-password-stdin"},
               "supervisor-password-1\n");
  }
  // The supervisor creates the operator subjects/east-market, which logs in.
  void LoginAsNewOperator() {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  ASSERT_EQ(Ctl({"subject", "create", "--kind", "organization", "--role", "OPERATOR",
                 "--display-name", "东城跳蚤市场", "--credit-code", "91350100M000100Y43", "--id",
                 "east-market", "--password-stdin"},
                "operator-password-1\n")
                .exit_code,
            0);
  ASSERT_EQ(Ctl({"login", "--subject", "east-market", "--password-stdin"},
                "operator-password-1\n")
                .exit_code,
            0);
  }

  std::string dir_;
  int port_ = 0;
  int http_port_ = 0;
  std::unique_ptr<Child> marketd_;
};

// --version names the binary, the project version, the commit and the build
// type, and starts nothing.
TEST(VersionTest, MarketdAndMarketctlPrintVersionCommitAndBuildType) {
  for (const auto& [bin, name] : {std::pair<std::string, std::string>{MARKETD_BIN, "marketd"},
                                  {MARKETCTL_BIN, "marketctl"}}) {
    RunResult r = market::testing::Run({bin, "--version"});
    EXPECT_EQ(r.exit_code, 0) << name;
    EXPECT_TRUE(std::regex_search(
        r.out, std::regex("^" + name + R"( \d+\.\d+\.\d+ \(commit ([0-9a-f]+|unknown), \w+\)\n$)")))
        << r.out;
  }
}

TEST_F(MarketdE2eTest, BootstrapFileIsOwnerOnlyAndOnlyItsPathIsLogged) {
  std::string path = dir_ + "/var/bootstrap-admin.json";
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::string content = ReadWholeFile(path);
  std::string password = content.substr(content.find("\"password\""));
  password = password.substr(password.find(':') + 3);
  password = password.substr(0, password.find('"'));
  ASSERT_GE(password.size(), 16u);
  // marketd logs the path (one JSON line on stderr, like every other line)
  // before it serves.
  std::string line = absl::StrCat(
      "{\"level\":\"warn\",\"msg\":\"bootstrap supervisor credentials written\",\"path\":\"",
      path, "\",\"subject\":\"subjects/supervisor\",\"ts\":\"");
  std::string err;
  for (int i = 0; i < 200 && err.find(line) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    err = ReadWholeFile(dir_ + "/marketd.err");
  }
  std::string out = ReadWholeFile(dir_ + "/marketd.out");
  EXPECT_THAT(err, HasSubstr(line));
  EXPECT_THAT(out + err, Not(HasSubstr(password)));
}

TEST_F(MarketdE2eTest, LoginWithBootstrapThenWhoAmI) {
  RunResult login = LoginAsSupervisor();
  ASSERT_EQ(login.exit_code, 0) << login.err;
  RunResult who = Ctl({"whoami", "--output", "json"});
  ASSERT_EQ(who.exit_code, 0) << who.err;
  EXPECT_THAT(who.out, HasSubstr("\"subject\": \"subjects/supervisor\""));
  EXPECT_THAT(who.out, HasSubstr("SUPERVISOR"));
}

// The bootstrap password works once: until it is changed, only WhoAmI and
// ChangePassword answer, in every service; the change deletes the file.
TEST_F(MarketdE2eTest, BootstrapPasswordMustBeChangedBeforeAnythingElse) {
  const std::string bootstrap = dir_ + "/var/bootstrap-admin.json";
  RunResult login = Ctl({"login", "--bootstrap", bootstrap});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_THAT(login.err, HasSubstr("must change its password"));
  EXPECT_EQ(Ctl({"whoami"}).exit_code, 0);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"subject", "list"}, {"market", "list"}}) {
    RunResult refused = Ctl(args);
    EXPECT_EQ(refused.exit_code, 9) << args[0];  // FAILED_PRECONDITION
    EXPECT_THAT(refused.err, HasSubstr("PASSWORD_CHANGE_REQUIRED")) << args[0];
  }
  const std::string old_password =
      nlohmann::json::parse(ReadWholeFile(bootstrap))["password"].get<std::string>();
  RunResult changed =
      Ctl({"subject", "change-password", "--old-password-stdin", "--new-password-stdin"},
          old_password + "\nsupervisor-password-1\n");
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_FALSE(std::filesystem::exists(bootstrap));
  EXPECT_EQ(Ctl({"subject", "list"}).exit_code, 0);
  RunResult audit = Ctl({"subject", "auth-log", "supervisor"});
  EXPECT_THAT(audit.out, HasSubstr("PASSWORD_CHANGED"));
  EXPECT_THAT(audit.out, HasSubstr("LOGIN_SUCCEEDED"));
  EXPECT_EQ(Ctl({"login", "--subject", "supervisor", "--password-stdin"}, old_password + "\n")
                .exit_code,
            16);  // UNAUTHENTICATED
}

TEST_F(MarketdE2eTest, LogoutForgetsTheTokenAndWhoAmIThenFails) {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  RunResult who = Ctl({"whoami"});
  EXPECT_THAT(who.out, HasSubstr("token_expire_time"));
  ASSERT_EQ(Ctl({"logout"}).exit_code, 0);
  EXPECT_EQ(Ctl({"whoami"}).exit_code, 16);
}

TEST_F(MarketdE2eTest, WithoutLoginWhoAmIExitsUnauthenticated) {
  RunResult who = Ctl({"whoami"});
  EXPECT_EQ(who.exit_code, 16);  // UNAUTHENTICATED
  EXPECT_THAT(who.err, HasSubstr("UNAUTHENTICATED"));
}

TEST_F(MarketdE2eTest, CreateOperatorAndListIt) {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  RunResult created = Ctl({"subject", "create", "--kind", "organization", "--role", "OPERATOR",
                           "--display-name", "东城跳蚤市场", "--credit-code",
                           "91350100M000100Y43", "--id", "east-market", "--password-stdin"},
                          "operator-password-1\n");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  RunResult list = Ctl({"subject", "list", "--filter", "role=OPERATOR"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("subjects/east-market"));
  EXPECT_THAT(list.out, HasSubstr("东城跳蚤市场"));
  RunResult op_login = Ctl({"login", "--subject", "east-market", "--password-stdin"},
                           "operator-password-1\n");
  EXPECT_EQ(op_login.exit_code, 0) << op_login.err;
}

TEST_F(MarketdE2eTest, OperatorCreatesMarketAndAdmitsSeller) {
  ASSERT_NO_FATAL_FAILURE(LoginAsNewOperator());
  RunResult seller = Ctl({"subject", "create", "--role", "SELLER", "--display-name", "张三",
                          "--id-number", "11010519491231002X", "--id", "zhang-san",
                          "--password-stdin"},
                         "seller-password-1\n");
  ASSERT_EQ(seller.exit_code, 0) << seller.err;
  RunResult market = Ctl({"market", "create", "--id", "east-flea", "--display-name",
                          "东城社区跳蚤市场", "--region", "350102", "--address", "鼓楼区东街 1 号"});
  ASSERT_EQ(market.exit_code, 0) << market.err;
  RunResult add = Ctl({"market", "add-seller", "east-flea", "zhang-san"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_THAT(add.out, HasSubstr("subjects/zhang-san"));
  RunResult list = Ctl({"market", "list", "--filter", "region=\"3501\""});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("markets/east-flea"));
}

TEST_F(MarketdE2eTest, SupervisorUpdatesASubjectAndManagesItsApiKeys) {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  ASSERT_EQ(Ctl({"subject", "create", "--kind", "organization", "--role", "SERVICE",
                 "--display-name", "credit relay", "--credit-code", "91440101MA5CJQ4N59", "--id",
                 "svc-relay"})
                .exit_code,
            0);
  RunResult updated = Ctl({"subject", "update", "svc-relay", "--display-name", "信用中继"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_THAT(updated.out, HasSubstr("信用中继"));
  EXPECT_EQ(Ctl({"subject", "update", "svc-relay"}).exit_code, 64);  // nothing to update
  RunResult key = Ctl({"--output", "json", "subject", "api-key", "create", "svc-relay",
                       "--display-name", "second key"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  EXPECT_THAT(key.out, HasSubstr("\"key\": \"mk_"));
  size_t at = key.out.find("subjects/svc-relay/apiKeys/");
  ASSERT_NE(at, std::string::npos) << key.out;
  std::string name = key.out.substr(at, key.out.find('"', at) - at);
  RunResult revoked = Ctl({"subject", "api-key", "revoke", name});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_THAT(revoked.out, HasSubstr("revoke_time"));
  RunResult keys = Ctl({"subject", "signing-keys"});
  EXPECT_EQ(keys.exit_code, 0) << keys.err;
  EXPECT_THAT(keys.out, HasSubstr("EdDSA"));
}

TEST_F(MarketdE2eTest, OperatorSetsSwapDaysOnItsMarket) {
  ASSERT_NO_FATAL_FAILURE(LoginAsNewOperator());
  ASSERT_EQ(Ctl({"market", "create", "--id", "east-flea", "--display-name", "东城社区跳蚤市场",
                 "--region", "350102", "--address", "鼓楼区东街 1 号"})
                .exit_code,
            0);
  RunResult swap = Ctl({"--output", "json", "market", "update", "east-flea", "--swap-weekly",
                        "6,7", "--swap-hours", "08:00-12:00"});
  ASSERT_EQ(swap.exit_code, 0) << swap.err;
  EXPECT_THAT(swap.out, HasSubstr("\"WEEKLY\""));
  EXPECT_THAT(swap.out, HasSubstr("\"08:00\""));
  RunResult region = Ctl({"market", "update", "east-flea", "--region", "350103"});
  EXPECT_EQ(region.exit_code, 7) << region.err;  // PERMISSION_DENIED: supervisors only
}

TEST_F(MarketdE2eTest, BadCreditCodeExitsInvalidArgumentNamingField) {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  RunResult created = Ctl({"subject", "create", "--kind", "organization", "--role", "OPERATOR",
                           "--display-name", "坏代码", "--credit-code", "91350100M000100Y44"});
  EXPECT_EQ(created.exit_code, 3);  // INVALID_ARGUMENT
  EXPECT_THAT(created.err, HasSubstr("bad field: subject.credit_code"));
}

TEST_F(MarketdE2eTest, SuspendedSellerIsRefused) {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  ASSERT_EQ(Ctl({"subject", "create", "--role", "SELLER", "--display-name", "卖家", "--id-number",
                 "440524188001010014", "--id", "seller-one", "--password-stdin"},
                "seller-password-1\n")
                .exit_code,
            0);
  RunResult suspended = Ctl({"subject", "suspend", "seller-one", "--reason", "fraud inquiry"});
  ASSERT_EQ(suspended.exit_code, 0) << suspended.err;
  EXPECT_THAT(suspended.out, HasSubstr("SUSPENDED"));
  RunResult login = Ctl({"login", "--subject", "seller-one", "--password-stdin"},
                        "seller-password-1\n");
  EXPECT_EQ(login.exit_code, 9);  // FAILED_PRECONDITION
  EXPECT_THAT(login.err, HasSubstr("reason: SUBJECT_SUSPENDED"));
}

TEST_F(MarketdE2eTest, MetricsAndHealthzAreServed) {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  httplib::Client http("127.0.0.1", http_port_);
  auto healthz = http.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body,
              HasSubstr("market_rpc_requests_total{code=\"OK\",method=\"/market.identity.v1."
                        "IdentityService/Login\"} 1"));
}

// Every service's bounded tables are gauges: request ids in all five
// databases, outbox events in the four that send events (credit.db's since
// its list entries and figures, credit_outbox.h).
TEST_F(MarketdE2eTest, MetricsExportTheBoundedTablesOfEveryService) {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  httplib::Client http("127.0.0.1", http_port_);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  for (const char* service : {"identity", "credit", "listing", "appraisal", "warranty"}) {
    EXPECT_THAT(metrics->body,
                HasSubstr(absl::StrCat("market_idempotency_keys{service=\"", service, "\"} ")));
  }
  for (const char* service : {"listing", "appraisal", "warranty", "credit"}) {
    EXPECT_THAT(metrics->body, HasSubstr(absl::StrCat("market_outbox_pending_events{service=\"",
                                                      service, "\"} 0\n")));
    EXPECT_THAT(metrics->body, HasSubstr(absl::StrCat("market_outbox_delivered_events{service=\"",
                                                      service, "\"} ")));
  }
  EXPECT_THAT(metrics->body, HasSubstr("market_credit_outbox_depth 0\n"));
}

TEST_F(MarketdE2eTest, SigtermStopsCleanlyAndDataSurvivesRestart) {
  ASSERT_EQ(LoginAsSupervisor().exit_code, 0);
  ASSERT_EQ(Ctl({"subject", "create", "--role", "BUYER", "--display-name", "买家", "--id",
                 "buyer-one", "--password-stdin"},
                "buyer-password-1\n")
                .exit_code,
            0);
  EXPECT_EQ(marketd_->Stop(SIGTERM, 20), 0);
  std::filesystem::remove(dir_ + "/var/bootstrap-admin.json");
  Start();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/var/bootstrap-admin.json"));
  RunResult login = Ctl({"login", "--subject", "buyer-one", "--password-stdin"},
                        "buyer-password-1\n");
  EXPECT_EQ(login.exit_code, 0) << login.err;
}

TEST_F(MarketdE2eTest, SecondMarketdOnSamePortFailsToStart) {
  RunResult second = market::testing::Run({MARKETD_BIN, "--data-dir", dir_ + "/var2", "--listen",
                          absl::StrCat("127.0.0.1:", port_), "--http-listen",
                          kAnyLoopbackPort});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("cannot listen"));
}

}  // namespace
}  // namespace market
