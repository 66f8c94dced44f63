// `marketctl admin backup` of a running marketd that keeps writing, then
// `admin restore-check`, then a second marketd started on the restored copy
// serving the checkpoint the manifest recorded. Also: a changed byte in a
// copied database fails the check (exit 66, naming the file), and a non-empty
// backup folder is refused. And the split deployment: one data dir per
// service, backed up in one run.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
namespace fs = std::filesystem;

constexpr int kExitLocal = 65;
constexpr int kExitVerificationFailed = 66;

// One server binary (marketd, market-credit, …) on a data dir, on a port it
// picked itself (--listen 127.0.0.1:0), read from its JSON "serving" log
// line: no probed port that someone else could take first.
class Server {
 public:
  Server(const std::string& binary, const std::string& data_dir, const std::string& log_prefix,
         const std::vector<std::string>& extra = {})
      : log_(log_prefix + ".err") {
    std::vector<std::string> argv = {binary,        "--data-dir",    data_dir,     "--listen",
                                     "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<Child>(argv, log_prefix + ".out", log_);
  }
  // The gRPC port, or 0 when no "serving" line came within `seconds`.
  int WaitForPort(double seconds = 30) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      for (absl::string_view line : absl::StrSplit(ReadWholeFile(log_), '\n')) {
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.value("msg", "") == "serving" && j.contains("grpc_port")) {
          http_port_ = j.value("http_port", 0);
          return j["grpc_port"].get<int>();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }
  std::string log() const { return ReadWholeFile(log_); }
  // The HTTP port (ledger tiles), once WaitForPort returned.
  int http_port() const { return http_port_; }
  int Stop() { return child_->Stop(SIGTERM, 20); }

 private:
  std::string log_;
  std::unique_ptr<Child> child_;
  int http_port_ = 0;
};

class BackupE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = market::testing::MakeTempDir("backup"); }
  void TearDown() override {
    source_.reset();
    restored_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts marketd on `data_dir` (as `*m`) and returns its port.
  int Start(const std::string& data_dir, const std::string& name, std::unique_ptr<Server>* m) {
    *m = std::make_unique<Server>(MARKETD_BIN, data_dir, dir_ + "/" + name);
    int port = (*m)->WaitForPort();
    EXPECT_GT(port, 0) << (*m)->log();
    return port;
  }

  // Starts the marketd to back up on `data` and logs in as its bootstrap
  // supervisor (supervisor.json); its port, or 0 after a test failure.
  int StartSourceAndLogin(const std::string& data) {
    int port = Start(data, "marketd", &source_);
    if (port == 0) return 0;
    RunResult login =
        Ctl(port, "supervisor.json",
            {"login", "--bootstrap", data + "/bootstrap-admin.json", "--new-password-stdin"},
            "supervisor-password-1\n");
    EXPECT_EQ(login.exit_code, 0) << login.err;
    return login.exit_code == 0 ? port : 0;
  }

  RunResult Ctl(int port, const std::string& credentials, std::vector<std::string> args,
                const std::string& stdin_text = "") {
    std::vector<std::string> argv = {MARKETCTL_BIN, "--server", absl::StrCat("127.0.0.1:", port),
                                     "--credentials", dir_ + "/" + credentials};
    argv.insert(argv.end(), args.begin(), args.end());
    return market::testing::Run(argv, stdin_text);
  }
  RunResult Admin(std::vector<std::string> args) {
    std::vector<std::string> argv = {MARKETCTL_BIN, "admin"};
    argv.insert(argv.end(), args.begin(), args.end());
    return market::testing::Run(argv);
  }
  RunResult Commend(int port, int i) {
    return Ctl(
        port, "supervisor.json",
        {"credit", "record", "--subject", absl::StrCat("seller-", i % 3), "--type", "COMMENDATION",
         "--reason", "prompt after-sales service", "--event-id", absl::StrCat("commend-", i)});
  }
  // tree_size and root_hash (hex) from `marketctl ledger checkpoint`, which
  // also checks the checkpoint's signature.
  std::pair<int64_t, std::string> Checkpoint(int port) {
    RunResult r = Ctl(port, "anyone.json", {"ledger", "checkpoint"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::pair<int64_t, std::string> out{-1, ""};
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
      std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() != 2) continue;
      if (f[0] == "tree_size" && !absl::SimpleAtoi(f[1], &out.first)) ADD_FAILURE() << line;
      if (f[0] == "root_hash") out.second = f[1];
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<Server> source_;
  std::unique_ptr<Server> restored_;
};

TEST_F(BackupE2eTest, BackupWhileWritingRestoresToTheManifestCheckpoint) {
  const std::string data = dir_ + "/var";
  int port = StartSourceAndLogin(data);
  ASSERT_GT(port, 0);
  RunResult created = Ctl(port, "supervisor.json",
                          {"subject", "create", "--id", "east-op", "--password-stdin", "--kind",
                           "organization", "--role", "OPERATOR", "--display-name",
                           "东城跳蚤市场管理处", "--credit-code", "91350100M000100Y43"},
                          "password-east-op\n");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Commend(port, i).exit_code, 0);

  // A writer appends ledger records before, during and after the backup.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::atomic<int> failed{0};
  std::thread writer([&] {
    for (int i = 100; !stop.load(); ++i) {
      (Commend(port, i).exit_code == 0 ? written : failed).fetch_add(1);
    }
  });
  auto wait_for_writes = [&](int n) {
    for (int i = 0; i < 600 && written.load() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  wait_for_writes(3);
  const int before = written.load();
  const std::string backup_dir = dir_ + "/backup";
  RunResult backup = Admin({"backup", "--data-dir", data, backup_dir});
  wait_for_writes(written.load() + 3);
  stop.store(true);
  writer.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
  EXPECT_EQ(failed.load(), 0);
  EXPECT_THAT(backup.out, HasSubstr("7 SQLite databases"));
  // Outbox senders before receivers, identity last, then keys and photos.
  std::vector<size_t> at;
  for (const char* file : {"appraisal.db ", "warranty.db ", "listing.db ", "credit.db ",
                           "identity.db ", "credit/ledger-key.pem "}) {
    at.push_back(backup.out.find(absl::StrCat("copied  ", file)));
    EXPECT_NE(at.back(), std::string::npos) << file << " in\n" << backup.out;
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end())) << backup.out;

  RunResult check = Admin({"restore-check", backup_dir});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_THAT(check.out, HasSubstr("restore check passed"));
  for (const char* db : {"identity.db", "listing.db", "appraisal.db", "warranty.db", "credit.db"}) {
    EXPECT_THAT(check.out, HasSubstr(absl::StrCat("ok      integrity_check  ", db, ": ok")));
  }
  nlohmann::json manifest =
      nlohmann::json::parse(ReadWholeFile(backup_dir + "/MANIFEST.json"), nullptr, false);
  ASSERT_TRUE(manifest.is_object());
  ASSERT_EQ(manifest["ledgers"].size(), 1u);
  const int64_t size = manifest["ledgers"][0]["tree_size"];
  const std::string root = manifest["ledgers"][0]["root_hash"];
  // Every write acknowledged before the backup started is in the copy; the
  // ones after it are only in the live ledger.
  EXPECT_GE(size, 5 + before);
  auto [live_size, live_root] = Checkpoint(port);
  EXPECT_GT(live_size, size);

  // Restore as the README says: the backup's files into a new data dir.
  const std::string restored_dir = dir_ + "/restored";
  fs::copy(backup_dir, restored_dir, fs::copy_options::recursive);
  fs::remove(restored_dir + "/MANIFEST.json");
  int restored_port = Start(restored_dir, "restored", &restored_);
  ASSERT_GT(restored_port, 0);
  auto [restored_size, restored_root] = Checkpoint(restored_port);
  EXPECT_EQ(restored_size, size);
  EXPECT_EQ(restored_root, root);
  RunResult verify =
      Ctl(restored_port, "anyone.json",
          {"ledger", "verify", "--state", dir_ + "/state.json", "--http-server",
           absl::StrCat("127.0.0.1:", restored_->http_port())});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out,
              HasSubstr(absl::StrCat("ledger verified: ", size, " records, root ", root)));
  // The identity database came along: the supervisor and the subject it made.
  ASSERT_EQ(Ctl(restored_port, "restored-supervisor.json",
                {"login", "--subject", "supervisor", "--password-stdin"},
                "supervisor-password-1\n")
                .exit_code,
            0);
  RunResult subject = Ctl(restored_port, "restored-supervisor.json", {"subject", "get", "east-op"});
  EXPECT_EQ(subject.exit_code, 0) << subject.err;
  EXPECT_THAT(subject.out, HasSubstr("东城跳蚤市场管理处"));
  EXPECT_EQ(restored_->Stop(), 0);
  EXPECT_EQ(source_->Stop(), 0);
}

TEST_F(BackupE2eTest, ChangedByteFailsTheCheckAndNonEmptyDirIsRefused) {
  const std::string data = dir_ + "/var";
  int port = StartSourceAndLogin(data);
  ASSERT_GT(port, 0);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Commend(port, i).exit_code, 0);
  const std::string backup_dir = dir_ + "/backup";
  RunResult backup = Admin({"backup", "--data-dir", data, backup_dir});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;

  RunResult again = Admin({"backup", "--data-dir", data, backup_dir});
  EXPECT_EQ(again.exit_code, kExitLocal);
  EXPECT_THAT(again.err, HasSubstr("is not empty"));

  const std::string copy = backup_dir + "/credit.db";
  {
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    const auto offset = static_cast<std::streamoff>(fs::file_size(copy) / 2);
    f.seekg(offset);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(offset);
    f.write(&c, 1);
  }
  RunResult check = Admin({"restore-check", backup_dir});
  EXPECT_EQ(check.exit_code, kExitVerificationFailed) << check.out;
  EXPECT_THAT(check.out, HasSubstr("FAILED  sha256           credit.db: SHA-256 "));
  EXPECT_THAT(check.out, HasSubstr("RESTORE CHECK FAILED: credit.db: sha256"));
  EXPECT_THAT(check.err, HasSubstr("RESTORE CHECK FAILED: credit.db"));
  EXPECT_EQ(source_->Stop(), 0);
}

