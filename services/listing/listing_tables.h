// The listing.db tables behind ListingService, OrderService and ItemService
// (markets are SqliteMarketStore's): row I/O inside a caller's transaction,
// the search query, and the credit events written to the outbox. Every
// function takes the Connection of an open Database::Write()/Read(), so the
// services compose them into one atomic change (state + outbox event +
// idempotent response). As thread-safe as the connection.
#ifndef MARKET_SERVICES_LISTING_LISTING_TABLES_H_
#define MARKET_SERVICES_LISTING_LISTING_TABLES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/pagination/cursor.h"
#include "common/sqlite/connection.h"
#include "market/credit/v1/credit.pb.h"
#include "market/listing/v1/listing.pb.h"
#include "services/listing/market_store.h"

namespace market::listing {

// Migration 2 of listing.db: listings (+ FTS5 trigram index over title and
// description, replaced by migration 3, SearchIndexMigration()), photos,
// orders, items, observations and the outbox.
const std::string& ListingSchema();

struct ListingRow {
  v1::Listing listing;  // etag set from version
  int64_t version = 0;
};

struct OrderRow {
  v1::Order order;  // etag set from version
  int64_t version = 0;
};

// ABORTED when `given` is set and is not the row's `current` etag.
absl::Status CheckEtag(const std::string& given, const std::string& current);

// Reads a market in the caller's transaction; std::nullopt when absent.
absl::StatusOr<std::optional<MarketRow>> LoadMarket(sqlite::Connection& c, const std::string& name);

absl::StatusOr<std::optional<ListingRow>> LoadListing(sqlite::Connection& c,
                                                      const std::string& name);
// Inserts (version 1, ALREADY_EXISTS when taken) or updates the listing and
// its search index entry; returns the listing with its new etag.
absl::StatusOr<v1::Listing> SaveListing(sqlite::Connection& c, v1::Listing listing,
                                        int64_t version, bool insert);

// The PLACED orders holding `listing`, as the bought or the swapped listing.
absl::StatusOr<std::vector<OrderRow>> OpenOrders(sqlite::Connection& c, const std::string& listing);
// Moves listing `name` from RESERVED to `to` as the system (an order ended);
// OK without a change when `name` is empty, absent or no longer RESERVED.
absl::Status SetListingState(sqlite::Connection& c, const std::string& name, v1::Listing::State to,
                             absl::Time now);

absl::StatusOr<std::optional<OrderRow>> LoadOrder(sqlite::Connection& c, const std::string& name);
// As SaveListing. `refund_deadline` is when the scheduler may complete a
// DELIVERED order (InfinitePast when not applicable).
absl::StatusOr<v1::Order> SaveOrder(sqlite::Connection& c, v1::Order order, int64_t version,
                                    bool insert);
// DELIVERED orders whose refund deadline is at or before `now`, oldest first.
absl::StatusOr<std::vector<std::string>> DueOrders(sqlite::Connection& c, absl::Time now,
                                                   int limit);
// When the scheduler may complete a DELIVERED order: delivery time plus the
// longer of the refund window and the no-reason return period.
absl::Time RefundDeadline(const v1::Order& order);

// Photos (metadata; the bytes live in the PhotoStore folder).
absl::Status SavePhoto(sqlite::Connection& c, const v1::Photo& photo, absl::Time now);
absl::StatusOr<std::optional<v1::Photo>> LoadPhoto(sqlite::Connection& c, const std::string& sha256);

// Listing.photo_urls: the HTTP path of each photo, `/photos/{sha256}`.
inline constexpr char kPhotoUrlPrefix[] = "/photos/";
// Sets l.photo_urls from l.photos (every listing read or saved gets them).
void SetPhotoUrls(v1::Listing& l);
// Migration 4 of listing.db: listing_photos(sha256, listing), which listing
// carries which photo, kept by SaveListing; filled for the listings saved
// before it by BackfillListingPhotos.
const std::string& ListingPhotosMigration();
// Indexes every listing's photos once after migration 4 (a no-op afterwards).
absl::Status BackfillListingPhotos(sqlite::Connection& c);
// Replaces listing `l`'s rows in listing_photos (SaveListing calls it).
absl::Status IndexListingPhotos(sqlite::Connection& c, const v1::Listing& l);
// The names of the listings carrying photo `sha256`.
absl::StatusOr<std::vector<std::string>> ListingsWithPhoto(sqlite::Connection& c,
                                                           const std::string& sha256);

// Search over listings joined with their market.
struct SearchQuery {
  // kRelevance (the default with a text): listings whose title has the text,
  // then those where only the description has it, each newest first.
  enum class Order { kPublishDesc, kPublishAsc, kPriceAsc, kPriceDesc, kRelevance };
  std::optional<common::v1::Category> category;
  std::optional<int64_t> min_price_fen;  // inclusive
  std::optional<int64_t> max_price_fen;  // inclusive
  std::optional<int> max_condition_rank;  // 0 = best level of general-condition-v1
  std::optional<std::string> market;
  std::optional<std::string> seller;
  v1::Listing::State state = v1::Listing::PUBLISHED;
  std::optional<std::string> region_prefix;
  bool has_valid_appraisal = false;
  bool trusted_seller = false;  // only sellers on the red list copy (诚信商户)
  std::string text;  // substring of title or description (ASCII case-folded); "" = any
  Order order = Order::kPublishDesc;
};

// Parses SearchListingsRequest.filter / query / order_by (grammar in
// listing.proto and README). INVALID_ARGUMENT naming the field otherwise.
absl::StatusOr<SearchQuery> ParseSearch(const std::string& parent, const std::string& filter,
                                        const std::string& query, const std::string& order_by);


struct SearchHit {
  ListingRow row;
  std::string market_operator;
  SearchCursor cursor;
  bool trusted_seller = false;  // the seller is on the red list copy: the badge
};
// Up to `limit` listings after `after` (a previous hit's cursor) in q.order.
// A text is matched through the listing_grams postings and verified on the
// stored text, so the hits are exactly the listings containing it; pages are
// read in order with LIMIT whenever the text is common.
absl::StatusOr<std::vector<SearchHit>> SearchListings(sqlite::Connection& c, const SearchQuery& q,
                                                      const std::optional<SearchCursor>& after,
                                                      int limit, absl::Time now);

// Orders of one market or all, newest or oldest first.
struct OrderQuery {
  std::optional<std::string> market;
  std::optional<std::string> buyer;
  std::optional<std::string> seller;
  std::optional<std::string> listing;
  std::optional<v1::Order::State> state;
  std::optional<absl::Time> placed_from;    // inclusive
  std::optional<absl::Time> placed_before;  // exclusive
  bool ascending = false;
  // Restricts to orders where the subject is buyer or seller, or of markets it
  // operates; "" = no restriction (supervisors).
  std::string visible_to;
};
absl::StatusOr<OrderQuery> ParseOrderQuery(const std::string& parent, const std::string& filter,
                                           const std::string& order_by);
struct OrderHit {
  OrderRow row;
  SearchCursor cursor;
};
absl::StatusOr<std::vector<OrderHit>> ListOrders(sqlite::Connection& c, const OrderQuery& q,
                                                 const std::optional<SearchCursor>& after,
                                                 int limit);

// Items and observations.
struct ItemRow {
  std::string name;
  common::v1::Category category = common::v1::CATEGORY_UNSPECIFIED;
  std::vector<v1::Observation::Flag> flags;
  std::optional<int64_t> max_mileage_km;
};
// Creates the item row when absent; returns it.
absl::StatusOr<ItemRow> EnsureItem(sqlite::Connection& c, const std::string& name,
                                   common::v1::Category category, absl::Time now);
absl::StatusOr<std::optional<ItemRow>> LoadItem(sqlite::Connection& c, const std::string& name);
// Stores `observation` (name set) on `item`, raising MILEAGE_ROLLBACK when its
// mileage is below a reading observed earlier, and updating the item's flags
// and maximum mileage. Returns the stored observation with its flags.
absl::StatusOr<v1::Observation> AddObservation(sqlite::Connection& c, const ItemRow& item,
                                               v1::Observation observation, absl::Time now);
// Every event recorded for `item`, oldest first: listings, orders and
// observations (appraisals and claims arrive as observations whose source
// names them).
absl::StatusOr<std::vector<v1::ItemEvent>> ItemEvents(sqlite::Connection& c,
                                                      const std::string& item);
// Subjects that were seller or buyer of the item.
absl::StatusOr<std::vector<std::string>> ItemParties(sqlite::Connection& c,
                                                     const std::string& item);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_LISTING_TABLES_H_
