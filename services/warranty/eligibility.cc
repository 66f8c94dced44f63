#include "services/warranty/eligibility.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace market::warranty {
namespace {

constexpr absl::Duration kDay = absl::Hours(24);

// The default used-goods policies (DOMAIN.md §5, *(policy)*). Depreciation
// per day follows the old 三包 rules where they had one (phones 0.5 %,
// household appliances 0.1 %); furniture and vehicles use 0.1 %.
struct CategoryRow {
  Category category;
  WarrantyTerms terms;
};
constexpr CategoryRow kDefaults[] = {
    {Category::kPhone,
     {.refund_days = 7,
      .exchange_days = 15,
      .repair_days = 180,
      .battery_days = 90,
      .depreciation_bp_per_day = 50}},
    {Category::kAppliance,
     {.refund_days = 7, .exchange_days = 15, .repair_days = 365, .depreciation_bp_per_day = 10}},
    {Category::kFurniture,
     {.refund_days = 7, .exchange_days = 15, .repair_days = 90, .depreciation_bp_per_day = 10}},
    {Category::kVehicle,
     {.refund_days = 7,
      .exchange_days = 60,
      .repair_days = 90,
      .exchange_km = 3000,
      .repair_km = 5000,
      .depreciation_bp_per_day = 10}},
};

const absl::string_view kMajorAssemblyCodes[] = {kFaultEngine, kFaultGearbox,
                                                     kFaultTractionBattery, kFaultDriveMotor};
const absl::string_view kSafetyCodes[] = {kFaultSteering, kFaultBrakes, kFaultBodyCrack,
                                              kFaultFuelLeak, kFaultBatteryFire};

// ceil(d / 24 h) for d > 0, else 0: each started 24 h is one day.
int64_t StartedDays(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  if (d == absl::InfiniteDuration()) return INT64_MAX;
  absl::Duration rem;
  int64_t full = absl::IDivDuration(d, kDay, &rem);
  return rem > absl::ZeroDuration() ? full + 1 : full;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return a < 0 ? INT64_MIN : INT64_MAX;
  return sum;
}

int ClampToInt(int64_t v) { return static_cast<int>(std::clamp<int64_t>(v, INT_MIN, INT_MAX)); }

KindDecision Allow(absl::string_view reason, absl::string_view rule = "") {
  return {.allowed = true,
          .reason = std::string(reason),
          .rule = std::string(rule.empty() ? reason : rule)};
}

KindDecision Deny(absl::string_view reason, absl::string_view rule = "") {
  return {.allowed = false,
          .reason = std::string(reason),
          .rule = std::string(rule.empty() ? reason : rule)};
}

// A repair as seen at `now`.
struct Repair {
  const RepairEntry* entry;
  int64_t days;
  RepairEntry::Outcome outcome;  // kInProgress if it had not ended by `now`.
  bool ended() const { return outcome != RepairEntry::Outcome::kInProgress; }
};

// Everything derived from the input at `now` that the rules read.
struct Facts {
  bool vehicle = false;
  int64_t elapsed_days = 0;
  int64_t repair_days = 0;
  absl::Time start;
  std::vector<Repair> repairs;  // since `start`, started by `now`
  std::optional<int64_t> driven_km;
  int failed_same_fault = 0;
  bool covered = false;
};

bool WithinKm(const Facts& f, int64_t limit_km) {
  if (!f.vehicle || limit_km == 0) return true;
  return f.driven_km.has_value() && *f.driven_km <= limit_km;
}

bool SameFault(const RepairEntry& r, const EligibilityInput& in) {
  return !in.fault_code.empty() && r.fault_code == in.fault_code;
}

bool RepairSerious(const RepairEntry& r) {
  return r.serious_safety || IsSafetyFaultCode(r.fault_code);
}

bool ClaimedMajorAssembly(const EligibilityInput& in) {
  return in.major_assembly_fault || IsMajorAssemblyFaultCode(in.fault_code);
}

bool ClaimedSafety(const EligibilityInput& in) {
  return in.safety_fault || IsSafetyFaultCode(in.fault_code);
}

bool ClaimedSerious(const EligibilityInput& in, const Facts& f) {
  if (in.serious_safety_fault || ClaimedSafety(in)) return true;
  for (const Repair& r : f.repairs) {
    if (SameFault(*r.entry, in) && r.entry->serious_safety) return true;
  }
  return false;
}

Facts Derive(const EligibilityInput& in, absl::Time now) {
  Facts f;
  f.vehicle = in.category == Category::kVehicle;
  f.start = *in.delivered;
  for (absl::Time e : in.exchanges) {
    if (e <= now && e > f.start) f.start = e;
  }
  for (const RepairEntry& r : in.repairs) {
    if (r.start < f.start || r.start > now) continue;
    bool ended = r.end.has_value() && *r.end <= now;
    absl::Time end = ended ? *r.end : now;
    Repair seen{.entry = &r,
                .days = StartedDays(end - r.start),
                .outcome = ended ? r.outcome : RepairEntry::Outcome::kInProgress};
    f.repair_days = SaturatingAdd(f.repair_days, seen.days);
    if (seen.outcome == RepairEntry::Outcome::kFailed && SameFault(r, in)) ++f.failed_same_fault;
    f.repairs.push_back(seen);
  }
  absl::Duration active = (now - f.start) - kDay * f.repair_days;
  f.elapsed_days = StartedDays(active);
  if (f.vehicle && in.delivery_mileage_km && in.current_mileage_km &&
      *in.current_mileage_km >= *in.delivery_mileage_km) {
    // Saturating: CheckEligibility also answers on unvalidated (e.g. negative) readings.
    int64_t driven;
    if (__builtin_sub_overflow(*in.current_mileage_km, *in.delivery_mileage_km, &driven)) {
      driven = INT64_MAX;
    }
    f.driven_km = driven;
  }
  f.covered = f.elapsed_days <= in.terms.repair_days && WithinKm(f, in.terms.repair_km);
  return f;
}

// The first stalled-repair rule that applies, or "".
absl::string_view StalledRule(const EligibilityInput& in, const Facts& f) {
  const int parts_days = in.category == Category::kPhone ? kStatutory.phone_parts_stall_days
                                                         : kStatutory.parts_stall_days;
  bool parts = false;
  bool repairer = false;
  for (const Repair& r : f.repairs) {
    if (r.outcome == RepairEntry::Outcome::kFixed) continue;
    switch (r.entry->delay_cause) {
      case RepairEntry::DelayCause::kPartsShortage:
        parts = parts || r.days > parts_days;
        break;
      case RepairEntry::DelayCause::kRepairerFault:
        repairer = repairer || r.days > kStatutory.repairer_fault_stall_days;
        break;
      case RepairEntry::DelayCause::kNone:
        break;
    }
  }
  if (parts) return kRuleStalledParts;
  if (repairer) return kRuleStalledRepairerFault;
  return "";
}

// The first SAMR Order 43 replace-or-refund trigger that applies, or "".
absl::string_view VehicleTrigger(const EligibilityInput& in, const Facts& f) {
  if (!f.vehicle) return "";
  if (ClaimedMajorAssembly(in) && f.elapsed_days <= kStatutory.vehicle_major_assembly_days) {
    return kRuleVehicleMajorAssembly7d;
  }
  if (ClaimedSafety(in) && f.elapsed_days <= kStatutory.vehicle_safety_days &&
      f.driven_km.has_value() && *f.driven_km <= kStatutory.vehicle_safety_km) {
    return kRuleVehicleSafetyFault60d3000km;
  }
  if (!f.covered) return "";
  int serious_repairs = 0;
  int replaced = 0;
  int same_fault = 0;
  for (const Repair& r : f.repairs) {
    if (!r.ended()) continue;
    if (RepairSerious(*r.entry)) ++serious_repairs;
    if (SameFault(*r.entry, in)) {
      ++same_fault;
      if (r.entry->major_assembly_replaced) ++replaced;
    }
  }
  if (serious_repairs >= kStatutory.vehicle_serious_safety_repairs && ClaimedSerious(in, f)) {
    return kRuleVehicleSeriousSafetyRepairedTwice;
  }
  if (replaced >= kStatutory.vehicle_major_assembly_replacements) {
    return kRuleVehicleMajorAssemblyReplacedTwice;
  }
  if (f.repair_days > kStatutory.vehicle_max_repair_days) return kRuleVehicleRepairDaysOver30;
  if (same_fault > kStatutory.vehicle_max_same_fault_repairs) return kRuleVehicleSameFaultOver4;
  return "";
}

bool RepairsFailed(const Facts& f) {
  return f.covered && f.failed_same_fault >= kStatutory.failed_repairs_for_exchange;
}

bool OneRepairFailed(const Facts& f) { return f.covered && f.failed_same_fault >= 1; }

void SetWindow(const EligibilityInput& in, const Facts& f, int days, int64_t km, KindDecision& d) {
  d.window_end = f.start + kDay * SaturatingAdd(days, f.repair_days);
  if (f.vehicle && km > 0 && in.delivery_mileage_km) {
    d.mileage_limit_km = SaturatingAdd(*in.delivery_mileage_km, km);
  }
}

// Fills the refund amount of an allowed refund.
void SetRefundAmount(const EligibilityInput& in, const Facts& f, KindDecision& d) {
  const int64_t price = std::max<int64_t>(in.price_fen, 0);
  int64_t deduction = 0;
  if (f.elapsed_days > in.terms.refund_days && in.terms.depreciation_bp_per_day > 0) {
    const __int128 bp = static_cast<__int128>(in.terms.depreciation_bp_per_day) * f.elapsed_days;
    if (bp >= kStatutory.basis_points) {
      deduction = price;
    } else {
      deduction = static_cast<int64_t>(price * bp / kStatutory.basis_points);
    }
  }
  d.depreciation_fen = deduction;
  d.refund_amount_fen = price - deduction;
}

KindDecision DecideRefund(const EligibilityInput& in, const Facts& f) {
  KindDecision d;
  if (f.elapsed_days <= in.terms.refund_days) {
    d = Allow(kWithinRefundWindow);
  } else if (absl::string_view rule = VehicleTrigger(in, f); !rule.empty()) {
    d = Allow(kVehicleMajorFault, rule);
  } else if (RepairsFailed(f)) {
    d = Allow(kRepairsFailed, kRuleSecondFailedRepair);
  } else if (OneRepairFailed(f)) {
    d = Deny(kRepairCountNotReached);
  } else {
    d = Deny(kRefundWindowClosed);
  }
  if (d.allowed) SetRefundAmount(in, f, d);
  SetWindow(in, f, in.terms.refund_days, 0, d);
  return d;
}

KindDecision DecideExchange(const EligibilityInput& in, const Facts& f) {
  const bool time_open = f.elapsed_days <= in.terms.exchange_days;
  KindDecision d;
  if (time_open && WithinKm(f, in.terms.exchange_km)) {
    d = Allow(kWithinExchangeWindow);
  } else if (absl::string_view rule = VehicleTrigger(in, f); !rule.empty()) {
    d = Allow(kVehicleMajorFault, rule);
  } else if (RepairsFailed(f)) {
    d = Allow(kRepairsFailed, kRuleSecondFailedRepair);
  } else if (absl::string_view stalled = StalledRule(in, f); f.covered && !stalled.empty()) {
    d = Allow(kRepairStalled, stalled);
  } else if (time_open) {
    d = Deny(kMileageExceeded, kRuleVehicleMileageExceeded);
  } else if (OneRepairFailed(f)) {
    d = Deny(kRepairCountNotReached);
  } else {
    d = Deny(kExchangeWindowClosed);
  }
  SetWindow(in, f, in.terms.exchange_days, in.terms.exchange_km, d);
  return d;
}

KindDecision DecideRepair(const EligibilityInput& in, const Facts& f) {
  const bool time_open = f.elapsed_days <= in.terms.repair_days;
  const bool open_repair =
      std::any_of(f.repairs.begin(), f.repairs.end(), [](const Repair& r) { return !r.ended(); });
  KindDecision d;
  if (open_repair) {
    d = Deny(kRepairInProgress);
  } else if (time_open && WithinKm(f, in.terms.repair_km)) {
    d = Allow(kWithinRepairWindow);
  } else if (time_open) {
    d = Deny(kMileageExceeded, kRuleVehicleMileageExceeded);
  } else {
    d = Deny(kRepairWindowClosed);
  }
  SetWindow(in, f, in.terms.repair_days, in.terms.repair_km, d);
  return d;
}

void CheckNonNegative(Violations& v, absl::string_view field, int64_t value) {
  if (value < 0) v.Add(field, absl::StrCat(value, ", want >= 0"));
}

// Vehicles: `value` must be at least `min`; for km limits 0 (none) is fine.
void CheckAtLeast(Violations& v, absl::string_view field, int64_t value, int64_t min,
                  bool zero_is_unlimited) {
  if (value < 0 || (zero_is_unlimited && value == 0)) return;
  if (value < min) {
    v.Add(field, absl::StrCat(value, ", want >= ", min, zero_is_unlimited ? " or 0 (no limit)" : "",
                              " (statutory minimum for vehicles)"));
  }
}

}  // namespace

