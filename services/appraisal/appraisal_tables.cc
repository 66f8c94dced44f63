#include "services/appraisal/appraisal_tables.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/idempotency/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/pagination/filter.h"
#include "common/resource/resource.h"
#include "services/appraisal/appraisal_figures.h"
#include "common/status/status.h"

namespace market::appraisal {
namespace {

using sqlite::Connection;
using sqlite::Statement;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
int64_t Micros(const google::protobuf::Timestamp& ts) { return Micros(FromTimestamp(ts)); }

constexpr char kSchema[] = R"sql(
CREATE TABLE schemes (
  name TEXT PRIMARY KEY,
  scheme TEXT NOT NULL,
  version INTEGER NOT NULL,
  categories TEXT NOT NULL,
  accident_level TEXT NOT NULL,
  data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE accreditations (
  name TEXT PRIMARY KEY,
  firm TEXT NOT NULL,
  categories TEXT NOT NULL,
  state INTEGER NOT NULL,
  valid_from_us INTEGER NOT NULL,
  valid_until_us INTEGER NOT NULL,
  ended_us INTEGER,
  version INTEGER NOT NULL,
  data BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX accreditations_by_firm ON accreditations(firm, name);
CREATE TABLE signing_keys (
  name TEXT PRIMARY KEY,
  firm TEXT NOT NULL,
  fingerprint TEXT NOT NULL UNIQUE,
  state INTEGER NOT NULL,
  version INTEGER NOT NULL,
  data BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX signing_keys_by_firm ON signing_keys(firm, name);
CREATE TABLE appraisals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  firm TEXT NOT NULL,
  report_number TEXT NOT NULL,
  item TEXT NOT NULL,
  listing TEXT NOT NULL,
  category INTEGER NOT NULL,
  state INTEGER NOT NULL,
  inspected_us INTEGER NOT NULL,
  content_sha256 BLOB NOT NULL UNIQUE,
  version INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE(firm, report_number)
);
CREATE INDEX appraisals_by_inspection ON appraisals(inspected_us, name);
CREATE INDEX appraisals_by_item ON appraisals(item, id);
CREATE TABLE disputes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  appraisal TEXT NOT NULL,
  raiser TEXT NOT NULL,
  state INTEGER NOT NULL,
  version INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX disputes_by_appraisal ON disputes(appraisal, state);
)sql";

template <typename Categories>
std::string CategoriesColumn(const Categories& categories) {
  std::string out = "|";
  for (int c : categories) absl::StrAppend(&out, common::v1::Category_Name(c), "|");
  return out;
}

// A parameter bound as a BLOB (a std::string binds as TEXT).
struct Blob {
  std::string bytes;
};
// A parameter bound as "%|PHONE|%" for a LIKE over a categories column, or NULL.
struct CategoryLike {
  std::optional<common::v1::Category> category;
};

absl::Status BindAt(Statement& st, int i, const std::string& v) { return st.BindText(i, v); }
absl::Status BindAt(Statement& st, int i, int64_t v) { return st.Bind(i, v); }
absl::Status BindAt(Statement& st, int i, const Blob& v) { return st.BindBlob(i, v.bytes); }
absl::Status BindAt(Statement& st, int i, std::optional<int64_t> v) {
  return v.has_value() ? st.Bind(i, *v) : st.BindNull(i);
}
absl::Status BindAt(Statement& st, int i, const CategoryLike& c) {
  if (!c.category.has_value()) return st.BindNull(i);
  return st.BindText(i, absl::StrCat("%|", common::v1::Category_Name(*c.category), "|%"));
}

// An optional enum (or time) as an optional integer column value.
template <typename T>
std::optional<int64_t> OptInt(const std::optional<T>& v) {
  return v.has_value() ? std::optional<int64_t>(static_cast<int64_t>(*v)) : std::nullopt;
}

// Prepares `sql` and binds `args` to parameters 1, 2, ... in order.
template <typename... Args>
absl::StatusOr<Statement> Query(Connection& c, absl::string_view sql, const Args&... args) {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  int index = 0;
  absl::Status status;
  (void)((status = BindAt(st, ++index, args)).ok() && ...);
  MARKET_RETURN_IF_ERROR(status);
  return st;
}

// Runs `st`, the insert or update of `m` at `version`: ALREADY_EXISTS
// "<name> exists" when an insert finds the name taken. Returns `m` with its
// new etag.
template <typename Msg>
absl::StatusOr<Msg> RunSave(Statement& st, Msg m, int64_t version) {
  absl::Status s = st.Run();
  if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat(m.name(), " exists"));
  MARKET_RETURN_IF_ERROR(s);
  m.set_etag(VersionEtag(version));
  return m;
}

// Parses the proto in column `data_col` into `out`.
template <typename Msg>
absl::Status ParseColumn(Statement& st, int data_col, Msg* out, const char* what) {
  if (!out->ParseFromString(st.ColumnBlob(data_col))) {
    return absl::DataLossError(absl::StrCat("corrupt ", what, " row"));
  }
  return absl::OkStatus();
}

// Runs `query` and collects one row per step with `read`.
template <typename Row, typename Read>
absl::StatusOr<std::vector<Row>> Collect(absl::StatusOr<Statement> query, Read&& read) {
  MARKET_ASSIGN_OR_RETURN(Statement st, std::move(query));
  std::vector<Row> out;
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return out;
    MARKET_ASSIGN_OR_RETURN(Row row, read(st));
    out.push_back(std::move(row));
  }
}

// Runs `query` and reads its first row, if any, with `read`.
template <typename Row, typename Read>
absl::StatusOr<std::optional<Row>> LoadOne(absl::StatusOr<Statement> query, Read&& read) {
  MARKET_ASSIGN_OR_RETURN(Statement st, std::move(query));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::nullopt;
  MARKET_ASSIGN_OR_RETURN(Row row, read(st));
  return row;
}

// Columns: version, data, ended_us.
absl::StatusOr<AccreditationRow> ReadAccreditation(Statement& st) {
  AccreditationRow row;
  MARKET_RETURN_IF_ERROR(ParseColumn(st, 1, &row.accreditation, "accreditation"));
  row.version = st.ColumnInt64(0);
  row.accreditation.set_etag(VersionEtag(row.version));
  if (!st.ColumnIsNull(2)) row.ended = absl::FromUnixMicros(st.ColumnInt64(2));
  return row;
}

// Columns: version, data.
absl::StatusOr<KeyRow> ReadKey(Statement& st) {
  KeyRow row;
  MARKET_RETURN_IF_ERROR(ParseColumn(st, 1, &row.key, "signing key"));
  row.version = st.ColumnInt64(0);
  row.key.set_etag(VersionEtag(row.version));
  return row;
}

// Columns: version, data, id.
absl::StatusOr<AppraisalRow> ReadAppraisal(Statement& st) {
  AppraisalRow row;
  MARKET_RETURN_IF_ERROR(ParseColumn(st, 1, &row.appraisal, "appraisal"));
  row.version = st.ColumnInt64(0);
  row.id = st.ColumnInt64(2);
  return row;
}

// Columns: version, data, id.
absl::StatusOr<DisputeRow> ReadDispute(Statement& st) {
  DisputeRow row;
  MARKET_RETURN_IF_ERROR(ParseColumn(st, 1, &row.dispute, "dispute"));
  row.version = st.ColumnInt64(0);
  row.id = st.ColumnInt64(2);
  row.dispute.set_etag(VersionEtag(row.version));
  return row;
}

// Columns: data, accident_level.
absl::StatusOr<SchemeDefinition> ReadScheme(Statement& st) {
  SchemeDefinition def;
  MARKET_RETURN_IF_ERROR(ParseColumn(st, 0, &def.scheme, "grading scheme"));
  def.accident_level = st.ColumnText(1);
  return def;
}

}  // namespace

