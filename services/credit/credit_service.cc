#include "services/credit/credit_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/crypto/crypto.h"
#include "common/pagination/filter.h"
#include "common/pagination/page.h"
#include "common/resource/resource.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/credit_policy.h"
#include "ledger/leaf.h"

namespace market::credit {
namespace {

using common::v1::Role;
using google::protobuf::util::TimeUtil;
using ledger::Evaluation;

constexpr char kCreditService[] = "market.credit.v1.CreditService";
constexpr char kLedgerService[] = "market.credit.v1.LedgerService";
constexpr int64_t kMaxRecordsPerCall = 1000;

// Event ids the service itself uses for the records it appends.
bool ReservedEventId(absl::string_view id) {
  return absl::StartsWith(id, "expire-") || absl::StartsWith(id, "repair-");
}

bool ValidSubjectName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "subjects/") || name.size() < 1 || name.size() > 63) {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return true;
}

// "ledgers/main/records/{index}" → index.
std::optional<int64_t> RecordIndex(absl::string_view name) {
  int64_t index = 0;
  if (!absl::ConsumePrefix(&name, "ledgers/main/records/") || !absl::SimpleAtoi(name, &index) ||
      index < 0) {
    return std::nullopt;
  }
  return index;
}

using ledger::EffectiveTier;

// Types each submitter may record.
const std::set<Record::Type>& ServiceTypes() {
  static const auto* types = new std::set<Record::Type>{
      Record::TRADE_COMPLETED,       Record::CLAIM_RESOLVED_ON_TIME, Record::CLAIM_UPHELD,
      Record::CLAIM_REPLY_MISSED,    Record::CLAIM_UNFOUNDED,        Record::APPRAISAL_OVERTURNED,
      Record::LISTING_REMOVED,       Record::COUNTERFEIT_CONFIRMED,  Record::FRAUD_CONFIRMED};
  return *types;
}
const std::set<Record::Type>& SupervisorTypes() {
  static const auto* types = new std::set<Record::Type>{
      Record::COUNTERFEIT_CONFIRMED, Record::FRAUD_CONFIRMED, Record::MILEAGE_ROLLBACK_CONFIRMED,
      Record::UNLICENSED_OPERATION,  Record::COMMENDATION,    Record::SANCTION_OTHER,
      Record::RECORD_WITHDRAWN};
  return *types;
}
// Supervisor sanctions that need a decision document number.
bool NeedsDecisionDocument(Record::Type t) {
  return t == Record::COUNTERFEIT_CONFIRMED || t == Record::FRAUD_CONFIRMED ||
         t == Record::MILEAGE_ROLLBACK_CONFIRMED || t == Record::UNLICENSED_OPERATION ||
         t == Record::SANCTION_OTHER;
}

}  // namespace

absl::Status ValidateRecord(const Record& r, absl::Time now) {
  Violations v;
  if (!ValidSubjectName(r.subject())) v.Add("record.subject", "want subjects/{subject}");
  if (!common::v1::Role_IsValid(r.subject_role()) ||
      r.subject_role() == common::v1::ROLE_UNSPECIFIED) {
    v.Add("record.subject_role", "required");
  }
  if (!Record::Type_IsValid(r.type()) || r.type() == Record::TYPE_UNSPECIFIED) {
    v.Add("record.type", "required");
  }
  if (!r.has_occurred_time()) {
    v.Add("record.occurred_time", "required");
  } else if (r.occurred_time().seconds() < TimeUtil::kTimestampMinSeconds ||
             r.occurred_time().seconds() > TimeUtil::kTimestampMaxSeconds ||
             r.occurred_time().nanos() < 0 || r.occurred_time().nanos() >= 1'000'000'000) {
    v.Add("record.occurred_time", "not a valid timestamp");
  } else if (FromTimestamp(r.occurred_time()) > now + absl::Minutes(5)) {
    v.Add("record.occurred_time", "in the future");
  }
  if (r.event_id().empty() || r.event_id().size() > 128) {
    v.Add("record.event_id", "required, up to 128 characters");
  } else if (ReservedEventId(r.event_id())) {
    v.Add("record.event_id", "the prefixes expire- and repair- are reserved for the ledger");
  }
  if (Utf8CharCount(r.reason()) > 500) v.Add("record.reason", "longer than 500 characters");
  if (Utf8CharCount(r.reference()) > 300) v.Add("record.reference", "longer than 300 characters");
  if (Utf8CharCount(r.decision_document_number()) > 100) {
    v.Add("record.decision_document_number", "longer than 100 characters");
  }
  if (!r.counterparty().empty() && !ValidSubjectName(r.counterparty())) {
    v.Add("record.counterparty", "want subjects/{subject}");
  }
  if (r.type() == Record::TRADE_COMPLETED && r.counterparty().empty()) {
    v.Add("record.counterparty", "required for TRADE_COMPLETED");
  }
  if (!Record::Tier_IsValid(r.tier())) {
    v.Add("record.tier", "unknown tier");
  } else if (r.type() == Record::SANCTION_OTHER) {
    if (r.tier() == Record::TIER_UNSPECIFIED || r.tier() == Record::POSITIVE) {
      v.Add("record.tier", "SANCTION_OTHER needs MINOR, GENERAL or SERIOUS");
    }
  } else if (!ledger::IsMetaType(r.type()) && r.tier() != Record::TIER_UNSPECIFIED &&
             r.tier() != ledger::TierOf(r.type())) {
    v.Add("record.tier", absl::StrCat("does not match ", Record::Type_Name(r.type()), " (",
                                      Record::Tier_Name(ledger::TierOf(r.type())), ")"));
  }
  if (r.type() == Record::RECORD_WITHDRAWN && !r.has_refers_to()) {
    v.Add("record.refers_to", "required for RECORD_WITHDRAWN");
  }
  if (r.has_refers_to() && r.refers_to() < 0) v.Add("record.refers_to", "negative");
  return v.ToStatus();
}

