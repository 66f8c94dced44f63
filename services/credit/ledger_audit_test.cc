#include "services/credit/ledger_audit.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/sqlite/backup.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "services/credit/sqlite_credit_store.h"

namespace market::credit {
namespace {

using ::market::sqlite::testing::ScopedTempDir;
using ::market::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "test.example/ledgers/main";

class LedgerAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::make_shared<Ed25519PrivateKey>(*Ed25519PrivateKey::Generate());
    auto key = key_;
    auto store = SqliteCreditStore::Open(path_, [key](int64_t size, const Hash& root) {
      return ledger::SignCheckpoint({kOrigin, size, root}, kOrigin, *key);
    });
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 7; ++i) {
      Record r;
      r.set_subject(absl::StrCat("subjects/seller-", i % 2));
      r.set_subject_role(common::v1::SELLER);
      r.set_type(Record::COMMENDATION);
      r.set_tier(Record::POSITIVE);
      *r.mutable_occurred_time() =
          google::protobuf::util::TimeUtil::SecondsToTimestamp(1'790'000'000 + i);
      r.set_event_id(absl::StrCat("event-", i));
      ASSERT_OK((*store)->Append(r).status());
    }
    auto root = (*store)->RootHash(7);
    ASSERT_TRUE(root.ok()) << root.status();
    root_ = *root;
  }

  absl::StatusOr<LedgerAudit> Audit(const std::string& public_key) {
    sqlite::Options options;
    options.read_only = true;
    options.wal = false;
    MARKET_ASSIGN_OR_RETURN(sqlite::Connection c, sqlite::Connection::Open(path_, options));
    return AuditLedger(c, public_key);
  }

  // Runs one UPDATE/DELETE with `blob` bound to ?1 (if not empty) on the file.
  void Tamper(const std::string& sql, const std::string& blob = "") {
    auto c = sqlite::Connection::Open(path_);
    ASSERT_TRUE(c.ok()) << c.status();
    auto st = c->Prepare(sql);
    ASSERT_TRUE(st.ok()) << st.status();
    if (!blob.empty()) {
      ASSERT_OK(st->BindBlob(1, blob));
    }
    ASSERT_OK(st->Run());
    ASSERT_EQ(c->Changes(), 1);
  }

  ScopedTempDir dir_;
  const std::string path_ = dir_.File("credit.db");
  std::shared_ptr<Ed25519PrivateKey> key_;
  Hash root_;
};

TEST_F(LedgerAuditTest, UntouchedLedgerPassesWithItsRoot) {
  auto audit = Audit(key_->PublicKeyRaw());
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_EQ(audit->origin, kOrigin);
  EXPECT_EQ(audit->tree_size, 7);
  EXPECT_EQ(audit->root, root_);
  EXPECT_THAT(audit->note, HasSubstr("\n7\n"));
}

TEST_F(LedgerAuditTest, AnotherKeyIsUnauthenticated) {
  auto other = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  EXPECT_THAT(Audit(other->PublicKeyRaw()), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(LedgerAuditTest, ChangedLeafIsDataLoss) {
  Tamper("UPDATE records SET leaf = leaf || x'00' WHERE idx = 3");
  EXPECT_THAT(Audit(key_->PublicKeyRaw()), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(LedgerAuditTest, MissingLastRecordIsDataLoss) {
  Tamper("DELETE FROM records WHERE idx = 6");
  EXPECT_THAT(Audit(key_->PublicKeyRaw()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("covers 7 records")));
}

TEST_F(LedgerAuditTest, ChangedSubtreeHashIsDataLoss) {
  Tamper("UPDATE nodes SET hash = ? WHERE level = 2 AND idx = 0", std::string(32, 'z'));
  EXPECT_THAT(Audit(key_->PublicKeyRaw()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("stored node 2/0")));
}

// Nodes that no root or proof of the current size reads are checked too.
TEST_F(LedgerAuditTest, EveryChangedStoredNodeIsDataLoss) {
  for (auto [level, idx] : std::vector<std::pair<int, int>>{{0, 0}, {0, 6}, {1, 0}, {1, 2}, {2, 0}}) {
    const std::string sql =
        absl::StrCat("UPDATE nodes SET hash = ? WHERE level = ", level, " AND idx = ", idx);
    std::string original;
    {
      auto c = sqlite::Connection::Open(path_);
      ASSERT_TRUE(c.ok());
      auto st = c->Prepare(absl::StrCat("SELECT hash FROM nodes WHERE level = ", level,
                                        " AND idx = ", idx));
      ASSERT_TRUE(st.ok());
      ASSERT_TRUE(*st->Step());
      original = st->ColumnBlob(0);
    }
    std::string flipped = original;
    flipped[31] ^= 0x01;
    Tamper(sql, flipped);
    EXPECT_THAT(Audit(key_->PublicKeyRaw()),
                StatusIs(absl::StatusCode::kDataLoss,
                         HasSubstr(absl::StrCat("stored node ", level, "/", idx))));
    Tamper(sql, original);
  }
}

TEST_F(LedgerAuditTest, ChangedSaltIsDataLoss) {
  Tamper("UPDATE leaves SET salt = ? WHERE idx = 4", std::string(32, 's'));
  EXPECT_THAT(Audit(key_->PublicKeyRaw()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("commitment")));
}

TEST_F(LedgerAuditTest, ChangedCommittedLeafIsDataLoss) {
  Tamper("UPDATE leaves SET leaf = leaf || x'00' WHERE idx = 5");
  EXPECT_THAT(Audit(key_->PublicKeyRaw()), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(LedgerAuditTest, RewrittenCheckpointRootIsDataLoss) {
  Tamper("UPDATE checkpoints SET root = ? WHERE size = 7", std::string(32, 'r'));
  EXPECT_THAT(Audit(key_->PublicKeyRaw()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("latest checkpoint says")));
}

TEST_F(LedgerAuditTest, WorksOnAnImmutableOpenOfABackup) {
  const std::string copy = dir_.File("copy.db");
  ASSERT_OK(sqlite::BackupDatabaseFile(path_, copy));
  sqlite::Options options;
  options.read_only = true;
  options.wal = false;
  auto c = sqlite::Connection::Open(sqlite::ImmutableUri(copy), options);
  ASSERT_TRUE(c.ok()) << c.status();
  auto audit = AuditLedger(*c, key_->PublicKeyRaw());
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_EQ(audit->root, root_);
}

}  // namespace
}  // namespace market::credit
