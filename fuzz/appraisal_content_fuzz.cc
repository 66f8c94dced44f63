// Appraisal report bytes (Appraisal.signed_content): parsed as
// AppraisalContent as CreateAppraisal does, then ValidateContent,
// CheckGrade of each grade against the built-in grading schemes, and for
// valid content CheckTradable, ItemOf, EffectiveValidUntil, ObservationOf and
// SummaryOf (services/appraisal/appraisal_rules.h). Input: the content bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "services/appraisal/appraisal_rules.h"
#include "services/appraisal/grading_schemes.h"

namespace {

using market::appraisal::SchemeDefinition;

const std::vector<SchemeDefinition>& Schemes() {
  static const auto* schemes = [] {
    absl::StatusOr<std::vector<SchemeDefinition>> all = market::appraisal::LoadSchemes("");
    FUZZ_CHECK(all.ok(), all.status().ToString());
    return new std::vector<SchemeDefinition>(std::move(*all));
  }();
  return *schemes;
}

void CheckInvalidArgument(const absl::Status& s) {
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  market::fuzz::QuietProtobufLogs();
  market::appraisal::v1::AppraisalContent content;
  if (!content.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::Status valid = market::appraisal::ValidateContent(content, market::fuzz::FuzzNow());
  market::fuzz::Trace("validate", valid);
  CheckInvalidArgument(valid);

  std::optional<int> score;
  if (content.has_score()) score = content.score();
  for (int i = 0; i < content.grades_size(); ++i) {
    const market::common::v1::GradeRef& g = content.grades(i);
    for (const SchemeDefinition& def : Schemes()) {
      if (def.scheme.scheme() != g.scheme() || def.scheme.version() != g.version()) continue;
      CheckInvalidArgument(market::appraisal::CheckGrade(def, g, content.category(), score,
                                                         content.accident_found(), "grades"));
    }
  }
  if (!valid.ok()) return 0;

  absl::Status tradable = market::appraisal::CheckTradable(content);
  market::fuzz::Trace("tradable", tradable);
  FUZZ_CHECK(tradable.ok() || tradable.code() == absl::StatusCode::kFailedPrecondition,
             tradable.ToString());
  std::string item = market::appraisal::ItemOf(content);
  FUZZ_CHECK(item.empty() || item.rfind("items/", 0) == 0, item);
  absl::Time until = market::appraisal::EffectiveValidUntil(content);
  (void)until;
  market::appraisal::ObservationOf("firms/f/appraisals/a", content);
  market::appraisal::SummaryOf("firms/f/appraisals/a", content);
  return 0;
}
