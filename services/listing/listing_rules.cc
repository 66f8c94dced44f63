#include "services/listing/listing_rules.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"
#include "common/validate/identifiers.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/field_mask_util.h"
#include "services/listing/utf8.h"

namespace market::listing {
namespace {

using common::v1::Category;
using common::v1::WarrantyPolicy;
using v1::Listing;

// Upper bounds that keep warranty arithmetic (and common sense) in range; the
// design sets none. Ten years and a million kilometres.
constexpr int32_t kMaxWarrantyDays = 3650;
constexpr int64_t kMaxWarrantyKm = 1000000;
constexpr int32_t kMaxDepreciationBp = 10000;
// Short attributes (brand, model, colour, kind, serial and engine numbers).
constexpr int kMaxShortTextChars = 100;
// Earliest first registration / manufacture year accepted.
constexpr int kMinYear = 1900;

// Any earlier repair caps a phone's condition at this level (PhoneDetails).
constexpr absl::string_view kRepairedPhoneCap = "7成新";

// China time for calendar checks (no DST).
absl::TimeZone ChinaTime() { return absl::FixedTimeZone(8 * 60 * 60); }

// Number of Unicode code points in `s`, or nullopt when it is not valid UTF-8.
std::optional<int64_t> CodePoints(absl::string_view s) {
  if (InvalidUtf8Offset(s)) return std::nullopt;
  // Well-formed: every code point has exactly one non-continuation byte.
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// Adds a violation unless `value` is valid UTF-8 of min..max code points.
void CheckText(Violations& v, absl::string_view field, absl::string_view value, int min_chars,
               int max_chars) {
  auto n = CodePoints(value);
  if (!n) {
    v.Add(field, "not valid UTF-8");
  } else if (*n < min_chars || *n > max_chars) {
    v.Add(field, min_chars > 0 ? absl::StrCat(*n, " characters, want ", min_chars, "–", max_chars)
                               : absl::StrCat(*n, " characters, want <= ", max_chars));
  }
}

// Required short identity text: non-blank, at most kMaxShortTextChars.
void CheckRequiredText(Violations& v, absl::string_view field, absl::string_view value) {
  if (absl::StripAsciiWhitespace(value).empty()) {
    v.Add(field, "required");
  } else {
    CheckText(v, field, value, 1, kMaxShortTextChars);
  }
}

void CheckOptionalText(Violations& v, absl::string_view field, absl::string_view value) {
  CheckText(v, field, value, 0, kMaxShortTextChars);
}

// Lower-case kinds such as "air_conditioner".
void CheckKind(Violations& v, absl::string_view field, absl::string_view kind) {
  if (kind.size() > static_cast<size_t>(kMaxShortTextChars)) {
    v.Add(field, absl::StrCat(kind.size(), " characters, want <= ", kMaxShortTextChars));
    return;
  }
  for (char c : kind) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) {
      v.Add(field, absl::StrCat("\"", kind, "\", want lower-case letters, digits and '_'"));
      return;
    }
  }
}

void CheckNonNegative(Violations& v, absl::string_view field, int64_t value) {
  if (value < 0) v.Add(field, absl::StrCat(value, ", want >= 0"));
}

// The details field name for `category` ("phone", …), "" when none.
absl::string_view DetailsFieldFor(Category category) {
  switch (category) {
    case common::v1::PHONE:
      return "phone";
    case common::v1::APPLIANCE:
      return "appliance";
    case common::v1::FURNITURE:
      return "furniture";
    case common::v1::VEHICLE:
      return "vehicle";
    default:
      return "";
  }
}

std::string CategoryName(Category c) {
  return common::v1::Category_IsValid(c) ? common::v1::Category_Name(c) : absl::StrCat(c);
}

std::string StateName(Listing::State s) {
  return Listing::State_IsValid(s) ? Listing::State_Name(s) : absl::StrCat(s);
}

// "YYYY-MM-DD": a real calendar date from kMinYear up to today (China time).
void CheckDate(Violations& v, absl::string_view field, absl::string_view date, absl::Time now) {
  int y = 0, m = 0, d = 0;
  bool ok = date.size() == 10 && date[4] == '-' && date[7] == '-' &&
            absl::SimpleAtoi(date.substr(0, 4), &y) && absl::SimpleAtoi(date.substr(5, 2), &m) &&
            absl::SimpleAtoi(date.substr(8, 2), &d);
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (ok && !absl::ascii_isdigit(date[i])) ok = false;
  }
  if (ok) {
    absl::CivilDay day(y, m, d);
    ok = day.year() == y && day.month() == m && day.day() == d;
  }
  if (!ok) {
    v.Add(field, absl::StrCat("\"", date, "\", want a date YYYY-MM-DD"));
    return;
  }
  const absl::CivilDay today = absl::ToCivilDay(now, ChinaTime());
  if (y < kMinYear || absl::CivilDay(y, m, d) > today) {
    v.Add(field, absl::StrCat("\"", date, "\", want between ", kMinYear, "-01-01 and ",
                              absl::FormatCivilTime(today)));
  }
}