const std::vector<sqlite::Migration>& AppraisalMigrations() {
  static const auto* migrations = new std::vector<sqlite::Migration>{
      {1, absl::StrCat(kSchema, kIdempotencySchema, outbox::kOutboxSchema)},
      {2, outbox::kOutboxOrderingSchema},  // per-key delivery order
  };
  return *migrations;
}

absl::StatusOr<std::map<std::string, std::string>> ParseFilter(
    const std::string& filter, const std::set<std::string>& allowed) {
  MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms,
                          ParseFilterTerms(filter, "want KEY=VALUE terms joined by \" AND \""));
  std::map<std::string, std::string> out;
  for (const FilterTerm& t : terms) {
    if (!allowed.contains(t.key)) {
      std::string keys;
      for (const auto& k : allowed) absl::StrAppend(&keys, keys.empty() ? "" : ", ", k);
      return InvalidField("filter", absl::StrCat("unknown key \"", t.key, "\"; want ", keys));
    }
    if (t.value.empty()) return InvalidField("filter", absl::StrCat("empty value for ", t.key));
    if (!out.emplace(t.key, t.value).second) {
      return InvalidField("filter", absl::StrCat(t.key, " given twice"));
    }
  }
  return out;
}

// ---- Accreditations ----

absl::StatusOr<std::optional<AccreditationRow>> LoadAccreditation(Connection& c,
                                                                  const std::string& name) {
  return LoadOne<AccreditationRow>(
      Query(c, "SELECT version, data, ended_us FROM accreditations WHERE name = ?", name),
      ReadAccreditation);
}

