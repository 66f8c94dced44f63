#include "services/stats/figure_rules.h"

#include "common/status/status.h"
#include "common/resource/resource.h"
#include "services/stats/credit_figures.h"
#include "services/stats/stats_period.h"

namespace market::stats {

namespace {

int64_t Day(const google::protobuf::Timestamp& t) { return DayOf(FromTimestamp(t)); }

int64_t WholeDays(const google::protobuf::Timestamp& from, const google::protobuf::Timestamp& to) {
  return absl::ToInt64Hours(FromTimestamp(to) - FromTimestamp(from)) / 24;
}

}  // namespace

const char* CellTableName(CellTable t) {
  switch (t) {
    case CellTable::kDaily: return "figure_daily";
    case CellTable::kValues: return "figure_values";
    case CellTable::kSubjects: return "figure_subjects";
  }
  return "";
}

absl::Status ValidateSnapshot(const v1::FigureSnapshot& s) {
  Violations v;
  if (s.entity().empty() || s.entity().size() > 300) {
    v.Add("snapshot.entity", "required, up to 300 characters");
  }
  if (s.version() <= 0) v.Add("snapshot.version", "must be > 0");
  if (!s.has_time()) v.Add("snapshot.time", "required");
  if (!common::v1::Category_IsValid(s.category())) v.Add("snapshot.category", "unknown value");
  switch (s.state_case()) {
    case v1::FigureSnapshot::kClaim:
      if (!s.claim().has_file_time()) v.Add("snapshot.claim.file_time", "required");
      if (s.claim().kind() == v1::ClaimSnapshot::KIND_UNSPECIFIED ||
          !v1::ClaimSnapshot::Kind_IsValid(s.claim().kind())) {
        v.Add("snapshot.claim.kind", "required");
      }
      if (s.claim().ruling() != v1::ClaimSnapshot::RULING_UNSPECIFIED &&
          !s.claim().has_rule_time()) {
        v.Add("snapshot.claim.rule_time", "required with a ruling");
      }
      break;
    case v1::FigureSnapshot::kAppraisal:
      if (!s.appraisal().has_file_time()) v.Add("snapshot.appraisal.file_time", "required");
      if (s.firm().empty()) v.Add("snapshot.firm", "required for an appraisal");
      break;
    case v1::FigureSnapshot::kDispute:
      if (!s.dispute().has_raise_time()) v.Add("snapshot.dispute.raise_time", "required");
      if (s.firm().empty()) v.Add("snapshot.firm", "required for a dispute");
      break;
    case v1::FigureSnapshot::kListing:
      if (!s.listing().has_create_time()) v.Add("snapshot.listing.create_time", "required");
      if (s.seller().empty()) v.Add("snapshot.seller", "required for a listing");
      break;
    case v1::FigureSnapshot::kCreditRecord:
    case v1::FigureSnapshot::kCreditStanding:
      v.Merge(ValidateCreditSnapshot(s));
      break;
    default:
      v.Add("snapshot.state",
            "required: claim, appraisal, dispute, listing, credit_record or credit_standing");
  }
  return v.ToStatus();
}

std::vector<FigureCell> Contributions(const v1::FigureSnapshot& s) {
  std::vector<FigureCell> out;
  auto add = [&](CellTable table, const google::protobuf::Timestamp& t, std::string metric,
                 int64_t value = 0, std::string subject = "") {
    out.push_back(FigureCell{.table = table,
                             .day = Day(t),
                             .metric = std::move(metric),
                             .market = s.market(),
                             .region = s.region_code(),
                             .firm = s.firm(),
                             .seller = s.seller(),
                             .category = s.category(),
                             .value = value,
                             .subject = std::move(subject)});
  };
  auto count = [&](const google::protobuf::Timestamp& t, std::string metric) {
    add(CellTable::kDaily, t, std::move(metric));
  };
  switch (s.state_case()) {
    case v1::FigureSnapshot::kClaim: {
      const v1::ClaimSnapshot& c = s.claim();
      count(c.file_time(), "claims_filed");
      switch (c.kind()) {
        case v1::ClaimSnapshot::REFUND: count(c.file_time(), "refund_claims"); break;
        case v1::ClaimSnapshot::EXCHANGE: count(c.file_time(), "exchange_claims"); break;
        case v1::ClaimSnapshot::REPAIR: count(c.file_time(), "repair_claims"); break;
        default: break;
      }
      // Distinct parties, for the public suppression rule.
      add(CellTable::kSubjects, c.file_time(), "claim_parties", 0, c.buyer());
      add(CellTable::kSubjects, c.file_time(), "claim_parties", 0, s.seller());
      if (c.has_reply_deadline()) {
        const absl::Time deadline = FromTimestamp(c.reply_deadline());
        if (c.has_reply_time()) {
          count(c.reply_time(),
                FromTimestamp(c.reply_time()) <= deadline ? "replies_on_time" : "replies_missed");
        } else if (FromTimestamp(s.time()) > deadline) {
          count(c.reply_deadline(), "replies_missed");
        }
      }
      if (c.ruling() == v1::ClaimSnapshot::UPHELD) count(c.rule_time(), "upheld");
      if (c.ruling() == v1::ClaimSnapshot::DISMISSED) count(c.rule_time(), "dismissed");
      if (c.has_resolve_time()) {
        count(c.resolve_time(), "resolved");
        add(CellTable::kValues, c.resolve_time(), "days_to_resolution",
            WholeDays(c.file_time(), c.resolve_time()));
      }
      break;
    }
    case v1::FigureSnapshot::kAppraisal:
      count(s.appraisal().file_time(), "reports_filed");
      add(CellTable::kSubjects, s.appraisal().file_time(), "appraisal_parties", 0, s.firm());
      break;
    case v1::FigureSnapshot::kDispute: {
      const v1::DisputeSnapshot& d = s.dispute();
      count(d.raise_time(), "disputes_raised");
      add(CellTable::kSubjects, d.raise_time(), "appraisal_parties", 0, d.raiser());
      if (d.has_rule_time()) {
        count(d.rule_time(), "disputes_ruled");
        if (d.overturned()) count(d.rule_time(), "overturned");
      }
      break;
    }
    case v1::FigureSnapshot::kListing: {
      const v1::ListingSnapshot& l = s.listing();
      count(l.create_time(), "listings_created");
      if (l.has_publish_time()) {
        count(l.publish_time(), "listings_published");
        add(CellTable::kSubjects, l.publish_time(), "publishing_sellers", 0, s.seller());
        add(CellTable::kSubjects, l.publish_time(), "active_sellers", 0, s.seller());
        add(CellTable::kSubjects, l.publish_time(), "active_markets", 0, s.market());
      }
      if (l.has_remove_time()) count(l.remove_time(), "listings_removed");
      if (l.has_sold_time()) {
        count(l.sold_time(), "listings_sold");
        add(CellTable::kSubjects, l.sold_time(), "active_sellers", 0, s.seller());
        add(CellTable::kSubjects, l.sold_time(), "active_markets", 0, s.market());
        if (l.has_publish_time()) {
          add(CellTable::kValues, l.sold_time(), "days_to_sale",
              WholeDays(l.publish_time(), l.sold_time()));
        }
      }
      break;
    }
    default:
      break;
  }
  return out;
}

}  // namespace market::stats
