#include "clients/marketctl/listing_commands.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "clients/marketctl/money.h"
#include "clients/marketctl/progress.h"
#include "common/config/files.h"
#include "common/crypto/crypto.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "market/listing/v1/listing.grpc.pb.h"

namespace market::ctl {
namespace internal {

namespace lv1 = ::market::listing::v1;

absl::StatusOr<std::vector<CsvBatch>> SplitCsv(absl::string_view csv, int rows_per_batch) {
  if (rows_per_batch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("rows_per_batch ", rows_per_batch, ", want >= 1"));
  }
  absl::ConsumePrefix(&csv, "\xEF\xBB\xBF");
  std::vector<CsvBatch> batches;
  std::optional<std::string> header;
  int rows = 0;
  int line = 1;
  size_t pos = 0;
  while (pos < csv.size()) {
    // One record: cells separated by ',' up to a '\n' outside quotes. Cells
    // are scanned as the server's reader does, to tell blank records apart.
    const size_t start = pos;
    bool blank = true;
    while (true) {
      size_t p = pos;
      while (p < csv.size() && (csv[p] == ' ' || csv[p] == '\t')) ++p;
      if (p < csv.size() && csv[p] == '"') {
        const int open_line = line;
        pos = p + 1;
        bool closed = false;
        while (pos < csv.size()) {
          if (csv[pos] == '"') {
            if (pos + 1 < csv.size() && csv[pos + 1] == '"') {  // "" is an escaped quote
              blank = false;
              pos += 2;
              continue;
            }
            ++pos;
            closed = true;
            break;
          }
          if (csv[pos] == '\n') ++line;
          blank = false;
          ++pos;
        }
        if (!closed) {
          return absl::InvalidArgumentError(absl::StrCat(
              "line ", open_line, ": quoted field not terminated before the end of the file"));
        }
        for (; pos < csv.size() && csv[pos] != ',' && csv[pos] != '\n'; ++pos) {
          if (!absl::ascii_isspace(static_cast<unsigned char>(csv[pos]))) blank = false;
        }
      } else {
        const size_t end = std::min(csv.find_first_of(",\n", pos), csv.size());
        if (!absl::StripAsciiWhitespace(csv.substr(pos, end - pos)).empty()) blank = false;
        pos = end;
      }
      if (pos < csv.size() && csv[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < csv.size()) {  // the '\n' ending the record
        ++pos;
        ++line;
      }
      break;
    }
    const absl::string_view record = csv.substr(start, pos - start);
    if (blank) continue;
    if (!header) {
      header = std::string(record);
      if (!absl::EndsWith(*header, "\n")) header->push_back('\n');
      continue;
    }
    if (batches.empty() || batches.back().rows == rows_per_batch) {
      CsvBatch& batch = batches.emplace_back();
      batch.csv = *header;
      batch.first_row = rows + 1;
    }
    ++rows;
    ++batches.back().rows;
    batches.back().csv.append(record.data(), record.size());
  }
  if (header && batches.empty()) batches.push_back(CsvBatch{*header, 1, 0});
  return batches;
}

void RenumberRows(int first_row, lv1::ImportListingsResponse* batch) {
  for (auto& r : *batch->mutable_results()) r.set_row(r.row() + first_row - 1);
}

void MergeImportResponse(const lv1::ImportListingsResponse& batch,
                         lv1::ImportListingsResponse* total) {
  for (const auto& r : batch.results()) *total->add_results() = r;
  total->set_created_count(total->created_count() + batch.created_count());
  total->set_failed_count(total->failed_count() + batch.failed_count());
  total->set_committed(total->committed() || batch.committed());
}

absl::StatusOr<std::string> ChildName(const std::string& arg, const std::string& market,
                                      absl::string_view collection) {
  const std::string infix = absl::StrCat("/", collection, "/");
  const std::string want =
      absl::StrCat("markets/{market}", infix, "{id}, or --market and the bare id");
  if (arg.empty()) return absl::InvalidArgumentError(absl::StrCat("empty name, want ", want));
  const std::vector<std::string> parts = absl::StrSplit(arg, '/');
  if (parts.size() == 4 && parts[0] == "markets" && parts[2] == collection && !parts[1].empty() &&
      !parts[3].empty()) {
    return arg;
  }
  if (parts.size() == 3 && parts[1] == collection && !parts[0].empty() && !parts[2].empty()) {
    return absl::StrCat("markets/", arg);
  }
  if (parts.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("\"", arg, "\": want ", want));
  }
  if (market.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", arg, "\" is a bare id: give --market too, or ", "markets/{market}", infix, arg));
  }
  absl::string_view m = market;
  absl::ConsumePrefix(&m, "markets/");
  if (m.empty() || absl::StrContains(m, '/')) {
    return absl::InvalidArgumentError(
        absl::StrCat("--market \"", market, "\": want markets/{market} or {market}"));
  }
  return absl::StrCat("markets/", m, infix, arg);
}

std::vector<std::string> NormalizeMask(std::vector<std::string> paths) {
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::vector<std::string> out;
  for (const auto& p : paths) {
    // Sorted order puts "phone" before "phone.imei" (and before "phone_x").
    bool covered = false;
    for (const auto& kept : out) {
      if (absl::StartsWith(p, absl::StrCat(kept, "."))) covered = true;
    }
    if (!covered) out.push_back(p);
  }
  return out;
}

std::string ContentTypeFor(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash != absl::string_view::npos) path.remove_prefix(slash + 1);
  const size_t dot = path.rfind('.');
  if (dot == absl::string_view::npos) return "";
  const std::string ext = absl::AsciiStrToLower(path.substr(dot + 1));
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "png") return "image/png";
  if (ext == "webp") return "image/webp";
  return "";
}

}  // namespace internal

namespace {

namespace v1 = ::market::listing::v1;
namespace cv1 = ::market::common::v1;
using ListingStub = v1::ListingService::Stub;
using OrderStub = v1::OrderService::Stub;
using ItemStub = v1::ItemService::Stub;
using google::protobuf::util::TimeUtil;

constexpr int kImportBatchRows = 500;
constexpr size_t kPhotoChunkBytes = 256 * 1024;
constexpr char kConditionScheme[] = "general-condition-v1";
constexpr int kConditionSchemeVersion = 1;

// "-" (every market), "m" or "markets/m".
std::string MarketName(const std::string& m) { return Prefixed(m.empty() ? "-" : m, "markets"); }

// An enum flag's value by name, case-insensitively; nullopt after printing
// the accepted names when `text` names no value (or the zero value).
std::optional<int> ParseEnum(Client& client, const char* flag, const std::string& text,
                             const google::protobuf::EnumDescriptor* type) {
  const auto* value = type->FindValueByName(absl::AsciiStrToUpper(text));
  if (value != nullptr && value->number() != 0) return value->number();
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != 0) names.push_back(type->value(i)->name());
  }
  client.err() << "error: " << flag << " \"" << text << "\": want one of "
               << absl::StrJoin(names, ", ") << "\n";
  return std::nullopt;
}

