#include "services/credit/sqlite_credit_store.h"

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status_matchers.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/leaf.h"
#include "ledger/proof.h"
#include "services/credit/ledger_audit.h"
#include "ledger/tiles.h"

namespace market::credit {
namespace {

using ::market::testing::StatusIs;

CheckpointSigner TestSigner() {
  auto key = std::make_shared<Ed25519PrivateKey>(*Ed25519PrivateKey::Generate());
  return [key](int64_t size, const Hash& root) {
    return ledger::SignCheckpoint({"test/ledger", size, root}, "test/ledger", *key);
  };
}

Record NewRecord(int i, const std::string& subject = "subjects/seller-a") {
  Record r;
  r.set_subject(subject);
  r.set_subject_role(common::v1::SELLER);
  r.set_type(Record::TRADE_COMPLETED);
  r.set_tier(Record::POSITIVE);
  r.set_counterparty("subjects/buyer-b");
  *r.mutable_occurred_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(1'790'000'000 + i);
  r.set_event_id(absl::StrCat("event-", i));
  return r;
}

TEST(SqliteCreditStoreTest, AppendAssignsIndexesAndProofsVerify) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  for (int i = 0; i < 13; ++i) {
    ASSERT_OK_AND_ASSIGN(AppendResult r, store->Append(NewRecord(i)));
    EXPECT_EQ(r.record.index(), i);
    EXPECT_EQ(r.checkpoint.size, i + 1);
    ASSERT_OK_AND_ASSIGN(std::vector<StoredEntry> entries, store->GetEntries(i, i + 1));
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_OK(ledger::CheckOpening(i, entries[0].leaf, LeafBytes(r.record), entries[0].salt));
    EXPECT_OK(ledger::VerifyInclusion(i, r.checkpoint.size, ledger::LeafHash(entries[0].leaf),
                                      r.proof, r.checkpoint.root));
  }
  ASSERT_OK_AND_ASSIGN(auto proof, store->ConsistencyProof(5, 13));
  EXPECT_OK(ledger::VerifyConsistency(5, 13, *store->RootHash(5), *store->RootHash(13), proof));
}

TEST(SqliteCreditStoreTest, EachLeafHasItsOwnRandomSalt) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  ASSERT_OK(store->Append(NewRecord(1)));
  ASSERT_OK(store->Append(NewRecord(2)));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredEntry> entries, store->GetEntries(0, 2));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].salt.size(), ledger::kSaltSize);
  EXPECT_NE(entries[0].salt, entries[1].salt);
  EXPECT_EQ(entries[0].leaf.find("buyer-b"), std::string::npos);  // counterparty stays hidden
}

TEST(SqliteCreditStoreTest, TileHashesAreTheStoredHashesOfTheirLevel) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  for (int i = 0; i < 300; ++i) ASSERT_OK(store->Append(NewRecord(i)));
  ASSERT_OK_AND_ASSIGN(std::string full, store->TileHashes(0, 0, 256));
  ASSERT_EQ(full.size(), 256u * 32);
  ASSERT_OK_AND_ASSIGN(std::vector<StoredEntry> first, store->GetEntries(0, 1));
  EXPECT_EQ(full.substr(0, 32), ledger::LeafHash(first[0].leaf));
  ASSERT_OK_AND_ASSIGN(std::string partial, store->TileHashes(0, 1, 44));
  EXPECT_EQ(partial.size(), 44u * 32);
  ASSERT_OK_AND_ASSIGN(std::string level1, store->TileHashes(1, 0, 1));
  EXPECT_EQ(level1, ledger::PerfectRoot(full));
  EXPECT_EQ(store->TileHashes(0, 1, 45).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->TileHashes(0, 0, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

// A stored node inside a tile (levels 1..7) is not served itself; the tile
// that contains it is refused rather than served over a damaged store.
TEST(SqliteCreditStoreTest, TileOverADamagedInnerNodeIsDataLoss) {
  sqlite::testing::ScopedTempDir dir;
  const std::string path = dir.File("credit.db");
  auto store = *SqliteCreditStore::Open(path, TestSigner());
  for (int i = 0; i < 20; ++i) ASSERT_OK(store->Append(NewRecord(i)));
  ASSERT_OK(store->TileHashes(0, 0, 20).status());
  {
    auto c = sqlite::Connection::Open(path);
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_OK(c->Exec("UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 1"));
  }
  EXPECT_THAT(store->TileHashes(0, 0, 20),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("stored node 3/1")));
}

TEST(SqliteCreditStoreTest, SameEventIdReturnsStoredRecordAndAddsNothing) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  ASSERT_OK(store->Append(NewRecord(1)));
  ASSERT_OK_AND_ASSIGN(AppendResult again, store->Append(NewRecord(1)));
  EXPECT_TRUE(again.existed);
  EXPECT_EQ(again.record.index(), 0);
  EXPECT_EQ(*store->Size(), 1);
}

