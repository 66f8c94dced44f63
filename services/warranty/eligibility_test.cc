#include "services/warranty/eligibility.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::warranty {
namespace {

using ::market::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::UnorderedElementsAre;
using Outcome = RepairEntry::Outcome;
using Cause = RepairEntry::DelayCause;

const absl::Time kDelivered =
    absl::FromCivil(absl::CivilSecond(2025, 3, 1, 10, 0, 0), absl::UTCTimeZone());
constexpr int64_t kPriceFen = 100000;
constexpr int64_t kOdometerAtDelivery = 12000;

absl::Duration Days(int64_t n) { return absl::Hours(24 * n); }

RepairEntry Ended(std::string fault, absl::Duration start, absl::Duration length, Outcome outcome,
                  Cause cause = Cause::kNone) {
  RepairEntry r;
  r.fault_code = std::move(fault);
  r.start = kDelivered + start;
  r.end = r.start + length;
  r.outcome = outcome;
  r.delay_cause = cause;
  return r;
}
RepairEntry Fixed(std::string fault, absl::Duration start, absl::Duration length) {
  return Ended(std::move(fault), start, length, Outcome::kFixed);
}
RepairEntry Failed(std::string fault, absl::Duration start, absl::Duration length) {
  return Ended(std::move(fault), start, length, Outcome::kFailed);
}
RepairEntry Open(std::string fault, absl::Duration start, Cause cause = Cause::kNone) {
  RepairEntry r;
  r.fault_code = std::move(fault);
  r.start = kDelivered + start;
  r.delay_cause = cause;
  return r;
}

// An order of `category` on its default terms, delivered at kDelivered;
// vehicles have not been driven yet.
EligibilityInput BaseInput(Category category) {
  EligibilityInput in;
  in.category = category;
  in.terms = DefaultTerms(category);
  in.delivered = kDelivered;
  in.price_fen = kPriceFen;
  if (category == Category::kVehicle) {
    in.delivery_mileage_km = kOdometerAtDelivery;
    in.current_mileage_km = kOdometerAtDelivery;
  }
  return in;
}

void Drive(EligibilityInput& in, int64_t km) { in.current_mileage_km = kOdometerAtDelivery + km; }

struct Expect {
  bool allowed;
  std::string reason;
  std::string rule;  // "" = same as reason
};
Expect Ok(std::string reason, std::string rule = "") {
  return {true, std::move(reason), std::move(rule)};
}
Expect No(std::string reason, std::string rule = "") {
  return {false, std::move(reason), std::move(rule)};
}

struct Case {
  std::string name;
  Category category;
  // How long after delivery the check runs.
  absl::Duration at;
  // Changes to BaseInput(category); may be null.
  std::function<void(EligibilityInput&)> setup;
  Expect refund;
  Expect exchange;
  Expect repair;
  std::optional<int> elapsed_days = std::nullopt;
  std::optional<int> repair_days = std::nullopt;
};

constexpr Category kPhone = Category::kPhone;
constexpr Category kAppliance = Category::kAppliance;
constexpr Category kFurniture = Category::kFurniture;
constexpr Category kVehicle = Category::kVehicle;

// Default windows: phone 7/15/180, appliance 7/15/365, furniture 7/15/90,
// vehicle 7 / 60 d or 3,000 km / 90 d or 5,000 km.
std::vector<Case> Cases() {
  return {
      // --- Delivery -------------------------------------------------------
      {.name = "not_delivered",
       .category = kAppliance,
       .at = Days(1),
       .setup = [](EligibilityInput& in) { in.delivered.reset(); },
       .refund = No(kOrderNotDelivered),
       .exchange = No(kOrderNotDelivered),
       .repair = No(kOrderNotDelivered)},
      {.name = "now_before_delivery",
       .category = kAppliance,
       .at = -absl::Hours(1),
       .refund = No(kOrderNotDelivered),
       .exchange = No(kOrderNotDelivered),
       .repair = No(kOrderNotDelivered)},
      {.name = "delivery_instant_is_day0",
       .category = kAppliance,
       .at = absl::ZeroDuration(),
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 0},
      {.name = "first_second_is_day1",
       .category = kAppliance,
       .at = absl::Seconds(1),
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 1},
      // --- Refund window: day 7 vs day 8 ----------------------------------
      {.name = "day7_middle_refund_allowed",
       .category = kAppliance,
       .at = Days(6) + absl::Hours(12),
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 7},
      {.name = "day7_last_instant_refund_allowed",
       .category = kAppliance,
       .at = Days(7),
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 7},
      {.name = "day8_first_nanosecond_refund_closed",
       .category = kAppliance,
       .at = Days(7) + absl::Nanoseconds(1),
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 8},
      {.name = "day8_middle_refund_closed",
       .category = kPhone,
       .at = Days(7) + absl::Hours(12),
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 8},
      // --- Exchange window: day 15 vs day 16 ------------------------------
      {.name = "day15_last_instant_exchange_allowed",
       .category = kAppliance,
       .at = Days(15),
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 15},
      {.name = "day16_first_second_exchange_closed",
       .category = kFurniture,
       .at = Days(15) + absl::Seconds(1),
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 16},
      // --- Repair windows per category -------------------------------------
      {.name = "appliance_day365_repair_allowed",
       .category = kAppliance,
       .at = Days(365),
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "appliance_day366_repair_closed",
       .category = kAppliance,
       .at = Days(365) + absl::Seconds(1),
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairWindowClosed)},
      {.name = "phone_day180_repair_allowed",
       .category = kPhone,
       .at = Days(180),
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "phone_day181_repair_closed",
       .category = kPhone,
       .at = Days(180) + absl::Seconds(1),
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairWindowClosed)},
      {.name = "furniture_day90_repair_allowed",
       .category = kFurniture,
       .at = Days(90),
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "furniture_day91_repair_closed",
       .category = kFurniture,
       .at = Days(90) + absl::Seconds(1),
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairWindowClosed)},
      // --- The policy's values, not the defaults ---------------------------
      {.name = "seller_offers_30_day_refund",
       .category = kAppliance,
       .at = Days(20),
       .setup = [](EligibilityInput& in) { in.terms.refund_days = 30; },
       .refund = Ok(kWithinRefundWindow),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "zero_day_refund_policy_closed_after_delivery",
       .category = kFurniture,
       .at = absl::Seconds(1),
       .setup = [](EligibilityInput& in) { in.terms.refund_days = 0; },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 1},
      // --- Days in repair are excluded; 24 h rounding ----------------------
      {.name = "repair_days_excluded_day7",
       .category = kAppliance,
       .at = Days(10),
       .setup = [](EligibilityInput& in) { in.repairs = {Fixed("SCREEN", Days(2), Days(3))}; },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 7,
       .repair_days = 3},
      {.name = "repair_days_excluded_day8",
       .category = kAppliance,
       .at = Days(10) + absl::Seconds(1),
       .setup = [](EligibilityInput& in) { in.repairs = {Fixed("SCREEN", Days(2), Days(3))}; },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 8,
       .repair_days = 3},
      {.name = "repair_days_extend_exchange_day15",
       .category = kPhone,
       .at = Days(19),
       .setup = [](EligibilityInput& in) { in.repairs = {Fixed("SCREEN", Days(3), Days(4))}; },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 15,
       .repair_days = 4},
      {.name = "repair_days_extend_exchange_day16",
       .category = kPhone,
       .at = Days(19) + absl::Seconds(1),
       .setup = [](EligibilityInput& in) { in.repairs = {Fixed("SCREEN", Days(3), Days(4))}; },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 16,
       .repair_days = 4},
      {.name = "repair_of_1h_counts_one_day",
       .category = kAppliance,
       .at = Days(8),
       .setup = [](EligibilityInput& in) { in.repairs = {Fixed("DOOR", Days(2), absl::Hours(1))}; },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 7,
       .repair_days = 1},
      {.name = "repair_of_exactly_24h_counts_one_day",
       .category = kAppliance,
       .at = Days(9),
       .setup = [](EligibilityInput& in) { in.repairs = {Fixed("DOOR", Days(2), Days(1))}; },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 8,
       .repair_days = 1},
      {.name = "repair_of_24h_plus_1s_counts_two_days",
       .category = kAppliance,
       .at = Days(9),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Fixed("DOOR", Days(2), Days(1) + absl::Seconds(1))};
           },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 7,
       .repair_days = 2},
      {.name = "open_repair_counts_up_to_now",
       .category = kAppliance,
       .at = Days(30),
       .setup = [](EligibilityInput& in) { in.repairs = {Open("COMPRESSOR", Days(5))}; },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = No(kRepairInProgress),
       .elapsed_days = 5,
       .repair_days = 25},
      {.name = "open_repair_of_30h_counts_two_days",
       .category = kAppliance,
       .at = Days(7) + absl::Hours(30),
       .setup = [](EligibilityInput& in) { in.repairs = {Open("COMPRESSOR", Days(7))}; },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = No(kRepairInProgress),
       .elapsed_days = 7,
       .repair_days = 2},
      {.name = "repair_ending_after_now_is_still_open",
       .category = kPhone,
       .at = Days(22),
       .setup = [](EligibilityInput& in) { in.repairs = {Failed("SCREEN", Days(20), Days(5))}; },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairInProgress),
       .elapsed_days = 20,
       .repair_days = 2},
      // --- An exchange restarts the windows --------------------------------
      {.name = "exchange_restarts_refund_day7",
       .category = kAppliance,
       .at = Days(17),
       .setup = [](EligibilityInput& in) { in.exchanges = {kDelivered + Days(10)}; },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 7},
      {.name = "exchange_restarts_refund_day8",
       .category = kAppliance,
       .at = Days(17) + absl::Seconds(1),
       .setup = [](EligibilityInput& in) { in.exchanges = {kDelivered + Days(10)}; },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 8},
      {.name = "exchange_restarts_exchange_day15",
       .category = kPhone,
       .at = Days(25),
       .setup = [](EligibilityInput& in) { in.exchanges = {kDelivered + Days(10)}; },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 15},
      {.name = "exchange_restarts_exchange_day16",
       .category = kPhone,
       .at = Days(25) + absl::Seconds(1),
       .setup = [](EligibilityInput& in) { in.exchanges = {kDelivered + Days(10)}; },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 16},
      {.name = "exchange_restarts_repair_window",
       .category = kFurniture,
       .at = Days(120),
       .setup = [](EligibilityInput& in) { in.exchanges = {kDelivered + Days(40)}; },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 80},
      {.name = "latest_of_several_exchanges_counts",
       .category = kAppliance,
       .at = Days(45),
       .setup =
           [](EligibilityInput& in) {
             in.exchanges = {kDelivered + Days(40), kDelivered + Days(10)};
           },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 5},
      {.name = "future_exchange_ignored",
       .category = kAppliance,
       .at = Days(8),
       .setup = [](EligibilityInput& in) { in.exchanges = {kDelivered + Days(20)}; },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 8},
      {.name = "repairs_before_exchange_not_excluded",
       .category = kAppliance,
       .at = Days(17) + absl::Seconds(1),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Fixed("DOOR", Days(2), Days(5))};
             in.exchanges = {kDelivered + Days(10)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 8,
       .repair_days = 0},
      {.name = "exchange_resets_failed_repair_count",
       .category = kPhone,
       .at = Days(60),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "SCREEN";
             in.repairs = {Failed("SCREEN", Days(20), Days(3)),
                           Failed("SCREEN", Days(30), Days(3))};
             in.exchanges = {kDelivered + Days(40)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 20},
      // --- Failed repairs of the same fault --------------------------------
      {.name = "one_failed_repair_count_not_reached",
       .category = kPhone,
       .at = Days(40),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "SCREEN";
             in.repairs = {Failed("SCREEN", Days(20), Days(2))};
           },
       .refund = No(kRepairCountNotReached),
       .exchange = No(kRepairCountNotReached),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 38},
      {.name = "second_failed_repair_allows_exchange_and_refund",
       .category = kPhone,
       .at = Days(40),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "SCREEN";
             in.repairs = {Failed("SCREEN", Days(20), Days(2)),
                           Failed("SCREEN", Days(30), Days(2))};
           },
       .refund = Ok(kRepairsFailed, kRuleSecondFailedRepair),
       .exchange = Ok(kRepairsFailed, kRuleSecondFailedRepair),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 36,
       .repair_days = 4},
      {.name = "failed_repairs_of_different_faults_count_apart",
       .category = kAppliance,
       .at = Days(40),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "COMPRESSOR";
             in.repairs = {Failed("COMPRESSOR", Days(20), Days(2)),
                           Failed("THERMOSTAT", Days(30), Days(2))};
           },
       .refund = No(kRepairCountNotReached),
       .exchange = No(kRepairCountNotReached),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "fixed_then_failed_counts_one_failure",
       .category = kAppliance,
       .at = Days(40),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "COMPRESSOR";
             in.repairs = {Fixed("COMPRESSOR", Days(20), Days(2)),
                           Failed("COMPRESSOR", Days(30), Days(2))};
           },
       .refund = No(kRepairCountNotReached),
       .exchange = No(kRepairCountNotReached),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "failed_repairs_need_a_claimed_fault",
       .category = kPhone,
       .at = Days(40),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Failed("SCREEN", Days(20), Days(2)),
                           Failed("SCREEN", Days(30), Days(2))};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "second_failed_repair_last_day_of_repair_window",
       .category = kPhone,
       .at = Days(184),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "SCREEN";
             in.repairs = {Failed("SCREEN", Days(100), Days(2)),
                           Failed("SCREEN", Days(150), Days(2))};
           },
       .refund = Ok(kRepairsFailed, kRuleSecondFailedRepair),
       .exchange = Ok(kRepairsFailed, kRuleSecondFailedRepair),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 180},
      {.name = "second_failed_repair_after_repair_window",
       .category = kPhone,
       .at = Days(184) + absl::Seconds(1),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "SCREEN";
             in.repairs = {Failed("SCREEN", Days(100), Days(2)),
                           Failed("SCREEN", Days(150), Days(2))};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairWindowClosed),
       .elapsed_days = 181},
      {.name = "second_failed_repair_inside_exchange_window",
       .category = kPhone,
       .at = Days(10),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "SCREEN";
             in.repairs = {Failed("SCREEN", Days(1), absl::Hours(1)),
                           Failed("SCREEN", Days(3), absl::Hours(1))};
           },
       .refund = Ok(kRepairsFailed, kRuleSecondFailedRepair),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 8,
       .repair_days = 2},
      {.name = "third_repair_open_after_two_failed",
       .category = kPhone,
       .at = Days(40),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "SCREEN";
             in.repairs = {Failed("SCREEN", Days(20), Days(2)), Failed("SCREEN", Days(30), Days(2)),
                           Open("SCREEN", Days(35))};
           },
       .refund = Ok(kRepairsFailed, kRuleSecondFailedRepair),
       .exchange = Ok(kRepairsFailed, kRuleSecondFailedRepair),
       .repair = No(kRepairInProgress)},
      // --- Stalled repairs: parts 60 (phones) / 90 days, repairer 30 days ---
      {.name = "phone_parts_60_days_not_stalled",
       .category = kPhone,
       .at = Days(80),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Open("BOARD", Days(20), Cause::kPartsShortage)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairInProgress),
       .elapsed_days = 20,
       .repair_days = 60},
      {.name = "phone_parts_60_days_plus_1s_stalled",
       .category = kPhone,
       .at = Days(80) + absl::Seconds(1),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Open("BOARD", Days(20), Cause::kPartsShortage)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kRepairStalled, kRuleStalledParts),
       .repair = No(kRepairInProgress),
       .repair_days = 61},
      {.name = "appliance_parts_61_days_not_stalled",
       .category = kAppliance,
       .at = Days(81),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Open("BOARD", Days(20), Cause::kPartsShortage)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairInProgress),
       .repair_days = 61},
      {.name = "appliance_parts_90_days_not_stalled",
       .category = kAppliance,
       .at = Days(110),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Open("BOARD", Days(20), Cause::kPartsShortage)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairInProgress),
       .repair_days = 90},
      {.name = "appliance_parts_90_days_plus_1s_stalled",
       .category = kAppliance,
       .at = Days(110) + absl::Seconds(1),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Open("BOARD", Days(20), Cause::kPartsShortage)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kRepairStalled, kRuleStalledParts),
       .repair = No(kRepairInProgress),
       .repair_days = 91},
      {.name = "repairer_fault_30_days_not_stalled",
       .category = kAppliance,
       .at = Days(50),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Open("BOARD", Days(20), Cause::kRepairerFault)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairInProgress),
       .repair_days = 30},
      {.name = "repairer_fault_30_days_plus_1s_stalled",
       .category = kPhone,
       .at = Days(50) + absl::Seconds(1),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Open("BOARD", Days(20), Cause::kRepairerFault)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kRepairStalled, kRuleStalledRepairerFault),
       .repair = No(kRepairInProgress),
       .repair_days = 31},
      {.name = "stalled_repair_that_was_fixed_no_longer_counts",
       .category = kPhone,
       .at = Days(100),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {
                 Ended("BOARD", Days(20), Days(70), Outcome::kFixed, Cause::kPartsShortage)};
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 30},
      {.name = "stalled_repair_that_failed_still_counts",
       .category = kPhone,
       .at = Days(100),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "BOARD";
             in.repairs = {
                 Ended("BOARD", Days(20), Days(70), Outcome::kFailed, Cause::kPartsShortage)};
           },
       .refund = No(kRepairCountNotReached),
       .exchange = Ok(kRepairStalled, kRuleStalledParts),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "long_repair_without_delay_cause_not_stalled",
       .category = kAppliance,
       .at = Days(220),
       .setup = [](EligibilityInput& in) { in.repairs = {Open("BOARD", Days(20))}; },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairInProgress),
       .repair_days = 200},
      {.name = "stalled_inside_exchange_window_reports_window",
       .category = kPhone,
       .at = Days(63),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Open("BOARD", Days(2), Cause::kPartsShortage)};
           },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = No(kRepairInProgress),
       .elapsed_days = 2},
      // --- Vehicles: time or mileage, whichever first ----------------------
      {.name = "vehicle_3000km_exchange_allowed",
       .category = kVehicle,
       .at = Days(30),
       .setup = [](EligibilityInput& in) { Drive(in, 3000); },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_3001km_exchange_mileage_exceeded",
       .category = kVehicle,
       .at = Days(30),
       .setup = [](EligibilityInput& in) { Drive(in, 3001); },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kMileageExceeded, kRuleVehicleMileageExceeded),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_day60_exchange_allowed",
       .category = kVehicle,
       .at = Days(60),
       .setup = [](EligibilityInput& in) { Drive(in, 100); },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_day61_exchange_closed",
       .category = kVehicle,
       .at = Days(60) + absl::Seconds(1),
       .setup = [](EligibilityInput& in) { Drive(in, 100); },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_5000km_repair_allowed",
       .category = kVehicle,
       .at = Days(30),
       .setup = [](EligibilityInput& in) { Drive(in, 5000); },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kMileageExceeded, kRuleVehicleMileageExceeded),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_5001km_repair_mileage_exceeded",
       .category = kVehicle,
       .at = Days(30),
       .setup = [](EligibilityInput& in) { Drive(in, 5001); },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kMileageExceeded, kRuleVehicleMileageExceeded),
       .repair = No(kMileageExceeded, kRuleVehicleMileageExceeded)},
      {.name = "vehicle_day91_repair_closed",
       .category = kVehicle,
       .at = Days(90) + absl::Seconds(1),
       .setup = [](EligibilityInput& in) { Drive(in, 100); },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairWindowClosed)},
      {.name = "vehicle_unknown_mileage_fails_closed",
       .category = kVehicle,
       .at = Days(10),
       .setup = [](EligibilityInput& in) { in.current_mileage_km.reset(); },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kMileageExceeded, kRuleVehicleMileageExceeded),
       .repair = No(kMileageExceeded, kRuleVehicleMileageExceeded)},
      {.name = "vehicle_exchange_restarts_mileage_baseline",
       .category = kVehicle,
       .at = Days(40),
       .setup =
           [](EligibilityInput& in) {
             in.exchanges = {kDelivered + Days(20)};
             in.delivery_mileage_km = 15000;  // the replacement's odometer
             in.current_mileage_km = 17900;
           },
       .refund = No(kRefundWindowClosed),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 20},
      // --- SAMR Order 43: 7-day major assembly ------------------------------
      {.name = "vehicle_engine_fault_day7_over_exchange_km",
       .category = kVehicle,
       .at = Days(7),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultEngine;
             Drive(in, 3500);
           },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kVehicleMajorFault, kRuleVehicleMajorAssembly7d),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_engine_fault_day8_no_trigger",
       .category = kVehicle,
       .at = Days(7) + absl::Seconds(1),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultEngine;
             Drive(in, 3500);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kMileageExceeded, kRuleVehicleMileageExceeded),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_major_assembly_by_flag",
       .category = kVehicle,
       .at = Days(5),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "CYLINDER_BLOCK";
             in.major_assembly_fault = true;
             Drive(in, 3500);
           },
       .refund = Ok(kWithinRefundWindow),
       .exchange = Ok(kVehicleMajorFault, kRuleVehicleMajorAssembly7d),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_minor_fault_day5_no_trigger",
       .category = kVehicle,
       .at = Days(5),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "AIR_CONDITIONER";
             Drive(in, 3500);
           },
       .refund = Ok(kWithinRefundWindow),
       .exchange = No(kMileageExceeded, kRuleVehicleMileageExceeded),
       .repair = Ok(kWithinRepairWindow)},
      // --- SAMR Order 43: 60 days / 3,000 km safety faults ------------------
      {.name = "vehicle_brakes_day30_2999km",
       .category = kVehicle,
       .at = Days(30),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultBrakes;
             Drive(in, 2999);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleSafetyFault60d3000km),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_brakes_day30_3000km",
       .category = kVehicle,
       .at = Days(30),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultBrakes;
             Drive(in, 3000);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleSafetyFault60d3000km),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_brakes_day30_3001km",
       .category = kVehicle,
       .at = Days(30),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultBrakes;
             Drive(in, 3001);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kMileageExceeded, kRuleVehicleMileageExceeded),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_steering_day60",
       .category = kVehicle,
       .at = Days(60),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultSteering;
             Drive(in, 100);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleSafetyFault60d3000km),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_steering_day61",
       .category = kVehicle,
       .at = Days(60) + absl::Seconds(1),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultSteering;
             Drive(in, 100);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_safety_fault_by_flag",
       .category = kVehicle,
       .at = Days(20),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "HANDBRAKE_CABLE";
             in.safety_fault = true;
             Drive(in, 800);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleSafetyFault60d3000km),
       .exchange = Ok(kWithinExchangeWindow),
       .repair = Ok(kWithinRepairWindow)},
      // --- SAMR Order 43 inside the repair window ---------------------------
      {.name = "vehicle_serious_safety_repaired_twice_new_fault",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultFuelLeak;
             in.repairs = {Fixed(kFaultSteering, Days(10), Days(1)),
                           Fixed(kFaultBrakes, Days(20), Days(1))};
             Drive(in, 4000);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleSeriousSafetyRepairedTwice),
       .exchange = Ok(kVehicleMajorFault, kRuleVehicleSeriousSafetyRepairedTwice),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 73},
      {.name = "vehicle_serious_safety_failed_twice_by_flag",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "AIRBAG";
             in.repairs = {Failed("AIRBAG", Days(10), Days(1)),
                           Failed("AIRBAG", Days(20), Days(1))};
             for (RepairEntry& r : in.repairs) r.serious_safety = true;
             Drive(in, 4000);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleSeriousSafetyRepairedTwice),
       .exchange = Ok(kVehicleMajorFault, kRuleVehicleSeriousSafetyRepairedTwice),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_two_serious_repairs_but_claim_not_serious",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "AIR_CONDITIONER";
             in.repairs = {Fixed(kFaultSteering, Days(10), Days(1)),
                           Fixed(kFaultBrakes, Days(20), Days(1))};
             Drive(in, 4000);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_serious_safety_repaired_once",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultFuelLeak;
             in.repairs = {Fixed(kFaultSteering, Days(10), Days(1))};
             Drive(in, 4000);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_gearbox_replaced_twice",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultGearbox;
             in.repairs = {Fixed(kFaultGearbox, Days(10), Days(1)),
                           Fixed(kFaultGearbox, Days(20), Days(1))};
             for (RepairEntry& r : in.repairs) r.major_assembly_replaced = true;
             Drive(in, 4000);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleMajorAssemblyReplacedTwice),
       .exchange = Ok(kVehicleMajorFault, kRuleVehicleMajorAssemblyReplacedTwice),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_gearbox_replaced_once",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultGearbox;
             in.repairs = {Fixed(kFaultGearbox, Days(10), Days(1)),
                           Fixed(kFaultGearbox, Days(20), Days(1))};
             in.repairs[1].major_assembly_replaced = true;
             Drive(in, 4000);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_cumulative_repair_31_days",
       .category = kVehicle,
       .at = Days(101),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Fixed("AIR_CONDITIONER", Days(10), Days(20)),
                           Fixed("WINDOW_MOTOR", Days(40), Days(10) + absl::Seconds(1))};
             Drive(in, 4000);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleRepairDaysOver30),
       .exchange = Ok(kVehicleMajorFault, kRuleVehicleRepairDaysOver30),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 70,
       .repair_days = 31},
      {.name = "vehicle_cumulative_repair_30_days",
       .category = kVehicle,
       .at = Days(100),
       .setup =
           [](EligibilityInput& in) {
             in.repairs = {Fixed("AIR_CONDITIONER", Days(10), Days(20)),
                           Fixed("WINDOW_MOTOR", Days(40), Days(10))};
             Drive(in, 4000);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 70,
       .repair_days = 30},
      {.name = "vehicle_same_fault_repaired_5_times",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "RATTLE";
             for (int i = 1; i <= 5; ++i) {
               in.repairs.push_back(Fixed("RATTLE", Days(10 * i), absl::Hours(2)));
             }
             Drive(in, 4000);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleSameFaultOver4),
       .exchange = Ok(kVehicleMajorFault, kRuleVehicleSameFaultOver4),
       .repair = Ok(kWithinRepairWindow),
       .elapsed_days = 70,
       .repair_days = 5},
      {.name = "vehicle_same_fault_repaired_4_times",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "RATTLE";
             for (int i = 1; i <= 4; ++i) {
               in.repairs.push_back(Fixed("RATTLE", Days(10 * i), absl::Hours(2)));
             }
             Drive(in, 4000);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "vehicle_open_repair_not_counted_as_a_repair_done",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "RATTLE";
             for (int i = 1; i <= 4; ++i) {
               in.repairs.push_back(Fixed("RATTLE", Days(10 * i), absl::Hours(2)));
             }
             in.repairs.push_back(Open("RATTLE", Days(74)));
             Drive(in, 4000);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairInProgress),
       .repair_days = 5},
      {.name = "vehicle_triggers_end_with_repair_window",
       .category = kVehicle,
       .at = Days(100),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "RATTLE";
             for (int i = 1; i <= 5; ++i) {
               in.repairs.push_back(Fixed("RATTLE", Days(10 * i), absl::Hours(2)));
             }
             Drive(in, 4000);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kRepairWindowClosed),
       .elapsed_days = 95},
      {.name = "vehicle_triggers_end_with_repair_km",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "RATTLE";
             for (int i = 1; i <= 5; ++i) {
               in.repairs.push_back(Fixed("RATTLE", Days(10 * i), absl::Hours(2)));
             }
             Drive(in, 5001);
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = No(kMileageExceeded, kRuleVehicleMileageExceeded)},
      {.name = "vehicle_trigger_precedes_failed_repairs",
       .category = kVehicle,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = kFaultBrakes;
             in.repairs = {Failed(kFaultBrakes, Days(10), Days(1)),
                           Failed(kFaultBrakes, Days(20), Days(1))};
             Drive(in, 4000);
           },
       .refund = Ok(kVehicleMajorFault, kRuleVehicleSeriousSafetyRepairedTwice),
       .exchange = Ok(kVehicleMajorFault, kRuleVehicleSeriousSafetyRepairedTwice),
       .repair = Ok(kWithinRepairWindow)},
      {.name = "non_vehicle_ignores_vehicle_triggers",
       .category = kAppliance,
       .at = Days(75),
       .setup =
           [](EligibilityInput& in) {
             in.fault_code = "RATTLE";
             for (int i = 1; i <= 5; ++i) {
               in.repairs.push_back(Fixed("RATTLE", Days(10 * i), absl::Hours(2)));
             }
           },
       .refund = No(kRefundWindowClosed),
       .exchange = No(kExchangeWindowClosed),
       .repair = Ok(kWithinRepairWindow)},
  };
}

