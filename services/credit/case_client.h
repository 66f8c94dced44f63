// What other services need of the case queue (market.supervision.v1, served
// by the credit process): the outbox deliverer that hands case events
// (case_events.h) to CaseService.RecordCaseEvent as a SERVICE subject, with
// the outbox event id as the idempotency key, so redelivery opens no second
// case. Built on the in-process channel under marketd and on the channel to
// market-credit in split mode. Thread-safe.
#ifndef MARKET_SERVICES_CREDIT_CASE_CLIENT_H_
#define MARKET_SERVICES_CREDIT_CASE_CLIENT_H_

#include <memory>

#include "common/client/peer.h"
#include "common/outbox/outbox.h"
#include "grpcpp/channel.h"
#include "services/credit/case_events.h"

namespace market::credit {

// A Relay deliverer for kCaseDestination calling RecordCaseEvent on `channel`
// (client::kPeerDeadline). DATA_LOSS for a payload that does not parse;
// otherwise the case service's status (the relay retries).
outbox::Relay::Deliverer CaseEventDeliverer(std::shared_ptr<grpc::Channel> channel,
                                            client::TokenSource token);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CASE_CLIENT_H_
