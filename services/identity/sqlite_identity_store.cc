#include "services/identity/sqlite_identity_store.h"

#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/idempotency/idempotency.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"

namespace market::identity {
namespace {

using google::protobuf::util::TimeUtil;
using sqlite::Connection;
using sqlite::Statement;

const std::vector<sqlite::Migration>& Migrations() {
  static const auto* migrations = new std::vector<sqlite::Migration>{
      {1, absl::StrCat(R"sql(
CREATE TABLE subjects (
  name TEXT PRIMARY KEY,
  credit_code TEXT UNIQUE,
  id_number_hash BLOB UNIQUE,
  roles TEXT NOT NULL,
  state INTEGER NOT NULL,
  password_hash TEXT,
  version INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE api_keys (
  name TEXT PRIMARY KEY,
  subject TEXT NOT NULL REFERENCES subjects(name),
  secret_hash BLOB NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE signing_keys (
  key_id TEXT PRIMARY KEY,
  private_pem TEXT NOT NULL,
  public_raw BLOB NOT NULL,
  create_time INTEGER NOT NULL,
  active INTEGER NOT NULL
);
)sql",
                       kIdempotencySchema)},
      {2, R"sql(
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL,
  last_failure INTEGER NOT NULL
);
CREATE TABLE auth_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subject TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX auth_events_by_subject ON auth_events(subject, id);
)sql"},
  };
  return *migrations;
}

std::string RolesColumn(const Subject& s) {
  std::string out = "|";
  for (int r : s.roles()) absl::StrAppend(&out, common::v1::Role_Name(r), "|");
  return out;
}

// Binds `text` or NULL when empty.
absl::Status BindTextOrNull(Statement& st, int index, const std::string& text) {
  return text.empty() ? st.BindNull(index) : st.BindText(index, text);
}
absl::Status BindBlobOrNull(Statement& st, int index, const std::string& blob) {
  return blob.empty() ? st.BindNull(index) : st.BindBlob(index, blob);
}

// Columns: name, id_number_hash, password_hash, version, data.
constexpr char kSelectSubject[] =
    "SELECT name, id_number_hash, password_hash, version, data FROM subjects ";

absl::StatusOr<SubjectRow> ReadSubjectRow(Statement& st) {
  SubjectRow row;
  if (!row.subject.ParseFromString(st.ColumnBlob(4))) {
    return absl::DataLossError(absl::StrCat("corrupt subject row ", st.ColumnText(0)));
  }
  row.id_number_hash = st.ColumnIsNull(1) ? "" : st.ColumnBlob(1);
  row.password_hash = st.ColumnIsNull(2) ? "" : st.ColumnText(2);
  row.version = st.ColumnInt64(3);
  row.subject.set_etag(VersionEtag(row.version));
  return row;
}

absl::StatusOr<SubjectRow> SelectSubject(Connection& c, const std::string& name) {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare(absl::StrCat(kSelectSubject, "WHERE name = ?")));
  MARKET_RETURN_IF_ERROR(st.BindText(1, name));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return NotFound(name);
  return ReadSubjectRow(st);
}

absl::Status InsertApiKey(Connection& c, const ApiKeyRow& row) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("INSERT INTO api_keys(name, subject, secret_hash, data) VALUES(?, ?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, row.key.name()));
  MARKET_RETURN_IF_ERROR(st.BindText(2, row.subject));
  MARKET_RETURN_IF_ERROR(st.BindBlob(3, row.secret_hash));
  MARKET_RETURN_IF_ERROR(st.BindBlob(4, row.key.SerializeAsString()));
  return st.Run();
}

absl::Status InsertAuthEvent(Connection& c, v1::AuthEvent event, absl::Time now) {
  event.clear_name();
  *event.mutable_create_time() = ToTimestamp(now);
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("INSERT INTO auth_events(subject, create_time, data) VALUES(?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, event.subject()));
  MARKET_RETURN_IF_ERROR(st.Bind(2, absl::ToUnixMicros(now)));
  MARKET_RETURN_IF_ERROR(st.BindBlob(3, event.SerializeAsString()));
  return st.Run();
}

absl::StatusOr<LoginThrottle> SelectThrottle(Connection& c, const std::string& key) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT failures, blocked_until, last_failure FROM login_throttle WHERE key = ?"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, key));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  LoginThrottle t;
  if (found) {
    t.failures = st.ColumnInt64(0);
    t.blocked_until = absl::FromUnixMicros(st.ColumnInt64(1));
    t.last_failure = absl::FromUnixMicros(st.ColumnInt64(2));
  }
  return t;
}

// Runs `fn` in one db.Read() and returns its value.
template <typename Fn>
auto ReadValue(sqlite::Database& db, Fn fn) -> std::invoke_result_t<Fn, Connection&> {
  typename std::invoke_result_t<Fn, Connection&>::value_type out{};
  MARKET_RETURN_IF_ERROR(db.Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(out, fn(c));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteIdentityStore>> SqliteIdentityStore::Open(
    const std::string& path) {
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  MARKET_ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options, Migrations()));
  return std::unique_ptr<SqliteIdentityStore>(new SqliteIdentityStore(std::move(db)));
}

absl::StatusOr<Subject> SqliteIdentityStore::CreateSubject(
    const SubjectRow& row, const std::optional<ApiKeyRow>& initial_key, const RequestKey& key,
    absl::Time now, bool* replayed) {
  return RunIdempotent<Subject>(
      *db_, key, now,
      [&](Connection& c) -> absl::StatusOr<Subject> {
        Subject s = row.subject;
        *s.mutable_create_time() = ToTimestamp(now);
        *s.mutable_update_time() = ToTimestamp(now);
        s.clear_etag();
        MARKET_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("INSERT INTO subjects(name, credit_code, id_number_hash, roles, state, "
                      "password_hash, version, data) VALUES(?, ?, ?, ?, ?, ?, 1, ?)"));
        MARKET_RETURN_IF_ERROR(st.BindText(1, s.name()));
        MARKET_RETURN_IF_ERROR(BindTextOrNull(st, 2, s.credit_code()));
        MARKET_RETURN_IF_ERROR(BindBlobOrNull(st, 3, row.id_number_hash));
        MARKET_RETURN_IF_ERROR(st.BindText(4, RolesColumn(s)));
        MARKET_RETURN_IF_ERROR(st.Bind(5, static_cast<int64_t>(s.state())));
        MARKET_RETURN_IF_ERROR(BindTextOrNull(st, 6, row.password_hash));
        MARKET_RETURN_IF_ERROR(st.BindBlob(7, s.SerializeAsString()));
        absl::Status inserted = st.Run();
        if (absl::IsAlreadyExists(inserted)) {
          return absl::AlreadyExistsError(absl::StrCat(
              s.name(), ", its credit code or its ID number is already registered"));
        }
        MARKET_RETURN_IF_ERROR(inserted);
        if (initial_key.has_value()) MARKET_RETURN_IF_ERROR(InsertApiKey(c, *initial_key));
        s.set_etag(VersionEtag(1));
        return s;
      },
      replayed);
}

