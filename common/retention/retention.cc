#include "common/retention/retention.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

#include "common/idempotency/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/server/log.h"
#include "common/sqlite/statement.h"
#include "common/status/status.h"

namespace market::retention {
namespace {

absl::StatusOr<int64_t> Count(sqlite::Connection& c, const char* sql) {
  MARKET_ASSIGN_OR_RETURN(sqlite::Statement select, c.Prepare(sql));
  MARKET_RETURN_IF_ERROR(select.Step().status());
  return select.ColumnInt64(0);
}

}  // namespace

void AddRetentionFlags(CLI::App& app, RetentionOptions* options) {
  app.add_option_function<double>(
         "--request-id-retention-hours",
         [options](double h) { options->request_ids = absl::Hours(h); },
         "Hours a request id's first response is kept and replayed (at least 24)")
      ->check(CLI::Range(absl::ToDoubleHours(kRequestIdRetention), 24.0 * 3650))
      ->default_str(absl::StrCat(absl::ToDoubleHours(options->request_ids)));
  app.add_option_function<double>(
         "--delivered-event-retention-days",
         [options](double d) { options->delivered_events = absl::Hours(24 * d); },
         "Days delivered outbox events are kept (pending ones are never deleted)")
      ->check(CLI::Range(1.0 / 24, 3650.0))
      ->default_str(absl::StrCat(absl::ToDoubleHours(options->delivered_events) / 24));
  app.add_option_function<double>(
         "--purge-period", [options](double s) { options->period = absl::Seconds(s); },
         "Seconds between purges of old request ids and delivered outbox events")
      ->check(CLI::Range(0.1, 86400.0))
      ->default_str(absl::StrCat(absl::ToDoubleSeconds(options->period)));
}

TablePurger::TablePurger(std::string service, sqlite::Database* db, const Clock* clock,
                         Tables tables)
    : service_(std::move(service)),
      db_(db),
      clock_(clock),
      tables_(tables),
      job_(service_ + " old request ids and delivered outbox events purged",
           [this] { return PurgeOnce(); }) {}

absl::StatusOr<int> TablePurger::PurgeOnce() {
  RetentionOptions options;
  {
    absl::MutexLock lock(&mu_);
    options = options_;
  }
  const absl::Time now = clock_->Now();
  int64_t deleted = 0;
  if (tables_.outbox) {
    MARKET_ASSIGN_OR_RETURN(int64_t n,
                            outbox::PurgeDelivered(*db_, now - options.delivered_events));
    deleted += n;
  }
  if (tables_.finished) {
    MARKET_RETURN_IF_ERROR(db_->Write([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(int64_t n, tables_.finished(c, now - options.delivered_events));
      deleted += n;
      return absl::OkStatus();
    }));
  }
  if (tables_.idempotency) {
    MARKET_RETURN_IF_ERROR(db_->Write([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(int64_t n, PurgeOlderThan(c, now - options.request_ids));
      deleted += n;
      return absl::OkStatus();
    }));
  }
  return static_cast<int>(deleted);
}

void TablePurger::Start(const RetentionOptions& options) {
  {
    absl::MutexLock lock(&mu_);
    options_ = options;
  }
  job_.Start(options.period);
}

void TablePurger::Stop() { job_.Stop(); }

absl::StatusOr<TableSizes> TablePurger::Sizes() const {
  TableSizes sizes;
  MARKET_RETURN_IF_ERROR(db_->Read([&](sqlite::Connection& c) -> absl::Status {
    if (tables_.outbox) {
      MARKET_ASSIGN_OR_RETURN(
          sizes.pending_events,
          Count(c, "SELECT count(*) FROM outbox WHERE delivered_time IS NULL"));
      MARKET_ASSIGN_OR_RETURN(
          sizes.delivered_events,
          Count(c, "SELECT count(*) FROM outbox WHERE delivered_time IS NOT NULL"));
    }
    if (tables_.idempotency) {
      MARKET_ASSIGN_OR_RETURN(sizes.idempotency_keys,
                              Count(c, "SELECT count(*) FROM idempotency"));
    }
    return absl::OkStatus();
  }));
  return sizes;
}

void TablePurger::ExportMetrics(server::Metrics* metrics) const {
  auto gauge = [this](int64_t TableSizes::*field) {
    return [this, field]() -> double {
      absl::StatusOr<TableSizes> sizes = Sizes();
      if (!sizes.ok()) {
        server::LogJson("error", "table sizes unreadable",
                        {{"service", service_}, {"error", sizes.status().ToString()}});
        return -1;
      }
      return static_cast<double>((*sizes).*field);
    };
  };
  const std::map<std::string, std::string> labels = {{"service", service_}};
  if (tables_.outbox) {
    metrics->AddGauge("market_outbox_pending_events",
                      "Outbox events not yet delivered (-1: database unreadable).", labels,
                      gauge(&TableSizes::pending_events));
    metrics->AddGauge("market_outbox_delivered_events",
                      "Delivered outbox events still kept (purged after the retention; -1: "
                      "database unreadable).",
                      labels, gauge(&TableSizes::delivered_events));
  }
  if (tables_.idempotency) {
    metrics->AddGauge("market_idempotency_keys",
                      "Request ids whose first response is kept for replay (purged after the "
                      "retention; -1: database unreadable).",
                      labels, gauge(&TableSizes::idempotency_keys));
  }
}

}  // namespace market::retention
