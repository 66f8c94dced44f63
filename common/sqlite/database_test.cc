#include "common/sqlite/database.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::sqlite {
namespace {

using ::market::sqlite::testing::IsOkAndHolds;
using ::market::sqlite::testing::ScopedTempDir;
using ::market::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::vector<Migration>& ItemMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1, "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, data BLOB);"},
      {2, "CREATE INDEX items_by_data ON items(data);"},
  };
  return *kMigrations;
}

absl::Status InsertItem(Connection& connection, absl::string_view name,
                        absl::string_view data = "") {
  MARKET_ASSIGN_OR_RETURN(Statement insert,
                          connection.Prepare("INSERT INTO items(name, data) VALUES (?, ?)"));
  MARKET_RETURN_IF_ERROR(insert.BindText(1, name));
  MARKET_RETURN_IF_ERROR(insert.BindBlob(2, data));
  return insert.Run();
}

absl::StatusOr<std::vector<std::string>> NamesIn(Connection& connection) {
  MARKET_ASSIGN_OR_RETURN(Statement select,
                          connection.Prepare("SELECT name FROM items ORDER BY name"));
  std::vector<std::string> names;
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return names;
    names.push_back(select.ColumnText(0));
  }
}

absl::StatusOr<int64_t> QueryInt(Connection& connection, absl::string_view sql) {
  MARKET_ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(sql));
  MARKET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError("no row");
  return stmt.ColumnInt64(0);
}

absl::StatusOr<std::string> QueryText(Connection& connection, absl::string_view sql) {
  MARKET_ASSIGN_OR_RETURN(Statement stmt, connection.Prepare(sql));
  MARKET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError("no row");
  return stmt.ColumnText(0);
}

// Runs `sql` (one integer result) in a Read.
absl::StatusOr<int64_t> ReadInt(Database& db, absl::string_view sql) {
  int64_t value = 0;
  MARKET_RETURN_IF_ERROR(db.Read([&](Connection& connection) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(value, QueryInt(connection, sql));
    return absl::OkStatus();
  }));
  return value;
}

absl::StatusOr<std::vector<std::string>> ReadNames(Database& db) {
  std::vector<std::string> names;
  MARKET_RETURN_IF_ERROR(db.Read([&](Connection& connection) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(names, NamesIn(connection));
    return absl::OkStatus();
  }));
  return names;
}

class DatabaseTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.File("market.db"); }

  absl::StatusOr<std::unique_ptr<Database>> OpenDb(
      const std::vector<Migration>& migrations = ItemMigrations()) {
    return Database::Open(Path(), Options(), migrations);
  }

  ScopedTempDir dir_;
};

TEST_F(DatabaseTest, MigrationsApplyOnceAndSetUserVersion) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  EXPECT_THAT(ReadInt(*db, "PRAGMA user_version"), IsOkAndHolds(2));
  EXPECT_THAT(ReadInt(*db, "SELECT count(*) FROM sqlite_schema WHERE name = 'items_by_data'"),
              IsOkAndHolds(1));
  EXPECT_EQ(db->GetWriteStats().transactions, 0u);  // Migrations are not Write()s.
}

TEST_F(DatabaseTest, ReopenAppliesOnlyNewMigrations) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb({ItemMigrations()[0]}));
    absl::Status write = db->Write([](Connection& c) { return InsertItem(c, "kept"); });
    ASSERT_OK(write);
  }
  // Re-running migration 1 would fail: its CREATE TABLE has no IF NOT EXISTS.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  EXPECT_THAT(ReadInt(*db, "PRAGMA user_version"), IsOkAndHolds(2));
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("kept")));
  db.reset();
  ASSERT_OK_AND_ASSIGN(db, OpenDb());
  EXPECT_THAT(ReadInt(*db, "PRAGMA user_version"), IsOkAndHolds(2));
}

TEST_F(DatabaseTest, NewerSchemaVersionIsRefused) {
  { ASSERT_OK(OpenDb()); }
  EXPECT_THAT(OpenDb({ItemMigrations()[0]}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("newer")));
}

TEST_F(DatabaseTest, FailingMigrationRollsBackAndKeepsVersion) {
  std::vector<Migration> migrations = ItemMigrations();
  migrations.push_back({3, "CREATE TABLE partial(x INTEGER); INSERT INTO nowhere VALUES (1);"});
  EXPECT_THAT(OpenDb(migrations), StatusIs(absl::StatusCode::kInternal, HasSubstr("migration 3")));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  EXPECT_THAT(ReadInt(*db, "PRAGMA user_version"), IsOkAndHolds(2));
  EXPECT_THAT(ReadInt(*db, "SELECT count(*) FROM sqlite_schema WHERE name = 'partial'"),
              IsOkAndHolds(0));
}

