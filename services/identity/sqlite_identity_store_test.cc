#include "services/identity/sqlite_identity_store.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market::identity {
namespace {

using ::market::testing::StatusIs;

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);

SubjectRow Row(const std::string& id, const std::string& credit_code = "") {
  SubjectRow row;
  row.subject.set_name("subjects/" + id);
  row.subject.set_kind(credit_code.empty() ? Subject::PERSON : Subject::ORGANIZATION);
  row.subject.add_roles(common::v1::SELLER);
  row.subject.set_display_name(id);
  row.subject.set_credit_code(credit_code);
  row.subject.set_state(Subject::ACTIVE);
  return row;
}

class SqliteIdentityStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = *SqliteIdentityStore::Open(":memory:"); }
  std::unique_ptr<SqliteIdentityStore> store_;
};

TEST_F(SqliteIdentityStoreTest, CreatedSubjectReadsBackWithEtag) {
  ASSERT_OK(store_->CreateSubject(Row("abcd"), std::nullopt, RequestKey{}, kNow, nullptr));
  ASSERT_OK_AND_ASSIGN(SubjectRow row, store_->GetSubject("subjects/abcd"));
  EXPECT_EQ(row.subject.display_name(), "abcd");
  EXPECT_EQ(row.version, 1);
  EXPECT_EQ(row.subject.etag(), "\"v1\"");
}

TEST_F(SqliteIdentityStoreTest, MissingSubjectIsNotFound) {
  EXPECT_THAT(store_->GetSubject("subjects/none"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SqliteIdentityStoreTest, DuplicateCreditCodeIsAlreadyExists) {
  ASSERT_OK(store_->CreateSubject(Row("orga", "91350100M000100Y43"), std::nullopt, RequestKey{},
                                  kNow, nullptr));
  EXPECT_THAT(store_->CreateSubject(Row("orgb", "91350100M000100Y43"), std::nullopt,
                                    RequestKey{}, kNow, nullptr),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(SqliteIdentityStoreTest, UpdateBumpsVersionAndFailedMutationChangesNothing) {
  ASSERT_OK(store_->CreateSubject(Row("upd1"), std::nullopt, RequestKey{}, kNow, nullptr));
  ASSERT_OK(store_->UpdateSubject("subjects/upd1", RequestKey{}, kNow, [](SubjectRow& r) {
    r.subject.set_display_name("renamed");
    return absl::OkStatus();
  }));
  EXPECT_THAT(store_->UpdateSubject("subjects/upd1", RequestKey{}, kNow,
                                    [](SubjectRow& r) {
                                      r.subject.set_display_name("lost");
                                      return absl::AbortedError("stale");
                                    }),
              StatusIs(absl::StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(SubjectRow row, store_->GetSubject("subjects/upd1"));
  EXPECT_EQ(row.version, 2);
  EXPECT_EQ(row.subject.display_name(), "renamed");
}

TEST_F(SqliteIdentityStoreTest, ReplayReturnsStoredResponseWithoutSecondInsert) {
  RequestKey key{"CreateSubject", "subjects/sup", "r-1"};
  ASSERT_OK(store_->CreateSubject(Row("first"), std::nullopt, key, kNow, nullptr));
  bool replayed = false;
  ASSERT_OK_AND_ASSIGN(Subject again,
                       store_->CreateSubject(Row("second"), std::nullopt, key, kNow, &replayed));
  EXPECT_TRUE(replayed);
  EXPECT_EQ(again.name(), "subjects/first");
  EXPECT_EQ(*store_->CountSubjects(), 1);
}

TEST_F(SqliteIdentityStoreTest, NewSigningKeyDeactivatesOthers) {
  ASSERT_OK(store_->AddSigningKey({"k1", "pem1", std::string(32, 'a'), kNow, true}));
  ASSERT_OK(store_->AddSigningKey(
      {"k2", "pem2", std::string(32, 'b'), kNow + absl::Seconds(1), true}));
  ASSERT_OK_AND_ASSIGN(auto keys, store_->ListSigningKeys());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].key_id, "k2");
  EXPECT_TRUE(keys[0].active);
  EXPECT_FALSE(keys[1].active);
}

TEST_F(SqliteIdentityStoreTest, ListFiltersByRole) {
  ASSERT_OK(store_->CreateSubject(Row("sel1"), std::nullopt, RequestKey{}, kNow, nullptr));
  SubjectRow buyer = Row("buy1");
  buyer.subject.clear_roles();
  buyer.subject.add_roles(common::v1::BUYER);
  ASSERT_OK(store_->CreateSubject(buyer, std::nullopt, RequestKey{}, kNow, nullptr));
  ASSERT_OK_AND_ASSIGN(auto rows,
                       store_->ListSubjects(SubjectFilter{.role = common::v1::BUYER}, "", 10));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].subject.name(), "subjects/buy1");
}

}  // namespace
}  // namespace market::identity
