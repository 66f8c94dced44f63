#include "services/listing/listing_csv.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "services/listing/utf8.h"

namespace market::listing {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

constexpr char kField[] = "csv_data";
constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";
// Longest cell text quoted back in a violation, in bytes.
constexpr size_t kMaxQuotedBytes = 64;
// Guards the descriptor walk against recursive message types.
constexpr int kMaxPathDepth = 8;

// Top-level Listing fields the server sets; besides these every `*_time`
// field is output only.
constexpr absl::string_view kOutputOnly[] = {
    "name",           "state",      "item", "created_by",       "removal_cause",
    "removal_reason", "removed_by", "etag", "latest_appraisal",
};

bool IsOutputOnly(absl::string_view top_level_field) {
  if (absl::EndsWith(top_level_field, "_time")) return true;
  for (absl::string_view name : kOutputOnly) {
    if (name == top_level_field) return true;
  }
  return false;
}

// `text` in double quotes for a violation, cut at a code point boundary.
std::string Quoted(absl::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return absl::StrCat("\"", text, "\"");
  size_t end = kMaxQuotedBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat("\"", text.substr(0, end), "…\"");
}

// ---------------------------------------------------------------------------
// RFC 4180 reader.

struct Cell {
  std::string text;  // unquoted cells trimmed of ASCII whitespace, quoted ones verbatim
  bool quoted = false;
  bool text_after_quote = false;  // `"abc"def`: malformed
};

struct Record {
  int line = 0;  // physical line the record starts on, 1-based
  std::vector<Cell> cells;
};

bool IsBlank(const Record& r) {
  for (const Cell& c : r.cells) {
    if (!c.text.empty() || c.text_after_quote) return false;
  }
  return true;
}

class CsvReader {
 public:
  explicit CsvReader(absl::string_view data) : data_(data) {}

  // Reads the next record into `out`: true if one was read, false at the end
  // of the data; INVALID_ARGUMENT for an unterminated quoted field.
  absl::StatusOr<bool> Next(Record& out) {
    if (pos_ >= data_.size()) return false;
    out.line = line_;
    out.cells.clear();
    while (true) {
      Cell cell;
      size_t p = pos_;
      while (p < data_.size() && (data_[p] == ' ' || data_[p] == '\t')) ++p;
      if (p < data_.size() && data_[p] == '"') {
        pos_ = p + 1;
        MARKET_RETURN_IF_ERROR(ReadQuoted(cell));
        SkipAfterQuote(cell);
      } else {
        const size_t end = std::min(data_.find_first_of(",\n", pos_), data_.size());
        cell.text = std::string(absl::StripAsciiWhitespace(data_.substr(pos_, end - pos_)));
        pos_ = end;
      }
      out.cells.push_back(std::move(cell));
      if (pos_ < data_.size() && data_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < data_.size()) {  // '\n'
        ++pos_;
        ++line_;
      }
      return true;
    }
  }

 private:
  // Reads a quoted cell's content; pos_ is just after the opening quote and
  // ends just after the closing one.
  absl::Status ReadQuoted(Cell& cell) {
    cell.quoted = true;
    const int open_line = line_;
    while (true) {
      const size_t q = data_.find('"', pos_);
      if (q == absl::string_view::npos) {
        return InvalidField(kField, absl::StrCat("line ", open_line,
                                                 ": quoted field not terminated before the end"));
      }
      const absl::string_view chunk = data_.substr(pos_, q - pos_);
      line_ += static_cast<int>(std::count(chunk.begin(), chunk.end(), '\n'));
      cell.text.append(chunk.data(), chunk.size());
      if (q + 1 < data_.size() && data_[q + 1] == '"') {
        cell.text.push_back('"');
        pos_ = q + 2;
      } else {
        pos_ = q + 1;
        return absl::OkStatus();
      }
    }
  }

  // After a closing quote only whitespace may come before the separator or
  // the line end; anything else marks the cell and is dropped.
  void SkipAfterQuote(Cell& cell) {
    while (pos_ < data_.size() && data_[pos_] != ',' && data_[pos_] != '\n') {
      if (!absl::ascii_isspace(static_cast<unsigned char>(data_[pos_]))) {
        cell.text_after_quote = true;
      }
      ++pos_;
    }
  }

