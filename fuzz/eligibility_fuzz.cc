// The warranty decision engine (services/warranty/eligibility.h) on arbitrary
// claim histories: ValidateTerms and ValidateEligibilityInput, and for input
// that validates, CheckEligibility. Input: typed fields read in order
// (category, terms, delivery, exchanges, repairs, mileages, fault code,
// price); see ReadInput.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.h"
#include "services/warranty/eligibility.h"

namespace {

using market::fuzz::FuzzInput;
using market::warranty::EligibilityInput;
using market::warranty::RepairEntry;

// Times within ±4 years of the fuzz clock, at one-second resolution.
absl::Time ReadTime(FuzzInput& in) {
  return market::fuzz::FuzzNow() + absl::Seconds(in.Range(-4 * 366 * 86400, 4 * 366 * 86400));
}

EligibilityInput ReadInput(FuzzInput& in) {
  EligibilityInput e;
  e.category = static_cast<market::warranty::Category>(in.Range(0, 3));
  e.terms = market::warranty::DefaultTerms(e.category);
  if (in.Bool()) {  // seller-offered terms: any int32 / int64 the proto carries
    e.terms.refund_days = in.Int<int32_t>();
    e.terms.exchange_days = in.Int<int32_t>();
    e.terms.repair_days = in.Int<int32_t>();
    e.terms.exchange_km = in.Int<int64_t>();
    e.terms.repair_km = in.Int<int64_t>();
    e.terms.battery_days = in.Int<int32_t>();
    e.terms.depreciation_bp_per_day = in.Int<int32_t>();
  }
  if (in.Bool()) e.delivered = ReadTime(in);
  for (int n = static_cast<int>(in.Range(0, 3)); n > 0; --n) e.exchanges.push_back(ReadTime(in));
  for (int n = static_cast<int>(in.Range(0, 4)); n > 0; --n) {
    RepairEntry r;
    r.fault_code = in.Field('\0');
    r.start = ReadTime(in);
    if (in.Bool()) r.end = r.start + absl::Seconds(in.Range(-86400, 90 * 86400));
    r.outcome = static_cast<RepairEntry::Outcome>(in.Range(0, 2));
    r.delay_cause = static_cast<RepairEntry::DelayCause>(in.Range(0, 2));
    r.major_assembly_replaced = in.Bool();
    r.serious_safety = in.Bool();
    e.repairs.push_back(r);
  }
  if (in.Bool()) e.delivery_mileage_km = in.Int<int64_t>();
  if (in.Bool()) e.current_mileage_km = in.Int<int64_t>();
  e.fault_code = in.Field('\0');
  e.major_assembly_fault = market::warranty::IsMajorAssemblyFaultCode(e.fault_code);
  e.safety_fault = market::warranty::IsSafetyFaultCode(e.fault_code);
  e.serious_safety_fault = e.safety_fault && in.Bool();
  e.price_fen = in.Int<int64_t>();
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  EligibilityInput input = ReadInput(in);
  absl::Status terms = market::warranty::ValidateTerms(input.category, input.terms);
  FUZZ_CHECK(terms.ok() || terms.code() == absl::StatusCode::kInvalidArgument, terms.ToString());
  absl::Status valid = market::warranty::ValidateEligibilityInput(input);
  market::fuzz::Trace("validate", valid);
  FUZZ_CHECK(valid.ok() || valid.code() == absl::StatusCode::kInvalidArgument, valid.ToString());
  if (!valid.ok()) return 0;
  FUZZ_CHECK(terms.ok(), "input validates with invalid terms");
  market::warranty::Eligibility e = market::warranty::CheckEligibility(input, market::fuzz::FuzzNow());
  for (const market::warranty::KindDecision* d : {&e.refund, &e.exchange, &e.repair}) {
    FUZZ_CHECK(!d->reason.empty(), "decision without a reason");
    FUZZ_CHECK(d->refund_amount_fen >= 0 && d->depreciation_fen >= 0, d->reason);
  }
  return 0;
}
