#include "common/sqlite/backup.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sqlite/database.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::sqlite {
namespace {

using ::market::sqlite::testing::ScopedTempDir;
using ::market::testing::StatusIs;
using ::testing::HasSubstr;

// Every write inserts one row and bumps the counter in the same transaction,
// so a consistent copy has count(rows) == counter.
const std::vector<Migration>& CounterMigrations() {
  static const auto* m = new std::vector<Migration>{
      {1,
       "CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);"
       "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);"}};
  return *m;
}

absl::Status AddRow(Connection& c) {
  MARKET_ASSIGN_OR_RETURN(Statement ins, c.Prepare("INSERT INTO rows(payload) VALUES(?)"));
  MARKET_RETURN_IF_ERROR(ins.BindBlob(1, std::string(700, 'x')));
  MARKET_RETURN_IF_ERROR(ins.Run());
  MARKET_ASSIGN_OR_RETURN(Statement bump, c.Prepare("UPDATE counter SET n = n + 1"));
  return bump.Run();
}

int64_t QueryInt(Connection& c, const std::string& sql) {
  auto st = c.Prepare(sql);
  EXPECT_TRUE(st.ok()) << st.status();
  if (!st.ok()) return -1;
  auto row = st->Step();
  EXPECT_TRUE(row.ok() && *row);
  return st->ColumnInt64(0);
}

int Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(dir_.File("source.db"), Options(), CounterMigrations());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }
  ScopedTempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(BackupTest, CopyWhileWritingHoldsOneConsistentSnapshot) {
  for (int i = 0; i < 50; ++i) ASSERT_OK(db_->Write(AddRow));
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    while (!stop.load()) {
      ASSERT_OK(db_->Write(AddRow));
      written.fetch_add(1);
    }
  });
  while (written.load() < 20) std::this_thread::yield();
  const std::string copy = dir_.File("copy.db");
  absl::Status backed_up = BackupDatabaseFile(dir_.File("source.db"), copy);
  int during = written.load();
  stop.store(true);
  writer.join();
  ASSERT_OK(backed_up);
  EXPECT_GE(during, 20);

  EXPECT_OK(CheckIntegrity(copy));
  Options read_only;
  read_only.read_only = true;
  read_only.wal = false;
  auto c = Connection::Open(ImmutableUri(copy), read_only);
  ASSERT_TRUE(c.ok()) << c.status();
  int64_t rows = QueryInt(*c, "SELECT count(*) FROM rows");
  EXPECT_EQ(rows, QueryInt(*c, "SELECT n FROM counter"));
  EXPECT_GE(rows, 50 + 20);
  EXPECT_EQ(QueryInt(*c, "PRAGMA user_version"), 1);
  // A self-contained file: rollback journal, no side files, owner-only.
  EXPECT_EQ(QueryInt(*c, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 0);
  EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(copy + ".partial"));
  EXPECT_EQ(Mode(copy), 0600);
}

TEST_F(BackupTest, BackupReplacesAnOlderCopy) {
  const std::string copy = dir_.File("copy.db");
  ASSERT_OK(db_->Write(AddRow));
  ASSERT_OK(BackupDatabaseFile(dir_.File("source.db"), copy));
  ASSERT_OK(db_->Write(AddRow));
  ASSERT_OK(BackupDatabaseFile(dir_.File("source.db"), copy));
  Options read_only;
  read_only.read_only = true;
  read_only.wal = false;
  auto c = Connection::Open(ImmutableUri(copy), read_only);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(QueryInt(*c, "SELECT n FROM counter"), 2);
}

TEST_F(BackupTest, BackupOfAClosedDatabaseLeavesNoSideFiles) {
  ASSERT_OK(db_->Write(AddRow));
  db_.reset();
  const std::string source = dir_.File("source.db");
  ASSERT_FALSE(std::filesystem::exists(source + "-wal"));
  ASSERT_OK(BackupDatabaseFile(source, dir_.File("copy.db")));
  EXPECT_FALSE(std::filesystem::exists(source + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(source + "-shm"));
  EXPECT_OK(CheckIntegrity(dir_.File("copy.db")));
}

TEST_F(BackupTest, MissingSourceIsNotFoundNamingIt) {
  EXPECT_THAT(BackupDatabaseFile(dir_.File("absent.db"), dir_.File("copy.db")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("copy.db")));
}

TEST_F(BackupTest, IsDatabaseFileLooksAtTheHeader) {
  EXPECT_TRUE(IsDatabaseFile(dir_.File("source.db")));
  std::ofstream(dir_.File("key.pem")) << "-----BEGIN PRIVATE KEY-----\n";
  EXPECT_FALSE(IsDatabaseFile(dir_.File("key.pem")));
  EXPECT_FALSE(IsDatabaseFile(dir_.File("absent.db")));
  EXPECT_FALSE(IsDatabaseFile(dir_.path()));
}

TEST_F(BackupTest, CheckIntegrityReportsADamagedPage) {
  for (int i = 0; i < 30; ++i) ASSERT_OK(db_->Write(AddRow));
  const std::string copy = dir_.File("copy.db");
  ASSERT_OK(BackupDatabaseFile(dir_.File("source.db"), copy));
  ASSERT_OK(CheckIntegrity(copy));
  {
    // Page 2 is the first b-tree page after the schema: wreck its header.
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    const char garbage[8] = {'\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f', '\x7f'};
    f.write(garbage, sizeof(garbage));
  }
  EXPECT_THAT(CheckIntegrity(copy), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("copy.db")));
}

TEST_F(BackupTest, CheckIntegrityOfANonDatabaseIsDataLoss) {
  std::ofstream(dir_.File("text.db")) << std::string(8192, 'a');
  EXPECT_THAT(CheckIntegrity(dir_.File("text.db")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("text.db")));
  EXPECT_THAT(CheckIntegrity(dir_.File("absent.db")), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ImmutableUriTest, EscapesCharactersThatEndAPath) {
  EXPECT_EQ(ImmutableUri("/var/backup 1/a?b#c%.db"),
            "file:/var/backup%201/a%3fb%23c%25.db?mode=ro&immutable=1");
}

}  // namespace
}  // namespace market::sqlite