bool IsMajorAssemblyFaultCode(absl::string_view fault_code) {
  return std::find(std::begin(kMajorAssemblyCodes), std::end(kMajorAssemblyCodes), fault_code) !=
         std::end(kMajorAssemblyCodes);
}

bool IsSafetyFaultCode(absl::string_view fault_code) {
  return std::find(std::begin(kSafetyCodes), std::end(kSafetyCodes), fault_code) !=
         std::end(kSafetyCodes);
}

WarrantyTerms DefaultTerms(Category category) {
  for (const CategoryRow& row : kDefaults) {
    if (row.category == category) return row.terms;
  }
  return {};
}

absl::Status ValidateTerms(Category category, const WarrantyTerms& t) {
  Violations v;
  CheckNonNegative(v, "warranty_policy.refund_days", t.refund_days);
  CheckNonNegative(v, "warranty_policy.exchange_days", t.exchange_days);
  CheckNonNegative(v, "warranty_policy.repair_days", t.repair_days);
  CheckNonNegative(v, "warranty_policy.exchange_km", t.exchange_km);
  CheckNonNegative(v, "warranty_policy.repair_km", t.repair_km);
  CheckNonNegative(v, "warranty_policy.battery_days", t.battery_days);
  CheckNonNegative(v, "warranty_policy.depreciation_bp_per_day", t.depreciation_bp_per_day);
  if (t.depreciation_bp_per_day > kStatutory.basis_points) {
    v.Add("warranty_policy.depreciation_bp_per_day",
          absl::StrCat(t.depreciation_bp_per_day, ", want <= ", kStatutory.basis_points));
  }
  if (category == Category::kVehicle) {
    const WarrantyTerms min = DefaultTerms(Category::kVehicle);
    CheckAtLeast(v, "warranty_policy.refund_days", t.refund_days, min.refund_days, false);
    CheckAtLeast(v, "warranty_policy.exchange_days", t.exchange_days, min.exchange_days, false);
    CheckAtLeast(v, "warranty_policy.repair_days", t.repair_days, min.repair_days, false);
    CheckAtLeast(v, "warranty_policy.exchange_km", t.exchange_km, min.exchange_km, true);
    CheckAtLeast(v, "warranty_policy.repair_km", t.repair_km, min.repair_km, true);
  } else {
    if (t.exchange_km > 0) v.Add("warranty_policy.exchange_km", "want 0: only vehicles have km");
    if (t.repair_km > 0) v.Add("warranty_policy.repair_km", "want 0: only vehicles have km");
  }
  return v.ToStatus();
}