TEST(SqliteCreditStoreTest, SameEventIdWithOtherContentIsAlreadyExists) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  ASSERT_OK(store->Append(NewRecord(1)));
  Record other = NewRecord(1);
  other.set_reason("different");
  EXPECT_THAT(store->Append(other), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(SqliteCreditStoreTest, EmptyLedgerHasSignedEmptyCheckpoint) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  ASSERT_OK_AND_ASSIGN(StoredCheckpoint cp, store->LatestCheckpoint());
  EXPECT_EQ(cp.size, 0);
  EXPECT_EQ(cp.root, ledger::EmptyRootHash());
  EXPECT_FALSE(cp.note.empty());
}

TEST(SqliteCreditStoreTest, ReopenedStoreKeepsRootAndProofs) {
  std::string dir = ::testing::TempDir() + "credit_store_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/credit.db";
  std::filesystem::remove(path);
  Hash root;
  std::vector<Hash> proof;
  {
    auto store = *SqliteCreditStore::Open(path, TestSigner());
    for (int i = 0; i < 21; ++i) ASSERT_OK(store->Append(NewRecord(i)));
    root = *store->RootHash(21);
    proof = *store->InclusionProof(7, 21);
  }
  auto reopened = *SqliteCreditStore::Open(path, TestSigner());
  EXPECT_EQ(*reopened->Size(), 21);
  EXPECT_EQ(*reopened->RootHash(21), root);
  EXPECT_EQ(*reopened->InclusionProof(7, 21), proof);
  EXPECT_EQ(reopened->LatestCheckpoint()->root, root);
  std::filesystem::remove_all(dir);
}

TEST(SqliteCreditStoreTest, ResignOfUnchangedTreeKeepsTheSameNote) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  for (int i = 0; i < 5; ++i) ASSERT_OK(store->Append(NewRecord(i)));
  std::string before = store->LatestCheckpoint()->note;
  ASSERT_OK_AND_ASSIGN(StoredCheckpoint cp, store->Resign());
  EXPECT_EQ(cp.size, 5);
  EXPECT_EQ(cp.note, before);
}