  absl::string_view data_;
  size_t pos_ = 0;
  int line_ = 1;
};

// ---------------------------------------------------------------------------
// Columns.

// A oneof member a column lies under, e.g. {"details", "phone"}.
struct OneofChoice {
  std::string key;  // the oneof's path, e.g. "details" or "a.b.kind"
  const OneofDescriptor* oneof = nullptr;
  const FieldDescriptor* member = nullptr;
};

struct Column {
  std::string path;
  std::vector<const FieldDescriptor*> fields;  // Listing → leaf; empty for photos
  bool photos = false;
  std::vector<OneofChoice> oneofs;
  bool repeated() const { return photos || fields.back()->is_repeated(); }
};

struct ColumnTable {
  std::map<std::string, Column> columns;
  std::vector<std::string> order;
  // Paths of singular message fields on the way (e.g. "price"), for messages.
  std::map<std::string, std::string> message_paths;  // path → an example column
};

void Walk(const Descriptor* desc, const std::string& prefix,
          std::vector<const FieldDescriptor*>& stack, std::vector<OneofChoice>& oneofs,
          ColumnTable& table) {
  if (stack.size() >= static_cast<size_t>(kMaxPathDepth)) return;
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    const std::string path = prefix.empty() ? f->name() : absl::StrCat(prefix, ".", f->name());
    if (stack.empty() && IsOutputOnly(f->name())) continue;
    if (stack.empty() && f->name() == kCsvPhotosColumn) {
      Column c{.path = path, .photos = true};
      table.order.push_back(path);
      table.columns.emplace(path, std::move(c));
      continue;
    }
    const OneofDescriptor* oneof = f->real_containing_oneof();
    if (oneof != nullptr) {
      oneofs.push_back(
          {.key = prefix.empty() ? oneof->name() : absl::StrCat(prefix, ".", oneof->name()),
           .oneof = oneof,
           .member = f});
    }
    stack.push_back(f);
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!f->is_repeated()) {
        const size_t before = table.order.size();
        Walk(f->message_type(), path, stack, oneofs, table);
        if (table.order.size() > before) table.message_paths[path] = table.order[before];
      }
    } else {
      table.order.push_back(path);
      table.columns.emplace(path, Column{.path = path, .fields = stack, .oneofs = oneofs});
    }
    stack.pop_back();
    if (oneof != nullptr) oneofs.pop_back();
  }
}

const ColumnTable& Columns() {
  static const ColumnTable* table = [] {
    auto* t = new ColumnTable;
    std::vector<const FieldDescriptor*> stack;
    std::vector<OneofChoice> oneofs;
    Walk(v1::Listing::descriptor(), "", stack, oneofs, *t);
    return t;
  }();
  return *table;
}

// Why `name` is not a column.
std::string ColumnProblem(const ColumnTable& table, const std::string& name) {
  if (name.empty()) return "empty header cell";
  const std::string top(absl::string_view(name).substr(0, name.find('.')));
  if (IsOutputOnly(top) && v1::Listing::descriptor()->FindFieldByName(top) != nullptr) {
    return absl::StrCat(Quoted(name), " is output only");
  }
  if (auto it = table.message_paths.find(name); it != table.message_paths.end()) {
    return absl::StrCat(Quoted(name), " is a message; name one of its fields, e.g. \"", it->second,
                        "\"");
  }
  return absl::StrCat("unknown column ", Quoted(name), " (want a Listing field path)");
}

