// Grading schemes as data (DOMAIN.md §4): the built-in schemes ship as
// grading_schemes.json (embedded at build time), further schemes are JSON
// files in a folder read at start, and every report grade is checked against
// them. Thread-safe: pure functions.
#ifndef MARKET_SERVICES_APPRAISAL_GRADING_SCHEMES_H_
#define MARKET_SERVICES_APPRAISAL_GRADING_SCHEMES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "market/appraisal/v1/appraisal.pb.h"

namespace market::appraisal {

// One version of a scheme plus the rule the proto's Level cannot carry.
struct SchemeDefinition {
  v1::GradingScheme scheme;  // name set: gradingSchemes/{scheme}/versions/{version}
  // Scored vehicle schemes: the level of an accident vehicle, which overrides
  // the score (vehicle-gbt30323: 五级). "" when the scheme has none.
  std::string accident_level;
};

// `gradingSchemes/{scheme}/versions/{version}`.
std::string SchemeName(absl::string_view scheme, int version);

// The text of the built-in grading_schemes.json.
absl::string_view BuiltinSchemesJson();

// Parses a scheme file: {"schemes": [SCHEME, ...]}, [SCHEME, ...] or one
// SCHEME object, where SCHEME is {"scheme", "version", "display_name",
// "categories": ["PHONE", ...], "basis", "scored", "accident_level",
// "levels": [{"code", "description", "min_score", "max_score"}, ...]}.
// INVALID_ARGUMENT naming `source` when the JSON or a scheme is malformed: id
// not [a-z0-9-], version < 1, no category or level, duplicate level codes, a
// scored scheme whose non-accident levels lack score bands or whose bands
// overlap or leave part of 0-100 uncovered.
absl::StatusOr<std::vector<SchemeDefinition>> ParseSchemes(absl::string_view json,
                                                           const std::string& source);

// The built-in schemes followed by those of every `*.json` file in `dir`
// (file name order); a missing or empty `dir` adds nothing. Errors: those of
// ParseSchemes, INVALID_ARGUMENT for a (scheme, version) given twice,
// errno-derived codes when a file cannot be read.
absl::StatusOr<std::vector<SchemeDefinition>> LoadSchemes(const std::string& dir);

// Checks `grade` (at request field `field`) against its scheme `def`, for a
// report of `category` with optional `score` and accident finding.
// INVALID_ARGUMENT with reason UNKNOWN_GRADE when the level is not in the
// scheme or the scheme does not grade the category; GRADE_SCORE_MISMATCH when
// a scored scheme's level disagrees with the score (an accident vehicle must
// carry the accident level, whatever the score) or the score is missing.
absl::Status CheckGrade(const SchemeDefinition& def, const common::v1::GradeRef& grade,
                        common::v1::Category category, std::optional<int> score, bool accident,
                        const std::string& field);

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_GRADING_SCHEMES_H_