void ExpectDecision(const char* kind, const KindDecision& got, const Expect& want) {
  SCOPED_TRACE(kind);
  EXPECT_EQ(got.allowed, want.allowed);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.rule, want.rule.empty() ? want.reason : want.rule);
}

TEST(EligibilityTableTest, HasEnoughUniquelyNamedCases) {
  const std::vector<Case> cases = Cases();
  EXPECT_GE(cases.size(), 45u);
  std::set<std::string> names;
  for (const Case& c : cases) EXPECT_TRUE(names.insert(c.name).second) << c.name;
}

TEST(EligibilityTableTest, AllCases) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    EligibilityInput in = BaseInput(c.category);
    if (c.setup) c.setup(in);
    FakeClock clock(kDelivered);
    clock.Advance(c.at);
    const Eligibility got = CheckEligibility(in, clock.Now());
    ExpectDecision("refund", got.refund, c.refund);
    ExpectDecision("exchange", got.exchange, c.exchange);
    ExpectDecision("repair", got.repair, c.repair);
    if (c.elapsed_days) {
      EXPECT_EQ(got.elapsed_days, *c.elapsed_days);
    }
    if (c.repair_days) {
      EXPECT_EQ(got.repair_days, *c.repair_days);
    }
  }
}

// Walks a fake clock through the first 20 days in 1 h steps with a 3-day
// repair: refund stays allowed up to and including delivery + 10 days and is
// closed from then on.
TEST(EligibilityClockTest, RefundClosesExactlyOnceAtWindowEnd) {
  EligibilityInput in = BaseInput(Category::kAppliance);
  in.repairs = {Fixed("DOOR", Days(2), Days(3))};
  const absl::Time window_end = kDelivered + Days(10);
  FakeClock clock(kDelivered);
  while (clock.Now() <= kDelivered + Days(20)) {
    const Eligibility got = CheckEligibility(in, clock.Now());
    EXPECT_EQ(got.refund.allowed, clock.Now() <= window_end) << clock.Now();
    clock.Advance(absl::Hours(1));
  }
  clock.Set(window_end);
  EXPECT_TRUE(CheckEligibility(in, clock.Now()).refund.allowed);
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_FALSE(CheckEligibility(in, clock.Now()).refund.allowed);
}

