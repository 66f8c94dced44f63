// `marketctl admin backup` and `restore-check` on real SQLite files: a credit
// ledger written by SqliteCreditStore (appending while the backup runs), a
// second database, key files and a photo.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "clients/marketctl/client.h"
#include "clients/marketctl/commands.h"
#include "common/crypto/crypto.h"
#include "common/sqlite/database.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "nlohmann/json.hpp"
#include "services/credit/sqlite_credit_store.h"

namespace market::ctl {
namespace {

using ::market::sqlite::testing::ScopedTempDir;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

constexpr char kOrigin[] = "second-hand-market/ledgers/main/v2";

int Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

credit::Record Commendation(int i) {
  credit::Record r;
  r.set_subject(absl::StrCat("subjects/seller-", i % 3));
  r.set_subject_role(common::v1::SELLER);
  r.set_type(credit::Record::COMMENDATION);
  r.set_tier(credit::Record::POSITIVE);
  *r.mutable_occurred_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1'790'000'000 + i);
  r.set_event_id(absl::StrCat("commend-", i));
  return r;
}

struct CtlResult {
  int exit_code;
  std::string out;
  std::string err;
};

// A data dir laid out as marketd keeps it, with its stores open (WAL files present).
class AdminCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeDataDir(data_); }

  void MakeDataDir(const std::string& data) {
    fs::create_directories(data + "/credit");
    fs::create_directories(data + "/listing/photos/ab");
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok());
    ASSERT_OK(WritePrivateKeyFile(data + "/credit/ledger-key.pem", *key));
    public_key_hex_ = HexEncode(key->PublicKeyRaw());
    auto shared = std::make_shared<Ed25519PrivateKey>(*std::move(key));
    auto store = credit::SqliteCreditStore::Open(
        data + "/credit.db", [shared](int64_t size, const ledger::Hash& root) {
          return ledger::SignCheckpoint({kOrigin, size, root}, kOrigin, *shared);
        });
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    for (int i = 0; i < 9; ++i) ASSERT_OK(store_->Append(Commendation(next_++)).status());
    auto other = sqlite::Database::Open(data + "/identity.db", sqlite::Options(),
                                        {{1, "CREATE TABLE subjects (name TEXT PRIMARY KEY);"}});
    ASSERT_TRUE(other.ok()) << other.status();
    other_ = *std::move(other);
    std::ofstream(data + "/listing/photos/ab/abcdef0123") << "\xff\xd8 a JPEG photo";
    std::ofstream(data + "/listing/page-token-hmac.key") << std::string(32, 'k');
    std::ofstream(data + "/listing/photos/ab/abcdef9999.tmp-1a2b") << "half-written";
  }

  CtlResult Ctl(std::vector<std::string> args) {
    CLI::App app;
    GlobalFlags flags;
    std::ostringstream out, err;
    Client client(flags, out, err);
    std::function<int()> run;
    AddAdminCommands(app, client, &run);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      return {kExitUsage, "", e.what()};
    }
    int code = run ? run() : kExitUsage;
    return {code, out.str(), err.str()};
  }

  nlohmann::json Manifest(const std::string& dir) {
    return nlohmann::json::parse(Slurp(dir + "/MANIFEST.json"), nullptr, false);
  }

  ScopedTempDir tmp_;
  const std::string data_ = tmp_.File("var");
  const std::string backup_ = tmp_.File("backup");
  std::unique_ptr<credit::SqliteCreditStore> store_;
  std::unique_ptr<sqlite::Database> other_;
  std::string public_key_hex_;
  int next_ = 0;
};

