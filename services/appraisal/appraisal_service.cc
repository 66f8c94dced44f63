#include "services/appraisal/appraisal_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/idempotency/idempotency.h"
#include "common/outbox/outbox.h"
#include "common/pagination/page.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "services/appraisal/appraisal_tables.h"
#include "services/appraisal/appraisal_lifecycle.h"
#include "services/appraisal/appraisal_rules.h"
#include "services/appraisal/certificate.h"
#include "services/appraisal/grading_schemes.h"
#include "services/credit/case_events.h"
#include "services/credit/credit_events.h"
#include "services/listing/listing_events.h"
#include "services/webhook/webhook_events.h"

namespace market::appraisal {
namespace {

using common::v1::Category;
using common::v1::Role;
using credit::v1::Record;
using sqlite::Connection;

constexpr char kService[] = "market.appraisal.v1.AppraisalService";
constexpr size_t kMaxSignedContentBytes = 1 << 20;
constexpr size_t kMaxReasonChars = 2000;

absl::Status CheckEtag(const std::string& given, const std::string& current) {
  if (!given.empty() && given != current) {
    return absl::AbortedError(absl::StrCat("etag ", given, " is stale; current is ", current));
  }
  return absl::OkStatus();
}

// FAILED_PRECONDITION with ErrorInfo `reason` and the message `parts` concatenated.
template <typename... Parts>
absl::Status Precondition(absl::string_view reason, const Parts&... parts) {
  return WithReason(absl::StatusCode::kFailedPrecondition, reason, absl::StrCat(parts...));
}

bool HasRole(const identity::v1::Subject& s, Role role) {
  return std::find(s.roles().begin(), s.roles().end(), role) != s.roles().end();
}

using FilterTerms = std::map<std::string, std::string>;

// The filter's `category` term, if given.
absl::StatusOr<std::optional<Category>> CategoryTerm(const FilterTerms& terms) {
  auto it = terms.find("category");
  if (it == terms.end()) return std::nullopt;
  Category c;
  if (!common::v1::Category_Parse(it->second, &c) || c == common::v1::CATEGORY_UNSPECIFIED) {
    return InvalidField("filter", absl::StrCat("unknown category \"", it->second, "\""));
  }
  return c;
}

// The filter's `state` term, if given, parsed with the proto's State_Parse
// (the zero UNSPECIFIED value is unknown too).
template <typename State, typename ParseFn>
absl::StatusOr<std::optional<State>> StateTerm(const FilterTerms& terms, ParseFn parse) {
  auto it = terms.find("state");
  if (it == terms.end()) return std::nullopt;
  State s;
  if (!parse(it->second, &s) || static_cast<int>(s) == 0) {
    return InvalidField("filter", absl::StrCat("unknown state \"", it->second, "\""));
  }
  return s;
}

// `{parent}{collection}{id}` for a Create: `id` as given, or generated with
// `prefix` when the client chose none.
std::string NewName(absl::string_view parent, absl::string_view collection, const std::string& id,
                    char prefix) {
  return absl::StrCat(parent, collection, id.empty() ? GeneratedId(prefix) : id);
}

// The appraisal `appraisals/{a}` that dispute `appraisals/{a}/disputes/{d}` is of.
std::string DisputedAppraisal(const std::string& dispute) {
  return dispute.substr(0, dispute.find("/disputes/"));
}

// Whether `name` is `appraisals/{appraisal}/disputes/{dispute}`.
bool ValidDisputeName(const std::string& name) {
  std::string appraisal = DisputedAppraisal(name);
  return ValidCollectionName(appraisal, "appraisals") &&
         ValidCollectionName(name.substr(std::min(name.size(), appraisal.size() + 1)), "disputes");
}

// A mutating handler's change: runs `change` in one write transaction once
// per (method, caller, request_id), as RunIdempotent does, into *resp.
template <typename Resp, typename Change>
absl::Status Idempotent(sqlite::Database& db, const char* method, const auth::Caller& caller,
                        const std::string& request_id, absl::Time now, Resp* resp,
                        Change&& change) {
  MARKET_ASSIGN_OR_RETURN(*resp,
                          RunIdempotent<Resp>(db, method, caller.subject, request_id, now, change));
  return absl::OkStatus();
}

// The row `name` read with `load` in one read transaction; NOT_FOUND when
// there is none.
template <typename Row>
absl::StatusOr<Row> ReadFound(sqlite::Database& db, const std::string& name,
                              absl::StatusOr<std::optional<Row>> (*load)(Connection&,
                                                                         const std::string&)) {
  Row row;
  MARKET_RETURN_IF_ERROR(db.Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(row, Found(load(c, name), name));
    return absl::OkStatus();
  }));
  return row;
}

// Starts the page of List request `req` of `method`: its page token is bound
// to the method, the parent (for requests that have one) and the filter.
template <typename Req>
absl::StatusOr<Page> StartPage(const PageTokenCodec& pages, const char* method, const Req& req) {
  std::string query = absl::StrCat(method, "|", req.filter());
  if constexpr (requires { req.parent(); }) {
    query = absl::StrCat(method, "|", req.parent(), "|", req.filter());
  }
  return Page::Start(pages, std::move(query), req.page_size(), req.page_token());
}

// One page of a List RPC in one read transaction: `list` fetches
// page.limit() rows, the page keeps page.size() of them and sets the next
// page token from `position_of` the last kept row, and `add` puts each kept
// row into the response.
template <typename Resp, typename List, typename PositionOf, typename Add>
absl::Status ReadPage(sqlite::Database& db, const Page& page, Resp* resp, List list,
                      PositionOf position_of, Add add) {
  return db.Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(auto rows, list(c));
    resp->set_next_page_token(page.Trim(rows, position_of));
    for (auto& row : rows) add(row);
    return absl::OkStatus();
  });
}

// `firms/{f}` or `firms/-` as a List parent: "" for every firm.
absl::StatusOr<std::string> FirmParent(const std::string& parent) {
  if (parent == "firms/-") return std::string();
  if (FirmSubject(parent).empty()) return InvalidField("parent", "want firms/{firm} or firms/-");
  return parent;
}

// The accreditation as a reader sees it: the state derived at `now`.
v1::Accreditation View(v1::Accreditation a, absl::Time now) {
  a.set_state(EffectiveState(a, now));
  return a;
}

std::string AppraisalId(const std::string& name) { return name.substr(name.find('/') + 1); }

// Event ids of the outbox (deterministic, at most 128 characters).
std::string FiledEventId(const std::string& appraisal) {
  return absl::StrCat("appraisal-filed-", AppraisalId(appraisal));
}
std::string ClearedEventId(const std::string& appraisal) {
  return absl::StrCat("appraisal-cleared-", AppraisalId(appraisal));
}
// Clearing caused by a dispute ruling: one id per dispute, so it never
// collides with the clearing sent when the report was superseded (the
// listing ignores a clear that no longer names its latest appraisal).
std::string RulingClearedEventId(const std::string& dispute) {
  return absl::StrCat("appraisal-ruling-cleared-", HexEncode(Sha256(dispute)).substr(0, 40));
}

// Why no accreditation covers the report: NOT_ACCREDITED or ACCREDITATION_EXPIRED.
absl::Status NotAccredited(const std::vector<AccreditationRow>& rows, const v1::AppraisalContent& c,
                           absl::Time inspected) {
  for (const AccreditationRow& row : rows) {
    const v1::Accreditation& a = row.accreditation;
    bool category = std::find(a.categories().begin(), a.categories().end(), c.category()) !=
                    a.categories().end();
    if (category && FromTimestamp(a.valid_from()) <= inspected &&
        FromTimestamp(a.valid_until()) <= inspected && !row.ended.has_value()) {
      return Precondition("ACCREDITATION_EXPIRED", a.name(), " expired at ",
                          absl::FormatTime(FromTimestamp(a.valid_until())),
                          ", before the inspection");
    }
  }
  for (const AccreditationRow& row : rows) {
    if (row.ended.has_value() &&
        CoversAt(row.accreditation, std::nullopt, c.category(), inspected)) {
      return Precondition("NOT_ACCREDITED", row.accreditation.name(), " is ",
                          v1::Accreditation::State_Name(row.accreditation.state()));
    }
  }
  return Precondition("NOT_ACCREDITED", c.firm(), " holds no ACTIVE accreditation for ",
                      common::v1::Category_Name(c.category()), " at ", absl::FormatTime(inspected));
}

