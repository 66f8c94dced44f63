// Keeps a service database's bounded tables bounded: delivered outbox events
// and stored request-id responses (idempotency) are deleted once older than
// their retention, by a PeriodicJob on the service's injected clock, and the
// tables' sizes are exported as gauges. Pending outbox events are never
// deleted. TablePurger is thread-safe.
#ifndef MARKET_COMMON_RETENTION_RETENTION_H_
#define MARKET_COMMON_RETENTION_RETENTION_H_

#include <cstdint>
#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock/clock.h"
#include "common/server/metrics.h"
#include "common/server/periodic.h"
#include "common/sqlite/database.h"

namespace market::retention {

// How long a request id's first response is kept and replayed: 24 hours, the
// window payment APIs give (Stripe keeps idempotency keys 24 h), so a client
// may retry a mutation for a day and get the original response. Never less.
inline constexpr absl::Duration kRequestIdRetention = absl::Hours(24);
// How long delivered outbox events are kept: 7 days, to see what was sent
// and when while investigating. Receivers deduplicate redeliveries by event
// id; an event is only redelivered while pending, which is never purged.
inline constexpr absl::Duration kDeliveredEventRetention = absl::Hours(7 * 24);
// How often the purge runs.
inline constexpr absl::Duration kPurgePeriod = absl::Hours(1);

struct RetentionOptions {
  absl::Duration request_ids = kRequestIdRetention;          // >= kRequestIdRetention
  absl::Duration delivered_events = kDeliveredEventRetention;  // > 0
  absl::Duration period = kPurgePeriod;                        // > 0
};

// Adds --request-id-retention-hours (>= 24), --delivered-event-retention-days
// and --purge-period (seconds) to `app`, writing into `options`.
void AddRetentionFlags(CLI::App& app, RetentionOptions* options);

// A service's own purge of finished work (e.g. webhook deliveries delivered
// or given up): deletes, in the purge's write transaction `c`, the rows that
// finished before `before` (now - RetentionOptions::delivered_events) and
// returns how many; never an unfinished row.
using PurgeFinishedFn =
    std::function<absl::StatusOr<int64_t>(sqlite::Connection& c, absl::Time before)>;

// Which of the bounded tables a database holds.
struct Tables {
  bool outbox = false;       // outbox::kOutboxSchema
  bool idempotency = false;  // kIdempotencySchema
  PurgeFinishedFn finished;  // none when empty
};

// Row counts of the bounded tables (0 for a table the database lacks).
struct TableSizes {
  int64_t pending_events = 0;
  int64_t delivered_events = 0;
  int64_t idempotency_keys = 0;
};

class TablePurger {
 public:
  // `service` names the database in logs and in the gauges' service label
  // ("listing"); `db` and `clock` are not owned and must outlive the purger.
  TablePurger(std::string service, sqlite::Database* db, const Clock* clock, Tables tables);
  TablePurger(const TablePurger&) = delete;
  TablePurger& operator=(const TablePurger&) = delete;
  ~TablePurger() { Stop(); }

  // Deletes delivered outbox events delivered before now - delivered_events
  // (and the finished rows of tables.finished before then) and request ids
  // stored before now - request_ids (clock->Now()); returns
  // how many rows it deleted. Errors: those of Database::Write().
  absl::StatusOr<int> PurgeOnce() ABSL_LOCKS_EXCLUDED(mu_);

  // Runs PurgeOnce() every options.period until Stop() (the first run one
  // period after the start); the options also apply to later PurgeOnce()
  // calls. No-op when already running.
  void Start(const RetentionOptions& options = {}) ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the job, waiting for a run in progress. Idempotent.
  void Stop();

  // The scheduled job, to wait for its runs in tests (PeriodicJob::AwaitRuns).
  const server::PeriodicJob& job() const { return job_; }

  // Counts the tables' rows. Errors: those of Database::Read().
  absl::StatusOr<TableSizes> Sizes() const;

  // Registers market_outbox_pending_events and market_outbox_delivered_events
  // (when the database has an outbox) and market_idempotency_keys (when it
  // has request ids), labelled service="<service>"; -1 when the database
  // cannot be read. The purger must outlive every later metrics->Render().
  void ExportMetrics(server::Metrics* metrics) const;

 private:
  const std::string service_;
  sqlite::Database* const db_;
  const Clock* const clock_;
  const Tables tables_;
  absl::Mutex mu_;
  RetentionOptions options_ ABSL_GUARDED_BY(mu_);
  server::PeriodicJob job_;
};

}  // namespace market::retention

#endif  // MARKET_COMMON_RETENTION_RETENTION_H_
