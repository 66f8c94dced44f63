#include "services/appraisal/appraisal_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "common/validate/identifiers.h"
#include "services/listing/listing_events.h"
#include "common/resource/names.h"

namespace market::appraisal {
namespace {

using common::v1::Category;

constexpr int kMaxInspectionItems = 500;
constexpr int kMaxDefects = 50;
constexpr int kMaxDefectChars = 200;
constexpr int kMaxIdentifierBytes = 100;

bool IsSha256Hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

bool Blank(const std::string& s) { return absl::StripAsciiWhitespace(s).empty(); }

// Body-panel defect codes of GB/T 30323 (a degree 1-4 each).
const std::set<std::string>& BodyDefectCodes() {
  static const auto* codes = new std::set<std::string>{"HH", "BX", "XS", "LW", "AX", "XF"};
  return *codes;
}

// Structural-point defect codes of GB/T 30323.
const std::set<std::string>& StructuralDefectCodes() {
  static const auto* codes = new std::set<std::string>{"BX", "NQ", "GH", "SH", "ZZ"};
  return *codes;
}

void CheckMoney(const common::v1::Money& m, const std::string& field, Violations& v) {
  if (m.amount_fen() < 0) v.Add(field + ".amount_fen", "must be >= 0");
  if (!m.currency().empty() && m.currency() != "CNY") v.Add(field + ".currency", "want CNY");
}

void CheckIdentifiers(const v1::AppraisalContent& c, Violations& v) {
  const std::string f = absl::StrCat(kContentField, ".identifiers");
  const v1::ItemIdentifiers& id = c.identifiers();
  using Part = std::pair<const char*, const std::string*>;
  for (const auto& [name, value] :
       std::initializer_list<Part>{{"imei", &id.imei()},
                                   {"imei2", &id.imei2()},
                                   {"vin", &id.vin()},
                                   {"engine_number", &id.engine_number()},
                                   {"brand", &id.brand()},
                                   {"model", &id.model()},
                                   {"serial_number", &id.serial_number()}}) {
    if (value->size() > kMaxIdentifierBytes) {
      v.Add(absl::StrCat(f, ".", name),
            absl::StrCat("longer than ", kMaxIdentifierBytes, " bytes"));
    }
  }
  auto need = [&](const char* name, const std::string& value) {
    if (Blank(value)) {
      v.Add(absl::StrCat(f, ".", name),
            absl::StrCat("required for ", common::v1::Category_Name(c.category())));
    }
  };
  switch (c.category()) {
    case common::v1::PHONE:
      need("imei", id.imei());
      if (!id.imei().empty()) {
        if (absl::Status s = ValidateImei(id.imei()); !s.ok()) v.Add(f + ".imei", s.message());
      }
      if (!id.imei2().empty()) {
        if (absl::Status s = ValidateImei(id.imei2()); !s.ok()) v.Add(f + ".imei2", s.message());
      }
      break;
    case common::v1::VEHICLE:
      need("vin", id.vin());
      need("engine_number", id.engine_number());
      if (!id.vin().empty()) {
        if (absl::Status s = ValidateVin(id.vin()); !s.ok()) v.Add(f + ".vin", s.message());
      }
      break;
    case common::v1::APPLIANCE:
      need("brand", id.brand());
      need("model", id.model());
      need("serial_number", id.serial_number());
      break;
    default:
      break;
  }
}

void CheckInspectionItems(const v1::AppraisalContent& c, Violations& v) {
  if (c.inspection_items_size() > kMaxInspectionItems) {
    v.Add(absl::StrCat(kContentField, ".inspection_items"),
          absl::StrCat("more than ", kMaxInspectionItems, " items"));
  }
  for (int i = 0; i < c.inspection_items_size(); ++i) {
    const v1::InspectionItem& item = c.inspection_items(i);
    std::string f = absl::StrCat(kContentField, ".inspection_items[", i, "]");
    if (item.code().empty() || item.code().size() > 100)
      v.Add(f + ".code", "required, up to 100 bytes");
    if (item.result() == v1::InspectionItem::RESULT_UNSPECIFIED) {
      v.Add(f + ".result", "want NORMAL, DEFECT or NOT_INSPECTED");
    }
    if (item.result() == v1::InspectionItem::DEFECT && item.defect_code().empty()) {
      v.Add(f + ".defect_code", "required for a DEFECT");
    }
    if (item.result() != v1::InspectionItem::DEFECT &&
        (!item.defect_code().empty() || item.degree() != 0)) {
      v.Add(f + ".defect_code", "only a DEFECT has a defect code and degree");
    }
    if (item.degree() < 0 || item.degree() > 4) v.Add(f + ".degree", "want 0-4");
    bool body = c.category() == common::v1::VEHICLE && absl::StartsWith(item.code(), "body.");
    if (body && item.result() == v1::InspectionItem::DEFECT) {
      if (!BodyDefectCodes().contains(item.defect_code())) {
        v.Add(f + ".defect_code", "want one of HH, BX, XS, LW, AX, XF for a body panel");
      }
      if (item.degree() < 1) v.Add(f + ".degree", "want 1-4 for a body panel defect");
    }
    for (int p = 0; p < item.photo_sha256_size(); ++p) {
      if (!IsSha256Hex(item.photo_sha256(p))) {
        v.Add(absl::StrCat(f, ".photo_sha256[", p, "]"), "want 64 lower-case hex digits");
      }
    }
    if (Utf8CharCount(item.note()) > 500) v.Add(f + ".note", "longer than 500 characters");
  }
}

void CheckVehicle(const v1::AppraisalContent& c, Violations& v) {
  const std::string f = kContentField;
  if (c.category() != common::v1::VEHICLE) {
    if (c.has_tradability_checks()) v.Add(f + ".tradability_checks", "only for vehicles");
    if (c.structural_points_size() > 0) v.Add(f + ".structural_points", "only for vehicles");
    if (c.has_mileage_km()) v.Add(f + ".mileage_km", "only for vehicles");
    if (c.accident_found() || c.flood_found() || c.fire_found()) {
      v.Add(f + ".accident_found", "accident, flood and fire findings are for vehicles");
    }
    return;
  }
  if (!c.has_mileage_km()) v.Add(f + ".mileage_km", "required for a vehicle");
  if (c.has_mileage_km() && c.mileage_km() < 0) v.Add(f + ".mileage_km", "must be >= 0");
  if (!c.has_tradability_checks()) {
    v.Add(f + ".tradability_checks", "required for a vehicle: the 8 checks of GB/T 30323");
  }
  std::set<int> seen;
  bool any_defect = false;
  for (int i = 0; i < c.structural_points_size(); ++i) {
    const v1::StructuralPoint& p = c.structural_points(i);
    std::string pf = absl::StrCat(f, ".structural_points[", i, "]");
    if (p.point() == v1::StructuralPoint::POINT_UNSPECIFIED) {
      v.Add(pf + ".point", "required");
    } else if (!seen.insert(p.point()).second) {
      v.Add(pf + ".point", absl::StrCat(v1::StructuralPoint::Point_Name(p.point()), " repeated"));
    }
    for (int d = 0; d < p.defect_codes_size(); ++d) {
      if (!StructuralDefectCodes().contains(p.defect_codes(d))) {
        v.Add(absl::StrCat(pf, ".defect_codes[", d, "]"), "want one of BX, NQ, GH, SH, ZZ");
      }
    }
    for (int h = 0; h < p.photo_sha256_size(); ++h) {
      if (!IsSha256Hex(p.photo_sha256(h))) {
        v.Add(absl::StrCat(pf, ".photo_sha256[", h, "]"), "want 64 lower-case hex digits");
      }
    }
    any_defect = any_defect || p.defect_codes_size() > 0;
  }
  constexpr int kPoints = v1::StructuralPoint::Point_MAX;  // 13
  if (static_cast<int>(seen.size()) != kPoints) {
    std::vector<std::string> missing;
    for (int p = 1; p <= kPoints; ++p) {
      if (!seen.contains(p)) {
        missing.push_back(
            v1::StructuralPoint::Point_Name(static_cast<v1::StructuralPoint::Point>(p)));
      }
    }
    v.Add(f + ".structural_points",
          absl::StrCat("want all ", kPoints, " points of GB/T 30323; missing ",
                       absl::StrJoin(missing, ", ")));
  }
  if (any_defect && !c.accident_found()) {
    v.Add(f + ".accident_found",
          "a structural point has a defect: the vehicle is an accident vehicle");
  }
  if (!any_defect && c.accident_found()) {
    v.Add(f + ".accident_found", "no structural point has a defect code; name the damaged points");
  }
  if (Utf8CharCount(c.findings_note()) > 2000) {
    v.Add(f + ".findings_note", "longer than 2000 characters");
  }
}

}  // namespace

absl::Status InvalidWithReason(absl::string_view field, absl::string_view reason,
                               absl::string_view description) {
  absl::Status status = InvalidField(field, description);
  absl::Status info = WithReason(absl::StatusCode::kInvalidArgument, reason, description);
  if (auto payload = info.GetPayload(kErrorInfoPayloadUrl)) {
    status.SetPayload(kErrorInfoPayloadUrl, *payload);
  }
  return status;
}

std::string FirmSubject(absl::string_view firm) {
  if (!ValidCollectionName(firm, "firms")) return "";
  absl::ConsumePrefix(&firm, "firms/");
  return absl::StrCat("subjects/", firm);
}

std::string FirmOfSubject(absl::string_view subject) {
  absl::ConsumePrefix(&subject, "subjects/");
  return absl::StrCat("firms/", subject);
}

bool ValidFirmChildName(absl::string_view name, absl::string_view collection, std::string* firm) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, "firms/")) return false;
  size_t slash = rest.find('/');
  if (slash == 0 || slash == absl::string_view::npos || slash > 63) return false;
  if (!ValidCollectionName(rest.substr(slash + 1), collection)) return false;
  if (firm != nullptr) *firm = absl::StrCat("firms/", rest.substr(0, slash));
  return true;
}