void CheckIdentifier(Violations& v, absl::string_view field, absl::string_view value,
                     const absl::Status& check) {
  if (value.empty()) {
    v.Add(field, "required");
  } else if (!check.ok()) {
    v.Add(field, check.message());
  }
}

void CheckPhone(Violations& v, const v1::PhoneDetails& p) {
  CheckIdentifier(v, "listing.phone.imei", p.imei(), ValidateImei(p.imei()));
  if (!p.imei2().empty()) {
    absl::Status s = ValidateImei(p.imei2());
    if (!s.ok()) {
      v.Add("listing.phone.imei2", s.message());
    } else if (p.imei2() == p.imei()) {
      v.Add("listing.phone.imei2", "equals imei, want a different IMEI or empty");
    }
  }
  CheckOptionalText(v, "listing.phone.brand", p.brand());
  CheckOptionalText(v, "listing.phone.model", p.model());
  CheckOptionalText(v, "listing.phone.color", p.color());
  CheckNonNegative(v, "listing.phone.storage_gb", p.storage_gb());
  if (p.battery_health_pct() < 0 || p.battery_health_pct() > 100) {
    v.Add("listing.phone.battery_health_pct", absl::StrCat(p.battery_health_pct(), ", want 0–100"));
  }
  for (int i = 0; i < p.repaired_parts_size(); ++i) {
    const int part = p.repaired_parts(i);
    if (part == v1::PhoneDetails::PART_UNSPECIFIED || !v1::PhoneDetails::Part_IsValid(part)) {
      v.Add(absl::StrCat("listing.phone.repaired_parts[", i, "]"),
            absl::StrCat(part, ", want a known part"));
    }
  }
}

void CheckAppliance(Violations& v, const v1::ApplianceDetails& a, absl::Time now) {
  CheckRequiredText(v, "listing.appliance.brand", a.brand());
  CheckRequiredText(v, "listing.appliance.model", a.model());
  CheckRequiredText(v, "listing.appliance.serial_number", a.serial_number());
  CheckKind(v, "listing.appliance.kind", a.kind());
  const int this_year = static_cast<int>(absl::ToCivilYear(now, ChinaTime()).year());
  if (a.manufacture_year() != 0 &&
      (a.manufacture_year() < kMinYear || a.manufacture_year() > this_year)) {
    v.Add("listing.appliance.manufacture_year",
          absl::StrCat(a.manufacture_year(), ", want 0 (unknown) or ", kMinYear, "–", this_year));
  }
  if (a.energy_label() < 0 || a.energy_label() > 5) {
    v.Add("listing.appliance.energy_label",
          absl::StrCat(a.energy_label(), ", want 0 (none) or 1–5"));
  }
  if (a.has_working_hours()) {
    CheckNonNegative(v, "listing.appliance.working_hours", a.working_hours());
  }
}

