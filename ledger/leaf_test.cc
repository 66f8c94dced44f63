#include "ledger/leaf.h"

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/credit_policy.h"

namespace market::ledger {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 6, 1, 12, 0, 0), absl::UTCTimeZone());

Record Minor() {
  Record r;
  r.set_index(7);
  r.set_subject("subjects/seller1");
  r.set_type(Record::CLAIM_REPLY_MISSED);
  r.set_reason("did not answer claim c-1842 about a cracked screen");
  r.set_reference("claims/c-1842");
  r.set_counterparty("subjects/buyer9");
  r.set_event_id("claim-c-1842-missed");
  r.mutable_occurred_time()->set_seconds(absl::ToUnixSeconds(kNow - absl::Hours(24)));
  return r;
}

TEST(LeafTest, LeafRevealsNeitherReasonNorReferenceNorCounterparty) {
  Record r = Minor();
  std::string leaf = CommittedLeaf(r, std::string(kSaltSize, 's'));
  EXPECT_THAT(leaf, Not(HasSubstr("cracked screen")));
  EXPECT_THAT(leaf, Not(HasSubstr("claims/c-1842")));
  EXPECT_THAT(leaf, Not(HasSubstr("buyer9")));
  absl::StatusOr<ParsedLeaf> parsed = ParseLeaf(leaf);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->public_view.subject(), "subjects/seller1");
  EXPECT_EQ(parsed->public_view.tier(), Record::MINOR);
  EXPECT_EQ(parsed->public_view.type(), Record::TYPE_UNSPECIFIED);
  EXPECT_EQ(parsed->public_view.index(), 7);
}

TEST(LeafTest, MetaRecordsShowTheirTypeAndTarget) {
  Record r = Minor();
  r.set_type(Record::CREDIT_REPAIRED);
  r.set_refers_to(3);
  Record view = PublicView(r);
  EXPECT_EQ(view.type(), Record::CREDIT_REPAIRED);
  EXPECT_EQ(view.refers_to(), 3);
}

TEST(LeafTest, SameRecordDifferentSaltsGiveUnlinkableCommitments) {
  Record r = Minor();
  EXPECT_NE(CommittedLeaf(r, std::string(kSaltSize, 'a')),
            CommittedLeaf(r, std::string(kSaltSize, 'b')));
}

TEST(LeafTest, TheRecordAndItsSaltOpenTheLeaf) {
  Record r = Minor();
  std::string salt(kSaltSize, 'z');
  std::string leaf = CommittedLeaf(r, salt);
  EXPECT_TRUE(CheckOpening(7, leaf, CanonicalRecordBytes(r), salt).ok());
}

TEST(LeafTest, AnotherSaltOrContentDoesNotOpenTheLeaf) {
  Record r = Minor();
  std::string salt(kSaltSize, 'z');
  std::string leaf = CommittedLeaf(r, salt);
  EXPECT_EQ(CheckOpening(7, leaf, CanonicalRecordBytes(r), std::string(kSaltSize, 'y')).code(),
            absl::StatusCode::kDataLoss);
  Record other = r;
  other.set_reason("answered late");
  EXPECT_EQ(CheckOpening(7, leaf, CanonicalRecordBytes(other), salt).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(CheckOpening(8, leaf, CanonicalRecordBytes(r), salt).code(),
            absl::StatusCode::kDataLoss);
}

TEST(LeafTest, APublicViewThatDisagreesWithTheRecordDoesNotOpen) {
  Record r = Minor();
  std::string salt(kSaltSize, 'z');
  Record lie = r;
  lie.set_subject("subjects/someone-else");
  std::string leaf =
      RecordCommitment(salt, CanonicalRecordBytes(r)) + PublicView(lie).SerializeAsString();
  EXPECT_THAT(CheckOpening(7, leaf, CanonicalRecordBytes(r), salt).message(),
              HasSubstr("public view"));
}

TEST(LeafTest, ShortLeafIsDataLoss) {
  EXPECT_EQ(ParseLeaf("short").status().code(), absl::StatusCode::kDataLoss);
}

TEST(PubliclyDisplayedTest, MinorIsNeverPublic) {
  EXPECT_FALSE(PubliclyDisplayed(Minor(), false, kNow));
}

TEST(PubliclyDisplayedTest, GeneralIsPublicInsideItsPeriodOnly) {
  Record r = Minor();
  r.set_type(Record::CLAIM_UPHELD);
  EXPECT_TRUE(PubliclyDisplayed(r, false, kNow));
  EXPECT_FALSE(PubliclyDisplayed(r, true, kNow));  // repaired, expired or withdrawn
  EXPECT_FALSE(PubliclyDisplayed(r, false, kNow + absl::Hours(24 * 365)));
  EXPECT_FALSE(PubliclyDisplayed(r, false, kNow - absl::Hours(48)));  // not yet occurred
}

// The promise of the leaf format: everyone can recompute every public level
// from the public views of all leaves plus the records displayed publicly.
TEST(PubliclyDisplayedTest, PublicRecordsAndViewsGiveTheSameEvaluationAsFullRecords) {
  std::mt19937_64 rng(17);
  const std::vector<Record::Type> types = {
      Record::TRADE_COMPLETED, Record::COMMENDATION,   Record::CLAIM_REPLY_MISSED,
      Record::CLAIM_UPHELD,    Record::FRAUD_CONFIRMED, Record::SANCTION_OTHER,
      Record::CREDIT_REPAIRED, Record::RECORD_EXPIRED, Record::LISTING_REMOVED};
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Record> full;
    for (int i = 0; i < 60; ++i) {
      Record r;
      r.set_index(i);
      r.set_subject(absl::StrCat("subjects/s", rng() % 2));
      r.set_type(types[rng() % types.size()]);
      if (r.type() == Record::SANCTION_OTHER && rng() % 2) r.set_tier(Record::GENERAL);
      r.set_counterparty(absl::StrCat("subjects/b", rng() % 12));
      r.mutable_occurred_time()->set_seconds(
          absl::ToUnixSeconds(kNow - absl::Hours(static_cast<int64_t>(rng() % (24 * 800)))));
      if (IsMetaType(r.type())) {
        if (i == 0) continue;
        r.set_refers_to(static_cast<int64_t>(rng() % i));
      }
      r.set_index(static_cast<int64_t>(full.size()));
      full.push_back(r);
    }
    std::set<int64_t> concluded;
    for (const Record& r : full) {
      if (IsMetaType(r.type())) concluded.insert(r.refers_to());
    }
    std::vector<Record> outsider;
    for (const Record& r : full) {
      outsider.push_back(PubliclyDisplayed(r, concluded.contains(r.index()), kNow) ? r
                                                                                   : PublicView(r));
    }
    for (const char* subject : {"subjects/s0", "subjects/s1"}) {
      Evaluation a = Evaluate(subject, full, kNow);
      Evaluation b = Evaluate(subject, outsider, kNow);
      ASSERT_EQ(a.score, b.score) << trial;
      ASSERT_EQ(a.level, b.level) << trial;
      ASSERT_EQ(a.blacklisted, b.blacklisted) << trial;
      ASSERT_EQ(a.redlisted, b.redlisted) << trial;
      ASSERT_EQ(a.active, b.active) << trial;
    }
  }
}

}  // namespace
}  // namespace market::ledger