TEST_F(DatabaseTest, MigrationsOutOfOrderAreInvalidArgument) {
  EXPECT_THAT(OpenDb({{2, "SELECT 1"}, {1, "SELECT 1"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenDb({{0, "SELECT 1"}}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(DatabaseTest, PragmasTakeEffectOnWriterAndReaders) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  for (bool writer : {true, false}) {
    SCOPED_TRACE(writer ? "writer" : "reader");
    std::string journal_mode;
    int64_t foreign_keys = -1, busy_timeout = -1, synchronous = -1;
    auto query = [&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(journal_mode, QueryText(c, "PRAGMA journal_mode"));
      MARKET_ASSIGN_OR_RETURN(foreign_keys, QueryInt(c, "PRAGMA foreign_keys"));
      MARKET_ASSIGN_OR_RETURN(busy_timeout, QueryInt(c, "PRAGMA busy_timeout"));
      MARKET_ASSIGN_OR_RETURN(synchronous, QueryInt(c, "PRAGMA synchronous"));
      return absl::OkStatus();
    };
    absl::Status status = writer ? db->Write(query) : db->Read(query);
    ASSERT_OK(status);
    EXPECT_EQ(journal_mode, "wal");
    EXPECT_EQ(foreign_keys, 1);
    EXPECT_EQ(busy_timeout, 5000);
    EXPECT_EQ(synchronous, 2);  // FULL
  }
}

TEST_F(DatabaseTest, WriteCommits) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  absl::Status write = db->Write([](Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(InsertItem(c, "a"));
    return InsertItem(c, "b");
  });
  ASSERT_OK(write);
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("a", "b")));
  // Durable beyond this Database object.
  db.reset();
  ASSERT_OK_AND_ASSIGN(db, OpenDb());
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("a", "b")));
}

TEST_F(DatabaseTest, FailingWriteRollsBackAndReturnsItsErrorUnchanged) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  const absl::Status sold =
      WithReason(absl::StatusCode::kFailedPrecondition, "LISTING_SOLD", "already sold");
  absl::Status write = db->Write([&](Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(InsertItem(c, "doomed"));
    return sold;
  });
  EXPECT_EQ(write, sold);  // Code, message and payloads.
  EXPECT_EQ(ReasonOf(write), "LISTING_SOLD");
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(IsEmpty()));
}

TEST_F(DatabaseTest, FailingWriteInBatchRollsBackOnlyItsOwnChanges) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  absl::Notification leader_running, release_leader;
  absl::Status leader_result, failing_result, succeeding_result;
  // The first writer becomes the committer and blocks, so the next two queue
  // up and are committed together in the following batch.
  std::thread leader([&] {
    leader_result = db->Write([&](Connection& c) {
      leader_running.Notify();
      release_leader.WaitForNotification();
      return InsertItem(c, "leader");
    });
  });
  leader_running.WaitForNotification();
  const WriteStats before = db->GetWriteStats();
  std::thread failing([&] {
    failing_result = db->Write([](Connection& c) -> absl::Status {
      MARKET_RETURN_IF_ERROR(InsertItem(c, "failing"));
      return absl::InvalidArgumentError("rejected");
    });
  });
  std::thread succeeding([&] {
    succeeding_result = db->Write([](Connection& c) { return InsertItem(c, "succeeding"); });
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (db->QueuedWrites() < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(db->QueuedWrites(), 2);
  release_leader.Notify();
  leader.join();
  failing.join();
  succeeding.join();

  EXPECT_OK(leader_result);
  EXPECT_THAT(failing_result, StatusIs(absl::StatusCode::kInvalidArgument, "rejected"));
  EXPECT_OK(succeeding_result);
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("leader", "succeeding")));
  const WriteStats after = db->GetWriteStats();
  EXPECT_EQ(after.transactions - before.transactions, 1u);
  EXPECT_EQ(after.writes - before.writes, 2u);
}

