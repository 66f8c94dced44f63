#include "services/webhook/webhook_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config/files.h"
#include "common/resource/resource.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "services/webhook/webhook_rules.h"

namespace market::webhook {

using sqlite::Connection;
using sqlite::Statement;

namespace {

// Delivery states are v1::Delivery::State values.
const std::vector<sqlite::Migration>& Migrations() {
  static const auto* migrations = new std::vector<sqlite::Migration>{{1, R"sql(
CREATE TABLE webhooks(
  name TEXT PRIMARY KEY, owner TEXT NOT NULL, scope INTEGER NOT NULL, url TEXT NOT NULL,
  kinds TEXT NOT NULL, description TEXT NOT NULL, secret TEXT NOT NULL,
  create_time INTEGER NOT NULL, delete_time INTEGER) WITHOUT ROWID;
CREATE INDEX webhooks_owner ON webhooks(owner) WHERE delete_time IS NULL;
CREATE TABLE events(
  event_id TEXT PRIMARY KEY, kind INTEGER NOT NULL, payload BLOB NOT NULL,
  accept_time INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE deliveries(
  id INTEGER PRIMARY KEY AUTOINCREMENT, webhook TEXT NOT NULL, event_id TEXT NOT NULL,
  state INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_time INTEGER NOT NULL, create_time INTEGER NOT NULL, done_time INTEGER,
  UNIQUE(webhook, event_id));
CREATE INDEX deliveries_due ON deliveries(next_attempt_time) WHERE state = 1;
CREATE INDEX deliveries_webhook ON deliveries(webhook, id);
CREATE TABLE attempts(
  delivery_id INTEGER NOT NULL, n INTEGER NOT NULL, time INTEGER NOT NULL,
  http_status INTEGER NOT NULL, error TEXT NOT NULL,
  PRIMARY KEY(delivery_id, n)) WITHOUT ROWID;
)sql"},
                                                                    {2, R"sql(
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX deliveries_done ON deliveries(done_time) WHERE done_time IS NOT NULL;
CREATE INDEX events_accepted ON events(accept_time);
)sql"},
                                                                    // Per-resource order: the
                                                                    // event's resource (NULL: none).
                                                                    {3, R"sql(
ALTER TABLE deliveries ADD COLUMN ordering_key TEXT;
CREATE INDEX deliveries_pending_by_key ON deliveries(webhook, ordering_key, next_attempt_time)
  WHERE state = 1 AND ordering_key IS NOT NULL;
)sql"}};
  return *migrations;
}

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

std::string KindsText(const v1::Webhook& w) {
  return absl::StrJoin(w.event_kinds(), ",");
}

// Columns: name, owner, scope, url, kinds, description, secret, create_time.
constexpr char kWebhookColumns[] =
    "SELECT name, owner, scope, url, kinds, description, secret, create_time FROM webhooks ";

StoredWebhook ReadWebhook(const Statement& s) {
  StoredWebhook w;
  w.webhook.set_name(s.ColumnText(0));
  w.webhook.set_owner(s.ColumnText(1));
  w.scope = static_cast<common::v1::Role>(s.ColumnInt64(2));
  w.webhook.set_url(s.ColumnText(3));
  for (absl::string_view k : absl::StrSplit(s.ColumnText(4), ',', absl::SkipEmpty())) {
    int kind = 0;
    if (absl::SimpleAtoi(k, &kind)) w.webhook.add_event_kinds(static_cast<v1::EventKind>(kind));
  }
  w.webhook.set_description(s.ColumnText(5));
  w.secret = s.ColumnText(6);
  *w.webhook.mutable_create_time() = ToTimestamp(FromMicros(s.ColumnInt64(7)));
  return w;
}

// Inserts the event; false when its id is there already.
absl::StatusOr<bool> InsertEvent(Connection& c, const v1::Event& event, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(
      "INSERT OR IGNORE INTO events(event_id, kind, payload, accept_time) VALUES(?, ?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(s.BindText(1, event.event_id()));
  MARKET_RETURN_IF_ERROR(s.Bind(2, static_cast<int64_t>(event.kind())));
  MARKET_RETURN_IF_ERROR(s.BindBlob(3, event.SerializeAsString()));
  MARKET_RETURN_IF_ERROR(s.Bind(4, Micros(now)));
  MARKET_RETURN_IF_ERROR(s.Run());
  return c.Changes() > 0;
}

// Queues `event` for `webhook`, due at `now` or, when a pending delivery of
// the same resource to that webhook waits for a retry, when that one is due:
// a resource's deliveries to a webhook are never due before earlier ones.
absl::Status InsertDelivery(Connection& c, const std::string& webhook, const v1::Event& event,
                            absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(
      "INSERT OR IGNORE INTO deliveries(webhook, event_id, state, next_attempt_time, create_time, "
      "ordering_key) VALUES(?1, ?2, 1, max(?3, coalesce((SELECT max(next_attempt_time) "
      "FROM deliveries INDEXED BY deliveries_pending_by_key WHERE webhook = ?1 "
      "AND ordering_key = ?4 AND state = 1), ?3)), ?3, ?4)"));
  MARKET_RETURN_IF_ERROR(s.BindText(1, webhook));
  MARKET_RETURN_IF_ERROR(s.BindText(2, event.event_id()));
  MARKET_RETURN_IF_ERROR(s.Bind(3, Micros(now)));
  if (event.resource().empty()) {
    MARKET_RETURN_IF_ERROR(s.BindNull(4));
  } else {
    MARKET_RETURN_IF_ERROR(s.BindText(4, event.resource()));
  }
  return s.Run();
}

}  // namespace

absl::StatusOr<int64_t> PurgeFinished(Connection& c, absl::Time before) {
  int64_t deleted = 0;
  // Finished deliveries' attempts, the deliveries, then what they leave
  // unreferenced. State 1 (PENDING) is never touched.
  for (const char* sql : {
           "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries "
           "WHERE state IN (2, 3, 4) AND done_time < ?1)",
           "DELETE FROM deliveries WHERE state IN (2, 3, 4) AND done_time < ?1",
           "DELETE FROM events WHERE accept_time < ?1 AND NOT EXISTS "
           "(SELECT 1 FROM deliveries d WHERE d.event_id = events.event_id)",
           "DELETE FROM webhooks WHERE delete_time < ?1 AND NOT EXISTS "
           "(SELECT 1 FROM deliveries d WHERE d.webhook = webhooks.name)"}) {
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(sql));
    MARKET_RETURN_IF_ERROR(s.Bind(1, Micros(before)));
    MARKET_RETURN_IF_ERROR(s.Run());
    deleted += c.Changes();
  }
  return deleted;
}

absl::StatusOr<std::unique_ptr<WebhookStore>> WebhookStore::Open(const std::string& path,
                                                                 const std::string& key_path) {
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  MARKET_ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options, Migrations()));
  // Freed space (a secret's plaintext replaced by its sealed form, a purged
  // row) is zeroed rather than left in the file.
  MARKET_RETURN_IF_ERROR(
      db->Write([](Connection& c) { return c.Exec("PRAGMA secure_delete = ON"); }));
  std::vector<std::pair<std::string, std::string>> secrets;  // name, stored secret
  MARKET_RETURN_IF_ERROR(db->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare("SELECT name, secret FROM webhooks"));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      secrets.emplace_back(s.ColumnText(0), s.ColumnText(1));
    }
    return absl::OkStatus();
  }));
  const bool any_sealed = std::any_of(secrets.begin(), secrets.end(),
                                      [](const auto& s) { return SecretBox::IsSealed(s.second); });
  if (any_sealed && !std::filesystem::exists(key_path)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " holds encrypted webhook secrets but their key file ", key_path,
        " is missing; restore it from the backup taken with the database"));
  }
  MARKET_ASSIGN_OR_RETURN(std::string key, config::LoadOrCreateSecret(key_path, SecretBox::kKeySize));
  absl::StatusOr<SecretBox> box = SecretBox::FromKey(key);
  OPENSSL_cleanse(key.data(), key.size());
  if (!box.ok()) return box.status();
  auto store = std::unique_ptr<WebhookStore>(new WebhookStore(std::move(db), *std::move(box)));
  std::vector<std::pair<std::string, std::string>> to_seal;  // name, sealed secret
  for (auto& [name, stored] : secrets) {
    if (SecretBox::IsSealed(stored)) {
      if (absl::Status opened = store->OpenSecret(name, stored).status(); !opened.ok()) {
        return absl::FailedPreconditionError(absl::StrCat(
            path, ": the secret of ", name, " does not open with the key file ", key_path,
            " (", opened.message(), "); restore the key file taken with the database"));
      }
      continue;
    }
    MARKET_ASSIGN_OR_RETURN(std::string sealed, store->box_.Seal(stored, name));
    OPENSSL_cleanse(stored.data(), stored.size());
    to_seal.emplace_back(name, std::move(sealed));
  }
  if (!to_seal.empty()) {
    MARKET_RETURN_IF_ERROR(store->db_->Write([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(Statement u,
                              c.Prepare("UPDATE webhooks SET secret = ? WHERE name = ?"));
      for (const auto& [name, sealed] : to_seal) {
        u.Reset();
        MARKET_RETURN_IF_ERROR(u.BindText(1, sealed));
        MARKET_RETURN_IF_ERROR(u.BindText(2, name));
        MARKET_RETURN_IF_ERROR(u.Run());
      }
      return absl::OkStatus();
    }));
    // Copy the sealed pages over the plaintext ones in the main file and
    // empty the WAL, which may still hold frames with the plaintext.
    MARKET_ASSIGN_OR_RETURN(Connection c, Connection::Open(path, options));
    MARKET_RETURN_IF_ERROR(c.Exec("PRAGMA secure_delete = ON"));
    MARKET_RETURN_IF_ERROR(c.Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    server::LogJson("info", "webhook secrets encrypted at rest",
                    {{"database", path}, {"webhooks", static_cast<int64_t>(to_seal.size())}});
  }
  return store;
}

