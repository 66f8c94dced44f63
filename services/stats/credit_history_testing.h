// Tests and benchmarks of the credit figures: a generated credit history
// (records of several subjects and roles over months, SERIOUS ones putting
// subjects on the blacklist until they expire) as the snapshots the credit
// outbox sends, and the figures computed directly from the records, without
// snapshots or counters. The test policy: a record is displayed for 90
// (POSITIVE), 30 (MINOR), 60 (GENERAL) or 100 (SERIOUS) days; level D with a
// SERIOUS record displayed (and blacklisted), C with a GENERAL one, B with a
// MINOR one, else A; redlisted with 2 or more POSITIVE and no other record
// displayed.
#ifndef MARKET_SERVICES_STATS_CREDIT_HISTORY_TESTING_H_
#define MARKET_SERVICES_STATS_CREDIT_HISTORY_TESTING_H_

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/resource/resource.h"
#include "market/stats/v1/stats.pb.h"
#include "services/stats/stats_period.h"

namespace market::stats::testing {

namespace cv1 = ::market::credit::v1;

struct GeneratedRecord {
  std::string subject;
  common::v1::Role role;
  cv1::Record::Type type;
  cv1::Record::Tier tier;
  absl::Time recorded;
};

struct GeneratedStanding {
  cv1::CreditProfile::Level level = cv1::CreditProfile::A;
  bool blacklisted = false, redlisted = false;
  bool operator==(const GeneratedStanding&) const = default;
};

inline absl::Duration DisplayPeriod(cv1::Record::Tier tier) {
  switch (tier) {
    case cv1::Record::POSITIVE: return absl::Hours(24 * 90);
    case cv1::Record::MINOR: return absl::Hours(24 * 30);
    case cv1::Record::GENERAL: return absl::Hours(24 * 60);
    default: return absl::Hours(24 * 100);
  }
}

// The standing at `x` given the subject's records appended up to `x`.
inline GeneratedStanding StandingAt(const std::vector<const GeneratedRecord*>& records, absl::Time x) {
  int counts[5] = {0, 0, 0, 0, 0};
  for (const GeneratedRecord* r : records) {
    if (r->recorded <= x && x < r->recorded + DisplayPeriod(r->tier)) ++counts[r->tier];
  }
  GeneratedStanding s;
  if (counts[cv1::Record::SERIOUS] > 0) {
    s.level = cv1::CreditProfile::D;
    s.blacklisted = true;
  } else if (counts[cv1::Record::GENERAL] > 0) {
    s.level = cv1::CreditProfile::C;
  } else if (counts[cv1::Record::MINOR] > 0) {
    s.level = cv1::CreditProfile::B;
  }
  s.redlisted = counts[cv1::Record::POSITIVE] >= 2 && s.level == cv1::CreditProfile::A;
  return s;
}

class CreditHistory {
 public:
  // `records` records about `subjects` subjects, `1..max_step_minutes`
  // minutes apart from `start` on. Subject k is a SELLER, BUYER, SELLER or
  // APPRAISAL_FIRM by k % 4, except subject 1, a SELLER in the second half.
  CreditHistory(int subjects, int records, absl::Time start, int max_step_minutes, uint32_t seed) {
    std::mt19937 rng(seed);
    const common::v1::Role roles[] = {common::v1::SELLER, common::v1::BUYER, common::v1::SELLER,
                                      common::v1::APPRAISAL_FIRM};
    using R = cv1::Record;
    const std::pair<R::Type, R::Tier> kinds[20] = {
        {R::TRADE_COMPLETED, R::POSITIVE},      {R::TRADE_COMPLETED, R::POSITIVE},
        {R::TRADE_COMPLETED, R::POSITIVE},      {R::TRADE_COMPLETED, R::POSITIVE},
        {R::TRADE_COMPLETED, R::POSITIVE},      {R::TRADE_COMPLETED, R::POSITIVE},
        {R::TRADE_COMPLETED, R::POSITIVE},      {R::TRADE_COMPLETED, R::POSITIVE},
        {R::COMMENDATION, R::POSITIVE},         {R::COMMENDATION, R::POSITIVE},
        {R::CLAIM_REPLY_MISSED, R::MINOR},      {R::CLAIM_REPLY_MISSED, R::MINOR},
        {R::LISTING_REMOVED, R::MINOR},         {R::CLAIM_UPHELD, R::GENERAL},
        {R::CLAIM_UPHELD, R::GENERAL},          {R::APPRAISAL_OVERTURNED, R::GENERAL},
        {R::COUNTERFEIT_CONFIRMED, R::SERIOUS}, {R::FRAUD_CONFIRMED, R::SERIOUS},
        {R::TRADE_COMPLETED, R::POSITIVE},      {R::SANCTION_OTHER, R::MINOR},
    };
    absl::Time t = start;
    for (int i = 0; i < records; ++i) {
      t += absl::Minutes(1 + rng() % max_step_minutes);
      const int k = static_cast<int>(rng() % subjects);
      const auto& kind = kinds[rng() % 20];
      common::v1::Role role = roles[k % 4];
      if (k == 1 && i >= records / 2) role = common::v1::SELLER;
      records_.push_back({absl::StrCat("subjects/s", k), role, kind.first, kind.second, t});
    }
  }

