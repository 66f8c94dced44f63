// One SQLite connection (RAII over sqlite3*) with a per-connection cache of
// prepared statements keyed by SQL text. Move-only. Not thread-safe: use it
// from one thread at a time (Database hands connections out one caller at a
// time).
#ifndef MARKET_COMMON_SQLITE_CONNECTION_H_
#define MARKET_COMMON_SQLITE_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sqlite/statement.h"

struct sqlite3;

namespace market::sqlite {

// How connections are opened. The first five fields apply to every
// connection; the last two only to Database.
struct Options {
  enum class Synchronous { kOff, kNormal, kFull };

  // Open read-only (the file must exist); otherwise read-write, creating it.
  bool read_only = false;
  // Switch a writable connection to WAL journaling; false leaves the file's
  // journal mode as it is. In-memory databases stay in "memory" mode.
  bool wal = true;
  // How long a statement waits for a lock before failing with UNAVAILABLE.
  int busy_timeout_ms = 5000;
  // PRAGMA foreign_keys.
  bool foreign_keys = true;
  // PRAGMA synchronous; kFull makes an acknowledged commit survive power loss.
  Synchronous synchronous = Synchronous::kFull;

  // Database: size of the reader pool (>= 1; unused for in-memory databases).
  int read_connections = 4;
  // Database: most Write() functions grouped into one transaction (>= 1).
  int max_batch = 64;
};

class Connection {
 public:
  // Opens `path` (a file name, ":memory:" or a "file:" URI) and applies
  // `options` (busy timeout, journal mode, synchronous, foreign keys).
  // Errors: FAILED_PRECONDITION when WAL was asked for but could not be
  // enabled, INTERNAL when the file cannot be opened.
  static absl::StatusOr<Connection> Open(const std::string& path, const Options& options = {});

  Connection(Connection&& other) noexcept = default;
  Connection& operator=(Connection&& other) noexcept = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

  // Prepares one SQL statement (reusing a cached one for the same text). The
  // SQL must be a constant of the program; data goes in through Bind*().
  // Errors: INTERNAL for a syntax error, an unknown table, more than one
  // statement or an empty string.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);
  // Runs one or more SQL statements without parameters or results: DDL,
  // PRAGMAs and transaction control only, never data. Errors as
  // Statement::Step().
  absl::Status Exec(absl::string_view sql);

  // Runs `fn` on this connection just before the enclosing Database::Write()
  // batch commits: after every function of the batch, outside their
  // savepoints, in the order of the calls. For writes that are cheaper once
  // per transaction than once per savepoint: an FTS5 table flushes its
  // pending changes to a new segment at every SAVEPOINT and RELEASE, so its
  // rows written here cost one flush per batch. A later function of the same
  // batch does not see them yet. Dropped when the function that deferred it
  // fails (its savepoint is rolled back). An error from `fn` rolls the whole
  // transaction back: the deferring function gets the error, the others of
  // the transaction ABORTED (retryable). Outside a Write() batch (a plain
  // connection, or a deferred function itself) `fn` runs at once and its
  // status is returned.
  absl::Status BeforeCommit(std::function<absl::Status(Connection&)> fn);

  // The rowid of the most recent successful INSERT on this connection.
  int64_t LastInsertRowId() const;
  // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  int64_t Changes() const;
  // True while a transaction is open on this connection.
  bool InTransaction() const;

 private:
  friend class Database;
  explicit Connection(std::shared_ptr<internal::ConnectionState> state);
  sqlite3* raw() const;

  // Shared with the Statements this connection prepared, so they can return
  // to its cache; never null except in a moved-from Connection.
  std::shared_ptr<internal::ConnectionState> state_;
};

}  // namespace market::sqlite

#endif  // MARKET_COMMON_SQLITE_CONNECTION_H_
