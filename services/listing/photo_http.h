// Photos over HTTP: GET /photos/{sha256} on the HTTP port of marketd and
// market-listing, the URL Listing.photo_urls carries. Content-addressed, so a
// reply never changes: strong ETag "<sha256>", Cache-Control immutable (public
// for anonymous requests, private when the request carried Authorization, as a
// photo of an unpublished listing may only be shown to who may read it), and
// If-None-Match answered 304. Who may fetch a photo is ListingService's
// GetListing rule (ListingServiceImpl::ReadPhoto). Thread-safe.
#ifndef MARKET_SERVICES_LISTING_PHOTO_HTTP_H_
#define MARKET_SERVICES_LISTING_PHOTO_HTTP_H_

#include "common/server/runner.h"
#include "services/listing/listing_service.h"

namespace market::listing {

inline constexpr char kPublicPhotoCache[] = "public, max-age=31536000, immutable";
inline constexpr char kPrivatePhotoCache[] = "private, max-age=31536000, immutable";

// The reply to GET /photos/{sha256}: 200 with the bytes and their sniffed
// type; 304 when If-None-Match names the ETag; a google.rpc.Status JSON error
// otherwise (404 for an unknown or unreadable photo or a malformed hash, 401
// for a bad token).
server::HttpReply ServePhoto(const ListingServiceImpl& listings, const server::HttpRequest& request);

// Adds GET /photos/… to `runner` (`listings` must outlive it).
void AddPhotoHttpRoutes(server::ServerRunner& runner, const ListingServiceImpl* listings);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_PHOTO_HTTP_H_