TEST_F(AdminCommandsTest, BackupWhileAppendingThenRestoreCheckPasses) {
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread writer([&] {
    for (int i = 1000; !stop.load(); ++i) {
      ASSERT_OK(store_->Append(Commendation(i)).status());
      appended.fetch_add(1);
    }
  });
  while (appended.load() < 5) std::this_thread::yield();
  CtlResult backup = Ctl({"admin", "backup", "--data-dir", data_, backup_});
  stop.store(true);
  writer.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_THAT(backup.out, HasSubstr("backup complete: 5 files (2 SQLite databases)"));

  nlohmann::json manifest = Manifest(backup_);
  ASSERT_TRUE(manifest.is_object());
  EXPECT_EQ(manifest["format"], "market-backup/1");
  std::vector<std::string> paths;
  for (const auto& f : manifest["files"]) paths.push_back(f["path"]);
  // In path order, databases and other files alike.
  EXPECT_THAT(
      paths, ::testing::ElementsAre("credit.db", "credit/ledger-key.pem", "identity.db",
                                    "listing/page-token-hmac.key", "listing/photos/ab/abcdef0123"));
  EXPECT_EQ(manifest["files"][0]["kind"], "sqlite");
  EXPECT_EQ(manifest["files"][1]["kind"], "file");
  EXPECT_EQ(manifest["files"][4]["sha256"], HexEncode(Sha256("\xff\xd8 a JPEG photo")));
  ASSERT_EQ(manifest["ledgers"].size(), 1u);
  const auto& ledger = manifest["ledgers"][0];
  const int64_t size = ledger["tree_size"];
  EXPECT_GE(size, 9 + 5);
  auto root = store_->RootHash(size);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(ledger["root_hash"], HexEncode(*root));
  EXPECT_EQ(ledger["public_key"], public_key_hex_);
  EXPECT_EQ(ledger["origin"], kOrigin);

  EXPECT_EQ(Mode(backup_), 0700);
  EXPECT_EQ(Mode(backup_ + "/credit.db"), 0600);
  EXPECT_EQ(Mode(backup_ + "/listing/photos/ab/abcdef0123"), 0600);
  EXPECT_EQ(Mode(backup_ + "/MANIFEST.json"), 0600);
  EXPECT_FALSE(fs::exists(backup_ + "/credit.db-wal"));
  EXPECT_FALSE(fs::exists(backup_ + "/listing/photos/ab/abcdef9999.tmp-1a2b"));

  CtlResult check =
      Ctl({"admin", "restore-check", backup_, "--ledger-public-key", public_key_hex_});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_THAT(check.out, HasSubstr("ok      integrity_check  credit.db: ok"));
  EXPECT_THAT(check.out, HasSubstr(absl::StrCat("ok      ledger           credit.db: ", size,
                                                " records rehashed to root ", HexEncode(*root))));
  EXPECT_THAT(check.out, HasSubstr("restore check passed: 5 files, 2 databases"));
  EXPECT_THAT(check.out, Not(HasSubstr("FAILED")));
}

TEST_F(AdminCommandsTest, NonEmptyDirIsRefusedUnlessForce) {
  fs::create_directories(backup_);
  std::ofstream(backup_ + "/old") << "x";
  CtlResult refused = Ctl({"admin", "backup", "--data-dir", data_, backup_});
  EXPECT_EQ(refused.exit_code, kExitLocal);
  EXPECT_THAT(refused.err, HasSubstr(absl::StrCat("DIR ", backup_, " is not empty")));
  EXPECT_FALSE(fs::exists(backup_ + "/MANIFEST.json"));
  CtlResult forced = Ctl({"admin", "backup", "--force", "--data-dir", data_, backup_});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(Ctl({"admin", "restore-check", backup_}).exit_code, 0);
}