absl::Status ValidateContent(const v1::AppraisalContent& c, absl::Time now) {
  Violations v;
  const std::string f = kContentField;
  if (c.report_number().empty() || c.report_number().size() > 64) {
    v.Add(f + ".report_number", "required, up to 64 bytes");
  }
  if (FirmSubject(c.firm()).empty()) v.Add(f + ".firm", "want firms/{firm}");
  if (absl::Status s = ValidateUscc(c.firm_credit_code()); !s.ok()) {
    v.Add(f + ".firm_credit_code", s.message());
  }
  if (!ValidCollectionName(c.appraiser(), "subjects")) {
    v.Add(f + ".appraiser", "want subjects/{subject}");
  }
  if (c.appraiser_qualification_number().empty() ||
      c.appraiser_qualification_number().size() > 64) {
    v.Add(f + ".appraiser_qualification_number", "required, up to 64 bytes");
  }
  if (!c.listing().empty() && !ValidMarketChildName(c.listing(), "listings", nullptr)) {
    v.Add(f + ".listing", "want markets/{market}/listings/{listing}");
  }
  if (c.category() == common::v1::CATEGORY_UNSPECIFIED ||
      !common::v1::Category_IsValid(c.category())) {
    v.Add(f + ".category", "want PHONE, APPLIANCE, FURNITURE or VEHICLE");
  }
  CheckIdentifiers(c, v);
  CheckInspectionItems(c, v);
  if (c.has_score() && (c.score() < 0 || c.score() > 100)) v.Add(f + ".score", "want 0-100");
  if (c.grades_size() == 0) v.Add(f + ".grades", "want at least one grade");
  std::set<std::string> schemes;
  for (int i = 0; i < c.grades_size(); ++i) {
    const common::v1::GradeRef& g = c.grades(i);
    std::string gf = absl::StrCat(f, ".grades[", i, "]");
    if (g.scheme().empty()) v.Add(gf + ".scheme", "required");
    if (g.version() < 1) v.Add(gf + ".version", "want >= 1");
    if (g.level().empty()) v.Add(gf + ".level", "required");
    if (!schemes.insert(g.scheme()).second) v.Add(gf + ".scheme", "one grade per scheme");
  }
  if (c.category() == common::v1::PHONE) {
    for (const char* need : {"phone-cosmetic-v1", "phone-function-v1"}) {
      if (!schemes.contains(need)) {
        v.Add(f + ".grades", absl::StrCat("a phone carries a ", need, " grade"));
      }
    }
  }
  if (c.disclosed_defects_size() > kMaxDefects) {
    v.Add(f + ".disclosed_defects", absl::StrCat("more than ", kMaxDefects));
  }
  for (int i = 0; i < c.disclosed_defects_size(); ++i) {
    size_t n = Utf8CharCount(c.disclosed_defects(i));
    if (n == 0 || n > kMaxDefectChars) {
      v.Add(absl::StrCat(f, ".disclosed_defects[", i, "]"),
            absl::StrCat("want 1-", kMaxDefectChars, " characters"));
    }
  }
  if (c.has_appraised_value_min())
    CheckMoney(c.appraised_value_min(), f + ".appraised_value_min", v);
  if (c.has_appraised_value_max())
    CheckMoney(c.appraised_value_max(), f + ".appraised_value_max", v);
  if (c.has_appraised_value_min() && c.has_appraised_value_max() &&
      c.appraised_value_min().amount_fen() > c.appraised_value_max().amount_fen()) {
    v.Add(f + ".appraised_value_max", "must be >= appraised_value_min");
  }
  CheckVehicle(c, v);
  if (!c.has_inspected_time()) {
    v.Add(f + ".inspected_time", "required");
  } else {
    absl::Time inspected = FromTimestamp(c.inspected_time());
    if (inspected > now) v.Add(f + ".inspected_time", "in the future");
    bool vehicle = c.category() == common::v1::VEHICLE;
    if (!c.has_valid_until()) {
      if (!vehicle) v.Add(f + ".valid_until", "required");
    } else {
      absl::Time until = FromTimestamp(c.valid_until());
      if (until <= inspected) v.Add(f + ".valid_until", "must be after inspected_time");
      if (vehicle && until > inspected + absl::Hours(24 * kVehicleValidityDays)) {
        v.Add(f + ".valid_until", absl::StrCat("a vehicle report is valid at most ",
                                               kVehicleValidityDays, " days after inspected_time"));
      }
    }
  }
  return v.ToStatus();
}