// The accreditation that covered `c` at its inspection, as filing requires it
// (never suspended or revoked), or the error saying why none did.
absl::StatusOr<std::string> CoveringAccreditation(Connection& conn, const v1::AppraisalContent& c) {
  MARKET_ASSIGN_OR_RETURN(std::vector<AccreditationRow> rows, FirmAccreditations(conn, c.firm()));
  absl::Time inspected = FromTimestamp(c.inspected_time());
  for (const AccreditationRow& row : rows) {
    if (!row.ended.has_value() && CoversAt(row.accreditation, row.ended, c.category(), inspected)) {
      return row.accreditation.name();
    }
  }
  return NotAccredited(rows, c, inspected);
}

// Checks every grade of `c` against its stored scheme.
absl::Status CheckGrades(Connection& conn, const v1::AppraisalContent& c) {
  std::optional<int> score;
  if (c.has_score()) score = c.score();
  for (int i = 0; i < c.grades_size(); ++i) {
    const common::v1::GradeRef& g = c.grades(i);
    std::string field = absl::StrCat(kContentField, ".grades[", i, "]");
    MARKET_ASSIGN_OR_RETURN(std::optional<SchemeDefinition> def,
                            LoadScheme(conn, g.scheme(), g.version()));
    if (!def.has_value()) {
      return InvalidWithReason(
          field + ".scheme", "UNKNOWN_GRADE",
          absl::StrCat("no grading scheme ", SchemeName(g.scheme(), g.version())));
    }
    MARKET_RETURN_IF_ERROR(CheckGrade(*def, g, c.category(), score, c.accident_found(), field));
  }
  return absl::OkStatus();
}

// Hides the filer and state reason from callers other than supervisors and
// the firm's own staff (`caller_firm`).
void RedactFor(const auth::Caller& caller, const std::string& caller_firm, v1::Appraisal& a) {
  if (caller.HasRole(Role::SUPERVISOR) ||
      (!caller_firm.empty() && caller_firm == a.content().firm())) {
    return;
  }
  a.clear_filer();
  a.clear_state_reason();
}

// The outbox events the appraisal service writes, in the caller's transaction
// at `now`: item observations for the listing service, supervision cases and
// webhook events about disputes, and credit records of overturned reports.
class AppraisalEvents {
 public:
  AppraisalEvents(Connection& c, absl::Time now) : c_(c), now_(now) {}

  // listing.RecordObservation of report `a` (id `event_id`). With `with_summary` the
  // listing's latest appraisal is set, without it cleared (if it names this report).
  // Nothing for a report without a traceable item.
  absl::Status Observation(const std::string& event_id, const v1::Appraisal& a,
                           bool with_summary) const {
    if (a.item().empty()) return absl::OkStatus();  // no traceable item to observe
    listing::v1::RecordObservationRequest req;
    req.set_parent(a.item());
    *req.mutable_observation() = ObservationOf(a.name(), a.content());
    req.set_listing(a.content().listing());
    if (with_summary && !a.content().listing().empty()) {
      *req.mutable_latest_appraisal() = SummaryOf(a.name(), a.content());
    }
    return listing::EnqueueObservation(c_, event_id, std::move(req), now_);
  }

  // An APPRAISAL_DISPUTE supervision case about the firm and appraiser of report
  // `a`, disputed by `d`.
  absl::Status DisputeCase(const v1::Appraisal& a, const v1::Dispute& d) const {
    supervision::v1::Case event;
    event.set_kind(supervision::v1::Case::APPRAISAL_DISPUTE);
    for (const auto& [subject, role] :
         {std::pair{FirmSubject(a.content().firm()), Role::APPRAISAL_FIRM},
          std::pair{a.content().appraiser(), Role::APPRAISER}}) {
      if (subject.empty()) continue;
      supervision::v1::Party* p = event.add_subjects();
      p->set_subject(subject);
      p->set_role(role);
    }
    event.set_resource(d.name());
    event.set_market(MarketOf(a));
    event.set_summary(d.reason());
    return credit::EnqueueCaseEvent(c_, absl::StrCat("case-dispute-", Key(d.name())), event, now_);
  }

  // The webhook event `kind` about dispute `d` of report `a` (id `id_prefix` +
  // dispute name), for supervisors and the report's firm; an event already
  // written with that id is kept as it is.
  absl::Status DisputeWebhook(webhook::v1::EventKind kind, absl::string_view id_prefix,
                              const v1::Dispute& d, const v1::Appraisal& a) const {
    webhook::v1::Event e;
    e.set_event_id(absl::StrCat(id_prefix, d.name()));
    e.set_kind(kind);
    *e.mutable_time() = ToTimestamp(now_);
    e.set_resource(d.name());
    e.set_market(MarketOf(a));
    if (std::string firm = FirmSubject(a.content().firm()); !firm.empty()) e.add_audience(firm);
    auto& attrs = *e.mutable_attributes();
    attrs["appraisal"] = a.name();
    attrs["raiser"] = d.raiser();
    attrs["state"] = v1::Dispute::State_Name(d.state());
    const std::string& listing = a.content().listing();
    if (!listing.empty()) attrs["listing"] = listing;
    absl::Status s = webhook::EnqueueWebhookEvent(c_, e, now_);
    return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
  }

  // APPRAISAL_OVERTURNED credit records against the firm and the appraiser of
  // report `a`, with the ruling's `reason` and decision document number.
  absl::Status Overturned(const v1::Appraisal& a, const std::string& reason,
                          const std::string& decision_document_number) const {
    const std::pair<std::string, Role> subjects[] = {
        {FirmSubject(a.content().firm()), Role::APPRAISAL_FIRM},
        {a.content().appraiser(), Role::APPRAISER}};
    for (const auto& [subject, role] : subjects) {
      Record r;
      r.set_subject(subject);
      r.set_subject_role(role);
      r.set_type(Record::APPRAISAL_OVERTURNED);
      r.set_tier(Record::GENERAL);
      r.set_reference(a.name());
      r.set_reason(reason);
      r.set_decision_document_number(decision_document_number);
      *r.mutable_occurred_time() = ToTimestamp(now_);
      MARKET_RETURN_IF_ERROR(credit::EnqueueCreditEvent(
          c_,
          absl::StrCat("appraisal-overturned-",
                       role == Role::APPRAISAL_FIRM ? "firm-" : "appraiser-", Key(a.name())),
          r, now_));
    }
    return absl::OkStatus();
  }

 private:
  // The first 40 hex digits of SHA-256 of `name`: the id of events once per name.
  static std::string Key(const std::string& name) { return HexEncode(Sha256(name)).substr(0, 40); }
  // The market of report `a`: its listing's name up to "/listings/".
  static std::string MarketOf(const v1::Appraisal& a) {
    const std::string& listing = a.content().listing();
    return listing.substr(0, listing.find("/listings/"));
  }

  Connection& c_;
  absl::Time now_;
};

}  // namespace