TEST(EligibilityClockTest, ReportsWindowEndsAndMileageLimits) {
  EligibilityInput in = BaseInput(Category::kVehicle);
  in.repairs = {Fixed("DOOR", Days(2), absl::Hours(5))};
  Drive(in, 100);
  const Eligibility got = CheckEligibility(in, kDelivered + Days(3));
  EXPECT_EQ(got.refund.window_end, kDelivered + Days(8));
  EXPECT_EQ(got.exchange.window_end, kDelivered + Days(61));
  EXPECT_EQ(got.repair.window_end, kDelivered + Days(91));
  EXPECT_EQ(got.refund.mileage_limit_km, std::nullopt);
  EXPECT_EQ(got.exchange.mileage_limit_km, kOdometerAtDelivery + 3000);
  EXPECT_EQ(got.repair.mileage_limit_km, kOdometerAtDelivery + 5000);
}

TEST(EligibilityClockTest, NotDeliveredHasNoWindow) {
  EligibilityInput in = BaseInput(Category::kPhone);
  in.delivered.reset();
  const Eligibility got = CheckEligibility(in, kDelivered);
  EXPECT_EQ(got.refund.window_end, std::nullopt);
  EXPECT_EQ(got.elapsed_days, 0);
}

TEST(EligibilityCountsTest, ReportsFailedRepairsOfTheClaimedFault) {
  EligibilityInput in = BaseInput(Category::kPhone);
  in.fault_code = "SCREEN";
  in.repairs = {Failed("SCREEN", Days(20), Days(2)), Failed("BATTERY", Days(30), Days(2)),
                Failed("SCREEN", Days(40), Days(2))};
  EXPECT_EQ(CheckEligibility(in, kDelivered + Days(50)).failed_repair_count, 2);
}