absl::StatusOr<v1::Accreditation> SaveAccreditation(Connection& c, v1::Accreditation a,
                                                    std::optional<absl::Time> ended,
                                                    int64_t version, bool insert) {
  a.clear_etag();
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      Query(c,
            insert ? "INSERT INTO accreditations(firm, categories, state, valid_from_us, "
                     "valid_until_us, ended_us, version, data, name) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                   : "UPDATE accreditations SET firm = ?1, categories = ?2, state = ?3, "
                     "valid_from_us = ?4, valid_until_us = ?5, ended_us = ?6, version = ?7, "
                     "data = ?8 WHERE name = ?9",
            a.name().substr(0, a.name().find("/accreditations/")), CategoriesColumn(a.categories()),
            static_cast<int64_t>(a.state()), Micros(a.valid_from()), Micros(a.valid_until()),
            ended.has_value() ? std::optional<int64_t>(Micros(*ended)) : std::nullopt, version,
            Blob{a.SerializeAsString()}, a.name()));
  return RunSave(st, std::move(a), version);
}

absl::StatusOr<std::vector<AccreditationRow>> FirmAccreditations(Connection& c,
                                                                 const std::string& firm) {
  return Collect<AccreditationRow>(Query(c,
                                         "SELECT version, data, ended_us FROM accreditations "
                                         "WHERE firm = ? ORDER BY name",
                                         firm),
                                   ReadAccreditation);
}

absl::StatusOr<std::vector<AccreditationRow>> ListAccreditations(Connection& c,
                                                                 const AccreditationQuery& q,
                                                                 absl::Time now,
                                                                 const std::string& after,
                                                                 int limit) {
  // The state is derived: EXPIRED (4) once valid_until passed, unless REVOKED (3).
  return Collect<AccreditationRow>(
      Query(c,
            "SELECT version, data, ended_us FROM accreditations "
            "WHERE (?1 = '' OR firm = ?1) AND (?2 IS NULL OR categories LIKE ?2) "
            "AND (?3 IS NULL OR (CASE WHEN state <> 3 AND valid_until_us <= ?4 THEN 4 "
            "ELSE state END) = ?3) AND name > ?5 ORDER BY name LIMIT ?6",
            q.firm, CategoryLike{q.category}, OptInt(q.state), Micros(now), after, int64_t{limit}),
      ReadAccreditation);
}

// ---- Signing keys ----

absl::StatusOr<std::optional<KeyRow>> LoadKey(Connection& c, const std::string& name) {
  return LoadOne<KeyRow>(Query(c, "SELECT version, data FROM signing_keys WHERE name = ?", name),
                         ReadKey);
}

absl::StatusOr<v1::SigningKey> SaveKey(Connection& c, v1::SigningKey key, int64_t version,
                                       bool insert) {
  key.clear_etag();
  if (insert) {
    MARKET_ASSIGN_OR_RETURN(
        Statement dup,
        Query(c, "SELECT name FROM signing_keys WHERE fingerprint = ?", key.fingerprint()));
    MARKET_ASSIGN_OR_RETURN(bool found, dup.Step());
    if (found) {
      return absl::AlreadyExistsError(
          absl::StrCat("this public key is already registered as ", dup.ColumnText(0)));
    }
  }
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      Query(c,
            insert ? "INSERT INTO signing_keys(firm, fingerprint, state, version, data, name) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
                   : "UPDATE signing_keys SET firm = ?1, fingerprint = ?2, state = ?3, "
                     "version = ?4, data = ?5 WHERE name = ?6",
            key.name().substr(0, key.name().find("/keys/")), key.fingerprint(),
            static_cast<int64_t>(key.state()), version, Blob{key.SerializeAsString()}, key.name()));
  return RunSave(st, std::move(key), version);
}

absl::StatusOr<std::vector<KeyRow>> ListKeys(Connection& c, const std::string& firm,
                                             std::optional<v1::SigningKey::State> state,
                                             const std::string& after, int limit) {
  return Collect<KeyRow>(
      Query(c,
            "SELECT version, data FROM signing_keys WHERE (?1 = '' OR firm = ?1) "
            "AND (?2 IS NULL OR state = ?2) AND name > ?3 ORDER BY name LIMIT ?4",
            firm, OptInt(state), after, int64_t{limit}),
      ReadKey);
}