absl::StatusOr<std::string> WebhookStore::OpenSecret(const std::string& name,
                                                     const std::string& stored) const {
  return box_.Open(stored, name);
}

absl::Status WebhookStore::Create(const StoredWebhook& w) {
  return db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement count, c.Prepare(
        "SELECT count(*) FROM webhooks WHERE owner = ? AND delete_time IS NULL"));
    MARKET_RETURN_IF_ERROR(count.BindText(1, w.webhook.owner()));
    MARKET_RETURN_IF_ERROR(count.Step().status());
    if (count.ColumnInt64(0) >= kMaxWebhooksPerOwner) {
      return absl::FailedPreconditionError(absl::StrCat(
          w.webhook.owner(), " has ", kMaxWebhooksPerOwner, " webhooks; delete one first"));
    }
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(
        "INSERT INTO webhooks(name, owner, scope, url, kinds, description, secret, create_time) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
    MARKET_RETURN_IF_ERROR(s.BindText(1, w.webhook.name()));
    MARKET_RETURN_IF_ERROR(s.BindText(2, w.webhook.owner()));
    MARKET_RETURN_IF_ERROR(s.Bind(3, static_cast<int64_t>(w.scope)));
    MARKET_RETURN_IF_ERROR(s.BindText(4, w.webhook.url()));
    MARKET_RETURN_IF_ERROR(s.BindText(5, KindsText(w.webhook)));
    MARKET_RETURN_IF_ERROR(s.BindText(6, w.webhook.description()));
    MARKET_ASSIGN_OR_RETURN(std::string sealed, box_.Seal(w.secret, w.webhook.name()));
    MARKET_RETURN_IF_ERROR(s.BindText(7, sealed));
    MARKET_RETURN_IF_ERROR(s.Bind(8, Micros(FromTimestamp(w.webhook.create_time()))));
    return s.Run();
  });
}

