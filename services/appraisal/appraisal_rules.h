// Domain rules of appraisal reports (DOMAIN.md §2-§4, GB/T 30323): content
// validation, the item a report is about, validity periods, the vehicle
// tradability checks, accreditation coverage and the observation a filing
// records on the item. Thread-safe: pure functions.
#ifndef MARKET_SERVICES_APPRAISAL_APPRAISAL_RULES_H_
#define MARKET_SERVICES_APPRAISAL_APPRAISAL_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "market/appraisal/v1/appraisal.pb.h"
#include "market/listing/v1/listing.pb.h"

namespace market::appraisal {

// Disputes are filed within this many days of the report's filing (policy).
inline constexpr int kDisputeWindowDays = 15;
// A vehicle report is valid for at most (and by default) this many days.
inline constexpr int kVehicleValidityDays = 90;
// Request field of the signed content, the prefix of content violations.
inline constexpr char kContentField[] = "appraisal.signed_content";

// INVALID_ARGUMENT naming `field` (BadRequest) that also carries `reason`
// (ErrorInfo), for bad input the API gives a stable reason.
absl::Status InvalidWithReason(absl::string_view field, absl::string_view reason,
                               absl::string_view description);

// `firms/{firm}` → `subjects/{firm}`; "" when `firm` is not such a name.
std::string FirmSubject(absl::string_view firm);
// `subjects/{s}` → `firms/{s}`.
std::string FirmOfSubject(absl::string_view subject);
// `firms/{firm}/{collection}/{id}`: sets *firm to `firms/{firm}` on success.
bool ValidFirmChildName(absl::string_view name, absl::string_view collection, std::string* firm);

// Validates the decoded content of a report filed at `now` (grades are only
// checked for shape here; CheckGrade checks them against their schemes).
// INVALID_ARGUMENT naming every bad field under kContentField: required
// fields, identifier check digits (IMEI Luhn, VIN mod 11, USCC mod 31) and
// which identifiers the category needs, inspection items, score 0-100, value
// range, the vehicle's 8 tradability checks and 13 distinct structural points
// with GB/T 30323 defect codes (accident_found iff a point has a defect),
// inspected_time not in the future, valid_until after inspected_time and, for
// vehicles, at most 90 days after it; phones carry a phone-cosmetic-v1 and a
// phone-function-v1 grade.
absl::Status ValidateContent(const v1::AppraisalContent& content, absl::Time now);

// FAILED_PRECONDITION VEHICLE_NOT_TRADABLE naming every tradability check
// that found a problem (GB/T 30323: such a vehicle is not appraised).
absl::Status CheckTradable(const v1::AppraisalContent& content);

// The item the report is about, `items/{CATEGORY}:{identifier}` as
// listing.v1.ItemHistory names it; "" for furniture without a serial number.
std::string ItemOf(const v1::AppraisalContent& content);

// valid_until of the report: as given, or for vehicles inspected_time + 90
// days when not given.
absl::Time EffectiveValidUntil(const v1::AppraisalContent& content);

// Whether `a` (as stored, state not derived) covered `category` at `t`:
// valid_from <= t < valid_until and not suspended or revoked at or before t
// (`ended` is when it was suspended or revoked).
bool CoversAt(const v1::Accreditation& a, std::optional<absl::Time> ended,
              common::v1::Category category, absl::Time t);

// The accreditation's state at `now`: EXPIRED once valid_until has passed
// (unless REVOKED), else the stored state.
v1::Accreditation::State EffectiveState(const v1::Accreditation& a, absl::Time now);

// The observation a filed report records on its item: MILEAGE for vehicles
// with a mileage, else IDENTITY with the identifiers seen; source is the
// appraisal, observed_time the inspection.
listing::v1::Observation ObservationOf(const std::string& appraisal,
                                       const v1::AppraisalContent& content);

// The summary shown as a listing's latest_appraisal.
listing::v1::AppraisalSummary SummaryOf(const std::string& appraisal,
                                        const v1::AppraisalContent& content);

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_APPRAISAL_RULES_H_
