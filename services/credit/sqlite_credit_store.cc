#include "services/credit/sqlite_credit_store.h"

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/idempotency/idempotency.h"
#include "common/status/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "common/crypto/crypto.h"
#include "ledger/credit_policy.h"
#include "ledger/leaf.h"
#include "ledger/merkle_tree.h"
#include "ledger/tiles.h"
#include "services/credit/case_store.h"
#include "services/credit/credit_outbox.h"
#include "services/credit/stored_nodes.h"

namespace market::credit {
namespace {

using google::protobuf::util::TimeUtil;
using ledger::AppendLeaf;
using ledger::EmptyRootHash;
using ledger::LeafHash;
using ledger::NodeWrite;
using sqlite::Connection;
using sqlite::ReadAll;
using sqlite::Statement;

const std::vector<sqlite::Migration>& Migrations() {
  static const auto* migrations = new std::vector<sqlite::Migration>{
      {1, R"sql(
CREATE TABLE records (
  idx INTEGER PRIMARY KEY,
  leaf BLOB NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  type INTEGER NOT NULL,
  tier INTEGER NOT NULL,
  occurred INTEGER NOT NULL,
  -- Meta records (repair, expiry, withdrawal): the index they conclude. A record
  -- is concluded at most once, enforced inside the appending transaction.
  concludes INTEGER UNIQUE
);
CREATE INDEX records_by_subject ON records(subject, idx);
CREATE TABLE nodes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL
);
CREATE TABLE repair_applications (
  name TEXT PRIMARY KEY,
  record_idx INTEGER NOT NULL REFERENCES records(idx),
  state INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX one_pending_repair ON repair_applications(record_idx) WHERE state = 1;
CREATE TABLE access_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subject TEXT NOT NULL,
  reader TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX access_log_by_subject ON access_log(subject, id);
)sql" + std::string(kIdempotencySchema)},
      // Leaf format v2 (ledger/leaf.h, docs/ledger-leaf-v2.md): the hashed leaf
      // is a salted commitment plus the public view; records.leaf keeps the
      // record's content (the committed bytes), served only to its readers.
      {2, R"sql(
CREATE TABLE leaves (
  idx INTEGER PRIMARY KEY,  -- records.idx (the leaf is written first)
  leaf BLOB NOT NULL,
  salt BLOB NOT NULL
);
)sql"},
      // The supervision case queue (market.supervision.v1, case_store.h).
      {3, kCaseSchema},
      // The outbox (stats figures, list-entry webhooks) and each subject's
      // standing segments (credit_outbox.h).
      {4, std::string(outbox::kOutboxSchema) + kStandingSchema},
      // What the standing computation reads, without the leaf (credit_outbox.h).
      {5, kStandingInputsSchema},
      {6, outbox::kOutboxOrderingSchema},  // per-key delivery order
  };
  return *migrations;
}

absl::StatusOr<int64_t> SizeIn(Connection& c) {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT coalesce(max(idx) + 1, 0) FROM records"));
  MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.ColumnInt64(0) : 0;
}

absl::StatusOr<Record> ParseLeaf(int64_t index, const std::string& leaf) {
  Record r;
  if (!r.ParseFromString(leaf)) return absl::DataLossError(absl::StrCat("corrupt record ", index));
  r.set_name(absl::StrCat("ledgers/main/records/", index));
  return r;
}

absl::StatusOr<StoredCheckpoint> LatestCheckpointIn(Connection& c) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1"));
  MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
  StoredCheckpoint cp;
  if (!row) {
    cp.root = EmptyRootHash();
    return cp;
  }
  cp.size = st.ColumnInt64(0);
  cp.root = st.ColumnBlob(1);
  cp.note = st.ColumnText(2);
  return cp;
}

absl::Status InsertCheckpoint(Connection& c, const StoredCheckpoint& cp) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare("INSERT INTO checkpoints(size, root, note) VALUES(?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(st.Bind(1, cp.size));
  MARKET_RETURN_IF_ERROR(st.BindBlob(2, cp.root));
  MARKET_RETURN_IF_ERROR(st.BindText(3, cp.note));
  return st.Run();
}

// The record as a client would send it again: output-only fields cleared.
Record Comparable(Record r) {
  r.clear_name();
  r.clear_index();
  r.clear_source();
  r.clear_recorded_time();
  r.clear_min_display_until();
  r.clear_max_display_until();
  return r;
}

// The stored record with `event_id`, if any.
absl::StatusOr<std::optional<Record>> FindEvent(Connection& c, const std::string& event_id) {
  MARKET_ASSIGN_OR_RETURN(Statement find,
                          c.Prepare("SELECT idx, leaf FROM records WHERE event_id = ?"));
  MARKET_RETURN_IF_ERROR(find.BindText(1, event_id));
  MARKET_ASSIGN_OR_RETURN(bool exists, find.Step());
  if (!exists) return std::nullopt;
  return ParseLeaf(find.ColumnInt64(0), find.ColumnBlob(1));
}

// Inserts the row of `stored` (index set) and returns its leaf bytes.
// FAILED_PRECONDITION RECORD_NOT_ACTIVE when it concludes a record already
// concluded (nothing written).
absl::StatusOr<std::string> InsertRecord(Connection& c, const Record& stored) {
  std::string leaf = LeafBytes(stored);
  MARKET_ASSIGN_OR_RETURN(
      Statement ins, c.Prepare("INSERT INTO records(idx, leaf, event_id, subject, type, tier, "
                               "occurred, concludes, counterparty, occurred_nanos) "
                               "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(ins.Bind(1, stored.index()));
  MARKET_RETURN_IF_ERROR(ins.BindBlob(2, leaf));
  MARKET_RETURN_IF_ERROR(ins.BindText(3, stored.event_id()));
  MARKET_RETURN_IF_ERROR(ins.BindText(4, stored.subject()));
  MARKET_RETURN_IF_ERROR(ins.Bind(5, static_cast<int64_t>(stored.type())));
  MARKET_RETURN_IF_ERROR(ins.Bind(6, static_cast<int64_t>(stored.tier())));
  MARKET_RETURN_IF_ERROR(ins.Bind(
      7, stored.occurred_time().seconds() * 1'000'000 + stored.occurred_time().nanos() / 1000));
  bool meta = ledger::IsMetaType(stored.type()) && stored.has_refers_to();
  MARKET_RETURN_IF_ERROR(meta ? ins.Bind(8, stored.refers_to()) : ins.BindNull(8));
  MARKET_RETURN_IF_ERROR(ins.BindText(9, stored.counterparty()));
  MARKET_RETURN_IF_ERROR(stored.has_occurred_time()
                             ? ins.Bind(10, static_cast<int64_t>(stored.occurred_time().nanos()))
                             : ins.BindNull(10));
  absl::Status inserted = ins.Run();
  if (meta && absl::IsAlreadyExists(inserted)) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "RECORD_NOT_ACTIVE",
                      absl::StrCat("ledgers/main/records/", stored.refers_to(),
                                   " was already repaired, expired or withdrawn"));
  }
  MARKET_RETURN_IF_ERROR(inserted);
  return leaf;
}

// The subtree hashes of one append batch over the stored ones: nodes the batch
// computed (written together by Flush) and stored nodes it read, so the
// batch's appends, root and proofs read each stored node at most once.
class BatchNodes final : public ledger::NodeSource {
 public:
  // `c` must outlive this object.
  explicit BatchNodes(Connection& c) : stored_(c) {}
  absl::StatusOr<Hash> Node(int level, int64_t index) override {
    auto it = cache_.find({level, index});
    if (it != cache_.end()) return it->second;
    MARKET_ASSIGN_OR_RETURN(Hash hash, stored_.Node(level, index));
    cache_.emplace(std::make_pair(level, index), hash);
    return hash;
  }
  void Add(std::vector<NodeWrite> writes) {
    for (NodeWrite& w : writes) {
      cache_[{w.level, w.index}] = w.hash;
      added_.push_back(std::move(w));
    }
  }
  // Inserts every node added so far.
  absl::Status Flush(Connection& c) {
    if (added_.empty()) return absl::OkStatus();
    MARKET_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("INSERT INTO nodes(level, idx, hash) VALUES(?, ?, ?)"));
    for (const NodeWrite& w : added_) {
      st.Reset();
      MARKET_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(w.level)));
      MARKET_RETURN_IF_ERROR(st.Bind(2, w.index));
      MARKET_RETURN_IF_ERROR(st.BindBlob(3, w.hash));
      MARKET_RETURN_IF_ERROR(st.Run());
    }
    added_.clear();
    return absl::OkStatus();
  }

 private:
  StoredNodes stored_;
  std::map<std::pair<int, int64_t>, Hash> cache_;
  std::vector<NodeWrite> added_;
};

