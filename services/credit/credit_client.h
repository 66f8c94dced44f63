// What other services need of the credit service, owned by it: the outbox
// deliverer that hands credit events (credit_events.h) to
// CreditService.RecordEvent as a SERVICE subject, with the outbox event id as
// the ledger's idempotency key, so redelivery changes nothing. Built on the
// in-process channel under marketd and on a TCP channel in split mode.
// Thread-safe.
#ifndef MARKET_SERVICES_CREDIT_CREDIT_CLIENT_H_
#define MARKET_SERVICES_CREDIT_CREDIT_CLIENT_H_

#include <memory>

#include "common/client/peer.h"
#include "common/outbox/outbox.h"
#include "grpcpp/channel.h"
#include "services/credit/credit_events.h"

namespace market::credit {

// A Relay deliverer for kCreditDestination calling RecordEvent on `channel`
// (client::kPeerDeadline). OK also when the ledger already holds the event
// (same event id and content); DATA_LOSS for a payload that does not parse;
// otherwise the credit service's status (the relay retries).
outbox::Relay::Deliverer CreditDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         client::TokenSource token);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CREDIT_CLIENT_H_
