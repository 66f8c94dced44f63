// Serves the web console (clients/web/src, embedded at build time) on a
// binary's HTTP port: GET / is index.html, GET /assets/<path> the other files,
// each with its Content-Type, a strict Content-Security-Policy (default-src
// 'self', no inline script or style), X-Content-Type-Options: nosniff and
// cache headers (index no-cache; assets revalidated by their strong ETag).
// Thread-safe (the assets are immutable).
#ifndef MARKET_CLIENTS_WEB_WEB_CONSOLE_H_
#define MARKET_CLIENTS_WEB_WEB_CONSOLE_H_

#include <string>

#include "common/server/runner.h"

namespace market::web {

inline constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// The reply to GET `path`: 200 with the asset; 404 for an unknown path.
server::HttpReply ServeWebConsole(const std::string& path);

// Adds the routes "/" and "/assets/.+" to `runner`.
void AddWebConsoleRoutes(server::ServerRunner& runner);

}  // namespace market::web

#endif  // MARKET_CLIENTS_WEB_WEB_CONSOLE_H_