namespace {

// Filter terms of ListRecords and ListAccessLog.
absl::StatusOr<std::vector<FilterTerm>> ParseFilter(const std::string& filter) {
  return ParseFilterTerms(filter, "want KEY=VALUE, KEY>=VALUE or KEY<VALUE", {"=", ">=", "<"});
}

}  // namespace

std::vector<auth::RpcPolicy> CreditPolicies() {
  using common::v1::SERVICE;
  using common::v1::SUPERVISOR;
  return {
      // Which types each role may record is checked in the handler.
      {.method = "RecordEvent", .roles = {SERVICE, SUPERVISOR}},
      {.method = "GetCreditProfile", .public_access = true},
      {.method = "ListRecords", .any_authenticated = true},
      {.method = "ListAccessLog", .roles = {SUPERVISOR}, .owner_field = "parent"},
      {.method = "ApplyForRepair", .owner_field = "parent"},
      {.method = "RuleOnRepair", .roles = {SUPERVISOR}},
      {.method = "ListBlacklist", .public_access = true},
      {.method = "ListRedlist", .public_access = true},
  };
}

std::vector<auth::RpcPolicy> LedgerPolicies() {
  return {
      {.method = "GetCheckpoint", .public_access = true},
      {.method = "GetRecords", .public_access = true},
      {.method = "GetInclusionProof", .public_access = true},
      {.method = "GetConsistencyProof", .public_access = true},
  };
}

v1::Checkpoint ToProto(const StoredCheckpoint& cp, const CreditOptions& options) {
  v1::Checkpoint out;
  out.set_note(cp.note);
  out.set_origin(options.origin);
  out.set_tree_size(cp.size);
  out.set_root_hash(cp.root);
  out.set_public_key(options.public_key_raw);
  return out;
}

absl::StatusOr<std::unique_ptr<CreditServiceImpl>> CreditServiceImpl::Create(
    CreditStore* store, const Clock* clock, CreditOptions options, SubjectDirectory directory,
    std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics) {
  std::unique_ptr<CreditServiceImpl> s(
      new CreditServiceImpl(store, clock, std::move(options), std::move(directory)));
  MARKET_ASSIGN_OR_RETURN(
      s->authorizer_,
      auth::Authorizer::Create(v1::Record::descriptor()->file()->FindServiceByName("CreditService"),
                               CreditPolicies(), std::move(verifier), std::move(suspension),
                               clock));
  s->env_ = server::RpcEnv{kCreditService, s->authorizer_.get(), metrics};
  return s;
}

CreditServiceImpl::~CreditServiceImpl() {
  stop_ = true;
  if (scheduler_.joinable()) scheduler_.join();
}