// Records from rows of (idx, leaf).
absl::StatusOr<std::vector<Record>> QueryRecords(Statement& st) {
  return ReadAll<Record>(
      st, [](Statement& row) { return ParseLeaf(row.ColumnInt64(0), row.ColumnBlob(1)); });
}

absl::StatusOr<RepairApplication> ReadRepair(Connection& c, const std::string& name,
                                             int64_t* version_out = nullptr) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare("SELECT data FROM repair_applications WHERE name = ?"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, name));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  if (!found) return NotFound(name);
  RepairApplication a;
  if (!a.ParseFromString(st.ColumnBlob(0))) return absl::DataLossError("corrupt application");
  (void)version_out;
  return a;
}

// Runs `fn` in one db.Read() (db.Write() when `write`) and returns its value.
template <typename Fn>
auto InTransaction(sqlite::Database& db, bool write, Fn fn)
    -> std::invoke_result_t<Fn, Connection&> {
  typename std::invoke_result_t<Fn, Connection&>::value_type out{};
  auto body = [&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(out, fn(c));
    return absl::OkStatus();
  };
  MARKET_RETURN_IF_ERROR(write ? db.Write(body) : db.Read(body));
  return out;
}

// The hashed leaf of `stored` (index set): a v2 commitment under a fresh
// random salt, stored with the salt in `leaves`.
absl::StatusOr<std::string> CommitLeaf(Connection& c, const Record& stored) {
  const std::string salt = RandomBytes(ledger::kSaltSize);
  std::string leaf = ledger::CommittedLeaf(stored, salt);
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare("INSERT INTO leaves(idx, leaf, salt) VALUES(?, ?, ?)"));
  MARKET_RETURN_IF_ERROR(st.Bind(1, stored.index()));
  MARKET_RETURN_IF_ERROR(st.BindBlob(2, leaf));
  MARKET_RETURN_IF_ERROR(st.BindBlob(3, salt));
  MARKET_RETURN_IF_ERROR(st.Run());
  return leaf;
}

}  // namespace

