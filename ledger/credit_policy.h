// Scoring policy `credit-policy-v1`, the one implementation shared by the
// credit service and the outside verifier (docs/credit-policy-v1.md describes
// it in words). Pure functions over ledger records; thread-safe.
#ifndef MARKET_LEDGER_CREDIT_POLICY_H_
#define MARKET_LEDGER_CREDIT_POLICY_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "market/credit/v1/credit.pb.h"

namespace market::ledger {

using credit::v1::Record;

inline constexpr char kPolicyVersion[] = "credit-policy-v1";

// Display periods per tier (DOMAIN.md §6). POSITIVE: 0 and 365 days; MINOR:
// 0 and 90 days; GENERAL: 90 and 365 days; SERIOUS: 365 and 1095 days.
absl::Duration MinDisplay(Record::Tier tier);
absl::Duration MaxDisplay(Record::Tier tier);

// The tier a record type implies (TIER_UNSPECIFIED for SANCTION_OTHER and the
// meta types CREDIT_REPAIRED, RECORD_EXPIRED, RECORD_WITHDRAWN, whose tier
// comes from elsewhere).
Record::Tier TierOf(Record::Type type);
// CREDIT_REPAIRED, RECORD_EXPIRED, RECORD_WITHDRAWN.
bool IsMetaType(Record::Type type);
// The tier `record` counts with: its `tier` field if set, else TierOf(type).
Record::Tier EffectiveTier(const Record& record);

struct Evaluation {
  int score = 600;
  credit::v1::CreditProfile::Level level = credit::v1::CreditProfile::A;
  bool blacklisted = false;
  bool redlisted = false;
  int positive_count = 0;  // active records per tier
  int minor_count = 0;
  int general_count = 0;
  int serious_count = 0;
  // Ledger indices (Record.index) of active (non-meta) records, ascending.
  std::vector<int64_t> active;
  // Ledger index of the SERIOUS record that blacklists (the lowest-indexed
  // active one), or -1.
  int64_t blacklist_record = -1;
};

// Evaluates `subject` at `now` from `records`: every ledger record whose
// subject is `subject` (meta records included), in index order. Records of
// other subjects are ignored. Rules:
// - score = 600 + Σ contributions of active records, clamped to [0, 1000];
// - a record is active from occurred_time until repaired, withdrawn or expired
//   (a meta record referring to it), or past its max display period;
// - POSITIVE +2, counted at most once per (subject, counterparty) per 30 days
//   (records without a counterparty count individually), at most +100 from
//   positives in the trailing 365 days, active for 365 days;
// - MINOR −10, GENERAL −50, SERIOUS −200;
// - level A: score ≥ 650 and no active GENERAL/SERIOUS; B: ≥ 550 and no active
//   SERIOUS; C: ≥ 400 and no active SERIOUS; D otherwise;
// - blacklisted ⇔ an active SERIOUS record; redlisted ⇔ level A, ≥ 10 distinct
//   TRADE_COMPLETED counterparties in the trailing 365 days and no negative
//   record (active or not) occurring in the trailing 365 days.
// Periods are half-open: a record is active for occurred_time <= now <
// occurred_time + MaxDisplay(tier); "trailing 365 days" is (now − 365d, now].
// A meta record deactivates the record whose index its refers_to names
// whatever its own time (the ledger prefix given is the state evaluated).
// Records without occurred_time or without a tier are never active. The
// 30-day rule walks positives in (occurred_time, index) order and counts one
// if the last counted positive with that counterparty is ≥ 30 days older.
Evaluation Evaluate(const std::string& subject, std::span<const Record> records, absl::Time now);

// The times at which `record` can change what Evaluate() returns for its
// subject: its occurred_time, occurred_time + MaxDisplay(tier) and the ends of
// the trailing windows it lies in (occurred_time + 365 days). Empty for meta
// records and records without occurred_time or tier (their effect does not
// depend on the time evaluated).
std::vector<absl::Time> ChangeTimes(const Record& record);

// Records of a subject occurring more than this long before `t` cannot change
// Evaluate() at `t` or later (the longest display period or window).
absl::Duration LongestEffect();

// One stretch of a subject's standing: from `start` until the next segment's
// start (the last one open-ended), Evaluate() has `evaluation`'s level and list
// membership. `evaluation` is the full result at `start`.
struct StandingSegment {
  absl::Time start;
  Evaluation evaluation;
};

// Evaluate(subject, records, t) for every t >= `from` as segments: the first
// starts at `from`, consecutive segments differ in level, blacklisted or
// redlisted. Exact, not sampled: Evaluate() is constant between consecutive
// ChangeTimes() of the records (see credit_policy.cc for the argument).
// O(k log k) in the subject's k records (one sweep over the change times,
// keeping Evaluate()'s sums incrementally) plus the size of the segments'
// evaluations.
std::vector<StandingSegment> StandingFrom(const std::string& subject,
                                          std::span<const Record> records, absl::Time from);

// The same segments by definition: Evaluate() at `from` and at every change
// time after it, O(k) evaluations of O(k log k) each. For verifiers and tests
// of StandingFrom(), not for serving.
std::vector<StandingSegment> StandingFromByEvaluate(const std::string& subject,
                                                    std::span<const Record> records,
                                                    absl::Time from);

}  // namespace market::ledger

#endif  // MARKET_LEDGER_CREDIT_POLICY_H_
