#include "common/sqlite/statement.h"

#include <sqlite3.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/sqlite/internal.h"
#include "common/status/status.h"

namespace market::sqlite {

Statement::Statement(sqlite3_stmt* stmt, std::string sql,
                     std::weak_ptr<internal::ConnectionState> owner)
    : stmt_(stmt), sql_(std::move(sql)), owner_(std::move(owner)) {}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)),
      owner_(std::move(other.owner_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
    owner_ = std::move(other.owner_);
  }
  return *this;
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (stmt_ == nullptr) return;
  sqlite3_stmt* stmt = std::exchange(stmt_, nullptr);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (std::shared_ptr<internal::ConnectionState> owner = owner_.lock()) {
    owner->ReturnToCache(std::move(sql_), stmt);
  } else {
    sqlite3_finalize(stmt);
  }
}

absl::Status Statement::CheckBind(int rc, int index) const {
  if (rc == SQLITE_OK) return absl::OkStatus();
  return internal::StatusFromDb(rc, sqlite3_db_handle(stmt_),
                                absl::StrCat("bind parameter ", index, " of \"", sql_, "\""));
}

absl::StatusOr<int> Statement::ParameterIndex(absl::string_view name) const {
  const bool has_prefix = !name.empty() && (name[0] == ':' || name[0] == '@' || name[0] == '$');
  const std::string full = has_prefix ? std::string(name) : absl::StrCat(":", name);
  int index = sqlite3_bind_parameter_index(stmt_, full.c_str());
  if (index == 0) {
    return absl::InternalError(absl::StrCat("no parameter ", full, " in \"", sql_, "\""));
  }
  return index;
}

absl::Status Statement::Bind(int index, int64_t value) {
  return CheckBind(sqlite3_bind_int64(stmt_, index, value), index);
}

absl::Status Statement::Bind(int index, double value) {
  return CheckBind(sqlite3_bind_double(stmt_, index, value), index);
}

absl::Status Statement::BindText(int index, absl::string_view value) {
  // A null data pointer would bind NULL rather than "".
  const char* data = value.data() != nullptr ? value.data() : "";
  return CheckBind(
      sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
}

absl::Status Statement::BindBlob(int index, absl::string_view value) {
  if (value.empty()) {
    // sqlite3_bind_blob with a null pointer binds NULL; keep "" a blob.
    return CheckBind(sqlite3_bind_zeroblob(stmt_, index, 0), index);
  }
  return CheckBind(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT),
                   index);
}

absl::Status Statement::BindNull(int index) {
  return CheckBind(sqlite3_bind_null(stmt_, index), index);
}

absl::Status Statement::Bind(absl::string_view name, int64_t value) {
  MARKET_ASSIGN_OR_RETURN(int index, ParameterIndex(name));
  return Bind(index, value);
}

absl::Status Statement::Bind(absl::string_view name, double value) {
  MARKET_ASSIGN_OR_RETURN(int index, ParameterIndex(name));
  return Bind(index, value);
}

absl::Status Statement::BindText(absl::string_view name, absl::string_view value) {
  MARKET_ASSIGN_OR_RETURN(int index, ParameterIndex(name));
  return BindText(index, value);
}

absl::Status Statement::BindBlob(absl::string_view name, absl::string_view value) {
  MARKET_ASSIGN_OR_RETURN(int index, ParameterIndex(name));
  return BindBlob(index, value);
}

absl::Status Statement::BindNull(absl::string_view name) {
  MARKET_ASSIGN_OR_RETURN(int index, ParameterIndex(name));
  return BindNull(index);
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return internal::StatusFromDb(rc, sqlite3_db_handle(stmt_));
}

absl::Status Statement::Run() {
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return absl::OkStatus();
  }
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  // Text first, then its size (the documented order).
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

std::string Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (blob == nullptr) return std::string();
  return std::string(static_cast<const char*>(blob), static_cast<size_t>(size));
}

void Statement::Reset() { sqlite3_reset(stmt_); }

void Statement::ClearBindings() { sqlite3_clear_bindings(stmt_); }

}  // namespace market::sqlite