void CreditServiceImpl::StartScheduler(absl::Duration period) {
  scheduler_ = std::thread([this, period] {
    absl::Time next = absl::Now();
    while (!stop_) {
      if (absl::Now() >= next) {
        // Idle or not, re-sign the current tree from the stored hashes.
        if (absl::StatusOr<StoredCheckpoint> cp = store_->Resign(); !cp.ok()) {
          server::LogJson("error", "checkpoint re-signing failed",
                          {{"error", cp.status().ToString()}});
        }
        absl::StatusOr<int> n = RunExpiry();
        if (!n.ok()) {
          server::LogJson("error", "expiry failed", {{"error", n.status().ToString()}});
        } else if (*n > 0) {
          server::LogJson("info", "records expired", {{"count", *n}});
        }
        // List entries that time caused (credit_outbox.h) go to webhooks.
        absl::StatusOr<int> entries = store_->PublishDueListEntries(clock_->Now());
        if (!entries.ok()) {
          server::LogJson("error", "list entry publishing failed",
                          {{"error", entries.status().ToString()}});
        } else if (*entries > 0) {
          server::LogJson("info", "list entries published", {{"count", *entries}});
        }
        next = absl::Now() + period;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
  });
}

absl::StatusOr<int> CreditServiceImpl::RunExpiry() {
  absl::Time now = clock_->Now();
  MARKET_ASSIGN_OR_RETURN(std::vector<std::string> subjects, store_->Subjects());
  int appended = 0;
  for (const std::string& subject : subjects) {
    MARKET_ASSIGN_OR_RETURN(std::vector<Record> records, store_->RecordsOfSubject(subject));
    std::set<int64_t> concluded;
    for (const Record& r : records) {
      if (ledger::IsMetaType(r.type()) && r.has_refers_to()) concluded.insert(r.refers_to());
    }
    for (const Record& r : records) {
      if (ledger::IsMetaType(r.type()) || concluded.contains(r.index())) continue;
      Record::Tier tier = EffectiveTier(r);
      absl::Time until = FromTimestamp(r.occurred_time()) + ledger::MaxDisplay(tier);
      if (until > now) continue;
      Record expired;
      expired.set_subject(r.subject());
      expired.set_subject_role(r.subject_role());
      expired.set_type(Record::RECORD_EXPIRED);
      expired.set_tier(tier);
      expired.set_reference(r.name());
      expired.set_source("services/credit");
      expired.set_reason("maximum display period over");
      *expired.mutable_occurred_time() = ToTimestamp(until);
      *expired.mutable_recorded_time() = ToTimestamp(now);
      expired.set_event_id(absl::StrCat("expire-", r.index()));
      expired.set_refers_to(r.index());
      // One record that cannot be concluded must not stop the sweep.
      if (absl::Status s = store_->Append(expired).status(); !s.ok()) {
        server::LogJson("error", "expiry append failed",
                        {{"record", r.name()}, {"error", s.ToString()}});
        continue;
      }
      ++appended;
    }
  }
  return appended;
}

absl::Status CreditServiceImpl::LogAccess(const auth::Caller& caller, const std::string& subject,
                                          const std::string& method,
                                          const std::string& purpose) {
  AccessLogEntry e;
  e.set_reader(caller.subject);
  e.set_reader_role(caller.HasRole(common::v1::SUPERVISOR) ? common::v1::SUPERVISOR
                                                           : common::v1::OPERATOR);
  e.set_subject(subject);
  e.set_method(method);
  e.set_purpose(purpose);
  *e.mutable_access_time() = ToTimestamp(clock_->Now());
  return store_->AddAccessLog(e);
}

grpc::Status CreditServiceImpl::RecordEvent(grpc::ServerContext* ctx,
                                            const v1::RecordEventRequest* req,
                                            v1::RecordEventResponse* resp) {
  return server::HandleRpc(env_, ctx, "RecordEvent", *req, [&](const auth::Caller& caller) {
    absl::Time now = clock_->Now();
    if (!req->has_record()) return InvalidField("record", "required");
    MARKET_RETURN_IF_ERROR(ValidateRecord(req->record(), now));
    const Record& in = req->record();
    bool by_service = caller.HasRole(common::v1::SERVICE) && ServiceTypes().contains(in.type());
    bool by_supervisor =
        caller.HasRole(common::v1::SUPERVISOR) && SupervisorTypes().contains(in.type());
    if (!by_service && !by_supervisor) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.subject, " may not record ", Record::Type_Name(in.type())));
    }
    if (by_supervisor && !by_service && NeedsDecisionDocument(in.type()) &&
        in.decision_document_number().empty()) {
      return InvalidField("record.decision_document_number",
                          "required for a supervisor sanction");
    }
    Record record = in;
    record.clear_name();
    record.clear_index();
    record.set_source(caller.subject);
    *record.mutable_recorded_time() = ToTimestamp(now);
    Record::Tier tier = EffectiveTier(record);
    if (record.type() == Record::RECORD_WITHDRAWN) {
      absl::StatusOr<Record> target = store_->GetRecord(record.refers_to());
      if (absl::IsNotFound(target.status())) {
        return InvalidField("record.refers_to", "no record with that index");
      }
      MARKET_RETURN_IF_ERROR(target.status());
      if (target->subject() != record.subject() || ledger::IsMetaType(target->type())) {
        return InvalidField("record.refers_to", "not a record of this subject that can be withdrawn");
      }
      MARKET_ASSIGN_OR_RETURN(std::vector<Record> all, store_->RecordsOfSubject(record.subject()));
      Evaluation ev = ledger::Evaluate(record.subject(), all, now);
      if (!std::binary_search(ev.active.begin(), ev.active.end(), target->index())) {
        // A replay of the same withdrawal is fine; Append checks event_id first.
        bool replay = false;
        for (const Record& r : all) replay = replay || r.event_id() == record.event_id();
        if (!replay) {
          return WithReason(absl::StatusCode::kFailedPrecondition, "RECORD_NOT_ACTIVE",
                            absl::StrCat(target->name(), " is no longer active"));
        }
      }
      tier = EffectiveTier(*target);
    }
    record.set_tier(tier);
    absl::Time occurred = FromTimestamp(record.occurred_time());
    *record.mutable_min_display_until() = ToTimestamp(occurred + ledger::MinDisplay(tier));
    *record.mutable_max_display_until() = ToTimestamp(occurred + ledger::MaxDisplay(tier));
    MARKET_ASSIGN_OR_RETURN(AppendResult result, store_->Append(record));
    *resp->mutable_record() = result.record;
    resp->mutable_inclusion_proof()->set_index(result.record.index());
    resp->mutable_inclusion_proof()->set_tree_size(result.checkpoint.size);
    for (const Hash& h : result.proof) resp->mutable_inclusion_proof()->add_hashes(h);
    *resp->mutable_checkpoint() = ToProto(result.checkpoint, options_);
    return absl::OkStatus();
  });
}