// The header's columns in order, or INVALID_ARGUMENT naming every bad one.
absl::StatusOr<std::vector<const Column*>> ResolveHeader(const Record& header) {
  const ColumnTable& table = Columns();
  std::vector<const Column*> out;
  std::vector<std::string> problems;
  std::map<std::string, size_t> seen;  // path → 1-based column number
  for (size_t i = 0; i < header.cells.size(); ++i) {
    const std::string name(absl::StripAsciiWhitespace(header.cells[i].text));
    const auto it = table.columns.find(name);
    if (header.cells[i].text_after_quote) {
      problems.push_back(absl::StrCat("column ", i + 1, ": text after the closing quote"));
    } else if (it == table.columns.end()) {
      problems.push_back(absl::StrCat("column ", i + 1, ": ", ColumnProblem(table, name)));
    } else if (auto [prev, inserted] = seen.emplace(name, i + 1); !inserted) {
      problems.push_back(absl::StrCat("column ", i + 1, ": duplicated column ", Quoted(name),
                                      " (also column ", prev->second, ")"));
    } else {
      out.push_back(&it->second);
    }
  }
  if (!problems.empty()) {
    return InvalidField(
        kField, absl::StrCat("header (line ", header.line, "): ", absl::StrJoin(problems, "; ")));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Cells.

using Value = std::variant<int32_t, int64_t, uint32_t, uint64_t, double, float, bool,
                           const EnumValueDescriptor*, std::string>;

bool IsDecimal(absl::string_view s, bool allow_minus) {
  if (allow_minus) absl::ConsumePrefix(&s, "-");
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

template <typename T>
std::variant<Value, std::string> ParseInteger(absl::string_view text, absl::string_view type) {
  if (!IsDecimal(text, std::is_signed_v<T>)) {
    return absl::StrCat(Quoted(text), " is not a decimal ", type);
  }
  T v;
  if (!absl::SimpleAtoi(text, &v)) return absl::StrCat(Quoted(text), " is out of range for ", type);
  return Value(v);
}

std::string EnumNames(const google::protobuf::EnumDescriptor* e) {
  std::vector<std::string> names;
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() != 0) names.push_back(e->value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

// The value of one cell (or one part of a repeated cell) for `f`, or why not.
std::variant<Value, std::string> ParseValue(const FieldDescriptor* f, absl::string_view text) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return ParseInteger<int32_t>(text, "int32");
    case FieldDescriptor::CPPTYPE_INT64:
      return ParseInteger<int64_t>(text, "int64");
    case FieldDescriptor::CPPTYPE_UINT32:
      return ParseInteger<uint32_t>(text, "uint32");
    case FieldDescriptor::CPPTYPE_UINT64:
      return ParseInteger<uint64_t>(text, "uint64");
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double d;
      if (!absl::SimpleAtod(text, &d) || !std::isfinite(d)) {
        return absl::StrCat(Quoted(text), " is not a finite number");
      }
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) return Value(d);
      return Value(static_cast<float>(d));
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      for (absl::string_view t : {"true", "yes", "1"}) {
        if (absl::EqualsIgnoreCase(text, t)) return Value(true);
      }
      for (absl::string_view t : {"false", "no", "0"}) {
        if (absl::EqualsIgnoreCase(text, t)) return Value(false);
      }
      return absl::StrCat(Quoted(text), " is not a bool (want true/false, yes/no or 1/0)");
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* e = f->enum_type();
      for (int i = 0; i < e->value_count(); ++i) {
        const EnumValueDescriptor* v = e->value(i);
        if (v->number() != 0 && absl::EqualsIgnoreCase(text, v->name())) return Value(v);
      }
      return absl::StrCat(Quoted(text), " is not a ", e->name(), " (want one of ", EnumNames(e),
                          ")");
    }
    case FieldDescriptor::CPPTYPE_STRING:
      return Value(std::string(text));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return std::string("unsupported field type");
}

void SetValue(Message& m, const FieldDescriptor* f, Value v) {
  const Reflection* r = m.GetReflection();
  // Appends to a repeated field, sets a singular one.
  const bool add = f->is_repeated();
  std::visit(
      [&](auto&& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, int32_t>)
          add ? r->AddInt32(&m, f, x) : r->SetInt32(&m, f, x);
        if constexpr (std::is_same_v<T, int64_t>)
          add ? r->AddInt64(&m, f, x) : r->SetInt64(&m, f, x);
        if constexpr (std::is_same_v<T, uint32_t>)
          add ? r->AddUInt32(&m, f, x) : r->SetUInt32(&m, f, x);
        if constexpr (std::is_same_v<T, uint64_t>)
          add ? r->AddUInt64(&m, f, x) : r->SetUInt64(&m, f, x);
        if constexpr (std::is_same_v<T, double>)
          add ? r->AddDouble(&m, f, x) : r->SetDouble(&m, f, x);
        if constexpr (std::is_same_v<T, float>) add ? r->AddFloat(&m, f, x) : r->SetFloat(&m, f, x);
        if constexpr (std::is_same_v<T, bool>) add ? r->AddBool(&m, f, x) : r->SetBool(&m, f, x);
        if constexpr (std::is_same_v<T, const EnumValueDescriptor*>)
          add ? r->AddEnum(&m, f, x) : r->SetEnum(&m, f, x);
        if constexpr (std::is_same_v<T, std::string>)
          add ? r->AddString(&m, f, std::move(x)) : r->SetString(&m, f, std::move(x));
      },
      std::move(v));
}

