#include "services/stats/stats_events.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/outbox/outbox.h"
#include "common/status/status.h"

namespace market::stats {

absl::Status EnqueueTradeEvent(sqlite::Connection& c, const v1::TradeEvent& event,
                               absl::Time now) {
  v1::RecordTradeEventRequest req;
  req.set_event_id(absl::StrCat("stats-", v1::TradeEvent::Kind_Name(event.kind()), "-",
                                event.order()));
  *req.mutable_event() = event;
  return outbox::Enqueue(
      c, outbox::Event{req.event_id(), kStatsDestination, req.SerializeAsString(), event.order()},
      now);
}

absl::Status EnqueueFigureEvent(sqlite::Connection& c, const v1::FigureSnapshot& snapshot,
                                absl::Time now) {
  v1::RecordStatsEventRequest req;
  const std::string& entity = snapshot.entity();
  req.set_event_id(absl::StrCat(
      "stats-", entity.size() <= 100 ? entity : HexEncode(Sha256(entity)), "@", snapshot.version()));
  *req.mutable_snapshot() = snapshot;
  const std::string payload = req.SerializeAsString();
  absl::Status s =
      outbox::Enqueue(c, outbox::Event{req.event_id(), kFiguresDestination, payload, entity}, now);
  if (!absl::IsAlreadyExists(s)) return s;
  // Saved again at the same version in one transaction: the pending event
  // carries the latest snapshot.
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Statement st,
      c.Prepare("UPDATE outbox SET payload = ?1 WHERE event_id = ?2 AND delivered_time IS NULL"));
  MARKET_RETURN_IF_ERROR(st.BindBlob(1, payload));
  MARKET_RETURN_IF_ERROR(st.BindText(2, req.event_id()));
  return st.Run();
}

}  // namespace market::stats