std::string LeafBytes(const Record& record) { return ledger::CanonicalRecordBytes(record); }

absl::StatusOr<std::unique_ptr<SqliteCreditStore>> SqliteCreditStore::Open(
    const std::string& path, CheckpointSigner signer) {
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  MARKET_ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, options, Migrations()));
  std::unique_ptr<SqliteCreditStore> store(new SqliteCreditStore(std::move(db), std::move(signer)));
  // A v1 ledger (leaves without commitments) cannot be served as v2.
  MARKET_RETURN_IF_ERROR(store->db_->Read([](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT count(*) FROM records WHERE idx NOT IN (SELECT idx FROM leaves)"));
    MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.ColumnInt64(0) > 0) {
      return absl::FailedPreconditionError(
          "credit.db holds a ledger with v1 leaves; this version serves leaf format v2 only "
          "(start with a new data directory)");
    }
    return absl::OkStatus();
  }));
  // A new ledger starts with a signed checkpoint of the empty tree.
  MARKET_RETURN_IF_ERROR(store->db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(StoredCheckpoint latest, LatestCheckpointIn(c));
    if (!latest.note.empty()) return absl::OkStatus();
    MARKET_ASSIGN_OR_RETURN(std::string note, store->signer_(0, EmptyRootHash()));
    return InsertCheckpoint(c, StoredCheckpoint{0, EmptyRootHash(), note});
  }));
  return store;
}