std::vector<auth::RpcPolicy> AppraisalPolicies() {
  using enum common::v1::Role;
  return {
      {.method = "GrantAccreditation", .roles = {SUPERVISOR}},
      {.method = "SuspendAccreditation", .roles = {SUPERVISOR}},
      {.method = "RevokeAccreditation", .roles = {SUPERVISOR}},
      {.method = "ListAccreditations", .public_access = true},
      {.method = "RegisterSigningKey", .roles = {APPRAISAL_FIRM}},
      {.method = "RetireSigningKey", .roles = {APPRAISAL_FIRM, SUPERVISOR}},
      {.method = "ListSigningKeys", .public_access = true},
      {.method = "FileAppraisal", .roles = {APPRAISAL_FIRM, APPRAISER}},
      {.method = "GetAppraisal", .public_access = true},
      {.method = "ListAppraisals", .public_access = true},
      {.method = "VerifyAppraisal", .public_access = true},
      {.method = "FileDispute", .roles = {SELLER, BUYER, APPRAISAL_FIRM, APPRAISER}},
      {.method = "GetDispute", .roles = {SUPERVISOR, SELLER, BUYER, APPRAISAL_FIRM, APPRAISER}},
      {.method = "ListDisputes", .roles = {SUPERVISOR, SELLER, BUYER, APPRAISAL_FIRM, APPRAISER}},
      {.method = "RuleOnDispute", .roles = {SUPERVISOR}},
      {.method = "ListGradingSchemes", .public_access = true},
      {.method = "GetAppraisalCertificate", .public_access = true},
  };
}

absl::StatusOr<std::unique_ptr<AppraisalServiceImpl>> AppraisalServiceImpl::Create(
    AppraisalDeps deps) {
  std::unique_ptr<AppraisalServiceImpl> s(new AppraisalServiceImpl(std::move(deps)));
  MARKET_ASSIGN_OR_RETURN(
      s->authorizer_,
      auth::Authorizer::Create(
          v1::Appraisal::descriptor()->file()->FindServiceByName("AppraisalService"),
          AppraisalPolicies(), s->deps_.verifier, s->deps_.suspension, s->deps_.clock));
  s->env_ = server::RpcEnv{kService, s->authorizer_.get(), s->deps_.metrics};
  return s;
}

absl::StatusOr<identity::v1::Subject> AppraisalServiceImpl::RequireSubject(
    const std::string& name, const std::string& what) const {
  return Found(deps_.subjects(name), absl::StrCat(what, " ", name));
}

absl::StatusOr<std::string> AppraisalServiceImpl::CallerFirm(const auth::Caller& caller) const {
  if (caller.HasRole(Role::APPRAISAL_FIRM)) return FirmOfSubject(caller.subject);
  if (!caller.HasRole(Role::APPRAISER)) return std::string();
  MARKET_ASSIGN_OR_RETURN(std::optional<identity::v1::Subject> s, deps_.subjects(caller.subject));
  if (!s.has_value() || s->affiliation().empty()) return std::string();
  return FirmOfSubject(s->affiliation());
}

absl::StatusOr<std::vector<std::string>> AppraisalServiceImpl::PartiesOf(
    const std::string& listing) const {
  if (listing.empty()) return std::vector<std::string>{};
  absl::StatusOr<std::vector<std::string>> parties = deps_.parties(listing);
  if (absl::IsNotFound(parties.status())) return std::vector<std::string>{};
  return parties;
}

// ---- Accreditations ----------------------------------------------------------

grpc::Status AppraisalServiceImpl::GrantAccreditation(grpc::ServerContext* ctx,
                                                      const v1::GrantAccreditationRequest* req,
                                                      v1::Accreditation* resp) {
  return server::HandleRpc(env_, ctx, "GrantAccreditation", *req, [&](const auth::Caller& caller) {
    const v1::Accreditation& in = req->accreditation();
    Violations v;
    std::string firm_subject = FirmSubject(req->parent());
    if (firm_subject.empty()) v.Add("parent", "want firms/{firm}");
    if (in.categories_size() == 0) v.Add("accreditation.categories", "want at least one category");
    std::set<int> seen;
    for (int c : in.categories()) {
      if (c == common::v1::CATEGORY_UNSPECIFIED || !common::v1::Category_IsValid(c)) {
        v.Add("accreditation.categories", "want PHONE, APPLIANCE, FURNITURE or VEHICLE");
      } else if (!seen.insert(c).second) {
        v.Add("accreditation.categories", absl::StrCat(common::v1::Category_Name(c), " repeated"));
      }
    }
    if (!in.has_valid_from()) v.Add("accreditation.valid_from", "required");
    if (!in.has_valid_until()) v.Add("accreditation.valid_until", "required");
    if (in.has_valid_from() && in.has_valid_until() &&
        FromTimestamp(in.valid_until()) <= FromTimestamp(in.valid_from())) {
      v.Add("accreditation.valid_until", "must be after valid_from");
    }
    if (in.certificate_number().size() > 64) {
      v.Add("accreditation.certificate_number", "longer than 64 bytes");
    }
    CheckResourceId(v, "accreditation_id", req->accreditation_id());
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(identity::v1::Subject firm, RequireSubject(firm_subject, "firm"));
    if (!HasRole(firm, Role::APPRAISAL_FIRM)) {
      return Precondition("SUBJECT_NOT_FIRM", firm_subject,
                          " does not hold the APPRAISAL_FIRM role");
    }
    absl::Time now = deps_.clock->Now();
    std::string name = NewName(req->parent(), "/accreditations/", req->accreditation_id(), 'a');
    return Idempotent(*deps_.db, "GrantAccreditation", caller, req->request_id(), now, resp,
                      [&](Connection& c) -> absl::StatusOr<v1::Accreditation> {
                        v1::Accreditation a;
                        a.set_name(name);
                        *a.mutable_categories() = in.categories();
                        *a.mutable_valid_from() = in.valid_from();
                        *a.mutable_valid_until() = in.valid_until();
                        a.set_granted_by(caller.subject);
                        a.set_certificate_number(in.certificate_number());
                        a.set_state(v1::Accreditation::ACTIVE);
                        *a.mutable_create_time() = ToTimestamp(now);
                        *a.mutable_update_time() = ToTimestamp(now);
                        MARKET_ASSIGN_OR_RETURN(a, SaveAccreditation(c, a, std::nullopt, 1, true));
                        return View(a, now);
                      });
  });
}

template <typename Req>
grpc::Status AppraisalServiceImpl::EndAccreditation(grpc::ServerContext* ctx, const char* method,
                                                    const Req& req, v1::Accreditation::State to,
                                                    v1::Accreditation* resp) {
  return server::HandleRpc(env_, ctx, method, req, [&](const auth::Caller& caller) {
    const std::string& name = req.name();
    Violations v;
    if (!ValidFirmChildName(name, "accreditations", nullptr)) {
      v.Add("name", "want firms/{firm}/accreditations/{accreditation}");
    }
    size_t chars = Utf8CharCount(req.reason());
    if (chars == 0 || chars > 500) v.Add("reason", "required, up to 500 characters");
    CheckRequestId(v, req.request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    absl::Time now = deps_.clock->Now();
    return Idempotent(
        *deps_.db, method, caller, req.request_id(), now, resp,
        [&](Connection& c) -> absl::StatusOr<v1::Accreditation> {
          MARKET_ASSIGN_OR_RETURN(AccreditationRow row, Found(LoadAccreditation(c, name), name));
          v1::Accreditation& a = row.accreditation;
          MARKET_RETURN_IF_ERROR(CheckEtag(req.etag(), a.etag()));
          v1::Accreditation::State state = EffectiveState(a, now);
          if (to == v1::Accreditation::SUSPENDED && state != v1::Accreditation::ACTIVE) {
            return Precondition("ACCREDITATION_NOT_ACTIVE", name, " is ",
                                v1::Accreditation::State_Name(state));
          }
          if (to == v1::Accreditation::REVOKED &&
              (state == v1::Accreditation::REVOKED || state == v1::Accreditation::EXPIRED)) {
            return Precondition("ACCREDITATION_ALREADY_ENDED", name, " is ",
                                v1::Accreditation::State_Name(state));
          }
          a.set_state(to);
          a.set_state_reason(req.reason());
          *a.mutable_update_time() = ToTimestamp(now);
          std::optional<absl::Time> ended = row.ended.has_value() ? row.ended : now;
          MARKET_ASSIGN_OR_RETURN(v1::Accreditation saved,
                                  SaveAccreditation(c, a, ended, row.version + 1, false));
          return View(saved, now);
        });
  });
}

grpc::Status AppraisalServiceImpl::SuspendAccreditation(grpc::ServerContext* ctx,
                                                        const v1::SuspendAccreditationRequest* req,
                                                        v1::Accreditation* resp) {
  return EndAccreditation(ctx, "SuspendAccreditation", *req, v1::Accreditation::SUSPENDED, resp);
}

grpc::Status AppraisalServiceImpl::RevokeAccreditation(grpc::ServerContext* ctx,
                                                       const v1::RevokeAccreditationRequest* req,
                                                       v1::Accreditation* resp) {
  return EndAccreditation(ctx, "RevokeAccreditation", *req, v1::Accreditation::REVOKED, resp);
}

grpc::Status AppraisalServiceImpl::ListAccreditations(grpc::ServerContext* ctx,
                                                      const v1::ListAccreditationsRequest* req,
                                                      v1::ListAccreditationsResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListAccreditations", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(Page page, StartPage(pages_, "ListAccreditations", *req));
    AccreditationQuery q;
    MARKET_ASSIGN_OR_RETURN(q.firm, FirmParent(req->parent()));
    MARKET_ASSIGN_OR_RETURN(auto terms, ParseFilter(req->filter(), {"category", "state"}));
    MARKET_ASSIGN_OR_RETURN(q.category, CategoryTerm(terms));
    MARKET_ASSIGN_OR_RETURN(
        q.state, StateTerm<v1::Accreditation::State>(terms, v1::Accreditation::State_Parse));
    absl::Time now = deps_.clock->Now();
    return ReadPage(
        *deps_.db, page, resp,
        [&](Connection& c) {
          return appraisal::ListAccreditations(c, q, now, page.position(), page.limit());
        },
        [](const AccreditationRow& r) { return r.accreditation.name(); },
        [&](AccreditationRow& row) {
          *resp->add_accreditations() = View(std::move(row.accreditation), now);
        });
  });
}

