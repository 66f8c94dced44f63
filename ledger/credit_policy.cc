#include "ledger/credit_policy.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/time/time.h"
#include "market/credit/v1/credit.pb.h"

namespace market::ledger {
namespace {

using credit::v1::CreditProfile;

// ---- credit-policy-v1 as data ----
// Every number of the policy is here and nowhere else; docs/credit-policy-v1.md
// states the same numbers in words. Changing one is a new policy version.

struct TierRule {
  Record::Tier tier;
  int points;            // score contribution of one active (counted) record
  int min_display_days;  // repair may be applied for afterwards (DOMAIN.md §6)
  int max_display_days;  // the record stops being active afterwards
};
constexpr TierRule kTierRules[] = {
    {Record::POSITIVE, +2, 0, 365},
    {Record::MINOR, -10, 0, 90},
    {Record::GENERAL, -50, 90, 365},
    {Record::SERIOUS, -200, 365, 1095},
};

// Tier implied by each record type (proto comments, DOMAIN.md §6). Types not
// listed (SANCTION_OTHER, the meta types) imply none.
struct TypeTier {
  Record::Type type;
  Record::Tier tier;
};
constexpr TypeTier kTypeTiers[] = {
    {Record::TRADE_COMPLETED, Record::POSITIVE},
    {Record::CLAIM_RESOLVED_ON_TIME, Record::POSITIVE},
    {Record::COMMENDATION, Record::POSITIVE},
    {Record::CLAIM_REPLY_MISSED, Record::MINOR},
    {Record::CLAIM_UNFOUNDED, Record::MINOR},
    {Record::LISTING_REMOVED, Record::MINOR},
    {Record::CLAIM_UPHELD, Record::GENERAL},
    {Record::APPRAISAL_OVERTURNED, Record::GENERAL},
    {Record::COUNTERFEIT_CONFIRMED, Record::SERIOUS},
    {Record::FRAUD_CONFIRMED, Record::SERIOUS},
    {Record::MILEAGE_ROLLBACK_CONFIRMED, Record::SERIOUS},
    {Record::UNLICENSED_OPERATION, Record::SERIOUS},
};

// Score of a subject without active records.
constexpr int kBaseScore = 600;
// The score is clamped to [kMinScore, kMaxScore].
constexpr int kMinScore = 0;
constexpr int kMaxScore = 1000;
// Positives add at most this many points in total...
constexpr int kPositiveCapPoints = 100;
// ...counting only positives that occurred in this many trailing days.
constexpr int kPositiveWindowDays = 365;
// A positive with a counterparty counts only if no counted positive with the
// same counterparty occurred less than this many days before it.
constexpr int kCounterpartyWindowDays = 30;
// Level thresholds (A also needs no active GENERAL/SERIOUS; A, B and C need no
// active SERIOUS). Below kLevelCMinScore, or with an active SERIOUS: D.
constexpr int kLevelAMinScore = 650;
constexpr int kLevelBMinScore = 550;
constexpr int kLevelCMinScore = 400;
// Red list: level A, at least this many distinct TRADE_COMPLETED
// counterparties in kRedlistWindowDays trailing days, and no negative record
// (active or not) occurring in kRedlistCleanDays trailing days.
constexpr int kRedlistMinCounterparties = 10;
constexpr int kRedlistWindowDays = 365;
constexpr int kRedlistCleanDays = 365;

// ---- evaluation ----

const TierRule* RuleOf(Record::Tier tier) {
  for (const TierRule& rule : kTierRules) {
    if (rule.tier == tier) return &rule;
  }
  return nullptr;
}

absl::Duration Days(int days) { return absl::Hours(24) * days; }

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// True when `t` lies in the `days` trailing days before `now`: (now − days, now].
bool InTrailingDays(absl::Time t, absl::Time now, int days) {
  return t <= now && t > now - Days(days);
}

struct Positive {
  int64_t index;
  absl::Time occurred;
  const Record* record;
};

// Points from active positives: the 30-day counterparty rule, then the cap.
int PositivePoints(std::vector<Positive> positives, absl::Time now, int points_each) {
  std::sort(positives.begin(), positives.end(), [](const Positive& a, const Positive& b) {
    return a.occurred != b.occurred ? a.occurred < b.occurred : a.index < b.index;
  });
  std::map<std::string, absl::Time> last_counted;  // by counterparty
  int counted = 0;
  for (const Positive& p : positives) {
    if (!InTrailingDays(p.occurred, now, kPositiveWindowDays)) continue;
    const std::string& counterparty = p.record->counterparty();
    if (!counterparty.empty()) {
      auto it = last_counted.find(counterparty);
      if (it != last_counted.end() && p.occurred - it->second < Days(kCounterpartyWindowDays)) {
        continue;
      }
      last_counted[counterparty] = p.occurred;
    }
    ++counted;
  }
  return std::min(counted * points_each, kPositiveCapPoints);
}

CreditProfile::Level LevelOf(int score, int general_count, int serious_count) {
  if (serious_count > 0) return CreditProfile::D;
  if (score >= kLevelAMinScore && general_count == 0) return CreditProfile::A;
  if (score >= kLevelBMinScore) return CreditProfile::B;
  if (score >= kLevelCMinScore) return CreditProfile::C;
  return CreditProfile::D;
}

}  // namespace

absl::Duration MinDisplay(Record::Tier tier) {
  const TierRule* rule = RuleOf(tier);
  return rule == nullptr ? absl::ZeroDuration() : Days(rule->min_display_days);
}

absl::Duration MaxDisplay(Record::Tier tier) {
  const TierRule* rule = RuleOf(tier);
  return rule == nullptr ? absl::ZeroDuration() : Days(rule->max_display_days);
}

Record::Tier TierOf(Record::Type type) {
  for (const TypeTier& entry : kTypeTiers) {
    if (entry.type == type) return entry.tier;
  }
  return Record::TIER_UNSPECIFIED;
}

bool IsMetaType(Record::Type type) {
  return type == Record::CREDIT_REPAIRED || type == Record::RECORD_EXPIRED ||
         type == Record::RECORD_WITHDRAWN;
}

Record::Tier EffectiveTier(const Record& record) {
  return record.tier() != Record::TIER_UNSPECIFIED ? record.tier() : TierOf(record.type());
}

Evaluation Evaluate(const std::string& subject, const std::vector<Record>& records,
                    absl::Time now) {
  // Records that a repair, expiry or withdrawal of the same subject ends.
  std::unordered_set<int64_t> ended;
  for (const Record& r : records) {
    if (r.subject() == subject && IsMetaType(r.type()) && r.has_refers_to()) {
      ended.insert(r.refers_to());
    }
  }

  Evaluation ev;
  int penalty_points = 0;
  bool negative_in_clean_window = false;
  std::vector<Positive> positives;
  std::set<std::string> trade_counterparties;
  for (const Record& r : records) {
    if (r.subject() != subject || IsMetaType(r.type()) || !r.has_occurred_time()) continue;
    const Record::Tier tier = EffectiveTier(r);
    const TierRule* rule = RuleOf(tier);
    if (rule == nullptr) continue;
    const absl::Time occurred = ToTime(r.occurred_time());
    if (tier != Record::POSITIVE && InTrailingDays(occurred, now, kRedlistCleanDays)) {
      negative_in_clean_window = true;
    }
    const bool active = occurred <= now && now < occurred + Days(rule->max_display_days) &&
                        !ended.contains(r.index());
    if (!active) continue;
    ev.active.push_back(r.index());
    switch (tier) {
      case Record::POSITIVE:
        ++ev.positive_count;
        positives.push_back({r.index(), occurred, &r});
        if (r.type() == Record::TRADE_COMPLETED && !r.counterparty().empty() &&
            InTrailingDays(occurred, now, kRedlistWindowDays)) {
          trade_counterparties.insert(r.counterparty());
        }
        break;
      case Record::MINOR:
        ++ev.minor_count;
        penalty_points += rule->points;
        break;
      case Record::GENERAL:
        ++ev.general_count;
        penalty_points += rule->points;
        break;
      case Record::SERIOUS:
        ++ev.serious_count;
        penalty_points += rule->points;
        if (ev.blacklist_record < 0 || r.index() < ev.blacklist_record) {
          ev.blacklist_record = r.index();
        }
        break;
      default:
        break;
    }
  }
  std::sort(ev.active.begin(), ev.active.end());

  const int positive_points = PositivePoints(positives, now, RuleOf(Record::POSITIVE)->points);
  ev.score = std::clamp(kBaseScore + positive_points + penalty_points, kMinScore, kMaxScore);
  ev.level = LevelOf(ev.score, ev.general_count, ev.serious_count);
  ev.blacklisted = ev.serious_count > 0;
  ev.redlisted = ev.level == CreditProfile::A &&
                 static_cast<int>(trade_counterparties.size()) >= kRedlistMinCounterparties &&
                 !negative_in_clean_window;
  return ev;
}

// Why StandingFrom() is exact. Evaluate(subject, records, t) reads t only in
// these predicates, each about one record r (o = r's occurred_time):
//   - active: o <= t && t < o + MaxDisplay(tier)        → flips at o, o + max;
//   - InTrailingDays(o, t, d) = o <= t && t < o + d, for d =
//     kRedlistCleanDays (negatives), kPositiveWindowDays (PositivePoints) and
//     kRedlistWindowDays (trade counterparties)          → flips at o, o + d.
// Everything else is independent of t: the set of ended records (meta records
// in the given prefix), tiers, counterparties, and the 30-day counterparty
// rule, which compares occurred times with each other, never with t. So every
// predicate is constant on each half-open interval [c_i, c_i+1) between
// consecutive ChangeTimes() of the subject's records, Evaluate() is constant
// there, and evaluating at `from` and at each change time after it sees every
// value Evaluate() takes from `from` on. Past the last change time nothing
// flips again: the last segment is open-ended.
std::vector<absl::Time> ChangeTimes(const Record& r) {
  if (IsMetaType(r.type()) || !r.has_occurred_time()) return {};
  const TierRule* rule = RuleOf(EffectiveTier(r));
  if (rule == nullptr) return {};
  const absl::Time o = ToTime(r.occurred_time());
  return {o, o + Days(rule->max_display_days), o + Days(kPositiveWindowDays),
          o + Days(kRedlistWindowDays), o + Days(kRedlistCleanDays)};
}

absl::Duration LongestEffect() {
  int days = std::max({kPositiveWindowDays, kRedlistWindowDays, kRedlistCleanDays});
  for (const TierRule& rule : kTierRules) days = std::max(days, rule.max_display_days);
  return Days(days);
}

namespace {

// Evaluate()'s level and list membership for one subject at many times: the
// same rules (see Evaluate) over the records prepared once (times, tiers,
// ended flags and counterparty numbers resolved; positives sorted), so a
// time costs one pass over plain structs instead of re-reading the protos,
// sorting and building maps. StandingFrom() uses it only to find where the
// result changes; each segment's Evaluation comes from Evaluate() itself.
class StandingSweep {
 public:
  struct Key {
    CreditProfile::Level level;
    bool blacklisted;
    bool redlisted;
    bool operator==(const Key&) const = default;
  };

