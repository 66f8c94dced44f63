#include "services/listing/listing_events.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/outbox/outbox.h"
#include "common/status/status.h"

namespace market::listing {
namespace {

bool Blank(absl::string_view s) { return absl::StripAsciiWhitespace(s).empty(); }

// One item-name part: trimmed, ASCII upper-cased, percent-encoded outside
// [A-Z0-9-._].
std::string EncodePart(absl::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string upper = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(raw));
  std::string out;
  out.reserve(upper.size());
  for (char ch : upper) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

bool ItemChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '%';
}

}  // namespace

absl::Status EnqueueObservation(sqlite::Connection& c, const std::string& event_id,
                                v1::RecordObservationRequest req, absl::Time now) {
  req.set_request_id(event_id);
  return outbox::Enqueue(
      c, outbox::Event{event_id, kObservationDestination, req.SerializeAsString(), req.parent()},
      now);
}

common::v1::Category CategoryOfDetails(const v1::Listing& l) {
  switch (l.details_case()) {
    case v1::Listing::kPhone:
      return common::v1::PHONE;
    case v1::Listing::kAppliance:
      return common::v1::APPLIANCE;
    case v1::Listing::kFurniture:
      return common::v1::FURNITURE;
    case v1::Listing::kVehicle:
      return common::v1::VEHICLE;
    case v1::Listing::DETAILS_NOT_SET:
      break;
  }
  return common::v1::CATEGORY_UNSPECIFIED;
}

std::string ItemName(const v1::Listing& listing) {
  if (CategoryOfDetails(listing) != listing.category()) return "";
  std::string id;
  switch (listing.details_case()) {
    case v1::Listing::kPhone:
      if (Blank(listing.phone().imei())) return "";
      id = EncodePart(listing.phone().imei());
      break;
    case v1::Listing::kVehicle:
      if (Blank(listing.vehicle().vin())) return "";
      id = EncodePart(listing.vehicle().vin());
      break;
    case v1::Listing::kAppliance: {
      const auto& a = listing.appliance();
      if (Blank(a.brand()) || Blank(a.model()) || Blank(a.serial_number())) return "";
      id = absl::StrCat(EncodePart(a.brand()), "~", EncodePart(a.model()), "~",
                        EncodePart(a.serial_number()));
      break;
    }
    case v1::Listing::kFurniture: {
      const auto& f = listing.furniture();
      if (Blank(f.serial_number())) return "";
      id = absl::StrCat(EncodePart(f.brand()), "~", EncodePart(f.serial_number()));
      break;
    }
    case v1::Listing::DETAILS_NOT_SET:
      return "";
  }
  return absl::StrCat("items/", common::v1::Category_Name(listing.category()), ":", id);
}

absl::StatusOr<common::v1::Category> ParseItemName(const std::string& name,
                                                   const std::string& field) {
  absl::string_view rest = name;
  size_t colon = rest.find(':');
  common::v1::Category category;
  if (!absl::ConsumePrefix(&rest, "items/") || colon == absl::string_view::npos ||
      !common::v1::Category_Parse(std::string(rest.substr(0, rest.find(':'))), &category) ||
      category == common::v1::CATEGORY_UNSPECIFIED) {
    return InvalidField(field, "want items/{PHONE|APPLIANCE|FURNITURE|VEHICLE}:{identifier}");
  }
  absl::string_view id = rest.substr(rest.find(':') + 1);
  // Long enough for every name ItemName() produces (three 100-character
  // parts, percent-encoded UTF-8: up to 9 bytes per character).
  if (id.empty() || id.size() > 4096 || !std::all_of(id.begin(), id.end(), ItemChar)) {
    return InvalidField(field, "identifier must be upper-case [A-Z0-9-._~] or percent-encoded");
  }
  return category;
}

}  // namespace market::listing