void CheckFurniture(Violations& v, const v1::FurnitureDetails& f) {
  CheckKind(v, "listing.furniture.kind", f.kind());
  CheckOptionalText(v, "listing.furniture.material", f.material());
  CheckOptionalText(v, "listing.furniture.brand", f.brand());
  CheckOptionalText(v, "listing.furniture.serial_number", f.serial_number());
  if (f.has_dimensions_cm()) {
    const auto& d = f.dimensions_cm();
    for (auto [name, value] : {std::pair<absl::string_view, int32_t>{"width", d.width()},
                               {"depth", d.depth()},
                               {"height", d.height()}}) {
      if (value <= 0) {
        v.Add(absl::StrCat("listing.furniture.dimensions_cm.", name),
              absl::StrCat(value, ", want > 0"));
      }
    }
  }
}

void CheckVehicle(Violations& v, const v1::VehicleDetails& d, absl::Time now) {
  const bool override_vin = !d.vin_override_reason().empty();
  CheckIdentifier(v, "listing.vehicle.vin", d.vin(),
                  override_vin ? ValidateVinFormat(d.vin()) : ValidateVin(d.vin()));
  if (override_vin) {
    if (absl::StripAsciiWhitespace(d.vin_override_reason()).empty()) {
      v.Add("listing.vehicle.vin_override_reason", "blank, want an explanation or empty");
    } else {
      CheckText(v, "listing.vehicle.vin_override_reason", d.vin_override_reason(), 1,
                kMaxVinOverrideReasonChars);
    }
  }
  CheckRequiredText(v, "listing.vehicle.engine_number", d.engine_number());
  CheckOptionalText(v, "listing.vehicle.make", d.make());
  CheckOptionalText(v, "listing.vehicle.model", d.model());
  if (!d.first_registration_date().empty()) {
    CheckDate(v, "listing.vehicle.first_registration_date", d.first_registration_date(), now);
  }
  CheckNonNegative(v, "listing.vehicle.mileage_km", d.mileage_km());
  CheckNonNegative(v, "listing.vehicle.transfer_count", d.transfer_count());
  if (!v1::VehicleDetails::UseNature_IsValid(d.use_nature())) {
    v.Add("listing.vehicle.use_nature", absl::StrCat(d.use_nature(), ", want a known use nature"));
  }
}

void CheckWarranty(Violations& v, Category category, const WarrantyPolicy& w) {
  const WarrantyPolicy floor = DefaultWarranty(category);
  const bool vehicle = category == common::v1::VEHICLE;
  auto check = [&](absl::string_view name, int64_t value, int64_t max, int64_t minimum) {
    const std::string field = absl::StrCat("listing.warranty_policy.", name);
    if (value < 0) {
      v.Add(field, absl::StrCat(value, ", want >= 0"));
    } else if (value > max) {
      v.Add(field, absl::StrCat(value, ", want <= ", max));
    } else if (vehicle && value != 0 && value < minimum) {
      v.Add(field,
            absl::StrCat(value, ", want >= ", minimum, " (vehicle minimum; 0 means the default)"));
    }
  };
  check("refund_days", w.refund_days(), kMaxWarrantyDays, floor.refund_days());
  check("exchange_days", w.exchange_days(), kMaxWarrantyDays, floor.exchange_days());
  check("repair_days", w.repair_days(), kMaxWarrantyDays, floor.repair_days());
  check("exchange_km", w.exchange_km(), kMaxWarrantyKm, floor.exchange_km());
  check("repair_km", w.repair_km(), kMaxWarrantyKm, floor.repair_km());
  check("battery_days", w.battery_days(), kMaxWarrantyDays, floor.battery_days());
  check("depreciation_bp_per_day", w.depreciation_bp_per_day(), kMaxDepreciationBp, 0);
}