  StandingSweep(const std::string& subject, const std::vector<Record>& records) {
    std::unordered_set<int64_t> ended;
    for (const Record& r : records) {
      if (r.subject() == subject && IsMetaType(r.type()) && r.has_refers_to()) {
        ended.insert(r.refers_to());
      }
    }
    std::map<std::string, int> counterparties;
    for (const Record& r : records) {
      if (r.subject() != subject || IsMetaType(r.type()) || !r.has_occurred_time()) continue;
      const Record::Tier tier = EffectiveTier(r);
      const TierRule* rule = RuleOf(tier);
      if (rule == nullptr) continue;
      Prepared p{.occurred = ToTime(r.occurred_time()),
                 .index = r.index(),
                 .tier = tier,
                 .points = rule->points,
                 .ended = ended.contains(r.index()),
                 .trade = r.type() == Record::TRADE_COMPLETED};
      p.until = p.occurred + Days(rule->max_display_days);
      if (!r.counterparty().empty()) {
        p.counterparty = counterparties
                             .try_emplace(r.counterparty(), static_cast<int>(counterparties.size()))
                             .first->second;
      }
      (tier == Record::POSITIVE ? positives_ : negatives_).push_back(p);
    }
    std::sort(positives_.begin(), positives_.end(), [](const Prepared& a, const Prepared& b) {
      return a.occurred != b.occurred ? a.occurred < b.occurred : a.index < b.index;
    });
    counted_stamp_.assign(counterparties.size(), 0);
    trade_stamp_.assign(counterparties.size(), 0);
    last_counted_.assign(counterparties.size(), absl::InfinitePast());
  }

