// A real marketd process on kernel-chosen ports with a temporary data dir, driven
// through the marketctl binary as a user types it, one credentials file per
// user. Shared by the journey tests in tests/e2e/. Every journey runs twice
// with the same assertions (INSTANTIATE_JOURNEY): against marketd, and
// against deploy/multiprocess.sh (one process per service), where marketctl
// is routed by the MARKET_*_ADDR variables.
#ifndef MARKET_TESTS_E2E_JOURNEY_FIXTURE_H_
#define MARKET_TESTS_E2E_JOURNEY_FIXTURE_H_

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/process_helpers.h"

namespace market::testing {

class JourneyTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("journey");
    ASSERT_FALSE(dir_.empty());
    if (Multiprocess()) {
      StartMultiprocess();
    } else {
      StartMarketd();
    }
    if (HasFatalFailure()) return;
    // deploy/multiprocess.sh made the first password change already.
    RunResult login = Multiprocess()
                          ? LoginSupervisorAgain()
                          : Ctl("supervisor",
                                {"login", "--bootstrap", bootstrap_, "--new-password-stdin"},
                                "password-supervisor\n");
    ASSERT_EQ(login.exit_code, 0) << login.err;
  }
  // Logs the supervisor in again (after its first password change).
  RunResult LoginSupervisorAgain() {
    return Multiprocess() ? Ctl("supervisor", {"login", "--subject", "supervisor",
                                               "--password-file", dir_ + "/var/supervisor.pw"})
                          : Ctl("supervisor", {"login", "--subject", "supervisor",
                                               "--password-stdin"},
                                "password-supervisor\n");
  }
  void TearDown() override {
    // SIGTERM lets deploy/multiprocess.sh stop its children.
    if (marketd_) marketd_->Stop(Multiprocess() ? SIGTERM : SIGKILL, 10);
    for (const char* var : kRouteVars) unsetenv(var);
    for (const char* var : kTlsVars) unsetenv(var);
    unsetenv("MARKET_SERVICE_FLAGS");
    std::filesystem::remove_all(dir_);
  }
  bool Multiprocess() const { return GetParam(); }
  // Flags for marketd and for every single-service binary alike.
  virtual std::vector<std::string> ExtraServerFlags() { return {}; }

  static constexpr const char* kRouteVars[] = {"MARKET_IDENTITY_ADDR", "MARKET_CREDIT_ADDR",
                                               "MARKET_LISTING_ADDR", "MARKET_APPRAISAL_ADDR",
                                               "MARKET_WARRANTY_ADDR", "MARKET_STATS_ADDR"};
  // marketctl's CA and client certificate for the multiprocess deployment.
  static constexpr const char* kTlsVars[] = {"MARKET_TLS_CA", "MARKETCTL_TLS_CERT",
                                             "MARKETCTL_TLS_KEY"};
  // deploy/multiprocess.sh with gRPC on Unix sockets in the temp dir and HTTP
  // on kernel-chosen ports: no address is chosen before it is bound. It runs
  // with mTLS on every hop (its default); marketctl presents the client
  // certificate the script made in var/pki.
  void StartMultiprocess() {
    const std::string sockets = dir_ + "/sock";
    setenv("MARKET_SOCKET_DIR", sockets.c_str(), 1);
    setenv("MARKET_BUILD_DIR", MARKET_BUILD_DIR, 1);
    std::string extra;
    for (const auto& f : ExtraServerFlags()) absl::StrAppend(&extra, extra.empty() ? "" : " ", f);
    setenv("MARKET_SERVICE_FLAGS", extra.c_str(), 1);
    marketd_ = std::make_unique<Child>(
        std::vector<std::string>{"/bin/bash", MARKET_SOURCE_DIR "/deploy/multiprocess.sh",
                                 dir_ + "/var"},
        dir_ + "/multi.out", dir_ + "/multi.err");
    unsetenv("MARKET_SOCKET_DIR");
    // The script writes env once every service logged "serving"; it exits at
    // once (with the service's log) when one cannot start.
    ASSERT_TRUE(Eventually(
        [&] { return marketd_->Exited() || std::filesystem::exists(dir_ + "/var/env"); }, 120))
        << ReadWholeFile(dir_ + "/multi.err");
    ASSERT_TRUE(std::filesystem::exists(dir_ + "/var/env")) << ReadWholeFile(dir_ + "/multi.err");
    const char* names[] = {"identity", "credit", "listing", "appraisal", "warranty", "stats"};
    for (int i = 0; i < 6; ++i) {
      setenv(kRouteVars[i], absl::StrCat("unix:", sockets, "/", names[i], ".sock").c_str(), 1);
      // Every service serves mTLS (its "serving" line says so).
      EXPECT_NE(ReadWholeFile(dir_ + "/var/" + names[i] + ".err").find("\"tls\":\"mtls\""),
                std::string::npos)
          << names[i];
    }
    const std::string pki = dir_ + "/var/pki/";
    const std::string tls_files[] = {pki + "ca.crt", pki + "marketctl.crt", pki + "marketctl.key"};
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(std::filesystem::exists(tls_files[i])) << tls_files[i];
      setenv(kTlsVars[i], tls_files[i].c_str(), 1);
    }
    bootstrap_ = dir_ + "/var/identity/bootstrap-admin.json";
    auto credit_ports = ParseServingLine(ReadWholeFile(dir_ + "/var/credit.err"));
    ASSERT_TRUE(credit_ports.has_value()) << ReadWholeFile(dir_ + "/var/credit.err");
    http_server_ = absl::StrCat("127.0.0.1:", credit_ports->http);
  }
  void StartMarketd() {
    std::vector<std::string> argv = {MARKETD_BIN,      "--data-dir",     dir_ + "/var",
                                     "--listen",       kAnyLoopbackPort, "--http-listen",
                                     kAnyLoopbackPort};
    for (const auto& f : ExtraServerFlags()) argv.push_back(f);
    marketd_ = std::make_unique<Child>(argv, dir_ + "/marketd.out", dir_ + "/marketd.err");
    auto ports = WaitForServing(*marketd_, dir_ + "/marketd.err", 60);
    ASSERT_TRUE(ports.has_value()) << ReadWholeFile(dir_ + "/marketd.err");
    server_args_ = {"--server", absl::StrCat("127.0.0.1:", ports->grpc)};
    http_server_ = absl::StrCat("127.0.0.1:", ports->http);
    bootstrap_ = dir_ + "/var/bootstrap-admin.json";
  }
  // Runs marketctl as `user` (its own credentials file).
  RunResult Ctl(const std::string& user, std::vector<std::string> args,
                const std::string& stdin_text = "") {
    std::vector<std::string> argv = {MARKETCTL_BIN, "--credentials", dir_ + "/" + user + ".json"};
    argv.insert(argv.end(), server_args_.begin(), server_args_.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return market::testing::Run(argv, stdin_text);
  }
  // Runs marketctl with --output json and parses stdout.
  nlohmann::json Json(const std::string& user, std::vector<std::string> args,
                      const std::string& stdin_text = "") {
    args.insert(args.begin(), {"--output", "json"});
    RunResult r = Ctl(user, args, stdin_text);
    EXPECT_EQ(r.exit_code, 0) << absl::StrCat(args.size() > 2 ? args[2] : "", " ",
                                              args.size() > 3 ? args[3] : "", ": ", r.err);
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  }
  // The supervisor creates a subject with a password; the subject logs in.
  void CreateAndLogin(const std::string& id, const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"subject", "create", "--id", id, "--password-stdin"};
    args.insert(args.end(), flags.begin(), flags.end());
    RunResult created = Ctl("supervisor", args, "password-" + id + "\n");
    ASSERT_EQ(created.exit_code, 0) << created.err;
    RunResult login = Ctl(id, {"login", "--subject", id, "--password-stdin"}, "password-" + id + "\n");
    ASSERT_EQ(login.exit_code, 0) << login.err;
  }
  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    FILE* f = fopen(path.c_str(), "w");
    fwrite(content.data(), 1, content.size(), f);
    fclose(f);
    return path;
  }
  // Polls `fn` (true = done) for up to `seconds`.
  template <typename Fn>
  bool Eventually(Fn fn, double seconds = 15) {
    for (int i = 0; i < seconds * 10; ++i) {
      if (fn()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return fn();
  }

  std::string dir_;
  std::vector<std::string> server_args_;  // marketd: --server; split: the routes
  std::string http_server_;  // the HTTP port serving the ledger's tiles
  std::string bootstrap_;                 // bootstrap-admin.json of identity
  std::unique_ptr<Child> marketd_;
};

// Runs every TEST_P of `suite` against marketd and against the five processes.
#define INSTANTIATE_JOURNEY(suite)                                                  \
  INSTANTIATE_TEST_SUITE_P(Deployments, suite, ::testing::Values(false, true),    \
                           [](const ::testing::TestParamInfo<bool>& info) {       \
                             return info.param ? "Multiprocess" : "Marketd";      \
                           })

}  // namespace market::testing

#endif  // MARKET_TESTS_E2E_JOURNEY_FIXTURE_H_
