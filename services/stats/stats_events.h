// The statistics service's event schema for listing: an order state change
// (placed, completed, cancelled) is written to listing's outbox in the same
// transaction as the change, and a Relay delivers it to
// StatisticsService.RecordTradeEvent (StatsDeliverer in stats_client.h).
// As thread-safe as the connection.
#ifndef MARKET_SERVICES_STATS_STATS_EVENTS_H_
#define MARKET_SERVICES_STATS_STATS_EVENTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/sqlite/connection.h"
#include "market/stats/v1/stats.pb.h"

namespace market::stats {

// Outbox destination: the payload is a serialized stats.v1.RecordTradeEventRequest.
inline constexpr char kStatsDestination[] = "stats.RecordTradeEvent";

// Writes `event` as pending, with event id "stats-{kind}-{order}" (one per
// order and kind; the order is the outbox ordering key), in the caller's
// transaction. Errors: those of outbox::Enqueue.
absl::Status EnqueueTradeEvent(sqlite::Connection& c, const v1::TradeEvent& event, absl::Time now);

// Outbox destination of entity snapshots (claims, appraisals, disputes,
// listings): the payload is a serialized stats.v1.RecordStatsEventRequest.
inline constexpr char kFiguresDestination[] = "stats.RecordStatsEvent";

// Writes `snapshot` as pending, with event id "stats-{entity}@{version}"
// (names longer than 100 characters are hashed) and the entity as the outbox
// ordering key, in the caller's transaction. Written again for the same version before delivery, the
// pending event's snapshot is replaced.
absl::Status EnqueueFigureEvent(sqlite::Connection& c, const v1::FigureSnapshot& snapshot,
                                absl::Time now);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_STATS_EVENTS_H_
