// The warranty eligibility engine: given an order's warranty terms, delivery,
// exchanges, repair log and (vehicles) mileage, decides which claim kinds
// (REFUND, EXCHANGE, REPAIR) are allowed at a given instant and why not
// (DOMAIN.md §5, the "three guarantees", and SAMR Order 43 for vehicles).
//
// Pure domain code: no gRPC, protobuf or SQLite types; every function is a
// pure function of its arguments and thread-safe.
//
// Counting time
// -------------
// * Start point: the delivery instant, or the last exchange at or before `now`
//   if there was one (an exchange restarts every window, and repairs,
//   mileage and counts of the replaced goods no longer count; see below).
// * Repair days: each repair that started at or after the start point and at
//   or before `now` occupies [start, end), with `end` clamped to `now` (an
//   open repair, or one that ends after `now`, counts up to `now`). Each
//   started 24 h of one repair is one full repair day: ceil(duration / 24 h),
//   so 1 s → 1 day, exactly 24 h → 1 day, 24 h + 1 s → 2 days, 0 s → 0 days.
//   repair_days is the sum over those repairs (repairs must not overlap).
// * Active time: A = (now − start point) − repair_days × 24 h, at least 0.
//   Days in repair thus never count toward any window.
// * Elapsed days: elapsed_days = ceil(A / 24 h). The start instant is day 0;
//   day k is the interval A ∈ ((k−1)·24 h, k·24 h], so day 7 ends exactly at
//   A = 168 h (inclusive) and day 8 begins 1 ns later.
// * A window of N days is open while elapsed_days ≤ N, i.e. up to and including
//   the instant start point + N × 24 h + repair_days × 24 h (reported as
//   KindDecision::window_end). Day 7 is inside a 7-day window, day 8 is not.
// * The same elapsed_days is used for the statutory vehicle periods (7 days,
//   60 days) and for depreciation.
// * Stalled repairs use the repair days of that one repair: "more than 90
//   days" means more than 90 × 24 h (90 days + 1 s is 91 repair days).
// * Mileage (vehicles only): driven = current_mileage_km − delivery_mileage_km,
//   where delivery_mileage_km is the odometer when the buyer received the
//   vehicle now held (at delivery or at the last exchange). A limit of L km
//   holds while driven ≤ L (3,000 km allowed, 3,001 km not); a limit of 0
//   means no limit. Time or mileage, whichever runs out first, closes a window.
//   Unknown mileage (either reading missing, or the current one lower than the
//   baseline) fails closed: every non-zero km limit counts as exceeded.
//
// Rules and precedence (the first rule that applies decides the reason)
// --------------------------------------------------------------------
// "Covered" means inside the repair window: elapsed_days ≤ terms.repair_days
// and (vehicles) driven ≤ terms.repair_km. Only repairs since the start point
// count. "Failed repairs" are ended repairs with outcome kFailed and the same
// non-empty fault_code as the claim.
//
// All kinds: not delivered (or now before delivery) → denied
//   ORDER_NOT_DELIVERED.
// REFUND:   1. elapsed_days ≤ refund_days → WITHIN_REFUND_WINDOW (full price);
//           2. a vehicle trigger (below) → VEHICLE_MAJOR_FAULT;
//           3. covered and ≥ 2 failed repairs → REPAIRS_FAILED;
//           denied: covered and exactly 1 failed repair → REPAIR_COUNT_NOT_REACHED,
//           otherwise REFUND_WINDOW_CLOSED.
//           Refunds allowed by 2 or 3 deduct depreciation (below).
// EXCHANGE: 1. elapsed_days ≤ exchange_days and driven ≤ exchange_km →
//              WITHIN_EXCHANGE_WINDOW;
//           2. a vehicle trigger → VEHICLE_MAJOR_FAULT;
//           3. covered and ≥ 2 failed repairs → REPAIRS_FAILED;
//           4. covered and a stalled repair → REPAIR_STALLED (rule STALLED_PARTS
//              before STALLED_REPAIRER_FAULT);
//           denied: time inside the exchange window but mileage over →
//           MILEAGE_EXCEEDED; covered and exactly 1 failed repair →
//           REPAIR_COUNT_NOT_REACHED; otherwise EXCHANGE_WINDOW_CLOSED.
// REPAIR:   denied REPAIR_IN_PROGRESS while a repair is open (the goods are at
//           the repairer); 1. elapsed_days ≤ repair_days and driven ≤ repair_km
//           → WITHIN_REPAIR_WINDOW; denied: time inside but mileage over →
//           MILEAGE_EXCEEDED, otherwise REPAIR_WINDOW_CLOSED.
//
// Stalled repair: a repair since the start point, still open or ended kFailed,
// whose own repair days exceed StatutoryLimits::parts_stall_days (phones:
// phone_parts_stall_days) with delay cause kPartsShortage, or
// repairer_fault_stall_days with kRepairerFault. It allows EXCHANGE only.
//
// Vehicle triggers (SAMR Order 43 arts. 21, 24; category kVehicle only),
// checked in this order; each allows REFUND and EXCHANGE with reason
// VEHICLE_MAJOR_FAULT and the trigger as `rule`:
//   VEHICLE_MAJOR_ASSEMBLY_7D: the claimed fault is a major assembly fault
//     (engine, gearbox, traction battery, drive motor) and elapsed_days ≤ 7;
//   VEHICLE_SAFETY_FAULT_60D_3000KM: the claimed fault is a safety fault
//     (steering, brakes, body crack, fuel leak, battery fire), elapsed_days ≤ 60
//     and driven ≤ 3,000 km (mileage known);
//   and, only while covered (the used-goods repair window stands in for the
//   statutory 三包 period):
//   VEHICLE_SERIOUS_SAFETY_REPAIRED_TWICE: ≥ 2 ended repairs of serious safety
//     faults (any outcome) and the claimed fault is a serious safety fault (the
//     same one persisting or a new one);
//   VEHICLE_MAJOR_ASSEMBLY_REPLACED_TWICE: ≥ 2 ended repairs of the claimed
//     fault_code with major_assembly_replaced (the assembly still fails);
//   VEHICLE_REPAIR_DAYS_OVER_30: repair_days > 30;
//   VEHICLE_SAME_FAULT_OVER_4: > 4 ended repairs of the claimed fault_code.
// A fault is a major assembly fault if flagged or its code is ENGINE, GEARBOX,
// TRACTION_BATTERY or DRIVE_MOTOR; a safety fault if flagged or its code is
// STEERING, BRAKES, BODY_CRACK, FUEL_LEAK or BATTERY_FIRE; every safety fault is
// also a serious safety fault. A claimed fault is also serious when an earlier
// repair of the same fault_code was flagged serious_safety.
//
// Depreciation: a refund allowed after the refund window (elapsed_days >
// refund_days) deducts floor(price × depreciation_bp_per_day × elapsed_days /
// 10000) fen, capped at the price, so refund = price × (1 − bp × days / 10000)
// rounded up to the fen and never negative. Inside the window: full price.
#ifndef MARKET_SERVICES_WARRANTY_ELIGIBILITY_H_
#define MARKET_SERVICES_WARRANTY_ELIGIBILITY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace market::warranty {