// ---- Signing keys ---------------------------------------------------------------

grpc::Status AppraisalServiceImpl::RegisterSigningKey(grpc::ServerContext* ctx,
                                                      const v1::RegisterSigningKeyRequest* req,
                                                      v1::SigningKey* resp) {
  return server::HandleRpc(env_, ctx, "RegisterSigningKey", *req, [&](const auth::Caller& caller) {
    const v1::SigningKey& in = req->signing_key();
    Violations v;
    std::string firm_subject = FirmSubject(req->parent());
    if (firm_subject.empty()) v.Add("parent", "want firms/{firm}");
    std::optional<Ed25519PublicKey> key;
    bool raw = !in.public_key().empty();
    bool pem = !in.public_key_pem().empty();
    if (raw == pem) {
      v.Add("signing_key.public_key", "give exactly one of public_key and public_key_pem");
    } else {
      absl::StatusOr<Ed25519PublicKey> parsed =
          raw ? Ed25519PublicKey::FromRaw(in.public_key())
              : Ed25519PublicKey::FromPem(in.public_key_pem());
      if (parsed.ok()) {
        key = *std::move(parsed);
      } else {
        v.Add(raw ? "signing_key.public_key" : "signing_key.public_key_pem",
              absl::StrCat("not an Ed25519 public key: ", parsed.status().message()));
      }
    }
    CheckResourceId(v, "key_id", req->key_id());
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    if (caller.subject != firm_subject) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.subject, " may register keys only for its own firm"));
    }
    absl::Time now = deps_.clock->Now();
    std::string name = NewName(req->parent(), "/keys/", req->key_id(), 'k');
    return Idempotent(*deps_.db, "RegisterSigningKey", caller, req->request_id(), now, resp,
                      [&](Connection& c) -> absl::StatusOr<v1::SigningKey> {
                        v1::SigningKey k;
                        k.set_name(name);
                        k.set_public_key(key->Raw());
                        k.set_public_key_pem(key->Pem());
                        k.set_fingerprint(HexEncode(Sha256(key->Raw())));
                        k.set_state(v1::SigningKey::ACTIVE);
                        *k.mutable_create_time() = ToTimestamp(now);
                        return SaveKey(c, k, 1, true);
                      });
  });
}

grpc::Status AppraisalServiceImpl::RetireSigningKey(grpc::ServerContext* ctx,
                                                    const v1::RetireSigningKeyRequest* req,
                                                    v1::SigningKey* resp) {
  return server::HandleRpc(env_, ctx, "RetireSigningKey", *req, [&](const auth::Caller& caller) {
    Violations v;
    std::string firm;
    if (!ValidFirmChildName(req->name(), "keys", &firm))
      v.Add("name", "want firms/{firm}/keys/{key}");
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    if (!caller.HasRole(Role::SUPERVISOR) && caller.subject != FirmSubject(firm)) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.subject, " may retire only its own firm's keys"));
    }
    absl::Time now = deps_.clock->Now();
    return Idempotent(
        *deps_.db, "RetireSigningKey", caller, req->request_id(), now, resp,
        [&](Connection& c) -> absl::StatusOr<v1::SigningKey> {
          MARKET_ASSIGN_OR_RETURN(KeyRow row, Found(LoadKey(c, req->name()), req->name()));
          MARKET_RETURN_IF_ERROR(CheckEtag(req->etag(), row.key.etag()));
          MARKET_RETURN_IF_ERROR(CheckSigningKeyTransition(row.key.state(), v1::SigningKey::RETIRED,
                                                           caller.HasRole(Role::SUPERVISOR)
                                                               ? AppraisalActor::kSupervisor
                                                               : AppraisalActor::kFirm));
          row.key.set_state(v1::SigningKey::RETIRED);
          *row.key.mutable_retire_time() = ToTimestamp(now);
          return SaveKey(c, row.key, row.version + 1, false);
        });
  });
}

grpc::Status AppraisalServiceImpl::ListSigningKeys(grpc::ServerContext* ctx,
                                                   const v1::ListSigningKeysRequest* req,
                                                   v1::ListSigningKeysResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListSigningKeys", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(Page page, StartPage(pages_, "ListSigningKeys", *req));
    MARKET_ASSIGN_OR_RETURN(std::string firm, FirmParent(req->parent()));
    MARKET_ASSIGN_OR_RETURN(auto terms, ParseFilter(req->filter(), {"state"}));
    MARKET_ASSIGN_OR_RETURN(std::optional<v1::SigningKey::State> state,
                            StateTerm<v1::SigningKey::State>(terms, v1::SigningKey::State_Parse));
    return ReadPage(
        *deps_.db, page, resp,
        [&](Connection& c) { return ListKeys(c, firm, state, page.position(), page.limit()); },
        [](const KeyRow& r) { return r.key.name(); },
        [&](KeyRow& row) { *resp->add_signing_keys() = std::move(row.key); });
  });
}

// ---- Appraisals -------------------------------------------------------------------