void CheckCondition(Violations& v, const Listing& l) {
  const common::v1::GradeRef& g = l.declared_condition();
  if (g.scheme() != kConditionScheme) {
    v.Add("listing.declared_condition.scheme",
          absl::StrCat("\"", g.scheme(), "\", want \"", kConditionScheme, "\""));
    return;
  }
  if (g.version() != 0 && g.version() != kConditionSchemeVersion) {
    v.Add("listing.declared_condition.version",
          absl::StrCat(g.version(), ", want ", kConditionSchemeVersion, " (or 0)"));
  }
  const int index = ConditionIndex(g.level());
  if (index < 0) {
    v.Add("listing.declared_condition.level",
          absl::StrCat("\"", g.level(), "\", want one of ", absl::StrJoin(kConditionLevels, ", ")));
    return;
  }
  if (l.has_phone() && l.phone().repaired_parts_size() > 0 &&
      index < ConditionIndex(kRepairedPhoneCap)) {
    v.Add("listing.declared_condition.level",
          absl::StrCat("\"", g.level(), "\", want ", kRepairedPhoneCap,
                       " or lower for a phone with repaired parts"));
  }
}

// Every content rule of a listing (create and the result of an update).
void CollectViolations(const Listing& l, absl::Time now, Violations& v) {
  if (!l.seller().empty()) {
    absl::string_view id = l.seller();
    if (!absl::ConsumePrefix(&id, "subjects/") || id.empty() || absl::StrContains(id, '/')) {
      v.Add("listing.seller", absl::StrCat("\"", l.seller(), "\", want subjects/{subject}"));
    }
  }
  const Category category = l.category();
  if (category == common::v1::CATEGORY_UNSPECIFIED) {
    v.Add("listing.category", "required");
  } else if (!common::v1::Category_IsValid(category)) {
    v.Add("listing.category", absl::StrCat(static_cast<int>(category), ", want a known category"));
  }
  CheckText(v, "listing.title", l.title(), 0, kMaxTitleChars);
  CheckText(v, "listing.description", l.description(), 0, kMaxDescriptionChars);
  if (l.has_price()) {
    CheckNonNegative(v, "listing.price.amount_fen", l.price().amount_fen());
    if (!l.price().currency().empty() && l.price().currency() != "CNY") {
      v.Add("listing.price.currency",
            absl::StrCat("\"", l.price().currency(), "\", want \"CNY\" or empty"));
    }
  }

  const Category details_category = CategoryOfDetails(l);
  if (details_category != common::v1::CATEGORY_UNSPECIFIED && details_category != category) {
    v.Add(absl::StrCat("listing.", DetailsFieldFor(details_category)),
          absl::StrCat("details for ", CategoryName(details_category), ", want ",
                       DetailsFieldFor(category).empty()
                           ? "details matching the category"
                           : absl::StrCat(DetailsFieldFor(category), " for category ",
                                          CategoryName(category))));
  } else {
    switch (l.details_case()) {
      case Listing::kPhone:
        CheckPhone(v, l.phone());
        break;
      case Listing::kAppliance:
        CheckAppliance(v, l.appliance(), now);
        break;
      case Listing::kFurniture:
        CheckFurniture(v, l.furniture());
        break;
      case Listing::kVehicle:
        CheckVehicle(v, l.vehicle(), now);
        break;
      case Listing::DETAILS_NOT_SET:
        break;
    }
  }

  if (l.has_declared_condition()) CheckCondition(v, l);
  if (l.has_warranty_policy()) CheckWarranty(v, category, l.warranty_policy());

  if (l.disclosed_defects_size() > kMaxDefects) {
    v.Add("listing.disclosed_defects",
          absl::StrCat(l.disclosed_defects_size(), " entries, want <= ", kMaxDefects));
  }
  for (int i = 0; i < l.disclosed_defects_size(); ++i) {
    const std::string& defect = l.disclosed_defects(i);
    const std::string field = absl::StrCat("listing.disclosed_defects[", i, "]");
    if (absl::StripAsciiWhitespace(defect).empty()) {
      v.Add(field, "blank, want 1–200 characters");
    } else {
      CheckText(v, field, defect, 1, kMaxDefectChars);
    }
  }
  if (l.photos_size() > kMaxPhotos) {
    v.Add("listing.photos", absl::StrCat(l.photos_size(), " photos, want <= ", kMaxPhotos));
  }
  for (int i = 0; i < l.photos_size(); ++i) {
    if (!IsSha256Hex(l.photos(i).sha256())) {
      v.Add(absl::StrCat("listing.photos[", i, "].sha256"),
            absl::StrCat("\"", l.photos(i).sha256(), "\", want 64 lower-case hex digits"));
    }
  }
}