absl::StatusOr<std::optional<StoredWebhook>> WebhookStore::Get(const std::string& name) {
  std::optional<StoredWebhook> out;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(absl::StrCat(
        kWebhookColumns, "WHERE name = ? AND delete_time IS NULL")));
    MARKET_RETURN_IF_ERROR(s.BindText(1, name));
    MARKET_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) out = ReadWebhook(s);
    return absl::OkStatus();
  }));
  if (out.has_value()) {
    MARKET_ASSIGN_OR_RETURN(out->secret, OpenSecret(out->webhook.name(), out->secret));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Webhook>> WebhookStore::List(const std::string& owner) {
  std::vector<v1::Webhook> out;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(absl::StrCat(
        kWebhookColumns, "WHERE delete_time IS NULL AND (?1 = '' OR owner = ?1) ORDER BY name")));
    MARKET_RETURN_IF_ERROR(s.BindText(1, owner));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadWebhook(s).webhook);
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status WebhookStore::Delete(const std::string& name, absl::Time now) {
  return db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(
        "UPDATE webhooks SET delete_time = ? WHERE name = ? AND delete_time IS NULL"));
    MARKET_RETURN_IF_ERROR(s.Bind(1, Micros(now)));
    MARKET_RETURN_IF_ERROR(s.BindText(2, name));
    MARKET_RETURN_IF_ERROR(s.Run());
    if (c.Changes() == 0) return absl::NotFoundError(absl::StrCat(name, " not found"));
    MARKET_ASSIGN_OR_RETURN(Statement d, c.Prepare(
        "UPDATE deliveries SET state = 4, done_time = ? WHERE webhook = ? AND state = 1"));
    MARKET_RETURN_IF_ERROR(d.Bind(1, Micros(now)));
    MARKET_RETURN_IF_ERROR(d.BindText(2, name));
    return d.Run();
  });
}

