#include "services/credit/case_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/pagination/filter.h"
#include "common/pagination/page.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "ledger/credit_policy.h"
#include "services/credit/case_rules.h"

namespace market::credit {
namespace {

namespace sv = supervision::v1;
using common::v1::Role;
using credit::v1::Record;
using sqlite::Connection;

constexpr char kCaseService[] = "market.supervision.v1.CaseService";
constexpr char kFilterWant[] =
    "want kind=KIND, state=STATE, region=CODE, market=\"markets/m\", assignee=\"subjects/x\", "
    "subject=\"subjects/x\" or overdue=true|false terms joined by \" AND \"";

bool IsCaseName(const std::string& name) { return ValidCollectionName(name, "cases"); }

absl::StatusOr<CaseQuery> ParseCaseFilter(const std::string& filter) {
  MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms, ParseFilterTerms(filter, kFilterWant));
  CaseQuery q;
  for (const FilterTerm& t : terms) {
    if (t.key == "kind") {
      Case::Kind k;
      if (!Case::Kind_Parse(t.value, &k) || k == Case::KIND_UNSPECIFIED) {
        return BadFilterTerm(t, "want a case kind, e.g. MILEAGE_ROLLBACK");
      }
      q.kind = k;
    } else if (t.key == "state") {
      Case::State s;
      if (!Case::State_Parse(t.value, &s) || s == Case::STATE_UNSPECIFIED) {
        return BadFilterTerm(t, "want OPEN, IN_REVIEW or CLOSED");
      }
      q.state = s;
    } else if (t.key == "region") {
      const size_t n = t.value.size();
      if ((n != 2 && n != 4 && n != 6) ||
          t.value.find_first_not_of("0123456789") != std::string::npos) {
        return BadFilterTerm(t, "want a 2-, 4- or 6-digit region code prefix");
      }
      q.region_prefix = t.value;
    } else if (t.key == "market") {
      if (!ValidCollectionName(t.value, "markets")) return BadFilterTerm(t, "want markets/{m}");
      q.market = t.value;
    } else if (t.key == "assignee" || t.key == "subject") {
      if (!ValidCollectionName(t.value, "subjects")) return BadFilterTerm(t, "want subjects/{s}");
      (t.key == "assignee" ? q.assignee : q.subject) = t.value;
    } else if (t.key == "overdue") {
      if (t.value != "true" && t.value != "false") return BadFilterTerm(t, "want true or false");
      q.overdue = t.value == "true";
    } else {
      return BadFilterTerm(t, kFilterWant);
    }
  }
  return q;
}

void CheckRequestIdLength(Violations& v, const std::string& request_id) {
  if (request_id.size() > 128) v.Add("request_id", "longer than 128 characters");
}

absl::Status CheckEtag(const std::string& given, const Case& c) {
  if (given.empty() || given == c.etag()) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat("etag ", given, " is stale; current is ", c.etag()));
}

CaseActor ActorOf(const auth::Caller& caller, const Case& c) {
  return !c.assignee().empty() && c.assignee() == caller.subject ? CaseActor::kAssignee
                                                                 : CaseActor::kSupervisor;
}

}  // namespace

std::vector<auth::RpcPolicy> CasePolicies() {
  using common::v1::BUYER;
  using common::v1::SERVICE;
  using common::v1::SUPERVISOR;
  return {
      // SUPERVISOR, or the subject that opened the case (decided in GetCase).
      {.method = "GetCase", .any_authenticated = true},
      {.method = "ListCases", .roles = {SUPERVISOR}},
      {.method = "AssignCase", .roles = {SUPERVISOR}},
      {.method = "AddCaseNote", .roles = {SUPERVISOR}},
      {.method = "CloseCase", .roles = {SUPERVISOR}},
      {.method = "OpenCase", .roles = {SUPERVISOR}},
      {.method = "ReportSuspectedViolation", .roles = {BUYER}},
      {.method = "RecordCaseEvent", .roles = {SERVICE}},
  };
}

absl::StatusOr<std::unique_ptr<CaseServiceImpl>> CaseServiceImpl::Create(
    CaseStore* store, const Clock* clock, CasePeers peers, std::string page_token_secret,
    std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics) {
  std::unique_ptr<CaseServiceImpl> s(
      new CaseServiceImpl(store, clock, std::move(peers), std::move(page_token_secret)));
  MARKET_ASSIGN_OR_RETURN(
      s->authorizer_,
      auth::Authorizer::Create(sv::Case::descriptor()->file()->FindServiceByName("CaseService"),
                               CasePolicies(), std::move(verifier), std::move(suspension), clock));
  s->env_ = server::RpcEnv{kCaseService, s->authorizer_.get(), metrics};
  return s;
}