grpc::Status CreditServiceImpl::GetCreditProfile(grpc::ServerContext* ctx,
                                                 const v1::GetCreditProfileRequest* req,
                                                 v1::CreditProfile* resp) {
  return server::HandleRpc(env_, ctx, "GetCreditProfile", *req, [&](const auth::Caller& caller) {
    absl::string_view name = req->name();
    if (!absl::ConsumeSuffix(&name, "/creditProfile") || !ValidSubjectName(name)) {
      return InvalidField("name", "want subjects/{subject}/creditProfile");
    }
    std::string subject(name);
    MARKET_ASSIGN_OR_RETURN(SubjectInfo info, Found(directory_(subject), subject));
    bool self = caller.subject == subject;
    bool supervisor = caller.HasRole(common::v1::SUPERVISOR);
    if (supervisor && !self) {
      MARKET_RETURN_IF_ERROR(LogAccess(caller, subject, "GetCreditProfile", req->purpose()));
    }
    MARKET_ASSIGN_OR_RETURN(int64_t size, store_->Size());
    MARKET_ASSIGN_OR_RETURN(std::vector<Record> records, store_->RecordsOfSubject(subject));
    absl::Time now = clock_->Now();
    Evaluation ev = ledger::Evaluate(subject, records, now);
    resp->set_name(req->name());
    resp->set_subject(subject);
    resp->set_level(ev.level);
    resp->set_scoring_policy_version(ledger::kPolicyVersion);
    resp->set_positive_count(ev.positive_count);
    resp->set_general_count(ev.general_count);
    resp->set_serious_count(ev.serious_count);
    resp->set_blacklisted(ev.blacklisted);
    resp->set_redlisted(ev.redlisted);
    if (ev.blacklisted) {
      resp->set_blacklist_record(absl::StrCat("ledgers/main/records/", ev.blacklist_record));
    }
    resp->set_tree_size(size);
    *resp->mutable_evaluate_time() = ToTimestamp(now);
    if (self || supervisor) {
      resp->set_score(ev.score);
      resp->set_minor_count(ev.minor_count);
      for (const Record& r : records) {
        if (std::binary_search(ev.active.begin(), ev.active.end(), r.index())) {
          *resp->add_active_records() = r;
        }
      }
    }
    return absl::OkStatus();
  });
}

