#include "services/stats/credit_figures.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/resource/resource.h"
#include "common/status/status.h"

namespace market::stats {

using sqlite::Connection;
using sqlite::Statement;

const char kCreditFiguresSchema[] = R"sql(
CREATE TABLE credit_standings(entity TEXT NOT NULL, version INTEGER NOT NULL,
  snapshot BLOB NOT NULL, PRIMARY KEY(entity, version)) WITHOUT ROWID;
CREATE TABLE credit_daily(day INTEGER NOT NULL, metric TEXT NOT NULL, role TEXT NOT NULL,
  n INTEGER NOT NULL, PRIMARY KEY(day, metric, role)) WITHOUT ROWID;
CREATE TABLE credit_deltas(day INTEGER NOT NULL, metric TEXT NOT NULL, role TEXT NOT NULL,
  n INTEGER NOT NULL, PRIMARY KEY(day, metric, role)) WITHOUT ROWID;
CREATE TABLE credit_parties(month INTEGER NOT NULL, role TEXT NOT NULL, subject TEXT NOT NULL,
  n INTEGER NOT NULL, PRIMARY KEY(month, role, subject)) WITHOUT ROWID;
CREATE TABLE credit_party_counts(month INTEGER NOT NULL, role TEXT NOT NULL,
  subjects INTEGER NOT NULL, PRIMARY KEY(month, role)) WITHOUT ROWID;
)sql";

namespace {

namespace cv1 = ::market::credit::v1;

const char* TableName(CreditTable t) {
  switch (t) {
    case CreditTable::kDaily: return "credit_daily";
    case CreditTable::kDeltas: return "credit_deltas";
    case CreditTable::kParties: return "credit_parties";
  }
  return "";
}

// The three key columns of a table, bound as ?1..?3 by BindKey.
const char* KeyColumns(CreditTable t) {
  return t == CreditTable::kParties ? "month, role, subject" : "day, metric, role";
}

absl::Status BindKey(Statement& st, const CreditCell& cell) {
  MARKET_RETURN_IF_ERROR(st.Bind(1, cell.day));
  if (cell.table == CreditTable::kParties) {
    MARKET_RETURN_IF_ERROR(st.BindText(2, cell.role));
    return st.BindText(3, cell.subject);
  }
  MARKET_RETURN_IF_ERROR(st.BindText(2, cell.metric));
  return st.BindText(3, cell.role);
}

std::string Lower(const std::string& s) { return absl::AsciiStrToLower(s); }

std::string RoleKey(common::v1::Role r) { return common::v1::Role_Name(r); }

std::string FormatMonth(int64_t month) {
  return absl::StrFormat("%04d-%02d", month / 12, month % 12 + 1);
}

std::string CellName(const CreditCell& c) {
  if (c.table == CreditTable::kParties) {
    return absl::StrCat("credit_parties ", FormatMonth(c.day), " ", c.role.empty() ? "*" : c.role,
                        " ", c.subject);
  }
  return absl::StrCat(TableName(c.table), " ", FormatDay(c.day), " ", c.metric, " ", c.role);
}

// Adds `n` to the party count of (month, role).
absl::Status AddPartyCount(Connection& c, int64_t month, const std::string& role, int64_t n) {
  MARKET_ASSIGN_OR_RETURN(
      Statement up, c.Prepare("INSERT INTO credit_party_counts(month, role, subjects) "
                              "VALUES(?1, ?2, ?3) ON CONFLICT DO UPDATE SET "
                              "subjects = subjects + excluded.subjects"));
  MARKET_RETURN_IF_ERROR(up.Bind(1, month));
  MARKET_RETURN_IF_ERROR(up.BindText(2, role));
  MARKET_RETURN_IF_ERROR(up.Bind(3, n));
  MARKET_RETURN_IF_ERROR(up.Run());
  MARKET_ASSIGN_OR_RETURN(Statement zero,
                          c.Prepare("DELETE FROM credit_party_counts WHERE month = ?1 AND "
                                    "role = ?2 AND subjects = 0"));
  MARKET_RETURN_IF_ERROR(zero.Bind(1, month));
  MARKET_RETURN_IF_ERROR(zero.BindText(2, role));
  return zero.Run();
}

absl::Status AddToCell(Connection& c, const CreditCell& cell, int64_t delta) {
  const std::string table = TableName(cell.table);
  MARKET_ASSIGN_OR_RETURN(
      Statement up,
      c.Prepare(absl::StrCat("INSERT INTO ", table, "(", KeyColumns(cell.table),
                             ", n) VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET "
                             "n = n + excluded.n RETURNING n")));
  MARKET_RETURN_IF_ERROR(BindKey(up, cell));
  MARKET_RETURN_IF_ERROR(up.Bind(4, delta));
  MARKET_ASSIGN_OR_RETURN(bool row, up.Step());
  const int64_t now = row ? up.ColumnInt64(0) : delta;
  MARKET_RETURN_IF_ERROR(up.Run());
  if (now == 0) {
    MARKET_ASSIGN_OR_RETURN(
        Statement zero,
        c.Prepare(cell.table == CreditTable::kParties
                      ? absl::StrCat("DELETE FROM ", table,
                                     " WHERE month = ?1 AND role = ?2 AND subject = ?3")
                      : absl::StrCat("DELETE FROM ", table,
                                     " WHERE day = ?1 AND metric = ?2 AND role = ?3")));
    MARKET_RETURN_IF_ERROR(BindKey(zero, cell));
    MARKET_RETURN_IF_ERROR(zero.Run());
  }
  if (cell.table != CreditTable::kParties) return absl::OkStatus();
  const int64_t before = now - delta;
  if ((before == 0) == (now == 0)) return absl::OkStatus();
  return AddPartyCount(c, cell.day, cell.role, now == 0 ? -1 : 1);
}

// The stored standing version of `entity` just before (or after) `version`.
absl::StatusOr<std::optional<v1::FigureSnapshot>> Neighbour(Connection& c,
                                                           const std::string& entity,
                                                           int64_t version, bool before) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare(before ? "SELECT snapshot FROM credit_standings WHERE entity = ?1 AND "
                         "version < ?2 ORDER BY version DESC LIMIT 1"
                       : "SELECT snapshot FROM credit_standings WHERE entity = ?1 AND "
                         "version > ?2 ORDER BY version LIMIT 1"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, entity));
  MARKET_RETURN_IF_ERROR(st.Bind(2, version));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return std::nullopt;
  v1::FigureSnapshot s;
  if (!s.ParseFromString(st.ColumnBlob(0))) {
    return absl::DataLossError(absl::StrCat("stored standing of ", entity, " does not parse"));
  }
  return s;
}