grpc::Status AppraisalServiceImpl::FileAppraisal(grpc::ServerContext* ctx,
                                                 const v1::FileAppraisalRequest* req,
                                                 v1::Appraisal* resp) {
  return server::HandleRpc(env_, ctx, "FileAppraisal", *req, [&](const auth::Caller& caller) {
    const v1::Appraisal& in = req->appraisal();
    Violations v;
    if (in.signed_content().empty() || in.signed_content().size() > kMaxSignedContentBytes) {
      v.Add("appraisal.signed_content", "required, up to 1 MiB");
    }
    if (in.signature().size() != kEd25519SignatureSize) {
      v.Add("appraisal.signature", "want the 64-byte Ed25519 signature");
    }
    std::string key_firm;
    if (!ValidFirmChildName(in.key(), "keys", &key_firm)) {
      v.Add("appraisal.key", "want firms/{firm}/keys/{key}");
    }
    CheckResourceId(v, "appraisal_id", req->appraisal_id());
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    v1::AppraisalContent content;
    if (!content.ParseFromString(in.signed_content())) {
      return InvalidWithReason("appraisal.signed_content", "UNPARSABLE_CONTENT",
                               "does not parse as market.appraisal.v1.AppraisalContent");
    }
    absl::Time now = deps_.clock->Now();
    MARKET_RETURN_IF_ERROR(ValidateContent(content, now));
    // Who: the firm itself, or the appraiser named in the report if it works for the firm.
    std::string firm_subject = FirmSubject(content.firm());
    bool as_firm = caller.HasRole(Role::APPRAISAL_FIRM) && caller.subject == firm_subject;
    if (!as_firm) {
      MARKET_ASSIGN_OR_RETURN(std::string caller_firm, CallerFirm(caller));
      if (!caller.HasRole(Role::APPRAISER) || caller.subject != content.appraiser() ||
          caller_firm != content.firm()) {
        return absl::PermissionDeniedError(absl::StrCat("only ", content.firm(),
                                                        " or its appraiser ", content.appraiser(),
                                                        " files this report"));
      }
    }
    // restriction-policy-v1: a blacklisted firm files no reports, whoever signs.
    MARKET_RETURN_IF_ERROR(ledger::CheckRestriction(deps_.credit, firm_subject,
                                                    Role::APPRAISAL_FIRM,
                                                    ledger::RestrictedAction::kFileAppraisal));
    MARKET_ASSIGN_OR_RETURN(std::optional<identity::v1::Subject> appraiser,
                            deps_.subjects(content.appraiser()));
    if (!appraiser.has_value() || !HasRole(*appraiser, Role::APPRAISER) ||
        appraiser->affiliation() != firm_subject) {
      return Precondition("APPRAISER_NOT_AFFILIATED", content.appraiser(),
                          " is not an APPRAISER of ", content.firm());
    }
    MARKET_RETURN_IF_ERROR(CheckTradable(content));
    if (!content.listing().empty()) {
      // NOT_FOUND when the listing does not exist.
      MARKET_RETURN_IF_ERROR(deps_.parties(content.listing()).status());
    }
    std::string name = NewName("appraisals", "/", req->appraisal_id(), 'r');
    return Idempotent(
        *deps_.db, "FileAppraisal", caller, req->request_id(), now, resp,
        [&](Connection& c) -> absl::StatusOr<v1::Appraisal> {
          MARKET_ASSIGN_OR_RETURN(KeyRow key, Found(LoadKey(c, in.key()), in.key()));
          if (key_firm != content.firm()) {
            return Precondition("KEY_NOT_OWNED_BY_FIRM", in.key(), " is not a key of ",
                                content.firm());
          }
          MARKET_RETURN_IF_ERROR(CheckSigningKeyActive(key.key.state()));
          MARKET_ASSIGN_OR_RETURN(Ed25519PublicKey public_key,
                                  Ed25519PublicKey::FromRaw(key.key.public_key()));
          // The signature is checked over the bytes exactly as received and stored.
          if (!public_key.Verify(in.signed_content(), in.signature())) {
            return InvalidWithReason("appraisal.signature", "SIGNATURE_INVALID",
                                     absl::StrCat("the signature does not verify over "
                                                  "signed_content with ",
                                                  in.key()));
          }
          MARKET_ASSIGN_OR_RETURN(bool taken,
                                  ReportNumberTaken(c, content.firm(), content.report_number()));
          if (taken) {
            return absl::AlreadyExistsError(
                absl::StrCat(content.firm(), " already filed report ", content.report_number()));
          }
          MARKET_RETURN_IF_ERROR(CheckGrades(c, content));
          MARKET_RETURN_IF_ERROR(CoveringAccreditation(c, content).status());
          v1::Appraisal a;
          a.set_name(name);
          a.set_signed_content(in.signed_content());
          a.set_signature(in.signature());
          a.set_key(in.key());
          *a.mutable_content() = content;
          if (!content.has_valid_until()) {
            *a.mutable_content()->mutable_valid_until() = ToTimestamp(EffectiveValidUntil(content));
          }
          a.set_item(ItemOf(content));
          a.set_state(v1::Appraisal::FILED);
          a.set_filer(caller.subject);
          *a.mutable_create_time() = ToTimestamp(now);
          *a.mutable_update_time() = ToTimestamp(now);
          std::vector<AppraisalRow> older;
          if (!a.item().empty()) {
            MARKET_ASSIGN_OR_RETURN(older, FiledOnItem(c, a.item()));
          }
          MARKET_RETURN_IF_ERROR(SaveAppraisal(c, a, 1, true));
          for (AppraisalRow& row : older) {
            v1::Appraisal& o = row.appraisal;
            o.set_state(v1::Appraisal::SUPERSEDED);
            o.set_superseded_by(name);
            *o.mutable_update_time() = ToTimestamp(now);
            MARKET_RETURN_IF_ERROR(SaveAppraisal(c, o, row.version + 1, false));
            // The listing the older report was made for no longer shows it.
            if (!o.content().listing().empty() && o.content().listing() != content.listing()) {
              MARKET_RETURN_IF_ERROR(
                  AppraisalEvents(c, now).Observation(ClearedEventId(o.name()), o, false));
            }
          }
          MARKET_RETURN_IF_ERROR(AppraisalEvents(c, now).Observation(FiledEventId(name), a, true));
          return a;
        });
  });
}

grpc::Status AppraisalServiceImpl::GetAppraisal(grpc::ServerContext* ctx,
                                                const v1::GetAppraisalRequest* req,
                                                v1::Appraisal* resp) {
  return server::HandleRpc(env_, ctx, "GetAppraisal", *req, [&](const auth::Caller& caller) {
    if (!ValidCollectionName(req->name(), "appraisals")) {
      return InvalidField("name", "want appraisals/{appraisal}");
    }
    MARKET_ASSIGN_OR_RETURN(std::string caller_firm, CallerFirm(caller));
    MARKET_ASSIGN_OR_RETURN(AppraisalRow row, ReadFound(*deps_.db, req->name(), LoadAppraisal));
    *resp = std::move(row.appraisal);
    RedactFor(caller, caller_firm, *resp);
    return absl::OkStatus();
  });
}

grpc::Status AppraisalServiceImpl::ListAppraisals(grpc::ServerContext* ctx,
                                                  const v1::ListAppraisalsRequest* req,
                                                  v1::ListAppraisalsResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListAppraisals", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(Page page, StartPage(pages_, "ListAppraisals", *req));
    MARKET_ASSIGN_OR_RETURN(
        auto terms, ParseFilter(req->filter(), {"item", "firm", "listing", "category", "state"}));
    AppraisalQuery q;
    q.item = terms["item"];
    q.firm = terms["firm"];
    q.listing = terms["listing"];
    if (!q.item.empty() && !absl::StartsWith(q.item, "items/")) {
      return InvalidField("filter", "item: want items/{CATEGORY}:{identifier}");
    }
    if (!q.firm.empty() && FirmSubject(q.firm).empty()) {
      return InvalidField("filter", "firm: want firms/{firm}");
    }
    if (!q.listing.empty() && !ValidMarketChildName(q.listing, "listings", nullptr)) {
      return InvalidField("filter", "listing: want markets/{market}/listings/{listing}");
    }
    MARKET_ASSIGN_OR_RETURN(q.category, CategoryTerm(terms));
    MARKET_ASSIGN_OR_RETURN(q.state,
                            StateTerm<v1::Appraisal::State>(terms, v1::Appraisal::State_Parse));
    std::optional<AppraisalCursor> after;
    if (!page.position().empty()) {
      MARKET_ASSIGN_OR_RETURN(after, DecodeCursor(page.position()));
    }
    MARKET_ASSIGN_OR_RETURN(std::string caller_firm, CallerFirm(caller));
    return ReadPage(
        *deps_.db, page, resp,
        [&](Connection& c) { return appraisal::ListAppraisals(c, q, after, page.limit()); },
        [](const AppraisalRow& r) {
          const v1::Appraisal& a = r.appraisal;
          return EncodeCursor(
              {absl::ToUnixMicros(FromTimestamp(a.content().inspected_time())), a.name()});
        },
        [&](AppraisalRow& row) {
          RedactFor(caller, caller_firm, row.appraisal);
          *resp->add_appraisals() = row.appraisal;
        });
  });
}