grpc::Status CreditServiceImpl::ListRecords(grpc::ServerContext* ctx,
                                            const v1::ListRecordsRequest* req,
                                            v1::ListRecordsResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListRecords", *req, [&](const auth::Caller& caller) {
    if (req->parent() != "ledgers/main") return InvalidField("parent", "want ledgers/main");
    MARKET_ASSIGN_OR_RETURN(int page_size, EffectivePageSize(req->page_size()));
    if (req->purpose().size() > 500) return InvalidField("purpose", "longer than 500 characters");
    MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms, ParseFilter(req->filter()));
    RecordFilter filter;
    bool active_only = false;
    for (const FilterTerm& t : terms) {
      if (t.key == "subject" && t.op == "=" && ValidSubjectName(t.value) && !filter.subject) {
        filter.subject = t.value;
      } else if (t.key == "type" && t.op == "=") {
        Record::Type type;
        if (!Record::Type_Parse(t.value, &type)) {
          return InvalidField("filter", absl::StrCat("unknown type ", t.value));
        }
        filter.type = type;
      } else if (t.key == "tier" && t.op == "=") {
        Record::Tier tier;
        if (!Record::Tier_Parse(t.value, &tier)) {
          return InvalidField("filter", absl::StrCat("unknown tier ", t.value));
        }
        filter.tier = tier;
      } else if (t.key == "active" && t.op == "=" && (t.value == "true" || t.value == "false")) {
        active_only = t.value == "true";
      } else if (t.key == "occurred_time" && t.op == ">=") {
        MARKET_ASSIGN_OR_RETURN(filter.occurred_from, FilterTime(t));
      } else if (t.key == "occurred_time" && t.op == "<") {
        MARKET_ASSIGN_OR_RETURN(filter.occurred_before, FilterTime(t));
      } else {
        return InvalidField("filter", absl::StrCat("unsupported term ", t.key, t.op, t.value,
                                                   "; want subject=, type=, tier=, active=, "
                                                   "occurred_time>= or occurred_time<"));
      }
    }
    bool supervisor = caller.HasRole(common::v1::SUPERVISOR);
    if (!filter.subject && !supervisor) filter.subject = caller.subject;
    bool other = !filter.subject || *filter.subject != caller.subject;
    if (other) {
      bool allowed = supervisor;
      if (!allowed && caller.HasRole(common::v1::OPERATOR)) {
        MARKET_ASSIGN_OR_RETURN(std::optional<SubjectInfo> info, directory_(*filter.subject));
        // An operator reads the records of sellers admitted to its markets
        // (and of sellers it onboarded).
        allowed = info.has_value() && info->affiliation == caller.subject;
        if (!allowed && info.has_value() && info->market_operators) {
          MARKET_ASSIGN_OR_RETURN(std::vector<std::string> operators, info->market_operators());
          allowed = std::find(operators.begin(), operators.end(), caller.subject) !=
                    operators.end();
        }
      }
      if (!allowed) {
        return absl::PermissionDeniedError(
            absl::StrCat(caller.subject, " may not read records of ", *filter.subject));
      }
      if (req->purpose().empty()) {
        return InvalidField("purpose", "required when reading another subject's records");
      }
      MARKET_RETURN_IF_ERROR(LogAccess(caller, filter.subject.value_or("subjects/-"),
                                       "ListRecords", req->purpose()));
    }
    // page_size was checked first; the token can be checked only now, as
    // its query names the subject the filter resolved to.
    MARKET_ASSIGN_OR_RETURN(Page page, Page::Start(pages_,
                                                   absl::StrCat("ListRecords|", req->filter(), "|",
                                                                filter.subject.value_or("")),
                                                   page_size, req->page_token()));
    MARKET_ASSIGN_OR_RETURN(int64_t after, page.Int(-1));
    MARKET_ASSIGN_OR_RETURN(std::vector<Record> records,
                            store_->ListRecords(filter, after, page.limit()));
    resp->set_next_page_token(
        page.Trim(records, [](const Record& r) { return absl::StrCat(r.index()); }));
    std::map<std::string, Evaluation> evaluations;
    absl::Time now = clock_->Now();
    for (const Record& r : records) {
      if (active_only) {
        auto it = evaluations.find(r.subject());
        if (it == evaluations.end()) {
          MARKET_ASSIGN_OR_RETURN(std::vector<Record> all, store_->RecordsOfSubject(r.subject()));
          it = evaluations.emplace(r.subject(), ledger::Evaluate(r.subject(), all, now)).first;
        }
        if (!std::binary_search(it->second.active.begin(), it->second.active.end(),
                                r.index())) {
          continue;
        }
      }
      *resp->add_records() = r;
    }
    return absl::OkStatus();
  });
}

grpc::Status CreditServiceImpl::ListAccessLog(grpc::ServerContext* ctx,
                                              const v1::ListAccessLogRequest* req,
                                              v1::ListAccessLogResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListAccessLog", *req, [&](const auth::Caller& caller) {
    std::string subject;
    if (req->parent() == "subjects/-") {
      if (!caller.HasRole(common::v1::SUPERVISOR)) {
        return absl::PermissionDeniedError("only a supervisor may list every access");
      }
    } else if (ValidSubjectName(req->parent())) {
      subject = req->parent();
    } else {
      return InvalidField("parent", "want subjects/{subject} or subjects/-");
    }
    MARKET_ASSIGN_OR_RETURN(
        Page page,
        Page::Start(pages_, absl::StrCat("ListAccessLog|", req->parent(), "|", req->filter()),
                    req->page_size(), req->page_token()));
    MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms, ParseFilter(req->filter()));
    std::string reader;
    std::optional<absl::Time> from, before_time;
    for (const FilterTerm& t : terms) {
      if (t.key == "reader" && t.op == "=" && ValidSubjectName(t.value)) {
        reader = t.value;
      } else if (t.key == "access_time" && t.op == ">=") {
        MARKET_ASSIGN_OR_RETURN(from, FilterTime(t));
      } else if (t.key == "access_time" && t.op == "<") {
        MARKET_ASSIGN_OR_RETURN(before_time, FilterTime(t));
      } else {
        return InvalidField("filter", absl::StrCat("unsupported term ", t.key, t.op, t.value,
                                                   "; want reader=, access_time>= or "
                                                   "access_time<"));
      }
    }
    MARKET_ASSIGN_OR_RETURN(int64_t before, page.Int(0));
    // Time bounds filter after the (newest-first) scan; pages may come back short.
    MARKET_ASSIGN_OR_RETURN(auto entries,
                            store_->ListAccessLog(subject, reader, before, page.limit()));
    resp->set_next_page_token(
        page.Trim(entries, [](const auto& entry) { return absl::StrCat(entry.first); }));
    for (auto& [id, e] : entries) {
      absl::Time at = FromTimestamp(e.access_time());
      if ((from && at < *from) || (before_time && at >= *before_time)) continue;
      *resp->add_access_log_entries() = e;
    }
    return absl::OkStatus();
  });
}

