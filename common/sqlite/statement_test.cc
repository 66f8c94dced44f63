#include "common/sqlite/statement.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "common/sqlite/connection.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::sqlite {
namespace {

using ::market::testing::StatusIs;
using ::testing::HasSubstr;

class StatementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(Connection connection, Connection::Open(":memory:"));
    connection_.emplace(std::move(connection));
    ASSERT_OK(connection_->Exec(R"sql(
      CREATE TABLE parent(id INTEGER PRIMARY KEY);
      CREATE TABLE t(
        id INTEGER PRIMARY KEY,
        i INTEGER, d REAL, s TEXT, b BLOB, n TEXT,
        u TEXT UNIQUE,
        positive INTEGER CHECK (positive > 0),
        parent_id INTEGER REFERENCES parent(id));
    )sql"));
  }

  Connection& db() { return *connection_; }

  std::optional<Connection> connection_;
};

TEST_F(StatementTest, BoundValuesRoundTripIncludingNulBytesAndChineseText) {
  const std::string blob("a\0b\0\xff\x00z", 7);
  const std::string text = "二手市场：九成新自行车 ¥350";
  const int64_t big = std::numeric_limits<int64_t>::min();
  {
    ASSERT_OK_AND_ASSIGN(Statement insert,
                         db().Prepare("INSERT INTO t(i, d, s, b, n) VALUES (?, ?, ?, ?, ?)"));
    ASSERT_OK(insert.Bind(1, big));
    ASSERT_OK(insert.Bind(2, 2.5));
    ASSERT_OK(insert.BindText(3, text));
    ASSERT_OK(insert.BindBlob(4, blob));
    ASSERT_OK(insert.BindNull(5));
    ASSERT_OK(insert.Run());
  }
  ASSERT_OK_AND_ASSIGN(Statement select,
                       db().Prepare("SELECT i, d, s, b, n, typeof(s), typeof(b) FROM t"));
  ASSERT_OK_AND_ASSIGN(bool row, select.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(select.ColumnCount(), 7);
  EXPECT_EQ(select.ColumnInt64(0), big);
  EXPECT_EQ(select.ColumnDouble(1), 2.5);
  EXPECT_EQ(select.ColumnText(2), text);
  EXPECT_EQ(select.ColumnBlob(3), blob);
  EXPECT_EQ(select.ColumnBlob(3).size(), 7u);
  EXPECT_TRUE(select.ColumnIsNull(4));
  EXPECT_FALSE(select.ColumnIsNull(3));
  EXPECT_EQ(select.ColumnText(5), "text");
  EXPECT_EQ(select.ColumnText(6), "blob");
  ASSERT_OK_AND_ASSIGN(row, select.Step());
  EXPECT_FALSE(row);
}

TEST_F(StatementTest, EmptyTextAndBlobAreNotNull) {
  ASSERT_OK_AND_ASSIGN(Statement stmt, db().Prepare("SELECT ? IS NULL, typeof(?), ? IS NULL"));
  ASSERT_OK(stmt.BindText(1, ""));
  ASSERT_OK(stmt.BindBlob(2, ""));
  ASSERT_OK(stmt.BindBlob(3, absl::string_view()));
  ASSERT_OK_AND_ASSIGN(bool row, stmt.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(stmt.ColumnInt64(0), 0);
  EXPECT_EQ(stmt.ColumnText(1), "blob");
  EXPECT_EQ(stmt.ColumnInt64(2), 0);
}

TEST_F(StatementTest, BindsByName) {
  ASSERT_OK_AND_ASSIGN(Statement stmt, db().Prepare("SELECT :count * 2, :label, @raw, $none"));
  ASSERT_OK(stmt.Bind(":count", 21));
  ASSERT_OK(stmt.BindText("label", "标签"));  // The ':' may be omitted.
  ASSERT_OK(stmt.BindBlob("@raw", std::string("\0\1", 2)));
  ASSERT_OK(stmt.BindNull("$none"));
  ASSERT_OK_AND_ASSIGN(bool row, stmt.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(stmt.ColumnInt64(0), 42);
  EXPECT_EQ(stmt.ColumnText(1), "标签");
  EXPECT_EQ(stmt.ColumnBlob(2), std::string("\0\1", 2));
  EXPECT_TRUE(stmt.ColumnIsNull(3));
}

TEST_F(StatementTest, UnknownParameterNameIsInternal) {
  ASSERT_OK_AND_ASSIGN(Statement stmt, db().Prepare("SELECT :a"));
  EXPECT_THAT(stmt.Bind(":b", 1), StatusIs(absl::StatusCode::kInternal, HasSubstr(":b")));
}

TEST_F(StatementTest, ParameterIndexOutOfRangeIsInternal) {
  ASSERT_OK_AND_ASSIGN(Statement stmt, db().Prepare("SELECT ?"));
  EXPECT_THAT(stmt.Bind(2, 1), StatusIs(absl::StatusCode::kInternal));
}

TEST_F(StatementTest, UniqueViolationReturnsAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(Statement insert, db().Prepare("INSERT INTO t(u) VALUES (?)"));
  ASSERT_OK(insert.BindText(1, "same"));
  ASSERT_OK(insert.Run());
  insert.Reset();
  EXPECT_THAT(insert.Run(),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("UNIQUE constraint failed")));
}

TEST_F(StatementTest, PrimaryKeyViolationReturnsAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(Statement insert, db().Prepare("INSERT INTO t(id) VALUES (7)"));
  ASSERT_OK(insert.Run());
  insert.Reset();
  EXPECT_THAT(insert.Run(), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(StatementTest, CheckViolationReturnsFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(Statement insert, db().Prepare("INSERT INTO t(positive) VALUES (?)"));
  ASSERT_OK(insert.Bind(1, -1));
  EXPECT_THAT(insert.Run(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CHECK constraint")));
}

TEST_F(StatementTest, ForeignKeyViolationReturnsFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(Statement insert, db().Prepare("INSERT INTO t(parent_id) VALUES (?)"));
  ASSERT_OK(insert.Bind(1, 99));
  EXPECT_THAT(insert.Run(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("FOREIGN KEY")));
}

TEST_F(StatementTest, ResetAllowsRebindingAndRerunning) {
  ASSERT_OK_AND_ASSIGN(Statement stmt, db().Prepare("SELECT ? + 1"));
  for (int64_t value : {1, 10, 100}) {
    stmt.Reset();
    ASSERT_OK(stmt.Bind(1, value));
    ASSERT_OK_AND_ASSIGN(bool row, stmt.Step());
    ASSERT_TRUE(row);
    EXPECT_EQ(stmt.ColumnInt64(0), value + 1);
  }
}

TEST_F(StatementTest, PrepareRejectsBadSqlAndSeveralStatements) {
  EXPECT_THAT(db().Prepare("SELEC 1"), StatusIs(absl::StatusCode::kInternal, HasSubstr("syntax")));
  EXPECT_THAT(db().Prepare("SELECT * FROM missing"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("no such table")));
  EXPECT_THAT(db().Prepare("SELECT 1; SELECT 2"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("more than one statement")));
  EXPECT_THAT(db().Prepare("  "), StatusIs(absl::StatusCode::kInternal));
  EXPECT_OK(db().Prepare("SELECT 1;  \n"));
}

TEST_F(StatementTest, CachedStatementComesBackWithClearedBindings) {
  {
    ASSERT_OK_AND_ASSIGN(Statement stmt, db().Prepare("SELECT ?"));
    ASSERT_OK(stmt.Bind(1, 5));
    ASSERT_OK_AND_ASSIGN(bool row, stmt.Step());
    ASSERT_TRUE(row);
  }
  ASSERT_OK_AND_ASSIGN(Statement again, db().Prepare("SELECT ?"));
  ASSERT_OK_AND_ASSIGN(bool row, again.Step());
  ASSERT_TRUE(row);
  EXPECT_TRUE(again.ColumnIsNull(0));
}

TEST_F(StatementTest, SameSqlPreparedTwiceGivesIndependentStatements) {
  ASSERT_OK_AND_ASSIGN(Statement first, db().Prepare("SELECT ?"));
  ASSERT_OK_AND_ASSIGN(Statement second, db().Prepare("SELECT ?"));
  ASSERT_OK(first.Bind(1, 1));
  ASSERT_OK(second.Bind(1, 2));
  ASSERT_OK_AND_ASSIGN(bool row, first.Step());
  ASSERT_TRUE(row);
  ASSERT_OK_AND_ASSIGN(row, second.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(first.ColumnInt64(0), 1);
  EXPECT_EQ(second.ColumnInt64(0), 2);
}

TEST_F(StatementTest, MovedStatementKeepsWorking) {
  ASSERT_OK_AND_ASSIGN(Statement stmt, db().Prepare("SELECT 'moved'"));
  Statement moved = std::move(stmt);
  ASSERT_OK_AND_ASSIGN(bool row, moved.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(moved.ColumnText(0), "moved");
  EXPECT_EQ(moved.sql(), "SELECT 'moved'");
}

TEST_F(StatementTest, StatementMayOutliveItsConnection) {
  ASSERT_OK_AND_ASSIGN(Statement stmt, db().Prepare("SELECT 40 + 2"));
  connection_.reset();
  ASSERT_OK_AND_ASSIGN(bool row, stmt.Step());
  ASSERT_TRUE(row);
  EXPECT_EQ(stmt.ColumnInt64(0), 42);
}

}  // namespace
}  // namespace market::sqlite