std::string TimeText(const google::protobuf::Timestamp& ts) {
  return ts.seconds() == 0 && ts.nanos() == 0 ? "" : TimeUtil::ToString(ts);
}

void PrintListings(Client& client, const std::vector<const v1::Listing*>& listings) {
  PrintRows(client, listings, {"NAME", "STATE", "CATEGORY", "PRICE", "CONDITION", "TITLE"},
            [](const v1::Listing& l) -> std::vector<std::string> {
              return {l.name(),
                      v1::Listing::State_Name(l.state()),
                      cv1::Category_Name(l.category()),
                      l.has_price() ? FormatMoney(l.price()) : "",
                      l.declared_condition().level(),
                      l.title()};
            });
}

void PrintOrders(Client& client, const std::vector<const v1::Order*>& orders) {
  PrintRows(client, orders, {"NAME", "STATE", "LISTING", "BUYER", "SELLER", "PRICE", "PLACED"},
            [](const v1::Order& o) -> std::vector<std::string> {
              return {o.name(),
                      v1::Order::State_Name(o.state()),
                      o.listing(),
                      o.buyer(),
                      o.seller(),
                      FormatMoney(o.price()),
                      TimeText(o.place_time())};
            });
}

// ---- listing content flags, shared by create and update ----

constexpr unsigned Bit(cv1::Category c) { return 1u << static_cast<int>(c); }

// A flag that sets one field of the category's details message.
struct DetailFlag {
  const char* flag;
  const char* field;    // field name in PhoneDetails, VehicleDetails, ...
  unsigned categories;  // Bit() of each category whose details have the field
  const char* help;
};

constexpr unsigned kPhone = Bit(cv1::PHONE);
constexpr unsigned kAppliance = Bit(cv1::APPLIANCE);
constexpr unsigned kFurniture = Bit(cv1::FURNITURE);
constexpr unsigned kVehicle = Bit(cv1::VEHICLE);
constexpr unsigned kAllCategories = kPhone | kAppliance | kFurniture | kVehicle;

const DetailFlag kDetailFlags[] = {
    {"--imei", "imei", kPhone, "PHONE: IMEI, 15 digits (Luhn-checked)"},
    {"--imei2", "imei2", kPhone, "PHONE: second IMEI of a dual-SIM phone"},
    {"--brand", "brand", kPhone | kAppliance | kFurniture, "PHONE, APPLIANCE, FURNITURE: brand"},
    {"--model", "model", kPhone | kAppliance | kVehicle, "PHONE, APPLIANCE, VEHICLE: model"},
    {"--storage-gb", "storage_gb", kPhone, "PHONE: storage in GB"},
    {"--battery-health", "battery_health_pct", kPhone, "PHONE: battery health in percent"},
    {"--data-wiped", "data_wiped", kPhone,
     "PHONE: attest that user data was wiped (required to publish; --data-wiped=false clears)"},
    {"--vin", "vin", kVehicle, "VEHICLE: VIN, 17 characters"},
    {"--engine-number", "engine_number", kVehicle, "VEHICLE: engine number"},
    {"--make", "make", kVehicle, "VEHICLE: make, e.g. BYD"},
    {"--mileage-km", "mileage_km", kVehicle, "VEHICLE: odometer reading in km"},
    {"--first-registration", "first_registration_date", kVehicle,
     "VEHICLE: first registration date YYYY-MM-DD"},
    {"--vin-override-reason", "vin_override_reason", kVehicle,
     "VEHICLE: skip the VIN check digit (old or imported vehicles; audited)"},
    {"--serial-number", "serial_number", kAppliance | kFurniture,
     "APPLIANCE, FURNITURE: serial number"},
    {"--kind", "kind", kAppliance | kFurniture,
     "APPLIANCE, FURNITURE: kind in lower case, e.g. refrigerator, sofa"},
};

struct ContentFlags {
  std::string category;
  std::string seller;
  std::string title;
  std::string description;
  std::string price;
  int64_t price_fen = 0;
  std::string condition;
  std::vector<std::string> defects;
  std::map<std::string, std::string> details;  // detail flag → text
  bool data_wiped = false;
  std::string from;
};

void AddContentFlags(CLI::App* cmd, ContentFlags* f, bool create) {
  cmd->add_option("--category", f->category,
                  create ? "PHONE, APPLIANCE, FURNITURE or VEHICLE; chooses the details "
                           "(required unless --from gives it)"
                         : "The listing's category, to tell which details flags such as "
                           "--brand set (default: inferred, else read from the server)");
  if (create) {
    cmd->add_option("--seller", f->seller,
                    "subjects/{id} or {id}: the seller (operators listing on a seller's "
                    "behalf; default: you)");
  }
  cmd->add_option("--title", f->title, "Title, 1-100 characters");
  cmd->add_option("--description", f->description, "Description, up to 5000 characters");
  auto* price =
      cmd->add_option("--price", f->price, "Asking price in yuan, e.g. 1299.50 or 1299.50元");
  cmd->add_option("--price-fen", f->price_fen, "Asking price in fen (1/100 yuan)")->excludes(price);
  cmd->add_option("--condition", f->condition,
                  "Declared condition, a level of general-condition-v1, e.g. 9成新");
  cmd->add_option("--defect", f->defects, "A disclosed defect, e.g. 屏幕右上角划痕 (repeatable)")
      ->allow_extra_args(false);
  for (const auto& d : kDetailFlags) {
    if (std::string(d.field) == "data_wiped") {
      cmd->add_flag(d.flag, f->data_wiped, d.help);
    } else {
      auto* opt = cmd->add_option(d.flag, f->details[d.flag], d.help);
      if (absl::EndsWith(d.field, "_gb") || absl::EndsWith(d.field, "_pct") ||
          absl::EndsWith(d.field, "_km")) {
        opt->type_name("INT");
      }
    }
  }
  cmd->add_option("--from", f->from,
                  create ? "FILE.json: a Listing in proto JSON (all fields, e.g. warranty_policy, "
                           "photos); flags override it"
                         : "FILE.json: a Listing in proto JSON; updates its fields named by "
                           "--mask (default: every writable field it sets); flags override it");
}