// Publish requirements that are missing, as field names under "listing.".
std::vector<std::string> MissingForPublish(const Listing& l) {
  std::vector<std::string> missing;
  if (absl::StripAsciiWhitespace(l.title()).empty()) missing.push_back("title");
  if (!l.has_price()) missing.push_back("price");
  if (l.details_case() == Listing::DETAILS_NOT_SET) {
    absl::string_view field = DetailsFieldFor(l.category());
    missing.push_back(field.empty() ? "details" : std::string(field));
  }
  if (!l.has_declared_condition()) missing.push_back("declared_condition");
  return missing;
}

bool PhoneNotWiped(const Listing& l) {
  return l.category() == common::v1::PHONE && l.has_phone() && !l.phone().data_wiped();
}

// Top-level update_mask paths (listing.proto UpdateListingRequest).
constexpr std::array<absl::string_view, 11> kUpdatablePaths = {
    "title",           "description",       "price",   "phone",
    "appliance",       "furniture",         "vehicle", "declared_condition",
    "warranty_policy", "disclosed_defects", "photos"};

// Whether `path` is an updatable path: a top-level entry of kUpdatablePaths or
// a sub-path through singular message fields of one of them.
bool IsUpdatablePath(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  bool top = false;
  for (absl::string_view p : kUpdatablePaths) top = top || p == parts[0];
  if (!top) return false;
  const google::protobuf::Descriptor* message = Listing::descriptor();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (message == nullptr) return false;
    const google::protobuf::FieldDescriptor* field =
        message->FindFieldByName(std::string(parts[i]));
    if (field == nullptr) return false;
    const bool last = i + 1 == parts.size();
    if (!last && (field->is_repeated() ||
                  field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE)) {
      return false;
    }
    message = field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE
                  ? field->message_type()
                  : nullptr;
  }
  return true;
}

// Identifiers that may change only in DRAFT, as (field path, value).
std::vector<std::pair<std::string, std::string>> Identifiers(const Listing& l) {
  std::vector<std::pair<std::string, std::string>> out;
  switch (l.details_case()) {
    case Listing::kPhone:
      out.emplace_back("listing.phone.imei", l.phone().imei());
      out.emplace_back("listing.phone.imei2", l.phone().imei2());
      break;
    case Listing::kAppliance:
      out.emplace_back("listing.appliance.serial_number", l.appliance().serial_number());
      break;
    case Listing::kFurniture:
      out.emplace_back("listing.furniture.serial_number", l.furniture().serial_number());
      break;
    case Listing::kVehicle:
      out.emplace_back("listing.vehicle.vin", l.vehicle().vin());
      out.emplace_back("listing.vehicle.engine_number", l.vehicle().engine_number());
      break;
    case Listing::DETAILS_NOT_SET:
      break;
  }
  return out;
}

// The legal edges of the state machine and who may take them.
struct Edge {
  Listing::State from;
  Listing::State to;
  std::vector<Actor> actors;
};