// Reads (key, metric, sum) rows of `sql` (?1, ?2: the range) into `got`.
absl::Status ReadSums(Connection& c, const std::string& sql, DayRange range,
                      std::map<std::string, std::map<std::string, int64_t>>& got) {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  MARKET_RETURN_IF_ERROR(st.Bind(1, range.first));
  MARKET_RETURN_IF_ERROR(st.Bind(2, range.last));
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) return absl::OkStatus();
    got[st.ColumnText(0)][st.ColumnText(1)] = st.ColumnInt64(2);
  }
}

}  // namespace

const std::vector<std::string>& CreditColumns() {
  static const auto* columns = [] {
    auto* c = new std::vector<std::string>{"records"};
    for (int t = cv1::Record::POSITIVE; t <= cv1::Record::SERIOUS; ++t) {
      c->push_back(Lower(cv1::Record::Tier_Name(static_cast<cv1::Record::Tier>(t))) + "_records");
    }
    const auto* types = cv1::Record::Type_descriptor();
    for (int i = 0; i < types->value_count(); ++i) {
      if (types->value(i)->number() == 0) continue;
      c->push_back("records_" + Lower(types->value(i)->name()));
    }
    for (int l = cv1::CreditProfile::A; l <= cv1::CreditProfile::D; ++l) {
      c->push_back("subjects_level_" +
                   Lower(cv1::CreditProfile::Level_Name(static_cast<cv1::CreditProfile::Level>(l))));
    }
    c->push_back("blacklisted");
    c->push_back("redlisted");
    return c;
  }();
  return *columns;
}

