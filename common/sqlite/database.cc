#include "common/sqlite/database.h"

#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sqlite/internal.h"
#include "common/status/status.h"

namespace market::sqlite {
namespace {

// The Database whose writer connection this thread holds (while running a
// Write() batch, or an in-memory Read()/Backup()); guards against re-entry,
// which would deadlock.
thread_local const Database* t_writer_holder = nullptr;

class WriterHold {
 public:
  explicit WriterHold(const Database* db) : previous_(t_writer_holder) { t_writer_holder = db; }
  ~WriterHold() { t_writer_holder = previous_; }
  WriterHold(const WriterHold&) = delete;
  WriterHold& operator=(const WriterHold&) = delete;

 private:
  const Database* previous_;
};

bool IsInMemory(const std::string& path) {
  if (path.empty() || path == ":memory:") return true;
  return absl::StartsWith(path, "file:") &&
         (absl::StrContains(path, "mode=memory") || absl::StrContains(path, ":memory:"));
}

absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

absl::StatusOr<int64_t> UserVersion(Connection& connection) {
  MARKET_ASSIGN_OR_RETURN(Statement stmt, connection.Prepare("PRAGMA user_version"));
  MARKET_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError("sqlite: PRAGMA user_version returned no row");
  return stmt.ColumnInt64(0);
}

absl::Status ValidateMigrations(const std::vector<Migration>& migrations) {
  int previous = 0;
  for (const Migration& migration : migrations) {
    if (migration.version <= previous) {
      return absl::InvalidArgumentError(absl::StrCat("sqlite: migration version ",
                                                     migration.version, " after ", previous,
                                                     ", want strictly increasing versions >= 1"));
    }
    previous = migration.version;
  }
  return absl::OkStatus();
}

// Applies one migration unless another process already did.
absl::Status ApplyMigration(Connection& connection, const Migration& migration) {
  MARKET_RETURN_IF_ERROR(connection.Exec("BEGIN IMMEDIATE"));
  absl::Status status = [&]() -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(int64_t current, UserVersion(connection));
    if (current < migration.version) {
      MARKET_RETURN_IF_ERROR(connection.Exec(migration.sql));
      // The version is a constant of the program, not data.
      MARKET_RETURN_IF_ERROR(
          connection.Exec(absl::StrCat("PRAGMA user_version=", migration.version)));
    }
    return connection.Exec("COMMIT");
  }();
  if (!status.ok() && connection.InTransaction()) connection.Exec("ROLLBACK").IgnoreError();
  return status;
}

absl::Status Migrate(Connection& connection, const std::vector<Migration>& migrations,
                     bool read_only) {
  const int64_t latest = migrations.empty() ? 0 : migrations.back().version;
  MARKET_ASSIGN_OR_RETURN(int64_t current, UserVersion(connection));
  if (current > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("sqlite: database schema version ", current,
                     " is newer than this program's latest migration ", latest));
  }
  if (read_only) {
    if (current < latest) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sqlite: read-only database has schema version ", current, ", want ", latest));
    }
    return absl::OkStatus();
  }
  for (const Migration& migration : migrations) {
    if (migration.version <= current) continue;
    absl::Status status = ApplyMigration(connection, migration);
    if (!status.ok()) {
      return Annotate(status, absl::StrCat("migration ", migration.version, ": "));
    }
  }
  return absl::OkStatus();
}

// Runs transaction control (BEGIN, COMMIT, SAVEPOINT, ...) through the
// connection's statement cache: Exec (sqlite3_exec) would parse the text
// again on every call, and every Read() and Write() runs two or more.
absl::Status Control(Connection& connection, absl::string_view sql) {
  MARKET_ASSIGN_OR_RETURN(Statement statement, connection.Prepare(sql));
  return statement.Run();
}

// Runs `fn` inside SAVEPOINT, releasing it on success and rolling back to it
// on error. If the savepoint cannot be undone the whole transaction is rolled
// back (the caller sees !InTransaction()).
absl::Status RunInSavepoint(Connection& connection, const Database::Fn& fn) {
  MARKET_RETURN_IF_ERROR(Control(connection, "SAVEPOINT market_write"));
  absl::Status status = fn(connection);
  if (!connection.InTransaction()) return status;
  if (status.ok()) {
    status = Control(connection, "RELEASE market_write");
    if (status.ok()) return status;
  }
  if (!Control(connection, "ROLLBACK TO market_write").ok() ||
      !Control(connection, "RELEASE market_write").ok()) {
    Control(connection, "ROLLBACK").IgnoreError();
  }
  return status;
}

// Runs `fn` in a deferred read transaction: one snapshot from its first read.
absl::Status RunRead(Connection& connection, const Database::Fn& fn) {
  MARKET_RETURN_IF_ERROR(Control(connection, "BEGIN"));
  absl::Status status = fn(connection);
  if (connection.InTransaction()) {
    absl::Status end = Control(connection, status.ok() ? "COMMIT" : "ROLLBACK");
    if (connection.InTransaction()) Control(connection, "ROLLBACK").IgnoreError();
    if (status.ok()) status = end;
  }
  return status;
}

