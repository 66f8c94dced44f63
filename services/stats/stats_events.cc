#include "services/stats/stats_events.h"

#include "absl/strings/str_cat.h"
#include "common/outbox/outbox.h"

namespace market::stats {

absl::Status EnqueueTradeEvent(sqlite::Connection& c, const v1::TradeEvent& event,
                               absl::Time now) {
  v1::RecordTradeEventRequest req;
  req.set_event_id(absl::StrCat("stats-", v1::TradeEvent::Kind_Name(event.kind()), "-",
                                event.order()));
  *req.mutable_event() = event;
  return outbox::Enqueue(c, outbox::Event{req.event_id(), kStatsDestination, req.SerializeAsString()},
                         now);
}

}  // namespace market::stats
