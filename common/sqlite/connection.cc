#include "common/sqlite/connection.h"

#include <sqlite3.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/sqlite/internal.h"
#include "common/status/status.h"

namespace market::sqlite {
namespace internal {

absl::Status StatusFromCode(int rc, absl::string_view message, absl::string_view context) {
  std::string text = context.empty()
                         ? absl::StrCat("sqlite: ", message, " (code ", rc, ")")
                         : absl::StrCat("sqlite: ", context, ": ", message, " (code ", rc, ")");
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return absl::AlreadyExistsError(text);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::FailedPreconditionError(text);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

absl::Status StatusFromDb(int rc, sqlite3* db, absl::string_view context) {
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return StatusFromCode(rc, message, context);
}

ConnectionState::~ConnectionState() {
  for (auto& [sql, stmts] : idle_) {
    for (sqlite3_stmt* stmt : stmts) sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db_);
}

sqlite3_stmt* ConnectionState::TakeCached(const std::string& sql) {
  auto it = idle_.find(sql);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  sqlite3_stmt* stmt = it->second.back();
  it->second.pop_back();
  --idle_count_;
  return stmt;
}

void ConnectionState::ReturnToCache(std::string sql, sqlite3_stmt* stmt) {
  if (idle_count_ >= kMaxCached) {
    sqlite3_finalize(stmt);
    return;
  }
  idle_[std::move(sql)].push_back(stmt);
  ++idle_count_;
}

}  // namespace internal

namespace {

// SQL quoted in an error message, shortened so a long migration stays readable.
std::string Abbreviate(absl::string_view sql) {
  constexpr size_t kMax = 160;
  sql = absl::StripAsciiWhitespace(sql);
  if (sql.size() <= kMax) return std::string(sql);
  return absl::StrCat(sql.substr(0, kMax), "...");
}

const char* SynchronousPragma(Options::Synchronous synchronous) {
  switch (synchronous) {
    case Options::Synchronous::kOff:
      return "PRAGMA synchronous=OFF";
    case Options::Synchronous::kNormal:
      return "PRAGMA synchronous=NORMAL";
    case Options::Synchronous::kFull:
      break;
  }
  return "PRAGMA synchronous=FULL";
}

}  // namespace

Connection::Connection(std::shared_ptr<internal::ConnectionState> state)
    : state_(std::move(state)) {}

sqlite3* Connection::raw() const { return state_->db(); }

namespace internal {
void ConfigureOnce() {
  static const int configured = [] {
    // SQLITE_MISUSE when the library was initialized already (by another
    // user in this process): then its settings stand.
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  }();
  (void)configured;
}
}  // namespace internal

absl::StatusOr<Connection> Connection::Open(const std::string& path, const Options& options) {
  internal::ConfigureOnce();
  // A Connection is used by one thread at a time (see connection.h), so
  // SQLite's per-connection mutex, taken on every API call, guards nothing.
  int flags = SQLITE_OPEN_URI | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = internal::StatusFromDb(rc, db, absl::StrCat("open ", path));
    sqlite3_close_v2(db);
    return status;
  }
  Connection connection(std::make_shared<internal::ConnectionState>(db));
  sqlite3_extended_result_codes(db, 1);
  rc = sqlite3_busy_timeout(db, options.busy_timeout_ms);
  if (rc != SQLITE_OK) return internal::StatusFromDb(rc, db, "busy_timeout");

  if (options.wal && !options.read_only) {
    MARKET_ASSIGN_OR_RETURN(Statement journal, connection.Prepare("PRAGMA journal_mode=WAL"));
    MARKET_ASSIGN_OR_RETURN(bool row, journal.Step());
    std::string mode = row ? absl::AsciiStrToLower(journal.ColumnText(0)) : "";
    if (mode != "wal" && mode != "memory") {
      return absl::FailedPreconditionError(absl::StrCat("sqlite: could not enable WAL on ", path,
                                                        ": journal_mode is \"", mode, "\""));
    }
  }
  MARKET_RETURN_IF_ERROR(connection.Exec(SynchronousPragma(options.synchronous)));
  MARKET_RETURN_IF_ERROR(
      connection.Exec(options.foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF"));
  return connection;
}

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  std::string key(sql);
  if (sqlite3_stmt* cached = state_->TakeCached(key)) {
    return Statement(cached, std::move(key), state_);
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(raw(), key.data(), static_cast<int>(key.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) {
    return internal::StatusFromDb(rc, raw(), absl::StrCat("prepare \"", Abbreviate(key), "\""));
  }
  if (stmt == nullptr) {
    return absl::InternalError(
        absl::StrCat("sqlite: prepare \"", Abbreviate(key), "\": no statement"));
  }
  absl::string_view rest(tail, static_cast<size_t>(key.data() + key.size() - tail));
  if (!absl::StripAsciiWhitespace(rest).empty()) {
    sqlite3_finalize(stmt);
    return absl::InternalError(
        absl::StrCat("sqlite: prepare \"", Abbreviate(key), "\": more than one statement"));
  }
  return Statement(stmt, std::move(key), state_);
}

absl::Status Connection::Exec(absl::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(raw(), text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  absl::Status status = internal::StatusFromCode(rc, error != nullptr ? error : sqlite3_errstr(rc),
                                                 absl::StrCat("exec \"", Abbreviate(text), "\""));
  sqlite3_free(error);
  return status;
}

absl::Status Connection::BeforeCommit(std::function<absl::Status(Connection&)> fn) {
  std::vector<internal::ConnectionState::Deferred>* list = state_->deferred();
  if (list == nullptr) return fn(*this);
  list->push_back(std::move(fn));
  return absl::OkStatus();
}

int64_t Connection::LastInsertRowId() const { return sqlite3_last_insert_rowid(raw()); }

int64_t Connection::Changes() const { return sqlite3_changes64(raw()); }

bool Connection::InTransaction() const { return sqlite3_get_autocommit(raw()) == 0; }

}  // namespace market::sqlite
