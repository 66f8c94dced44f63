// A real marketd process on free ports with a temporary data dir, driven
// through the marketctl binary as a user types it, one credentials file per
// user. Shared by the journey tests in tests/e2e/.
#ifndef MARKET_TESTS_E2E_JOURNEY_FIXTURE_H_
#define MARKET_TESTS_E2E_JOURNEY_FIXTURE_H_

#include <signal.h>

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

class JourneyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("journey");
    ASSERT_FALSE(dir_.empty());
    StartMarketd();
    ASSERT_EQ(Ctl("supervisor", {"login", "--bootstrap", dir_ + "/var/bootstrap-admin.json"})
                  .exit_code,
              0);
  }
  void TearDown() override {
    if (marketd_) marketd_->Stop(SIGKILL, 5);
    std::filesystem::remove_all(dir_);
  }
  virtual std::vector<std::string> ExtraMarketdFlags() { return {}; }
  void StartMarketd() {
    port_ = FreePort();
    std::vector<std::string> argv = {MARKETD_BIN,   "--data-dir",
                                     dir_ + "/var", "--listen",
                                     absl::StrCat("127.0.0.1:", port_), "--http-listen",
                                     absl::StrCat("127.0.0.1:", FreePort())};
    for (const auto& f : ExtraMarketdFlags()) argv.push_back(f);
    marketd_ = std::make_unique<Child>(argv, dir_ + "/marketd.out", dir_ + "/marketd.err");
    ASSERT_TRUE(WaitForPort(port_, 30)) << ReadWholeFile(dir_ + "/marketd.err");
  }
  // Runs marketctl as `user` (its own credentials file).
  RunResult Ctl(const std::string& user, std::vector<std::string> args,
                const std::string& stdin_text = "") {
    std::vector<std::string> argv = {MARKETCTL_BIN, "--server", absl::StrCat("127.0.0.1:", port_),
                                     "--credentials", dir_ + "/" + user + ".json"};
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
  int port_ = 0;
  std::unique_ptr<Child> marketd_;
};

}  // namespace market::testing

#endif  // MARKET_TESTS_E2E_JOURNEY_FIXTURE_H_