grpc::Status AppraisalServiceImpl::VerifyAppraisal(grpc::ServerContext* ctx,
                                                   const v1::VerifyAppraisalRequest* req,
                                                   v1::VerifyAppraisalResponse* resp) {
  return server::HandleRpc(env_, ctx, "VerifyAppraisal", *req, [&](const auth::Caller&) {
    bool raw_any =
        !req->signed_content().empty() || !req->signature().empty() || !req->key().empty();
    Violations v;
    if (!req->name().empty()) {
      if (raw_any) v.Add("name", "give either name or signed_content, signature and key");
      if (!ValidCollectionName(req->name(), "appraisals"))
        v.Add("name", "want appraisals/{appraisal}");
    } else {
      if (req->signed_content().empty()) v.Add("signed_content", "required without name");
      if (req->signature().empty()) v.Add("signature", "required without name");
      if (!ValidFirmChildName(req->key(), "keys", nullptr)) {
        v.Add("key", "want firms/{firm}/keys/{key}");
      }
      if (req->signed_content().size() > kMaxSignedContentBytes) {
        v.Add("signed_content", "larger than 1 MiB");
      }
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    absl::Time now = deps_.clock->Now();
    return deps_.db->Read([&](Connection& c) -> absl::Status {
      std::optional<AppraisalRow> filed;
      std::string content_bytes = req->signed_content();
      std::string signature = req->signature();
      std::string key_name = req->key();
      if (!req->name().empty()) {
        MARKET_ASSIGN_OR_RETURN(filed, LoadAppraisal(c, req->name()));
        if (!filed.has_value()) return NotFound(req->name());
        content_bytes = filed->appraisal.signed_content();
        signature = filed->appraisal.signature();
        key_name = filed->appraisal.key();
      } else {
        MARKET_ASSIGN_OR_RETURN(filed, FindAppraisalByContent(c, Sha256(content_bytes)));
      }
      MARKET_ASSIGN_OR_RETURN(KeyRow key, Found(LoadKey(c, key_name), key_name));
      std::vector<std::string> problems;
      MARKET_ASSIGN_OR_RETURN(Ed25519PublicKey public_key,
                              Ed25519PublicKey::FromRaw(key.key.public_key()));
      resp->set_signature_valid(public_key.Verify(content_bytes, signature));
      if (!resp->signature_valid()) problems.push_back("BAD_SIGNATURE");
      resp->set_key_state(key.key.state());
      if (key.key.has_retire_time()) *resp->mutable_key_retire_time() = key.key.retire_time();
      v1::AppraisalContent content;
      bool parsed = content.ParseFromString(content_bytes) && content.has_inspected_time();
      if (!parsed) {
        problems.push_back("UNPARSABLE_CONTENT");
      } else {
        std::string key_firm;
        ValidFirmChildName(key_name, "keys", &key_firm);
        if (key_firm != content.firm()) problems.push_back("KEY_NOT_OWNED_BY_FIRM");
        if (filed.has_value() && filed->appraisal.signature() != signature) {
          filed.reset();  // same bytes, another signature: not the filed report
        }
        if (key.key.state() == v1::SigningKey::RETIRED &&
            (!filed.has_value() || FromTimestamp(key.key.retire_time()) <
                                       FromTimestamp(filed->appraisal.create_time()))) {
          problems.push_back("KEY_RETIRED_BEFORE_FILING");
        }
        absl::Time inspected = FromTimestamp(content.inspected_time());
        MARKET_ASSIGN_OR_RETURN(std::vector<AccreditationRow> rows,
                                FirmAccreditations(c, content.firm()));
        for (const AccreditationRow& row : rows) {
          if (CoversAt(row.accreditation, row.ended, content.category(), inspected)) {
            resp->set_accreditation_valid(true);
            resp->set_accreditation(row.accreditation.name());
            break;
          }
        }
        if (!resp->accreditation_valid()) problems.push_back("NOT_ACCREDITED");
        if (filed.has_value()) content = filed->appraisal.content();  // valid_until defaulted
        resp->set_expired(now >= EffectiveValidUntil(content));
        *resp->mutable_content() = content;
      }
      if (!filed.has_value()) {
        problems.push_back("NOT_FILED");
      } else {
        resp->set_appraisal(filed->appraisal.name());
        resp->set_appraisal_state(filed->appraisal.state());
        if (filed->appraisal.state() != v1::Appraisal::FILED) {
          problems.push_back(v1::Appraisal::State_Name(filed->appraisal.state()));
        }
      }
      if (resp->expired()) problems.push_back("EXPIRED");
      for (std::string& p : problems) resp->add_problems(std::move(p));
      resp->set_valid(resp->problems_size() == 0);
      return absl::OkStatus();
    });
  });
}

// ---- Disputes ---------------------------------------------------------------------

grpc::Status AppraisalServiceImpl::FileDispute(grpc::ServerContext* ctx,
                                               const v1::FileDisputeRequest* req,
                                               v1::Dispute* resp) {
  return server::HandleRpc(env_, ctx, "FileDispute", *req, [&](const auth::Caller& caller) {
    const v1::Dispute& in = req->dispute();
    Violations v;
    if (!ValidCollectionName(req->parent(), "appraisals")) {
      v.Add("parent", "want appraisals/{appraisal}");
    }
    size_t chars = Utf8CharCount(in.reason());
    if (chars == 0 || chars > kMaxReasonChars)
      v.Add("dispute.reason", "required, 1-2000 characters");
    if (!in.counter_appraisal().empty() &&
        !ValidCollectionName(in.counter_appraisal(), "appraisals")) {
      v.Add("dispute.counter_appraisal", "want appraisals/{appraisal}");
    }
    if (in.counter_appraisal() == req->parent() && !in.counter_appraisal().empty()) {
      v.Add("dispute.counter_appraisal", "cannot be the disputed appraisal");
    }
    CheckResourceId(v, "dispute_id", req->dispute_id());
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(AppraisalRow target,
                            ReadFound(*deps_.db, req->parent(), LoadAppraisal));
    const v1::AppraisalContent& content = target.appraisal.content();
    // Who: a party to the listing, or another firm accredited for the category now.
    Role role = Role::ROLE_UNSPECIFIED;
    MARKET_ASSIGN_OR_RETURN(std::vector<std::string> parties, PartiesOf(content.listing()));
    auto at = std::find(parties.begin(), parties.end(), caller.subject);
    if (at != parties.end()) {
      role = at == parties.begin() ? Role::SELLER : Role::BUYER;
    }
    absl::Time now = deps_.clock->Now();
    std::string caller_firm;
    if (role == Role::ROLE_UNSPECIFIED) {
      MARKET_ASSIGN_OR_RETURN(caller_firm, CallerFirm(caller));
      if (caller_firm.empty() || caller_firm == content.firm()) {
        return absl::PermissionDeniedError(absl::StrCat(
            caller.subject, " is neither a party to the report's listing nor another firm"));
      }
      role = caller.HasRole(Role::APPRAISAL_FIRM) ? Role::APPRAISAL_FIRM : Role::APPRAISER;
    }
    std::string name = NewName(req->parent(), "/disputes/", req->dispute_id(), 'd');
    return Idempotent(
        *deps_.db, "FileDispute", caller, req->request_id(), now, resp,
        [&](Connection& c) -> absl::StatusOr<v1::Dispute> {
          MARKET_ASSIGN_OR_RETURN(AppraisalRow row,
                                  Found(LoadAppraisal(c, req->parent()), req->parent()));
          v1::Appraisal& a = row.appraisal;
          if (!caller_firm.empty()) {
            MARKET_ASSIGN_OR_RETURN(std::vector<AccreditationRow> accs,
                                    FirmAccreditations(c, caller_firm));
            bool accredited = std::any_of(accs.begin(), accs.end(), [&](const auto& r) {
              return !r.ended.has_value() &&
                     CoversAt(r.accreditation, r.ended, a.content().category(), now);
            });
            if (!accredited) {
              return absl::PermissionDeniedError(
                  absl::StrCat(caller_firm, " holds no ACTIVE accreditation for ",
                               common::v1::Category_Name(a.content().category())));
            }
          }
          // A report superseded by the very counter-appraisal that disputes it
          // stays disputable (it stays SUPERSEDED; an upheld dispute overturns it).
          bool by_counter = a.state() == v1::Appraisal::SUPERSEDED &&
                            !in.counter_appraisal().empty() &&
                            a.superseded_by() == in.counter_appraisal();
          if (!by_counter) {
            MARKET_RETURN_IF_ERROR(CheckAppraisalTransition(a.state(), v1::Appraisal::DISPUTED,
                                                            AppraisalActor::kDisputant));
          }
          absl::Time closes = FromTimestamp(a.create_time()) + absl::Hours(24 * kDisputeWindowDays);
          if (now > closes) {
            return Precondition("DISPUTE_WINDOW_CLOSED", "disputes on ", a.name(), " closed at ",
                                absl::FormatTime(closes));
          }
          if (!in.counter_appraisal().empty()) {
            MARKET_ASSIGN_OR_RETURN(
                AppraisalRow counter,
                Found(LoadAppraisal(c, in.counter_appraisal()), in.counter_appraisal()));
            if (counter.appraisal.item() != a.item() || a.item().empty()) {
              return InvalidField("dispute.counter_appraisal",
                                  absl::StrCat(in.counter_appraisal(), " is of another item"));
            }
            if (counter.appraisal.content().firm() == a.content().firm()) {
              return InvalidField("dispute.counter_appraisal",
                                  "a counter-appraisal is by another firm");
            }
          }
          MARKET_ASSIGN_OR_RETURN(int open, CountOpenDisputes(c, a.name(), caller.subject));
          if (open > 0) {
            return absl::AlreadyExistsError(
                absl::StrCat(caller.subject, " already has an OPEN dispute on ", a.name()));
          }
          v1::Dispute d;
          d.set_name(name);
          d.set_raiser(caller.subject);
          d.set_raiser_role(role);
          d.set_reason(in.reason());
          d.set_counter_appraisal(in.counter_appraisal());
          d.set_state(v1::Dispute::OPEN);
          *d.mutable_create_time() = ToTimestamp(now);
          MARKET_ASSIGN_OR_RETURN(d, SaveDispute(c, d, 1, true));
          const AppraisalEvents events(c, now);
          MARKET_RETURN_IF_ERROR(events.DisputeCase(a, d));
          MARKET_RETURN_IF_ERROR(
              events.DisputeWebhook(webhook::v1::DISPUTE_FILED, "dispute-filed:", d, a));
          if (!by_counter) {
            a.set_state(v1::Appraisal::DISPUTED);
            *a.mutable_update_time() = ToTimestamp(now);
            MARKET_RETURN_IF_ERROR(SaveAppraisal(c, a, row.version + 1, false));
          }
          return d;
        });
  });
}

absl::StatusOr<bool> AppraisalServiceImpl::CanSeeDispute(
    const auth::Caller& caller, const std::string& caller_firm, const v1::Dispute& dispute,
    const v1::Appraisal& appraisal,
    std::map<std::string, std::vector<std::string>>& parties_cache) const {
  if (caller.HasRole(Role::SUPERVISOR) || caller.subject == dispute.raiser()) return true;
  if (!caller_firm.empty() && caller_firm == appraisal.content().firm()) return true;
  const std::string& listing = appraisal.content().listing();
  if (listing.empty()) return false;
  auto it = parties_cache.find(listing);
  if (it == parties_cache.end()) {
    MARKET_ASSIGN_OR_RETURN(std::vector<std::string> parties, PartiesOf(listing));
    it = parties_cache.emplace(listing, std::move(parties)).first;
  }
  return std::find(it->second.begin(), it->second.end(), caller.subject) != it->second.end();
}

grpc::Status AppraisalServiceImpl::GetDispute(grpc::ServerContext* ctx,
                                              const v1::GetDisputeRequest* req, v1::Dispute* resp) {
  return server::HandleRpc(env_, ctx, "GetDispute", *req, [&](const auth::Caller& caller) {
    std::string appraisal_name = DisputedAppraisal(req->name());
    if (!ValidDisputeName(req->name())) {
      return InvalidField("name", "want appraisals/{appraisal}/disputes/{dispute}");
    }
    std::optional<DisputeRow> d;
    std::optional<AppraisalRow> a;
    MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(d, LoadDispute(c, req->name()));
      MARKET_ASSIGN_OR_RETURN(a, LoadAppraisal(c, appraisal_name));
      return absl::OkStatus();
    }));
    if (!d.has_value() || !a.has_value()) return NotFound(req->name());
    MARKET_ASSIGN_OR_RETURN(std::string caller_firm, CallerFirm(caller));
    std::map<std::string, std::vector<std::string>> cache;
    MARKET_ASSIGN_OR_RETURN(bool visible,
                            CanSeeDispute(caller, caller_firm, d->dispute, a->appraisal, cache));
    if (!visible) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.subject, " is not involved in ", req->name()));
    }
    *resp = std::move(d->dispute);
    return absl::OkStatus();
  });
}

