#include "services/appraisal/appraisal_figures.h"

#include <optional>

#include "common/resource/resource.h"
#include "common/status/status.h"
#include "services/appraisal/appraisal_tables.h"
#include "services/stats/stats_events.h"

namespace market::appraisal {

namespace {

stats::v1::FigureSnapshot ReportSnapshot(const v1::Appraisal& a, const std::string& entity,
                                         int64_t version) {
  stats::v1::FigureSnapshot s;
  s.set_entity(entity);
  s.set_version(version);
  s.set_firm(a.content().firm());
  s.set_category(a.content().category());
  return s;
}

}  // namespace

absl::Status EnqueueAppraisalFigures(sqlite::Connection& c, const v1::Appraisal& a,
                                     int64_t version) {
  stats::v1::FigureSnapshot s = ReportSnapshot(a, a.name(), version);
  *s.mutable_time() = a.has_update_time() ? a.update_time() : a.create_time();
  s.mutable_appraisal()->set_filer(a.filer());
  *s.mutable_appraisal()->mutable_file_time() = a.create_time();
  return stats::EnqueueFigureEvent(c, s, FromTimestamp(s.time()));
}

absl::Status EnqueueDisputeFigures(sqlite::Connection& c, const v1::Dispute& d, int64_t version) {
  MARKET_ASSIGN_OR_RETURN(std::optional<AppraisalRow> report,
                          LoadAppraisal(c, d.name().substr(0, d.name().find("/disputes/"))));
  if (!report.has_value()) return absl::OkStatus();  // not counted without its report
  stats::v1::FigureSnapshot s = ReportSnapshot(report->appraisal, d.name(), version);
  *s.mutable_time() = d.has_rule_time() ? d.rule_time() : d.create_time();
  stats::v1::DisputeSnapshot& ds = *s.mutable_dispute();
  ds.set_raiser(d.raiser());
  *ds.mutable_raise_time() = d.create_time();
  if (d.has_rule_time() && d.state() != v1::Dispute::OPEN) {
    *ds.mutable_rule_time() = d.rule_time();
    ds.set_overturned(d.state() == v1::Dispute::UPHELD);
  }
  return stats::EnqueueFigureEvent(c, s, FromTimestamp(s.time()));
}

}  // namespace market::appraisal