grpc::Status CreditServiceImpl::ApplyForRepair(grpc::ServerContext* ctx,
                                               const v1::ApplyForRepairRequest* req,
                                               v1::RepairApplication* resp) {
  return server::HandleRpc(env_, ctx, "ApplyForRepair", *req, [&](const auth::Caller& caller) {
    const RepairApplication& in = req->repair_application();
    Violations v;
    if (!ValidSubjectName(req->parent())) v.Add("parent", "want subjects/{subject}");
    std::optional<int64_t> index = RecordIndex(in.record());
    if (!index) v.Add("repair_application.record", "want ledgers/main/records/{index}");
    auto text = [&](const char* field, const std::string& value) {
      if (value.empty() || Utf8CharCount(value) > 2000) {
        v.Add(absl::StrCat("repair_application.", field), "required, up to 2,000 characters");
      }
    };
    text("correction_statement", in.correction_statement());
    text("fulfilment_statement", in.fulfilment_statement());
    text("commitment", in.commitment());
    for (const std::string& a : in.attachments()) {
      if (!IsSha256Hex(a)) {
        v.Add("repair_application.attachments", "want lower-case hex SHA-256");
      }
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(Record record, store_->GetRecord(*index));
    if (record.subject() != req->parent()) {
      return absl::PermissionDeniedError(
          absl::StrCat(in.record(), " is not a record of ", req->parent()));
    }
    if (ledger::IsMetaType(record.type()) || EffectiveTier(record) == Record::POSITIVE) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "RECORD_NOT_REPAIRABLE",
                        "only negative records can be repaired");
    }
    absl::Time now = clock_->Now();
    MARKET_ASSIGN_OR_RETURN(std::vector<Record> all, store_->RecordsOfSubject(record.subject()));
    Evaluation ev = ledger::Evaluate(record.subject(), all, now);
    if (!std::binary_search(ev.active.begin(), ev.active.end(), record.index())) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "RECORD_NOT_ACTIVE",
                        absl::StrCat(in.record(), " no longer counts"));
    }
    absl::Time min_until = FromTimestamp(record.occurred_time()) + ledger::MinDisplay(EffectiveTier(record));
    if (now < min_until) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "MIN_DISPLAY_PERIOD_NOT_OVER",
                        absl::StrCat("repair possible from ",
                                     absl::FormatTime(absl::RFC3339_sec, min_until,
                                                      absl::UTCTimeZone())));
    }
    RepairApplication a = in;
    a.set_name(absl::StrCat(req->parent(), "/repairApplications/",
                            HexEncode(RandomBytes(8))));
    a.set_state(RepairApplication::PENDING);
    a.clear_ruling_reason();
    a.clear_ruled_by();
    a.clear_repair_record();
    a.clear_rule_time();
    a.set_etag("\"v1\"");
    *a.mutable_create_time() = ToTimestamp(now);
    if (req->request_id().size() > 64) return InvalidField("request_id", "longer than 64 characters");
    MARKET_ASSIGN_OR_RETURN(
        *resp, store_->CreateRepair(
                   a, RequestKey{"ApplyForRepair", caller.subject, req->request_id()}, now));
    return absl::OkStatus();
  });
}