absl::Status ValidateEligibilityInput(const EligibilityInput& in) {
  Violations v;
  v.Merge(ValidateTerms(in.category, in.terms));
  CheckNonNegative(v, "price_fen", in.price_fen);
  if (in.delivered) {
    for (size_t i = 0; i < in.exchanges.size(); ++i) {
      if (in.exchanges[i] < *in.delivered) {
        v.Add(absl::StrCat("exchanges[", i, "]"), "before delivery");
      }
    }
  }
  std::vector<const RepairEntry*> sorted;
  for (size_t i = 0; i < in.repairs.size(); ++i) {
    const RepairEntry& r = in.repairs[i];
    const std::string field = absl::StrCat("repairs[", i, "]");
    sorted.push_back(&r);
    if (in.delivered && r.start < *in.delivered) {
      v.Add(absl::StrCat(field, ".start_time"), "before delivery");
    }
    const bool open = r.outcome == RepairEntry::Outcome::kInProgress;
    if (open && r.end) v.Add(absl::StrCat(field, ".end_time"), "set on a repair in progress");
    if (!open && !r.end) v.Add(absl::StrCat(field, ".end_time"), "missing on an ended repair");
    if (r.end && *r.end < r.start) v.Add(absl::StrCat(field, ".end_time"), "before start_time");
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const RepairEntry* a, const RepairEntry* b) { return a->start < b->start; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const RepairEntry& prev = *sorted[i - 1];
    if (!prev.end || *prev.end > sorted[i]->start) {
      v.Add("repairs", "repairs overlap");
      break;
    }
  }
  if (in.category == Category::kVehicle) {
    if (!in.current_mileage_km) v.Add("mileage_km", "required for vehicles");
    if (!in.delivery_mileage_km) v.Add("delivery_mileage_km", "required for vehicles");
    if (in.delivery_mileage_km && *in.delivery_mileage_km < 0) {
      v.Add("delivery_mileage_km", absl::StrCat(*in.delivery_mileage_km, ", want >= 0"));
    }
    if (in.current_mileage_km && *in.current_mileage_km < 0) {
      v.Add("mileage_km", absl::StrCat(*in.current_mileage_km, ", want >= 0"));
    }
    if (in.current_mileage_km && in.delivery_mileage_km &&
        *in.current_mileage_km < *in.delivery_mileage_km) {
      v.Add("mileage_km", absl::StrCat(*in.current_mileage_km, ", want >= ",
                                       *in.delivery_mileage_km, " (reading at delivery)"));
    }
  }
  return v.ToStatus();
}

Eligibility CheckEligibility(const EligibilityInput& input, absl::Time now) {
  Eligibility out;
  if (!input.delivered || now < *input.delivered) {
    out.refund = Deny(kOrderNotDelivered);
    out.exchange = Deny(kOrderNotDelivered);
    out.repair = Deny(kOrderNotDelivered);
    return out;
  }
  const Facts f = Derive(input, now);
  out.elapsed_days = ClampToInt(f.elapsed_days);
  out.repair_days = ClampToInt(f.repair_days);
  out.failed_repair_count = f.failed_same_fault;
  out.refund = DecideRefund(input, f);
  out.exchange = DecideExchange(input, f);
  out.repair = DecideRepair(input, f);
  return out;
}

}  // namespace market::warranty
