// A prepared SQLite statement (RAII over sqlite3_stmt): bind parameters, step
// through rows, read columns. Move-only. Not thread-safe: use it on the thread
// that uses its Connection, and destroy it before that Connection is closed
// (it stays safe to destroy later; it is then finalized instead of cached).
#ifndef MARKET_COMMON_SQLITE_STATEMENT_H_
#define MARKET_COMMON_SQLITE_STATEMENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/status/status.h"

struct sqlite3_stmt;

namespace market::sqlite {

namespace internal {
class ConnectionState;
}  // namespace internal

// Integer types that convert to int64_t without loss (not uint64_t/size_t).
template <typename T>
concept LosslessInt64 =
    std::is_integral_v<T> && !(std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t));

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  // Resets the statement and returns it to its connection's cache.
  ~Statement();

  // Bind a value to the 1-based parameter `index` (`?` or `?NNN`). Text is
  // UTF-8; a blob may hold any bytes, including NULs. Values are copied.
  // Errors: INTERNAL for an index out of range or a statement that is running.
  absl::Status Bind(int index, int64_t value);
  absl::Status Bind(int index, double value);
  template <LosslessInt64 T>
  absl::Status Bind(int index, T value) {
    return Bind(index, static_cast<int64_t>(value));
  }
  absl::Status BindText(int index, absl::string_view value);
  absl::Status BindBlob(int index, absl::string_view value);
  absl::Status BindNull(int index);

  // The same, by parameter name: ":name" (the ':' may be omitted), "@name" or
  // "$name". Errors: INTERNAL when the statement has no such parameter.
  absl::Status Bind(absl::string_view name, int64_t value);
  absl::Status Bind(absl::string_view name, double value);
  template <LosslessInt64 T>
  absl::Status Bind(absl::string_view name, T value) {
    return Bind(name, static_cast<int64_t>(value));
  }
  absl::Status BindText(absl::string_view name, absl::string_view value);
  absl::Status BindBlob(absl::string_view name, absl::string_view value);
  absl::Status BindNull(absl::string_view name);

  // Advances to the next row: true when a row is available, false when done.
  // Errors: ALREADY_EXISTS for a UNIQUE/PRIMARY KEY violation,
  // FAILED_PRECONDITION for another constraint (CHECK, NOT NULL, FOREIGN KEY),
  // UNAVAILABLE when the database is busy/locked, INTERNAL otherwise.
  absl::StatusOr<bool> Step();
  // Steps until done, discarding rows (for INSERT/UPDATE/DELETE). Errors as
  // Step().
  absl::Status Run();

  // Column accessors for the current row; `column` is 0-based and must be
  // < ColumnCount(). NULL reads as 0 or "". Text and blobs are copied.
  int ColumnCount() const;
  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;

  // Rewinds the statement so it can be stepped again; bindings are kept.
  void Reset();
  // Sets every parameter back to NULL.
  void ClearBindings();
  // The SQL text the statement was prepared from.
  const std::string& sql() const { return sql_; }

 private:
  friend class Connection;
  Statement(sqlite3_stmt* stmt, std::string sql, std::weak_ptr<internal::ConnectionState> owner);

  absl::StatusOr<int> ParameterIndex(absl::string_view name) const;
  absl::Status CheckBind(int rc, int index) const;
  void Release();

  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  std::weak_ptr<internal::ConnectionState> owner_;
};

// Steps `st` to its end, collecting `read` of every row. Errors: those of
// Step() and of `read`.
template <typename T>
absl::StatusOr<std::vector<T>> ReadAll(Statement& st,
                                       const std::function<absl::StatusOr<T>(Statement&)>& read) {
  std::vector<T> out;
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return out;
    MARKET_ASSIGN_OR_RETURN(T item, read(st));
    out.push_back(std::move(item));
  }
}

}  // namespace market::sqlite

#endif  // MARKET_COMMON_SQLITE_STATEMENT_H_