absl::StatusOr<std::vector<absl::StatusOr<AppendResult>>> SqliteCreditStore::AppendBatchIn(
    Connection& c, std::span<const Record* const> records) {
  std::vector<absl::StatusOr<AppendResult>> results;
  results.reserve(records.size());
  BatchNodes nodes(c);
  MARKET_ASSIGN_OR_RETURN(const int64_t start, SizeIn(c));
  int64_t size = start;
  for (const Record* record : records) {
    // An event id stored before, or earlier in this batch (same transaction).
    MARKET_ASSIGN_OR_RETURN(std::optional<Record> found, FindEvent(c, record->event_id()));
    if (found.has_value()) {
      if (!google::protobuf::util::MessageDifferencer::Equals(Comparable(*found),
                                                              Comparable(*record))) {
        results.push_back(absl::AlreadyExistsError(absl::StrCat(
            "event_id ", record->event_id(), " was recorded with different content")));
      } else {
        results.push_back(AppendResult{.record = *std::move(found), .existed = true});
      }
      continue;
    }
    Record stored = *record;
    stored.set_index(size);
    absl::StatusOr<std::string> leaf = InsertRecord(c, stored);
    if (!leaf.ok()) {
      if (absl::IsFailedPrecondition(leaf.status())) {
        results.push_back(leaf.status());  // this record's own conflict; nothing was written
        continue;
      }
      return leaf.status();
    }
    // The tree commits to the salted leaf (ledger/leaf.h), not the record bytes.
    MARKET_ASSIGN_OR_RETURN(std::string committed, CommitLeaf(c, stored));
    MARKET_ASSIGN_OR_RETURN(std::vector<NodeWrite> writes,
                            AppendLeaf(size, LeafHash(committed), nodes));
    nodes.Add(std::move(writes));
    MARKET_ASSIGN_OR_RETURN(Record appended, ParseLeaf(size, *leaf));
    results.push_back(AppendResult{.record = std::move(appended)});
    ++size;
  }
  MARKET_RETURN_IF_ERROR(nodes.Flush(c));
  // The outbox events of the new records, in this transaction (credit_outbox.h).
  std::vector<const Record*> appended;
  for (const absl::StatusOr<AppendResult>& r : results) {
    if (r.ok() && !r->existed) appended.push_back(&r->record);
  }
  if (!appended.empty()) MARKET_RETURN_IF_ERROR(EnqueueAppendEvents(c, appended, size));
  StoredCheckpoint checkpoint;
  if (size > start) {
    // One signature for the whole batch.
    MARKET_ASSIGN_OR_RETURN(Hash root, ledger::RootHash(size, nodes));
    MARKET_ASSIGN_OR_RETURN(std::string note, signer_(size, root));
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
    checkpoint = StoredCheckpoint{size, std::move(root), std::move(note)};
    MARKET_RETURN_IF_ERROR(InsertCheckpoint(c, checkpoint));
  } else {
    MARKET_ASSIGN_OR_RETURN(checkpoint, LatestCheckpointIn(c));
  }
  for (absl::StatusOr<AppendResult>& r : results) {
    if (!r.ok()) continue;
    r->checkpoint = checkpoint;
    MARKET_ASSIGN_OR_RETURN(r->proof,
                            ledger::InclusionProof(r->record.index(), checkpoint.size, nodes));
  }
  return results;
}

absl::StatusOr<AppendResult> SqliteCreditStore::AppendInTransaction(Connection& c,
                                                                     const Record& record) {
  return AppendIn(c, record);
}

absl::StatusOr<AppendResult> SqliteCreditStore::AppendIn(Connection& c, const Record& record) {
  const Record* one[] = {&record};
  MARKET_ASSIGN_OR_RETURN(std::vector<absl::StatusOr<AppendResult>> results,
                          AppendBatchIn(c, one));
  return std::move(results.front());
}

