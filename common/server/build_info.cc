#include "common/server/build_info.h"

namespace market::server {

const BuildInfo& GetBuildInfo() {
  static const BuildInfo* info =
      new BuildInfo{MARKET_VERSION, MARKET_GIT_COMMIT, MARKET_BUILD_TYPE};
  return *info;
}

}  // namespace market::server
