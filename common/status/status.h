// Status helpers shared by every library and service: early-return macros and
// constructors for the errors the API contract names (field violations for
// INVALID_ARGUMENT, a stable reason for FAILED_PRECONDITION and friends).
// Thread-safe: everything here is a pure function.
#ifndef MARKET_COMMON_STATUS_STATUS_H_
#define MARKET_COMMON_STATUS_STATUS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace market {

// One bad field of a request: `field` is a dotted path such as
// "subject.credit_code"; `description` says what was wrong and what is wanted.
struct FieldViolation {
  std::string field;
  std::string description;
};

// Payload type URLs under which the error details travel inside absl::Status.
inline constexpr char kBadRequestPayloadUrl[] = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr char kErrorInfoPayloadUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
// The ErrorInfo domain of every reason this system reports.
inline constexpr char kErrorDomain[] = "market.example.cn";

// INVALID_ARGUMENT naming one field: message "field: description".
absl::Status InvalidField(absl::string_view field, absl::string_view description);
// INVALID_ARGUMENT naming several fields; `violations` must not be empty.
absl::Status InvalidFields(const std::vector<FieldViolation>& violations);
// An error with a stable machine-readable reason (google.rpc.ErrorInfo), e.g.
// WithReason(absl::StatusCode::kFailedPrecondition, "SUBJECT_SUSPENDED", "...").
absl::Status WithReason(absl::StatusCode code, absl::string_view reason,
                        absl::string_view message);
// The same with ErrorInfo.metadata entries (e.g. {"record", "ledgers/main/records/7"}).
absl::Status WithReason(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                        const std::vector<std::pair<std::string, std::string>>& metadata);
// The ErrorInfo metadata value of `key` carried by `status` ("" when none).
std::string ReasonMetadataOf(const absl::Status& status, absl::string_view key);

// NOT_FOUND for a missing resource: message "<name> not found".
absl::Status NotFound(absl::string_view name);
// The value a lookup found, NotFound(name) when it found none, or the
// lookup's own error.
template <typename T>
absl::StatusOr<T> Found(absl::StatusOr<std::optional<T>> lookup, absl::string_view name) {
  if (!lookup.ok()) return lookup.status();
  if (!lookup->has_value()) return NotFound(name);
  return std::move(**lookup);
}

// The field violations carried by `status` (empty when none).
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);
// The ErrorInfo reason carried by `status` ("" when none).
std::string ReasonOf(const absl::Status& status);

// Collects field violations while one request is validated, then turns them
// into a single INVALID_ARGUMENT. Not thread-safe.
class Violations {
 public:
  void Add(absl::string_view field, absl::string_view description) {
    list_.push_back({std::string(field), std::string(description)});
  }
  // Adds the violations of `status` when it is INVALID_ARGUMENT (fields
  // prefixed with `prefix`), otherwise keeps nothing; returns true if it added.
  bool Merge(const absl::Status& status, absl::string_view prefix = "");
  bool empty() const { return list_.empty(); }
  // OK when nothing was added.
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> list_;
};

}  // namespace market

#define MARKET_STATUS_CONCAT_INNER_(a, b) a##b
#define MARKET_STATUS_CONCAT_(a, b) MARKET_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define MARKET_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status market_status_ = (expr);          \
    if (!market_status_.ok()) return market_status_; \
  } while (0)

// MARKET_ASSIGN_OR_RETURN(auto x, StatusOrExpr()): assigns the value or returns
// the error from the enclosing function.
#define MARKET_ASSIGN_OR_RETURN(lhs, expr) \
  MARKET_ASSIGN_OR_RETURN_IMPL_(MARKET_STATUS_CONCAT_(market_statusor_, __LINE__), lhs, expr)
#define MARKET_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = *std::move(tmp)

#endif  // MARKET_COMMON_STATUS_STATUS_H_
