#include "services/credit/sqlite_credit_store.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status_matchers.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/leaf.h"
#include "ledger/proof.h"
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

}  // namespace
}  // namespace market::credit