TEST_F(AdminCommandsTest, OneChangedByteFailsRestoreCheckNamingTheFile) {
  ASSERT_EQ(Ctl({"admin", "backup", "--data-dir", data_, backup_}).exit_code, 0);
  {
    std::fstream f(backup_ + "/identity.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x01;
    f.seekp(100);
    f.write(&c, 1);
  }
  CtlResult check = Ctl({"admin", "restore-check", backup_});
  EXPECT_EQ(check.exit_code, kExitVerificationFailed);
  EXPECT_THAT(check.out, HasSubstr("FAILED  sha256           identity.db: SHA-256 "));
  EXPECT_THAT(check.out, HasSubstr("RESTORE CHECK FAILED: identity.db: sha256"));
  EXPECT_THAT(check.out, HasSubstr("ok      sha256           credit.db"));
}

TEST_F(AdminCommandsTest, RewrittenLedgerWithAMatchingManifestStillFails) {
  ASSERT_EQ(Ctl({"admin", "backup", "--data-dir", data_, backup_}).exit_code, 0);
  {
    // Drop the newest record, then make the manifest agree with the new file.
    auto c = sqlite::Connection::Open(backup_ + "/credit.db");
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_OK(c->Exec("PRAGMA journal_mode=DELETE"));
    auto del = c->Prepare("DELETE FROM records WHERE idx = 8");
    ASSERT_TRUE(del.ok());
    ASSERT_OK(del->Run());
  }
  nlohmann::json manifest = Manifest(backup_);
  std::string bytes = Slurp(backup_ + "/credit.db");
  ASSERT_EQ(manifest["files"][0]["path"], "credit.db");
  manifest["files"][0]["size"] = bytes.size();
  manifest["files"][0]["sha256"] = HexEncode(Sha256(bytes));
  std::ofstream(backup_ + "/MANIFEST.json") << manifest.dump(2);
  CtlResult check = Ctl({"admin", "restore-check", backup_});
  EXPECT_EQ(check.exit_code, kExitVerificationFailed);
  EXPECT_THAT(check.out, HasSubstr("ok      sha256           credit.db"));
  EXPECT_THAT(check.out, HasSubstr("FAILED  ledger           credit.db: ledger: the "
                                   "latest checkpoint covers 9 records, the database holds 8"));
  EXPECT_THAT(check.out, HasSubstr("RESTORE CHECK FAILED: credit.db: ledger"));
}

TEST_F(AdminCommandsTest, AnotherPinnedKeyFails) {
  ASSERT_EQ(Ctl({"admin", "backup", "--data-dir", data_, backup_}).exit_code, 0);
  CtlResult check =
      Ctl({"admin", "restore-check", backup_, "--ledger-public-key", std::string(64, 'a')});
  EXPECT_EQ(check.exit_code, kExitVerificationFailed);
  EXPECT_THAT(check.out, HasSubstr("not the --ledger-public-key aaaa"));
  CtlResult bad = Ctl({"admin", "restore-check", backup_, "--ledger-public-key", "xyz"});
  EXPECT_EQ(bad.exit_code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--ledger-public-key: want 64 hex digits"));
}

TEST_F(AdminCommandsTest, MissingManifestFails) {
  fs::create_directories(backup_);
  CtlResult check = Ctl({"admin", "restore-check", backup_});
  EXPECT_EQ(check.exit_code, kExitVerificationFailed);
  EXPECT_THAT(check.out, HasSubstr("RESTORE CHECK FAILED: " + backup_ + "/MANIFEST.json"));
}

TEST_F(AdminCommandsTest, ManifestPathOutsideTheBackupFails) {
  ASSERT_EQ(Ctl({"admin", "backup", "--data-dir", data_, backup_}).exit_code, 0);
  nlohmann::json manifest = Manifest(backup_);
  manifest["files"][2]["path"] = "../var/identity.db";
  std::ofstream(backup_ + "/MANIFEST.json") << manifest.dump(2);
  CtlResult check = Ctl({"admin", "restore-check", backup_});
  EXPECT_EQ(check.exit_code, kExitVerificationFailed);
  EXPECT_THAT(check.out, HasSubstr("file path \"../var/identity.db\" leaves the backup folder"));
}

TEST_F(AdminCommandsTest, SeveralDataDirsGoToFoldersOfTheirNames) {
  const std::string multi = tmp_.File("multi");
  fs::create_directories(multi + "/identity/identity");
  std::ofstream(multi + "/identity/identity/id-number-hmac.key") << std::string(32, 'i');
  fs::rename(data_, multi + "/credit");
  CtlResult backup = Ctl({"admin", "backup", "--data-dir", multi + "/identity", "--data-dir",
                          multi + "/credit", backup_});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_TRUE(fs::exists(backup_ + "/identity/identity/id-number-hmac.key"));
  EXPECT_TRUE(fs::exists(backup_ + "/credit/credit.db"));
  nlohmann::json manifest = Manifest(backup_);
  EXPECT_EQ(manifest["ledgers"][0]["database"], "credit/credit.db");
  EXPECT_EQ(manifest["ledgers"][0]["key_file"], "credit/credit/ledger-key.pem");
  EXPECT_EQ(manifest["data_dirs"][1]["path"], "credit");
  EXPECT_EQ(Ctl({"admin", "restore-check", backup_}).exit_code, 0);
}

TEST_F(AdminCommandsTest, BadDataDirsAreRefusedNamingTheFlag) {
  CtlResult missing = Ctl({"admin", "backup", "--data-dir", tmp_.File("absent"), backup_});
  EXPECT_EQ(missing.exit_code, kExitLocal);
  EXPECT_THAT(missing.err, HasSubstr("--data-dir " + tmp_.File("absent") + ": not a folder"));
  CtlResult inside = Ctl({"admin", "backup", "--data-dir", data_, data_ + "/backup"});
  EXPECT_EQ(inside.exit_code, kExitUsage);
  EXPECT_THAT(inside.err, HasSubstr("is inside --data-dir"));
  fs::create_directories(tmp_.File("a/var"));
  CtlResult same =
      Ctl({"admin", "backup", "--data-dir", data_, "--data-dir", tmp_.File("a/var"), backup_});
  EXPECT_EQ(same.exit_code, kExitUsage);
  EXPECT_THAT(same.err, HasSubstr("two --data-dir folders are named \"var\""));
}

}  // namespace
}  // namespace market::ctl