absl::Status CheckTradable(const v1::AppraisalContent& c) {
  if (c.category() != common::v1::VEHICLE) return absl::OkStatus();
  const v1::TradabilityChecks& t = c.tradability_checks();
  std::vector<std::string> found;
  const google::protobuf::Descriptor* d = t.GetDescriptor();
  const google::protobuf::Reflection* r = t.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    if (r->GetBool(t, d->field(i))) found.push_back(d->field(i)->name());
  }
  if (found.empty()) return absl::OkStatus();
  return WithReason(absl::StatusCode::kFailedPrecondition, "VEHICLE_NOT_TRADABLE",
                    absl::StrCat("tradability checks failed: ", absl::StrJoin(found, ", "),
                                 "; GB/T 30323 does not grade such a vehicle"));
}

std::string ItemOf(const v1::AppraisalContent& c) {
  const v1::ItemIdentifiers& id = c.identifiers();
  listing::v1::Listing l;
  l.set_category(c.category());
  switch (c.category()) {
    case common::v1::PHONE:
      l.mutable_phone()->set_imei(id.imei());
      break;
    case common::v1::VEHICLE:
      l.mutable_vehicle()->set_vin(id.vin());
      break;
    case common::v1::APPLIANCE:
      l.mutable_appliance()->set_brand(id.brand());
      l.mutable_appliance()->set_model(id.model());
      l.mutable_appliance()->set_serial_number(id.serial_number());
      break;
    case common::v1::FURNITURE:
      l.mutable_furniture()->set_brand(id.brand());
      l.mutable_furniture()->set_serial_number(id.serial_number());
      break;
    default:
      return "";
  }
  return listing::ItemName(l);
}

