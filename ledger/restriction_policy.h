// Credit-based restrictions `restriction-policy-v1` (联合惩戒 and 守信激励):
// what a subject on the black list (严重失信名单) may no longer do, what stays
// allowed, and what the red list (守信激励) earns, as one contract table
// naming every (role × action) pair. docs/restriction-policy-v1.md describes
// it in words; list membership itself is credit-policy-v1's (§4). The
// services apply it where the action happens (listing: publish, orders,
// admission, search; appraisal: filing). Thread-safe: the table is immutable
// and every function here is pure.
#ifndef MARKET_LEDGER_RESTRICTION_POLICY_H_
#define MARKET_LEDGER_RESTRICTION_POLICY_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "market/common/v1/common.pb.h"

namespace market::ledger {

inline constexpr char kRestrictionPolicyVersion[] = "restriction-policy-v1";
// The FAILED_PRECONDITION reason of every refusal; ErrorInfo.metadata carries
// "subject", "record" (the ledger record that blacklists it) and "policy".
inline constexpr char kSubjectBlacklisted[] = "SUBJECT_BLACKLISTED";
// The red-list badge of a seller (诚信商户).
inline constexpr char kTrustedMerchantBadge[] = "诚信商户";

// Actions the policy speaks about; each is done by a subject in one role.
enum class RestrictedAction : int {
  kPublishListing = 0,   // PublishListing; ImportListings with publish (the seller's)
  kAcceptOrder,          // PlaceOrder on the seller's listing
  kBeAdmitted,           // AddSeller naming the seller
  kAppearInSearch,       // SearchListings showing the seller's PUBLISHED listings
  kCompleteOrder,        // ConfirmDelivery / CompleteOrder / CancelOrder of an existing order
  kAnswerClaim,          // claims and disputes against existing orders and reports
  kPlaceOrder,           // PlaceOrder by the buyer
  kFileClaim,            // FileClaim on an existing order
  kFileAppraisal,        // FileAppraisal for the firm (by the firm or its appraiser)
  kAdmitSeller,          // AddSeller in a market the operator runs
  kCount,
};
// "PUBLISH_LISTING", "ACCEPT_ORDER", …
absl::string_view RestrictedActionName(RestrictedAction action);

// What the policy does with a subject's action, by list.
enum class Effect : int {
  kNotApplicable = 0,  // the role never does this (authorization refuses it)
  kAllowed,
  kRefused,  // FAILED_PRECONDITION SUBJECT_BLACKLISTED
  kHidden,   // kAppearInSearch: left out of search results
  kBadge,    // kAppearInSearch: shown with kTrustedMerchantBadge, matched by the facet
};
absl::string_view EffectName(Effect effect);

// One row of the contract: `role` doing `action`, by list.
struct RestrictionRule {
  common::v1::Role role;
  RestrictedAction action;
  Effect blacklisted;
  Effect redlisted;
  Effect unlisted;
};
// Every row; (role, action) pairs not listed are kNotApplicable.
const std::vector<RestrictionRule>& RestrictionTable();

// A subject's list membership as the credit service computed it.
struct CreditStanding {
  std::string subject;  // subjects/{subject}
  bool blacklisted = false;
  bool redlisted = false;
  std::string blacklist_record;  // ledgers/main/records/{index}, when blacklisted
};

// The effect of `role` doing `action` with `standing` (black list first).
Effect RestrictionEffect(common::v1::Role role, RestrictedAction action,
                         const CreditStanding& standing);

// OK unless the effect is kRefused: then FAILED_PRECONDITION with reason
// SUBJECT_BLACKLISTED, a message naming the subject, the record and the
// action, and ErrorInfo.metadata {subject, record, policy}.
absl::Status CheckRestriction(common::v1::Role role, RestrictedAction action,
                              const CreditStanding& standing);

// Asks the credit service for a subject's standing now (credit::CreditClient
// ::Standing in both deployments).
using CreditStandingLookup =
    std::function<absl::StatusOr<CreditStanding>(const std::string& subject)>;

// CheckRestriction with the standing `lookup` gives for `subject`, or the
// lookup's error (UNAVAILABLE: refused, retryably). OK without asking when
// `lookup` is unset (a service wired without a credit service).
absl::Status CheckRestriction(const CreditStandingLookup& lookup, const std::string& subject,
                              common::v1::Role role, RestrictedAction action);

}  // namespace market::ledger

#endif  // MARKET_LEDGER_RESTRICTION_POLICY_H_