grpc::Status AppraisalServiceImpl::ListDisputes(grpc::ServerContext* ctx,
                                                const v1::ListDisputesRequest* req,
                                                v1::ListDisputesResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListDisputes", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(Page paging, StartPage(pages_, "ListDisputes", *req));
    int page_size = paging.size();
    DisputeQuery q;
    if (req->parent() != "appraisals/-") {
      if (!ValidCollectionName(req->parent(), "appraisals")) {
        return InvalidField("parent", "want appraisals/{appraisal} or appraisals/-");
      }
      q.appraisal = req->parent();
    }
    MARKET_ASSIGN_OR_RETURN(auto terms, ParseFilter(req->filter(), {"state", "raiser"}));
    MARKET_ASSIGN_OR_RETURN(q.state,
                            StateTerm<v1::Dispute::State>(terms, v1::Dispute::State_Parse));
    q.raiser = terms["raiser"];
    MARKET_ASSIGN_OR_RETURN(int64_t before, paging.Int(0));
    MARKET_ASSIGN_OR_RETURN(std::string caller_firm, CallerFirm(caller));
    std::map<std::string, std::vector<std::string>> cache;
    // Fetch in batches, skipping disputes the caller may not get, until the
    // page is full or the rows run out.
    std::vector<std::pair<DisputeRow, v1::Appraisal>> page;
    bool more = false;
    int64_t last_id = 0;
    while (true) {
      std::vector<DisputeRow> rows;
      std::map<std::string, v1::Appraisal> appraisals;
      MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
        MARKET_ASSIGN_OR_RETURN(rows, appraisal::ListDisputes(c, q, before, page_size + 1));
        for (const DisputeRow& row : rows) {
          std::string a = DisputedAppraisal(row.dispute.name());
          if (appraisals.contains(a)) continue;
          MARKET_ASSIGN_OR_RETURN(std::optional<AppraisalRow> found, LoadAppraisal(c, a));
          if (found.has_value()) appraisals[a] = std::move(found->appraisal);
        }
        return absl::OkStatus();
      }));
      for (DisputeRow& row : rows) {
        before = row.id;
        std::string a = DisputedAppraisal(row.dispute.name());
        if (!appraisals.contains(a)) continue;
        MARKET_ASSIGN_OR_RETURN(
            bool visible, CanSeeDispute(caller, caller_firm, row.dispute, appraisals[a], cache));
        if (!visible) continue;
        if (static_cast<int>(page.size()) == page_size) {
          more = true;
          break;
        }
        last_id = row.id;
        page.emplace_back(std::move(row), appraisals[a]);
      }
      if (more || static_cast<int>(rows.size()) <= page_size) break;
    }
    for (auto& [row, a] : page) *resp->add_disputes() = std::move(row.dispute);
    if (more) resp->set_next_page_token(paging.Next(absl::StrCat(last_id)));
    return absl::OkStatus();
  });
}

