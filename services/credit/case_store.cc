#include "services/credit/case_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/resource/resource.h"
#include "common/status/status.h"

namespace market::credit {
namespace {

using sqlite::Connection;
using sqlite::Statement;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// ",a,b," so that a subject matches as `%,subjects/x,%`.
std::string SubjectsColumn(const Case& c) {
  std::string out = ",";
  for (const auto& p : c.subjects()) absl::StrAppend(&out, p.subject(), ",");
  return out;
}

absl::StatusOr<Case> ReadCase(Statement& st, int version_col, int data_col) {
  Case c;
  if (!c.ParseFromString(st.ColumnBlob(data_col))) return absl::DataLossError("corrupt case");
  c.set_etag(VersionEtag(st.ColumnInt64(version_col)));
  return c;
}

struct Row {
  Case c;
  int64_t version = 0;
};

absl::StatusOr<std::optional<Row>> LoadCase(Connection& conn, const std::string& name) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          conn.Prepare("SELECT version, data FROM cases WHERE name = ?"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, name));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::nullopt;
  MARKET_ASSIGN_OR_RETURN(Case c, ReadCase(st, 0, 1));
  return Row{std::move(c), st.ColumnInt64(0)};
}

absl::Status InsertCase(Connection& conn, const Case& c) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      conn.Prepare("INSERT INTO cases(name, kind, state, resource, market, region, assignee, "
                   "subjects, create_us, due_us, version, data) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, c.name()));
  MARKET_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(c.kind())));
  MARKET_RETURN_IF_ERROR(st.Bind(3, static_cast<int64_t>(c.state())));
  MARKET_RETURN_IF_ERROR(st.BindText(4, c.resource()));
  MARKET_RETURN_IF_ERROR(st.BindText(5, c.market()));
  MARKET_RETURN_IF_ERROR(st.BindText(6, c.region_code()));
  MARKET_RETURN_IF_ERROR(st.BindText(7, c.assignee()));
  MARKET_RETURN_IF_ERROR(st.BindText(8, SubjectsColumn(c)));
  MARKET_RETURN_IF_ERROR(st.Bind(9, Micros(FromTimestamp(c.create_time()))));
  MARKET_RETURN_IF_ERROR(st.Bind(10, Micros(FromTimestamp(c.due_time()))));
  Case stored = c;
  stored.clear_etag();
  MARKET_RETURN_IF_ERROR(st.BindBlob(11, stored.SerializeAsString()));
  return st.Run();
}

absl::Status SaveCase(Connection& conn, const Case& c, int64_t version) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, conn.Prepare("UPDATE cases SET state = ?, assignee = ?, version = ?, data = ? "
                                 "WHERE name = ?"));
  MARKET_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(c.state())));
  MARKET_RETURN_IF_ERROR(st.BindText(2, c.assignee()));
  MARKET_RETURN_IF_ERROR(st.Bind(3, version));
  Case stored = c;
  stored.clear_etag();
  MARKET_RETURN_IF_ERROR(st.BindBlob(4, stored.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(st.BindText(5, c.name()));
  return st.Run();
}

}  // namespace

const char kCaseSchema[] = R"sql(
CREATE TABLE cases (
  name TEXT PRIMARY KEY,
  kind INTEGER NOT NULL,
  state INTEGER NOT NULL,
  resource TEXT NOT NULL,
  market TEXT NOT NULL,
  region TEXT NOT NULL,
  assignee TEXT NOT NULL,
  subjects TEXT NOT NULL,  -- ",subjects/a,subjects/b,"
  create_us INTEGER NOT NULL,
  due_us INTEGER NOT NULL,
  version INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX cases_by_create ON cases(create_us, name);
CREATE INDEX cases_open_by_resource ON cases(kind, resource) WHERE state != 3;
-- RecordCaseEvent's idempotency: the case each outbox event opened or joined.
CREATE TABLE case_events (
  event_id TEXT PRIMARY KEY,
  case_name TEXT NOT NULL REFERENCES cases(name)
);
)sql";

absl::StatusOr<Case> CaseStore::Create(const Case& c, const RequestKey& key, absl::Time now) {
  return RunIdempotent<Case>(*credit_->database(), key, now,
                             [&](Connection& conn) -> absl::StatusOr<Case> {
                               MARKET_RETURN_IF_ERROR(InsertCase(conn, c));
                               Case out = c;
                               out.set_etag(VersionEtag(1));
                               return out;
                             });
}