const std::vector<Edge>& Edges() {
  static const auto* edges = new std::vector<Edge>{
      {Listing::DRAFT, Listing::PUBLISHED, {Actor::kSeller}},
      {Listing::WITHDRAWN, Listing::PUBLISHED, {Actor::kSeller}},
      {Listing::PUBLISHED, Listing::RESERVED, {Actor::kSystem}},
      {Listing::RESERVED, Listing::PUBLISHED, {Actor::kSystem}},
      {Listing::RESERVED, Listing::SOLD, {Actor::kSystem}},
      {Listing::DRAFT, Listing::WITHDRAWN, {Actor::kSeller}},
      {Listing::PUBLISHED, Listing::WITHDRAWN, {Actor::kSeller}},
      {Listing::DRAFT, Listing::REMOVED, {Actor::kOperator, Actor::kSupervisor}},
      {Listing::PUBLISHED, Listing::REMOVED, {Actor::kOperator, Actor::kSupervisor}},
      {Listing::RESERVED, Listing::REMOVED, {Actor::kOperator, Actor::kSupervisor}},
      {Listing::WITHDRAWN, Listing::REMOVED, {Actor::kOperator, Actor::kSupervisor}},
  };
  return *edges;
}

// The FAILED_PRECONDITION reason for a refused (from, to) by an actor that
// may in general move listings into `to`.
absl::string_view RefusalReason(Listing::State from, Listing::State to, Actor actor) {
  switch (to) {
    case Listing::PUBLISHED:
      return actor == Actor::kSeller ? "LISTING_NOT_PUBLISHABLE" : "ILLEGAL_STATE_TRANSITION";
    case Listing::WITHDRAWN:
      return from == Listing::RESERVED ? "LISTING_RESERVED" : "LISTING_NOT_WITHDRAWABLE";
    case Listing::REMOVED:
      return "LISTING_NOT_REMOVABLE";
    case Listing::RESERVED:
      return "LISTING_NOT_AVAILABLE";
    default:
      return "ILLEGAL_STATE_TRANSITION";
  }
}

}  // namespace


int ConditionIndex(absl::string_view level) {
  auto it = absl::c_find(kConditionLevels, level);
  return it == kConditionLevels.end() ? -1 : static_cast<int>(it - kConditionLevels.begin());
}

absl::string_view ActorName(Actor actor) {
  switch (actor) {
    case Actor::kSeller:
      return "SELLER";
    case Actor::kOperator:
      return "OPERATOR";
    case Actor::kSupervisor:
      return "SUPERVISOR";
    case Actor::kSystem:
      return "SYSTEM";
  }
  return "UNKNOWN";
}

WarrantyPolicy DefaultWarranty(Category category) {
  WarrantyPolicy w;
  switch (category) {
    case common::v1::PHONE:
      w.set_repair_days(180);
      w.set_battery_days(90);
      break;
    case common::v1::APPLIANCE:
      w.set_repair_days(365);
      break;
    case common::v1::FURNITURE:
      w.set_repair_days(90);
      break;
    case common::v1::VEHICLE:
      w.set_exchange_km(3000);
      w.set_repair_days(90);
      w.set_repair_km(5000);
      break;
    default:
      return w;  // all zeros
  }
  // Every category: a 7-day refund and a 15-day exchange (60 for vehicles).
  w.set_refund_days(7);
  w.set_exchange_days(category == common::v1::VEHICLE ? 60 : 15);
  return w;
}

WarrantyPolicy EffectiveWarranty(Category category, const WarrantyPolicy& offered) {
  const WarrantyPolicy d = DefaultWarranty(category);
  WarrantyPolicy w = offered;
  if (w.refund_days() == 0) w.set_refund_days(d.refund_days());
  if (w.exchange_days() == 0) w.set_exchange_days(d.exchange_days());
  if (w.repair_days() == 0) w.set_repair_days(d.repair_days());
  if (w.exchange_km() == 0) w.set_exchange_km(d.exchange_km());
  if (w.repair_km() == 0) w.set_repair_km(d.repair_km());
  if (w.battery_days() == 0) w.set_battery_days(d.battery_days());
  if (w.depreciation_bp_per_day() == 0) w.set_depreciation_bp_per_day(d.depreciation_bp_per_day());
  return w;
}

absl::Status ValidateListingForCreate(const Listing& listing, absl::Time now) {
  Violations v;
  CollectViolations(listing, now, v);
  return v.ToStatus();
}