void SqliteCreditStore::CommitAppends(std::span<PendingAppend* const> batch) {
  std::vector<const Record*> records;
  records.reserve(batch.size());
  for (const PendingAppend* p : batch) records.push_back(p->record);
  std::vector<absl::StatusOr<AppendResult>> results;
  absl::Status committed = db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(results, AppendBatchIn(c, records));
    return absl::OkStatus();
  });
  batches_.fetch_add(1, std::memory_order_relaxed);
  appends_.fetch_add(batch.size(), std::memory_order_relaxed);
  for (size_t i = 0; i < batch.size(); ++i) {
    // Acknowledged only after the COMMIT (synchronous=FULL) returned.
    batch[i]->result = committed.ok() ? std::move(results[i]) : absl::StatusOr<AppendResult>(committed);
  }
}

absl::StatusOr<AppendResult> SqliteCreditStore::Append(const Record& record) {
  PendingAppend pending{.record = &record, .result = absl::UnknownError("append not run")};
  appenders_.Submit(&pending,
                    [this](std::span<PendingAppend* const> batch) { CommitAppends(batch); });
  return std::move(pending.result);
}

absl::StatusOr<int> SqliteCreditStore::PublishDueListEntries(absl::Time now) {
  return InTransaction(*db_, /*write=*/true,
                       [&](Connection& c) { return credit::PublishDueListEntries(c, now); });
}

absl::StatusOr<std::vector<StoredSegment>> SqliteCreditStore::StandingSegments(
    const std::string& subject) {
  return InTransaction(*db_, /*write=*/false,
                       [&](Connection& c) { return ReadStandingSegments(c, subject); });
}

AppendStats SqliteCreditStore::GetAppendStats() const {
  return AppendStats{appends_.load(std::memory_order_relaxed),
                     batches_.load(std::memory_order_relaxed),
                     checkpoints_.load(std::memory_order_relaxed)};
}

absl::StatusOr<int64_t> SqliteCreditStore::Size() {
  return InTransaction(*db_, /*write=*/false, SizeIn);
}

absl::StatusOr<StoredCheckpoint> SqliteCreditStore::Resign() {
  StoredCheckpoint cp;
  MARKET_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    StoredNodes nodes(c);
    MARKET_ASSIGN_OR_RETURN(cp.size, SizeIn(c));
    MARKET_ASSIGN_OR_RETURN(cp.root, ledger::RootHash(cp.size, nodes));
    MARKET_ASSIGN_OR_RETURN(cp.note, signer_(cp.size, cp.root));
    MARKET_ASSIGN_OR_RETURN(StoredCheckpoint latest, LatestCheckpointIn(c));
    if (latest.size == cp.size) {
      if (latest.root != cp.root || latest.note != cp.note) {
        return absl::DataLossError(absl::StrCat(
            "ledger integrity: the stored subtree hashes of tree size ", cp.size,
            " no longer match its signed checkpoint"));
      }
      return absl::OkStatus();
    }
    return InsertCheckpoint(c, cp);
  }));
  return cp;
}

absl::StatusOr<StoredCheckpoint> SqliteCreditStore::LatestCheckpoint() {
  return InTransaction(*db_, /*write=*/false, LatestCheckpointIn);
}

absl::StatusOr<Hash> SqliteCreditStore::RootHash(int64_t size) {
  return InTransaction(*db_, /*write=*/false, [&](Connection& c) {
    StoredNodes nodes(c);
    return ledger::RootHash(size, nodes);
  });
}

absl::StatusOr<std::vector<StoredEntry>> SqliteCreditStore::GetEntries(int64_t start,
                                                                      int64_t end) {
  return InTransaction(
      *db_, /*write=*/false, [&](Connection& c) -> absl::StatusOr<std::vector<StoredEntry>> {
        MARKET_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("SELECT l.idx, l.leaf, l.salt, r.leaf, EXISTS(SELECT 1 FROM records m "
                      "WHERE m.concludes = l.idx) FROM leaves l JOIN records r ON r.idx = l.idx "
                      "WHERE l.idx >= ? AND l.idx < ? ORDER BY l.idx"));
        MARKET_RETURN_IF_ERROR(st.Bind(1, start));
        MARKET_RETURN_IF_ERROR(st.Bind(2, end));
        return ReadAll<StoredEntry>(st, [](Statement& row) -> absl::StatusOr<StoredEntry> {
          return StoredEntry{.index = row.ColumnInt64(0),
                             .leaf = row.ColumnBlob(1),
                             .salt = row.ColumnBlob(2),
                             .content = row.ColumnBlob(3),
                             .concluded = row.ColumnInt64(4) != 0};
        });
      });
}

