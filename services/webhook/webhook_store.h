// The webhook store (DATA_DIR/webhook.db, its own file beside credit.db):
//   webhooks(name, owner, scope, url, kinds, secret, ...)  registrations; the
//     signing secret sealed with AES-256-GCM (webhook_secret_box.h) under the
//     key file beside the database, never stored in plaintext
//   events(event_id, kind, payload)                        accepted events
//   deliveries(id, webhook, event_id, state, attempts, next_attempt_time)
//   attempts(delivery_id, n, time, http_status, error)
// An event and its deliveries are written in one transaction (Publish), so a
// delivery exists iff its event was acknowledged; the dispatcher's progress
// is in the same file, so a restart resumes where it stopped.
// Finished deliveries (delivered, failed after 3 days, cancelled) are deleted
// after a retention period (PurgeFinished, run by a retention::TablePurger);
// pending ones never are. Thread-safe (sqlite::Database).
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_STORE_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sqlite/database.h"
#include "market/common/v1/common.pb.h"
#include "market/webhook/v1/webhook.pb.h"
#include "services/webhook/webhook_secret_box.h"

namespace market::webhook {

struct StoredWebhook {
  v1::Webhook webhook;  // name, owner, url, event_kinds, description, create_time
  common::v1::Role scope = common::v1::ROLE_UNSPECIFIED;
  std::string secret;  // plaintext in memory only
};

// One delivery due for an attempt, with what the attempt needs.
struct DueDelivery {
  int64_t id = 0;
  std::string webhook;  // its name
  std::string url;
  std::string secret;
  v1::Event event;
  int attempts = 0;  // made so far
  absl::Time create_time;
};

struct PublishResult {
  bool accepted = false;
  int deliveries = 0;
};

// Deletes, in `c`'s transaction, the deliveries that finished (DELIVERED,
// FAILED or CANCELLED) before `before` with their attempts, the events
// accepted before `before` that no delivery names any more, and webhooks
// deleted before `before` that have no delivery left; returns how many rows
// it deleted. PENDING deliveries and their events are never deleted. After an
// event's purge its id is accepted again, so the retention must exceed how
// long a source may re-send it (its outbox retries only while pending).
absl::StatusOr<int64_t> PurgeFinished(sqlite::Connection& c, absl::Time before);

class WebhookStore {
 public:
  // Opens the database at `path` with the secret key file `key_path` (32
  // random bytes created mode 0600 when absent). Seals every secret still in
  // plaintext (a database from before encryption) in one transaction, with
  // SQLite's secure_delete on, and checkpoints the WAL so the old plaintext
  // is overwritten in the file. FAILED_PRECONDITION when the database holds
  // sealed secrets and the key file is missing or does not open them (restore
  // the key file from the backup taken with the database).
  static absl::StatusOr<std::unique_ptr<WebhookStore>> Open(const std::string& path,
                                                           const std::string& key_path);

  // Adds `w` (its webhook.name must be new). FAILED_PRECONDITION when its
  // owner already has kMaxWebhooksPerOwner webhooks.
  absl::Status Create(const StoredWebhook& w);
  // The webhook (not deleted) named `name`, or std::nullopt.
  absl::StatusOr<std::optional<StoredWebhook>> Get(const std::string& name);
  // Webhooks (not deleted) of `owner`, or of everyone when `owner` is "", by name.
  absl::StatusOr<std::vector<v1::Webhook>> List(const std::string& owner);
  // Marks the webhook deleted and cancels its pending deliveries; NOT_FOUND
  // when there is none (or it was deleted).
  absl::Status Delete(const std::string& name, absl::Time now);

  // Accepts `event` once (false when its id was accepted before) and, in the
  // same transaction, queues a delivery due at `now` to every webhook
  // subscribed to its kind whose owner may receive it (MayReceive).
  absl::StatusOr<PublishResult> Publish(const v1::Event& event, absl::Time now);
  // Accepts `event` (a PING) and queues it for the webhook `name` only.
  absl::Status QueueFor(const std::string& name, const v1::Event& event, absl::Time now);

  // Up to `limit` PENDING deliveries due at `now`, at most one per webhook:
  // the webhook's first-queued due delivery (lowest id), so a webhook's
  // events are first attempted in the order they were queued; the webhooks
  // whose delivery has waited longest first. A delivery is never due before
  // an earlier pending one of the same event resource to the same webhook
  // (Publish and a retry's RecordAttempt keep it so), so a webhook gets a
  // resource's events in the order they were published: a later one only
  // after the earlier ones were delivered or FAILED. Webhooks named in `skip` (those
  // with an attempt in flight) are left out. DATA_LOSS when a secret does not
  // open.
  absl::StatusOr<std::vector<DueDelivery>> Due(absl::Time now, int limit,
                                               const std::vector<std::string>& skip);
  absl::StatusOr<std::vector<DueDelivery>> Due(absl::Time now, int limit) {
    return Due(now, limit, {});
  }
  // Records attempt number attempts+1 of delivery `id` at `now`. With
  // `next_attempt` the delivery stays PENDING and is due then, and so are,
  // at the earliest, the later pending deliveries of its event's resource to
  // its webhook; without it the delivery becomes DELIVERED when `delivered`,
  // else FAILED.
  absl::Status RecordAttempt(int64_t id, absl::Time now, int http_status,
                             const std::string& error, bool delivered,
                             std::optional<absl::Time> next_attempt);

  // Deliveries of webhook `name`, newest first, with id < `before_id` (0:
  // from the newest), at most `limit`; each with its 50 latest attempts.
  // The second member is the id to pass as `before_id` for the next page (0
  // when there is none).
  absl::StatusOr<std::pair<std::vector<v1::Delivery>, int64_t>> ListDeliveries(
      const std::string& name, int64_t before_id, int limit);

  // PENDING deliveries (a gauge).
  int64_t PendingCount();

  sqlite::Database* database() { return db_.get(); }

 private:
  WebhookStore(std::unique_ptr<sqlite::Database> db, SecretBox box)
      : db_(std::move(db)), box_(std::move(box)) {}
  // The plaintext secret of webhook `name` stored as `stored`.
  absl::StatusOr<std::string> OpenSecret(const std::string& name, const std::string& stored) const;

  std::unique_ptr<sqlite::Database> db_;
  const SecretBox box_;
};

}  // namespace market::webhook

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_STORE_H_