absl::StatusOr<SubjectRow> SqliteIdentityStore::GetSubject(const std::string& name) {
  return ReadValue(*db_, [&](Connection& c) { return SelectSubject(c, name); });
}

absl::StatusOr<std::vector<SubjectRow>> SqliteIdentityStore::ListSubjects(
    const SubjectFilter& filter, const std::string& after, int limit) {
  return ReadValue(*db_, [&](Connection& c) -> absl::StatusOr<std::vector<SubjectRow>> {
    MARKET_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(absl::StrCat(kSelectSubject,
                               "WHERE name > ?1 AND (?2 IS NULL OR instr(roles, ?2) > 0) "
                               "AND (?3 IS NULL OR state = ?3) ORDER BY name LIMIT ?4")));
    MARKET_RETURN_IF_ERROR(st.BindText(1, after));
    MARKET_RETURN_IF_ERROR(
        filter.role ? st.BindText(2, absl::StrCat("|", common::v1::Role_Name(*filter.role), "|"))
                    : st.BindNull(2));
    MARKET_RETURN_IF_ERROR(filter.state ? st.Bind(3, static_cast<int64_t>(*filter.state))
                                        : st.BindNull(3));
    MARKET_RETURN_IF_ERROR(st.Bind(4, static_cast<int64_t>(limit)));
    std::vector<SubjectRow> rows;
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      MARKET_ASSIGN_OR_RETURN(SubjectRow row, ReadSubjectRow(st));
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

absl::StatusOr<Subject> SqliteIdentityStore::UpdateSubject(
    const std::string& name, const RequestKey& key, absl::Time now,
    const std::function<absl::Status(SubjectRow&)>& mutate,
    const std::vector<v1::AuthEvent>& audit) {
  return RunIdempotent<Subject>(
      *db_, key, now, [&](Connection& c) -> absl::StatusOr<Subject> {
        MARKET_ASSIGN_OR_RETURN(SubjectRow row, SelectSubject(c, name));
        int64_t version = row.version;
        MARKET_RETURN_IF_ERROR(mutate(row));
        Subject& s = row.subject;
        *s.mutable_update_time() = ToTimestamp(now);
        s.clear_etag();
        MARKET_ASSIGN_OR_RETURN(
            Statement st, c.Prepare("UPDATE subjects SET roles = ?, state = ?, version = ?, "
                                    "data = ?, password_hash = ? WHERE name = ? AND version = ?"));
        MARKET_RETURN_IF_ERROR(st.BindText(1, RolesColumn(s)));
        MARKET_RETURN_IF_ERROR(st.Bind(2, static_cast<int64_t>(s.state())));
        MARKET_RETURN_IF_ERROR(st.Bind(3, version + 1));
        MARKET_RETURN_IF_ERROR(st.BindBlob(4, s.SerializeAsString()));
        MARKET_RETURN_IF_ERROR(BindTextOrNull(st, 5, row.password_hash));
        MARKET_RETURN_IF_ERROR(st.BindText(6, name));
        MARKET_RETURN_IF_ERROR(st.Bind(7, version));
        MARKET_RETURN_IF_ERROR(st.Run());
        for (const v1::AuthEvent& event : audit) {
          MARKET_RETURN_IF_ERROR(InsertAuthEvent(c, event, now));
        }
        s.set_etag(VersionEtag(version + 1));
        return s;
      });
}

absl::StatusOr<std::optional<std::string>> SqliteIdentityStore::LookupReplay(
    const RequestKey& key) {
  if (key.request_id.empty()) return std::nullopt;
  return ReadValue(*db_, [&](Connection& c) {
    return LookupResponse(c, key.method, key.caller, key.request_id);
  });
}

absl::StatusOr<ApiKey> SqliteIdentityStore::CreateApiKey(const ApiKeyRow& row,
                                                         const RequestKey& key, absl::Time now) {
  return RunIdempotent<ApiKey>(*db_, key, now, [&](Connection& c) -> absl::StatusOr<ApiKey> {
    ApiKeyRow stored = row;
    *stored.key.mutable_create_time() = ToTimestamp(now);
    MARKET_RETURN_IF_ERROR(InsertApiKey(c, stored));
    return stored.key;
  });
}

absl::StatusOr<ApiKeyRow> SqliteIdentityStore::GetApiKey(const std::string& name) {
  return ReadValue(*db_, [&](Connection& c) -> absl::StatusOr<ApiKeyRow> {
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT subject, secret_hash, data FROM api_keys WHERE name = ?"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, name));
    MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return NotFound(name);
    ApiKeyRow row;
    row.subject = st.ColumnText(0);
    row.secret_hash = st.ColumnBlob(1);
    if (!row.key.ParseFromString(st.ColumnBlob(2))) return absl::DataLossError("corrupt api key");
    return row;
  });
}

absl::StatusOr<ApiKey> SqliteIdentityStore::RevokeApiKey(const std::string& name,
                                                         const RequestKey& key, absl::Time now) {
  return RunIdempotent<ApiKey>(*db_, key, now, [&](Connection& c) -> absl::StatusOr<ApiKey> {
    MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT data FROM api_keys WHERE name = ?"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, name));
    MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return NotFound(name);
    ApiKey k;
    if (!k.ParseFromString(st.ColumnBlob(0))) return absl::DataLossError("corrupt api key");
    if (k.has_revoke_time()) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "ALREADY_REVOKED",
                        absl::StrCat(name, " is already revoked"));
    }
    *k.mutable_revoke_time() = ToTimestamp(now);
    MARKET_ASSIGN_OR_RETURN(Statement up, c.Prepare("UPDATE api_keys SET data = ? WHERE name = ?"));
    MARKET_RETURN_IF_ERROR(up.BindBlob(1, k.SerializeAsString()));
    MARKET_RETURN_IF_ERROR(up.BindText(2, name));
    MARKET_RETURN_IF_ERROR(up.Run());
    return k;
  });
}

