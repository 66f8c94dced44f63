#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "google/protobuf/util/time_util.h"
#include "market/supervision/v1/supervision.grpc.pb.h"

namespace market::ctl {
namespace {

namespace sv = ::market::supervision::v1;
using Stub = sv::CaseService::Stub;

std::string CaseName(const std::string& s) { return Prefixed(s, "cases"); }

}  // namespace

void AddCaseCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* group = AddGroup(
      &app, "case", "The supervisors' case queue (market.supervision.v1)",
      "Cases open by themselves on a mileage rollback, an escalated or overdue claim and an\n"
      "appraisal dispute; a buyer reports a suspected violation; a supervisor opens one by hand.\n"
      "Lifecycle: OPEN -> IN_REVIEW (assign) -> CLOSED (confirmed: appends the credit record;\n"
      "dismissed: appends nothing).\n"
      "Example:\n  marketctl case list --filter 'state=OPEN AND overdue=true'");

  // ---- list ----
  auto* list = group->add_subcommand("list", "List cases, oldest first (SUPERVISOR)")
                   ->footer(
                       "Filter terms, joined by ' AND ': kind=MILEAGE_ROLLBACK|CLAIM_ESCALATED|"
                       "CLAIM_OVERDUE|APPRAISAL_DISPUTE|\nSUSPECTED_VIOLATION|MANUAL, "
                       "state=OPEN|IN_REVIEW|CLOSED, region=35|3501|350102,\n"
                       "market=\"markets/m\", assignee=\"subjects/x\", subject=\"subjects/x\", "
                       "overdue=true|false.\n"
                       "Example:\n  marketctl case list --filter 'kind=MILEAGE_ROLLBACK AND "
                       "state=OPEN' --all");
  auto lreq = std::make_shared<sv::ListCasesRequest>();
  list->add_option("--filter", *lreq->mutable_filter(), "Conjunction of terms (see below)");
  AddPagedList(list, client, run, &Stub::ListCases, lreq, "Cases per page, 1-1000 (default 50)",
               [](const auto& p) -> const auto& { return p.cases(); },
               PrintColumns(client, {"name", "kind", "state", "resource", "assignee", "overdue",
                                     "due_time", "summary"}));

  // ---- get ----
  auto* get = group->add_subcommand("get", "Show a case (SUPERVISOR; the buyer who reported it)")
                  ->footer("Example:\n  marketctl case get c0f3a9 -o json");
  AddCallByName(get, client, run, &Stub::GetCase, "name", "cases/{id} or {id}", "cases");

  // ---- assign ----
  auto* assign =
      group->add_subcommand("assign", "Take a case into review, or hand it over (SUPERVISOR)")
          ->footer("Examples:\n  marketctl case assign c0f3a9\n"
                   "  marketctl case assign c0f3a9 --to supervisor-two");
  auto areq = std::make_shared<sv::AssignCaseRequest>();
  auto aname = std::make_shared<std::string>();
  auto ato = std::make_shared<std::string>();
  assign->add_option("name", *aname, "cases/{id} or {id}")->required();
  assign->add_option("--to", *ato, "The supervisor (default: you)");
  assign->add_option("--etag", *areq->mutable_etag(), "The case's etag; ABORTED if it changed");
  assign->add_option("--request-id", *areq->mutable_request_id(), "Idempotency key");
  OnRun(assign, run, [&client, areq, aname, ato] {
    sv::AssignCaseRequest req = *areq;
    req.set_name(CaseName(*aname));
    if (!ato->empty()) req.set_assignee(SubjectName(*ato));
    return CallAndPrint(client, &Stub::AssignCase, req);
  });

  // ---- note ----
  auto* note = group->add_subcommand("note", "Add a note to an open case (SUPERVISOR)")
                   ->footer("Example:\n  marketctl case note c0f3a9 --text '已调取维修记录'");
  auto nreq = std::make_shared<sv::AddCaseNoteRequest>();
  auto nname = std::make_shared<std::string>();
  note->add_option("name", *nname, "cases/{id} or {id}")->required();
  note->add_option("--text", *nreq->mutable_text(), "1-2,000 characters")->required();
  note->add_option("--request-id", *nreq->mutable_request_id(), "Idempotency key");
  OnRun(note, run, [&client, nreq, nname] {
    sv::AddCaseNoteRequest req = *nreq;
    req.set_name(CaseName(*nname));
    return CallAndPrint(client, &Stub::AddCaseNote, req);
  });