absl::StatusOr<Case> CaseStore::CreateFromEvent(const std::string& event_id, const Case& c,
                                                absl::Time now) {
  Case out;
  MARKET_RETURN_IF_ERROR(credit_->database()->Write([&](Connection& conn) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement seen,
                            conn.Prepare("SELECT case_name FROM case_events WHERE event_id = ?"));
    MARKET_RETURN_IF_ERROR(seen.BindText(1, event_id));
    MARKET_ASSIGN_OR_RETURN(bool replay, seen.Step());
    if (replay) {
      MARKET_ASSIGN_OR_RETURN(Row row, Found(LoadCase(conn, seen.ColumnText(0)), "case"));
      out = std::move(row.c);
      return absl::OkStatus();
    }
    MARKET_ASSIGN_OR_RETURN(
        Statement open, conn.Prepare("SELECT version, data FROM cases WHERE kind = ? AND "
                                     "resource = ? AND state != 3 ORDER BY create_us LIMIT 1"));
    MARKET_RETURN_IF_ERROR(open.Bind(1, static_cast<int64_t>(c.kind())));
    MARKET_RETURN_IF_ERROR(open.BindText(2, c.resource()));
    MARKET_ASSIGN_OR_RETURN(bool joined, open.Step());
    if (joined) {
      MARKET_ASSIGN_OR_RETURN(out, ReadCase(open, 0, 1));
      const int64_t version = open.ColumnInt64(0) + 1;
      supervision::v1::CaseNote* note = out.add_notes();
      note->set_author(c.opened_by());
      note->set_text(absl::StrCat("event ", event_id, ": ", c.summary()));
      *note->mutable_create_time() = ToTimestamp(now);
      *out.mutable_update_time() = ToTimestamp(now);
      MARKET_RETURN_IF_ERROR(SaveCase(conn, out, version));
      out.set_etag(VersionEtag(version));
    } else {
      MARKET_RETURN_IF_ERROR(InsertCase(conn, c));
      out = c;
      out.set_etag(VersionEtag(1));
    }
    MARKET_ASSIGN_OR_RETURN(
        Statement mark, conn.Prepare("INSERT INTO case_events(event_id, case_name) VALUES(?, ?)"));
    MARKET_RETURN_IF_ERROR(mark.BindText(1, event_id));
    MARKET_RETURN_IF_ERROR(mark.BindText(2, out.name()));
    return mark.Run();
  }));
  return out;
}

absl::StatusOr<Case> CaseStore::Get(const std::string& name) {
  std::optional<Row> row;
  MARKET_RETURN_IF_ERROR(credit_->database()->Read([&](Connection& conn) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(row, LoadCase(conn, name));
    return absl::OkStatus();
  }));
  if (!row.has_value()) return NotFound(name);
  return std::move(row->c);
}

absl::StatusOr<Case> CaseStore::Update(
    const std::string& name,
    const std::function<absl::Status(Connection&, Case&, int64_t version)>& change,
    const RequestKey& key, absl::Time now) {
  return RunIdempotent<Case>(
      *credit_->database(), key, now, [&](Connection& conn) -> absl::StatusOr<Case> {
        MARKET_ASSIGN_OR_RETURN(Row row, Found(LoadCase(conn, name), name));
        MARKET_RETURN_IF_ERROR(change(conn, row.c, row.version));
        *row.c.mutable_update_time() = ToTimestamp(now);
        MARKET_RETURN_IF_ERROR(SaveCase(conn, row.c, row.version + 1));
        row.c.set_etag(VersionEtag(row.version + 1));
        return row.c;
      });
}

absl::StatusOr<std::vector<CaseHit>> CaseStore::List(const CaseQuery& q,
                                                     const std::optional<SearchCursor>& after,
                                                     int limit, absl::Time now) {
  std::vector<std::string> where = {"1"};
  if (q.kind.has_value()) where.push_back("kind = :kind");
  if (q.state.has_value()) where.push_back("state = :state");
  if (!q.region_prefix.empty()) where.push_back("substr(region, 1, length(:region)) = :region");
  if (!q.market.empty()) where.push_back("market = :market");
  if (!q.assignee.empty()) where.push_back("assignee = :assignee");
  if (!q.subject.empty()) where.push_back("instr(subjects, :subject) > 0");
  if (q.overdue.has_value()) {
    where.push_back(*q.overdue ? "(state != 3 AND due_us < :now)"
                               : "NOT (state != 3 AND due_us < :now)");
  }
  if (after.has_value()) where.push_back("(create_us, name) > (:after_key, :after_name)");
  const std::string sql =
      absl::StrCat("SELECT version, data, create_us FROM cases WHERE ", absl::StrJoin(where, " AND "),
                   " ORDER BY create_us, name LIMIT :limit");
  std::vector<CaseHit> hits;
  MARKET_RETURN_IF_ERROR(credit_->database()->Read([&](Connection& conn) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
    if (q.kind.has_value()) MARKET_RETURN_IF_ERROR(st.Bind(":kind", static_cast<int64_t>(*q.kind)));
    if (q.state.has_value()) {
      MARKET_RETURN_IF_ERROR(st.Bind(":state", static_cast<int64_t>(*q.state)));
    }
    if (!q.region_prefix.empty()) MARKET_RETURN_IF_ERROR(st.BindText(":region", q.region_prefix));
    if (!q.market.empty()) MARKET_RETURN_IF_ERROR(st.BindText(":market", q.market));
    if (!q.assignee.empty()) MARKET_RETURN_IF_ERROR(st.BindText(":assignee", q.assignee));
    if (!q.subject.empty()) {
      MARKET_RETURN_IF_ERROR(st.BindText(":subject", absl::StrCat(",", q.subject, ",")));
    }
    if (q.overdue.has_value()) MARKET_RETURN_IF_ERROR(st.Bind(":now", Micros(now)));
    MARKET_RETURN_IF_ERROR(BindKeysetPage(st, after, limit));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      MARKET_ASSIGN_OR_RETURN(Case c, ReadCase(st, 0, 1));
      SearchCursor cursor{st.ColumnInt64(2), c.name()};
      hits.push_back(CaseHit{std::move(c), std::move(cursor)});
    }
    return absl::OkStatus();
  }));
  return hits;
}

}  // namespace market::credit
