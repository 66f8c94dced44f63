// Test-only helpers for code that uses common/sqlite: a temporary directory
// for real database files (removed with everything in it; not thread-safe) and
// an IsOkAndHolds(matcher) matcher for absl::StatusOr.
#ifndef MARKET_COMMON_SQLITE_SQLITE_TESTING_H_
#define MARKET_COMMON_SQLITE_SQLITE_TESTING_H_

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::sqlite::testing {

// Matches an OK absl::StatusOr whose value matches `matcher`.
MATCHER_P(IsOkAndHolds, matcher, "") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

class ScopedTempDir {
 public:
  // Creates a fresh directory under ::testing::TempDir(); path() is empty if
  // that failed (the test then fails on its first file operation).
  ScopedTempDir() {
    std::string pattern = absl::StrCat(::testing::TempDir(), "market_sqlite_XXXXXX");
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) != nullptr) path_ = buffer.data();
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  ~ScopedTempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }

  const std::string& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

}  // namespace market::sqlite::testing

#endif  // MARKET_COMMON_SQLITE_SQLITE_TESTING_H_
