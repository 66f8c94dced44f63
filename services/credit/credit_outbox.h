// credit.db's transactional outbox (issues #13, #14): what the ledger tells
// other services, written in the same SQLite transaction as every append
// (SqliteCreditStore's batched and in-transaction paths alike), so an event
// exists iff its records committed:
//   - stats (stats::kFiguresDestination): one CreditRecordSnapshot per appended
//     record (entity "ledgers/main/records/{index}", version 1) and one
//     CreditStandingSnapshot per subject appended to (entity
//     "subjects/{s}/creditProfile", version = tree size after the append):
//     the subject's standing under credit-policy-v1 from the append on, as
//     time segments (ledger::StandingFrom), also stored in table
//     standing_segments (replaced per subject on each append);
//   - webhooks (webhook::kWebhookDestination): "subject.blacklisted" /
//     "subject.redlisted" when a subject ENTERS the black or red list. An
//     entry the append itself causes is enqueued with it; an entry that time
//     causes later (a negative record leaving the trailing 365 days) is a
//     future segment, enqueued by PublishDueListEntries (the credit
//     scheduler) once its start has passed. Event ids are
//     "subject-blacklisted:{subject}@{start unix micros}" (and
//     "subject-redlisted:…"), so a repeat enqueues nothing new.
// Audience: supervisors' webhooks receive every entry (the event names no
// audience in credit.db). For a SELLER, the operators of the markets where it
// is admitted also receive it: the lists are public (ListBlacklist /
// ListRedlist) and operators act on them (listing refuses blacklisted
// sellers). The operators are looked up when the event is relayed
// (WithSellerOperators), not inside the ledger's write transaction, so a
// listing-service outage delays these events (retried) but never an append.
#ifndef MARKET_SERVICES_CREDIT_CREDIT_OUTBOX_H_
#define MARKET_SERVICES_CREDIT_CREDIT_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/outbox/outbox.h"
#include "common/sqlite/connection.h"
#include "market/credit/v1/credit.pb.h"

namespace market::credit {

// Migration 4 of credit.db: the outbox and each subject's standing segments.
// `published` is 0 only for a future segment entering a list whose events are
// not yet enqueued.
inline constexpr char kStandingSchema[] = R"sql(
CREATE TABLE standing_segments (
  subject TEXT NOT NULL,
  start_time INTEGER NOT NULL,  -- Unix micros
  level INTEGER NOT NULL,
  blacklisted INTEGER NOT NULL,
  redlisted INTEGER NOT NULL,
  blacklist_record INTEGER,     -- ledger index of the blacklisting record, or NULL
  subject_role INTEGER NOT NULL,
  version INTEGER NOT NULL,     -- tree size the segments were computed at
  enters_blacklist INTEGER NOT NULL,
  enters_redlist INTEGER NOT NULL,
  published INTEGER NOT NULL,
  PRIMARY KEY (subject, start_time)
) WITHOUT ROWID;
CREATE INDEX standing_entries_due ON standing_segments(start_time) WHERE published = 0;
)sql";

// Migration 5 of credit.db: the columns of `records` the standing computation
// reads besides type, tier, occurred and concludes, and an index holding all
// of them, so an append reads its subject's records from the index alone
// instead of each record's row and leaf. `counterparty` is '' for none and
// NULL in rows written before migration 5 (their leaf is read instead);
// `occurred_nanos` is occurred_time's nanos (`occurred` holds micros), NULL
// without an occurred_time.
inline constexpr char kStandingInputsSchema[] = R"sql(
ALTER TABLE records ADD COLUMN counterparty TEXT;
ALTER TABLE records ADD COLUMN occurred_nanos INTEGER;
CREATE INDEX records_standing ON records(subject, idx, occurred, concludes, type, tier,
                                         counterparty, occurred_nanos);
)sql";

// A row of standing_segments.
struct StoredSegment {
  absl::Time start;
  v1::CreditProfile::Level level = v1::CreditProfile::LEVEL_UNSPECIFIED;
  bool blacklisted = false;
  bool redlisted = false;
  int64_t blacklist_record = -1;
  bool enters_blacklist = false;
  bool enters_redlist = false;
  bool published = true;
};

// Inside the appending transaction on `c`, after `appended` (records newly
// stored by it, index set, in index order) were inserted and the tree has
// `size` leaves: enqueues their stats and webhook events and replaces their
// subjects' standing segments. Each subject's standing is computed from its
// latest appended record's recorded_time (occurred_time when unset).
// Errors fail the whole transaction.
absl::Status EnqueueAppendEvents(sqlite::Connection& c, const std::vector<const v1::Record*>& appended,
                                 int64_t size);

// Enqueues the webhook events of stored list entries whose start is at or
// before `now` and that are not yet published (all subjects, or `subject`),
// and marks them published. Returns how many segments it published.
absl::StatusOr<int> PublishDueListEntries(sqlite::Connection& c, absl::Time now,
                                          const std::optional<std::string>& subject = std::nullopt);

// The stored standing segments of `subject`, in time order.
absl::StatusOr<std::vector<StoredSegment>> ReadStandingSegments(sqlite::Connection& c,
                                                                const std::string& subject);

// Wraps the webhook deliverer of credit.db's relay: a list-entry event about
// a subject whose role is SELLER gets the operators of the seller's markets
// (`operators`, e.g. ListingClient::OperatorsOfSeller) as its audience, up to
// 16, before `inner` publishes it. A failed lookup fails the attempt (the
// relay retries), so operators are never silently left out.
outbox::Relay::Deliverer WithSellerOperators(
    outbox::Relay::Deliverer inner,
    std::function<absl::StatusOr<std::vector<std::string>>(const std::string& seller)> operators);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CREDIT_OUTBOX_H_