// --- Refund amounts ---------------------------------------------------------

TEST(RefundAmountTest, FullPriceInsideRefundWindow) {
  EligibilityInput in = BaseInput(Category::kPhone);
  const Eligibility got = CheckEligibility(in, kDelivered + Days(7));
  ASSERT_TRUE(got.refund.allowed);
  EXPECT_EQ(got.refund.refund_amount_fen, kPriceFen);
  EXPECT_EQ(got.refund.depreciation_fen, 0);
}

TEST(RefundAmountTest, DeductsDailyRateForElapsedDaysExcludingRepairs) {
  EligibilityInput in = BaseInput(Category::kPhone);  // 50 bp per day
  in.fault_code = "SCREEN";
  in.repairs = {Failed("SCREEN", Days(20), Days(2)), Failed("SCREEN", Days(30), Days(2))};
  const Eligibility got = CheckEligibility(in, kDelivered + Days(40));
  ASSERT_TRUE(got.refund.allowed);
  ASSERT_EQ(got.elapsed_days, 36);
  // 100000 × 50 × 36 / 10000 = 18000.
  EXPECT_EQ(got.refund.depreciation_fen, 18000);
  EXPECT_EQ(got.refund.refund_amount_fen, 82000);
}

TEST(RefundAmountTest, VehicleTriggerRefundIsDepreciated) {
  EligibilityInput in = BaseInput(Category::kVehicle);  // 10 bp per day
  in.fault_code = kFaultBrakes;
  in.price_fen = 8'000'000;
  Drive(in, 1200);
  const Eligibility got = CheckEligibility(in, kDelivered + Days(30));
  ASSERT_TRUE(got.refund.allowed);
  EXPECT_EQ(got.refund.depreciation_fen, 240'000);
  EXPECT_EQ(got.refund.refund_amount_fen, 7'760'000);
}

TEST(RefundAmountTest, RoundsTheDeductionDownToTheFen) {
  EligibilityInput in = BaseInput(Category::kAppliance);
  in.terms.depreciation_bp_per_day = 33;
  in.price_fen = 999;
  in.fault_code = "DOOR";
  in.repairs = {Failed("DOOR", Days(1), absl::Hours(1)), Failed("DOOR", Days(3), absl::Hours(1))};
  const Eligibility got = CheckEligibility(in, kDelivered + Days(12));
  ASSERT_TRUE(got.refund.allowed);
  ASSERT_EQ(got.elapsed_days, 10);
  // 999 × 33 × 10 / 10000 = 32.967 → 32.
  EXPECT_EQ(got.refund.depreciation_fen, 32);
  EXPECT_EQ(got.refund.refund_amount_fen, 967);
}

TEST(RefundAmountTest, NeverNegative) {
  EligibilityInput in = BaseInput(Category::kPhone);
  in.terms.depreciation_bp_per_day = 500;  // 5 % a day: gone after 20 days
  in.fault_code = "SCREEN";
  in.repairs = {Failed("SCREEN", Days(20), Days(2)), Failed("SCREEN", Days(30), Days(2))};
  const Eligibility got = CheckEligibility(in, kDelivered + Days(40));
  ASSERT_TRUE(got.refund.allowed);
  EXPECT_EQ(got.refund.refund_amount_fen, 0);
  EXPECT_EQ(got.refund.depreciation_fen, kPriceFen);
}

TEST(RefundAmountTest, DeniedRefundHasNoAmount) {
  EligibilityInput in = BaseInput(Category::kPhone);
  const Eligibility got = CheckEligibility(in, kDelivered + Days(8));
  ASSERT_FALSE(got.refund.allowed);
  EXPECT_EQ(got.refund.refund_amount_fen, 0);
  EXPECT_EQ(got.refund.depreciation_fen, 0);
}

// --- Terms --------------------------------------------------------------------

TEST(DefaultTermsTest, MatchesDomainTable) {
  const WarrantyTerms phone = DefaultTerms(Category::kPhone);
  EXPECT_EQ(phone.refund_days, 7);
  EXPECT_EQ(phone.exchange_days, 15);
  EXPECT_EQ(phone.repair_days, 180);
  EXPECT_EQ(phone.battery_days, 90);
  EXPECT_EQ(phone.exchange_km, 0);
  EXPECT_EQ(phone.repair_km, 0);
  EXPECT_EQ(phone.depreciation_bp_per_day, 50);

  const WarrantyTerms appliance = DefaultTerms(Category::kAppliance);
  EXPECT_EQ(appliance.refund_days, 7);
  EXPECT_EQ(appliance.exchange_days, 15);
  EXPECT_EQ(appliance.repair_days, 365);
  EXPECT_EQ(appliance.battery_days, 0);
  EXPECT_EQ(appliance.depreciation_bp_per_day, 10);

  const WarrantyTerms furniture = DefaultTerms(Category::kFurniture);
  EXPECT_EQ(furniture.refund_days, 7);
  EXPECT_EQ(furniture.exchange_days, 15);
  EXPECT_EQ(furniture.repair_days, 90);
  EXPECT_EQ(furniture.depreciation_bp_per_day, 10);

  const WarrantyTerms vehicle = DefaultTerms(Category::kVehicle);
  EXPECT_EQ(vehicle.refund_days, 7);
  EXPECT_EQ(vehicle.exchange_days, 60);
  EXPECT_EQ(vehicle.exchange_km, 3000);
  EXPECT_EQ(vehicle.repair_days, 90);
  EXPECT_EQ(vehicle.repair_km, 5000);
  EXPECT_EQ(vehicle.depreciation_bp_per_day, 10);
}

TEST(ValidateTermsTest, DefaultsAreValid) {
  for (Category c :
       {Category::kPhone, Category::kAppliance, Category::kFurniture, Category::kVehicle}) {
    EXPECT_OK(ValidateTerms(c, DefaultTerms(c)));
  }
}

TEST(ValidateTermsTest, NegativeValuesNameEachField) {
  WarrantyTerms t = DefaultTerms(Category::kAppliance);
  t.refund_days = -1;
  t.repair_days = -5;
  t.depreciation_bp_per_day = -2;
  const absl::Status s = ValidateTerms(Category::kAppliance, t);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FieldViolationsOf(s),
              UnorderedElementsAre(
                  Field(&FieldViolation::field, "warranty_policy.refund_days"),
                  Field(&FieldViolation::field, "warranty_policy.repair_days"),
                  Field(&FieldViolation::field, "warranty_policy.depreciation_bp_per_day")));
}

