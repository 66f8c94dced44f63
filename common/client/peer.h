// How one service calls another (the provider-owned *_client classes): as this
// process's SERVICE account, with a deadline, and with the peer's failures
// mapped in one place so they never read as the caller's fault. Thread-safe.
#ifndef MARKET_COMMON_CLIENT_PEER_H_
#define MARKET_COMMON_CLIENT_PEER_H_

#include <chrono>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status/grpc_status.h"
#include "grpcpp/client_context.h"

namespace market::client {

// Returns a bearer token of a subject holding the SERVICE role: under marketd
// issued in-process, in a split deployment by logging in with an API key.
using TokenSource = std::function<absl::StatusOr<std::string>()>;

// Deadline of every service-to-service call.
inline constexpr std::chrono::seconds kPeerDeadline{10};

// Calls `call(grpc::ClientContext*)` with the bearer token of `token` and
// kPeerDeadline; returns the peer's status as absl::Status, unchanged (the
// token source's error when no token could be had).
template <typename Call>
absl::Status CallAsService(const TokenSource& token, Call&& call) {
  absl::StatusOr<std::string> bearer = token();
  if (!bearer.ok()) return bearer.status();
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", *bearer));
  ctx.set_deadline(std::chrono::system_clock::now() + kPeerDeadline);
  return FromGrpcStatus(call(&ctx));
}

// Calls `rpc(ctx, req, &page)` as CallAsService does, page after page
// (req.page_token set from each page's next_page_token), handing every page to
// `on_page`. Returns the first failure, mapped by PeerError(`what`, …).
template <typename Req, typename Resp, typename Rpc, typename OnPage>
absl::Status ForEachPage(const TokenSource& token, absl::string_view what, Req req, Rpc&& rpc,
                         OnPage&& on_page);

// The one mapping of a peer's failure for the caller's caller: NOT_FOUND stays
// NOT_FOUND; every other error becomes UNAVAILABLE "`what`: message" (the
// peer is down, misconfigured or refused this service: never the client's
// fault, never INTERNAL). OK stays OK.
absl::Status PeerError(absl::string_view what, const absl::Status& status);

template <typename Req, typename Resp, typename Rpc, typename OnPage>
absl::Status ForEachPage(const TokenSource& token, absl::string_view what, Req req, Rpc&& rpc,
                         OnPage&& on_page) {
  do {
    Resp page;
    absl::Status s = PeerError(
        what, CallAsService(token, [&](grpc::ClientContext* ctx) { return rpc(ctx, req, &page); }));
    if (!s.ok()) return s;
    on_page(page);
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  return absl::OkStatus();
}

}  // namespace market::client

#endif  // MARKET_COMMON_CLIENT_PEER_H_
