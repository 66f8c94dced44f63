#include "common/sqlite/connection.h"

#include <cstdint>
#include <string>

#include "common/sqlite/sqlite_testing.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::sqlite {
namespace {

using ::market::sqlite::testing::ScopedTempDir;
using ::market::testing::StatusIs;

// The first column of the first row of `sql`, or the error as text.
std::string PragmaText(Connection& connection, const std::string& sql) {
  absl::StatusOr<Statement> stmt = connection.Prepare(sql);
  if (!stmt.ok()) return stmt.status().ToString();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status().ToString();
  if (!*row) return "<no row>";
  return stmt->ColumnText(0);
}

class ConnectionTest : public ::testing::Test {
 protected:
  ScopedTempDir dir_;
};

TEST_F(ConnectionTest, DefaultOptionsSetWalForeignKeysBusyTimeoutAndFullSync) {
  ASSERT_OK_AND_ASSIGN(Connection connection, Connection::Open(dir_.File("a.db")));
  EXPECT_EQ(PragmaText(connection, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(PragmaText(connection, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(PragmaText(connection, "PRAGMA busy_timeout"), "5000");
  EXPECT_EQ(PragmaText(connection, "PRAGMA synchronous"), "2");  // FULL
}

TEST_F(ConnectionTest, OptionsOverridePragmas) {
  Options options;
  options.busy_timeout_ms = 1234;
  options.foreign_keys = false;
  options.synchronous = Options::Synchronous::kNormal;
  options.wal = false;
  ASSERT_OK_AND_ASSIGN(Connection connection, Connection::Open(dir_.File("b.db"), options));
  EXPECT_EQ(PragmaText(connection, "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(PragmaText(connection, "PRAGMA foreign_keys"), "0");
  EXPECT_EQ(PragmaText(connection, "PRAGMA busy_timeout"), "1234");
  EXPECT_EQ(PragmaText(connection, "PRAGMA synchronous"), "1");  // NORMAL
}

TEST_F(ConnectionTest, InMemoryConnectionWorksWithWalRequested) {
  ASSERT_OK_AND_ASSIGN(Connection connection, Connection::Open(":memory:"));
  EXPECT_EQ(PragmaText(connection, "PRAGMA journal_mode"), "memory");
}

TEST_F(ConnectionTest, ReadOnlyConnectionRejectsWrites) {
  const std::string path = dir_.File("ro.db");
  ASSERT_OK_AND_ASSIGN(Connection writer, Connection::Open(path));
  ASSERT_OK(writer.Exec("CREATE TABLE t(x INTEGER)"));
  Options options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(Connection reader, Connection::Open(path, options));
  ASSERT_OK_AND_ASSIGN(Statement insert, reader.Prepare("INSERT INTO t VALUES (1)"));
  EXPECT_THAT(insert.Run(), StatusIs(absl::StatusCode::kInternal));
}

TEST_F(ConnectionTest, ReadOnlyOpenOfMissingFileFails) {
  Options options;
  options.read_only = true;
  EXPECT_THAT(Connection::Open(dir_.File("missing.db"), options),
              StatusIs(absl::StatusCode::kInternal));
}

TEST_F(ConnectionTest, LastInsertRowIdAndChangesReportTheLastStatement) {
  ASSERT_OK_AND_ASSIGN(Connection connection, Connection::Open(":memory:"));
  ASSERT_OK(connection.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, x INTEGER)"));
  ASSERT_OK_AND_ASSIGN(Statement insert, connection.Prepare("INSERT INTO t(x) VALUES (?)"));
  for (int64_t x : {1, 2, 3}) {
    insert.Reset();
    ASSERT_OK(insert.Bind(1, x));
    ASSERT_OK(insert.Run());
  }
  EXPECT_EQ(connection.LastInsertRowId(), 3);
  ASSERT_OK_AND_ASSIGN(Statement update, connection.Prepare("UPDATE t SET x = x + 1 WHERE x >= ?"));
  ASSERT_OK(update.Bind(1, 2));
  ASSERT_OK(update.Run());
  EXPECT_EQ(connection.Changes(), 2);
}

TEST_F(ConnectionTest, InTransactionTracksBeginAndCommit) {
  ASSERT_OK_AND_ASSIGN(Connection connection, Connection::Open(":memory:"));
  EXPECT_FALSE(connection.InTransaction());
  ASSERT_OK(connection.Exec("BEGIN"));
  EXPECT_TRUE(connection.InTransaction());
  ASSERT_OK(connection.Exec("COMMIT"));
  EXPECT_FALSE(connection.InTransaction());
}

TEST_F(ConnectionTest, LockedDatabaseReturnsUnavailable) {
  const std::string path = dir_.File("busy.db");
  ASSERT_OK_AND_ASSIGN(Connection first, Connection::Open(path));
  Options impatient;
  impatient.busy_timeout_ms = 0;
  ASSERT_OK_AND_ASSIGN(Connection second, Connection::Open(path, impatient));
  ASSERT_OK(first.Exec("BEGIN IMMEDIATE"));
  EXPECT_THAT(second.Exec("BEGIN IMMEDIATE"), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(first.Exec("COMMIT"));
}

}  // namespace
}  // namespace market::sqlite
