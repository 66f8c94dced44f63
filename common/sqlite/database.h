// A SQLite database file shared by one process: one writer connection whose
// writes are group-committed, a pool of reader connections, schema migrations
// and online backup. Thread-safe: every method may be called concurrently.
#ifndef MARKET_COMMON_SQLITE_DATABASE_H_
#define MARKET_COMMON_SQLITE_DATABASE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite/connection.h"

namespace market::sqlite {

// One schema step: `sql` (any number of DDL statements) takes the schema from
// the previous migration's version to `version`, stored in PRAGMA
// user_version. It runs inside a transaction, where PRAGMA foreign_keys is a
// no-op.
struct Migration {
  int version;
  std::string sql;
};

// Counters of the group committer since Open().
struct WriteStats {
  uint64_t transactions = 0;  // BEGIN IMMEDIATE ... COMMIT/ROLLBACK run
  uint64_t writes = 0;        // Write() functions run inside them
};

class Database {
 public:
  // A unit of work on a connection; its error is returned to the caller.
  using Fn = std::function<absl::Status(Connection&)>;

  // Opens (creating if needed) the database at `path` and applies, in order,
  // each migration newer than the file's user_version, each in its own
  // BEGIN IMMEDIATE transaction that also sets user_version. `migrations`
  // must have strictly increasing versions >= 1 (else INVALID_ARGUMENT).
  // FAILED_PRECONDITION when the file's version is newer than the last
  // migration. ":memory:" (or any in-memory URI) gives a private in-memory
  // database with no reader pool: Read() and Backup() then use the writer
  // connection, waiting for writes in progress. With options.read_only every
  // migration must already be applied (else FAILED_PRECONDITION) and Write()
  // fails.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                        const Options& options,
                                                        const std::vector<Migration>& migrations);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  // No Write/Read/Backup may be in progress.
  ~Database();

  // Runs `fn` on the writer connection inside a transaction and returns after
  // its changes are committed. Concurrent calls are group-committed: up to
  // Options::max_batch functions run one after another (possibly on another
  // caller's thread), each in its own SAVEPOINT, under one COMMIT. An error
  // from `fn` rolls back only its own changes and is returned unchanged; a
  // failed BEGIN/COMMIT is returned to every caller of the batch. ABORTED when
  // SQLite rolled back the whole transaction because of another function's
  // error. `fn` must not begin/commit/rollback a transaction itself, nor call
  // Write() (FAILED_PRECONDITION).
  absl::Status Write(const Fn& fn);

  // Runs `fn` in a read transaction on a pooled read-only connection, so it
  // sees one consistent snapshot of committed data; returns its status. Waits
  // while every reader is busy. Writes inside `fn` fail with INTERNAL. Called
  // inside a Write() function it sees only committed data; for an in-memory
  // database that is FAILED_PRECONDITION (it would deadlock).
  absl::Status Read(const Fn& fn);

  // Writes a consistent copy of the database to `dest_path` with the SQLite
  // online backup API while reads and writes continue. The copy is written
  // beside `dest_path` and renamed over it when complete; `dest_path` must
  // not be open by anyone. INTERNAL on I/O errors.
  absl::Status Backup(const std::string& dest_path);

  // The group committer's counters so far.
  WriteStats GetWriteStats() const;
  // Write() calls waiting to be started (a queue-depth metric).
  int QueuedWrites() const;
  // True for an in-memory database (no reader pool).
  bool in_memory() const { return in_memory_; }

 private:
  struct PendingWrite {
    const Fn* fn;
    absl::Status result;
    bool done = false;
  };

  Database(Connection writer, std::vector<Connection> readers, bool in_memory, int max_batch);

  // Runs `batch` on the writer in as few transactions as possible, setting
  // each item's result. Requires writer_mu_.
  void RunBatch(std::span<PendingWrite* const> batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Runs items from `batch[begin]` in one transaction; returns the index of
  // the first item it did not settle (batch.size() when all are settled).
  size_t RunTransaction(std::span<PendingWrite* const> batch, size_t begin)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Borrows a connection from the reader pool, waiting while it is empty.
  Connection TakeReader();
  void ReturnReader(Connection reader);

  const bool in_memory_;
  const int max_batch_;

  // Guards the writer connection: held by the committing leader, and by
  // Read()/Backup() of an in-memory database.
  absl::Mutex writer_mu_;
  Connection writer_ ABSL_GUARDED_BY(writer_mu_);

  mutable absl::Mutex queue_mu_;
  std::deque<PendingWrite*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool committer_active_ ABSL_GUARDED_BY(queue_mu_) = false;

  absl::Mutex pool_mu_;
  // Declared after writer_ so readers close first.
  std::vector<Connection> idle_readers_ ABSL_GUARDED_BY(pool_mu_);

  std::atomic<uint64_t> transactions_{0};
  std::atomic<uint64_t> writes_{0};
};

}  // namespace market::sqlite

#endif  // MARKET_COMMON_SQLITE_DATABASE_H_
