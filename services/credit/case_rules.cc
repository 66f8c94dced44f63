#include "services/credit/case_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "common/status/transition_table.h"
#include "google/protobuf/util/time_util.h"

namespace market::credit {
namespace {

using credit::v1::Record;

const TransitionTable<Case::State, CaseActor>& CaseTable() {
  static const auto* table = new TransitionTable<Case::State, CaseActor>{
      .noun = "case",
      .moves =
          {
              {Case::OPEN, Case::IN_REVIEW, {CaseActor::kSupervisor, CaseActor::kAssignee}},
              {Case::IN_REVIEW, Case::IN_REVIEW, {CaseActor::kSupervisor, CaseActor::kAssignee}},
              {Case::OPEN, Case::CLOSED, {CaseActor::kSupervisor}},
              {Case::IN_REVIEW, Case::CLOSED, {CaseActor::kAssignee}},
          },
      .reasons = {{Case::IN_REVIEW, "CASE_CLOSED"}, {Case::CLOSED, "CASE_NOT_CLOSABLE"}},
      .state_name = [](Case::State s) { return Case::State_Name(s); },
      .actor_names = {"SUPERVISOR", "ASSIGNEE"},
  };
  return *table;
}

bool IsSubjectName(absl::string_view name) { return ValidCollectionName(name, "subjects"); }

void CheckText(Violations& v, const std::string& field, const std::string& text, bool required) {
  if (required && text.empty()) v.Add(field, "required");
  if (Utf8CharCount(text) > static_cast<size_t>(kMaxCaseTextChars)) {
    v.Add(field, absl::StrCat("longer than ", kMaxCaseTextChars, " characters"));
  }
}

}  // namespace

absl::string_view CaseActorName(CaseActor actor) {
  return CaseTable().actor_names[static_cast<size_t>(actor)];
}

absl::Status CheckCaseTransition(Case::State from, Case::State to, CaseActor actor) {
  return CheckMove(CaseTable(), from, to, actor);
}

Record::Type DefaultRecordType(Case::Kind kind) {
  return kind == Case::MILEAGE_ROLLBACK ? Record::MILEAGE_ROLLBACK_CONFIRMED
                                        : Record::TYPE_UNSPECIFIED;
}

bool IsCaseRecordType(Record::Type type) {
  return type == Record::COUNTERFEIT_CONFIRMED || type == Record::FRAUD_CONFIRMED ||
         type == Record::MILEAGE_ROLLBACK_CONFIRMED || type == Record::UNLICENSED_OPERATION;
}

absl::Status ValidateNewCase(const Case& c, bool from_event, absl::Time now) {
  Violations v;
  if (from_event) {
    if (c.kind() != Case::MILEAGE_ROLLBACK && c.kind() != Case::CLAIM_ESCALATED &&
        c.kind() != Case::CLAIM_OVERDUE && c.kind() != Case::APPRAISAL_DISPUTE) {
      v.Add("case.kind", "want MILEAGE_ROLLBACK, CLAIM_ESCALATED, CLAIM_OVERDUE or APPRAISAL_DISPUTE");
    }
    if (c.resource().empty()) v.Add("case.resource", "required");
    if (c.has_due_time()) v.Add("case.due_time", "set by the service for events");
  } else {
    if (c.kind() != Case::MANUAL && c.kind() != Case::KIND_UNSPECIFIED) {
      v.Add("case.kind", "want MANUAL (or unset)");
    }
    if (c.has_due_time() && FromTimestamp(c.due_time()) <= now) {
      v.Add("case.due_time", "must be in the future");
    }
  }
  CheckText(v, "case.summary", c.summary(), /*required=*/!from_event);
  if (c.resource().size() > 200) v.Add("case.resource", "longer than 200 characters");
  if (!c.market().empty() && !ValidCollectionName(c.market(), "markets")) {
    v.Add("case.market", "want markets/{market}");
  }
  if (!c.region_code().empty() &&
      (c.region_code().size() != 6 ||
       !std::all_of(c.region_code().begin(), c.region_code().end(),
                    [](char ch) { return ch >= '0' && ch <= '9'; }))) {
    v.Add("case.region_code", "want 6 digits");
  }
  if (c.subjects().empty()) v.Add("case.subjects", "at least one subject");
  if (c.subjects_size() > 20) v.Add("case.subjects", "at most 20 subjects");
  for (int i = 0; i < c.subjects_size(); ++i) {
    const std::string field = absl::StrCat("case.subjects[", i, "]");
    if (!IsSubjectName(c.subjects(i).subject())) v.Add(field + ".subject", "want subjects/{subject}");
    if (c.subjects(i).role() == common::v1::ROLE_UNSPECIFIED ||
        !common::v1::Role_IsValid(c.subjects(i).role())) {
      v.Add(field + ".role", "required");
    }
  }
  return v.ToStatus();
}

absl::StatusOr<Decision> ValidateDecision(const Case& c, const Decision& in) {
  Violations v;
  Decision d;
  d.set_outcome(in.outcome());
  d.set_reason(in.reason());
  d.set_decision_document_number(in.decision_document_number());
  if (in.outcome() != Decision::CONFIRMED && in.outcome() != Decision::DISMISSED) {
    v.Add("decision.outcome", "want CONFIRMED or DISMISSED");
  }
  CheckText(v, "decision.reason", in.reason(), /*required=*/true);
  if (in.decision_document_number().size() > 100) {
    v.Add("decision.decision_document_number", "longer than 100 characters");
  }
  if (in.outcome() == Decision::DISMISSED) {
    if (in.record_type() != Record::TYPE_UNSPECIFIED) {
      v.Add("decision.record_type", "only with CONFIRMED");
    }
    if (!in.subject().empty()) v.Add("decision.subject", "only with CONFIRMED");
  }
  if (in.outcome() == Decision::CONFIRMED) {
    if (in.decision_document_number().empty()) {
      v.Add("decision.decision_document_number", "required to confirm a violation");
    }
    Record::Type type = in.record_type() != Record::TYPE_UNSPECIFIED ? in.record_type()
                                                                     : DefaultRecordType(c.kind());
    if (!IsCaseRecordType(type)) {
      v.Add("decision.record_type",
            "want COUNTERFEIT_CONFIRMED, FRAUD_CONFIRMED, MILEAGE_ROLLBACK_CONFIRMED or "
            "UNLICENSED_OPERATION");
    }
    d.set_record_type(type);
    std::string subject = in.subject();
    if (subject.empty() && !c.subjects().empty()) subject = c.subjects(0).subject();
    bool known = std::any_of(c.subjects().begin(), c.subjects().end(),
                             [&](const auto& p) { return p.subject() == subject; });
    if (!known) v.Add("decision.subject", "not one of the case's subjects");
    d.set_subject(subject);
  }
  MARKET_RETURN_IF_ERROR(v.ToStatus());
  return d;
}

void PresentCase(Case& c, absl::Time now) {
  absl::Time created = FromTimestamp(c.create_time());
  absl::Time until = c.state() == Case::CLOSED ? FromTimestamp(c.close_time()) : now;
  *c.mutable_age() = google::protobuf::util::TimeUtil::SecondsToDuration(
      absl::ToInt64Seconds(std::max(absl::ZeroDuration(), until - created)));
  c.set_overdue(c.state() != Case::CLOSED && c.has_due_time() &&
                FromTimestamp(c.due_time()) < now);
}

}  // namespace market::credit