absl::Status CopyDatabase(sqlite3* source, sqlite3* dest) {
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", source, "main");
  if (backup == nullptr) {
    return internal::StatusFromDb(sqlite3_extended_errcode(dest), dest, "backup init");
  }
  // One step copies every page under one read transaction: a consistent copy.
  int step = sqlite3_backup_step(backup, -1);
  int finish = sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) {
    return internal::StatusFromCode(step, sqlite3_errstr(step), "backup step");
  }
  if (finish != SQLITE_OK) return internal::StatusFromDb(finish, dest, "backup finish");
  return absl::OkStatus();
}

void RemoveDatabaseFiles(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix, ignored);
  }
}

}  // namespace

Database::Database(Connection writer, std::vector<Connection> readers, bool in_memory,
                   int max_batch)
    : in_memory_(in_memory),
      max_batch_(max_batch),
      writer_(std::move(writer)),
      idle_readers_(std::move(readers)) {}

Database::~Database() = default;

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                         const Options& options,
                                                         const std::vector<Migration>& migrations) {
  if (options.max_batch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sqlite: max_batch ", options.max_batch, ", want >= 1"));
  }
  MARKET_RETURN_IF_ERROR(ValidateMigrations(migrations));
  const bool in_memory = IsInMemory(path);
  if (!in_memory && options.read_connections < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sqlite: read_connections ", options.read_connections, ", want >= 1"));
  }
  MARKET_ASSIGN_OR_RETURN(Connection writer, Connection::Open(path, options));
  MARKET_RETURN_IF_ERROR(Migrate(writer, migrations, options.read_only));

  std::vector<Connection> readers;
  if (!in_memory) {
    Options reader_options = options;
    reader_options.read_only = true;
    for (int i = 0; i < options.read_connections; ++i) {
      MARKET_ASSIGN_OR_RETURN(Connection reader, Connection::Open(path, reader_options));
      readers.push_back(std::move(reader));
    }
  }
  return std::unique_ptr<Database>(
      new Database(std::move(writer), std::move(readers), in_memory, options.max_batch));
}

absl::Status Database::Write(const Fn& fn) {
  if (t_writer_holder == this) {
    return absl::FailedPreconditionError(
        "sqlite: Database::Write called from inside a Write (or in-memory Read) function");
  }
  PendingWrite write{.fn = &fn, .result = absl::OkStatus(), .done = false};
  queue_mu_.Lock();
  queue_.push_back(&write);
  auto ready = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return write.done || !committer_active_; };
  queue_mu_.Await(absl::Condition(&ready));
  if (!write.done) {
    // Leader: commit batches until this caller's own write is settled, then
    // hand over to a waiting follower (which wakes on !committer_active_).
    committer_active_ = true;
    while (!write.done) {
      std::vector<PendingWrite*> batch;
      while (!queue_.empty() && batch.size() < static_cast<size_t>(max_batch_)) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      queue_mu_.Unlock();
      {
        absl::MutexLock writer_lock(&writer_mu_);
        WriterHold hold(this);
        RunBatch(batch);
      }
      queue_mu_.Lock();
      for (PendingWrite* item : batch) item->done = true;
    }
    committer_active_ = false;
  }
  absl::Status result = std::move(write.result);
  queue_mu_.Unlock();
  return result;
}

void Database::RunBatch(std::span<PendingWrite* const> batch) {
  size_t next = 0;
  while (next < batch.size()) next = RunTransaction(batch, next);
}

