// The credit service's event schema for the services that cause credit
// events (listing, appraisal, warranty): a record is written to the sender's
// transactional outbox in the same transaction as the change that causes it,
// and a Relay delivers it to CreditService.RecordEvent (see credit_client.h).
// As thread-safe as the connection.
#ifndef MARKET_SERVICES_CREDIT_CREDIT_EVENTS_H_
#define MARKET_SERVICES_CREDIT_CREDIT_EVENTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/sqlite/connection.h"
#include "market/credit/v1/credit.pb.h"

namespace market::credit {

// Outbox destination of credit events: the payload is a serialized
// credit.v1.RecordEventRequest whose record.event_id is the outbox event id.
inline constexpr char kCreditDestination[] = "credit.RecordEvent";

// Writes `record` as a pending credit event with `event_id` (also set as
// record.event_id), in the caller's transaction; its subject and reference
// make the outbox ordering key (none without a reference). Errors: those of
// outbox::Enqueue (ALREADY_EXISTS for a reused event id).
absl::Status EnqueueCreditEvent(sqlite::Connection& c, const std::string& event_id,
                                v1::Record record, absl::Time now);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CREDIT_EVENTS_H_