absl::Status ValidateCreditSnapshot(const v1::FigureSnapshot& s) {
  Violations v;
  auto role_ok = [](common::v1::Role r) {
    return r != common::v1::ROLE_UNSPECIFIED && common::v1::Role_IsValid(r);
  };
  if (s.has_credit_record()) {
    const v1::CreditRecordSnapshot& r = s.credit_record();
    if (r.type() == cv1::Record::TYPE_UNSPECIFIED || !cv1::Record::Type_IsValid(r.type())) {
      v.Add("snapshot.credit_record.type", "required");
    }
    if (r.tier() == cv1::Record::TIER_UNSPECIFIED || !cv1::Record::Tier_IsValid(r.tier())) {
      v.Add("snapshot.credit_record.tier", "required");
    }
    if (r.subject().empty()) v.Add("snapshot.credit_record.subject", "required");
    if (!role_ok(r.subject_role())) v.Add("snapshot.credit_record.subject_role", "required");
    if (!r.has_recorded_time()) v.Add("snapshot.credit_record.recorded_time", "required");
  }
  if (s.has_credit_standing()) {
    const v1::CreditStandingSnapshot& st = s.credit_standing();
    if (st.subject().empty()) v.Add("snapshot.credit_standing.subject", "required");
    if (!role_ok(st.subject_role())) v.Add("snapshot.credit_standing.subject_role", "required");
    if (st.segments().empty()) v.Add("snapshot.credit_standing.segments", "at least one");
    for (int i = 0; i < st.segments_size(); ++i) {
      const auto& seg = st.segments(i);
      const std::string field = absl::StrCat("snapshot.credit_standing.segments[", i, "]");
      if (!seg.has_start_time()) {
        v.Add(field + ".start_time", "required");
      } else if (i > 0 && st.segments(i - 1).has_start_time() &&
                 FromTimestamp(seg.start_time()) <= FromTimestamp(st.segments(i - 1).start_time())) {
        v.Add(field + ".start_time", "segments must be in time order");
      }
      if (!cv1::CreditProfile::Level_IsValid(seg.level())) v.Add(field + ".level", "unknown value");
    }
  }
  return v.ToStatus();
}

void AddRecordCells(const v1::FigureSnapshot& s, int sign, CreditDelta& delta) {
  const v1::CreditRecordSnapshot& r = s.credit_record();
  const int64_t day = DayOf(FromTimestamp(r.recorded_time()));
  const std::string role = RoleKey(r.subject_role());
  for (const std::string& metric :
       {std::string("records"), Lower(cv1::Record::Tier_Name(r.tier())) + "_records",
        "records_" + Lower(cv1::Record::Type_Name(r.type()))}) {
    delta[{CreditTable::kDaily, day, metric, role, ""}] += sign;
  }
  for (const std::string& party_role : {role, std::string()}) {
    delta[{CreditTable::kParties, MonthOfDay(day), "", party_role, r.subject()}] += sign;
  }
}

void AddStandingCells(const v1::FigureSnapshot& s, std::optional<absl::Time> until, int sign,
                      CreditDelta& delta) {
  const v1::CreditStandingSnapshot& st = s.credit_standing();
  const std::string role = RoleKey(st.subject_role());
  const absl::Time from = FromTimestamp(s.time());
  for (int i = 0; i < st.segments_size(); ++i) {
    const auto& seg = st.segments(i);
    const absl::Time start = std::max(FromTimestamp(seg.start_time()), from);
    absl::Time end = i + 1 < st.segments_size() ? FromTimestamp(st.segments(i + 1).start_time())
                                                : absl::InfiniteFuture();
    if (until.has_value()) end = std::min(end, *until);
    if (start >= end) continue;
    std::vector<std::string> metrics = {"subjects"};
    if (seg.level() != cv1::CreditProfile::LEVEL_UNSPECIFIED) {
      metrics.push_back("subjects_level_" + Lower(cv1::CreditProfile::Level_Name(seg.level())));
    }
    if (seg.blacklisted()) metrics.push_back("blacklisted");
    if (seg.redlisted()) metrics.push_back("redlisted");
    for (const std::string& m : metrics) {
      delta[{CreditTable::kDeltas, DayOf(start), m, role, ""}] += sign;
      if (end != absl::InfiniteFuture()) delta[{CreditTable::kDeltas, DayOf(end), m, role, ""}] -= sign;
    }
  }
}

