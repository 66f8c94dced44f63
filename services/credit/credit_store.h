// Storage interface of the credit service: the append-only ledger (records,
// stored perfect-subtree hashes, signed checkpoints), repair applications and
// the access log. Implementations are thread-safe; every append is durable
// before it returns.
#ifndef MARKET_SERVICES_CREDIT_CREDIT_STORE_H_
#define MARKET_SERVICES_CREDIT_CREDIT_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/idempotency/idempotency.h"
#include "ledger/merkle_tree.h"
#include "market/credit/v1/credit.pb.h"

namespace market::credit {

using ledger::Hash;
using v1::AccessLogEntry;
using v1::Record;
using v1::RepairApplication;

// Signs a checkpoint for (size, root); returns the whole signed note.
using CheckpointSigner = std::function<absl::StatusOr<std::string>(int64_t size, const Hash& root)>;

struct StoredCheckpoint {
  int64_t size = 0;
  Hash root;
  std::string note;
};

struct AppendResult {
  Record record;          // as stored, with index and times
  bool existed = false;   // event_id was already in the ledger
  StoredCheckpoint checkpoint;  // covering the record
  std::vector<Hash> proof;      // inclusion proof against `checkpoint`
};

struct StoredEntry {
  int64_t index = 0;
  std::string leaf;     // exactly the hashed bytes (v2: commitment ‖ public view)
  std::string salt;     // opens the commitment with `content`
  std::string content;  // the record's canonical bytes
  bool concluded = false;  // a meta record (repair, expiry, withdrawal) ends it
};

struct RecordFilter {
  std::optional<std::string> subject;
  std::optional<Record::Type> type;
  std::optional<Record::Tier> tier;
  std::optional<absl::Time> occurred_from;   // inclusive
  std::optional<absl::Time> occurred_before;  // exclusive
};

class CreditStore {
 public:
  virtual ~CreditStore() = default;

  // Appends `record` (index, recorded_time set here; leaf = its deterministic
  // serialization) durably, with a signed checkpoint covering it: concurrent
  // appends may share one transaction and one checkpoint (whose size then
  // covers the others too). When the event_id exists: the same record content
  // → the stored one (existed = true); other content → ALREADY_EXISTS.
  virtual absl::StatusOr<AppendResult> Append(const Record& record) = 0;
  virtual absl::StatusOr<int64_t> Size() = 0;
  // Re-derives the root of the current tree from the stored subtree hashes and
  // signs it again. Ed25519 signatures are deterministic, so for an unchanged
  // tree the note is identical: the call is a periodic integrity check.
  // DATA_LOSS when the stored hashes disagree with the latest checkpoint.
  virtual absl::StatusOr<StoredCheckpoint> Resign() = 0;
  // The newest checkpoint (size 0 with the empty root when nothing was appended).
  virtual absl::StatusOr<StoredCheckpoint> LatestCheckpoint() = 0;
  virtual absl::StatusOr<Hash> RootHash(int64_t size) = 0;
  // Entries in [start, end), end clamped to the size.
  virtual absl::StatusOr<std::vector<StoredEntry>> GetEntries(int64_t start, int64_t end) = 0;
  // The body of tlog tile (`level`, `index`) of `width` hashes: the stored
  // hashes of tree level 8·level, nodes [256·index, 256·index + width),
  // concatenated. NOT_FOUND when not all of them exist yet; DATA_LOSS when
  // the stored hashes of the levels inside the tile (8·level + 1 … + 7)
  // disagree with them, so a damaged stored node is never served silently.
  virtual absl::StatusOr<std::string> TileHashes(int level, int64_t index, int width) = 0;
  virtual absl::StatusOr<std::vector<Hash>> InclusionProof(int64_t index, int64_t size) = 0;
  virtual absl::StatusOr<std::vector<Hash>> ConsistencyProof(int64_t size1, int64_t size2) = 0;
  // NOT_FOUND when no such index.
  virtual absl::StatusOr<Record> GetRecord(int64_t index) = 0;
  // Every record about `subject` (meta records included), in index order.
  virtual absl::StatusOr<std::vector<Record>> RecordsOfSubject(const std::string& subject) = 0;
  // Up to `limit` records matching `filter` with index > `after`, in index order.
  virtual absl::StatusOr<std::vector<Record>> ListRecords(const RecordFilter& filter,
                                                          int64_t after, int limit) = 0;
  // Distinct subjects that have records.
  virtual absl::StatusOr<std::vector<std::string>> Subjects() = 0;

  // Enqueues the "subject.blacklisted"/"subject.redlisted" webhook events of
  // list entries that time caused at or before `now` (a record leaving a
  // window) and were not announced yet; returns how many entries. Idempotent
  // (credit_outbox.h). Called by the credit scheduler.
  virtual absl::StatusOr<int> PublishDueListEntries(absl::Time now) = 0;

  virtual absl::Status AddAccessLog(const AccessLogEntry& entry) = 0;
  // Newest first; `subject` "" for all; entries with id < `before` (0 = no bound).
  virtual absl::StatusOr<std::vector<std::pair<int64_t, AccessLogEntry>>> ListAccessLog(
      const std::string& subject, const std::string& reader, int64_t before, int limit) = 0;

  // ALREADY_EXISTS when a PENDING application for the same record exists. A
  // retry with the same request key (stored at `now`) returns the stored
  // application.
  virtual absl::StatusOr<RepairApplication> CreateRepair(const RepairApplication& application,
                                                         const RequestKey& key, absl::Time now) = 0;
  virtual absl::StatusOr<RepairApplication> GetRepair(const std::string& name) = 0;
  // Atomically: reads the application, lets `decide` refuse or return a record
  // to append (appended first, its index passed to `apply`), then stores the
  // application as changed by `apply`. A retry with the same request key
  // returns the stored result without deciding again.
  virtual absl::StatusOr<RepairApplication> RuleOnRepair(
      const std::string& name,
      const std::function<absl::StatusOr<std::optional<Record>>(const RepairApplication&)>& decide,
      const std::function<void(RepairApplication&, std::optional<int64_t> appended)>& apply,
      const RequestKey& key, absl::Time now) = 0;
};

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_CREDIT_STORE_H_
