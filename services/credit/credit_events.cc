#include "services/credit/credit_events.h"

#include <utility>

#include "common/outbox/outbox.h"

namespace market::credit {

absl::Status EnqueueCreditEvent(sqlite::Connection& c, const std::string& event_id,
                                v1::Record record, absl::Time now) {
  record.set_event_id(event_id);
  v1::RecordEventRequest req;
  *req.mutable_record() = std::move(record);
  return outbox::Enqueue(c,
                         outbox::Event{event_id, kCreditDestination, req.SerializeAsString(),
                                       req.record().reference()},
                         now);
}

}  // namespace market::credit