absl::StatusOr<Listing> ApplyListingUpdate(const Listing& current, const Listing& patch,
                                           const google::protobuf::FieldMask& mask,
                                           absl::Time now) {
  Violations v;
  if (mask.paths_size() == 0) {
    v.Add("update_mask", "required, want at least one path");
    return v.ToStatus();
  }
  for (const std::string& path : mask.paths()) {
    if (!IsUpdatablePath(path)) {
      v.Add("update_mask", absl::StrCat("\"", path, "\" is unknown or immutable"));
    }
  }
  if (!v.empty()) return v.ToStatus();

  Listing merged = current;
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(patch, mask, options, &merged);

  if (current.state() != Listing::DRAFT) {
    const auto before = Identifiers(current);
    const auto after = Identifiers(merged);
    for (const auto& [field, value] : after) {
      for (const auto& [old_field, old_value] : before) {
        if (field == old_field && value != old_value) {
          v.Add(field, absl::StrCat("\"", value, "\", want \"", old_value,
                                    "\": identifiers may change only in DRAFT"));
        }
      }
    }
  }
  if (current.state() == Listing::PUBLISHED) {
    for (const std::string& field : MissingForPublish(merged)) {
      v.Add(absl::StrCat("listing.", field), "required while PUBLISHED");
    }
    if (PhoneNotWiped(merged)) {
      v.Add("listing.phone.data_wiped", "false, want true while PUBLISHED");
    }
  }
  CollectViolations(merged, now, v);
  if (!v.empty()) return v.ToStatus();
  return merged;
}

absl::Status ValidateListingUpdate(const Listing& current, const Listing& patch,
                                   const google::protobuf::FieldMask& mask, absl::Time now) {
  return ApplyListingUpdate(current, patch, mask, now).status();
}

absl::Status CheckPublishable(const Listing& listing) {
  const std::vector<std::string> missing = MissingForPublish(listing);
  if (!missing.empty()) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "LISTING_INCOMPLETE",
                      absl::StrCat("missing ", absl::StrJoin(missing, ", ")));
  }
  if (PhoneNotWiped(listing)) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "DATA_WIPE_REQUIRED",
                      "a phone needs the seller's data-wipe attestation (phone.data_wiped) "
                      "before sale");
  }
  return absl::OkStatus();
}

absl::Status CheckEditable(Listing::State state) {
  if (state == Listing::DRAFT || state == Listing::PUBLISHED) return absl::OkStatus();
  return WithReason(absl::StatusCode::kFailedPrecondition, "LISTING_NOT_EDITABLE",
                    absl::StrCat("listing is ", StateName(state),
                                 "; only DRAFT and PUBLISHED listings can be edited"));
}

absl::Status CheckTransition(Listing::State from, Listing::State to, Actor actor) {
  bool actor_reaches_to = false;
  bool anyone_reaches_to = false;
  for (const Edge& e : Edges()) {
    if (e.from == from && e.to == to) {
      if (absl::c_linear_search(e.actors, actor)) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(ActorName(actor),
                                                      " may not move a listing from ",
                                                      StateName(from), " to ", StateName(to)));
    }
    if (e.to == to) {
      anyone_reaches_to = true;
      actor_reaches_to = actor_reaches_to || absl::c_linear_search(e.actors, actor);
    }
  }
  if (anyone_reaches_to && !actor_reaches_to) {
    return absl::PermissionDeniedError(
        absl::StrCat(ActorName(actor), " may not move a listing to ", StateName(to)));
  }
  return WithReason(absl::StatusCode::kFailedPrecondition, RefusalReason(from, to, actor),
                    absl::StrCat(StateName(from), " → ", StateName(to), " is not allowed"));
}

bool IsMileageRollback(int64_t km, absl::Span<const int64_t> earlier_km) {
  return std::any_of(earlier_km.begin(), earlier_km.end(),
                     [km](int64_t earlier) { return earlier > km; });
}

}  // namespace market::listing