absl::StatusOr<PublishResult> WebhookStore::Publish(const v1::Event& event, absl::Time now) {
  PublishResult result;
  MARKET_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    result = PublishResult{};
    MARKET_ASSIGN_OR_RETURN(result.accepted, InsertEvent(c, event, now));
    if (!result.accepted) return absl::OkStatus();
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(absl::StrCat(
        kWebhookColumns, "WHERE delete_time IS NULL ORDER BY name")));
    std::vector<std::string> targets;
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      StoredWebhook w = ReadWebhook(s);
      bool subscribed = false;
      for (int k : w.webhook.event_kinds()) subscribed |= k == event.kind();
      if (subscribed && MayReceive(w.scope, w.webhook.owner(), event)) {
        targets.push_back(w.webhook.name());
      }
    }
    for (const std::string& name : targets) {
      MARKET_RETURN_IF_ERROR(InsertDelivery(c, name, event, now));
    }
    result.deliveries = static_cast<int>(targets.size());
    return absl::OkStatus();
  }));
  return result;
}

absl::Status WebhookStore::QueueFor(const std::string& name, const v1::Event& event,
                                    absl::Time now) {
  return db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(bool inserted, InsertEvent(c, event, now));
    if (!inserted) {
      return absl::AlreadyExistsError(absl::StrCat("event ", event.event_id(), " exists"));
    }
    return InsertDelivery(c, name, event, now);
  });
}