  // ---- close ----
  auto* close =
      group->add_subcommand("close", "Close a case with a decision (SUPERVISOR; its assignee)")
          ->footer(
              "confirmed appends the credit record (--record-type; a mileage rollback defaults "
              "to\nMILEAGE_ROLLBACK_CONFIRMED) about --subject (default: the case's first "
              "subject).\nExamples:\n"
              "  marketctl case close c0f3a9 --outcome confirmed --decision-document "
              "'市监处〔2026〕21号' --reason '里程表被调校'\n"
              "  marketctl case close c0f3a9 --outcome dismissed --reason '两次读数属不同车辆'");
  auto creq = std::make_shared<sv::CloseCaseRequest>();
  auto cname = std::make_shared<std::string>();
  auto coutcome = std::make_shared<std::string>();
  auto ctype = std::make_shared<std::string>();
  auto csubject = std::make_shared<std::string>();
  sv::Decision* d = creq->mutable_decision();
  close->add_option("name", *cname, "cases/{id} or {id}")->required();
  close->add_option("--outcome", *coutcome, "confirmed or dismissed")->required();
  close->add_option("--reason", *d->mutable_reason(), "Required, up to 500 characters")
      ->required();
  close->add_option("--decision-document", *d->mutable_decision_document_number(),
                    "Decision document number (决定书文号); required for confirmed");
  close->add_option("--record-type", *ctype,
                    "COUNTERFEIT_CONFIRMED, FRAUD_CONFIRMED, MILEAGE_ROLLBACK_CONFIRMED or "
                    "UNLICENSED_OPERATION");
  close->add_option("--subject", *csubject, "The subject the record is about");
  close->add_option("--etag", *creq->mutable_etag(), "The case's etag; ABORTED if it changed");
  close->add_option("--request-id", *creq->mutable_request_id(), "Idempotency key");
  OnRun(close, run, [&client, creq, cname, coutcome, ctype, csubject] {
    sv::CloseCaseRequest req = *creq;
    req.set_name(CaseName(*cname));
    auto outcome = EnumFlag<sv::Decision::Outcome>(client, "--outcome", *coutcome,
                                                   sv::Decision::Outcome_Parse,
                                                   "CONFIRMED or DISMISSED");
    if (!outcome) return kExitUsage;
    req.mutable_decision()->set_outcome(*outcome);
    if (!ctype->empty()) {
      auto type = EnumFlag<credit::v1::Record::Type>(client, "--record-type", *ctype,
                                                     credit::v1::Record::Type_Parse,
                                                     "a credit record type");
      if (!type) return kExitUsage;
      req.mutable_decision()->set_record_type(*type);
    }
    if (!csubject->empty()) req.mutable_decision()->set_subject(SubjectName(*csubject));
    return CallAndPrint(client, &Stub::CloseCase, req);
  });

  // ---- open ----
  auto* open =
      group->add_subcommand("open", "Open a case by hand (SUPERVISOR)")
          ->footer("Example:\n  marketctl case open --subject seller-a --role SELLER --summary "
                   "'电话举报无证经营' --due 2026-12-31T00:00:00Z");
  auto oreq = std::make_shared<sv::OpenCaseRequest>();
  auto osubject = std::make_shared<std::string>();
  auto orole = std::make_shared<std::string>();
  auto odue = std::make_shared<std::string>();
  sv::Case* oc = oreq->mutable_case_();
  open->add_option("--subject", *osubject, "The subject the case is about")->required();
  open->add_option("--role", *orole, "Its role, e.g. SELLER, OPERATOR, APPRAISAL_FIRM")
      ->required();
  open->add_option("--summary", *oc->mutable_summary(), "Up to 500 characters")->required();
  open->add_option("--resource", *oc->mutable_resource(), "What it concerns, e.g. an order");
  open->add_option("--market", *oc->mutable_market(), "markets/{m}");
  open->add_option("--due", *odue, "When a decision is due, RFC 3339 (default: in 15 days)");
  open->add_option("--request-id", *oreq->mutable_request_id(), "Idempotency key");
  OnRun(open, run, [&client, oreq, osubject, orole, odue] {
    sv::OpenCaseRequest req = *oreq;
    auto role = EnumFlag<common::v1::Role>(client, "--role", *orole, common::v1::Role_Parse,
                                           "a role, e.g. SELLER");
    if (!role) return kExitUsage;
    sv::Party* p = req.mutable_case_()->add_subjects();
    p->set_subject(SubjectName(*osubject));
    p->set_role(*role);
    if (!odue->empty() &&
        !google::protobuf::util::TimeUtil::FromString(*odue, req.mutable_case_()->mutable_due_time())) {
      client.err() << "error: --due \"" << *odue << "\": want RFC 3339, e.g. 2026-12-31T00:00:00Z\n";
      return kExitUsage;
    }
    return CallAndPrint(client, &Stub::OpenCase, req);
  });

  // ---- report ----
  auto* report =
      group->add_subcommand("report",
                            "Report suspected counterfeit goods or fraud about an order you "
                            "bought (BUYER)")
          ->footer("Example:\n  marketctl case report o-1842 --market east-flea --violation "
                   "counterfeit --description '序列号与官网查询不符'");
  auto rorder = AddChildArg(report, "order", "order");
  auto rviolation = std::make_shared<std::string>();
  auto rreq = std::make_shared<sv::ReportSuspectedViolationRequest>();
  report->add_option("--violation", *rviolation, "counterfeit or fraud")->required();
  report->add_option("--description", *rreq->mutable_description(), "Up to 500 characters")
      ->required();
  report->add_option("--request-id", *rreq->mutable_request_id(), "Idempotency key");
  OnRun(report, run, [&client, rorder, rviolation, rreq] {
    auto order = rorder->Resolve(client);
    if (!order) return kExitUsage;
    auto violation = EnumFlag<sv::ReportSuspectedViolationRequest::Violation>(
        client, "--violation", *rviolation, sv::ReportSuspectedViolationRequest::Violation_Parse,
        "COUNTERFEIT or FRAUD");
    if (!violation) return kExitUsage;
    sv::ReportSuspectedViolationRequest req = *rreq;
    req.set_order(*order);
    req.set_violation(*violation);
    return CallAndPrint(client, &Stub::ReportSuspectedViolation, req);
  });
}

}  // namespace market::ctl