grpc::Status CreditServiceImpl::RuleOnRepair(grpc::ServerContext* ctx,
                                             const v1::RuleOnRepairRequest* req,
                                             v1::RepairApplication* resp) {
  return server::HandleRpc(env_, ctx, "RuleOnRepair", *req, [&](const auth::Caller& caller) {
    Violations v;
    std::vector<absl::string_view> parts = absl::StrSplit(req->name(), '/');
    if (parts.size() != 4 || parts[0] != "subjects" || parts[2] != "repairApplications") {
      v.Add("name", "want subjects/{subject}/repairApplications/{application}");
    }
    if (req->outcome() != RepairApplication::APPROVED &&
        req->outcome() != RepairApplication::REJECTED) {
      v.Add("outcome", "want APPROVED or REJECTED");
    }
    if (req->reason().empty() || Utf8CharCount(req->reason()) > 500) {
      v.Add("reason", "required, up to 500 characters");
    }
    if (Utf8CharCount(req->decision_document_number()) > 100) {
      v.Add("decision_document_number", "longer than 100 characters");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    absl::Time now = clock_->Now();
    MARKET_ASSIGN_OR_RETURN(
        *resp,
        store_->RuleOnRepair(
            req->name(),
            [&](const RepairApplication& a) -> absl::StatusOr<std::optional<Record>> {
              if (!req->etag().empty() && req->etag() != a.etag()) {
                return absl::AbortedError(absl::StrCat("etag ", req->etag(), " is stale"));
              }
              if (a.state() != RepairApplication::PENDING) {
                return WithReason(absl::StatusCode::kFailedPrecondition,
                                  "APPLICATION_NOT_PENDING",
                                  absl::StrCat(req->name(), " was already ruled on"));
              }
              if (req->outcome() != RepairApplication::APPROVED) return std::nullopt;
              MARKET_ASSIGN_OR_RETURN(Record original,
                                      store_->GetRecord(*RecordIndex(a.record())));
              Record repaired;
              repaired.set_subject(original.subject());
              repaired.set_subject_role(original.subject_role());
              repaired.set_type(Record::CREDIT_REPAIRED);
              repaired.set_tier(EffectiveTier(original));
              repaired.set_reference(a.name());
              repaired.set_source(caller.subject);
              repaired.set_decision_document_number(req->decision_document_number());
              repaired.set_reason("credit repair approved");
              *repaired.mutable_occurred_time() = ToTimestamp(now);
              *repaired.mutable_recorded_time() = ToTimestamp(now);
              repaired.set_event_id(absl::StrCat("repair-", a.name()));
              repaired.set_refers_to(original.index());
              return std::optional<Record>(repaired);
            },
            [&](RepairApplication& a, std::optional<int64_t> appended) {
              a.set_state(req->outcome());
              a.set_ruling_reason(req->reason());
              a.set_ruled_by(caller.subject);
              *a.mutable_rule_time() = ToTimestamp(now);
              a.set_etag("\"v2\"");
              if (appended) a.set_repair_record(absl::StrCat("ledgers/main/records/", *appended));
            },
            RequestKey{"RuleOnRepair", caller.subject, req->request_id()}, now));
    return absl::OkStatus();
  });
}

template <typename Req, typename Resp>
absl::Status CreditServiceImpl::ListCreditList(bool black, const Req& req, Resp* resp) {
  MARKET_ASSIGN_OR_RETURN(Page page, Page::Start(pages_, black ? "ListBlacklist" : "ListRedlist",
                                                 req.page_size(), req.page_token()));
  MARKET_ASSIGN_OR_RETURN(int64_t offset, page.Int(0));
  int size = page.size();
  absl::Time now = clock_->Now();
  MARKET_ASSIGN_OR_RETURN(std::vector<std::string> subjects, store_->Subjects());
  std::vector<v1::CreditListEntry> all;
  for (const std::string& subject : subjects) {
    MARKET_ASSIGN_OR_RETURN(std::vector<Record> records, store_->RecordsOfSubject(subject));
    Evaluation ev = ledger::Evaluate(subject, records, now);
    if (black ? !ev.blacklisted : !ev.redlisted) continue;
    v1::CreditListEntry e;
    e.set_subject(subject);
    // The public list must not fail because a display name cannot be looked up.
    absl::StatusOr<std::optional<SubjectInfo>> info = directory_(subject);
    if (info.ok() && info->has_value()) e.set_display_name((*info)->display_name);
    const Record* cause = nullptr;
    for (const Record& r : records) {
      if (black ? r.index() == ev.blacklist_record
                : (r.type() == Record::TRADE_COMPLETED &&
                   std::binary_search(ev.active.begin(), ev.active.end(), r.index()))) {
        cause = &r;  // for the red list: the newest active trade
      }
    }
    if (cause != nullptr) {
      e.set_reason_type(cause->type());
      e.set_record(cause->name());
      *e.mutable_since() = cause->occurred_time();
      *e.mutable_until() = ToTimestamp(FromTimestamp(cause->occurred_time()) +
                                ledger::MaxDisplay(EffectiveTier(*cause)));
    }
    all.push_back(std::move(e));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return TimeUtil::TimestampToNanoseconds(a.since()) >
               TimeUtil::TimestampToNanoseconds(b.since()) ||
           (a.since() == b.since() && a.subject() < b.subject());
  });
  for (int64_t i = offset; i < static_cast<int64_t>(all.size()) && i < offset + size; ++i) {
    *resp->add_entries() = all[i];
  }
  if (offset + size < static_cast<int64_t>(all.size())) {
    resp->set_next_page_token(page.Next(absl::StrCat(offset + size)));
  }
  return absl::OkStatus();
}

grpc::Status CreditServiceImpl::ListBlacklist(grpc::ServerContext* ctx,
                                              const v1::ListBlacklistRequest* req,
                                              v1::ListBlacklistResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListBlacklist", *req, [&](const auth::Caller&) {
    return ListCreditList(/*black=*/true, *req, resp);
  });
}

grpc::Status CreditServiceImpl::ListRedlist(grpc::ServerContext* ctx,
                                            const v1::ListRedlistRequest* req,
                                            v1::ListRedlistResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListRedlist", *req, [&](const auth::Caller&) {
    return ListCreditList(/*black=*/false, *req, resp);
  });
}

// ---- LedgerService ----

