// market-identity and market-credit as separate processes: the credit
// service verifies identity's tokens with keys it fetched and looks subjects
// up through a SERVICE account.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/process_helpers.h"

namespace market {
namespace {

using ::market::testing::Child;
using ::market::testing::ReadWholeFile;
using ::market::testing::RunResult;
using ::testing::HasSubstr;

TEST(MultiProcessCreditTest, CreditServiceTrustsIdentityTokensAndLooksUpSubjects) {
  std::string dir = market::testing::MakeTempDir("multi");
  Child identity({MARKET_IDENTITY_BIN, "--data-dir", dir + "/identity", "--listen",
                  market::testing::kAnyLoopbackPort, "--http-listen",
                  market::testing::kAnyLoopbackPort},
                 dir + "/identity.out", dir + "/identity.err");
  auto identity_ports = market::testing::WaitForServing(identity, dir + "/identity.err", 60);
  ASSERT_TRUE(identity_ports.has_value()) << ReadWholeFile(dir + "/identity.err");
  const int identity_port = identity_ports->grpc;
  auto ctl = [&](int port, std::vector<std::string> args, const std::string& stdin_text = "") {
    std::vector<std::string> argv = {MARKETCTL_BIN, "--server", absl::StrCat("127.0.0.1:", port),
                                     "--credentials", dir + "/credentials.json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return market::testing::Run(argv, stdin_text);
  };
  ASSERT_EQ(ctl(identity_port,
                {"login", "--bootstrap", dir + "/identity/bootstrap-admin.json",
                 "--new-password-stdin"},
                "supervisor-password-1\n")
                .exit_code,
            0);
  RunResult svc = ctl(identity_port, {"subject", "create", "--kind", "organization", "--role",
                                      "SERVICE", "--display-name", "credit service",
                                      "--credit-code", "91440101MA5CJQ4N59", "--id",
                                      "svc-credit", "--output", "json"});
  ASSERT_EQ(svc.exit_code, 0) << svc.err;
  auto created = nlohmann::json::parse(svc.out);
  std::ofstream(dir + "/svc.json") << nlohmann::json{{"subject", "subjects/svc-credit"},
                                                     {"api_key", created["initial_api_key"]}}
                                          .dump();
  ASSERT_EQ(ctl(identity_port, {"subject", "create", "--role", "SELLER", "--display-name", "张三",
                                "--id-number", "11010519491231002X", "--id", "seller-one"})
                .exit_code,
            0);

  Child credit({MARKET_CREDIT_BIN, "--data-dir", dir + "/credit", "--listen",
                market::testing::kAnyLoopbackPort, "--http-listen",
                market::testing::kAnyLoopbackPort, "--identity-addr",
                absl::StrCat("127.0.0.1:", identity_port), "--service-credentials",
                dir + "/svc.json"},
               dir + "/credit.out", dir + "/credit.err");
  auto credit_ports = market::testing::WaitForServing(credit, dir + "/credit.err", 60);
  ASSERT_TRUE(credit_ports.has_value()) << ReadWholeFile(dir + "/credit.err");
  const int credit_port = credit_ports->grpc;

  RunResult sanction = ctl(credit_port, {"credit", "record", "--subject", "seller-one", "--type",
                                         "COUNTERFEIT_CONFIRMED", "--decision-document",
                                         "市监处〔2026〕17号", "--reason", "counterfeit phones",
                                         "--event-id", "decision-17"});
  ASSERT_EQ(sanction.exit_code, 0) << sanction.err;
  RunResult black = ctl(credit_port, {"credit", "blacklist"});
  ASSERT_EQ(black.exit_code, 0) << black.err;
  EXPECT_THAT(black.out, HasSubstr("subjects/seller-one"));
  EXPECT_THAT(black.out, HasSubstr("张三"));  // display name looked up in identity
  RunResult unknown = ctl(credit_port, {"credit", "profile", "nobody-here"});
  EXPECT_EQ(unknown.exit_code, 5);  // NOT_FOUND, from identity
  RunResult verify =
      ctl(credit_port, {"ledger", "verify", "--state", dir + "/ledger.json", "--http-server",
                        absl::StrCat("127.0.0.1:", credit_ports->http)});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(credit.Stop(SIGTERM, 20), 0);
  EXPECT_EQ(identity.Stop(SIGTERM, 20), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace market
