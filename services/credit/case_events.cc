#include "services/credit/case_events.h"

#include <utility>

#include "common/outbox/outbox.h"

namespace market::credit {

absl::Status EnqueueCaseEvent(sqlite::Connection& connection, const std::string& event_id,
                              supervision::v1::Case c, absl::Time now) {
  supervision::v1::RecordCaseEventRequest req;
  req.set_event_id(event_id);
  *req.mutable_case_() = std::move(c);
  absl::Status s = outbox::Enqueue(
      connection, outbox::Event{event_id, kCaseDestination, req.SerializeAsString()}, now);
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

}  // namespace market::credit
