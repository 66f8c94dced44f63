// Photo uploads: SniffImageType (services/listing/photo_store.h) on the
// uploaded bytes. Input: the file. The answer is one of the three types or "".
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.h"
#include "services/listing/photo_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string type = market::listing::SniffImageType(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  FUZZ_CHECK(type.empty() || type == "image/jpeg" || type == "image/png" || type == "image/webp",
             type);
  return 0;
}