// The split deployment (deploy/multiprocess.sh): one data dir per service,
// all backed up by one run with a --data-dir each, each into DIR/<folder>.
TEST_F(BackupE2eTest, SplitDeploymentBacksUpEachServiceDataDir) {
  const std::string base = dir_ + "/var-multi";
  Server identity(MARKET_IDENTITY_BIN, base + "/identity", dir_ + "/identity");
  const int identity_port = identity.WaitForPort();
  ASSERT_GT(identity_port, 0) << identity.log();
  const std::string identity_addr = absl::StrCat("127.0.0.1:", identity_port);
  ASSERT_EQ(Ctl(identity_port, "supervisor.json",
                {"login", "--bootstrap", base + "/identity/bootstrap-admin.json",
                 "--new-password-stdin"},
                "supervisor-password-1\n")
                .exit_code,
            0);
  RunResult svc = Ctl(identity_port, "supervisor.json",
                      {"subject", "create", "--kind", "organization", "--role", "SERVICE",
                       "--display-name", "market-credit", "--credit-code", "91350102MA0000010J",
                       "--id", "svc-credit", "--output", "json"});
  ASSERT_EQ(svc.exit_code, 0) << svc.err;
  const std::string creds = base + "/credit/service-credentials.json";
  fs::create_directories(base + "/credit");
  std::ofstream(creds) << nlohmann::json{{"subject", "subjects/svc-credit"},
                                         {"api_key",
                                          nlohmann::json::parse(svc.out)["initial_api_key"]}}
                              .dump();
  fs::permissions(creds, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  const std::vector<std::string> credit_flags = {"--identity-addr", identity_addr,
                                                 "--service-credentials", creds};
  Server credit(MARKET_CREDIT_BIN, base + "/credit", dir_ + "/credit", credit_flags);
  const int credit_port = credit.WaitForPort();
  ASSERT_GT(credit_port, 0) << credit.log();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Commend(credit_port, i).exit_code, 0);

  const std::string backup_dir = dir_ + "/backup";
  RunResult backup = Admin(
      {"backup", "--data-dir", base + "/identity", "--data-dir", base + "/credit", backup_dir});
  ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
  for (const char* file : {"identity/identity.db", "credit/credit.db",
                           "credit/credit/ledger-key.pem", "credit/service-credentials.json"}) {
    EXPECT_TRUE(fs::exists(backup_dir + "/" + file)) << file;
  }
  RunResult check = Admin({"restore-check", backup_dir});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  nlohmann::json manifest =
      nlohmann::json::parse(ReadWholeFile(backup_dir + "/MANIFEST.json"), nullptr, false);
  ASSERT_TRUE(manifest.is_object());
  ASSERT_EQ(manifest["ledgers"].size(), 1u);
  EXPECT_EQ(manifest["ledgers"][0]["database"], "credit/credit.db");
  EXPECT_EQ(manifest["ledgers"][0]["tree_size"], 4);

  // The credit service restored from its folder serves the recorded checkpoint.
  EXPECT_EQ(credit.Stop(), 0);
  const std::string restored = dir_ + "/restored-credit";
  fs::copy(backup_dir + "/credit", restored, fs::copy_options::recursive);
  Server restored_credit(MARKET_CREDIT_BIN, restored, dir_ + "/restored-credit",
                         {"--identity-addr", identity_addr, "--service-credentials",
                          restored + "/service-credentials.json"});
  const int restored_port = restored_credit.WaitForPort();
  ASSERT_GT(restored_port, 0) << restored_credit.log();
  auto [size, root] = Checkpoint(restored_port);
  EXPECT_EQ(size, 4);
  EXPECT_EQ(root, manifest["ledgers"][0]["root_hash"]);
  EXPECT_EQ(restored_credit.Stop(), 0);
  EXPECT_EQ(identity.Stop(), 0);
}

}  // namespace
}  // namespace market