// ---- Appraisals ----

absl::StatusOr<std::optional<AppraisalRow>> LoadAppraisal(Connection& c, const std::string& name) {
  return LoadOne<AppraisalRow>(
      Query(c, "SELECT version, data, id FROM appraisals WHERE name = ?", name), ReadAppraisal);
}

absl::StatusOr<std::optional<AppraisalRow>> FindAppraisalByContent(Connection& c,
                                                                   const std::string& sha256) {
  return LoadOne<AppraisalRow>(
      Query(c, "SELECT version, data, id FROM appraisals WHERE content_sha256 = ?", Blob{sha256}),
      ReadAppraisal);
}

absl::StatusOr<bool> ReportNumberTaken(Connection& c, const std::string& firm,
                                       const std::string& report_number) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, Query(c, "SELECT 1 FROM appraisals WHERE firm = ? AND report_number = ?", firm,
                          report_number));
  return st.Step();
}

absl::Status SaveAppraisal(Connection& c, const v1::Appraisal& a, int64_t version, bool insert) {
  const v1::AppraisalContent& content = a.content();
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      Query(c,
            insert ? "INSERT INTO appraisals(firm, report_number, item, listing, category, "
                     "state, inspected_us, content_sha256, version, data, name) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                   : "UPDATE appraisals SET firm = ?1, report_number = ?2, item = ?3, "
                     "listing = ?4, category = ?5, state = ?6, inspected_us = ?7, "
                     "content_sha256 = ?8, version = ?9, data = ?10 WHERE name = ?11",
            content.firm(), content.report_number(), a.item(), content.listing(),
            static_cast<int64_t>(content.category()), static_cast<int64_t>(a.state()),
            Micros(content.inspected_time()), Blob{Sha256(a.signed_content())}, version,
            Blob{a.SerializeAsString()}, a.name()));
  absl::Status s = st.Run();
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(
        absl::StrCat(a.name(), " or a report with the same content exists"));
  }
  MARKET_RETURN_IF_ERROR(s);
  return EnqueueAppraisalFigures(c, a, version);
}

absl::StatusOr<std::vector<AppraisalRow>> FiledOnItem(Connection& c, const std::string& item) {
  return Collect<AppraisalRow>(Query(c,
                                     "SELECT version, data, id FROM appraisals "
                                     "WHERE item = ? AND state = ? ORDER BY id DESC",
                                     item, static_cast<int64_t>(v1::Appraisal::FILED)),
                               ReadAppraisal);
}

absl::StatusOr<std::optional<std::string>> NewerOnItem(Connection& c, const std::string& item,
                                                       int64_t id) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          Query(c,
                                "SELECT name FROM appraisals WHERE item = ?1 AND id > ?2 "
                                "AND state NOT IN (?3, ?4) ORDER BY id DESC LIMIT 1",
                                item, id, static_cast<int64_t>(v1::Appraisal::OVERTURNED),
                                static_cast<int64_t>(v1::Appraisal::REVOKED)));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::nullopt;
  return st.ColumnText(0);
}

std::string EncodeCursor(const AppraisalCursor& cursor) {
  return absl::StrCat(cursor.inspected_us, "|", cursor.name);
}

absl::StatusOr<AppraisalCursor> DecodeCursor(const std::string& position) {
  std::pair<std::string, std::string> parts = absl::StrSplit(position, absl::MaxSplits('|', 1));
  AppraisalCursor cursor;
  if (!absl::SimpleAtoi(parts.first, &cursor.inspected_us)) {
    return InvalidField("page_token", "malformed position");
  }
  cursor.name = parts.second;
  return cursor;
}

absl::StatusOr<std::vector<AppraisalRow>> ListAppraisals(
    Connection& c, const AppraisalQuery& q, const std::optional<AppraisalCursor>& after,
    int limit) {
  return Collect<AppraisalRow>(
      Query(c,
            "SELECT version, data, id FROM appraisals WHERE (?1 = '' OR item = ?1) "
            "AND (?2 = '' OR firm = ?2) AND (?3 = '' OR listing = ?3) "
            "AND (?4 IS NULL OR category = ?4) AND (?5 IS NULL OR state = ?5) "
            "AND (?6 IS NULL OR inspected_us < ?6 OR (inspected_us = ?6 AND name < ?7)) "
            "ORDER BY inspected_us DESC, name DESC LIMIT ?8",
            q.item, q.firm, q.listing, OptInt(q.category), OptInt(q.state),
            after.has_value() ? std::optional<int64_t>(after->inspected_us) : std::nullopt,
            after.has_value() ? after->name : std::string(), int64_t{limit}),
      ReadAppraisal);
}