  Key At(absl::Time t) {
    int penalty = 0, general = 0, serious = 0;
    bool negative_in_clean_window = false;
    for (const Prepared& n : negatives_) {
      if (InTrailingDays(n.occurred, t, kRedlistCleanDays)) negative_in_clean_window = true;
      if (n.ended || t < n.occurred || t >= n.until) continue;
      penalty += n.points;
      general += n.tier == Record::GENERAL;
      serious += n.tier == Record::SERIOUS;
    }
    ++stamp_;
    int counted = 0, trade_counterparties = 0;
    for (const Prepared& p : positives_) {
      if (p.ended || t < p.occurred || t >= p.until) continue;  // not active
      if (p.trade && p.counterparty >= 0 && InTrailingDays(p.occurred, t, kRedlistWindowDays) &&
          trade_stamp_[p.counterparty] != stamp_) {
        trade_stamp_[p.counterparty] = stamp_;
        ++trade_counterparties;
      }
      if (!InTrailingDays(p.occurred, t, kPositiveWindowDays)) continue;
      if (p.counterparty >= 0) {
        if (counted_stamp_[p.counterparty] == stamp_ &&
            p.occurred - last_counted_[p.counterparty] < Days(kCounterpartyWindowDays)) {
          continue;
        }
        counted_stamp_[p.counterparty] = stamp_;
        last_counted_[p.counterparty] = p.occurred;
      }
      ++counted;
    }
    const int positive_points =
        std::min(counted * RuleOf(Record::POSITIVE)->points, kPositiveCapPoints);
    const int score = std::clamp(kBaseScore + positive_points + penalty, kMinScore, kMaxScore);
    const CreditProfile::Level level = LevelOf(score, general, serious);
    return Key{level, serious > 0,
               level == CreditProfile::A && trade_counterparties >= kRedlistMinCounterparties &&
                   !negative_in_clean_window};
  }

