// UTF-8 well-formedness shared by the CSV reader and the listing rules.
// Thread-safe: pure functions.
#ifndef MARKET_SERVICES_LISTING_UTF8_H_
#define MARKET_SERVICES_LISTING_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace market::listing {

// Byte offset of the first byte of `s` that is not part of well-formed UTF-8
// (overlong forms, surrogates and values above U+10FFFF are ill-formed), or
// nullopt when all of `s` is well-formed.
inline std::optional<size_t> InvalidUtf8Offset(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len;
    uint32_t cp;
    if (b < 0x80) {
      len = 1;
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (int k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMinForLen[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLen[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::nullopt;
}

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_UTF8_H_