// Goods categories (market.common.v1.Category without UNSPECIFIED).
enum class Category { kPhone, kAppliance, kFurniture, kVehicle };

// The warranty terms snapshotted on an order; mirrors
// market.common.v1.WarrantyPolicy field by field.
struct WarrantyTerms {
  // Days after delivery (or the last exchange) in which a refund is allowed.
  int refund_days = 0;
  // Days in which an exchange is allowed.
  int exchange_days = 0;
  // Days in which repairs are free (also the period of the failed-repair,
  // stalled-repair and most vehicle rules).
  int repair_days = 0;
  // Vehicles: km in which an exchange is allowed; 0 = no limit.
  int64_t exchange_km = 0;
  // Vehicles: km in which repairs are free; 0 = no limit.
  int64_t repair_km = 0;
  // Phones: battery warranty in days. Carried and validated; the engine does
  // not apply it (no battery fault code is defined for phones).
  int battery_days = 0;
  // Basis points of the price deducted per elapsed day from a refund granted
  // after the refund window.
  int depreciation_bp_per_day = 0;

  bool operator==(const WarrantyTerms&) const = default;
};

// Statutory numbers (DOMAIN.md §5, SAMR Order 43), in one table. Policy
// numbers (windows, km, depreciation) come from WarrantyTerms instead.
struct StatutoryLimits {
  // Failed repairs of the same fault after which exchange or refund is due.
  int failed_repairs_for_exchange = 2;
  // A repair waiting for parts longer than this many repair days is stalled.
  int parts_stall_days = 90;
  // The same for phones.
  int phone_parts_stall_days = 60;
  // A repair delayed through the repairer's fault longer than this is stalled.
  int repairer_fault_stall_days = 30;
  // Vehicles: major assembly fault within this many days.
  int vehicle_major_assembly_days = 7;
  // Vehicles: safety fault within this many days and ...
  int vehicle_safety_days = 60;
  // ... this many km.
  int64_t vehicle_safety_km = 3000;
  // Vehicles: serious safety repairs after which a serious fault triggers.
  int vehicle_serious_safety_repairs = 2;
  // Vehicles: replacements of one major assembly after which it triggers.
  int vehicle_major_assembly_replacements = 2;
  // Vehicles: cumulative repair days above which it triggers.
  int vehicle_max_repair_days = 30;
  // Vehicles: repairs of the same fault above which it triggers.
  int vehicle_max_same_fault_repairs = 4;
  // Depreciation is expressed in basis points of the price.
  int basis_points = 10000;
};
inline constexpr StatutoryLimits kStatutory{};