absl::StatusOr<std::string> SqliteCreditStore::TileHashes(int level, int64_t index,
                                                          int width) {
  if (level < 0 || level > ledger::kMaxTileLevel || index < 0 || width < 1 ||
      width > ledger::kTileWidth || index > (int64_t{1} << 40)) {
    return InvalidField("tile", absl::StrCat(level, "/", index, " width ", width));
  }
  const int base = level * ledger::kTileHeight;
  return InTransaction(*db_, /*write=*/false, [&](Connection& c) -> absl::StatusOr<std::string> {
    // Levels base … base + 7 of the tile's span, bottom level first: one
    // primary-key range per level.
    MARKET_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT idx, hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? "
                  "ORDER BY idx"));
    // rows[l] = hashes of level base + l, back to back, from the tile's start.
    std::vector<std::string> rows(ledger::kTileHeight);
    const int64_t start = index * ledger::kTileWidth;
    for (int l = 0; l < ledger::kTileHeight; ++l) {
      st.Reset();
      MARKET_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(base + l)));
      MARKET_RETURN_IF_ERROR(st.Bind(2, start >> l));
      MARKET_RETURN_IF_ERROR(st.Bind(3, (start + width) >> l));
      for (;;) {
        MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        const int64_t want = (start >> l) + static_cast<int64_t>(rows[l].size() / kSha256Size);
        std::string hash = st.ColumnBlob(1);
        if (st.ColumnInt64(0) != want || hash.size() != kSha256Size) {
          return absl::DataLossError(absl::StrCat("ledger integrity: stored node ", base + l, "/",
                                                  want, " is malformed or missing"));
        }
        rows[l] += hash;
      }
    }
    if (static_cast<int64_t>(rows[0].size()) != width * static_cast<int64_t>(kSha256Size)) {
      return absl::NotFoundError(absl::StrCat("tile ", level, "/", index, " has fewer than ",
                                              width, " hashes"));
    }
    // Every stored node inside the tile must be the hash of its two children.
    for (int l = 1; l < ledger::kTileHeight; ++l) {
      const std::string& below = rows[l - 1];
      for (size_t i = 0; i < rows[l].size() / kSha256Size; ++i) {
        if (2 * (i + 1) * kSha256Size > below.size() ||
            rows[l].compare(i * kSha256Size, kSha256Size,
                            ledger::NodeHash(below.substr(2 * i * kSha256Size, kSha256Size),
                                             below.substr((2 * i + 1) * kSha256Size,
                                                          kSha256Size))) != 0) {
          return absl::DataLossError(absl::StrCat(
              "ledger integrity: stored node ", base + l, "/",
              ((index * ledger::kTileWidth) >> l) + static_cast<int64_t>(i),
              " is not the hash of its children"));
        }
      }
    }
    return rows[0];
  });
}

absl::StatusOr<std::vector<Hash>> SqliteCreditStore::InclusionProof(int64_t index,
                                                                    int64_t size) {
  return InTransaction(*db_, /*write=*/false, [&](Connection& c) {
    StoredNodes nodes(c);
    return ledger::InclusionProof(index, size, nodes);
  });
}

absl::StatusOr<std::vector<Hash>> SqliteCreditStore::ConsistencyProof(int64_t size1,
                                                                      int64_t size2) {
  return InTransaction(*db_, /*write=*/false, [&](Connection& c) {
    StoredNodes nodes(c);
    return ledger::ConsistencyProof(size1, size2, nodes);
  });
}

