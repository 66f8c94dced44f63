#include "services/appraisal/grading_schemes.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <system_error>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/config/files.h"
#include "common/status/status.h"
#include "nlohmann/json.hpp"
#include "services/appraisal/appraisal_rules.h"

namespace market::appraisal {
namespace {

using nlohmann::json;

bool ValidSchemeId(const std::string& id) {
  if (id.empty() || id.size() > 63 || !absl::ascii_islower(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
  });
}

// INVALID_ARGUMENT with the message `parts` concatenated.
template <typename... Parts>
absl::Status Invalid(const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

// Reads an optional member of type T; INVALID_ARGUMENT when present with another type.
template <typename T>
absl::Status Member(const json& object, const char* key, T* out, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absl::OkStatus();
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // get<int>() of a fraction or of a number beyond int's range (parsed as a
    // double) would truncate or be undefined: want an integer that fits.
    static_assert(std::is_signed_v<T>);
    if (!it->is_number_integer()) return Invalid(where, ".", key, ": want an integer");
    if (it->is_number_unsigned()
            ? it->template get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())
            : (it->template get<int64_t>() < std::numeric_limits<T>::min() ||
               it->template get<int64_t>() > std::numeric_limits<T>::max())) {
      return Invalid(where, ".", key, ": out of range");
    }
  }
  try {
    *out = it->get<T>();
  } catch (const json::exception& e) {
    return Invalid(where, ".", key, ": ", e.what());
  }
  return absl::OkStatus();
}

absl::StatusOr<SchemeDefinition> ParseOne(const json& j, const std::string& where) {
  if (!j.is_object()) return Invalid(where, ": want an object");
  SchemeDefinition def;
  v1::GradingScheme& s = def.scheme;
  std::string id, display_name, basis;
  int version = 0;
  bool scored = false;
  std::vector<std::string> categories;
  MARKET_RETURN_IF_ERROR(Member(j, "scheme", &id, where));
  MARKET_RETURN_IF_ERROR(Member(j, "version", &version, where));
  MARKET_RETURN_IF_ERROR(Member(j, "display_name", &display_name, where));
  MARKET_RETURN_IF_ERROR(Member(j, "basis", &basis, where));
  MARKET_RETURN_IF_ERROR(Member(j, "scored", &scored, where));
  MARKET_RETURN_IF_ERROR(Member(j, "categories", &categories, where));
  MARKET_RETURN_IF_ERROR(Member(j, "accident_level", &def.accident_level, where));
  if (!ValidSchemeId(id)) {
    return Invalid(where, ".scheme: \"", id, "\", want 1-63 characters of [a-z0-9-]");
  }
  if (version < 1) return Invalid(where, ".version: want >= 1");
  s.set_name(SchemeName(id, version));
  s.set_scheme(id);
  s.set_version(version);
  s.set_display_name(display_name);
  s.set_basis(basis);
  s.set_scored(scored);
  if (categories.empty()) return Invalid(where, ".categories: want at least one");
  for (const std::string& name : categories) {
    common::v1::Category c;
    if (!common::v1::Category_Parse(name, &c) || c == common::v1::CATEGORY_UNSPECIFIED) {
      return Invalid(where, ".categories: unknown category \"", name, "\"");
    }
    s.add_categories(c);
  }
  auto levels = j.find("levels");
  if (levels == j.end() || !levels->is_array() || levels->empty()) {
    return Invalid(where, ".levels: want a non-empty array");
  }
  std::set<std::string> codes;
  std::vector<std::pair<int, int>> bands;
  for (size_t i = 0; i < levels->size(); ++i) {
    const json& lj = (*levels)[i];
    std::string at = absl::StrCat(where, ".levels[", i, "]");
    if (!lj.is_object()) return Invalid(at, ": want an object");
    std::string code, description;
    std::optional<int> min_score, max_score;
    MARKET_RETURN_IF_ERROR(Member(lj, "code", &code, at));
    MARKET_RETURN_IF_ERROR(Member(lj, "description", &description, at));
    int v = 0;
    if (lj.contains("min_score")) {
      MARKET_RETURN_IF_ERROR(Member(lj, "min_score", &v, at));
      min_score = v;
    }
    if (lj.contains("max_score")) {
      MARKET_RETURN_IF_ERROR(Member(lj, "max_score", &v, at));
      max_score = v;
    }
    if (code.empty() || code.size() > 32) return Invalid(at, ".code: want 1-32 bytes");
    if (!codes.insert(code).second) return Invalid(at, ".code: \"", code, "\" repeated");
    v1::GradingScheme::Level* level = s.add_levels();
    level->set_code(code);
    level->set_description(description);
    if (min_score.has_value() != max_score.has_value()) {
      return Invalid(at, ": give both min_score and max_score");
    }
    if (min_score.has_value()) {
      if (!scored) return Invalid(at, ": score band in an unscored scheme");
      if (*min_score < 0 || *max_score > 100 || *min_score > *max_score) {
        return Invalid(at, ": want 0 <= min_score <= max_score <= 100");
      }
      level->set_min_score(*min_score);
      level->set_max_score(*max_score);
      bands.emplace_back(*min_score, *max_score);
    } else if (scored && code != def.accident_level) {
      return Invalid(at, ": a scored scheme's level needs min_score and max_score");
    }
  }
  if (!def.accident_level.empty() && !codes.contains(def.accident_level)) {
    return Invalid(where, ".accident_level: \"", def.accident_level, "\" is not a level");
  }
  if (scored) {
    std::sort(bands.begin(), bands.end());
    int next = 0;
    for (const auto& [lo, hi] : bands) {
      if (lo != next) {
        return Invalid(where, ".levels: score bands must cover 0-100 without gaps or overlaps (at ",
                       lo, ")");
      }
      next = hi + 1;
    }
    if (next != 101) {
      return Invalid(where, ".levels: score bands must cover 0-100 (end at ", next - 1, ")");
    }
  }
  return def;
}

}  // namespace