absl::StatusOr<std::unique_ptr<LedgerServiceImpl>> LedgerServiceImpl::Create(
    CreditStore* store, const Clock* clock, CreditOptions options,
    std::shared_ptr<const auth::TokenVerifier> verifier, server::Metrics* metrics) {
  std::unique_ptr<LedgerServiceImpl> s(new LedgerServiceImpl(store, clock, std::move(options)));
  MARKET_ASSIGN_OR_RETURN(
      s->authorizer_,
      auth::Authorizer::Create(v1::Record::descriptor()->file()->FindServiceByName("LedgerService"),
                               LedgerPolicies(), std::move(verifier), nullptr, clock));
  s->env_ = server::RpcEnv{kLedgerService, s->authorizer_.get(), metrics};
  return s;
}

grpc::Status LedgerServiceImpl::GetCheckpoint(grpc::ServerContext* ctx,
                                              const v1::GetCheckpointRequest* req,
                                              v1::Checkpoint* resp) {
  return server::HandleRpc(env_, ctx, "GetCheckpoint", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(StoredCheckpoint cp, store_->LatestCheckpoint());
    *resp = ToProto(cp, options_);
    return absl::OkStatus();
  });
}

grpc::Status LedgerServiceImpl::GetRecords(grpc::ServerContext* ctx,
                                           const v1::GetRecordsRequest* req,
                                           v1::GetRecordsResponse* resp) {
  return server::HandleRpc(env_, ctx, "GetRecords", *req, [&](const auth::Caller& caller) {
    if (req->start() < 0) return InvalidField("start", "negative");
    if (req->end() < req->start()) return InvalidField("end", "less than start");
    int64_t end = req->end() - req->start() > kMaxRecordsPerCall
                      ? req->start() + kMaxRecordsPerCall
                      : req->end();
    MARKET_ASSIGN_OR_RETURN(std::vector<StoredEntry> entries, store_->GetEntries(req->start(), end));
    const absl::Time now = clock_->Now();
    for (const StoredEntry& e : entries) {
      auto* out = resp->add_records();
      out->set_index(e.index);
      out->set_leaf(e.leaf);
      Record record;
      if (!record.ParseFromString(e.content)) {
        return absl::DataLossError(absl::StrCat("corrupt record ", e.index));
      }
      // The content and its salt go only to who may read the record here:
      // anyone while credit-policy-v1 displays it publicly, and its subject.
      // Supervisors and operators read others' records through ListRecords,
      // which logs the access. Everyone else gets the leaf's public view.
      if (ledger::PubliclyDisplayed(record, e.concluded, now) ||
          (caller.authenticated() && caller.subject == record.subject())) {
        *out->mutable_record() = std::move(record);
        out->set_salt(e.salt);
        out->set_content(e.content);
      } else {
        MARKET_ASSIGN_OR_RETURN(ledger::ParsedLeaf parsed, ledger::ParseLeaf(e.leaf));
        *out->mutable_record() = std::move(parsed.public_view);
      }
      out->mutable_record()->set_name(absl::StrCat("ledgers/main/records/", e.index));
    }
    return absl::OkStatus();
  });
}

grpc::Status LedgerServiceImpl::GetInclusionProof(grpc::ServerContext* ctx,
                                                  const v1::GetInclusionProofRequest* req,
                                                  v1::InclusionProof* resp) {
  return server::HandleRpc(env_, ctx, "GetInclusionProof", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(int64_t current, store_->Size());
    int64_t size = req->tree_size() == 0 ? current : req->tree_size();
    if (size < 0 || size > current) {
      return InvalidField("tree_size", absl::StrCat(size, ", want 1..", current));
    }
    if (req->index() < 0 || req->index() >= size) {
      return InvalidField("index", absl::StrCat(req->index(), ", want 0..", size - 1));
    }
    MARKET_ASSIGN_OR_RETURN(std::vector<Hash> proof, store_->InclusionProof(req->index(), size));
    resp->set_index(req->index());
    resp->set_tree_size(size);
    for (const Hash& h : proof) resp->add_hashes(h);
    return absl::OkStatus();
  });
}

grpc::Status LedgerServiceImpl::GetConsistencyProof(grpc::ServerContext* ctx,
                                                    const v1::GetConsistencyProofRequest* req,
                                                    v1::ConsistencyProof* resp) {
  return server::HandleRpc(env_, ctx, "GetConsistencyProof", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(int64_t current, store_->Size());
    int64_t second = req->second_size() == 0 ? current : req->second_size();
    if (second < 0 || second > current) {
      return InvalidField("second_size", absl::StrCat(second, ", want <= ", current));
    }
    if (req->first_size() < 1 || req->first_size() > second) {
      return InvalidField("first_size", absl::StrCat(req->first_size(), ", want 1..", second));
    }
    MARKET_ASSIGN_OR_RETURN(std::vector<Hash> proof,
                            store_->ConsistencyProof(req->first_size(), second));
    resp->set_first_size(req->first_size());
    resp->set_second_size(second);
    for (const Hash& h : proof) resp->add_hashes(h);
    return absl::OkStatus();
  });
}

}  // namespace market::credit
