// Domain rules of listings: field validation per request shape (create,
// update), the publish preconditions, the listing state machine and the item
// resource name. Field paths and limits follow market/listing/v1/listing.proto;
// numbers come from DOMAIN.md §2–§5.
// Thread-safe: every function here is a pure function of its arguments.
#ifndef MARKET_SERVICES_LISTING_LISTING_RULES_H_
#define MARKET_SERVICES_LISTING_LISTING_RULES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "google/protobuf/field_mask.pb.h"
#include "market/common/v1/common.pb.h"
#include "market/listing/v1/listing.pb.h"
#include "services/listing/listing_events.h"

namespace market::listing {

// Who asks for a state change. kSeller is the listing's owner: its seller, or
// the market's OPERATOR for a listing it created on the seller's behalf
// (`created_by`); kOperator is the market's operator acting as moderator;
// kSystem is the order flow (PlaceOrder, CancelOrder, ConfirmDelivery).
enum class Actor { kSeller, kOperator, kSupervisor, kSystem };

// "SELLER", "OPERATOR", "SUPERVISOR" or "SYSTEM".
absl::string_view ActorName(Actor actor);

// Limits from listing.proto.
inline constexpr int kMaxTitleChars = 100;
inline constexpr int kMaxDescriptionChars = 5000;
inline constexpr int kMaxDefectChars = 200;
inline constexpr int kMaxDefects = 50;
inline constexpr int kMaxPhotos = 30;
inline constexpr int kMaxVinOverrideReasonChars = 200;

// The default used-goods warranty of `category` (DOMAIN.md §5 policy table);
// all zeros for CATEGORY_UNSPECIFIED. For vehicles these are also the minimum
// terms a seller may offer.
common::v1::WarrantyPolicy DefaultWarranty(common::v1::Category category);

// The policy a listing actually carries: every field of `offered` that is 0
// (unset in proto3) takes the category default, the rest are kept. Callers
// store this on create and update. For vehicles a 0 km limit therefore means
// the default km limit, not "no limit".
common::v1::WarrantyPolicy EffectiveWarranty(common::v1::Category category,
                                             const common::v1::WarrantyPolicy& offered);

// Validates CreateListingRequest.listing. Output-only fields are ignored; the
// publish requirements (title, price, details, declared_condition, data wipe)
// are CheckPublishable's, so a sparse DRAFT passes. Returns OK or one
// INVALID_ARGUMENT whose BadRequest names every bad field ("listing.phone.imei",
// "listing.price.amount_fen", …). `now` bounds dates such as
// first_registration_date and manufacture_year (China time, UTC+8).
absl::Status ValidateListingForCreate(const v1::Listing& listing, absl::Time now);

// Applies UpdateListingRequest{listing: patch, update_mask: mask} to `current`
// (fields named by the mask are replaced, not merged; an absent field in
// `patch` clears it) and validates the result: INVALID_ARGUMENT for an empty
// mask, an unknown or immutable path ("update_mask"), an identifier (imei,
// imei2, vin, engine_number, serial_number) changed outside DRAFT, a publish
// requirement cleared on a PUBLISHED listing, and everything
// ValidateListingForCreate rejects. The caller checks CheckEditable first and
// then stores EffectiveWarranty and ItemName of the result.
absl::StatusOr<v1::Listing> ApplyListingUpdate(const v1::Listing& current, const v1::Listing& patch,
                                               const google::protobuf::FieldMask& mask,
                                               absl::Time now);

// ApplyListingUpdate without the result.
absl::Status ValidateListingUpdate(const v1::Listing& current, const v1::Listing& patch,
                                   const google::protobuf::FieldMask& mask, absl::Time now);

// Content requirements of PublishListing, for a listing that already passed
// validation (the state is CheckTransition's). FAILED_PRECONDITION with reason
// LISTING_INCOMPLETE (no title, price, details or declared_condition; the
// message lists them) or DATA_WIPE_REQUIRED (a phone without data_wiped).
absl::Status CheckPublishable(const v1::Listing& listing);

// Index of `level` in kConditionLevels (0 = best), or -1 when it is not one.
int ConditionIndex(absl::string_view level);

// UpdateListing and photo uploads: OK for DRAFT and PUBLISHED listings, else
// FAILED_PRECONDITION with reason LISTING_NOT_EDITABLE.
absl::Status CheckEditable(v1::Listing::State state);

// The listing state machine. Allowed (everything else is refused):
//   DRAFT, WITHDRAWN → PUBLISHED                  kSeller (publish, re-list)
//   PUBLISHED → RESERVED                          kSystem (order placed)
//   RESERVED → PUBLISHED                          kSystem (order cancelled)
//   RESERVED → SOLD                               kSystem (delivery confirmed)
//   DRAFT, PUBLISHED → WITHDRAWN                  kSeller
//   DRAFT, PUBLISHED, RESERVED, WITHDRAWN → REMOVED   kOperator, kSupervisor
// A RESERVED listing cannot be withdrawn while its order holds it (cancel the
// order first); SOLD and REMOVED are final.
// Roles are checked before states: PERMISSION_DENIED when `actor` may never
// move a listing into `to`, or the edge exists but belongs to another actor.
// Otherwise FAILED_PRECONDITION "FROM → TO is not allowed" with the reason the
// proto names for the RPC: LISTING_NOT_PUBLISHABLE (to PUBLISHED by the
// owner), LISTING_RESERVED / LISTING_NOT_WITHDRAWABLE (to WITHDRAWN),
// LISTING_NOT_REMOVABLE (to REMOVED), LISTING_NOT_AVAILABLE (to RESERVED),
// ILLEGAL_STATE_TRANSITION for the rest.
absl::Status CheckTransition(v1::Listing::State from, v1::Listing::State to, Actor actor);

// Whether a vehicle odometer reading of `km` rolls the mileage back: true
// when any of `earlier_km`, the readings observed before it, is higher. An
// equal reading is no rollback; with no earlier readings there is none.
bool IsMileageRollback(int64_t km, absl::Span<const int64_t> earlier_km);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_LISTING_RULES_H_