absl::StatusOr<std::vector<SigningKeyRow>> SqliteIdentityStore::ListSigningKeys() {
  return ReadValue(*db_, [&](Connection& c) -> absl::StatusOr<std::vector<SigningKeyRow>> {
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT key_id, private_pem, public_raw, create_time, active "
                                "FROM signing_keys ORDER BY create_time DESC, key_id"));
    std::vector<SigningKeyRow> rows;
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      rows.push_back(SigningKeyRow{st.ColumnText(0), st.ColumnText(1), st.ColumnBlob(2),
                                   absl::FromUnixMicros(st.ColumnInt64(3)),
                                   st.ColumnInt64(4) != 0});
    }
    return rows;
  });
}

absl::Status SqliteIdentityStore::AddSigningKey(const SigningKeyRow& row) {
  return db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement off, c.Prepare("UPDATE signing_keys SET active = 0"));
    MARKET_RETURN_IF_ERROR(off.Run());
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("INSERT INTO signing_keys(key_id, private_pem, public_raw, "
                                "create_time, active) VALUES(?, ?, ?, ?, 1)"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, row.key_id));
    MARKET_RETURN_IF_ERROR(st.BindText(2, row.private_pem));
    MARKET_RETURN_IF_ERROR(st.BindBlob(3, row.public_raw));
    MARKET_RETURN_IF_ERROR(st.Bind(4, absl::ToUnixMicros(row.create_time)));
    return st.Run();
  });
}