std::string SchemeName(absl::string_view scheme, int version) {
  return absl::StrCat("gradingSchemes/", scheme, "/versions/", version);
}

absl::StatusOr<std::vector<SchemeDefinition>> ParseSchemes(absl::string_view text,
                                                           const std::string& source) {
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Invalid(source, ": not valid JSON");
  const json* list = &root;
  if (root.is_object() && root.contains("schemes")) list = &root["schemes"];
  std::vector<SchemeDefinition> out;
  if (list->is_array()) {
    for (size_t i = 0; i < list->size(); ++i) {
      MARKET_ASSIGN_OR_RETURN(SchemeDefinition def,
                              ParseOne((*list)[i], absl::StrCat(source, ": schemes[", i, "]")));
      out.push_back(std::move(def));
    }
  } else {
    MARKET_ASSIGN_OR_RETURN(SchemeDefinition def, ParseOne(*list, source));
    out.push_back(std::move(def));
  }
  return out;
}

absl::StatusOr<std::vector<SchemeDefinition>> LoadSchemes(const std::string& dir) {
  MARKET_ASSIGN_OR_RETURN(std::vector<SchemeDefinition> all,
                          ParseSchemes(BuiltinSchemesJson(), "grading_schemes.json (built-in)"));
  std::error_code ec;
  if (!dir.empty() && std::filesystem::is_directory(dir, ec)) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path().string());
    }
    if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      MARKET_ASSIGN_OR_RETURN(std::string text, config::ReadFile(file));
      MARKET_ASSIGN_OR_RETURN(std::vector<SchemeDefinition> more, ParseSchemes(text, file));
      for (auto& def : more) all.push_back(std::move(def));
    }
  }
  std::set<std::string> names;
  for (const auto& def : all) {
    if (!names.insert(def.scheme.name()).second) {
      return Invalid(def.scheme.name(), " is defined twice");
    }
  }
  return all;
}

absl::Status CheckGrade(const SchemeDefinition& def, const common::v1::GradeRef& grade,
                        common::v1::Category category, std::optional<int> score, bool accident,
                        const std::string& field) {
  const v1::GradingScheme& s = def.scheme;
  if (std::find(s.categories().begin(), s.categories().end(), category) == s.categories().end()) {
    return InvalidWithReason(
        field + ".scheme", "UNKNOWN_GRADE",
        absl::StrCat(s.name(), " does not grade ", common::v1::Category_Name(category)));
  }
  const v1::GradingScheme::Level* level = nullptr;
  for (const auto& l : s.levels()) {
    if (l.code() == grade.level()) level = &l;
  }
  if (level == nullptr) {
    return InvalidWithReason(field + ".level", "UNKNOWN_GRADE",
                             absl::StrCat("\"", grade.level(), "\" is not a level of ", s.name()));
  }
  if (!s.scored()) return absl::OkStatus();
  if (accident && !def.accident_level.empty()) {
    if (grade.level() != def.accident_level) {
      return InvalidWithReason(field + ".level", "GRADE_SCORE_MISMATCH",
                               absl::StrCat("an accident vehicle is graded ", def.accident_level,
                                            " in ", s.name(), " whatever its score"));
    }
    return absl::OkStatus();
  }
  if (!score.has_value()) {
    return InvalidWithReason("appraisal.signed_content.score", "GRADE_SCORE_MISMATCH",
                             absl::StrCat(s.name(), " is scored; the report needs a score"));
  }
  if (!level->has_min_score() || *score < level->min_score() || *score > level->max_score()) {
    std::string want;
    for (const auto& l : s.levels()) {
      if (l.has_min_score() && *score >= l.min_score() && *score <= l.max_score()) want = l.code();
    }
    return InvalidWithReason(
        field + ".level", "GRADE_SCORE_MISMATCH",
        absl::StrCat("score ", *score, " is level ", want.empty() ? "(none)" : want, " in ",
                     s.name(), ", not ", grade.level()));
  }
  return absl::OkStatus();
}

}  // namespace market::appraisal