// The categories whose details have every detail flag given on `cmd`.
unsigned DetailCategories(CLI::App* cmd, bool* any) {
  unsigned categories = kAllCategories;
  *any = false;
  for (const auto& d : kDetailFlags) {
    if (cmd->count(d.flag) > 0) {
      categories &= d.categories;
      *any = true;
    }
  }
  return categories;
}

// Sets the fields of `l` given by content flags on `cmd` and appends their
// update_mask paths to `paths`. `category` picks the details message; it is
// CATEGORY_UNSPECIFIED only when no details flag was given. Returns 0, or
// kExitUsage after printing why.
int ApplyContent(Client& client, CLI::App* cmd, const ContentFlags& f, cv1::Category category,
                 v1::Listing* l, std::vector<std::string>* paths) {
  if (cmd->count("--title") > 0) {
    l->set_title(f.title);
    paths->push_back("title");
  }
  if (cmd->count("--description") > 0) {
    l->set_description(f.description);
    paths->push_back("description");
  }
  if (cmd->count("--price") > 0) {
    auto fen = ParseYuanFlag("--price", f.price);
    if (!fen.ok()) {
      client.err() << "error: " << fen.status().message() << "\n";
      return kExitUsage;
    }
    l->mutable_price()->set_amount_fen(*fen);
    paths->push_back("price");
  }
  if (cmd->count("--price-fen") > 0) {
    if (f.price_fen < 0) {
      client.err() << "error: --price-fen " << f.price_fen << ": want >= 0\n";
      return kExitUsage;
    }
    l->mutable_price()->set_amount_fen(f.price_fen);
    paths->push_back("price");
  }
  if (cmd->count("--condition") > 0) {
    cv1::GradeRef* grade = l->mutable_declared_condition();
    grade->set_scheme(kConditionScheme);
    grade->set_version(kConditionSchemeVersion);
    grade->set_level(f.condition);
    paths->push_back("declared_condition");
  }
  if (cmd->count("--defect") > 0) {
    l->clear_disclosed_defects();
    for (const auto& d : f.defects) l->add_disclosed_defects(d);
    paths->push_back("disclosed_defects");
  }
  const std::string details_field = absl::AsciiStrToLower(cv1::Category_Name(category));
  for (const auto& d : kDetailFlags) {
    if (cmd->count(d.flag) == 0) continue;
    if ((d.categories & Bit(category)) == 0) {
      client.err() << "error: " << d.flag << " is not a detail of " << cv1::Category_Name(category)
                   << " listings\n";
      return kExitUsage;
    }
    const auto* details_fd = v1::Listing::descriptor()->FindFieldByName(details_field);
    google::protobuf::Message* details = l->GetReflection()->MutableMessage(l, details_fd);
    const auto* fd = details->GetDescriptor()->FindFieldByName(d.field);
    const auto* refl = details->GetReflection();
    const std::string text = f.details.count(d.flag) ? f.details.at(d.flag) : "";
    switch (fd->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
        refl->SetString(details, fd, text);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64: {
        int32_t n32 = 0;
        int64_t n64 = 0;
        const bool is32 = fd->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_INT32;
        if (is32 ? !absl::SimpleAtoi(text, &n32) : !absl::SimpleAtoi(text, &n64)) {
          client.err() << "error: " << d.flag << " \"" << text << "\": want a whole number\n";
          return kExitUsage;
        }
        is32 ? refl->SetInt32(details, fd, n32) : refl->SetInt64(details, fd, n64);
        break;
      }
      case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
        refl->SetBool(details, fd, f.data_wiped);
        break;
      default:
        client.err() << "error: " << d.flag << ": unsupported field type\n";
        return kExitUsage;
    }
    if (std::string(d.field) == "first_registration_date") {
      absl::CivilDay day;
      if (!absl::ParseCivilTime(text, &day)) {
        client.err() << "error: --first-registration \"" << text << "\": want YYYY-MM-DD\n";
        return kExitUsage;
      }
    }
    paths->push_back(absl::StrCat(details_field, ".", d.field));
  }
  return 0;
}

// Reads a Listing in proto JSON. Returns 0, or kExitLocal after printing why.
int ReadListingJson(Client& client, const std::string& path, v1::Listing* listing) {
  auto text = config::ReadFile(path);
  if (!text.ok()) return client.Fail(text.status()), kExitLocal;
  google::protobuf::util::JsonParseOptions options;  // unknown fields are an error
  auto parsed = google::protobuf::util::JsonStringToMessage(*text, listing, options);
  if (!parsed.ok()) {
    client.err() << "error: " << path << ": not a Listing in proto JSON: " << parsed.ToString()
                 << "\n";
    return kExitLocal;
  }
  return 0;
}

// The update_mask paths of the writable top-level fields `l` sets.
std::vector<std::string> SetWritablePaths(const v1::Listing& l) {
  std::vector<std::string> paths;
  const auto* refl = l.GetReflection();
  for (const char* name :
       {"title", "description", "price", "phone", "appliance", "furniture", "vehicle",
        "declared_condition", "warranty_policy", "disclosed_defects", "photos"}) {
    const auto* fd = v1::Listing::descriptor()->FindFieldByName(name);
    if (fd->is_repeated() ? refl->FieldSize(l, fd) > 0 : refl->HasField(l, fd)) {
      paths.push_back(name);
    }
  }
  return paths;
}

// Prints an import result: with --output json the whole response; as a
// table the counts, with each failed row's violations on stderr (the
// per-row results of a 10,000-row file do not fit a table cell).
void PrintImport(Client& client, const v1::ImportListingsResponse& resp) {
  if (client.flags().output == "json") {
    client.Print(resp);
    return;
  }
  for (const auto& r : resp.results()) {
    for (const auto& v : r.violations()) {
      client.err() << "row " << r.row() << ": " << v.field() << ": " << v.description() << "\n";
    }
  }
  v1::ImportListingsResponse counts = resp;
  counts.clear_results();
  client.Print(counts);
}

// --market of a command over one market or every market ("-").
std::shared_ptr<std::string> AddMarketScope(CLI::App* cmd) {
  auto market = std::make_shared<std::string>("-");
  cmd->add_option("--market", *market, "markets/{id}, {id}, or - for every market")
      ->capture_default_str();
  return market;
}

}  // namespace

void AddListingCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* listing =
      AddGroup(&app, "listing", "Listings of used goods: create, publish, search, import",
               "Names: markets/{market}/listings/{id}, {market}/listings/{id}, or {id} "
               "with --market {market}.\n"
               "Example:\n  marketctl listing search --query 华为 --filter 'category=PHONE "
               "AND price<=2000元'");

  // ---- create ----
  auto* create =
      listing->add_subcommand("create", "Create a DRAFT listing (SELLER; OPERATOR for a seller)")
          ->footer(
              "Examples:\n"
              "  marketctl listing create --market east-flea --category PHONE --title "
              "'Mate 60 Pro 512G' \\\n"
              "      --price 4299.00 --condition 9成新 --defect '屏幕右上角划痕' \\\n"
              "      --imei 355383063760236 --brand Huawei --model 'Mate 60 Pro' "
              "--storage-gb 512 --data-wiped\n"
              "  marketctl listing create --market east-flea --category VEHICLE --from "
              "car.json --price 68000");
  auto cflags = std::make_shared<ContentFlags>();
  auto cmarket = std::make_shared<std::string>();
  auto creq = std::make_shared<v1::CreateListingRequest>();
  create->add_option("--market", *cmarket, "markets/{id} or {id}: where to list")->required();
  create->add_option("--id", *creq->mutable_listing_id(), "Listing id (default: generated)");
  AddContentFlags(create, cflags.get(), true);
  create->add_option("--request-id", *creq->mutable_request_id(), "Idempotency key");
  OnRun(create, run, [&client, create, cflags, cmarket, creq] {
    v1::CreateListingRequest req = *creq;
    req.set_parent(MarketName(*cmarket));
    v1::Listing* l = req.mutable_listing();
    if (!cflags->from.empty()) {
      if (int rc = ReadListingJson(client, cflags->from, l); rc != 0) return rc;
    }
    if (!cflags->category.empty()) {
      auto c = ParseEnum(client, "--category", cflags->category, cv1::Category_descriptor());
      if (!c) return kExitUsage;
      l->set_category(static_cast<cv1::Category>(*c));
    }
    if (l->category() == cv1::CATEGORY_UNSPECIFIED) {
      client.err() << "error: --category is required: PHONE, APPLIANCE, FURNITURE or VEHICLE\n";
      return kExitUsage;
    }
    if (!cflags->seller.empty()) l->set_seller(Prefixed(cflags->seller, "subjects"));
    std::vector<std::string> paths;
    if (int rc = ApplyContent(client, create, *cflags, l->category(), l, &paths); rc != 0) {
      return rc;
    }
    return CallAndPrint(client, &ListingStub::CreateListing, req);
  });

  // ---- get ----
  auto* get = listing->add_subcommand("get", "Show a listing")
                  ->footer(
                      "Examples:\n  marketctl listing get markets/east-flea/listings/mate60\n"
                      "  marketctl listing get mate60 --market east-flea -o json > "
                      "mate60.json");
  AddCallByChildName(get, client, run, &ListingStub::GetListing, "listing");

  // ---- update ----
  auto* update =
      listing->add_subcommand("update", "Update a DRAFT or PUBLISHED listing (its owner)")
          ->footer(
              "The update mask is built from the flags given (--title → title, --price → "
              "price,\n--imei → phone.imei, ...); with --from it also holds --mask, or "
              "every writable field\nthe file sets.\n"
              "Examples:\n"
              "  marketctl listing update mate60 --market east-flea --price 3999 "
              "--defect '屏幕右上角划痕' --defect '电池鼓包'\n"
              "  marketctl listing update markets/east-flea/listings/mate60 --from "
              "mate60.json --mask title,warranty_policy");
  auto uflags = std::make_shared<ContentFlags>();
  auto ulisting = AddChildArg(update, "name", "listing");
  auto umask = std::make_shared<std::string>();
  auto uetag = std::make_shared<std::string>();
  auto urequest_id = std::make_shared<std::string>();
  AddContentFlags(update, uflags.get(), false);
  update->add_option("--mask", *umask,
                     "update_mask paths for --from, comma-separated, e.g. "
                     "title,price,vehicle.mileage_km");
  update->add_option("--etag", *uetag, "The listing's etag; ABORTED if it changed since");
  update->add_option("--request-id", *urequest_id, "Idempotency key");
  OnRun(update, run, [&client, update, uflags, ulisting, umask, uetag, urequest_id] {
    auto name = ulisting->Resolve(client);
    if (!name) return kExitUsage;
    v1::UpdateListingRequest req;
    req.set_request_id(*urequest_id);
    v1::Listing* l = req.mutable_listing();
    std::vector<std::string> paths;
    if (!uflags->from.empty()) {
      if (int rc = ReadListingJson(client, uflags->from, l); rc != 0) return rc;
      if (umask->empty()) paths = SetWritablePaths(*l);
    } else if (!umask->empty()) {
      client.err() << "error: --mask goes with --from FILE; content flags make their own "
                      "paths\n";
      return kExitUsage;
    }
    for (absl::string_view p : absl::StrSplit(*umask, ',', absl::SkipWhitespace())) {
      paths.push_back(std::string(absl::StripAsciiWhitespace(p)));
    }
    l->set_name(*name);
    if (!uetag->empty()) l->set_etag(*uetag);
    // Which details message the detail flags set: --category, else the
    // file's, else the only category having them all, else the server's.
    bool any_details = false;
    const unsigned possible = DetailCategories(update, &any_details);
    cv1::Category category = cv1::CATEGORY_UNSPECIFIED;
    if (any_details) {
      if (!uflags->category.empty()) {
        auto c = ParseEnum(client, "--category", uflags->category, cv1::Category_descriptor());
        if (!c) return kExitUsage;
        category = static_cast<cv1::Category>(*c);
      } else if (l->category() != cv1::CATEGORY_UNSPECIFIED) {
        category = l->category();
      } else if (l->details_case() != v1::Listing::DETAILS_NOT_SET) {
        switch (l->details_case()) {
          case v1::Listing::kPhone:
            category = cv1::PHONE;
            break;
          case v1::Listing::kAppliance:
            category = cv1::APPLIANCE;
            break;
          case v1::Listing::kFurniture:
            category = cv1::FURNITURE;
            break;
          default:
            category = cv1::VEHICLE;
            break;
        }
      } else if (possible == 0) {
        client.err() << "error: the details flags given belong to different categories\n";
        return kExitUsage;
      } else if ((possible & (possible - 1)) == 0) {
        for (int c = cv1::PHONE; c <= cv1::VEHICLE; ++c) {
          if (possible == Bit(static_cast<cv1::Category>(c))) {
            category = static_cast<cv1::Category>(c);
          }
        }
      } else {
        v1::GetListingRequest greq;
        greq.set_name(*name);
        v1::Listing current;
        grpc::Status s = Invoke(client, &ListingStub::GetListing, greq, &current);
        if (!s.ok()) return client.Fail(s);
        category = current.category();
      }
    }
    if (int rc = ApplyContent(client, update, *uflags, category, l, &paths); rc != 0) return rc;
    paths = internal::NormalizeMask(std::move(paths));
    if (paths.empty()) {
      client.err() << "error: nothing to update: give content flags such as --title or "
                      "--price, or --from FILE.json\n";
      return kExitUsage;
    }
    for (const auto& p : paths) req.mutable_update_mask()->add_paths(p);
    return CallAndPrint(client, &ListingStub::UpdateListing, req);
  });

  // ---- publish, withdraw ----
  for (bool publish : {true, false}) {
    auto* cmd =
        listing
            ->add_subcommand(publish ? "publish" : "withdraw",
                             publish ? "Publish a DRAFT listing or re-list a WITHDRAWN one (owner)"
                                     : "Withdraw a DRAFT or PUBLISHED listing (owner)")
            ->footer(publish ? "Example:\n  marketctl listing publish mate60 --market east-flea"
                             : "Example:\n  marketctl listing withdraw "
                               "markets/east-flea/listings/mate60 --etag '\"v3\"'");
    auto target = AddChildArg(cmd, "name", "listing");
    auto etag = std::make_shared<std::string>();
    auto request_id = std::make_shared<std::string>();
    cmd->add_option("--etag", *etag, "The listing's etag; ABORTED if it changed since");
    cmd->add_option("--request-id", *request_id, "Idempotency key");
    OnRun(cmd, run, [&client, publish, target, etag, request_id] {
      auto full = target->Resolve(client);
      if (!full) return kExitUsage;
      auto call = [&](auto req, auto rpc) {
        req.set_name(*full);
        req.set_etag(*etag);
        req.set_request_id(*request_id);
        return CallAndPrint(client, rpc, req);
      };
      return publish ? call(v1::PublishListingRequest(), &ListingStub::PublishListing)
                     : call(v1::WithdrawListingRequest(), &ListingStub::WithdrawListing);
    });
  }

  // ---- remove ----
  auto* remove =
      listing
          ->add_subcommand("remove",
                           "Remove a listing for a rule violation (SUPERVISOR, the market's "
                           "OPERATOR); records a credit event against the seller")
          ->footer(
              "Example:\n  marketctl listing remove mate60 --market east-flea --cause "
              "COUNTERFEIT --reason '经鉴定为翻新机冒充原装'");
  auto rlisting = AddChildArg(remove, "name", "listing");
  auto rcause = std::make_shared<std::string>();
  auto rreq = std::make_shared<v1::RemoveListingRequest>();
  remove
      ->add_option("--cause", *rcause,
                   "COUNTERFEIT, FRAUD, PROHIBITED_GOODS, WRONG_CATEGORY, MISLEADING or OTHER")
      ->required();
  remove
      ->add_option("--reason", *rreq->mutable_reason(),
                   "Explanation shown to the seller, 1-500 characters")
      ->required();
  remove->add_option("--etag", *rreq->mutable_etag(),
                     "The listing's etag; ABORTED if it changed since");
  remove->add_option("--request-id", *rreq->mutable_request_id(), "Idempotency key");
  OnRun(remove, run, [&client, rlisting, rcause, rreq] {
    auto name = rlisting->Resolve(client);
    if (!name) return kExitUsage;
    auto cause = ParseEnum(client, "--cause", *rcause, v1::Listing::RemovalCause_descriptor());
    if (!cause) return kExitUsage;
    v1::RemoveListingRequest req = *rreq;
    req.set_name(*name);
    req.set_cause(static_cast<v1::Listing::RemovalCause>(*cause));
    return CallAndPrint(client, &ListingStub::RemoveListing, req);
  });

  // ---- search ----
  auto* search =
      listing->add_subcommand("search", "Search listings in one market or all (anyone)")
          ->footer(
              "Filter terms, joined by ' AND ': category=PHONE, price>=AMOUNT / price<=AMOUNT "
              "(also > <),\ngrade>=\"9成新\", market=\"markets/x\", seller=\"subjects/x\", "
              "state=PUBLISHED (default),\nregion=\"35\", has_valid_appraisal=true, "
              "trusted_seller=true (诚信商户).\n"
              "AMOUNT is yuan with a unit, 1000元 or 12.50yuan (converted to fen before sending),\n"
              "or fen: 500分, or a bare number (fen, as the API takes it).\n"
              "Examples:\n"
              "  marketctl listing search --query 'mate 60' --filter 'category=PHONE AND "
              "price<=4000元' --order-by price\n"
              "  marketctl listing search --market east-flea --all -o json");
  auto smarket = AddMarketScope(search);
  auto sreq = std::make_shared<v1::SearchListingsRequest>();
  search->add_option("--query", *sreq->mutable_query(),
                     "Free text matched in title and description");
  search
      ->add_option("--filter", *sreq->mutable_filter(),
                   "Conjunction of terms (see below); prices in yuan as 1000元")
      ->transform(MoneyFilterTransform("price"));
  search->add_option("--order-by", *sreq->mutable_order_by(),
                     "price, price desc, publish_time or publish_time desc (default)");
  AddPagedList(
      search, client, run, &ListingStub::SearchListings, sreq,
      "Listings per page, 1-1000 (default 50)",
      [](const auto& p) -> const auto& { return p.listings(); },
      [&client](const auto& items) { PrintListings(client, items); },
      [smarket](auto* req) { req->set_parent(MarketName(*smarket)); });

  // ---- photo upload ----
  auto* photo = AddGroup(listing, "photo", "Listing photos");
  auto* upload =
      photo
          ->add_subcommand("upload",
                           "Upload a photo (JPEG, PNG or WebP, at most 10 MiB), optionally "
                           "appending it to a listing")
          ->footer(
              "Photos are content-addressed: the SHA-256 is computed locally and checked "
              "by the server.\n"
              "Examples:\n"
              "  marketctl listing photo upload front.jpg --listing mate60 --market "
              "east-flea\n"
              "  marketctl listing photo upload evidence.png");
  auto pfile = std::make_shared<std::string>();
  auto plisting = std::make_shared<std::string>();
  auto pmarket = std::make_shared<std::string>();
  auto ptype = std::make_shared<std::string>();
  auto prequest_id = std::make_shared<std::string>();
  upload->add_option("file", *pfile, "The image file")->required();
  upload->add_option("--listing", *plisting,
                     "markets/{market}/listings/{id}, or {id} with --market: append the photo");
  upload->add_option("--market", *pmarket, "Market of a bare listing id");
  upload->add_option("--content-type", *ptype,
                     "image/jpeg, image/png or image/webp (default: by the file's extension)");
  upload->add_option("--request-id", *prequest_id, "Idempotency key");
  OnRun(upload, run, [&client, pfile, plisting, pmarket, ptype, prequest_id] {
    v1::UploadPhotoRequest header;
    if (!plisting->empty()) {
      auto name = ResolveChild(client, *plisting, *pmarket, "listings");
      if (!name) return kExitUsage;
      header.set_listing(*name);
    }
    std::string type = ptype->empty() ? internal::ContentTypeFor(*pfile) : *ptype;
    if (type.empty()) {
      client.err() << "error: cannot tell the type of " << *pfile
                   << " from its extension: give --content-type image/jpeg, image/png or "
                      "image/webp\n";
      return kExitUsage;
    }
    auto data = config::ReadFile(*pfile);
    if (!data.ok()) return client.Fail(data.status()), kExitLocal;
    if (data->empty()) {
      client.err() << "error: " << *pfile << " is empty\n";
      return kExitLocal;
    }
    header.set_content_type(type);
    header.set_sha256(HexEncode(Sha256(*data)));
    header.set_request_id(*prequest_id);
    auto stub = v1::ListingService::NewStub(client.Channel());
    auto ctx = client.Context();
    v1::Photo resp;
    std::unique_ptr<grpc::ClientWriter<v1::UploadPhotoRequest>> writer(
        stub->UploadPhoto(ctx.get(), &resp));
    for (size_t offset = 0; offset < data->size(); offset += kPhotoChunkBytes) {
      v1::UploadPhotoRequest chunk = offset == 0 ? header : v1::UploadPhotoRequest();
      chunk.set_data(data->substr(offset, kPhotoChunkBytes));
      if (!writer->Write(chunk)) break;  // the stream is broken; Finish says why
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    if (!s.ok()) return client.Fail(s);
    client.Print(resp);
    return 0;
  });

  // ---- import ----
  constexpr char kImportFooter[] =
      "The header row names Listing field paths: seller, category, title, description,\n"
      "price.amount_fen, declared_condition.level, phone.imei, vehicle.vin, ... (repeated\n"
      "fields separated by ';'). Without --all-or-nothing or --validate-only the file is sent\n"
      "in batches of 500 rows; row numbers in the result count the whole file (header = 0).\n"
      "Table output shows the counts and each failed row (on stderr); -o json every row's result.\n"
      "Exits 65 when any row failed.\n"
      "Examples:\n"
      "  marketctl listing import phones.csv --market east-flea --validate-only\n"
      "  marketctl listing import phones.csv --market east-flea --publish --request-id "
      "imp-2026-03-01";
  auto* import_cmd =
      listing->add_subcommand("import", "Create listings from a CSV file (the market's OPERATOR)")
          ->footer(kImportFooter);
  auto ifile = std::make_shared<std::string>();
  auto imarket = std::make_shared<std::string>();
  auto iall_or_nothing = std::make_shared<bool>(false);
  auto ipublish = std::make_shared<bool>(false);
  auto ivalidate_only = std::make_shared<bool>(false);
  auto irequest_id = std::make_shared<std::string>();
  import_cmd->add_option("file", *ifile, "UTF-8 CSV (RFC 4180) with a header row")->required();
  import_cmd->add_option("--market", *imarket, "markets/{id} or {id}")->required();
  import_cmd->add_flag("--all-or-nothing", *iall_or_nothing,
                       "Create nothing unless every row is valid (one call: at most 10,000 rows, "
                       "4 MiB)");
  import_cmd->add_flag("--publish", *ipublish, "Publish the created listings right away");
  import_cmd->add_flag("--validate-only", *ivalidate_only,
                       "Only validate; create nothing (one call)");
  import_cmd->add_option("--request-id", *irequest_id,
                         "Idempotency key (batch N uses {request-id}-N)");
  OnRun(import_cmd, run,
        [&client, ifile, imarket, iall_or_nothing, ipublish, ivalidate_only, irequest_id] {
          auto text = config::ReadFile(*ifile);
          if (!text.ok()) return client.Fail(text.status()), kExitLocal;
          v1::ImportListingsRequest req;
          req.set_parent(MarketName(*imarket));
          req.set_all_or_nothing(*iall_or_nothing);
          req.set_publish(*ipublish);
          req.set_validate_only(*ivalidate_only);
          auto stub = v1::ListingService::NewStub(client.Channel());
          if (*iall_or_nothing || *ivalidate_only) {
            req.set_csv_data(*text);
            req.set_request_id(*irequest_id);
            v1::ImportListingsResponse resp;
            grpc::Status s = stub->ImportListings(client.Context().get(), req, &resp);
            if (!s.ok()) return client.Fail(s);
            PrintImport(client, resp);
            return resp.failed_count() > 0 ? kExitLocal : 0;
          }
          auto batches = internal::SplitCsv(*text, kImportBatchRows);
          if (!batches.ok()) {
            client.err() << "error: " << *ifile << ": " << batches.status().message() << "\n";
            return kExitLocal;
          }
          if (batches->empty()) {
            client.err() << "error: " << *ifile << " has no header row\n";
            return kExitLocal;
          }
          const int total_rows = batches->back().first_row + batches->back().rows - 1;
          const int n = static_cast<int>(batches->size());
          if (total_rows == 0) client.err() << "warning: " << *ifile << " has no data rows\n";
          ProgressBar progress(client.err(), client.err_is_tty());
          v1::ImportListingsResponse total;
          int done = 0;
          for (int i = 0; i < n; ++i) {
            const internal::CsvBatch& batch = (*batches)[i];
            req.set_csv_data(batch.csv);
            if (!irequest_id->empty()) req.set_request_id(absl::StrCat(*irequest_id, "-", i + 1));
            v1::ImportListingsResponse resp;
            grpc::Status s = stub->ImportListings(client.Context().get(), req, &resp);
            if (!s.ok()) {
              progress.Break();
              client.err() << "error: batch " << i + 1 << "/" << n << " (rows " << batch.first_row
                           << "-" << batch.first_row + batch.rows - 1 << ") failed";
              if (i > 0) {
                client.err() << "; rows 1-" << batch.first_row - 1 << " were imported:\n";
                PrintImport(client, total);
              } else {
                client.err() << "\n";
              }
              return client.Fail(s);
            }
            internal::RenumberRows(batch.first_row, &resp);
            internal::MergeImportResponse(resp, &total);
            done += batch.rows;
            progress.Update(done, total_rows,
                            absl::StrCat("rows, ", total.failed_count(), " failed"));
          }
          PrintImport(client, total);
          return total.failed_count() > 0 ? kExitLocal : 0;
        });
}

void AddOrderCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* order = AddGroup(&app, "order", "Orders: buy (or swap) a listing, deliver, complete",
                         "Names: markets/{market}/orders/{id}, {market}/orders/{id}, or {id} "
                         "with --market {market}.\n"
                         "Example:\n  marketctl order place mate60 --market east-flea "
                         "--ack-defects");

  // ---- place ----
  auto* place = order->add_subcommand("place", "Place an order on a PUBLISHED listing (BUYER)")
                    ->footer(
                        "Examples:\n"
                        "  marketctl order place markets/east-flea/listings/mate60 --ack-defects "
                        "--listing-etag '\"v4\"'\n"
                        "  marketctl order place bike --market east-flea --swap-listing my-lamp   "
                        "# swap day exchange");
  auto plisting = std::make_shared<std::string>();
  auto pmarket = std::make_shared<std::string>();
  auto pswap = std::make_shared<std::string>();
  auto pack = std::make_shared<bool>(false);
  auto preq = std::make_shared<v1::PlaceOrderRequest>();
  place->add_option("listing", *plisting, "markets/{market}/listings/{id}, or {id} with --market")
      ->required();
  place->add_option("--market", *pmarket, "Market of bare listing ids");
  place->add_option("--swap-listing", *pswap,
                    "Your own PUBLISHED listing in the same market, offered in exchange");
  place->add_flag("--ack-defects", *pack,
                  "Confirm you have seen the disclosed defects (online platforms: waives the "
                  "7-day no-reason return)");
  place->add_option("--listing-etag", *preq->mutable_listing_etag(),
                    "The listing's etag as you saw it; ABORTED if it changed since");
  place->add_option("--id", *preq->mutable_order_id(), "Order id (default: generated)");
  place->add_option("--request-id", *preq->mutable_request_id(), "Idempotency key");
  OnRun(place, run, [&client, plisting, pmarket, pswap, pack, preq] {
    v1::PlaceOrderRequest req = *preq;
    auto name = ResolveChild(client, *plisting, *pmarket, "listings");
    if (!name) return kExitUsage;
    req.set_listing(*name);
    if (!pswap->empty()) {
      // A bare swap id lives in the bought listing's market.
      const std::string market =
          pmarket->empty() ? name->substr(0, name->find("/listings/")) : *pmarket;
      auto swap = ResolveChild(client, *pswap, market, "listings");
      if (!swap) return kExitUsage;
      req.set_swap_listing(*swap);
    }
    req.set_defects_acknowledged(*pack);
    return CallAndPrint(client, &OrderStub::PlaceOrder, req);
  });

  // ---- cancel, deliver, complete ----
  enum class Step { kCancel, kDeliver, kComplete };
  for (Step step : {Step::kCancel, Step::kDeliver, Step::kComplete}) {
    const char* verb = step == Step::kCancel    ? "cancel"
                       : step == Step::kDeliver ? "deliver"
                                                : "complete";
    const char* help =
        step == Step::kCancel
            ? "Cancel a PLACED order (its buyer or seller); the listing is PUBLISHED again"
        : step == Step::kDeliver
            ? "Confirm delivery (the BUYER): starts the warranty clock, the listing is SOLD"
            : "Complete a DELIVERED order (the BUYER) and record the trade in both credit "
              "records";
    const char* example =
        step == Step::kCancel
            ? "Example:\n  marketctl order cancel o-1842 --market east-flea --reason "
              "'买家改变主意'"
        : step == Step::kDeliver
            ? "Example:\n  marketctl order deliver markets/east-flea/orders/o-1842 "
              "--mileage-km 61250   # vehicles"
            : "Example:\n  marketctl order complete markets/east-flea/orders/o-1842";
    auto* cmd = order->add_subcommand(verb, help)->footer(example);
    auto target = AddChildArg(cmd, "name", "order");
    auto reason = std::make_shared<std::string>();
    auto mileage = std::make_shared<int64_t>(0);
    auto etag = std::make_shared<std::string>();
    auto request_id = std::make_shared<std::string>();
    if (step == Step::kCancel) {
      cmd->add_option("--reason", *reason, "Why, up to 500 characters");
    }
    if (step == Step::kDeliver) {
      cmd->add_option("--mileage-km", *mileage,
                      "Vehicles: odometer reading at delivery (default: the listing's)");
    }
    cmd->add_option("--etag", *etag, "The order's etag; ABORTED if it changed since");
    cmd->add_option("--request-id", *request_id, "Idempotency key");
    OnRun(cmd, run, [&client, cmd, step, target, reason, mileage, etag, request_id] {
      auto full = target->Resolve(client);
      if (!full) return kExitUsage;
      auto call = [&](auto req, auto rpc) {
        req.set_name(*full);
        req.set_etag(*etag);
        req.set_request_id(*request_id);
        return CallAndPrint(client, rpc, req);
      };
      if (step == Step::kCancel) {
        v1::CancelOrderRequest req;
        req.set_reason(*reason);
        return call(req, &OrderStub::CancelOrder);
      }
      if (step == Step::kComplete) {
        return call(v1::CompleteOrderRequest(), &OrderStub::CompleteOrder);
      }
      v1::ConfirmDeliveryRequest req;
      if (cmd->count("--mileage-km") > 0) {
        if (*mileage < 0) {
          client.err() << "error: --mileage-km " << *mileage << ": want >= 0\n";
          return kExitUsage;
        }
        req.set_mileage_km(*mileage);
      }
      return call(req, &OrderStub::ConfirmDelivery);
    });
  }

  // ---- get ----
  auto* get = order
                  ->add_subcommand("get",
                                   "Show an order (its buyer, seller, the market's "
                                   "OPERATOR, SUPERVISOR)")
                  ->footer("Example:\n  marketctl order get o-1842 --market east-flea");
  AddCallByChildName(get, client, run, &OrderStub::GetOrder, "order");

  // ---- list ----
  auto* list =
      order->add_subcommand("list", "List orders you may see, in one market or all")
          ->footer(
              "Filter terms, joined by ' AND ': buyer=\"subjects/x\", seller=\"subjects/x\", "
              "listing=\"markets/m/listings/l\",\nstate=PLACED|DELIVERED|COMPLETED|CANCELLED, "
              "place_time>=\"RFC 3339\", place_time<\"RFC 3339\".\n"
              "Example:\n  marketctl order list --market east-flea --filter 'state=PLACED' "
              "--order-by place_time --all");
  auto lmarket = AddMarketScope(list);
  auto lreq = std::make_shared<v1::ListOrdersRequest>();
  list->add_option("--filter", *lreq->mutable_filter(), "Conjunction of terms (see below)");
  list->add_option("--order-by", *lreq->mutable_order_by(),
                   "place_time or place_time desc (default)");
  AddPagedList(
      list, client, run, &OrderStub::ListOrders, lreq, "Orders per page, 1-1000 (default 50)",
      [](const auto& p) -> const auto& { return p.orders(); },
      [&client](const auto& items) { PrintOrders(client, items); },
      [lmarket](auto* req) { req->set_parent(MarketName(*lmarket)); });
}

void AddItemCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* item = AddGroup(&app, "item", "The item registry: trace one physical item",
                        "Items: items/PHONE:{imei}, items/VEHICLE:{VIN}, "
                        "items/APPLIANCE:{brand}~{model}~{serial},\n"
                        "items/FURNITURE:{brand}~{serial} (the items/ prefix is optional).\n"
                        "Example:\n  marketctl item history items/VEHICLE:LGBH52E05LY123456 "
                        "--all");

  // ---- history ----
  auto* history =
      item->add_subcommand("history",
                           "An item's listings, orders, appraisals, claims and observations, "
                           "oldest first (anyone; parties and prices for those involved)")
          ->footer("Example:\n  marketctl item history items/PHONE:355383063760236 --all");
  auto hname = std::make_shared<std::string>();
  history->add_option("item", *hname, "items/{CATEGORY}:{identifier} or {CATEGORY}:{identifier}")
      ->required();
  auto hpaging = AddPageFlags(history, "Events per page, 1-1000 (default 100)");
  OnRun(history, run, [&client, hname, hpaging] {
    v1::GetItemHistoryRequest req;
    req.set_name(Prefixed(*hname, "items"));
    req.set_page_size(hpaging->page_size);
    req.set_page_token(hpaging->page_token);
    std::vector<v1::ItemHistory> pages;
    if (int rc = FetchPages(client, &ItemStub::GetItemHistory, req, hpaging->all, &pages)) {
      return rc;
    }
    v1::ItemHistory merged = pages[0];
    for (size_t i = 1; i < pages.size(); ++i) {
      for (const auto& e : pages[i].events()) *merged.add_events() = e;
    }
    merged.set_next_page_token(pages.back().next_page_token());
    if (client.flags().output == "json") {
      client.Print(merged);
      return 0;
    }
    v1::ItemHistory summary = merged;
    summary.clear_events();
    summary.clear_next_page_token();
    client.Print(summary);
    client.out() << "\n";
    auto events = ItemsOf(
        pages, [](const auto& p) -> const auto& { return p.events(); });
    client.PrintList({events.begin(), events.end()},
                     {"time", "kind", "state", "resource", "market", "mileage_km", "flags"});
    if (!merged.next_page_token().empty()) {
      client.out() << "next page: --page-token " << merged.next_page_token() << "\n";
    }
    return 0;
  });

  // ---- observe ----
  constexpr char kObserveFooter[] =
      "The kind is MILEAGE when --mileage-km is given, else IDENTITY. A mileage below an earlier\n"
      "observation raises MILEAGE_ROLLBACK.\n"
      "Examples:\n"
      "  marketctl item observe items/VEHICLE:LGBH52E05LY123456 --source appraisals/a-77 \\\n"
      "      --observed-time 2026-03-01T10:00:00+08:00 --mileage-km 61250 --request-id evt-9001\n"
      "  marketctl item observe PHONE:355383063760236 --source appraisals/a-78 \\\n"
      "      --observed-time 2026-03-02T09:30:00Z --identifier imei2=355383063760244 --request-id "
      "evt-9002";
  auto* observe =
      item->add_subcommand("observe",
                           "Record a mileage or identity observation of an item (SERVICE)")
          ->footer(kObserveFooter);
  auto oname = std::make_shared<std::string>();
  auto oreq = std::make_shared<v1::RecordObservationRequest>();
  auto otime = std::make_shared<std::string>();
  auto omileage = std::make_shared<int64_t>(0);
  auto oidentifiers = std::make_shared<std::vector<std::string>>();
  observe->add_option("item", *oname, "items/{CATEGORY}:{identifier} or {CATEGORY}:{identifier}")
      ->required();
  observe
      ->add_option("--source", *oreq->mutable_observation()->mutable_source(),
                   "The resource that produced it, e.g. appraisals/{appraisal}")
      ->required();
  observe->add_option("--observed-time", *otime, "When it was observed (RFC 3339)")->required();
  observe->add_option("--mileage-km", *omileage, "Vehicles: the odometer reading in km");
  observe
      ->add_option("--identifier", *oidentifiers,
                   "key=value seen on the item; keys imei, imei2, vin, engine_number, "
                   "serial_number (repeatable)")
      ->allow_extra_args(false);
  observe
      ->add_option("--request-id", *oreq->mutable_request_id(),
                   "Idempotency key (the outbox event id)")
      ->required();
  OnRun(observe, run, [&client, observe, oname, oreq, otime, omileage, oidentifiers] {
    v1::RecordObservationRequest req = *oreq;
    req.set_parent(Prefixed(*oname, "items"));
    v1::Observation* o = req.mutable_observation();
    absl::Time when;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, *otime, &when, &err)) {
      client.err() << "error: --observed-time \"" << *otime << "\": " << err << "\n";
      return kExitUsage;
    }
    *o->mutable_observed_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(when));
    for (const auto& kv : *oidentifiers) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        client.err() << "error: --identifier \"" << kv << "\": want key=value, e.g. "
                     << "vin=LGBH52E05LY123456\n";
        return kExitUsage;
      }
      (*o->mutable_identifiers())[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (observe->count("--mileage-km") > 0) {
      if (*omileage < 0) {
        client.err() << "error: --mileage-km " << *omileage << ": want >= 0\n";
        return kExitUsage;
      }
      o->set_kind(v1::Observation::MILEAGE);
      o->set_mileage_km(*omileage);
    } else {
      if (o->identifiers().empty()) {
        client.err() << "error: give --mileage-km or at least one --identifier\n";
        return kExitUsage;
      }
      o->set_kind(v1::Observation::IDENTITY);
    }
    return CallAndPrint(client, &ItemStub::RecordObservation, req);
  });
}

}  // namespace market::ctl