absl::Status ApplyCreditDelta(Connection& c, const CreditDelta& delta) {
  for (const auto& [cell, n] : delta) {
    if (n != 0) MARKET_RETURN_IF_ERROR(AddToCell(c, cell, n));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ApplyStanding(Connection& c, const v1::FigureSnapshot& s) {
  MARKET_ASSIGN_OR_RETURN(
      Statement seen,
      c.Prepare("SELECT 1 FROM credit_standings WHERE entity = ?1 AND version = ?2"));
  MARKET_RETURN_IF_ERROR(seen.BindText(1, s.entity()));
  MARKET_RETURN_IF_ERROR(seen.Bind(2, s.version()));
  MARKET_ASSIGN_OR_RETURN(bool stored, seen.Step());
  if (stored) return false;
  MARKET_ASSIGN_OR_RETURN(auto prev, Neighbour(c, s.entity(), s.version(), true));
  MARKET_ASSIGN_OR_RETURN(auto next, Neighbour(c, s.entity(), s.version(), false));
  std::optional<absl::Time> next_time;
  if (next.has_value()) next_time = FromTimestamp(next->time());
  CreditDelta delta;
  if (prev.has_value()) {
    // The previous version now gives way to `s` from s's time on.
    AddStandingCells(*prev, next_time, -1, delta);
    AddStandingCells(*prev, FromTimestamp(s.time()), +1, delta);
  }
  AddStandingCells(s, next_time, +1, delta);
  MARKET_RETURN_IF_ERROR(ApplyCreditDelta(c, delta));
  MARKET_ASSIGN_OR_RETURN(
      Statement save,
      c.Prepare("INSERT INTO credit_standings(entity, version, snapshot) VALUES(?1, ?2, ?3)"));
  MARKET_RETURN_IF_ERROR(save.BindText(1, s.entity()));
  MARKET_RETURN_IF_ERROR(save.Bind(2, s.version()));
  MARKET_RETURN_IF_ERROR(save.BindBlob(3, s.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(save.Run());
  return true;
}

absl::StatusOr<CreditRows> QueryCreditRows(Connection& c, DayRange range, bool by_role) {
  const std::string key = by_role ? "role" : "''";
  std::map<std::string, std::map<std::string, int64_t>> got;
  MARKET_RETURN_IF_ERROR(ReadSums(c,
                                  absl::StrCat("SELECT ", key, ", metric, SUM(n) FROM credit_daily "
                                               "WHERE day BETWEEN ?1 AND ?2 GROUP BY 1, 2"),
                                  range, got));
  // At the end of the range: every delta up to its last day.
  MARKET_RETURN_IF_ERROR(ReadSums(c,
                                  absl::StrCat("SELECT ", key, ", metric, SUM(n) FROM credit_deltas "
                                               "WHERE day BETWEEN ?1 AND ?2 GROUP BY 1, 2"),
                                  DayRange{std::numeric_limits<int64_t>::min(), range.last}, got));
  CreditRows out;
  MARKET_ASSIGN_OR_RETURN(
      Statement parties,
      c.Prepare(by_role ? "SELECT role, subjects FROM credit_party_counts WHERE month = ?1 AND "
                          "role <> ''"
                        : "SELECT role, subjects FROM credit_party_counts WHERE month = ?1 AND "
                          "role = ''"));
  MARKET_RETURN_IF_ERROR(parties.Bind(1, MonthOfDay(range.first)));
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, parties.Step());
    if (!more) break;
    out.record_subjects[parties.ColumnText(0)] = parties.ColumnInt64(1);
  }
  for (auto& [k, figures] : got) {
    v1::FigureRow r;
    r.set_key(k);
    bool any = false;
    for (const std::string& column : CreditColumns()) {
      auto it = figures.find(column);
      const int64_t v = it == figures.end() ? 0 : it->second;
      any = any || v != 0;
      r.add_values(v);
    }
    if (!any) continue;
    out.standing_subjects[k] = figures["subjects"];
    out.rows.push_back(std::move(r));
  }
  return out;
}

absl::Status RebuildCredit(Connection& c, bool repair, v1::RebuildTradeResponse& resp) {
  CreditDelta recomputed, stored;
  MARKET_ASSIGN_OR_RETURN(Statement records, c.Prepare("SELECT snapshot FROM figure_entities"));
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, records.Step());
    if (!more) break;
    v1::FigureSnapshot s;
    if (!s.ParseFromString(records.ColumnBlob(0))) {
      return absl::DataLossError("a stored figure snapshot does not parse");
    }
    if (s.has_credit_record()) AddRecordCells(s, +1, recomputed);
  }
  // Each standing version until the next stored version of the same subject.
  MARKET_ASSIGN_OR_RETURN(
      Statement standings,
      c.Prepare("SELECT snapshot FROM credit_standings ORDER BY entity, version DESC"));
  std::optional<v1::FigureSnapshot> later;
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, standings.Step());
    if (!more) break;
    v1::FigureSnapshot s;
    if (!s.ParseFromString(standings.ColumnBlob(0))) {
      return absl::DataLossError("a stored credit standing does not parse");
    }
    std::optional<absl::Time> until;
    if (later.has_value() && later->entity() == s.entity()) until = FromTimestamp(later->time());
    AddStandingCells(s, until, +1, recomputed);
    later = std::move(s);
  }
  std::erase_if(recomputed, [](const auto& kv) { return kv.second == 0; });
  // Party counts: distinct subjects per (month, role) of the presence cells.
  std::map<std::pair<int64_t, std::string>, std::pair<int64_t, int64_t>> counts;
  for (const auto& [cell, n] : recomputed) {
    if (cell.table == CreditTable::kParties) ++counts[{cell.day, cell.role}].second;
  }
  for (CreditTable t : {CreditTable::kDaily, CreditTable::kDeltas, CreditTable::kParties}) {
    MARKET_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(absl::StrCat("SELECT ", KeyColumns(t), ", n FROM ", TableName(t))));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      CreditCell cell{.table = t, .day = st.ColumnInt64(0)};
      if (t == CreditTable::kParties) {
        cell.role = st.ColumnText(1);
        cell.subject = st.ColumnText(2);
      } else {
        cell.metric = st.ColumnText(1);
        cell.role = st.ColumnText(2);
      }
      stored[std::move(cell)] = st.ColumnInt64(3);
    }
  }
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare("SELECT month, role, subjects FROM credit_party_counts"));
  while (true) {
    MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
    if (!more) break;
    counts[{st.ColumnInt64(0), st.ColumnText(1)}].first = st.ColumnInt64(2);
  }
  auto report = [&](const std::string& name, int64_t was, int64_t want) {
    resp.set_counters_checked(resp.counters_checked() + 1);
    if (was == want) return;
    v1::CounterDifference* d = resp.add_differences();
    d->set_counter(name);
    d->set_stored(was);
    d->set_recomputed(want);
  };
  std::map<CreditCell, std::pair<int64_t, int64_t>> both;
  for (const auto& [cell, n] : stored) both[cell].first = n;
  for (const auto& [cell, n] : recomputed) both[cell].second = n;
  for (const auto& [cell, pair] : both) report(CellName(cell), pair.first, pair.second);
  for (const auto& [key, pair] : counts) {
    report(absl::StrCat("credit_party_counts ", FormatMonth(key.first), " ",
                        key.second.empty() ? "*" : key.second),
           pair.first, pair.second);
  }
  if (!repair) return absl::OkStatus();
  for (const char* table :
       {"credit_daily", "credit_deltas", "credit_parties", "credit_party_counts"}) {
    MARKET_RETURN_IF_ERROR(c.Exec(absl::StrCat("DELETE FROM ", table)));
  }
  return ApplyCreditDelta(c, recomputed);
}

}  // namespace market::stats
