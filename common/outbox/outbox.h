// Transactional outbox: a service writes an event into its `outbox` table in
// the same transaction as the state change that causes it (Enqueue), and a
// Relay delivers pending events at least once, with retries and backoff,
// passing the event id as the receiver's idempotency key. Enqueue and
// PurgeDelivered are as thread-safe as their argument; Relay is thread-safe.
#ifndef MARKET_COMMON_OUTBOX_OUTBOX_H_
#define MARKET_COMMON_OUTBOX_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/server/metrics.h"
#include "common/sqlite/connection.h"
#include "common/sqlite/database.h"

namespace market::outbox {

// The table the functions below use; services include it in a migration.
// Times are Unix microseconds. `attempts` counts delivery attempts made
// (including a final successful one); `last_error` is the latest failure (kept
// after delivery); `delivered_time` is NULL while the event is pending. The
// partial index serves the relay's scan, Depth() and OldestAge().
inline constexpr char kOutboxSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  destination TEXT NOT NULL,
  payload BLOB NOT NULL,
  create_time INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_time INTEGER NOT NULL,
  last_error TEXT,
  delivered_time INTEGER);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(next_attempt_time, create_time)
  WHERE delivered_time IS NULL;
)sql";

// Per-key ordering, a migration of its own after kOutboxSchema's (existing
// tables have rows; a new one may run both in one migration):
// `ordering_key` is Event::ordering_key (NULL: none). The partial index
// serves Enqueue's look-up of a key's pending events, the hold-back of a
// failed event's successors and the relay's check of each due event.
inline constexpr char kOutboxOrderingSchema[] = R"sql(
ALTER TABLE outbox ADD COLUMN ordering_key TEXT;
CREATE INDEX IF NOT EXISTS outbox_pending_by_key
  ON outbox(destination, ordering_key, next_attempt_time)
  WHERE delivered_time IS NULL AND ordering_key IS NOT NULL;
)sql";

// One event to deliver. `event_id` is globally unique and stable (the
// receiver's idempotency key); `destination` names a Relay deliverer, e.g.
// "credit.RecordEvent"; `payload` is the serialized request (any bytes).
// `ordering_key` names what the event is about (a resource or entity name,
// e.g. "claims/42"): events with the same destination and ordering key are
// delivered one at a time in the order they were enqueued (see Relay); ""
// puts the event in no order.
struct Event {
  std::string event_id;
  std::string destination;
  std::string payload;
  std::string ordering_key;
};

// Adds `event` as pending, due at `now` or, when an earlier event with its
// destination and ordering key is pending and waits for a retry, when that
// one is due (so it never becomes due before it). Call it inside the same
// Database::Write() function as the state change, so the event exists iff the
// change commits. INVALID_ARGUMENT for an empty event_id or destination,
// ALREADY_EXISTS when `event.event_id` is already in the table; otherwise the
// errors of Statement::Step().
absl::Status Enqueue(sqlite::Connection& connection, const Event& event, absl::Time now);

// Deletes delivered events whose delivered_time is before `older_than`;
// pending events are never deleted. Returns how many it deleted. After the
// purge an event id may be enqueued again, so keep delivered rows at least as
// long as receivers remember event ids. Services run it through
// retention::TablePurger. Errors: those of Database::Write().
absl::StatusOr<int64_t> PurgeDelivered(sqlite::Database& db, absl::Time older_than);

struct RelayOptions {
  // Delay after the first failed attempt; each further failure multiplies it
  // by `multiplier` (>= 1) up to `max_backoff`.
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(5);
  double multiplier = 2;
  // Most events one RunOnce() pass reads and delivers (>= 1).
  int batch = 100;
  // Pause of the background thread after a pass that found less than a full
  // batch (a full batch is followed by the next pass at once).
  absl::Duration poll = absl::Milliseconds(200);
  // Up to this fraction of the delay is added as jitter, derived from the
  // event id and attempt number (in [0, 1]; 0 disables it, e.g. in tests).
  double jitter = 0.1;
  // Most deliveries of one pass in flight at once (>= 1): the calling thread
  // and up to concurrency - 1 worker threads the relay keeps once it needed
  // them. 1 delivers one event after another in id order.
  int concurrency = 32;
};

// The delay before the next attempt after the `attempts`-th failed one
// (attempts >= 1): initial_backoff * multiplier^(attempts - 1), capped at
// max_backoff, plus jitter in [0, jitter * that) that is a deterministic
// function of (event_id, attempts), so events spread without an RNG.
absl::Duration RetryDelay(const RelayOptions& options, int attempts, const std::string& event_id);