  const std::vector<GeneratedRecord>& records() const { return records_; }

  // Per appended record i: its CreditRecordSnapshot ("rec-i") and then its
  // subject's CreditStandingSnapshot ("standing-i", version i + 1).
  std::vector<std::pair<std::string, v1::FigureSnapshot>> Events() const {
    std::vector<std::pair<std::string, v1::FigureSnapshot>> out;
    std::map<std::string, std::vector<const GeneratedRecord*>> by_subject;
    for (size_t i = 0; i < records_.size(); ++i) {
      const GeneratedRecord& r = records_[i];
      by_subject[r.subject].push_back(&r);
      v1::FigureSnapshot rec;
      rec.set_entity(absl::StrCat("ledgers/main/records/", i));
      rec.set_version(1);
      *rec.mutable_time() = ToTimestamp(r.recorded);
      v1::CreditRecordSnapshot* c = rec.mutable_credit_record();
      c->set_type(r.type);
      c->set_tier(r.tier);
      c->set_subject(r.subject);
      c->set_subject_role(r.role);
      *c->mutable_recorded_time() = rec.time();
      out.push_back({absl::StrCat("rec-", i), std::move(rec)});

      v1::FigureSnapshot st;
      st.set_entity(r.subject + "/creditProfile");
      st.set_version(static_cast<int64_t>(i) + 1);
      *st.mutable_time() = ToTimestamp(r.recorded);
      v1::CreditStandingSnapshot* s = st.mutable_credit_standing();
      s->set_subject(r.subject);
      s->set_subject_role(r.role);
      // The standing changes only when one of the subject's records expires.
      std::vector<absl::Time> changes = {r.recorded};
      for (const GeneratedRecord* p : by_subject[r.subject]) {
        const absl::Time expiry = p->recorded + DisplayPeriod(p->tier);
        if (expiry > r.recorded) changes.push_back(expiry);
      }
      std::sort(changes.begin(), changes.end());
      GeneratedStanding last;
      for (size_t j = 0; j < changes.size(); ++j) {
        const GeneratedStanding now = StandingAt(by_subject[r.subject], changes[j]);
        if (j > 0 && now == last) continue;
        last = now;
        auto* seg = s->add_segments();
        *seg->mutable_start_time() = ToTimestamp(changes[j]);
        seg->set_level(now.level);
        seg->set_blacklisted(now.blacklisted);
        seg->set_redlisted(now.redlisted);
      }
      out.push_back({absl::StrCat("standing-", i), std::move(st)});
    }
    return out;
  }

  // QueryCredit's rows for `range` computed from the records: appended in the
  // range, and each subject's standing at the last instant of the range.
  std::map<std::string, std::vector<int64_t>> Expected(DayRange range, bool by_role,
                                                       const std::vector<std::string>& columns) const {
    auto col = [&](const std::string& name) {
      return std::find(columns.begin(), columns.end(), name) - columns.begin();
    };
    auto lower = [](const std::string& s) { return absl::AsciiStrToLower(s); };
    std::map<std::string, std::vector<int64_t>> out;
    auto row = [&](common::v1::Role role) -> std::vector<int64_t>& {
      auto& r = out[by_role ? common::v1::Role_Name(role) : ""];
      r.resize(columns.size());
      return r;
    };
    const absl::Time end =
        absl::FromCivil(CivilOfDay(range.last + 1), ChinaTime()) - absl::Microseconds(1);
    std::map<std::string, std::vector<const GeneratedRecord*>> by_subject;
    for (const GeneratedRecord& r : records_) {
      const int64_t day = DayOf(r.recorded);
      if (day >= range.first && day <= range.last) {
        auto& v = row(r.role);
        ++v[col("records")];
        ++v[col(lower(cv1::Record::Tier_Name(r.tier)) + "_records")];
        ++v[col("records_" + lower(cv1::Record::Type_Name(r.type)))];
      }
      if (r.recorded <= end) by_subject[r.subject].push_back(&r);
    }
    for (const auto& [subject, records] : by_subject) {
      const GeneratedStanding s = StandingAt(records, end);
      auto& v = row(records.back()->role);
      ++v[col("subjects_level_" + lower(cv1::CreditProfile::Level_Name(s.level)))];
      if (s.blacklisted) ++v[col("blacklisted")];
      if (s.redlisted) ++v[col("redlisted")];
    }
    return out;
  }

 private:
  std::vector<GeneratedRecord> records_;
};

}  // namespace market::stats::testing

#endif  // MARKET_SERVICES_STATS_CREDIT_HISTORY_TESTING_H_