absl::Status CaseServiceImpl::Announce(const Case& stored) const {
  return peers_.opened ? peers_.opened(stored) : absl::OkStatus();
}

absl::StatusOr<Case> CaseServiceImpl::NewCase(const Case& in, const std::string& by,
                                              absl::Time now) const {
  Case c;
  c.set_name(absl::StrCat("cases/", GeneratedId('c')));
  c.set_kind(in.kind() == Case::KIND_UNSPECIFIED ? Case::MANUAL : in.kind());
  c.set_state(Case::OPEN);
  *c.mutable_subjects() = in.subjects();
  c.set_resource(in.resource());
  c.set_market(in.market());
  c.set_region_code(in.region_code());
  c.set_summary(in.summary());
  c.set_opened_by(by);
  *c.mutable_create_time() = ToTimestamp(now);
  *c.mutable_update_time() = ToTimestamp(now);
  *c.mutable_due_time() = in.has_due_time() ? in.due_time() : ToTimestamp(now + kCaseDuePeriod);
  if (!c.market().empty() && c.region_code().empty() && peers_.market_region) {
    MARKET_ASSIGN_OR_RETURN(std::string region, peers_.market_region(c.market()));
    c.set_region_code(region);
  }
  return c;
}

grpc::Status CaseServiceImpl::GetCase(grpc::ServerContext* ctx, const sv::GetCaseRequest* req,
                                      sv::Case* resp) {
  return server::HandleRpc(env_, ctx, "GetCase", *req, [&](const auth::Caller& caller) {
    if (!IsCaseName(req->name())) return InvalidField("name", "want cases/{case}");
    MARKET_ASSIGN_OR_RETURN(Case c, store_->Get(req->name()));
    if (!caller.HasRole(Role::SUPERVISOR) && c.opened_by() != caller.subject) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.subject, " may read only the cases it opened"));
    }
    PresentCase(c, clock_->Now());
    *resp = std::move(c);
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ListCases(grpc::ServerContext* ctx, const sv::ListCasesRequest* req,
                                        sv::ListCasesResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListCases", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(Page page, Page::Start(pages_, absl::StrCat("ListCases|", req->filter()),
                                                   req->page_size(), req->page_token()));
    MARKET_ASSIGN_OR_RETURN(CaseQuery q, ParseCaseFilter(req->filter()));
    MARKET_ASSIGN_OR_RETURN(std::optional<SearchCursor> after, page.Cursor());
    absl::Time now = clock_->Now();
    MARKET_ASSIGN_OR_RETURN(std::vector<CaseHit> hits, store_->List(q, after, page.limit(), now));
    resp->set_next_page_token(
        page.Trim(hits, [](const CaseHit& h) { return EncodeCursor(h.cursor); }));
    for (CaseHit& hit : hits) {
      PresentCase(hit.c, now);
      *resp->add_cases() = std::move(hit.c);
    }
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::AssignCase(grpc::ServerContext* ctx,
                                         const sv::AssignCaseRequest* req, sv::Case* resp) {
  return server::HandleRpc(env_, ctx, "AssignCase", *req, [&](const auth::Caller& caller) {
    Violations v;
    if (!IsCaseName(req->name())) v.Add("name", "want cases/{case}");
    if (!req->assignee().empty() && !ValidCollectionName(req->assignee(), "subjects")) {
      v.Add("assignee", "want subjects/{subject}");
    }
    CheckRequestIdLength(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    const std::string assignee = req->assignee().empty() ? caller.subject : req->assignee();
    absl::Time now = clock_->Now();
    MARKET_ASSIGN_OR_RETURN(
        *resp, store_->Update(
                   req->name(),
                   [&](Connection&, Case& c, int64_t version) -> absl::Status {
                     c.set_etag(VersionEtag(version));
                     MARKET_RETURN_IF_ERROR(CheckEtag(req->etag(), c));
                     MARKET_RETURN_IF_ERROR(
                         CheckCaseTransition(c.state(), Case::IN_REVIEW, ActorOf(caller, c)));
                     c.set_state(Case::IN_REVIEW);
                     c.set_assignee(assignee);
                     return absl::OkStatus();
                   },
                   RequestKey{"AssignCase", caller.subject, req->request_id()}, now));
    PresentCase(*resp, now);
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::AddCaseNote(grpc::ServerContext* ctx,
                                          const sv::AddCaseNoteRequest* req, sv::Case* resp) {
  return server::HandleRpc(env_, ctx, "AddCaseNote", *req, [&](const auth::Caller& caller) {
    Violations v;
    if (!IsCaseName(req->name())) v.Add("name", "want cases/{case}");
    if (req->text().empty()) v.Add("text", "required");
    if (Utf8CharCount(req->text()) > static_cast<size_t>(kMaxCaseNoteChars)) {
      v.Add("text", absl::StrCat("longer than ", kMaxCaseNoteChars, " characters"));
    }
    CheckRequestIdLength(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    absl::Time now = clock_->Now();
    MARKET_ASSIGN_OR_RETURN(
        *resp, store_->Update(
                   req->name(),
                   [&](Connection&, Case& c, int64_t) -> absl::Status {
                     if (c.state() == Case::CLOSED) {
                       return WithReason(absl::StatusCode::kFailedPrecondition, "CASE_CLOSED",
                                         absl::StrCat(c.name(), " is closed"));
                     }
                     sv::CaseNote* note = c.add_notes();
                     note->set_author(caller.subject);
                     note->set_text(req->text());
                     *note->mutable_create_time() = ToTimestamp(now);
                     return absl::OkStatus();
                   },
                   RequestKey{"AddCaseNote", caller.subject, req->request_id()}, now));
    PresentCase(*resp, now);
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::CloseCase(grpc::ServerContext* ctx, const sv::CloseCaseRequest* req,
                                        sv::Case* resp) {
  return server::HandleRpc(env_, ctx, "CloseCase", *req, [&](const auth::Caller& caller) {
    Violations v;
    if (!IsCaseName(req->name())) v.Add("name", "want cases/{case}");
    if (!req->has_decision()) v.Add("decision", "required");
    CheckRequestIdLength(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    absl::Time now = clock_->Now();
    auto close = [&](Connection& conn, Case& c, int64_t version) -> absl::Status {
      c.set_etag(VersionEtag(version));
      MARKET_RETURN_IF_ERROR(CheckEtag(req->etag(), c));
      MARKET_RETURN_IF_ERROR(CheckCaseTransition(c.state(), Case::CLOSED, ActorOf(caller, c)));
      MARKET_ASSIGN_OR_RETURN(Decision d, ValidateDecision(c, req->decision()));
      d.set_decided_by(caller.subject);
      *d.mutable_decide_time() = ToTimestamp(now);
      if (d.outcome() == Decision::CONFIRMED) {
        Record r;
        r.set_subject(d.subject());
        for (const auto& p : c.subjects()) {
          if (p.subject() == d.subject()) r.set_subject_role(p.role());
        }
        r.set_type(d.record_type());
        r.set_reference(c.resource().empty() ? c.name() : c.resource());
        r.set_decision_document_number(d.decision_document_number());
        r.set_reason(d.reason());
        r.set_source(caller.subject);
        r.set_event_id(absl::StrCat("case-closed-", c.name().substr(6)));
        *r.mutable_occurred_time() = ToTimestamp(now);
        *r.mutable_recorded_time() = ToTimestamp(now);
        Record::Tier tier = ledger::EffectiveTier(r);
        r.set_tier(tier);
        *r.mutable_min_display_until() = ToTimestamp(now + ledger::MinDisplay(tier));
        *r.mutable_max_display_until() = ToTimestamp(now + ledger::MaxDisplay(tier));
        MARKET_ASSIGN_OR_RETURN(AppendResult appended,
                                store_->credit()->AppendInTransaction(conn, r));
        d.set_record(appended.record.name());
      }
      *c.mutable_decision() = std::move(d);
      c.set_state(Case::CLOSED);
      *c.mutable_close_time() = ToTimestamp(now);
      return absl::OkStatus();
    };
    MARKET_ASSIGN_OR_RETURN(
        *resp, store_->Update(req->name(), close,
                              RequestKey{"CloseCase", caller.subject, req->request_id()}, now));
    PresentCase(*resp, now);
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::OpenCase(grpc::ServerContext* ctx, const sv::OpenCaseRequest* req,
                                       sv::Case* resp) {
  return server::HandleRpc(env_, ctx, "OpenCase", *req, [&](const auth::Caller& caller) {
    absl::Time now = clock_->Now();
    Violations v;
    if (!req->has_case_()) v.Add("case", "required");
    v.Merge(ValidateNewCase(req->case_(), /*from_event=*/false, now));
    CheckRequestIdLength(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(Case c, NewCase(req->case_(), caller.subject, now));
    MARKET_ASSIGN_OR_RETURN(
        *resp, store_->Create(c, RequestKey{"OpenCase", caller.subject, req->request_id()}, now));
    MARKET_RETURN_IF_ERROR(Announce(*resp));
    PresentCase(*resp, now);
    return absl::OkStatus();
  });
}

grpc::Status CaseServiceImpl::ReportSuspectedViolation(
    grpc::ServerContext* ctx, const sv::ReportSuspectedViolationRequest* req, sv::Case* resp) {
  return server::HandleRpc(
      env_, ctx, "ReportSuspectedViolation", *req, [&](const auth::Caller& caller) {
        Violations v;
        if (!ValidMarketChildName(req->order(), "orders", nullptr)) {
          v.Add("order", "want markets/{market}/orders/{order}");
        }
        if (req->violation() != sv::ReportSuspectedViolationRequest::COUNTERFEIT &&
            req->violation() != sv::ReportSuspectedViolationRequest::FRAUD) {
          v.Add("violation", "want COUNTERFEIT or FRAUD");
        }
        if (req->description().empty()) v.Add("description", "required");
        if (Utf8CharCount(req->description()) > static_cast<size_t>(kMaxCaseTextChars)) {
          v.Add("description", absl::StrCat("longer than ", kMaxCaseTextChars, " characters"));
        }
        CheckRequestIdLength(v, req->request_id());
        MARKET_RETURN_IF_ERROR(v.ToStatus());
        if (!peers_.order) return absl::UnavailableError("no listing service to ask for orders");
        MARKET_ASSIGN_OR_RETURN(OrderParties order, Found(peers_.order(req->order()), req->order()));
        if (order.buyer != caller.subject) {
          return absl::PermissionDeniedError(
              absl::StrCat(caller.subject, " is not the buyer of ", req->order()));
        }
        absl::Time now = clock_->Now();
        Case in;
        in.set_kind(Case::SUSPECTED_VIOLATION);
        sv::Party* seller = in.add_subjects();
        seller->set_subject(order.seller);
        seller->set_role(Role::SELLER);
        in.set_resource(req->order());
        in.set_market(order.market);
        in.set_summary(absl::StrCat(
            sv::ReportSuspectedViolationRequest::Violation_Name(req->violation()), ": ",
            req->description()));
        MARKET_ASSIGN_OR_RETURN(Case c, NewCase(in, caller.subject, now));
        MARKET_ASSIGN_OR_RETURN(
            *resp, store_->Create(
                       c, RequestKey{"ReportSuspectedViolation", caller.subject, req->request_id()},
                       now));
        MARKET_RETURN_IF_ERROR(Announce(*resp));
        PresentCase(*resp, now);
        return absl::OkStatus();
      });
}

grpc::Status CaseServiceImpl::RecordCaseEvent(grpc::ServerContext* ctx,
                                              const sv::RecordCaseEventRequest* req,
                                              sv::Case* resp) {
  return server::HandleRpc(env_, ctx, "RecordCaseEvent", *req, [&](const auth::Caller& caller) {
    absl::Time now = clock_->Now();
    Violations v;
    if (req->event_id().empty() || req->event_id().size() > 128) {
      v.Add("event_id", "required (the outbox event id), up to 128 characters");
    }
    if (!req->has_case_()) v.Add("case", "required");
    v.Merge(ValidateNewCase(req->case_(), /*from_event=*/true, now));
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(Case c, NewCase(req->case_(), caller.subject, now));
    c.set_source_event(req->event_id());
    MARKET_ASSIGN_OR_RETURN(*resp, store_->CreateFromEvent(req->event_id(), c, now));
    MARKET_RETURN_IF_ERROR(Announce(*resp));
    PresentCase(*resp, now);
    return absl::OkStatus();
  });
}

}  // namespace market::credit
