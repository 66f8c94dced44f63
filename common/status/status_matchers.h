// GoogleTest helpers for absl::Status / absl::StatusOr: EXPECT_OK, ASSERT_OK,
// StatusIs(code) and StatusIs(code, message_matcher). Test-only.
#ifndef MARKET_COMMON_STATUS_STATUS_MATCHERS_H_
#define MARKET_COMMON_STATUS_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::market::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code,
          std::string("has status code ") + absl::StatusCodeToString(code)) {
  const absl::Status& s = ::market::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  const absl::Status& s = ::market::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()),
                                       result_listener);
}

}  // namespace market::testing

// Each evaluates `expr` once.
#define EXPECT_OK(expr) EXPECT_THAT(expr, ::market::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT(expr, ::market::testing::IsOk())

// ASSERT_OK_AND_ASSIGN(auto x, StatusOrExpr()).
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(MARKET_STATUS_CONCAT_(market_test_so_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status();           \
  lhs = *std::move(tmp)

#endif  // MARKET_COMMON_STATUS_STATUS_MATCHERS_H_
