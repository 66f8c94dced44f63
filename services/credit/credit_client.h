// What other services need of the credit service, owned by it: the outbox
// deliverer that hands credit events (credit_events.h) to
// CreditService.RecordEvent as a SERVICE subject, with the outbox event id as
// the ledger's idempotency key, so redelivery changes nothing; and the
// CreditClient that answers "may this subject do this now?" under
// restriction-policy-v1 and reads the black and red lists. Built on the
// in-process channel under marketd and on a TCP channel in split mode.
// Thread-safe.
#ifndef MARKET_SERVICES_CREDIT_CREDIT_CLIENT_H_
#define MARKET_SERVICES_CREDIT_CREDIT_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/client/peer.h"
#include "common/outbox/outbox.h"
#include "grpcpp/channel.h"
#include "ledger/restriction_policy.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "services/credit/credit_events.h"

namespace market::credit {

// A Relay deliverer for kCreditDestination calling RecordEvent on `channel`
// (client::kPeerDeadline). OK also when the ledger already holds the event
// (same event id and content); DATA_LOSS for a payload that does not parse;
// otherwise the credit service's status (the relay retries).
outbox::Relay::Deliverer CreditDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         client::TokenSource token);

// Asks the credit service, as a SERVICE subject, at the moment of an action.
// Errors are mapped once (client::PeerError): anything but an unknown subject
// is UNAVAILABLE, so a credit outage refuses restricted actions retryably
// rather than letting a blacklisted subject through.
// Services hold its two questions as functions (ledger::CreditStandingLookup,
// CreditListSource), so marketd can wire them before its in-process channel
// exists.
class CreditClient {
 public:
  CreditClient(std::shared_ptr<grpc::Channel> channel, client::TokenSource token);

  // The subject's list membership now (GetCreditProfile; the blacklisting
  // record from CreditProfile.blacklist_record). A subject the credit service
  // does not know (NOT_FOUND) is on no list.
  absl::StatusOr<ledger::CreditStanding> Standing(const std::string& subject) const;

  // Standing() of every subject, asked concurrently (one GetCreditProfile
  // each, all in flight at once on the async stub): the answers in the
  // order of `subjects`, each as Standing() would give it.
  std::vector<absl::StatusOr<ledger::CreditStanding>> Standings(
      const std::vector<std::string>& subjects) const;

  // Every entry of the black list (`black`) or of the red list, all pages.
  absl::StatusOr<std::vector<v1::CreditListEntry>> ListEntries(bool black) const;

 private:
  client::TokenSource token_;
  std::unique_ptr<v1::CreditService::Stub> stub_;
};

// CreditClient::Standings as a function (wired like ledger::CreditStandingLookup).
using CreditStandingsLookup = std::function<std::vector<absl::StatusOr<ledger::CreditStanding>>(
    const std::vector<std::string>& subjects)>;

// Every entry of the black list (true) or the red list (false).
using CreditListSource =
    std::function<absl::StatusOr<std::vector<v1::CreditListEntry>>(bool black)>;

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CREDIT_CLIENT_H_