absl::StatusOr<Record> SqliteCreditStore::GetRecord(int64_t index) {
  return InTransaction(*db_, /*write=*/false, [&](Connection& c) -> absl::StatusOr<Record> {
    MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT idx, leaf FROM records WHERE idx = ?"));
    MARKET_RETURN_IF_ERROR(st.Bind(1, index));
    MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return NotFound(absl::StrCat("ledgers/main/records/", index));
    return ParseLeaf(index, st.ColumnBlob(1));
  });
}

absl::StatusOr<std::vector<Record>> SqliteCreditStore::RecordsOfSubject(
    const std::string& subject) {
  return InTransaction(
      *db_, /*write=*/false, [&](Connection& c) -> absl::StatusOr<std::vector<Record>> {
        MARKET_ASSIGN_OR_RETURN(Statement st,
                                c.Prepare("SELECT idx, leaf FROM records WHERE subject = ? "
                                          "ORDER BY idx"));
        MARKET_RETURN_IF_ERROR(st.BindText(1, subject));
        return QueryRecords(st);
      });
}

absl::StatusOr<std::vector<Record>> SqliteCreditStore::ListRecords(const RecordFilter& f,
                                                                   int64_t after, int limit) {
  return InTransaction(
      *db_, /*write=*/false, [&](Connection& c) -> absl::StatusOr<std::vector<Record>> {
        MARKET_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("SELECT idx, leaf FROM records WHERE idx > ?1 "
                      "AND (?2 IS NULL OR subject = ?2) AND (?3 IS NULL OR type = ?3) "
                      "AND (?4 IS NULL OR tier = ?4) AND (?5 IS NULL OR occurred >= ?5) "
                      "AND (?6 IS NULL OR occurred < ?6) ORDER BY idx LIMIT ?7"));
        MARKET_RETURN_IF_ERROR(st.Bind(1, after));
        MARKET_RETURN_IF_ERROR(f.subject ? st.BindText(2, *f.subject) : st.BindNull(2));
        MARKET_RETURN_IF_ERROR(f.type ? st.Bind(3, static_cast<int64_t>(*f.type)) : st.BindNull(3));
        MARKET_RETURN_IF_ERROR(f.tier ? st.Bind(4, static_cast<int64_t>(*f.tier)) : st.BindNull(4));
        MARKET_RETURN_IF_ERROR(f.occurred_from ? st.Bind(5, absl::ToUnixMicros(*f.occurred_from))
                                               : st.BindNull(5));
        MARKET_RETURN_IF_ERROR(f.occurred_before
                                   ? st.Bind(6, absl::ToUnixMicros(*f.occurred_before))
                                   : st.BindNull(6));
        MARKET_RETURN_IF_ERROR(st.Bind(7, static_cast<int64_t>(limit)));
        return QueryRecords(st);
      });
}

absl::StatusOr<std::vector<std::string>> SqliteCreditStore::Subjects() {
  return InTransaction(
      *db_, /*write=*/false, [&](Connection& c) -> absl::StatusOr<std::vector<std::string>> {
        MARKET_ASSIGN_OR_RETURN(Statement st,
                                c.Prepare("SELECT DISTINCT subject FROM records ORDER BY subject"));
        return ReadAll<std::string>(
            st, [](Statement& row) -> absl::StatusOr<std::string> { return row.ColumnText(0); });
      });
}

absl::Status SqliteCreditStore::AddAccessLog(const AccessLogEntry& entry) {
  return db_->Write([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("INSERT INTO access_log(subject, reader, data) VALUES(?, ?, ?)"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, entry.subject()));
    MARKET_RETURN_IF_ERROR(st.BindText(2, entry.reader()));
    MARKET_RETURN_IF_ERROR(st.BindBlob(3, entry.SerializeAsString()));
    return st.Run();
  });
}