 private:
  struct Prepared {
    absl::Time occurred;
    absl::Time until;  // occurred + MaxDisplay(tier)
    int64_t index;
    Record::Tier tier;
    int points;
    bool ended;
    bool trade;             // TRADE_COMPLETED
    int counterparty = -1;  // number of its counterparty, -1 for none
  };
  std::vector<Prepared> negatives_;
  std::vector<Prepared> positives_;  // by (occurred, index), as PositivePoints walks them
  // Per counterparty number: the pass (stamp_) that last counted a positive
  // with it, and that positive's time; the pass that last saw it trade.
  std::vector<uint64_t> counted_stamp_;
  std::vector<uint64_t> trade_stamp_;
  std::vector<absl::Time> last_counted_;
  uint64_t stamp_ = 0;
};

}  // namespace

std::vector<StandingSegment> StandingFrom(const std::string& subject,
                                          const std::vector<Record>& records, absl::Time from) {
  std::vector<absl::Time> times = {from};
  for (const Record& r : records) {
    if (r.subject() != subject) continue;
    for (absl::Time t : ChangeTimes(r)) {
      if (t > from) times.push_back(t);
    }
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  StandingSweep sweep(subject, records);
  std::vector<StandingSegment> segments;
  StandingSweep::Key last{};
  for (absl::Time t : times) {
    const StandingSweep::Key key = sweep.At(t);
    if (!segments.empty() && key == last) continue;
    segments.push_back({t, Evaluate(subject, records, t)});
    last = key;
  }
  return segments;
}

}  // namespace market::ledger