// Machine-readable reasons (KindDecision::reason). Those of
// market.warranty.v1.KindEligibility are reused verbatim.
inline constexpr char kOrderNotDelivered[] = "ORDER_NOT_DELIVERED";
inline constexpr char kWithinRefundWindow[] = "WITHIN_REFUND_WINDOW";
inline constexpr char kWithinExchangeWindow[] = "WITHIN_EXCHANGE_WINDOW";
inline constexpr char kWithinRepairWindow[] = "WITHIN_REPAIR_WINDOW";
inline constexpr char kRepairsFailed[] = "REPAIRS_FAILED";
inline constexpr char kRepairStalled[] = "REPAIR_STALLED";
inline constexpr char kVehicleMajorFault[] = "VEHICLE_MAJOR_FAULT";
inline constexpr char kRefundWindowClosed[] = "REFUND_WINDOW_CLOSED";
inline constexpr char kExchangeWindowClosed[] = "EXCHANGE_WINDOW_CLOSED";
inline constexpr char kRepairWindowClosed[] = "REPAIR_WINDOW_CLOSED";
inline constexpr char kRepairCountNotReached[] = "REPAIR_COUNT_NOT_REACHED";
inline constexpr char kMileageExceeded[] = "MILEAGE_EXCEEDED";
// Not (yet) in the proto's list: the goods are in an open repair.
inline constexpr char kRepairInProgress[] = "REPAIR_IN_PROGRESS";

// Finer rules (KindDecision::rule) where one reason covers several rules;
// otherwise rule == reason.
inline constexpr char kRuleSecondFailedRepair[] = "SECOND_FAILED_REPAIR";
inline constexpr char kRuleStalledParts[] = "STALLED_PARTS";
inline constexpr char kRuleStalledRepairerFault[] = "STALLED_REPAIRER_FAULT";
inline constexpr char kRuleVehicleMileageExceeded[] = "VEHICLE_MILEAGE_EXCEEDED";
inline constexpr char kRuleVehicleMajorAssembly7d[] = "VEHICLE_MAJOR_ASSEMBLY_7D";
inline constexpr char kRuleVehicleSafetyFault60d3000km[] = "VEHICLE_SAFETY_FAULT_60D_3000KM";
inline constexpr char kRuleVehicleSeriousSafetyRepairedTwice[] =
    "VEHICLE_SERIOUS_SAFETY_REPAIRED_TWICE";
inline constexpr char kRuleVehicleMajorAssemblyReplacedTwice[] =
    "VEHICLE_MAJOR_ASSEMBLY_REPLACED_TWICE";
inline constexpr char kRuleVehicleRepairDaysOver30[] = "VEHICLE_REPAIR_DAYS_OVER_30";
inline constexpr char kRuleVehicleSameFaultOver4[] = "VEHICLE_SAME_FAULT_OVER_4";

// Vehicle fault codes of market.warranty.v1.Claim.fault_code.
inline constexpr char kFaultEngine[] = "ENGINE";
inline constexpr char kFaultGearbox[] = "GEARBOX";
inline constexpr char kFaultTractionBattery[] = "TRACTION_BATTERY";
inline constexpr char kFaultDriveMotor[] = "DRIVE_MOTOR";
inline constexpr char kFaultSteering[] = "STEERING";
inline constexpr char kFaultBrakes[] = "BRAKES";
inline constexpr char kFaultBodyCrack[] = "BODY_CRACK";
inline constexpr char kFaultFuelLeak[] = "FUEL_LEAK";
inline constexpr char kFaultBatteryFire[] = "BATTERY_FIRE";

// True for ENGINE, GEARBOX, TRACTION_BATTERY, DRIVE_MOTOR.
bool IsMajorAssemblyFaultCode(absl::string_view fault_code);
// True for STEERING, BRAKES, BODY_CRACK, FUEL_LEAK, BATTERY_FIRE.
bool IsSafetyFaultCode(absl::string_view fault_code);

