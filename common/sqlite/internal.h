// Implementation details of the sqlite library shared by its .cc files; not
// for use outside common/sqlite/. ConnectionState is not thread-safe.
#ifndef MARKET_COMMON_SQLITE_INTERNAL_H_
#define MARKET_COMMON_SQLITE_INTERNAL_H_

#include <sqlite3.h>

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace market::sqlite {
class Connection;
}  // namespace market::sqlite

namespace market::sqlite::internal {

// Maps a SQLite (extended) result code to a canonical status carrying
// sqlite's message: UNIQUE/PRIMARY KEY -> ALREADY_EXISTS, other constraints ->
// FAILED_PRECONDITION, BUSY/LOCKED -> UNAVAILABLE, anything else -> INTERNAL.
// `context` (may be empty) prefixes the message.
absl::Status StatusFromCode(int rc, absl::string_view message, absl::string_view context = "");
// The same with the message of the last error on `db`.
absl::Status StatusFromDb(int rc, sqlite3* db, absl::string_view context = "");

// Process-wide SQLite settings, applied once before the first connection
// opens (sqlite3_config must precede sqlite3_initialize): memory statistics
// off (SQLITE_CONFIG_MEMSTATUS), whose global mutex every malloc and free of
// every connection takes.
void ConfigureOnce();

// The sqlite3* of one Connection plus its idle prepared statements. Owned
// jointly by the Connection and (weakly) by its Statements.
class ConnectionState {
 public:
  explicit ConnectionState(sqlite3* db) : db_(db) {}
  ConnectionState(const ConnectionState&) = delete;
  ConnectionState& operator=(const ConnectionState&) = delete;
  // Finalizes cached statements and closes the connection (deferred by
  // sqlite3_close_v2 until live Statements are finalized).
  ~ConnectionState();

  sqlite3* db() const { return db_; }
  // An idle cached statement for `sql`, or nullptr.
  sqlite3_stmt* TakeCached(const std::string& sql);
  // Keeps a reset statement for reuse, or finalizes it when the cache is full.
  void ReturnToCache(std::string sql, sqlite3_stmt* stmt);

  // Work a Write() function deferred to just before its batch commits
  // (Connection::BeforeCommit): collected while Database points this at its
  // list, run at once otherwise (nullptr).
  using Deferred = std::function<absl::Status(Connection&)>;
  std::vector<Deferred>* deferred() const { return deferred_; }
  void set_deferred(std::vector<Deferred>* list) { deferred_ = list; }

 private:
  static constexpr size_t kMaxCached = 128;

  sqlite3* db_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle_;
  size_t idle_count_ = 0;
  std::vector<Deferred>* deferred_ = nullptr;
};

}  // namespace market::sqlite::internal

#endif  // MARKET_COMMON_SQLITE_INTERNAL_H_