TEST(ValidateTermsTest, VehicleMayNotOfferLessThanStatutoryMinimum) {
  WarrantyTerms t = DefaultTerms(Category::kVehicle);
  t.refund_days = 6;
  t.exchange_days = 59;
  t.exchange_km = 2999;
  t.repair_days = 89;
  t.repair_km = 4999;
  const absl::Status s = ValidateTerms(Category::kVehicle, t);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FieldViolationsOf(s),
              UnorderedElementsAre(Field(&FieldViolation::field, "warranty_policy.refund_days"),
                                   Field(&FieldViolation::field, "warranty_policy.exchange_days"),
                                   Field(&FieldViolation::field, "warranty_policy.exchange_km"),
                                   Field(&FieldViolation::field, "warranty_policy.repair_days"),
                                   Field(&FieldViolation::field, "warranty_policy.repair_km")));
}

TEST(ValidateTermsTest, VehicleMayOfferMoreOrNoKmLimit) {
  WarrantyTerms t = DefaultTerms(Category::kVehicle);
  t.exchange_days = 90;
  t.exchange_km = 0;  // no limit
  t.repair_days = 365;
  t.repair_km = 20000;
  EXPECT_OK(ValidateTerms(Category::kVehicle, t));
}

TEST(ValidateTermsTest, OtherCategoriesMayOfferLessButNoKm) {
  WarrantyTerms t = DefaultTerms(Category::kFurniture);
  t.refund_days = 0;
  t.exchange_days = 3;
  EXPECT_OK(ValidateTerms(Category::kFurniture, t));
  t.exchange_km = 100;
  EXPECT_THAT(FieldViolationsOf(ValidateTerms(Category::kFurniture, t)),
              ElementsAre(Field(&FieldViolation::field, "warranty_policy.exchange_km")));
}