TEST(SqliteCreditStoreTest, ResignDetectsAlteredSubtreeHash) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  for (int i = 0; i < 5; ++i) ASSERT_OK(store->Append(NewRecord(i)));
  ASSERT_OK(store->database()->Write([](sqlite::Connection& c) {
    return c.Exec("UPDATE nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 0");
  }));
  EXPECT_THAT(store->Resign(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(SqliteCreditStoreTest, RecordsOfSubjectAreInIndexOrder) {
  auto store = *SqliteCreditStore::Open(":memory:", TestSigner());
  ASSERT_OK(store->Append(NewRecord(0, "subjects/a")));
  ASSERT_OK(store->Append(NewRecord(1, "subjects/b")));
  ASSERT_OK(store->Append(NewRecord(2, "subjects/a")));
  ASSERT_OK_AND_ASSIGN(auto records, store->RecordsOfSubject("subjects/a"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].index(), 0);
  EXPECT_EQ(records[1].index(), 2);
  EXPECT_EQ(records[1].name(), "ledgers/main/records/2");
}

// A file-backed store whose signer, on its first call after Hold(n), waits
// until n further Append() calls are queued behind the batch it signs, so
// those calls all fall into the next batch.
class BatchAppendTest : public ::testing::Test {
 protected:
  // The tree's leaf hash of record `index`: its salted commitment (ledger/leaf.h).
  std::string StoredLeafHash(int64_t index) {
    absl::StatusOr<std::vector<StoredEntry>> entries = store_->GetEntries(index, index + 1);
    if (!entries.ok() || entries->size() != 1) return "";
    return ledger::LeafHash((*entries)[0].leaf);
  }
  void SetUp() override {
    dir_ = ::testing::TempDir() + "credit_batch_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    key_ = std::make_shared<Ed25519PrivateKey>(*Ed25519PrivateKey::Generate());
    auto signer = [this](int64_t size, const Hash& root) -> absl::StatusOr<std::string> {
      if (size_t n = hold_.exchange(0); n > 0) {
        in_signer_ = true;
        for (int i = 0; i < 10'000 && store_->QueuedAppends() < n; ++i) {
          absl::SleepFor(absl::Milliseconds(1));
        }
      }
      return ledger::SignCheckpoint({"test/ledger", size, root}, "test/ledger", *key_);
    };
    ASSERT_OK_AND_ASSIGN(store_, SqliteCreditStore::Open(dir_ + "/credit.db", signer));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Appends `first` and, once its batch is signing, every record of `rest`
  // concurrently; returns the results of `rest` in order.
  std::vector<absl::StatusOr<AppendResult>> AppendBehind(const Record& first,
                                                         const std::vector<Record>& rest) {
    hold_ = rest.size();
    std::thread leader([&] { EXPECT_OK(store_->Append(first)); });
    while (!in_signer_) absl::SleepFor(absl::Milliseconds(1));
    std::vector<absl::StatusOr<AppendResult>> results(rest.size(), absl::UnknownError("unset"));
    std::vector<std::thread> threads;
    for (size_t i = 0; i < rest.size(); ++i) {
      threads.emplace_back([&, i] { results[i] = store_->Append(rest[i]); });
    }
    leader.join();
    for (std::thread& t : threads) t.join();
    return results;
  }

  std::string dir_;
  std::shared_ptr<Ed25519PrivateKey> key_;
  std::unique_ptr<SqliteCreditStore> store_;
  std::atomic<size_t> hold_{0};
  std::atomic<bool> in_signer_{false};
};

TEST_F(BatchAppendTest, ConcurrentAppendsGetConsecutiveIndexesAndOneCheckpoint) {
  std::vector<Record> rest;
  for (int i = 1; i < 64; ++i) rest.push_back(NewRecord(i));
  std::vector<absl::StatusOr<AppendResult>> results = AppendBehind(NewRecord(0), rest);
  std::set<int64_t> indexes;
  for (const absl::StatusOr<AppendResult>& r : results) {
    ASSERT_OK(r.status());
    EXPECT_FALSE(r->existed);
    indexes.insert(r->record.index());
    EXPECT_EQ(r->checkpoint.size, 64);
    EXPECT_EQ(r->checkpoint.note, results.front()->checkpoint.note);
    EXPECT_OK(ledger::VerifyInclusion(r->record.index(), r->checkpoint.size,
                                      StoredLeafHash(r->record.index()), r->proof,
                                      r->checkpoint.root));
  }
  EXPECT_EQ(indexes.size(), 63u);
  EXPECT_EQ(*indexes.begin(), 1);
  EXPECT_EQ(*indexes.rbegin(), 63);
  AppendStats stats = store_->GetAppendStats();
  EXPECT_EQ(stats.appends, 64u);
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(stats.checkpoints, 2u);
}

TEST_F(BatchAppendTest, BatchedLedgerPassesTheAuditAfterReopening) {
  std::vector<Record> rest;
  for (int i = 1; i < 40; ++i) rest.push_back(NewRecord(i));
  for (const auto& r : AppendBehind(NewRecord(0), rest)) ASSERT_OK(r.status());
  store_.reset();  // everything acknowledged is in the file
  ASSERT_OK_AND_ASSIGN(sqlite::Connection c, sqlite::Connection::Open(dir_ + "/credit.db"));
  ASSERT_OK_AND_ASSIGN(LedgerAudit audit, AuditLedger(c, key_->PublicKeyRaw()));
  EXPECT_EQ(audit.tree_size, 40);
}

TEST_F(BatchAppendTest, SameEventIdTwiceInOneBatchIsOneRecord) {
  std::vector<absl::StatusOr<AppendResult>> results =
      AppendBehind(NewRecord(0), {NewRecord(1), NewRecord(1), NewRecord(2)});
  ASSERT_OK(results[0].status());
  ASSERT_OK(results[1].status());
  EXPECT_EQ(results[0]->record.index(), results[1]->record.index());
  EXPECT_NE(results[0]->existed, results[1]->existed);
  EXPECT_EQ(*store_->Size(), 3);
  EXPECT_EQ(store_->GetAppendStats().checkpoints, 2u);
}

TEST_F(BatchAppendTest, ConflictingEventIdInOneBatchFailsOnlyThatAppend) {
  Record other = NewRecord(1);
  other.set_reason("different");
  std::vector<absl::StatusOr<AppendResult>> results =
      AppendBehind(NewRecord(0), {NewRecord(1), other, NewRecord(2)});
  EXPECT_NE(results[0].ok(), results[1].ok());
  for (int i : {0, 1}) {
    if (!results[i].ok()) {
      EXPECT_THAT(results[i], StatusIs(absl::StatusCode::kAlreadyExists));
    }
  }
  ASSERT_OK(results[2].status());
  EXPECT_EQ(*store_->Size(), 3);
  EXPECT_EQ(results[2]->checkpoint.size, 3);
}

TEST_F(BatchAppendTest, SecondConclusionOfARecordInOneBatchFailsAndUsesNoIndex) {
  auto withdrawal = [](int i) {
    Record r = NewRecord(i);
    r.set_type(Record::RECORD_WITHDRAWN);
    r.set_refers_to(0);
    return r;
  };
  std::vector<absl::StatusOr<AppendResult>> results =
      AppendBehind(NewRecord(0), {withdrawal(1), withdrawal(2), NewRecord(3)});
  EXPECT_NE(results[0].ok(), results[1].ok());
  std::set<int64_t> indexes;
  for (const absl::StatusOr<AppendResult>& r : results) {
    if (!r.ok()) {
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
      continue;
    }
    indexes.insert(r->record.index());
    EXPECT_EQ(r->checkpoint.size, 3);
    EXPECT_OK(ledger::VerifyInclusion(r->record.index(), r->checkpoint.size,
                                      StoredLeafHash(r->record.index()), r->proof,
                                      r->checkpoint.root));
  }
  EXPECT_EQ(indexes, (std::set<int64_t>{1, 2}));
  EXPECT_EQ(*store_->Size(), 3);
}

}  // namespace
}  // namespace market::credit