// Runs `fns` as one batch: a blocked leader write holds the committer until
// all of them are queued. Returns their results in order.
std::vector<absl::Status> RunAsOneBatch(Database& db, const std::vector<Database::Fn>& fns) {
  absl::Notification leader_running, release_leader;
  std::thread leader([&] {
    db.Write([&](Connection&) {
        leader_running.Notify();
        release_leader.WaitForNotification();
        return absl::OkStatus();
      }).IgnoreError();
  });
  leader_running.WaitForNotification();
  std::vector<absl::Status> results(fns.size());
  std::vector<std::thread> writers;
  for (size_t i = 0; i < fns.size(); ++i) {
    // Queued one after another, so the batch runs them in this order.
    writers.emplace_back([&, i] { results[i] = db.Write(fns[i]); });
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (db.QueuedWrites() < static_cast<int>(i + 1) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  release_leader.Notify();
  leader.join();
  for (std::thread& writer : writers) writer.join();
  return results;
}

TEST_F(DatabaseTest, BeforeCommitWorkRunsAfterEveryFunctionOfTheBatchInOrder) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  absl::StatusOr<int64_t> seen_by_second = -1;
  std::vector<absl::Status> results = RunAsOneBatch(
      *db, {[](Connection& c) {
              return c.BeforeCommit([](Connection& c2) { return InsertItem(c2, "a-deferred"); });
            },
            [&](Connection& c) -> absl::Status {
              MARKET_RETURN_IF_ERROR(InsertItem(c, "b"));
              seen_by_second = QueryInt(c, "SELECT count(*) FROM items WHERE name LIKE '%deferred'");
              return c.BeforeCommit([](Connection& c2) -> absl::Status {
                // The first function's deferred row is already there.
                MARKET_ASSIGN_OR_RETURN(int64_t a, QueryInt(c2, "SELECT id FROM items WHERE "
                                                                "name = 'a-deferred'"));
                return InsertItem(c2, "b-deferred", absl::StrCat(a));
              });
            }});
  EXPECT_OK(results[0]);
  EXPECT_OK(results[1]);
  EXPECT_THAT(seen_by_second, IsOkAndHolds(0));
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("a-deferred", "b", "b-deferred")));
}

TEST_F(DatabaseTest, BeforeCommitWorkOfAFailingWriteIsDropped) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  std::vector<absl::Status> results = RunAsOneBatch(
      *db, {[](Connection& c) -> absl::Status {
              MARKET_RETURN_IF_ERROR(
                  c.BeforeCommit([](Connection& c2) { return InsertItem(c2, "dropped"); }));
              return absl::InvalidArgumentError("rejected");
            },
            [](Connection& c) {
              return c.BeforeCommit([](Connection& c2) { return InsertItem(c2, "kept"); });
            }});
  EXPECT_THAT(results[0], StatusIs(absl::StatusCode::kInvalidArgument, "rejected"));
  EXPECT_OK(results[1]);
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("kept")));
}

TEST_F(DatabaseTest, FailingBeforeCommitWorkRollsBackTheWholeTransaction) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  std::vector<absl::Status> results = RunAsOneBatch(
      *db, {[](Connection& c) { return InsertItem(c, "first"); },
            [](Connection& c) -> absl::Status {
              MARKET_RETURN_IF_ERROR(InsertItem(c, "second"));
              return c.BeforeCommit(
                  [](Connection&) { return absl::DataLossError("deferred work failed"); });
            }});
  EXPECT_THAT(results[0], StatusIs(absl::StatusCode::kAborted, HasSubstr("deferred work failed")));
  EXPECT_THAT(results[1], StatusIs(absl::StatusCode::kDataLoss, "deferred work failed"));
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(IsEmpty()));
  // The writer is usable afterwards.
  EXPECT_OK(db->Write([](Connection& c) { return InsertItem(c, "after"); }));
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("after")));
}

TEST_F(DatabaseTest, BeforeCommitOutsideAWriteRunsAtOnce) {
  ASSERT_OK_AND_ASSIGN(Connection c, Connection::Open(":memory:"));
  ASSERT_OK(c.Exec("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, data BLOB)"));
  ASSERT_OK(c.BeforeCommit([](Connection& c2) { return InsertItem(c2, "now"); }));
  EXPECT_THAT(NamesIn(c), IsOkAndHolds(ElementsAre("now")));
  EXPECT_THAT(c.BeforeCommit([](Connection&) { return absl::InternalError("x"); }),
              StatusIs(absl::StatusCode::kInternal, "x"));
}

TEST_F(DatabaseTest, UniqueViolationReturnsAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  absl::Status first = db->Write([](Connection& c) { return InsertItem(c, "same"); });
  ASSERT_OK(first);
  absl::Status second = db->Write([](Connection& c) { return InsertItem(c, "same"); });
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("same")));
}

TEST_F(DatabaseTest, ConcurrentWritesAllLandInFewerTransactions) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 50;
  std::vector<absl::Status> results(kThreads * kWritesPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        results[t * kWritesPerThread + i] =
            db->Write([&](Connection& c) { return InsertItem(c, absl::StrCat("t", t, "-", i)); });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& result : results) EXPECT_OK(result);
  EXPECT_THAT(ReadInt(*db, "SELECT count(*) FROM items"),
              IsOkAndHolds(kThreads * kWritesPerThread));
  const WriteStats stats = db->GetWriteStats();
  EXPECT_EQ(stats.writes, static_cast<uint64_t>(kThreads * kWritesPerThread));
  EXPECT_LT(stats.transactions, stats.writes);
}

