// Files under the data dir: folders, secrets and owner-only files. Thread-
// compatible (callers serialize access to one path).
#ifndef MARKET_COMMON_CONFIG_FILES_H_
#define MARKET_COMMON_CONFIG_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace market::config {

// Creates `path` and its parents (mode 0700 for new folders).
absl::Status EnsureDir(const std::string& path);
// Writes `content` to `path` with mode 0600, atomically (temp file + fsync +
// rename), so a crash leaves either the old or the new file. Missing parent
// folders are created with mode 0700 (a fresh HOME has no ~/.config).
absl::Status WriteOwnerOnlyFile(const std::string& path, absl::string_view content);
// Reads a whole file. NOT_FOUND when absent.
absl::StatusOr<std::string> ReadFile(const std::string& path);
// Returns the secret stored in `path`, creating `size` random bytes (mode
// 0600) on first use. FAILED_PRECONDITION when the file is shorter than `size`.
absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& path, size_t size);

}  // namespace market::config

#endif  // MARKET_COMMON_CONFIG_FILES_H_