absl::StatusOr<std::vector<DueDelivery>> WebhookStore::Due(absl::Time now, int limit,
                                                           const std::vector<std::string>& skip) {
  std::vector<DueDelivery> out;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    // The first-queued due delivery of each webhook; those of skipped
    // webhooks are dropped below (the LIMIT leaves room for them).
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(
        "SELECT d.id, d.webhook, w.url, w.secret, e.payload, d.attempts, d.create_time "
        "FROM deliveries d JOIN webhooks w ON w.name = d.webhook "
        "JOIN events e ON e.event_id = d.event_id "
        "WHERE d.id IN (SELECT min(id) FROM deliveries "
        "               WHERE state = 1 AND next_attempt_time <= ?1 GROUP BY webhook) "
        "ORDER BY d.next_attempt_time, d.id LIMIT ?2"));
    MARKET_RETURN_IF_ERROR(s.Bind(1, Micros(now)));
    MARKET_RETURN_IF_ERROR(s.Bind(2, static_cast<int64_t>(limit + skip.size())));
    while (static_cast<int>(out.size()) < limit) {
      MARKET_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      DueDelivery d;
      d.id = s.ColumnInt64(0);
      d.webhook = s.ColumnText(1);
      if (std::find(skip.begin(), skip.end(), d.webhook) != skip.end()) continue;
      d.url = s.ColumnText(2);
      d.secret = s.ColumnText(3);
      if (!d.event.ParseFromString(s.ColumnBlob(4))) {
        return absl::DataLossError(absl::StrCat("webhook delivery ", d.id, ": event does not parse"));
      }
      d.attempts = static_cast<int>(s.ColumnInt64(5));
      d.create_time = FromMicros(s.ColumnInt64(6));
      out.push_back(std::move(d));
    }
    return absl::OkStatus();
  }));
  for (DueDelivery& d : out) {
    MARKET_ASSIGN_OR_RETURN(d.secret, OpenSecret(d.webhook, d.secret));
  }
  return out;
}

absl::Status WebhookStore::RecordAttempt(int64_t id, absl::Time now, int http_status,
                                         const std::string& error, bool delivered,
                                         std::optional<absl::Time> next_attempt) {
  return db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement u, c.Prepare(
        "UPDATE deliveries SET attempts = attempts + 1, state = ?, next_attempt_time = ?, "
        "done_time = ? WHERE id = ? AND state = 1 RETURNING attempts"));
    const int state = next_attempt.has_value() ? v1::Delivery::PENDING
                      : delivered              ? v1::Delivery::DELIVERED
                                               : v1::Delivery::FAILED;
    MARKET_RETURN_IF_ERROR(u.Bind(1, static_cast<int64_t>(state)));
    MARKET_RETURN_IF_ERROR(u.Bind(2, Micros(next_attempt.value_or(now))));
    if (next_attempt.has_value()) {
      MARKET_RETURN_IF_ERROR(u.BindNull(3));
    } else {
      MARKET_RETURN_IF_ERROR(u.Bind(3, Micros(now)));
    }
    MARKET_RETURN_IF_ERROR(u.Bind(4, id));
    MARKET_ASSIGN_OR_RETURN(bool row, u.Step());
    if (!row) return absl::OkStatus();  // cancelled meanwhile (webhook deleted)
    const int64_t n = u.ColumnInt64(0);
    MARKET_RETURN_IF_ERROR(u.Run());
    if (next_attempt.has_value()) {
      // Later deliveries of its resource to its webhook wait for the retry.
      MARKET_ASSIGN_OR_RETURN(Statement hold, c.Prepare(
          "UPDATE deliveries INDEXED BY deliveries_pending_by_key "
          "SET next_attempt_time = max(next_attempt_time, ?1) "
          "WHERE (webhook, ordering_key) = (SELECT webhook, ordering_key FROM deliveries "
          "WHERE id = ?2) AND ordering_key IS NOT NULL AND state = 1 AND id > ?2"));
      MARKET_RETURN_IF_ERROR(hold.Bind(1, Micros(*next_attempt)));
      MARKET_RETURN_IF_ERROR(hold.Bind(2, id));
      MARKET_RETURN_IF_ERROR(hold.Run());
    }
    MARKET_ASSIGN_OR_RETURN(Statement a, c.Prepare(
        "INSERT INTO attempts(delivery_id, n, time, http_status, error) VALUES(?, ?, ?, ?, ?)"));
    MARKET_RETURN_IF_ERROR(a.Bind(1, id));
    MARKET_RETURN_IF_ERROR(a.Bind(2, n));
    MARKET_RETURN_IF_ERROR(a.Bind(3, Micros(now)));
    MARKET_RETURN_IF_ERROR(a.Bind(4, static_cast<int64_t>(http_status)));
    MARKET_RETURN_IF_ERROR(a.BindText(5, error));
    return a.Run();
  });
}