grpc::Status AppraisalServiceImpl::RuleOnDispute(grpc::ServerContext* ctx,
                                                 const v1::RuleOnDisputeRequest* req,
                                                 v1::Dispute* resp) {
  return server::HandleRpc(env_, ctx, "RuleOnDispute", *req, [&](const auth::Caller& caller) {
    Violations v;
    std::string appraisal_name = DisputedAppraisal(req->name());
    if (!ValidDisputeName(req->name()))
      v.Add("name", "want appraisals/{appraisal}/disputes/{dispute}");
    if (req->outcome() != v1::Dispute::UPHELD && req->outcome() != v1::Dispute::DISMISSED) {
      v.Add("outcome", "want UPHELD or DISMISSED");
    }
    size_t chars = Utf8CharCount(req->reason());
    if (chars == 0 || chars > kMaxReasonChars) v.Add("reason", "required, 1-2000 characters");
    if (req->decision_document_number().size() > 64) {
      v.Add("decision_document_number", "longer than 64 bytes");
    }
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    absl::Time now = deps_.clock->Now();
    return Idempotent(
        *deps_.db, "RuleOnDispute", caller, req->request_id(), now, resp,
        [&](Connection& c) -> absl::StatusOr<v1::Dispute> {
          MARKET_ASSIGN_OR_RETURN(DisputeRow row, Found(LoadDispute(c, req->name()), req->name()));
          v1::Dispute& d = row.dispute;
          MARKET_RETURN_IF_ERROR(CheckEtag(req->etag(), d.etag()));
          MARKET_RETURN_IF_ERROR(
              CheckDisputeTransition(d.state(), req->outcome(), AppraisalActor::kSupervisor));
          MARKET_ASSIGN_OR_RETURN(AppraisalRow arow,
                                  Found(LoadAppraisal(c, appraisal_name), appraisal_name));
          d.set_state(req->outcome());
          d.set_ruling_reason(req->reason());
          d.set_ruled_by(caller.subject);
          d.set_decision_document_number(req->decision_document_number());
          *d.mutable_rule_time() = ToTimestamp(now);
          MARKET_ASSIGN_OR_RETURN(v1::Dispute saved, SaveDispute(c, d, row.version + 1, false));
          const AppraisalEvents events(c, now);
          MARKET_RETURN_IF_ERROR(events.DisputeWebhook(webhook::v1::RULING_MADE,
                                                       "dispute-ruled:", saved, arow.appraisal));
          v1::Appraisal& a = arow.appraisal;
          const v1::Appraisal::State before = a.state();
          const bool overturn = CheckAppraisalTransition(before, v1::Appraisal::OVERTURNED,
                                                         AppraisalActor::kSupervisor)
                                    .ok();
          if (req->outcome() == v1::Dispute::UPHELD && overturn) {
            a.set_state(v1::Appraisal::OVERTURNED);
            a.set_state_reason(req->reason());
            MARKET_RETURN_IF_ERROR(
                events.Overturned(a, req->reason(), req->decision_document_number()));
            MARKET_RETURN_IF_ERROR(events.Observation(RulingClearedEventId(req->name()), a, false));
          } else if (req->outcome() == v1::Dispute::DISMISSED &&
                     before == v1::Appraisal::DISPUTED) {
            MARKET_ASSIGN_OR_RETURN(int open, CountOpenDisputes(c, a.name()));
            if (open == 0) {
              std::optional<std::string> newer;
              if (!a.item().empty()) {
                MARKET_ASSIGN_OR_RETURN(newer, NewerOnItem(c, a.item(), arow.id));
              }
              a.set_state(newer.has_value() ? v1::Appraisal::SUPERSEDED : v1::Appraisal::FILED);
              if (newer.has_value()) {
                a.set_superseded_by(*newer);
                // A newer report came while this one was disputed: its
                // listing stops showing it.
                if (!a.content().listing().empty()) {
                  MARKET_RETURN_IF_ERROR(
                      events.Observation(RulingClearedEventId(req->name()), a, false));
                }
              }
            }
          }
          if (a.state() != before) {
            *a.mutable_update_time() = ToTimestamp(now);
            MARKET_RETURN_IF_ERROR(SaveAppraisal(c, a, arow.version + 1, false));
          }
          return saved;
        });
  });
}

// ---- Grading schemes ----------------------------------------------------------------

grpc::Status AppraisalServiceImpl::ListGradingSchemes(grpc::ServerContext* ctx,
                                                      const v1::ListGradingSchemesRequest* req,
                                                      v1::ListGradingSchemesResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListGradingSchemes", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(Page page, StartPage(pages_, "ListGradingSchemes", *req));
    MARKET_ASSIGN_OR_RETURN(auto terms, ParseFilter(req->filter(), {"category", "scheme"}));
    MARKET_ASSIGN_OR_RETURN(std::optional<Category> category, CategoryTerm(terms));
    return ReadPage(
        *deps_.db, page, resp,
        [&](Connection& c) {
          return ListSchemes(c, category, terms["scheme"], page.position(), page.limit());
        },
        [](const v1::GradingScheme& s) { return s.name(); },
        [&](v1::GradingScheme& s) { *resp->add_grading_schemes() = std::move(s); });
  });
}

// ---- Certificates ----------------------------------------------------------------

grpc::Status AppraisalServiceImpl::GetAppraisalCertificate(
    grpc::ServerContext* ctx, const v1::GetAppraisalCertificateRequest* req,
    v1::AppraisalCertificate* resp) {
  using Format = v1::GetAppraisalCertificateRequest;
  return server::HandleRpc(env_, ctx, "GetAppraisalCertificate", *req, [&](const auth::Caller&) {
    Violations v;
    if (!ValidCollectionName(req->name(), "appraisals")) {
      v.Add("name", "want appraisals/{appraisal}");
    }
    if (!Format::Format_IsValid(req->format())) v.Add("format", "want SVG or HTML");
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    CertificateInput in;
    MARKET_RETURN_IF_ERROR(deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(AppraisalRow row, Found(LoadAppraisal(c, req->name()), req->name()));
      in.appraisal = std::move(row.appraisal);
      for (const common::v1::GradeRef& g : in.appraisal.content().grades()) {
        MARKET_ASSIGN_OR_RETURN(std::optional<SchemeDefinition> def,
                                LoadScheme(c, g.scheme(), g.version()));
        if (def.has_value()) in.schemes.push_back(def->scheme);
      }
      return absl::OkStatus();
    }));
    const v1::Appraisal& a = in.appraisal;
    if (a.state() != v1::Appraisal::FILED) {
      return Precondition("APPRAISAL_NOT_CURRENT", a.name(), " is ",
                          v1::Appraisal::State_Name(a.state()),
                          "; only a FILED report gets a certificate");
    }
    absl::Time until = EffectiveValidUntil(a.content());
    if (deps_.clock->Now() >= until) {
      return Precondition("APPRAISAL_NOT_CURRENT", a.name(), " expired at ",
                          absl::FormatTime(until));
    }
    const std::pair<std::string, std::string*> names[] = {
        {FirmSubject(a.content().firm()), &in.firm_display_name},
        {a.content().appraiser(), &in.appraiser_display_name}};
    for (const auto& [subject, display] : names) {
      MARKET_ASSIGN_OR_RETURN(std::optional<identity::v1::Subject> s, deps_.subjects(subject));
      if (s.has_value()) *display = s->display_name();
    }
    in.report_sha256 = HexEncode(Sha256(a.signed_content()));
    in.verify_url = VerifyUrl(deps_.public_base_url, a.name(), in.report_sha256);
    bool html = req->format() == Format::HTML;
    MARKET_ASSIGN_OR_RETURN(std::string document,
                            html ? RenderCertificateHtml(in) : RenderCertificateSvg(in));
    resp->set_appraisal(a.name());
    resp->set_format(html ? Format::HTML : Format::SVG);
    resp->set_content_type(html ? "text/html; charset=utf-8" : "image/svg+xml");
    resp->set_document(std::move(document));
    resp->set_verify_url(in.verify_url);
    resp->set_report_sha256(in.report_sha256);
    return absl::OkStatus();
  });
}

}  // namespace market::appraisal
