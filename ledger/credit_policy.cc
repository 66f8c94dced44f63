#include "ledger/credit_policy.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
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

Evaluation Evaluate(const std::string& subject, std::span<const Record> records, absl::Time now) {
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

// Evaluate() for one subject at every time from `from` on, as one sweep over
// the sorted change times (O(k log k) for k records, plus the size of each
// emitted Evaluation). Each predicate Evaluate() reads t in (see above) is a
// half-open interval of t per record; the sweep enters and leaves those
// intervals in time order and keeps what Evaluate() sums up incrementally:
//   kActive  [o, o + MaxDisplay)           not ended: counts per tier, penalty,
//                                            the active and SERIOUS indices;
//   kClean   [o, o + kRedlistCleanDays)    negatives, ended or not: the red
//                                            list's clean-year test;
//   kPoints  [o, o + min(MaxDisplay,       active positives in the trailing
//             kPositiveWindowDays))          365 days: PositivePoints' input;
//   kTrade   [o, o + min(MaxDisplay,       active TRADE_COMPLETED with a
//             kRedlistWindowDays))           counterparty: distinct counterparties.
// The 30-day counterparty rule is the one piece that is not a sum: per
// counterparty, PositivePoints counts a greedy chain over that counterparty's
// kPoints members in (occurred, index) order (count one, skip to the first at
// least 30 days later). All positives share one kPoints length, so a
// counterparty's members are always a contiguous run [lo, hi) of its sorted
// positives, and its chain is re-walked (at most window / 30 days + 1 hops
// along precomputed skips) only when its run changes.
class StandingSweep {
 public:
  StandingSweep(const std::string& subject, std::span<const Record> records) {
    std::unordered_set<int64_t> ended;
    for (const Record& r : records) {
      if (r.subject() == subject && IsMetaType(r.type()) && r.has_refers_to()) {
        ended.insert(r.refers_to());
      }
    }
    static const absl::Duration kCleanLength = Days(kRedlistCleanDays);
    static const absl::Duration kPositiveWindow = Days(kPositiveWindowDays);
    static const absl::Duration kRedlistWindow = Days(kRedlistWindowDays);
    std::unordered_map<std::string_view, int> counterparties;
    records_.reserve(records.size());
    events_.reserve(records.size() * 3);
    for (const Record& r : records) {
      if (r.subject() != subject || IsMetaType(r.type()) || !r.has_occurred_time()) continue;
      const Record::Tier tier = EffectiveTier(r);
      const TierRule* rule = RuleOf(tier);
      if (rule == nullptr) continue;
      Prepared p{.occurred = ToTime(r.occurred_time()), .index = r.index(), .tier = tier,
                 .points = rule->points};
      if (!r.counterparty().empty()) {
        p.counterparty =
            counterparties.try_emplace(r.counterparty(), static_cast<int>(counterparties.size()))
                .first->second;
      }
      const bool is_ended = ended.contains(r.index());
      const absl::Time o = p.occurred;
      const absl::Duration max_display = MaxDisplayOf(*rule);
      const int id = static_cast<int>(records_.size());
      records_.push_back(p);
      // The record's spans, those ending together as one event.
      Span spans[3];
      int n = 0;
      if (!is_ended) spans[n++] = {kActive, o + max_display};
      if (tier != Record::POSITIVE) {
        spans[n++] = {kClean, o + kCleanLength};
      } else if (!is_ended) {
        spans[n++] = {kPoints, o + std::min(max_display, kPositiveWindow)};
        if (r.type() == Record::TRADE_COMPLETED && p.counterparty >= 0) {
          spans[n++] = {kTrade, o + std::min(max_display, kRedlistWindow)};
        }
        points_.push_back(id);
      }
      uint8_t all = 0;
      for (int i = 0; i < n; ++i) all |= spans[i].kind;
      if (all == 0) continue;
      events_.push_back({o, id, all, +1});
      for (int i = 0; i < n; ++i) {
        if (spans[i].kind == 0) continue;
        uint8_t kinds = spans[i].kind;
        for (int j = i + 1; j < n; ++j) {
          if (spans[j].end == spans[i].end) {
            kinds |= spans[j].kind;
            spans[j].kind = 0;
          }
        }
        events_.push_back({spans[i].end, id, kinds, -1});
      }
    }
    std::sort(events_.begin(), events_.end(),
              [](const Event& a, const Event& b) { return a.time < b.time; });
    PrepareChains(counterparties.size());
    active_.assign(records_.size(), false);
  }

  std::vector<StandingSegment> From(absl::Time from) {
    std::vector<StandingSegment> segments;
    size_t next = 0;
    absl::Time t = from;
    for (;;) {
      for (; next < events_.size() && events_[next].time <= t; ++next) Apply(events_[next]);
      RewalkDirtyChains();
      const Evaluation ev = Current();
      if (segments.empty() || ev.level != segments.back().evaluation.level ||
          ev.blacklisted != segments.back().evaluation.blacklisted ||
          ev.redlisted != segments.back().evaluation.redlisted) {
        segments.push_back({t, WithDetails(ev)});
      }
      if (next == events_.size()) return segments;
      t = events_[next].time;
    }
  }

 private:
  enum SpanKind : uint8_t { kActive = 1, kClean = 2, kPoints = 4, kTrade = 8 };
  struct Span {
    uint8_t kind;
    absl::Time end;
  };
  struct Prepared {
    absl::Time occurred;
    int64_t index;
    Record::Tier tier;
    int points;
    int counterparty = -1;  // number of its counterparty, -1 for none
  };
  struct Event {
    absl::Time time;
    int record;     // into records_
    uint8_t kinds;  // SpanKind bits
    int8_t delta;   // +1 entering, -1 leaving
  };
  // One counterparty's positives in kPoints, by (occurred, index); members
  // now: [lo, hi); skip[i]: the first after i at least 30 days later.
  struct Chain {
    std::vector<int> positives;  // into records_
    std::vector<uint32_t> skip;
    uint32_t lo = 0, hi = 0;
    int counted = 0;
    bool dirty = false;
  };

  static absl::Duration MaxDisplayOf(const TierRule& rule) {
    static const absl::Duration kByTier[] = {
        Days(kTierRules[0].max_display_days), Days(kTierRules[1].max_display_days),
        Days(kTierRules[2].max_display_days), Days(kTierRules[3].max_display_days)};
    static_assert(std::size(kTierRules) == 4);
    return kByTier[&rule - kTierRules];
  }

  void PrepareChains(size_t counterparties) {
    chains_.resize(counterparties);
    trades_by_counterparty_.assign(counterparties, 0);
    static const absl::Duration kWindow = Days(kCounterpartyWindowDays);
    for (int id : points_) {
      if (records_[id].counterparty >= 0) chains_[records_[id].counterparty].positives.push_back(id);
    }
    for (Chain& chain : chains_) {
      std::vector<int>& p = chain.positives;
      std::sort(p.begin(), p.end(), [this](int a, int b) {
        const Prepared& x = records_[a];
        const Prepared& y = records_[b];
        return x.occurred != y.occurred ? x.occurred < y.occurred : x.index < y.index;
      });
      chain.skip.resize(p.size());
      for (size_t i = 0, j = 0; i < p.size(); ++i) {
        j = std::max(j, i + 1);
        while (j < p.size() && records_[p[j]].occurred - records_[p[i]].occurred < kWindow) ++j;
        chain.skip[i] = static_cast<uint32_t>(j);
      }
    }
  }

  void Apply(const Event& e) {
    const Prepared& p = records_[e.record];
    if (e.kinds & kActive) {
      active_[e.record] = e.delta > 0;
      switch (p.tier) {
        case Record::POSITIVE:
          positive_count_ += e.delta;
          break;
        case Record::MINOR:
          minor_count_ += e.delta;
          break;
        case Record::GENERAL:
          general_count_ += e.delta;
          break;
        case Record::SERIOUS:
          serious_count_ += e.delta;
          break;
        default:
          break;
      }
      if (p.tier != Record::POSITIVE) penalty_ += e.delta * p.points;
    }
    if (e.kinds & kClean) negatives_in_clean_window_ += e.delta;
    if (e.kinds & kPoints) {
      if (p.counterparty < 0) {
        counted_ += e.delta;  // counted individually
      } else {
        Chain& chain = chains_[p.counterparty];
        // Runs enter and leave in (occurred, index) order: only the ends move.
        (e.delta > 0 ? chain.hi : chain.lo) += 1;
        if (!chain.dirty) dirty_.push_back(p.counterparty);
        chain.dirty = true;
      }
    }
    if (e.kinds & kTrade) {
      int& n = trades_by_counterparty_[p.counterparty];
      if (e.delta > 0 && n++ == 0) ++trade_counterparties_;
      if (e.delta < 0 && --n == 0) --trade_counterparties_;
    }
  }

  void RewalkDirtyChains() {
    for (int c : dirty_) {
      Chain& chain = chains_[c];
      chain.dirty = false;
      int counted = 0;
      for (uint32_t i = chain.lo; i < chain.hi; i = chain.skip[i]) ++counted;
      counted_ += counted - chain.counted;
      chain.counted = counted;
    }
    dirty_.clear();
  }

  // Level and list membership now (the segment key).
  Evaluation Current() const {
    Evaluation ev;
    const int positive_points =
        std::min(counted_ * RuleOf(Record::POSITIVE)->points, kPositiveCapPoints);
    ev.score = std::clamp(kBaseScore + positive_points + penalty_, kMinScore, kMaxScore);
    ev.level = LevelOf(ev.score, general_count_, serious_count_);
    ev.blacklisted = serious_count_ > 0;
    ev.redlisted = ev.level == CreditProfile::A &&
                   trade_counterparties_ >= kRedlistMinCounterparties &&
                   negatives_in_clean_window_ == 0;
    return ev;
  }

  // `ev` completed with the rest of Evaluate()'s fields (O(k log k); once per
  // segment).
  Evaluation WithDetails(Evaluation ev) const {
    ev.positive_count = positive_count_;
    ev.minor_count = minor_count_;
    ev.general_count = general_count_;
    ev.serious_count = serious_count_;
    for (size_t id = 0; id < records_.size(); ++id) {
      if (!active_[id]) continue;
      const Prepared& p = records_[id];
      ev.active.push_back(p.index);
      if (p.tier == Record::SERIOUS && (ev.blacklist_record < 0 || p.index < ev.blacklist_record)) {
        ev.blacklist_record = p.index;
      }
    }
    std::sort(ev.active.begin(), ev.active.end());
    return ev;
  }

  std::vector<Prepared> records_;
  std::vector<Event> events_;
  std::vector<int> points_;   // records with a kPoints span
  std::vector<Chain> chains_;  // by counterparty number
  std::vector<int> dirty_;     // counterparties whose run changed
  std::vector<int> trades_by_counterparty_;  // active trades in the window
  std::vector<bool> active_;                 // by record
  int positive_count_ = 0, minor_count_ = 0, general_count_ = 0, serious_count_ = 0;
  int penalty_ = 0;
  int negatives_in_clean_window_ = 0;
  int counted_ = 0;  // positives PositivePoints counts
  int trade_counterparties_ = 0;
};

}  // namespace

std::vector<StandingSegment> StandingFrom(const std::string& subject,
                                          std::span<const Record> records, absl::Time from) {
  return StandingSweep(subject, records).From(from);
}

std::vector<StandingSegment> StandingFromByEvaluate(const std::string& subject,
                                                    std::span<const Record> records,
                                                    absl::Time from) {
  std::vector<absl::Time> times = {from};
  for (const Record& r : records) {
    if (r.subject() != subject) continue;
    for (absl::Time t : ChangeTimes(r)) {
      if (t > from) times.push_back(t);
    }
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  std::vector<StandingSegment> segments;
  for (absl::Time t : times) {
    Evaluation ev = Evaluate(subject, records, t);
    if (!segments.empty() && ev.level == segments.back().evaluation.level &&
        ev.blacklisted == segments.back().evaluation.blacklisted &&
        ev.redlisted == segments.back().evaluation.redlisted) {
      continue;
    }
    segments.push_back({t, std::move(ev)});
  }
  return segments;
}

}  // namespace market::ledger
