#include "ledger/restriction_policy.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace market::ledger {

using common::v1::Role;

absl::string_view RestrictedActionName(RestrictedAction action) {
  static constexpr std::array<absl::string_view, static_cast<int>(RestrictedAction::kCount)>
      kNames = {"PUBLISH_LISTING", "ACCEPT_ORDER",   "BE_ADMITTED", "APPEAR_IN_SEARCH",
                "COMPLETE_ORDER",  "ANSWER_CLAIM",   "PLACE_ORDER", "FILE_CLAIM",
                "FILE_APPRAISAL",  "ADMIT_SELLER"};
  auto i = static_cast<size_t>(action);
  return i < kNames.size() ? kNames[i] : "UNKNOWN";
}

absl::string_view EffectName(Effect effect) {
  switch (effect) {
    case Effect::kNotApplicable:
      return "NOT_APPLICABLE";
    case Effect::kAllowed:
      return "ALLOWED";
    case Effect::kRefused:
      return "REFUSED";
    case Effect::kHidden:
      return "HIDDEN";
    case Effect::kBadge:
      return "BADGE";
  }
  return "UNKNOWN";
}

const std::vector<RestrictionRule>& RestrictionTable() {
  using A = RestrictedAction;
  using E = Effect;
  static const auto* table = new std::vector<RestrictionRule>{
      // role           action               blacklisted  redlisted   unlisted
      {Role::SELLER, A::kPublishListing, E::kRefused, E::kAllowed, E::kAllowed},
      {Role::SELLER, A::kAcceptOrder, E::kRefused, E::kAllowed, E::kAllowed},
      {Role::SELLER, A::kBeAdmitted, E::kRefused, E::kAllowed, E::kAllowed},
      {Role::SELLER, A::kAppearInSearch, E::kHidden, E::kBadge, E::kAllowed},
      // Orders placed before the listing keep running, and stay claimable.
      {Role::SELLER, A::kCompleteOrder, E::kAllowed, E::kAllowed, E::kAllowed},
      {Role::SELLER, A::kAnswerClaim, E::kAllowed, E::kAllowed, E::kAllowed},
      {Role::BUYER, A::kPlaceOrder, E::kRefused, E::kAllowed, E::kAllowed},
      {Role::BUYER, A::kCompleteOrder, E::kAllowed, E::kAllowed, E::kAllowed},
      {Role::BUYER, A::kFileClaim, E::kAllowed, E::kAllowed, E::kAllowed},
      {Role::APPRAISAL_FIRM, A::kFileAppraisal, E::kRefused, E::kAllowed, E::kAllowed},
      {Role::APPRAISAL_FIRM, A::kAnswerClaim, E::kAllowed, E::kAllowed, E::kAllowed},
      {Role::OPERATOR, A::kAdmitSeller, E::kRefused, E::kAllowed, E::kAllowed},
  };
  return *table;
}

Effect RestrictionEffect(Role role, RestrictedAction action, const CreditStanding& standing) {
  for (const RestrictionRule& r : RestrictionTable()) {
    if (r.role != role || r.action != action) continue;
    if (standing.blacklisted) return r.blacklisted;
    return standing.redlisted ? r.redlisted : r.unlisted;
  }
  return Effect::kNotApplicable;
}

absl::Status CheckRestriction(Role role, RestrictedAction action, const CreditStanding& standing) {
  if (RestrictionEffect(role, action, standing) != Effect::kRefused) return absl::OkStatus();
  return WithReason(
      absl::StatusCode::kFailedPrecondition, kSubjectBlacklisted,
      absl::StrCat(standing.subject, " is on the black list (", standing.blacklist_record,
                   "); a blacklisted ", Role_Name(role), " may not ", RestrictedActionName(action),
                   " (", kRestrictionPolicyVersion, ")"),
      {{"subject", standing.subject},
       {"record", standing.blacklist_record},
       {"policy", kRestrictionPolicyVersion}});
}

absl::Status CheckRestriction(const CreditStandingLookup& lookup, const std::string& subject,
                              Role role, RestrictedAction action) {
  if (!lookup) return absl::OkStatus();
  absl::StatusOr<CreditStanding> standing = lookup(subject);
  if (!standing.ok()) return standing.status();
  return CheckRestriction(role, action, *standing);
}

}  // namespace market::ledger
