#include "services/listing/photo_http.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/server/json_gateway.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "services/listing/listing_tables.h"

namespace market::listing {
namespace {

// If-None-Match: "*" or a comma-separated list of entity tags (RFC 9110 13.1.2,
// weak comparison).
bool NoneMatchHits(absl::string_view header, absl::string_view etag) {
  for (absl::string_view tag : absl::StrSplit(header, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    if (absl::StartsWith(tag, "W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

server::HttpReply ServePhoto(const ListingServiceImpl& listings,
                             const server::HttpRequest& request) {
  absl::string_view sha256 = request.path;
  if (!absl::ConsumePrefix(&sha256, kPhotoUrlPrefix) || !IsSha256Hex(sha256)) {
    return server::StatusReply(ToGrpcStatus(
        NotFound(absl::StrCat(request.path, " (want /photos/{lower-case hex sha256})"))));
  }
  std::string authorization = request.Header("authorization");
  auto photo = listings.ReadPhoto(authorization, std::string(sha256));
  if (!photo.ok()) return server::StatusReply(ToGrpcStatus(photo.status()));
  server::HttpReply reply;
  std::string etag = absl::StrCat("\"", sha256, "\"");
  reply.cache_control = authorization.empty() ? kPublicPhotoCache : kPrivatePhotoCache;
  reply.headers = {{"ETag", etag}, {"X-Content-Type-Options", "nosniff"}};
  if (NoneMatchHits(request.Header("if-none-match"), etag)) {
    reply.status = 304;
    reply.content_type = "";
    return reply;
  }
  reply.content_type = photo->first.content_type();
  reply.body = std::move(photo->second);
  return reply;
}

void AddPhotoHttpRoutes(server::ServerRunner& runner, const ListingServiceImpl* listings) {
  runner.AddHttpHandler("GET", "/photos/[^/]*", 0, [listings](const server::HttpRequest& r) {
    return ServePhoto(*listings, r);
  });
}

}  // namespace market::listing
