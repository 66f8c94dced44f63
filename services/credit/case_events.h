// The case queue's event schema (market.supervision.v1, hosted by the credit
// service) for the services whose changes open supervision cases (listing:
// mileage rollback; warranty: claim escalated or overdue; appraisal:
// dispute): the case is written to the sender's transactional outbox in the
// same transaction as the change, and a Relay delivers it to
// CaseService.RecordCaseEvent (case_client.h). As thread-safe as the
// connection.
#ifndef MARKET_SERVICES_CREDIT_CASE_EVENTS_H_
#define MARKET_SERVICES_CREDIT_CASE_EVENTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/sqlite/connection.h"
#include "market/supervision/v1/supervision.pb.h"

namespace market::credit {

// Outbox destination of case events: the payload is a serialized
// supervision.v1.RecordCaseEventRequest whose event_id is the outbox event id.
inline constexpr char kCaseDestination[] = "supervision.RecordCaseEvent";

// Writes `c` (kind, subjects, resource; market, region_code, summary) as a
// pending case event with `event_id`, in the caller's transaction; a summary
// longer than 500 characters is cut to 500 (at a character boundary), so an
// event never fails validation at the receiver for its length. An event
// id already in the outbox is kept as it is (OK). The resource is the outbox
// ordering key. Errors: those of outbox::Enqueue.
absl::Status EnqueueCaseEvent(sqlite::Connection& connection, const std::string& event_id,
                              supervision::v1::Case c, absl::Time now);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CASE_EVENTS_H_