absl::Time EffectiveValidUntil(const v1::AppraisalContent& c) {
  if (c.has_valid_until()) return FromTimestamp(c.valid_until());
  absl::Time inspected = FromTimestamp(c.inspected_time());
  if (c.category() == common::v1::VEHICLE) {
    return inspected + absl::Hours(24 * kVehicleValidityDays);
  }
  return inspected;
}

bool CoversAt(const v1::Accreditation& a, std::optional<absl::Time> ended, Category category,
              absl::Time t) {
  if (std::find(a.categories().begin(), a.categories().end(), category) == a.categories().end()) {
    return false;
  }
  if (t < FromTimestamp(a.valid_from()) || t >= FromTimestamp(a.valid_until())) return false;
  return !ended.has_value() || t < *ended;
}

v1::Accreditation::State EffectiveState(const v1::Accreditation& a, absl::Time now) {
  if (a.state() != v1::Accreditation::REVOKED && now >= FromTimestamp(a.valid_until())) {
    return v1::Accreditation::EXPIRED;
  }
  return a.state();
}

listing::v1::Observation ObservationOf(const std::string& appraisal,
                                       const v1::AppraisalContent& c) {
  listing::v1::Observation o;
  o.set_source(appraisal);
  *o.mutable_observed_time() = c.inspected_time();
  if (c.category() == common::v1::VEHICLE && c.has_mileage_km()) {
    o.set_kind(listing::v1::Observation::MILEAGE);
    o.set_mileage_km(c.mileage_km());
    return o;
  }
  o.set_kind(listing::v1::Observation::IDENTITY);
  const v1::ItemIdentifiers& id = c.identifiers();
  auto& m = *o.mutable_identifiers();
  if (!id.imei().empty()) m["imei"] = id.imei();
  if (!id.imei2().empty()) m["imei2"] = id.imei2();
  if (!id.vin().empty()) m["vin"] = id.vin();
  if (!id.engine_number().empty()) m["engine_number"] = id.engine_number();
  if (!id.serial_number().empty()) m["serial_number"] = id.serial_number();
  return o;
}

listing::v1::AppraisalSummary SummaryOf(const std::string& appraisal,
                                        const v1::AppraisalContent& c) {
  listing::v1::AppraisalSummary s;
  s.set_name(appraisal);
  *s.mutable_grades() = c.grades();
  if (c.has_score()) s.set_score(c.score());
  *s.mutable_inspected_time() = c.inspected_time();
  *s.mutable_valid_until() = ToTimestamp(EffectiveValidUntil(c));
  return s;
}

}  // namespace market::appraisal
