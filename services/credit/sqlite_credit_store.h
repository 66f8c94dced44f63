// CreditStore on one SQLite file (credit.db, synchronous=FULL): records with
// the exact leaf bytes, perfect-subtree hashes (table `nodes`), checkpoints,
// repair applications, the access log and the outbox (credit_outbox.h: every
// append enqueues its stats and list-entry events in its own transaction).
// Thread-safe.
//
// Appends are group-committed: concurrent Append() calls are coalesced
// (sqlite::Coalescer, at most kMaxAppendBatch records) into one write
// transaction that stores every leaf and subtree hash of the batch and ONE
// checkpoint signed for the batch's final size; each caller gets its index, that
// checkpoint and an inclusion proof against it, after the COMMIT is durable.
#ifndef MARKET_SERVICES_CREDIT_SQLITE_CREDIT_STORE_H_
#define MARKET_SERVICES_CREDIT_SQLITE_CREDIT_STORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/sqlite/coalescer.h"
#include "common/sqlite/database.h"
#include "services/credit/credit_outbox.h"
#include "services/credit/credit_store.h"

namespace market::credit {

// Counters of the append path since Open().
struct AppendStats {
  uint64_t appends = 0;      // Append() calls settled (existing event ids included)
  uint64_t batches = 0;      // transactions the coalesced appends ran in
  uint64_t checkpoints = 0;  // checkpoints signed for appended records
};

class SqliteCreditStore final : public CreditStore {
 public:
  // Most Append() calls one transaction (and one checkpoint) takes.
  static constexpr size_t kMaxAppendBatch = 256;

  // Opens (creating and migrating) `path`; ":memory:" works. `signer` signs
  // every new checkpoint.
  static absl::StatusOr<std::unique_ptr<SqliteCreditStore>> Open(const std::string& path,
                                                                 CheckpointSigner signer);

  absl::StatusOr<AppendResult> Append(const Record& record) override;
  absl::StatusOr<int64_t> Size() override;
  absl::StatusOr<StoredCheckpoint> Resign() override;
  absl::StatusOr<StoredCheckpoint> LatestCheckpoint() override;
  absl::StatusOr<Hash> RootHash(int64_t size) override;
  absl::StatusOr<std::vector<StoredEntry>> GetEntries(int64_t start, int64_t end) override;
  absl::StatusOr<std::string> TileHashes(int level, int64_t index, int width) override;
  absl::StatusOr<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) override;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(int64_t size1, int64_t size2) override;
  absl::StatusOr<Record> GetRecord(int64_t index) override;
  absl::StatusOr<std::vector<Record>> RecordsOfSubject(const std::string& subject) override;
  absl::StatusOr<std::vector<Record>> ListRecords(const RecordFilter& filter, int64_t after,
                                                  int limit) override;
  absl::StatusOr<std::vector<std::string>> Subjects() override;
  absl::Status AddAccessLog(const AccessLogEntry& entry) override;
  absl::StatusOr<std::vector<std::pair<int64_t, AccessLogEntry>>> ListAccessLog(
      const std::string& subject, const std::string& reader, int64_t before,
      int limit) override;
  absl::StatusOr<RepairApplication> CreateRepair(const RepairApplication& application,
                                                 const RequestKey& key, absl::Time now) override;
  absl::StatusOr<RepairApplication> GetRepair(const std::string& name) override;
  absl::StatusOr<RepairApplication> RuleOnRepair(
      const std::string& name,
      const std::function<absl::StatusOr<std::optional<Record>>(const RepairApplication&)>& decide,
      const std::function<void(RepairApplication&, std::optional<int64_t>)>& apply,
      const RequestKey& key, absl::Time now) override;

  absl::StatusOr<int> PublishDueListEntries(absl::Time now) override;

  // The stored standing segments of `subject` (credit_outbox.h), in time order.
  absl::StatusOr<std::vector<StoredSegment>> StandingSegments(const std::string& subject);
  sqlite::Database* database() { return db_.get(); }
  // Append() inside a write transaction the caller runs on database() (the
  // case queue closes a case and appends its record in one transaction).
  // Not coalesced: the record gets its own checkpoint.
  absl::StatusOr<AppendResult> AppendInTransaction(sqlite::Connection& c, const Record& record);
  AppendStats GetAppendStats() const;
  // Append() calls waiting for the batch in progress (a queue-depth metric).
  size_t QueuedAppends() const { return appenders_.Queued(); }

 private:
  struct PendingAppend {
    const Record* record;
    absl::StatusOr<AppendResult> result;
  };

  SqliteCreditStore(std::unique_ptr<sqlite::Database> db, CheckpointSigner signer)
      : db_(std::move(db)), signer_(std::move(signer)), appenders_(kMaxAppendBatch) {}
  // Appends `records` in order inside the caller's transaction on `c`: one
  // result per record (a record's own error, e.g. ALREADY_EXISTS, leaves the
  // others appended), and one signed checkpoint covering all of them. The
  // returned status is an error only when the whole transaction must fail.
  absl::StatusOr<std::vector<absl::StatusOr<AppendResult>>> AppendBatchIn(
      sqlite::Connection& c, std::span<const Record* const> records);
  absl::StatusOr<AppendResult> AppendIn(sqlite::Connection& c, const Record& record);
  // Runs one coalesced batch of Append() calls in one transaction.
  void CommitAppends(std::span<PendingAppend* const> batch);

  std::unique_ptr<sqlite::Database> db_;
  CheckpointSigner signer_;
  sqlite::Coalescer<PendingAppend> appenders_;
  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> checkpoints_{0};
};

// The record's content bytes (the v1 leaf, now committed to by the v2 leaf):
// its deterministic protobuf serialization with `name` cleared.
std::string LeafBytes(const Record& record);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_SQLITE_CREDIT_STORE_H_