absl::StatusOr<std::pair<std::vector<v1::Delivery>, int64_t>> WebhookStore::ListDeliveries(
    const std::string& name, int64_t before_id, int limit) {
  std::vector<v1::Delivery> out;
  int64_t next = 0;
  MARKET_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare(
        "SELECT d.id, d.event_id, e.kind, d.state, d.create_time, d.next_attempt_time "
        "FROM deliveries d JOIN events e ON e.event_id = d.event_id "
        "WHERE d.webhook = ? AND (? = 0 OR d.id < ?) ORDER BY d.id DESC LIMIT ?"));
    MARKET_RETURN_IF_ERROR(s.BindText(1, name));
    MARKET_RETURN_IF_ERROR(s.Bind(2, before_id));
    MARKET_RETURN_IF_ERROR(s.Bind(3, before_id));
    MARKET_RETURN_IF_ERROR(s.Bind(4, static_cast<int64_t>(limit + 1)));
    MARKET_ASSIGN_OR_RETURN(Statement a, c.Prepare(
        "SELECT time, http_status, error FROM (SELECT * FROM attempts WHERE delivery_id = ? "
        "ORDER BY n DESC LIMIT 50) ORDER BY n"));
    std::vector<int64_t> ids;
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      if (static_cast<int>(out.size()) == limit) {
        next = ids.back();
        break;
      }
      v1::Delivery d;
      d.set_webhook(name);
      d.set_event_id(s.ColumnText(1));
      d.set_kind(static_cast<v1::EventKind>(s.ColumnInt64(2)));
      d.set_state(static_cast<v1::Delivery::State>(s.ColumnInt64(3)));
      *d.mutable_create_time() = ToTimestamp(FromMicros(s.ColumnInt64(4)));
      if (d.state() == v1::Delivery::PENDING) {
        *d.mutable_next_attempt_time() = ToTimestamp(FromMicros(s.ColumnInt64(5)));
      }
      ids.push_back(s.ColumnInt64(0));
      out.push_back(std::move(d));
    }
    for (size_t i = 0; i < out.size(); ++i) {
      a.Reset();
      MARKET_RETURN_IF_ERROR(a.Bind(1, ids[i]));
      while (true) {
        MARKET_ASSIGN_OR_RETURN(bool row, a.Step());
        if (!row) break;
        v1::DeliveryAttempt* at = out[i].add_attempts();
        *at->mutable_time() = ToTimestamp(FromMicros(a.ColumnInt64(0)));
        at->set_http_status(static_cast<int32_t>(a.ColumnInt64(1)));
        at->set_error(a.ColumnText(2));
      }
    }
    return absl::OkStatus();
  }));
  return std::make_pair(std::move(out), next);
}

int64_t WebhookStore::PendingCount() {
  int64_t n = -1;
  absl::Status st = db_->Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(Statement s, c.Prepare("SELECT count(*) FROM deliveries WHERE state = 1"));
    MARKET_RETURN_IF_ERROR(s.Step().status());
    n = s.ColumnInt64(0);
    return absl::OkStatus();
  });
  return st.ok() ? n : -1;
}

}  // namespace market::webhook