// The default used-goods policy of a category (DOMAIN.md §5): phone 7/15/180
// days + battery 90 days; appliance 7/15/365; furniture 7/15/90; vehicle 7 days,
// 60 days or 3,000 km, 90 days or 5,000 km. Depreciation per day (policy):
// phone 50 bp, appliance, furniture and vehicle 10 bp. For vehicles these are
// also the minimum a seller may offer.
WarrantyTerms DefaultTerms(Category category);

// OK, or INVALID_ARGUMENT naming every bad field as
// "warranty_policy.<field>": negative values; depreciation above 10000 bp;
// km limits on non-vehicles; vehicles offering less than DefaultTerms(kVehicle)
// (a km limit of 0 means none, which is more).
absl::Status ValidateTerms(Category category, const WarrantyTerms& terms);

// One repair of the goods.
struct RepairEntry {
  enum class Outcome { kInProgress, kFixed, kFailed };
  enum class DelayCause { kNone, kPartsShortage, kRepairerFault };

  // The fault repaired (Claim.fault_code); the same code means the same fault.
  std::string fault_code;
  // When the goods went into repair.
  absl::Time start;
  // When the repair ended; unset while in progress.
  std::optional<absl::Time> end;
  Outcome outcome = Outcome::kInProgress;
  DelayCause delay_cause = DelayCause::kNone;
  // Vehicles: a major assembly was replaced in this repair.
  bool major_assembly_replaced = false;
  // Vehicles: the repaired fault was a serious safety fault (implied by a
  // safety fault code).
  bool serious_safety = false;
};

// Everything the engine needs about one order and the claim being considered.
struct EligibilityInput {
  Category category = Category::kPhone;
  // The order's warranty policy snapshot.
  WarrantyTerms terms;
  // When the buyer confirmed delivery; unset before delivery.
  std::optional<absl::Time> delivered;
  // When goods were exchanged (each restarts the windows); any order.
  std::vector<absl::Time> exchanges;
  // Repair log of the order, any order, not overlapping.
  std::vector<RepairEntry> repairs;
  // Vehicles: odometer when the vehicle now held was handed over (delivery or
  // last exchange), and now.
  std::optional<int64_t> delivery_mileage_km;
  std::optional<int64_t> current_mileage_km;
  // The fault being claimed ("" if none named).
  std::string fault_code;
  // Vehicles: the claimed fault needs an engine, gearbox, traction battery or
  // drive motor (or a main part of one) replaced (implied by its code).
  bool major_assembly_fault = false;
  // Vehicles: steering or brake failure, body crack, fuel leak or battery fire
  // (implied by its code).
  bool safety_fault = false;
  // Vehicles: a serious safety fault (implied by safety_fault).
  bool serious_safety_fault = false;
  // The order price in fen.
  int64_t price_fen = 0;
};

// OK, or INVALID_ARGUMENT naming each bad field: the terms (as in
// ValidateTerms), negative price_fen, an exchange before delivery, a repair
// starting before delivery, ending before it starts, with an end but
// kInProgress (or kFixed/kFailed without an end), or overlapping another; a
// vehicle without mileage_km or delivery_mileage_km, with a negative one, or
// with the current reading below the baseline. CheckEligibility expects valid input; on other
// input it still returns a decision as documented above.
absl::Status ValidateEligibilityInput(const EligibilityInput& input);

// The decision for one claim kind.
struct KindDecision {
  bool allowed = false;
  // One of the reason constants above.
  std::string reason;
  // The finer rule behind `reason` (== reason unless a kRule* applies).
  std::string rule;
  // REFUND when allowed: the amount to return (price minus depreciation).
  int64_t refund_amount_fen = 0;
  // REFUND when allowed: the depreciation deducted.
  int64_t depreciation_fen = 0;
  // The last instant of this kind's own window as of now (repair days
  // excluded); unset before delivery.
  std::optional<absl::Time> window_end;
  // Vehicles: the odometer reading above which this kind's own window closes;
  // unset when there is no km limit or the baseline is unknown.
  std::optional<int64_t> mileage_limit_km;
};

// The decisions for all three kinds and the counts behind them.
struct Eligibility {
  KindDecision refund;
  KindDecision exchange;
  KindDecision repair;
  // Elapsed days since the start point, repair days excluded (see above).
  int elapsed_days = 0;
  // Repair days since the start point.
  int repair_days = 0;
  // Failed repairs of the claimed fault_code since the start point.
  int failed_repair_count = 0;
};

// Decides which claim kinds are allowed at `now` (pass Clock::Now()).
Eligibility CheckEligibility(const EligibilityInput& input, absl::Time now);

}  // namespace market::warranty

#endif  // MARKET_SERVICES_WARRANTY_ELIGIBILITY_H_
