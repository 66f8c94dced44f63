// Grading scheme files (the operator's extra schemes folder):
// ParseSchemes (services/appraisal/grading_schemes.h) on arbitrary JSON; the
// JSON library's exceptions must not escape. Input: the file's bytes.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.h"
#include "services/appraisal/grading_schemes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<market::appraisal::SchemeDefinition>> schemes =
      market::appraisal::ParseSchemes(json, "fuzz.json");
  market::fuzz::Trace("parse", schemes.status());
  FUZZ_CHECK(schemes.ok() || schemes.status().code() == absl::StatusCode::kInvalidArgument,
             schemes.status().ToString());
  if (schemes.ok()) {
    for (const auto& def : *schemes) {
      FUZZ_CHECK(def.scheme.version() >= 1 && def.scheme.levels_size() > 0,
                 def.scheme.ShortDebugString());
    }
  }
  return 0;
}
