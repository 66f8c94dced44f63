// The listing service's schema shared with other services: how a physical
// item is named everywhere (items/{CATEGORY}:{identifier}), the declared-
// condition grading scheme, and the item observations other services
// (appraisal) write to their outbox for ItemService.RecordObservation
// (delivered by listing_client.h's ObservationDeliverer). Pure functions
// except EnqueueObservation, which is as thread-safe as the connection.
#ifndef MARKET_SERVICES_LISTING_LISTING_EVENTS_H_
#define MARKET_SERVICES_LISTING_LISTING_EVENTS_H_

#include <array>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/sqlite/connection.h"
#include "market/common/v1/common.pb.h"
#include "market/listing/v1/listing.pb.h"

namespace market::listing {

// The grading scheme of sellers' declared conditions and its version
// (DOMAIN.md §4); the appraisal service's general-condition-v1 scheme has the
// same levels.
inline constexpr char kConditionScheme[] = "general-condition-v1";
inline constexpr int kConditionSchemeVersion = 1;
// Levels of kConditionScheme, best first.
inline constexpr std::array<absl::string_view, 8> kConditionLevels = {
    "全新", "99新", "95新", "9成新", "8成新", "7成新", "6成及以下", "报废"};
inline absl::Span<const absl::string_view> ConditionLevels() { return kConditionLevels; }

// Outbox destination of item observations: the payload is a serialized
// listing.v1.RecordObservationRequest whose request_id is the event id.
inline constexpr char kObservationDestination[] = "listing.RecordObservation";

// Writes `req` (request_id set to `event_id`) as a pending observation event
// in the caller's transaction; its item (parent) is the outbox ordering key.
// Errors: those of outbox::Enqueue.
absl::Status EnqueueObservation(sqlite::Connection& c, const std::string& event_id,
                                v1::RecordObservationRequest req, absl::Time now);

// The category the listing's set details belong to (CATEGORY_UNSPECIFIED when
// no details are set).
common::v1::Category CategoryOfDetails(const v1::Listing& listing);

// The item resource name of the listing's goods as ItemHistory documents it:
// items/PHONE:{imei}, items/VEHICLE:{vin}, items/APPLIANCE:{brand}~{model}~
// {serial_number}, items/FURNITURE:{brand}~{serial_number}. Each part is
// trimmed of ASCII whitespace, upper-cased (ASCII) and percent-encoded outside
// [A-Z0-9-._]. "" when the item has no identity: no details, details not
// matching the category, or an identity part (furniture: the serial number)
// empty.
std::string ItemName(const v1::Listing& listing);

// Parses `items/{CATEGORY}:{identifier}`; INVALID_ARGUMENT naming `field`.
absl::StatusOr<common::v1::Category> ParseItemName(const std::string& name,
                                                   const std::string& field);

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_LISTING_EVENTS_H_