absl::Status SqliteIdentityStore::DeleteSigningKeysBefore(absl::Time cutoff) {
  return db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("DELETE FROM signing_keys WHERE active = 0 AND create_time < ?"));
    MARKET_RETURN_IF_ERROR(st.Bind(1, absl::ToUnixMicros(cutoff)));
    return st.Run();
  });
}

absl::StatusOr<int64_t> SqliteIdentityStore::CountSubjects() {
  return ReadValue(*db_, [&](Connection& c) -> absl::StatusOr<int64_t> {
    MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT count(*) FROM subjects"));
    MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
    return row ? st.ColumnInt64(0) : 0;
  });
}

absl::StatusOr<LoginThrottle> SqliteIdentityStore::GetLoginThrottle(const std::string& key) {
  return ReadValue(*db_, [&](Connection& c) { return SelectThrottle(c, key); });
}

absl::StatusOr<std::vector<LoginThrottle>> SqliteIdentityStore::RecordLoginFailure(
    const std::vector<std::string>& keys, absl::Time now, absl::Duration forget_after,
    const std::function<absl::Duration(int64_t failures)>& backoff,
    const std::vector<v1::AuthEvent>& events) {
  std::vector<LoginThrottle> out;
  MARKET_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    out.clear();
    for (const std::string& key : keys) {
      MARKET_ASSIGN_OR_RETURN(LoginThrottle t, SelectThrottle(c, key));
      if (now - t.last_failure >= forget_after) t.failures = 0;
      ++t.failures;
      t.blocked_until = now + backoff(t.failures);
      t.last_failure = now;
      MARKET_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("INSERT INTO login_throttle(key, failures, blocked_until, last_failure) "
                    "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(key) DO UPDATE SET failures = ?2, "
                    "blocked_until = ?3, last_failure = ?4"));
      MARKET_RETURN_IF_ERROR(st.BindText(1, key));
      MARKET_RETURN_IF_ERROR(st.Bind(2, t.failures));
      MARKET_RETURN_IF_ERROR(st.Bind(3, absl::ToUnixMicros(t.blocked_until)));
      MARKET_RETURN_IF_ERROR(st.Bind(4, absl::ToUnixMicros(t.last_failure)));
      MARKET_RETURN_IF_ERROR(st.Run());
      out.push_back(t);
    }
    for (const v1::AuthEvent& event : events) {
      MARKET_RETURN_IF_ERROR(InsertAuthEvent(c, event, now));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int64_t> SqliteIdentityStore::ClearLoginThrottle(const std::string& key,
                                                                const v1::AuthEvent& event,
                                                                absl::Time now) {
  int64_t failures = 0;
  MARKET_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(LoginThrottle t, SelectThrottle(c, key));
    failures = t.failures;
    MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare("DELETE FROM login_throttle WHERE key = ?"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, key));
    MARKET_RETURN_IF_ERROR(st.Run());
    if (event.type() != v1::AuthEvent::TYPE_UNSPECIFIED) {
      MARKET_RETURN_IF_ERROR(InsertAuthEvent(c, event, now));
    }
    return absl::OkStatus();
  }));
  return failures;
}

absl::Status SqliteIdentityStore::AppendAuthEvent(const v1::AuthEvent& event, absl::Time now) {
  return db_->Write([&](Connection& c) { return InsertAuthEvent(c, event, now); });
}

absl::StatusOr<std::vector<v1::AuthEvent>> SqliteIdentityStore::ListAuthEvents(
    const std::string& subject, int64_t before, int limit) {
  return ReadValue(*db_, [&](Connection& c) -> absl::StatusOr<std::vector<v1::AuthEvent>> {
    MARKET_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT id, data FROM auth_events WHERE (?1 = 0 OR id < ?1) "
                  "AND (?2 = '' OR subject = ?2) ORDER BY id DESC LIMIT ?3"));
    MARKET_RETURN_IF_ERROR(st.Bind(1, before));
    MARKET_RETURN_IF_ERROR(st.BindText(2, subject));
    MARKET_RETURN_IF_ERROR(st.Bind(3, static_cast<int64_t>(limit)));
    std::vector<v1::AuthEvent> events;
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool more, st.Step());
      if (!more) break;
      v1::AuthEvent event;
      if (!event.ParseFromString(st.ColumnBlob(1))) {
        return absl::DataLossError("corrupt auth event");
      }
      event.set_name(absl::StrCat("authEvents/", st.ColumnInt64(0)));
      events.push_back(std::move(event));
    }
    return events;
  });
}

}  // namespace market::identity