size_t Database::RunTransaction(std::span<PendingWrite* const> batch, size_t begin) {
  Connection& connection = writer_;
  if (connection.InTransaction()) Control(connection, "ROLLBACK").IgnoreError();
  transactions_.fetch_add(1, std::memory_order_relaxed);
  if (absl::Status status = Control(connection, "BEGIN IMMEDIATE"); !status.ok()) {
    for (size_t i = begin; i < batch.size(); ++i) batch[i]->result = status;
    return batch.size();
  }
  // Connection::BeforeCommit work of the applied writes, in order, each
  // with the write that deferred it.
  std::vector<internal::ConnectionState::Deferred> deferred;
  std::vector<PendingWrite*> deferred_by;
  struct Collect {
    internal::ConnectionState& state;
    ~Collect() { state.set_deferred(nullptr); }
  } collect{*connection.state_};
  collect.state.set_deferred(&deferred);
  // Settles every applied write but `failed` with ABORTED after the whole
  // transaction was rolled back because of `failed`'s `status`.
  std::vector<PendingWrite*> applied;
  auto abort_applied = [&](PendingWrite* failed, const absl::Status& status) {
    for (PendingWrite* other : applied) {
      if (other == failed) continue;
      other->result = absl::AbortedError(absl::StrCat(
          "sqlite: transaction rolled back by another write's error: ", status.message()));
    }
  };
  for (size_t i = begin; i < batch.size(); ++i) {
    PendingWrite* write = batch[i];
    writes_.fetch_add(1, std::memory_order_relaxed);
    const size_t mark = deferred.size();
    absl::Status status = RunInSavepoint(connection, *write->fn);
    if (!connection.InTransaction()) {
      // The transaction ended inside this function: SQLite rolled it back
      // after an error (e.g. SQLITE_FULL), or the function ended it itself.
      if (status.ok()) {
        status = absl::InternalError("sqlite: a Write function ended the transaction itself");
        for (PendingWrite* other : applied) {
          other->result = absl::InternalError(
              "sqlite: write outcome unknown: another Write function ended the transaction");
        }
      } else {
        abort_applied(nullptr, status);
      }
      write->result = std::move(status);
      return i + 1;  // The rest run in a new transaction.
    }
    if (status.ok()) {
      applied.push_back(write);
      deferred_by.resize(deferred.size(), write);
    } else {
      deferred.resize(mark);  // its savepoint was rolled back
      write->result = std::move(status);
    }
  }
  if (applied.empty()) {
    Control(connection, "ROLLBACK").IgnoreError();
    return batch.size();
  }
  collect.state.set_deferred(nullptr);  // deferred work runs at once from here
  for (size_t k = 0; k < deferred.size(); ++k) {
    absl::Status status = deferred[k](connection);
    if (!status.ok()) {
      if (connection.InTransaction()) Control(connection, "ROLLBACK").IgnoreError();
      abort_applied(deferred_by[k], status);
      deferred_by[k]->result = std::move(status);
      return batch.size();
    }
  }
  absl::Status commit = Control(connection, "COMMIT");
  if (!commit.ok() && connection.InTransaction()) Control(connection, "ROLLBACK").IgnoreError();
  for (PendingWrite* write : applied) write->result = commit;
  return batch.size();
}

Connection Database::TakeReader() {
  absl::MutexLock lock(&pool_mu_);
  auto available = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return !idle_readers_.empty(); };
  pool_mu_.Await(absl::Condition(&available));
  Connection reader = std::move(idle_readers_.back());
  idle_readers_.pop_back();
  return reader;
}

void Database::ReturnReader(Connection reader) {
  absl::MutexLock lock(&pool_mu_);
  idle_readers_.push_back(std::move(reader));
}

absl::Status Database::Read(const Fn& fn) {
  if (!in_memory_) {
    Connection reader = TakeReader();
    absl::Status status = RunRead(reader, fn);
    ReturnReader(std::move(reader));
    return status;
  }
  if (t_writer_holder == this) {
    return absl::FailedPreconditionError(
        "sqlite: Database::Read of an in-memory database called from inside a Write or Read");
  }
  absl::MutexLock lock(&writer_mu_);
  WriterHold hold(this);
  // The writer doubles as reader: forbid writes for the duration.
  MARKET_RETURN_IF_ERROR(writer_.Exec("PRAGMA query_only=ON"));
  absl::Status status = RunRead(writer_, fn);
  absl::Status restore = writer_.Exec("PRAGMA query_only=OFF");
  return status.ok() ? restore : status;
}

absl::Status Database::Backup(const std::string& dest_path) {
  if (in_memory_ && t_writer_holder == this) {
    return absl::FailedPreconditionError(
        "sqlite: Database::Backup of an in-memory database called from inside a Write or Read");
  }
  const std::string partial = dest_path + ".partial";
  RemoveDatabaseFiles(partial);
  sqlite3* dest = nullptr;
  int rc =
      sqlite3_open_v2(partial.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  absl::Status status;
  if (rc != SQLITE_OK) {
    status = internal::StatusFromDb(rc, dest, absl::StrCat("open ", partial));
  } else if (in_memory_) {
    absl::MutexLock lock(&writer_mu_);
    status = CopyDatabase(writer_.raw(), dest);
  } else {
    Connection reader = TakeReader();
    status = CopyDatabase(reader.raw(), dest);
    ReturnReader(std::move(reader));
  }
  rc = sqlite3_close_v2(dest);
  if (status.ok() && rc != SQLITE_OK) {
    status = internal::StatusFromCode(rc, sqlite3_errstr(rc), "close backup");
  }
  if (status.ok()) {
    // A stale -wal of an earlier file at dest_path would be replayed into the copy.
    std::error_code error;
    for (const char* suffix : {"-journal", "-wal", "-shm"}) {
      std::filesystem::remove(dest_path + suffix, error);
    }
    std::filesystem::rename(partial, dest_path, error);
    if (error) {
      status = absl::InternalError(
          absl::StrCat("sqlite: rename ", partial, " to ", dest_path, ": ", error.message()));
    }
  }
  if (!status.ok()) RemoveDatabaseFiles(partial);
  return status;
}

WriteStats Database::GetWriteStats() const {
  return WriteStats{transactions_.load(std::memory_order_relaxed),
                    writes_.load(std::memory_order_relaxed)};
}

int Database::QueuedWrites() const {
  absl::MutexLock lock(&queue_mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace market::sqlite