TEST(ValidateTermsTest, DepreciationAboveWholePriceRejected) {
  WarrantyTerms t = DefaultTerms(Category::kPhone);
  t.depreciation_bp_per_day = 10001;
  EXPECT_THAT(
      FieldViolationsOf(ValidateTerms(Category::kPhone, t)),
      ElementsAre(Field(&FieldViolation::field, "warranty_policy.depreciation_bp_per_day")));
  t.depreciation_bp_per_day = 10000;
  EXPECT_OK(ValidateTerms(Category::kPhone, t));
}

// --- Input validation and fault codes ----------------------------------------

TEST(ValidateEligibilityInputTest, ValidInputIsOk) {
  EligibilityInput in = BaseInput(Category::kVehicle);
  in.repairs = {Failed(kFaultBrakes, Days(1), Days(1)), Open(kFaultBrakes, Days(3))};
  in.exchanges = {kDelivered + Days(2)};
  EXPECT_OK(ValidateEligibilityInput(in));
  EXPECT_OK(ValidateEligibilityInput(BaseInput(Category::kPhone)));
}

TEST(ValidateEligibilityInputTest, VehicleNeedsMileage) {
  EligibilityInput in = BaseInput(Category::kVehicle);
  in.current_mileage_km.reset();
  EXPECT_THAT(FieldViolationsOf(ValidateEligibilityInput(in)),
              ElementsAre(Field(&FieldViolation::field, "mileage_km")));
  in.current_mileage_km = kOdometerAtDelivery - 1;
  EXPECT_THAT(FieldViolationsOf(ValidateEligibilityInput(in)),
              ElementsAre(Field(&FieldViolation::field, "mileage_km")));
}

