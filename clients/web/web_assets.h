// The web console's files (clients/web/src), embedded into the binary at build
// time by embed_assets.cmake: each as its path relative to src/ and its bytes.
#ifndef MARKET_CLIENTS_WEB_WEB_ASSETS_H_
#define MARKET_CLIENTS_WEB_WEB_ASSETS_H_

#include <vector>

#include "absl/strings/string_view.h"

namespace market::web {

struct Asset {
  absl::string_view path;  // e.g. "index.html", "js/app.js"
  absl::string_view data;
};

// Every embedded file, in a fixed order.
const std::vector<Asset>& Assets();

}  // namespace market::web

#endif  // MARKET_CLIENTS_WEB_WEB_ASSETS_H_