TEST_F(DatabaseTest, ReadSeesCommittedData) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(IsEmpty()));
  absl::Status write = db->Write([](Connection& c) { return InsertItem(c, "visible"); });
  ASSERT_OK(write);
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("visible")));
}

TEST_F(DatabaseTest, ReadSeesOneSnapshot) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  int64_t before = -1, after = -1;
  absl::Status concurrent_write;
  absl::Status read = db->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(before, QueryInt(c, "SELECT count(*) FROM items"));
    std::thread writer([&] {
      concurrent_write = db->Write([](Connection& w) { return InsertItem(w, "later"); });
    });
    writer.join();
    MARKET_ASSIGN_OR_RETURN(after, QueryInt(c, "SELECT count(*) FROM items"));
    return absl::OkStatus();
  });
  ASSERT_OK(read);
  ASSERT_OK(concurrent_write);
  EXPECT_EQ(before, 0);
  EXPECT_EQ(after, 0);
  EXPECT_THAT(ReadInt(*db, "SELECT count(*) FROM items"), IsOkAndHolds(1));
}

TEST_F(DatabaseTest, ReadCannotWrite) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  absl::Status read = db->Read([](Connection& c) { return InsertItem(c, "sneaky"); });
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kInternal, HasSubstr("readonly")));
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(IsEmpty()));
}

TEST_F(DatabaseTest, WriteInsideWriteIsFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  absl::Status nested;
  absl::Status outer = db->Write([&](Connection& c) -> absl::Status {
    nested = db->Write([](Connection& inner) { return InsertItem(inner, "inner"); });
    return InsertItem(c, "outer");
  });
  ASSERT_OK(outer);
  EXPECT_THAT(nested, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("outer")));
}

TEST_F(DatabaseTest, BackupProducesMatchingCopy) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, OpenDb());
  absl::Status write = db->Write([](Connection& c) -> absl::Status {
    for (int i = 0; i < 200; ++i) {
      MARKET_RETURN_IF_ERROR(
          InsertItem(c, absl::StrCat("物品-", i), std::string(static_cast<size_t>(i), '\0')));
    }
    return absl::OkStatus();
  });
  ASSERT_OK(write);
  const std::string backup_path = dir_.File("backup.db");
  ASSERT_OK(db->Backup(backup_path));
  // Later writes do not reach the copy.
  write = db->Write([](Connection& c) { return InsertItem(c, "after-backup"); });
  ASSERT_OK(write);

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> original, ReadNames(*db));
  ASSERT_OK_AND_ASSIGN(Connection copy, Connection::Open(backup_path));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> copied, NamesIn(copy));
  original.erase(std::find(original.begin(), original.end(), "after-backup"));
  EXPECT_EQ(copied, original);
  EXPECT_THAT(QueryInt(copy, "PRAGMA user_version"), IsOkAndHolds(2));
  EXPECT_THAT(QueryInt(copy, "SELECT sum(length(data)) FROM items"), IsOkAndHolds(199 * 200 / 2));
  EXPECT_THAT(QueryText(copy, "PRAGMA integrity_check"), IsOkAndHolds("ok"));
}

TEST_F(DatabaseTest, InMemoryDatabaseSupportsWriteReadAndBackup) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db,
                       Database::Open(":memory:", Options(), ItemMigrations()));
  EXPECT_TRUE(db->in_memory());
  absl::Status write = db->Write([](Connection& c) { return InsertItem(c, "内存"); });
  ASSERT_OK(write);
  EXPECT_THAT(ReadNames(*db), IsOkAndHolds(ElementsAre("内存")));
  absl::Status read = db->Read([](Connection& c) { return InsertItem(c, "sneaky"); });
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kInternal));
  write = db->Write([](Connection& c) { return InsertItem(c, "after"); });
  EXPECT_OK(write);  // The writer is writable again after a Read.

  const std::string backup_path = dir_.File("memory-backup.db");
  ASSERT_OK(db->Backup(backup_path));
  ASSERT_OK_AND_ASSIGN(Connection copy, Connection::Open(backup_path));
  EXPECT_THAT(NamesIn(copy), IsOkAndHolds(ElementsAre("after", "内存")));
}

TEST_F(DatabaseTest, InMemoryConcurrentWritesAndReadsInterleave) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db,
                       Database::Open(":memory:", Options(), ItemMigrations()));
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20 && results[t].ok(); ++i) {
        results[t] =
            t % 2 == 0
                ? db->Write([&](Connection& c) { return InsertItem(c, absl::StrCat(t, "-", i)); })
                : ReadNames(*db).status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& result : results) EXPECT_OK(result);
  EXPECT_THAT(ReadInt(*db, "SELECT count(*) FROM items"), IsOkAndHolds(4 * 20));
}

}  // namespace
}  // namespace market::sqlite
