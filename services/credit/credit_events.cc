#include "services/credit/credit_events.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/outbox/outbox.h"

namespace market::credit {

absl::Status EnqueueCreditEvent(sqlite::Connection& c, const std::string& event_id,
                                v1::Record record, absl::Time now) {
  record.set_event_id(event_id);
  v1::RecordEventRequest req;
  *req.mutable_record() = std::move(record);
  // Ordered per subject and cause: a trade's buyer and seller records go
  // side by side, a claim's records about its seller one after the other.
  const v1::Record& r = req.record();
  std::string key = r.reference().empty() ? "" : absl::StrCat(r.subject(), " ", r.reference());
  return outbox::Enqueue(c,
                         outbox::Event{event_id, kCreditDestination, req.SerializeAsString(),
                                       std::move(key)},
                         now);
}

}  // namespace market::credit
