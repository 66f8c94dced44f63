#include "ledger/restriction_policy.h"

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::ledger {
namespace {

using ::market::testing::StatusIs;
using ::testing::HasSubstr;
using common::v1::Role;
using A = RestrictedAction;
using E = Effect;

enum class List { kNone, kBlack, kRed };

CreditStanding Standing(List list) {
  CreditStanding s;
  s.subject = "subjects/someone";
  s.blacklisted = list == List::kBlack;
  s.redlisted = list == List::kRed;
  if (s.blacklisted) s.blacklist_record = "ledgers/main/records/7";
  return s;
}

const char* ListName(List l) {
  return l == List::kBlack ? "black" : l == List::kRed ? "red" : "none";
}

// The contract of docs/restriction-policy-v1.md §2, written out again by hand:
// (role, action) → effect on the black list, the red list and neither.
// Every pair not here is NOT_APPLICABLE.
const std::map<std::pair<Role, A>, std::tuple<E, E, E>>& Expected() {
  static const auto* m = new std::map<std::pair<Role, A>, std::tuple<E, E, E>>{
      {{Role::SELLER, A::kPublishListing}, {E::kRefused, E::kAllowed, E::kAllowed}},
      {{Role::SELLER, A::kAcceptOrder}, {E::kRefused, E::kAllowed, E::kAllowed}},
      {{Role::SELLER, A::kBeAdmitted}, {E::kRefused, E::kAllowed, E::kAllowed}},
      {{Role::SELLER, A::kAppearInSearch}, {E::kHidden, E::kBadge, E::kAllowed}},
      {{Role::SELLER, A::kCompleteOrder}, {E::kAllowed, E::kAllowed, E::kAllowed}},
      {{Role::SELLER, A::kAnswerClaim}, {E::kAllowed, E::kAllowed, E::kAllowed}},
      {{Role::BUYER, A::kPlaceOrder}, {E::kRefused, E::kAllowed, E::kAllowed}},
      {{Role::BUYER, A::kCompleteOrder}, {E::kAllowed, E::kAllowed, E::kAllowed}},
      {{Role::BUYER, A::kFileClaim}, {E::kAllowed, E::kAllowed, E::kAllowed}},
      {{Role::APPRAISAL_FIRM, A::kFileAppraisal}, {E::kRefused, E::kAllowed, E::kAllowed}},
      {{Role::APPRAISAL_FIRM, A::kAnswerClaim}, {E::kAllowed, E::kAllowed, E::kAllowed}},
      {{Role::OPERATOR, A::kAdmitSeller}, {E::kRefused, E::kAllowed, E::kAllowed}},
  };
  return *m;
}

TEST(RestrictionPolicyTest, EveryRoleActionAndListHasTheDocumentedEffect) {
  int checked = 0;
  for (int r = common::v1::Role_MIN; r <= common::v1::Role_MAX; ++r) {
    Role role = static_cast<Role>(r);
    for (int a = 0; a < static_cast<int>(A::kCount); ++a) {
      A action = static_cast<A>(a);
      for (List list : {List::kBlack, List::kRed, List::kNone}) {
        E want = E::kNotApplicable;
        auto it = Expected().find({role, action});
        if (it != Expected().end()) {
          auto [black, red, none] = it->second;
          want = list == List::kBlack ? black : list == List::kRed ? red : none;
        }
        EXPECT_EQ(RestrictionEffect(role, action, Standing(list)), want)
            << common::v1::Role_Name(role) << " × " << RestrictedActionName(action) << " on "
            << ListName(list) << ": got "
            << EffectName(RestrictionEffect(role, action, Standing(list))) << ", want "
            << EffectName(want);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, (common::v1::Role_MAX - common::v1::Role_MIN + 1) * static_cast<int>(A::kCount) * 3);
}

TEST(RestrictionPolicyTest, EveryRefusalIsSubjectBlacklistedNamingTheRecord) {
  for (const RestrictionRule& rule : RestrictionTable()) {
    absl::Status s = CheckRestriction(rule.role, rule.action, Standing(List::kBlack));
    if (rule.blacklisted != E::kRefused) {
      EXPECT_TRUE(s.ok()) << RestrictedActionName(rule.action) << ": " << s;
      continue;
    }
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                            HasSubstr("ledgers/main/records/7")));
    EXPECT_EQ(ReasonOf(s), kSubjectBlacklisted);
    EXPECT_EQ(ReasonMetadataOf(s, "record"), "ledgers/main/records/7");
    EXPECT_EQ(ReasonMetadataOf(s, "subject"), "subjects/someone");
    EXPECT_EQ(ReasonMetadataOf(s, "policy"), kRestrictionPolicyVersion);
  }
}

TEST(RestrictionPolicyTest, NothingIsRefusedOffTheBlackList) {
  for (const RestrictionRule& rule : RestrictionTable()) {
    for (List list : {List::kRed, List::kNone}) {
      EXPECT_TRUE(CheckRestriction(rule.role, rule.action, Standing(list)).ok())
          << RestrictedActionName(rule.action) << " on " << ListName(list);
    }
  }
}

TEST(RestrictionPolicyTest, ABlacklistedSubjectAlsoOnTheRedListIsTreatedAsBlacklisted) {
  CreditStanding both = Standing(List::kBlack);
  both.redlisted = true;
  EXPECT_EQ(RestrictionEffect(Role::SELLER, A::kAppearInSearch, both), E::kHidden);
  EXPECT_EQ(ReasonOf(CheckRestriction(Role::SELLER, A::kPublishListing, both)),
            kSubjectBlacklisted);
}

TEST(RestrictionPolicyTest, TableHasOneRowPerRoleAndAction) {
  std::map<std::pair<Role, A>, int> seen;
  for (const RestrictionRule& rule : RestrictionTable()) ++seen[{rule.role, rule.action}];
  for (const auto& [key, n] : seen) {
    EXPECT_EQ(n, 1) << common::v1::Role_Name(key.first) << " × " << RestrictedActionName(key.second);
  }
  EXPECT_EQ(seen.size(), Expected().size());
}

}  // namespace
}  // namespace market::ledger
