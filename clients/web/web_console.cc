#include "clients/web/web_console.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "clients/web/web_assets.h"
#include "common/crypto/crypto.h"

namespace market::web {
namespace {

constexpr absl::string_view kAssetPrefix = "/assets/";

std::string ContentType(absl::string_view path) {
  static const std::map<absl::string_view, absl::string_view> kTypes = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},    {".svg", "image/svg+xml"},
      {".png", "image/png"},                  {".json", "application/json"},
      {".ico", "image/x-icon"},
  };
  size_t dot = path.rfind('.');
  if (dot != absl::string_view::npos) {
    auto it = kTypes.find(path.substr(dot));
    if (it != kTypes.end()) return std::string(it->second);
  }
  return "application/octet-stream";
}

struct Served {
  std::string content_type;
  std::string etag;
  absl::string_view data;
};

// Path as requested ("/" or "/assets/<path>") -> asset, built once.
const std::map<std::string, Served, std::less<>>& Table() {
  static const auto* table = [] {
    auto* t = new std::map<std::string, Served, std::less<>>;
    for (const Asset& asset : Assets()) {
      Served s{ContentType(asset.path),
               absl::StrCat("\"", HexEncode(Sha256(asset.data)).substr(0, 32),
                            "\""),
               asset.data};
      std::string key = asset.path == "index.html" ? "/" : absl::StrCat(kAssetPrefix, asset.path);
      t->emplace(std::move(key), std::move(s));
    }
    return t;
  }();
  return *table;
}

}  // namespace

server::HttpReply ServeWebConsole(const std::string& path) {
  server::HttpReply reply;
  reply.headers = {{"Content-Security-Policy", kContentSecurityPolicy},
                   {"X-Content-Type-Options", "nosniff"},
                   {"Referrer-Policy", "no-referrer"},
                   {"X-Frame-Options", "DENY"}};
  const auto& table = Table();
  auto it = table.find(path == "/index.html" ? std::string("/") : path);
  if (it == table.end()) {
    reply.status = 404;
    reply.body = "not found\n";
    return reply;
  }
  reply.content_type = it->second.content_type;
  // The console changes with the binary: always revalidate (ETag), never stale.
  reply.cache_control = "no-cache";
  reply.headers.emplace_back("ETag", it->second.etag);
  reply.body = std::string(it->second.data);
  return reply;
}

void AddWebConsoleRoutes(server::ServerRunner& runner) {
  runner.AddHttpRoute("/", ServeWebConsole);
  runner.AddHttpRoute("/index\\.html", ServeWebConsole);
  runner.AddHttpRoute("/assets/.+", ServeWebConsole);
}

}  // namespace market::web