absl::StatusOr<std::vector<std::pair<int64_t, AccessLogEntry>>> SqliteCreditStore::ListAccessLog(
    const std::string& subject, const std::string& reader, int64_t before, int limit) {
  using Entry = std::pair<int64_t, AccessLogEntry>;
  using Entries = std::vector<Entry>;
  return InTransaction(*db_, /*write=*/false, [&](Connection& c) -> absl::StatusOr<Entries> {
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT id, data FROM access_log WHERE (?1 = '' OR subject = ?1) "
                                "AND (?2 = '' OR reader = ?2) AND (?3 = 0 OR id < ?3) "
                                "ORDER BY id DESC LIMIT ?4"));
    MARKET_RETURN_IF_ERROR(st.BindText(1, subject));
    MARKET_RETURN_IF_ERROR(st.BindText(2, reader));
    MARKET_RETURN_IF_ERROR(st.Bind(3, before));
    MARKET_RETURN_IF_ERROR(st.Bind(4, static_cast<int64_t>(limit)));
    return ReadAll<Entry>(st, [](Statement& row) -> absl::StatusOr<Entry> {
      AccessLogEntry e;
      if (!e.ParseFromString(row.ColumnBlob(1))) return absl::DataLossError("corrupt access log");
      e.set_name(absl::StrCat(e.subject(), "/accessLogEntries/", row.ColumnInt64(0)));
      return Entry(row.ColumnInt64(0), std::move(e));
    });
  });
}

absl::StatusOr<RepairApplication> SqliteCreditStore::CreateRepair(const RepairApplication& in,
                                                                  const RequestKey& key,
                                                                  absl::Time now) {
  return RunIdempotent<RepairApplication>(
      *db_, key, now, [&](Connection& c) -> absl::StatusOr<RepairApplication> {
        int64_t idx = 0;
        absl::string_view rec = in.record();
        auto slash = rec.rfind('/');
        if (slash == absl::string_view::npos || !absl::SimpleAtoi(rec.substr(slash + 1), &idx)) {
          return InvalidField("repair_application.record", "want ledgers/main/records/{index}");
        }
        MARKET_ASSIGN_OR_RETURN(
            Statement st, c.Prepare("INSERT INTO repair_applications(name, record_idx, state, "
                                    "data) VALUES(?, ?, ?, ?)"));
        MARKET_RETURN_IF_ERROR(st.BindText(1, in.name()));
        MARKET_RETURN_IF_ERROR(st.Bind(2, idx));
        MARKET_RETURN_IF_ERROR(st.Bind(3, static_cast<int64_t>(in.state())));
        MARKET_RETURN_IF_ERROR(st.BindBlob(4, in.SerializeAsString()));
        absl::Status s = st.Run();
        if (absl::IsAlreadyExists(s)) {
          return absl::AlreadyExistsError(
              absl::StrCat("a pending repair application for ", in.record(), " exists"));
        }
        MARKET_RETURN_IF_ERROR(s);
        return in;
      });
}

absl::StatusOr<RepairApplication> SqliteCreditStore::GetRepair(const std::string& name) {
  return InTransaction(*db_, /*write=*/false, [&](Connection& c) { return ReadRepair(c, name); });
}

absl::StatusOr<RepairApplication> SqliteCreditStore::RuleOnRepair(
    const std::string& name,
    const std::function<absl::StatusOr<std::optional<Record>>(const RepairApplication&)>& decide,
    const std::function<void(RepairApplication&, std::optional<int64_t>)>& apply,
    const RequestKey& key, absl::Time now) {
  return RunIdempotent<RepairApplication>(
      *db_, key, now, [&](Connection& c) -> absl::StatusOr<RepairApplication> {
        MARKET_ASSIGN_OR_RETURN(RepairApplication a, ReadRepair(c, name));
        MARKET_ASSIGN_OR_RETURN(std::optional<Record> record, decide(a));
        std::optional<int64_t> appended;
        if (record.has_value()) {
          MARKET_ASSIGN_OR_RETURN(AppendResult r, AppendIn(c, *record));
          appended = r.record.index();
        }
        apply(a, appended);
        MARKET_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("UPDATE repair_applications SET state = ?, data = ? WHERE name = ?"));
        MARKET_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(a.state())));
        MARKET_RETURN_IF_ERROR(st.BindBlob(2, a.SerializeAsString()));
        MARKET_RETURN_IF_ERROR(st.BindText(3, name));
        MARKET_RETURN_IF_ERROR(st.Run());
        return a;
      });
}

}  // namespace market::credit