// ---- Disputes ----

absl::StatusOr<std::optional<DisputeRow>> LoadDispute(Connection& c, const std::string& name) {
  return LoadOne<DisputeRow>(
      Query(c, "SELECT version, data, id FROM disputes WHERE name = ?", name), ReadDispute);
}

absl::StatusOr<v1::Dispute> SaveDispute(Connection& c, v1::Dispute d, int64_t version,
                                        bool insert) {
  d.clear_etag();
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      Query(c,
            insert ? "INSERT INTO disputes(appraisal, raiser, state, version, data, name) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
                   : "UPDATE disputes SET appraisal = ?1, raiser = ?2, state = ?3, "
                     "version = ?4, data = ?5 WHERE name = ?6",
            d.name().substr(0, d.name().find("/disputes/")), d.raiser(),
            static_cast<int64_t>(d.state()), version, Blob{d.SerializeAsString()}, d.name()));
  MARKET_ASSIGN_OR_RETURN(v1::Dispute saved, RunSave(st, std::move(d), version));
  MARKET_RETURN_IF_ERROR(EnqueueDisputeFigures(c, saved, version));
  return saved;
}

absl::StatusOr<int> CountOpenDisputes(Connection& c, const std::string& appraisal,
                                      const std::string& raiser) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          Query(c,
                                "SELECT COUNT(*) FROM disputes WHERE appraisal = ?1 AND state = ?2 "
                                "AND (?3 = '' OR raiser = ?3)",
                                appraisal, static_cast<int64_t>(v1::Dispute::OPEN), raiser));
  MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<int>(st.ColumnInt64(0)) : 0;
}

absl::StatusOr<std::vector<DisputeRow>> ListDisputes(Connection& c, const DisputeQuery& q,
                                                     int64_t before, int limit) {
  return Collect<DisputeRow>(
      Query(c,
            "SELECT version, data, id FROM disputes WHERE (?1 = '' OR appraisal = ?1) "
            "AND (?2 IS NULL OR state = ?2) AND (?3 = '' OR raiser = ?3) "
            "AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT ?5",
            q.appraisal, OptInt(q.state), q.raiser, before, int64_t{limit}),
      ReadDispute);
}

// ---- Grading schemes ----

absl::Status PutScheme(Connection& c, const SchemeDefinition& def) {
  MARKET_ASSIGN_OR_RETURN(std::optional<SchemeDefinition> stored,
                          LoadScheme(c, def.scheme.scheme(), def.scheme.version()));
  if (stored.has_value()) {
    if (stored->scheme.SerializeAsString() == def.scheme.SerializeAsString() &&
        stored->accident_level == def.accident_level) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        absl::StrCat(def.scheme.name(),
                     " differs from the stored version; a published scheme "
                     "version is immutable, publish a new version"));
  }
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      Query(c,
            "INSERT INTO schemes(name, scheme, version, categories, accident_level, data) "
            "VALUES(?, ?, ?, ?, ?, ?)",
            def.scheme.name(), def.scheme.scheme(), int64_t{def.scheme.version()},
            CategoriesColumn(def.scheme.categories()), def.accident_level,
            Blob{def.scheme.SerializeAsString()}));
  return st.Run();
}

absl::StatusOr<std::optional<SchemeDefinition>> LoadScheme(Connection& c, const std::string& scheme,
                                                           int version) {
  return LoadOne<SchemeDefinition>(
      Query(c, "SELECT data, accident_level FROM schemes WHERE scheme = ? AND version = ?", scheme,
            int64_t{version}),
      ReadScheme);
}

absl::StatusOr<std::vector<v1::GradingScheme>> ListSchemes(
    Connection& c, std::optional<common::v1::Category> category, const std::string& scheme,
    const std::string& after, int limit) {
  MARKET_ASSIGN_OR_RETURN(
      std::vector<SchemeDefinition> defs,
      Collect<SchemeDefinition>(
          Query(c,
                "SELECT data, accident_level FROM schemes WHERE (?1 IS NULL OR categories LIKE ?1) "
                "AND (?2 = '' OR scheme = ?2) AND name > ?3 ORDER BY name LIMIT ?4",
                CategoryLike{category}, scheme, after, int64_t{limit}),
          ReadScheme));
  std::vector<v1::GradingScheme> out;
  for (auto& d : defs) out.push_back(std::move(d.scheme));
  return out;
}

}  // namespace market::appraisal