TEST(ValidateEligibilityInputTest, RejectsInconsistentHistory) {
  EligibilityInput in = BaseInput(Category::kAppliance);
  in.exchanges = {kDelivered - absl::Hours(1)};
  in.repairs = {Fixed("DOOR", Days(1), Days(3)), Fixed("DOOR", Days(2), Days(1))};
  in.repairs.push_back(Open("DOOR", Days(10)));
  in.repairs.back().end = kDelivered + Days(11);
  in.price_fen = -1;
  EXPECT_THAT(FieldViolationsOf(ValidateEligibilityInput(in)),
              UnorderedElementsAre(Field(&FieldViolation::field, "price_fen"),
                                   Field(&FieldViolation::field, "exchanges[0]"),
                                   Field(&FieldViolation::field, "repairs[2].end_time"),
                                   Field(&FieldViolation::field, "repairs")));
}

TEST(ValidateEligibilityInputTest, TermsFieldsKeepTheirNames) {
  EligibilityInput in = BaseInput(Category::kVehicle);
  in.terms.exchange_days = 30;
  EXPECT_THAT(FieldViolationsOf(ValidateEligibilityInput(in)),
              ElementsAre(Field(&FieldViolation::field, "warranty_policy.exchange_days")));
}

TEST(FaultCodeTest, ClassifiesProtoFaultCodes) {
  for (const char* code : {kFaultEngine, kFaultGearbox, kFaultTractionBattery, kFaultDriveMotor}) {
    EXPECT_TRUE(IsMajorAssemblyFaultCode(code)) << code;
    EXPECT_FALSE(IsSafetyFaultCode(code)) << code;
  }
  for (const char* code :
       {kFaultSteering, kFaultBrakes, kFaultBodyCrack, kFaultFuelLeak, kFaultBatteryFire}) {
    EXPECT_TRUE(IsSafetyFaultCode(code)) << code;
    EXPECT_FALSE(IsMajorAssemblyFaultCode(code)) << code;
  }
  EXPECT_FALSE(IsSafetyFaultCode("brakes"));
  EXPECT_FALSE(IsMajorAssemblyFaultCode(""));
}

}  // namespace
}  // namespace market::warranty
