// Text layout for marketctl's table and key/value output: the display width
// of UTF-8 text (CJK and full-width forms count two columns, combining marks
// none; utf8proc's tables) and columns aligned by it. Pure functions;
// thread-safe.
#ifndef MARKET_CLIENTS_MARKETCTL_DISPLAY_H_
#define MARKET_CLIENTS_MARKETCTL_DISPLAY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace market::ctl {

// Terminal columns `utf8` takes: utf8proc_charwidth of each code point (2 for
// East Asian wide and full-width characters, 0 for combining marks and
// controls); a byte that is not valid UTF-8 counts one.
int DisplayWidth(absl::string_view utf8);

// `text`, then spaces up to `width` display columns (none when it is wider).
std::string PadToWidth(absl::string_view text, int width);

// Lines of `rows`, each column padded to its widest cell's display width and
// followed by two spaces; the last cell of a line is not padded. Rows may have
// fewer cells than others.
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows);

// A table: `header`, then `rows` (AlignColumns of both).
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// "key  value" lines, the values starting in one column.
std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_DISPLAY_H_
