// What this binary was built from: the project version, the git commit checked
// out when CMake last configured and the build type. Immutable; thread-safe.
#ifndef MARKET_COMMON_SERVER_BUILD_INFO_H_
#define MARKET_COMMON_SERVER_BUILD_INFO_H_

#include <string>

namespace market::server {

struct BuildInfo {
  std::string version;     // "0.2.0"
  std::string git_commit;  // 12 hex digits, or "unknown" outside a git checkout
  std::string build_type;  // CMAKE_BUILD_TYPE, e.g. "RelWithDebInfo"
};

// The build of the running binary (--version and the market_build_info gauge).
const BuildInfo& GetBuildInfo();

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_BUILD_INFO_H_