// Parses one non-header record into `out` (whose row number is set).
void ParseRow(const std::vector<const Column*>& columns, const Record& record, CsvRow& out) {
  if (record.cells.size() != columns.size()) {
    out.violations.emplace_back(
        kField, absl::StrCat("line ", record.line, ": ", record.cells.size(), " cells, want ",
                             columns.size(), " (one per header column)"));
    return;
  }
  // Oneof key → the member chosen by an earlier cell, and that cell's column.
  std::map<std::string, std::pair<const FieldDescriptor*, const Column*>> chosen;
  for (size_t i = 0; i < columns.size(); ++i) {
    const Column& col = *columns[i];
    const Cell& cell = record.cells[i];
    if (cell.text_after_quote) {
      out.violations.emplace_back(
          col.path, "text after the closing quote (quote the whole cell and double inner quotes)");
      continue;
    }
    std::vector<absl::string_view> parts;
    if (col.repeated()) {
      for (absl::string_view p : absl::StrSplit(cell.text, kCsvListSeparator)) {
        p = absl::StripAsciiWhitespace(p);
        if (!p.empty()) parts.push_back(p);
      }
    } else if (col.fields.back()->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (!cell.text.empty()) parts.push_back(cell.text);
    } else if (absl::string_view t = absl::StripAsciiWhitespace(cell.text); !t.empty()) {
      parts.push_back(t);  // numbers, bools and enums ignore spaces even when quoted
    }
    if (parts.empty()) continue;

    bool conflict = false;
    for (const OneofChoice& o : col.oneofs) {
      auto [it, inserted] = chosen.try_emplace(o.key, o.member, &col);
      if (!inserted && it->second.first != o.member) {
        out.violations.emplace_back(
            col.path, absl::StrCat(o.oneof->name(), ": cells for ", it->second.first->name(),
                                   " and ", o.member->name(), " in one row"));
        conflict = true;
        break;
      }
    }
    if (conflict) continue;

    if (col.photos) {
      for (absl::string_view p : parts) out.listing.add_photos()->set_sha256(std::string(p));
      continue;
    }
    const FieldDescriptor* leaf = col.fields.back();
    std::vector<Value> values;
    std::string problem;
    for (absl::string_view p : parts) {
      auto parsed = ParseValue(leaf, p);
      if (auto* why = std::get_if<std::string>(&parsed)) {
        problem = std::move(*why);
        break;
      }
      values.push_back(std::get<Value>(std::move(parsed)));
    }
    if (!problem.empty()) {
      out.violations.emplace_back(col.path, std::move(problem));
      continue;
    }
    Message* m = &out.listing;
    for (size_t k = 0; k + 1 < col.fields.size(); ++k) {
      m = m->GetReflection()->MutableMessage(m, col.fields[k]);
    }
    for (Value& v : values) SetValue(*m, leaf, std::move(v));
  }

  if (out.listing.has_declared_condition()) {
    auto* dc = out.listing.mutable_declared_condition();
    if (!dc->level().empty() && dc->scheme().empty()) dc->set_scheme(kCsvDefaultConditionScheme);
    if (!dc->level().empty() && dc->scheme() == kCsvDefaultConditionScheme && dc->version() == 0) {
      dc->set_version(kCsvDefaultConditionVersion);
    }
  }
}

}  // namespace

const std::vector<std::string>& ListingsCsvColumns() { return Columns().order; }

absl::StatusOr<std::vector<CsvRow>> ParseListingsCsv(absl::string_view csv) {
  if (csv.size() > kMaxCsvBytes) {
    return InvalidField(kField,
                        absl::StrCat(csv.size(), " bytes, want <= ", kMaxCsvBytes, " (4 MiB)"));
  }
  if (auto bad = InvalidUtf8Offset(csv)) {
    const int line = 1 + static_cast<int>(std::count(csv.begin(), csv.begin() + *bad, '\n'));
    return InvalidField(kField,
                        absl::StrCat("not valid UTF-8 (line ", line, ", byte offset ", *bad, ")"));
  }
  absl::ConsumePrefix(&csv, kUtf8Bom);

  CsvReader reader(csv);
  Record record;
  std::optional<std::vector<const Column*>> columns;
  std::vector<CsvRow> rows;
  while (true) {
    MARKET_ASSIGN_OR_RETURN(const bool more, reader.Next(record));
    if (!more) break;
    if (IsBlank(record)) continue;
    if (!columns) {
      MARKET_ASSIGN_OR_RETURN(columns, ResolveHeader(record));
      continue;
    }
    if (rows.size() >= static_cast<size_t>(kMaxCsvRows)) {
      return InvalidField(
          kField, absl::StrCat("more than ", kMaxCsvRows, " data rows (line ", record.line, ")"));
    }
    CsvRow& row = rows.emplace_back();
    row.row = static_cast<int>(rows.size());
    ParseRow(*columns, record, row);
  }
  if (!columns) return InvalidField(kField, "no header row");
  return rows;
}

}  // namespace market::listing