// Delivers pending outbox events from one database, each to the deliverer
// named by its destination. A pass reads the oldest due events (by id) and
// groups them into chains: the events of one (destination, ordering key), in
// id order, and each event without a key alone. Up to options.concurrency
// events are delivered at once, at most one of a chain: a chain's next event
// is ready when its predecessor was delivered, and a failure ends the chain
// for the pass; when all are done the pass records
// every outcome in one transaction. Thread-safe; passes are serialized, so an
// event is never handed to two deliverers at once. Delivery is at least once:
// an event delivered but not yet marked when the process stops (or when the
// pass's transaction fails) is delivered again, so receivers deduplicate by
// event id.
//
// Order: events of one (destination, ordering key) are never delivered
// concurrently, and an event's first attempt starts only after every earlier
// event of its key was delivered (the deliverer returned OK): a failed event
// holds back the later events of its key (their next_attempt_time moves to
// its retry time, also for events enqueued meanwhile) while other keys' events
// go ahead. Only a repeated delivery (one whose marking was lost, above) can
// reach the receiver after a later event of its key. Events without a key,
// and events of different keys or destinations, are in no order. As the
// order is kept in the table, it holds across restarts.
//
// Failures are never dropped: every error (including an unknown destination)
// is stored in the row's last_error and the event is retried with backoff,
// whatever its code. A failure is logged when the event's attempt count is a
// power of two (1, 2, 4, 8, ...), so a stuck event keeps being reported
// without flooding the log: at "error" level for codes that need a fix rather
// than a wait (INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND,
// PERMISSION_DENIED, and an unknown destination), else at "warn".
class Relay {
 public:
  // Sends one event; OK means the receiver has it (or had it already).
  // Called with no database transaction open, from one pass at a time but
  // from up to options.concurrency threads at once (for events of different
  // ordering keys), so it must be thread-safe (a gRPC stub call is).
  using Deliverer =
      std::function<absl::Status(const std::string& event_id, const std::string& payload)>;

  // `db` and `clock` are not owned and must outlive the relay. `deliverers`
  // maps a destination to its deliverer. Options out of range are clamped
  // (batch >= 1, concurrency >= 1, multiplier >= 1, jitter in [0, 1]).
  Relay(sqlite::Database* db, const Clock* clock, std::map<std::string, Deliverer> deliverers,
        RelayOptions options = {});
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;
  // Stops the background thread, if any, and the delivery workers.
  ~Relay();

  // Tries every due pending event (next_attempt_time <= clock->Now()), up to
  // options.batch of them, the oldest ids first, options.concurrency chains
  // at once (events after a failed one of its chain are not tried); then
  // marks each tried event delivered or rescheduled (a rescheduled event with
  // its key's later events), all in one Write(). Returns how
  // many were delivered. Errors: those of Database::Read()/Write(); when the
  // Write() fails no attempt of the pass is recorded, so its events (even the
  // delivered ones) are tried again by a later pass.
  absl::StatusOr<int> RunOnce() ABSL_LOCKS_EXCLUDED(run_mu_);

  // Runs RunOnce() on a background thread every options.poll until Stop() or
  // destruction; errors are logged. No-op when already started.
  void Start() ABSL_LOCKS_EXCLUDED(thread_mu_, stop_mu_);
  // Stops the background thread, waiting at most for the deliveries in
  // progress (which the pass then records); Start() may be called again
  // afterwards. No-op when not started.
  void Stop() ABSL_LOCKS_EXCLUDED(thread_mu_, stop_mu_);

  // Pending (undelivered) events; -1 when the database cannot be read.
  int64_t Depth() const;
  // Age of the oldest pending event by create_time (zero when none is
  // pending); InfiniteDuration when the database cannot be read.
  absl::Duration OldestAge() const;

  // Registers gauges `market_<prefix>_outbox_depth` and
  // `market_<prefix>_outbox_oldest_age_seconds` (Depth() and OldestAge(); both -1
  // when the database cannot be read). The relay must outlive every later
  // metrics->Render().
  void ExportMetrics(server::Metrics* metrics, const std::string& prefix) const;

 private:
  struct Pass {
    int delivered = 0;
    bool full = false;  // options.batch events were due
  };
  // Runs a pass's deliveries on several threads (outbox.cc).
  class Workers;

  // One RunOnce() pass; a background pass ends early when Stop() is called.
  absl::StatusOr<Pass> RunPass(bool background) ABSL_LOCKS_EXCLUDED(run_mu_);
  void Loop() ABSL_LOCKS_EXCLUDED(stop_mu_);
  bool StopRequested() const ABSL_LOCKS_EXCLUDED(stop_mu_);

  sqlite::Database* const db_;
  const Clock* const clock_;
  const std::map<std::string, Deliverer> deliverers_;
  const RelayOptions options_;

  // Serializes passes (so an event is never delivered by two at once).
  absl::Mutex run_mu_;
  // Started on the first pass that needs them; used under run_mu_.
  std::unique_ptr<Workers> workers_ ABSL_GUARDED_BY(run_mu_);

  // Guards the thread's lifetime; held by Start()/Stop(), never by the thread.
  absl::Mutex thread_mu_;
  std::thread thread_ ABSL_GUARDED_BY(thread_mu_);

  mutable absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace market::outbox

#endif  // MARKET_COMMON_OUTBOX_OUTBOX_H_
