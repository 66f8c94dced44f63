#include "services/identity/identity_service.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/crypto/crypto.h"
#include "common/pagination/filter.h"
#include "common/pagination/page.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/server/log.h"
#include "common/status/retry.h"
#include "common/status/status.h"
#include "common/validate/identifiers.h"
#include "google/protobuf/util/time_util.h"

namespace market::identity {
namespace {

using common::v1::Role;
using google::protobuf::util::TimeUtil;

constexpr char kService[] = "market.identity.v1.IdentityService";
constexpr char kApiKeyPrefix[] = "mk_";

// Number of UTF-8 code points, or -1 for invalid UTF-8.
int Utf8Length(absl::string_view s) {
  int n = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return -1;
    for (int k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return -1;
    }
    i += len;
    ++n;
  }
  return n;
}

void CheckText(Violations& v, const std::string& field, const std::string& value, int min_len,
               int max_len) {
  int n = Utf8Length(value);
  if (n < 0) {
    v.Add(field, "not valid UTF-8");
  } else if (n < min_len || n > max_len) {
    v.Add(field, absl::StrCat(n, " characters, want ", min_len, "..", max_len));
  }
}

bool ValidSubjectId(absl::string_view id) {
  if (id.size() < 4 || id.size() > 63 || !absl::ascii_islower(id[0])) return false;
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return true;
}

// "subjects/{id}" with a valid id.
bool ValidSubjectName(absl::string_view name) {
  return absl::ConsumePrefix(&name, "subjects/") && ValidSubjectId(name);
}

void CheckSubjectName(Violations& v, const std::string& field, const std::string& name) {
  if (name.empty()) {
    v.Add(field, "required, want subjects/{subject}");
  } else if (!ValidSubjectName(name)) {
    v.Add(field, absl::StrCat("\"", name, "\", want subjects/{subject}"));
  }
}

void CheckPhone(Violations& v, const std::string& field, const std::string& phone) {
  if (phone.empty()) return;
  absl::string_view digits = phone;
  absl::ConsumePrefix(&digits, "+");
  bool ok = digits.size() >= 5 && digits.size() <= 20;
  for (char c : digits) ok = ok && absl::ascii_isdigit(c);
  if (!ok) v.Add(field, "want 5-20 digits with an optional leading +");
}

void CheckRoles(Violations& v, const std::string& field,
                const google::protobuf::RepeatedField<int>& roles) {
  if (roles.empty()) v.Add(field, "at least one role required");
  std::set<int> seen;
  for (int r : roles) {
    if (!common::v1::Role_IsValid(r) || r == common::v1::ROLE_UNSPECIFIED) {
      v.Add(field, absl::StrCat("unknown role ", r));
    } else if (!seen.insert(r).second) {
      v.Add(field, absl::StrCat("duplicate role ", common::v1::Role_Name(r)));
    }
  }
}

// Roles a kind of subject cannot hold.
void CheckKindRoles(Violations& v, const std::string& field, Subject::Kind kind,
                    const google::protobuf::RepeatedField<int>& roles) {
  for (int r : roles) {
    if (kind == Subject::PERSON && (r == common::v1::APPRAISAL_FIRM || r == common::v1::SERVICE)) {
      v.Add(field, absl::StrCat(common::v1::Role_Name(r), " is for organisations"));
    }
    if (kind == Subject::ORGANIZATION &&
        (r == common::v1::APPRAISER || r == common::v1::SUPERVISOR)) {
      v.Add(field, absl::StrCat(common::v1::Role_Name(r), " is for people"));
    }
  }
}

// People holding these roles must be identified by an ID number (real name).
bool NeedsRealName(const google::protobuf::RepeatedField<int>& roles) {
  return std::any_of(roles.begin(), roles.end(), [](int r) {
    return r == common::v1::SELLER || r == common::v1::APPRAISER || r == common::v1::OPERATOR;
  });
}

bool HasRole(const Subject& s, Role role) {
  return std::find(s.roles().begin(), s.roles().end(), role) != s.roles().end();
}

void CheckPassword(Violations& v, const std::string& password) {
  int n = Utf8Length(password);
  if (n < 10 || n > 256) v.Add("password", "want 10..256 characters");
}

absl::Status CheckEtag(const std::string& sent, int64_t version) {
  if (!sent.empty() && sent != VersionEtag(version)) {
    return absl::AbortedError(
        absl::StrCat("etag ", sent, " is stale, current is ", VersionEtag(version)));
  }
  return absl::OkStatus();
}

// A string "mk_<keyid>_<secret>" → (key id, secret).
bool SplitApiKey(absl::string_view key, std::string* key_id, std::string* secret) {
  if (!absl::ConsumePrefix(&key, kApiKeyPrefix)) return false;
  auto sep = key.find('_');
  if (sep == absl::string_view::npos || sep == 0 || sep + 1 >= key.size()) return false;
  *key_id = std::string(key.substr(0, sep));
  *secret = std::string(key.substr(sep + 1));
  return true;
}

std::string NewApiKeySecret(std::string* key_id) {
  *key_id = HexEncode(RandomBytes(8));
  return Base64UrlEncode(RandomBytes(32));
}

// Parses the response an earlier try with `key` stored into `out`; false when
// there is none (a first try).
absl::StatusOr<bool> Replay(IdentityStore& store, const RequestKey& key,
                            google::protobuf::Message& out) {
  MARKET_ASSIGN_OR_RETURN(std::optional<std::string> stored, store.LookupReplay(key));
  if (!stored.has_value()) return false;
  if (!out.ParseFromString(*stored)) return absl::InternalError("corrupt replay record");
  return true;
}

// The subject `name` named as the affiliation of a subject; INVALID_ARGUMENT
// on subject.affiliation when it does not exist.
absl::StatusOr<SubjectRow> Affiliation(IdentityStore& store, const std::string& name) {
  absl::StatusOr<SubjectRow> row = store.GetSubject(name);
  if (absl::IsNotFound(row.status())) {
    return InvalidField("subject.affiliation", absl::StrCat(name, " does not exist"));
  }
  return row;
}

class Scrypt final : public PasswordHasher {
 public:
  explicit Scrypt(int log2_n) : log2_n_(log2_n) {}
  absl::StatusOr<std::string> Hash(const std::string& password) override {
    return HashPasswordWithCost(password, log2_n_);
  }
  absl::StatusOr<bool> Verify(const std::string& password, const std::string& hash) override {
    return VerifyPassword(password, hash);
  }

 private:
  int log2_n_;
};

// The client address of a gRPC peer without its port ("ipv4:10.1.2.3:5555" →
// "ipv4:10.1.2.3", "ipv6:[::1]:5555" → "ipv6:[::1]"): one client's
// connections share it.
std::string PeerAddress(absl::string_view peer) {
  if (absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:")) {
    auto colon = peer.rfind(':');
    if (colon != absl::string_view::npos && colon > 5) return std::string(peer.substr(0, colon));
  }
  return std::string(peer);
}

// `now` rounded down to the JWT's whole seconds: tokens issued in that second
// or later (iat >= it) stay valid.
google::protobuf::Timestamp CredentialsChangeTime(absl::Time now) {
  return ToTimestamp(absl::FromUnixSeconds(absl::ToUnixSeconds(now)));
}

v1::AuthEvent Event(v1::AuthEvent::Type type, const std::string& subject,
                    const std::string& actor, const std::string& peer,
                    const std::string& reason) {
  v1::AuthEvent e;
  e.set_type(type);
  e.set_subject(subject);
  if (actor != subject) e.set_actor(actor);
  e.set_peer(peer);
  e.set_reason(reason);
  return e;
}

}  // namespace

std::shared_ptr<PasswordHasher> ScryptHasher(int log2_n) {
  return std::make_shared<Scrypt>(log2_n);
}

absl::Duration LoginThrottlePolicy::Backoff(int64_t failures, int free) const {
  if (failures < free) return absl::ZeroDuration();
  int64_t shift = failures - free;
  if (shift >= 40) return max_delay;
  return std::min(base_delay * static_cast<double>(int64_t{1} << shift), max_delay);
}

absl::Duration LoginThrottlePolicy::MinimumTimeFor(int attempts) const {
  absl::Duration total;
  for (int failures = 1; failures < attempts; ++failures) {
    total += Backoff(failures, free_attempts);
  }
  return total;
}

absl::Status ValidateCreateSubject(const v1::CreateSubjectRequest& req, absl::Time now) {
  const Subject& in = req.subject();
  Violations v;
  if (!req.has_subject()) v.Add("subject", "required");
  if (in.kind() != Subject::PERSON && in.kind() != Subject::ORGANIZATION) {
    v.Add("subject.kind", "want PERSON or ORGANIZATION");
  }
  CheckRoles(v, "subject.roles", in.roles());
  CheckKindRoles(v, "subject.roles", in.kind(), in.roles());
  CheckText(v, "subject.display_name", in.display_name(), 1, 100);
  CheckPhone(v, "subject.phone", in.phone());
  CheckRequestId(v, req.request_id());
  if (!req.subject_id().empty() && !ValidSubjectId(req.subject_id())) {
    v.Add("subject_id", "want 4-63 characters of [a-z0-9-] starting with a letter");
  }
  if (!req.password().empty()) CheckPassword(v, req.password());
  if (!in.affiliation().empty()) CheckSubjectName(v, "subject.affiliation", in.affiliation());
  if (in.kind() == Subject::ORGANIZATION) {
    if (in.credit_code().empty()) {
      v.Add("subject.credit_code", "required for organisations");
    } else {
      v.Merge(ValidateUscc(in.credit_code()), "subject.credit_code");
    }
    if (!in.id_number().empty()) v.Add("subject.id_number", "only for people");
  }
  if (in.kind() == Subject::PERSON) {
    if (!in.credit_code().empty()) v.Add("subject.credit_code", "only for organisations");
    bool real_name = NeedsRealName(in.roles());
    if (in.id_number().empty()) {
      if (real_name) {
        v.Add("subject.id_number", "required for sellers, appraisers and operators");
      }
    } else {
      v.Merge(ValidateIdNumber(in.id_number(), now), "subject.id_number");
    }
  }
  if (HasRole(in, common::v1::APPRAISER) && in.affiliation().empty()) {
    v.Add("subject.affiliation", "an appraiser must name its appraisal firm");
  }
  return v.ToStatus();
}

auth::SubjectStatus StatusOf(const Subject& subject) {
  auth::SubjectStatus status;
  status.blocked = subject.state() != Subject::ACTIVE;
  for (int r : subject.roles()) status.roles.push_back(static_cast<Role>(r));
  if (subject.has_credentials_change_time()) {
    status.tokens_valid_after = FromTimestamp(subject.credentials_change_time());
  }
  status.password_change_required = subject.password_change_required();
  return status;
}

std::vector<auth::RpcPolicy> IdentityPolicies() {
  using common::v1::SUPERVISOR;
  return {
      // Public, with the finer rules (who may create what) in the handler.
      {.method = "CreateSubject", .public_access = true},
      {.method = "GetSubject", .any_authenticated = true},
      {.method = "ListSubjects", .any_authenticated = true},
      {.method = "UpdateSubject", .roles = {SUPERVISOR}, .owner_field = "subject.name"},
      {.method = "SuspendSubject", .roles = {SUPERVISOR}},
      {.method = "ReinstateSubject", .roles = {SUPERVISOR}},
      {.method = "Login", .public_access = true},
      {.method = "CreateApiKey", .roles = {SUPERVISOR}, .owner_field = "parent"},
      {.method = "RevokeApiKey", .roles = {SUPERVISOR}, .owner_field = "name"},
      {.method = "GetSigningKeys", .public_access = true},
      {.method = "WhoAmI", .any_authenticated = true},
      {.method = "ChangePassword", .owner_field = "name"},
      {.method = "ResetPassword", .roles = {SUPERVISOR}},
      {.method = "ClearLoginThrottle", .roles = {SUPERVISOR}},
      // Finer rule (a non-supervisor sees its own events) in the handler.
      {.method = "ListAuthEvents", .any_authenticated = true},
  };
}

auth::SuspensionChecker::Source IdentityServiceImpl::SuspensionSource(IdentityStore* store) {
  return [store](const std::string& subject) -> absl::StatusOr<auth::SubjectStatus> {
    absl::StatusOr<SubjectRow> row = store->GetSubject(subject);
    if (absl::IsNotFound(row.status())) return auth::SubjectStatus{};
    if (!row.ok()) return row.status();
    return StatusOf(row->subject);
  };
}

absl::StatusOr<std::unique_ptr<IdentityServiceImpl>> IdentityServiceImpl::Create(
    IdentityStore* store, const Clock* clock, IdentityOptions options,
    std::shared_ptr<auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics) {
  if (options.id_hash_key.size() < 16 || options.page_token_secret.size() < 16) {
    return absl::FailedPreconditionError("identity secrets must be at least 16 bytes");
  }
  if (options.hasher == nullptr) options.hasher = ScryptHasher(options.password_log2_n);
  std::unique_ptr<IdentityServiceImpl> service(
      new IdentityServiceImpl(store, clock, std::move(options), suspension));
  MARKET_ASSIGN_OR_RETURN(service->tokens_,
                          TokenAuthority::Create(store, clock, verifier,
                                                 service->options_.token_ttl,
                                                 service->options_.key_rotation));
  MARKET_ASSIGN_OR_RETURN(service->authorizer_,
                          auth::Authorizer::Create(v1::Subject::descriptor()->file()->FindServiceByName("IdentityService"),
                                                   IdentityPolicies(), verifier, suspension,
                                                   clock));
  service->env_ = server::RpcEnv{kService, service->authorizer_.get(), metrics};
  MARKET_ASSIGN_OR_RETURN(service->dummy_password_hash_,
                          service->options_.hasher->Hash(HexEncode(RandomBytes(16))));
  return service;
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
IdentityServiceImpl::BootstrapSupervisor() {
  MARKET_ASSIGN_OR_RETURN(int64_t count, store_->CountSubjects());
  if (count > 0) return std::nullopt;
  std::string password = Base64UrlEncode(RandomBytes(18));
  SubjectRow row;
  row.subject.set_name(kBootstrapSupervisor);
  row.subject.set_password_change_required(true);
  row.subject.set_kind(Subject::PERSON);
  row.subject.add_roles(common::v1::SUPERVISOR);
  row.subject.set_display_name("Bootstrap supervisor");
  row.subject.set_state(Subject::ACTIVE);
  MARKET_ASSIGN_OR_RETURN(row.password_hash, HashPassword(password));
  MARKET_RETURN_IF_ERROR(
      store_->CreateSubject(row, std::nullopt, RequestKey{}, clock_->Now(), nullptr).status());
  return std::make_pair(row.subject.name(), password);
}

Subject IdentityServiceImpl::View(const SubjectRow& row, const auth::Caller& caller) const {
  Subject s = row.subject;
  s.set_etag(VersionEtag(row.version));
  return ViewSubject(std::move(s), caller);
}

Subject IdentityServiceImpl::ViewSubject(Subject s, const auth::Caller& caller) const {
  bool self = caller.subject == s.name();
  bool supervisor = caller.HasRole(common::v1::SUPERVISOR);
  if (!self) s.set_phone(MaskPhone(s.phone()));
  if (!self && !supervisor) {
    s.clear_id_number_masked();
    s.clear_suspend_reason();
  }
  // Other services' authorizers need these (StatusOf); nobody else does.
  if (!self && !supervisor && !caller.HasRole(common::v1::SERVICE)) {
    s.clear_password_change_required();
    s.clear_credentials_change_time();
  }
  return s;
}

grpc::Status IdentityServiceImpl::CreateSubject(grpc::ServerContext* ctx,
                                                const v1::CreateSubjectRequest* req,
                                                v1::Subject* resp) {
  return server::HandleRpc(env_, ctx, "CreateSubject", *req, [&](const auth::Caller& caller) {
    const Subject& in = req->subject();
    MARKET_RETURN_IF_ERROR(ValidateCreateSubject(*req, clock_->Now()));

    // Who may create what (the table lets anyone in; the rules depend on the body).
    bool supervisor = caller.HasRole(common::v1::SUPERVISOR);
    bool operator_ = caller.HasRole(common::v1::OPERATOR);
    std::string affiliation = in.affiliation();
    if (!supervisor) {
      for (int r : in.roles()) {
        if (r != common::v1::SELLER && r != common::v1::BUYER) {
          return absl::PermissionDeniedError(
              absl::StrCat("only a supervisor may grant ", common::v1::Role_Name(r)));
        }
      }
      if (operator_) {
        if (!affiliation.empty() && affiliation != caller.subject) {
          return absl::PermissionDeniedError("an operator onboards subjects to itself only");
        }
        affiliation = caller.subject;
      } else {
        if (in.kind() != Subject::PERSON) {
          return absl::PermissionDeniedError("self-registration is for people only");
        }
        if (!affiliation.empty()) {
          return absl::PermissionDeniedError("self-registration cannot set an affiliation");
        }
        if (req->password().empty()) {
          return InvalidField("password", "required for self-registration");
        }
      }
    }
    // Anonymous callers share no identity: their retries are keyed by the
    // request body too, so one anonymous caller never gets another's replay.
    std::string replay_caller =
        caller.authenticated()
            ? caller.subject
            : absl::StrCat("anonymous:", HexEncode(Sha256(absl::StrCat(
                                             req->subject().SerializeAsString(), "|",
                                             req->subject_id(), "|", req->password()))));
    RequestKey key{"CreateSubject", replay_caller, req->request_id()};
    MARKET_ASSIGN_OR_RETURN(bool replayed, Replay(*store_, key, *resp));
    if (replayed) return absl::OkStatus();
    if (!affiliation.empty()) {
      MARKET_ASSIGN_OR_RETURN(SubjectRow firm, Affiliation(*store_, affiliation));
      if (HasRole(in, common::v1::APPRAISER) &&
          !HasRole(firm.subject, common::v1::APPRAISAL_FIRM)) {
        return InvalidField("subject.affiliation",
                            absl::StrCat(affiliation, " is not an appraisal firm"));
      }
    }

    SubjectRow row;
    Subject& s = row.subject;
    s.set_name(absl::StrCat("subjects/", req->subject_id().empty()
                                             ? absl::StrCat("s", HexEncode(
                                                                     RandomBytes(8)))
                                             : req->subject_id()));
    s.set_kind(in.kind());
    *s.mutable_roles() = in.roles();
    s.set_display_name(in.display_name());
    s.set_credit_code(absl::AsciiStrToUpper(in.credit_code()));
    s.set_phone(in.phone());
    s.set_affiliation(affiliation);
    s.set_state(Subject::ACTIVE);
    if (!in.id_number().empty()) {
      std::string id = absl::AsciiStrToUpper(in.id_number());
      row.id_number_hash = HmacSha256(options_.id_hash_key, id);
      s.set_id_number_masked(MaskIdNumber(id));
    }
    if (!req->password().empty()) {
      MARKET_ASSIGN_OR_RETURN(row.password_hash, HashPasswordWithCost(
                                                     req->password(), options_.password_log2_n));
    }
    std::optional<ApiKeyRow> initial_key;
    std::string initial_secret;
    if (req->password().empty()) {
      // No password: the subject's first API key, shown once.
      std::string key_id;
      initial_secret = NewApiKeySecret(&key_id);
      initial_key.emplace();
      initial_key->subject = s.name();
      initial_key->key.set_name(absl::StrCat(s.name(), "/apiKeys/", key_id));
      initial_key->key.set_display_name("initial");
      initial_key->secret_hash = Sha256(initial_secret);
      initial_secret = absl::StrCat(kApiKeyPrefix, key_id, "_", initial_secret);
    }
    MARKET_ASSIGN_OR_RETURN(*resp,
                            store_->CreateSubject(row, initial_key, key, clock_->Now(), &replayed));
    if (!replayed && initial_key.has_value()) {
      resp->set_initial_api_key(initial_secret);
    }
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::GetSubject(grpc::ServerContext* ctx,
                                             const v1::GetSubjectRequest* req, v1::Subject* resp) {
  return server::HandleRpc(env_, ctx, "GetSubject", *req, [&](const auth::Caller& caller) {
    Violations v;
    CheckSubjectName(v, "name", req->name());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(SubjectRow row, store_->GetSubject(req->name()));
    *resp = View(row, caller);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ListSubjects(grpc::ServerContext* ctx,
                                               const v1::ListSubjectsRequest* req,
                                               v1::ListSubjectsResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListSubjects", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(Page page,
                            Page::Start(pages_, absl::StrCat("ListSubjects|", req->filter()),
                                        req->page_size(), req->page_token()));
    SubjectFilter filter;
    constexpr char kWant[] = "want role=ROLE and/or state=ACTIVE|SUSPENDED joined by AND";
    MARKET_ASSIGN_OR_RETURN(std::vector<FilterTerm> terms, ParseFilterTerms(req->filter(), kWant));
    for (const FilterTerm& t : terms) {
      Role role;
      Subject::State state;
      if (t.key == "role" && common::v1::Role_Parse(t.value, &role) &&
          role != common::v1::ROLE_UNSPECIFIED && !filter.role) {
        filter.role = role;
      } else if (t.key == "state" && Subject::State_Parse(t.value, &state) &&
                 state != Subject::STATE_UNSPECIFIED && !filter.state) {
        filter.state = state;
      } else {
        return InvalidField("filter", absl::StrCat("cannot use term \"", t.text, "\"; ", kWant));
      }
    }
    MARKET_ASSIGN_OR_RETURN(std::vector<SubjectRow> rows,
                            store_->ListSubjects(filter, page.position(), page.limit()));
    resp->set_next_page_token(
        page.Trim(rows, [](const SubjectRow& r) { return r.subject.name(); }));
    for (const SubjectRow& row : rows) *resp->add_subjects() = View(row, caller);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::UpdateSubject(grpc::ServerContext* ctx,
                                                const v1::UpdateSubjectRequest* req,
                                                v1::Subject* resp) {
  return server::HandleRpc(env_, ctx, "UpdateSubject", *req, [&](const auth::Caller& caller) {
    const Subject& in = req->subject();
    Violations v;
    CheckSubjectName(v, "subject.name", in.name());
    CheckRequestId(v, req->request_id());
    if (req->update_mask().paths().empty()) v.Add("update_mask", "at least one path required");
    bool supervisor = caller.HasRole(common::v1::SUPERVISOR);
    for (const std::string& path : req->update_mask().paths()) {
      if (path == "display_name") {
        CheckText(v, "subject.display_name", in.display_name(), 1, 100);
      } else if (path == "roles") {
        CheckRoles(v, "subject.roles", in.roles());
      } else if (path == "phone") {
        CheckPhone(v, "subject.phone", in.phone());
      } else if (path == "affiliation") {
        if (!in.affiliation().empty()) {
          CheckSubjectName(v, "subject.affiliation", in.affiliation());
        }
      } else {
        v.Add("update_mask", absl::StrCat("path \"", path,
                                          "\" cannot be updated; want display_name, roles, "
                                          "phone or affiliation"));
      }
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    if (!supervisor) {
      for (const std::string& path : req->update_mask().paths()) {
        if (path != "phone") {
          return absl::PermissionDeniedError(
              absl::StrCat("only a supervisor may update ", path));
        }
      }
    }
    RequestKey key{"UpdateSubject", caller.subject, req->request_id()};
    Subject stored;
    MARKET_ASSIGN_OR_RETURN(bool replayed, Replay(*store_, key, stored));
    if (replayed) {
      *resp = ViewSubject(std::move(stored), caller);
      return absl::OkStatus();
    }
    bool sets_affiliation = false;
    for (const std::string& path : req->update_mask().paths()) {
      sets_affiliation = sets_affiliation || path == "affiliation";
    }
    std::optional<SubjectRow> affiliated;
    if (sets_affiliation && !in.affiliation().empty()) {
      MARKET_ASSIGN_OR_RETURN(affiliated, Affiliation(*store_, in.affiliation()));
    }
    MARKET_ASSIGN_OR_RETURN(
        Subject updated,
        store_->UpdateSubject(in.name(), key, clock_->Now(), [&](SubjectRow& row) {
          MARKET_RETURN_IF_ERROR(CheckEtag(in.etag(), row.version));
          for (const std::string& path : req->update_mask().paths()) {
            if (path == "display_name") row.subject.set_display_name(in.display_name());
            if (path == "roles") *row.subject.mutable_roles() = in.roles();
            if (path == "phone") row.subject.set_phone(in.phone());
            if (path == "affiliation") row.subject.set_affiliation(in.affiliation());
          }
          // The same rules as at creation, on the updated subject.
          Violations rules;
          CheckKindRoles(rules, "subject.roles", row.subject.kind(), row.subject.roles());
          if (row.subject.kind() == Subject::PERSON && row.id_number_hash.empty() &&
              NeedsRealName(row.subject.roles())) {
            rules.Add("subject.roles", "SELLER, APPRAISER and OPERATOR need an ID number on file");
          }
          if (HasRole(row.subject, common::v1::APPRAISER) &&
              (row.subject.affiliation().empty() ||
               (affiliated.has_value() &&
                !HasRole(affiliated->subject, common::v1::APPRAISAL_FIRM)))) {
            rules.Add("subject.affiliation", "an appraiser must name its appraisal firm");
          }
          return rules.ToStatus();
        }));
    if (suspension_ != nullptr) suspension_->Invalidate(in.name());
    MARKET_ASSIGN_OR_RETURN(SubjectRow row, store_->GetSubject(updated.name()));
    *resp = View(row, caller);
    return absl::OkStatus();
  });
}

absl::StatusOr<Subject> IdentityServiceImpl::SetState(const auth::Caller& caller,
                                                      const std::string& method,
                                                      const std::string& name,
                                                      const std::string& etag,
                                                      const std::string& request_id,
                                                      Subject::State state,
                                                      const std::string& reason,
                                                      const std::string& peer) {
  RequestKey key{method, caller.subject, request_id};
  v1::AuthEvent event = Event(state == Subject::SUSPENDED ? v1::AuthEvent::SUBJECT_SUSPENDED
                                                          : v1::AuthEvent::SUBJECT_REINSTATED,
                              name, caller.subject, peer, reason);
  Subject stored;
  MARKET_ASSIGN_OR_RETURN(bool replayed, Replay(*store_, key, stored));
  if (replayed) return ViewSubject(std::move(stored), caller);
  MARKET_ASSIGN_OR_RETURN(
      Subject updated, store_->UpdateSubject(name, key, clock_->Now(), [&](SubjectRow& row) {
        MARKET_RETURN_IF_ERROR(CheckEtag(etag, row.version));
        if (state == Subject::SUSPENDED && row.subject.state() == Subject::SUSPENDED) {
          return WithReason(absl::StatusCode::kFailedPrecondition, "ALREADY_SUSPENDED",
                            absl::StrCat(name, " is already suspended"));
        }
        if (state == Subject::ACTIVE && row.subject.state() == Subject::ACTIVE) {
          return WithReason(absl::StatusCode::kFailedPrecondition, "NOT_SUSPENDED",
                            absl::StrCat(name, " is not suspended"));
        }
        row.subject.set_state(state);
        row.subject.set_suspend_reason(reason);
        // The tokens it held before stay refused after a reinstatement.
        if (state == Subject::SUSPENDED) {
          *row.subject.mutable_credentials_change_time() = CredentialsChangeTime(clock_->Now());
        }
        return absl::OkStatus();
      }, {event}));
  if (suspension_ != nullptr) suspension_->Invalidate(name);
  MARKET_ASSIGN_OR_RETURN(SubjectRow row, store_->GetSubject(updated.name()));
  return View(row, caller);
}

grpc::Status IdentityServiceImpl::SuspendSubject(grpc::ServerContext* ctx,
                                                 const v1::SuspendSubjectRequest* req,
                                                 v1::Subject* resp) {
  return server::HandleRpc(env_, ctx, "SuspendSubject", *req, [&](const auth::Caller& caller) {
    Violations v;
    CheckSubjectName(v, "name", req->name());
    CheckText(v, "reason", req->reason(), 1, 500);
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    if (req->name() == caller.subject) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "CANNOT_SUSPEND_SELF",
                        "a supervisor cannot suspend itself");
    }
    MARKET_ASSIGN_OR_RETURN(*resp, SetState(caller, "SuspendSubject", req->name(), req->etag(),
                                            req->request_id(), Subject::SUSPENDED,
                                            req->reason(), ctx->peer()));
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ReinstateSubject(grpc::ServerContext* ctx,
                                                   const v1::ReinstateSubjectRequest* req,
                                                   v1::Subject* resp) {
  return server::HandleRpc(env_, ctx, "ReinstateSubject", *req, [&](const auth::Caller& caller) {
    Violations v;
    CheckSubjectName(v, "name", req->name());
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(*resp, SetState(caller, "ReinstateSubject", req->name(), req->etag(),
                                            req->request_id(), Subject::ACTIVE, "",
                                            ctx->peer()));
    return absl::OkStatus();
  });
}

IdentityServiceImpl::ThrottleKeys IdentityServiceImpl::KeysFor(
    const std::string& subject, const std::string& peer_address) const {
  return {absl::StrCat("subject:", subject), absl::StrCat("peer:", peer_address)};
}

absl::Status IdentityServiceImpl::CheckThrottle(const ThrottleKeys& keys) const {
  absl::Time now = clock_->Now();
  absl::Time until = absl::InfinitePast();
  for (const std::string* key : {&keys.subject, &keys.peer}) {
    MARKET_ASSIGN_OR_RETURN(LoginThrottle t, store_->GetLoginThrottle(*key));
    until = std::max(until, t.blocked_until);
  }
  if (until <= now) return absl::OkStatus();
  absl::Duration wait = absl::Ceil(until - now, absl::Seconds(1));
  return WithRetryDelay(
      WithReason(absl::StatusCode::kResourceExhausted, "LOGIN_THROTTLED",
                 absl::StrCat("too many failed logins; try again in ",
                              absl::FormatDuration(wait))),
      until - now);
}

absl::Status IdentityServiceImpl::FailLogin(const ThrottleKeys& keys, const std::string& subject,
                                            const std::string& peer, const std::string& reason,
                                            absl::Status denied) {
  server::LogJson("warn", "login failed",
                  {{"subject", subject}, {"peer", peer}, {"reason", reason}});
  const LoginThrottlePolicy& policy = options_.throttle;
  std::vector<std::string> keys_list = {keys.subject, keys.peer};
  std::vector<v1::AuthEvent> events = {
      Event(v1::AuthEvent::LOGIN_FAILED, subject, subject, peer, reason)};
  absl::StatusOr<std::vector<LoginThrottle>> counted = store_->RecordLoginFailure(
      keys_list, clock_->Now(), policy.forget_after,
      [&, n = 0](int64_t failures) mutable {
        return policy.Backoff(failures, n++ == 0 ? policy.free_attempts
                                                 : policy.peer_free_attempts);
      },
      events);
  MARKET_RETURN_IF_ERROR(counted.status());
  if ((*counted)[0].failures == policy.free_attempts) {
    server::LogJson("warn", "login throttled", {{"subject", subject}, {"peer", peer}});
    Audit(v1::AuthEvent::LOGIN_THROTTLED, subject, subject, peer,
          absl::StrCat(policy.free_attempts, " failed logins for the subject"));
  }
  if ((*counted)[1].failures == policy.peer_free_attempts) {
    server::LogJson("warn", "login throttled", {{"subject", subject}, {"peer", peer}});
    Audit(v1::AuthEvent::LOGIN_THROTTLED, subject, subject, peer,
          absl::StrCat(policy.peer_free_attempts, " failed logins from the address"));
  }
  return denied;
}

void IdentityServiceImpl::Audit(v1::AuthEvent::Type type, const std::string& subject,
                                const std::string& actor, const std::string& peer,
                                const std::string& reason) {
  absl::Status s =
      store_->AppendAuthEvent(Event(type, subject, actor, peer, reason), clock_->Now());
  if (!s.ok()) {
    server::LogJson("error", "auth event not recorded",
                    {{"type", v1::AuthEvent::Type_Name(type)},
                     {"subject", subject},
                     {"error", s.ToString()}});
  }
}

absl::StatusOr<std::string> IdentityServiceImpl::HashPassword(const std::string& password) {
  hash_slots_.acquire();
  absl::StatusOr<std::string> hash = options_.hasher->Hash(password);
  hash_slots_.release();
  return hash;
}

absl::StatusOr<bool> IdentityServiceImpl::CheckPassword(const std::string& password,
                                                        const std::string& hash) {
  hash_slots_.acquire();
  absl::StatusOr<bool> ok = options_.hasher->Verify(password, hash);
  hash_slots_.release();
  return ok;
}

grpc::Status IdentityServiceImpl::Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                                        v1::LoginResponse* resp) {
  return server::HandleRpc(env_, ctx, "Login", *req, [&](const auth::Caller&) -> absl::Status {
    Violations v;
    CheckSubjectName(v, "subject", req->subject());
    if (req->credential_case() == v1::LoginRequest::CREDENTIAL_NOT_SET) {
      v.Add("credential", "want password or api_key");
    } else if (req->credential_case() == v1::LoginRequest::kPassword && req->password().empty()) {
      v.Add("password", "required");
    } else if (req->credential_case() == v1::LoginRequest::kApiKey && req->api_key().empty()) {
      v.Add("api_key", "required");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    const std::string peer = ctx->peer();
    const ThrottleKeys keys = KeysFor(req->subject(), PeerAddress(peer));
    // Before any hashing: a throttled guess costs one indexed read.
    if (absl::Status throttled = CheckThrottle(keys); !throttled.ok()) {
      server::LogJson("warn", "login refused while throttled",
                      {{"subject", req->subject()}, {"peer", peer}});
      return throttled;
    }
    const absl::Status denied = absl::UnauthenticatedError("unknown subject or wrong credential");
    auto fail = [&](const std::string& reason) {
      return FailLogin(keys, req->subject(), peer, reason, denied);
    };
    // Without a usable password hash, still spend the time of one check.
    auto deny_after_dummy_check = [&](const std::string& reason) -> absl::Status {
      if (req->credential_case() == v1::LoginRequest::kPassword) {
        (void)CheckPassword(req->password(), dummy_password_hash_);
      }
      return fail(reason);
    };
    absl::StatusOr<SubjectRow> row = store_->GetSubject(req->subject());
    if (absl::IsNotFound(row.status())) return deny_after_dummy_check("unknown subject");
    MARKET_RETURN_IF_ERROR(row.status());
    if (req->credential_case() == v1::LoginRequest::kPassword) {
      if (row->password_hash.empty()) return deny_after_dummy_check("subject has no password");
      MARKET_ASSIGN_OR_RETURN(bool ok, CheckPassword(req->password(), row->password_hash));
      if (!ok) return fail("wrong password");
    } else {
      std::string key_id, secret;
      if (!SplitApiKey(req->api_key(), &key_id, &secret)) return fail("malformed API key");
      absl::StatusOr<ApiKeyRow> key =
          store_->GetApiKey(absl::StrCat(req->subject(), "/apiKeys/", key_id));
      if (absl::IsNotFound(key.status())) return fail("unknown API key");
      MARKET_RETURN_IF_ERROR(key.status());
      if (key->key.has_revoke_time()) return fail("revoked API key");
      if (!ConstantTimeEquals(key->secret_hash, Sha256(secret))) return fail("wrong API key");
    }
    if (row->subject.state() != Subject::ACTIVE) {
      Audit(v1::AuthEvent::LOGIN_FAILED, req->subject(), req->subject(), peer,
            "subject is suspended");
      return WithReason(absl::StatusCode::kFailedPrecondition, "SUBJECT_SUSPENDED",
                        absl::StrCat(req->subject(), " is suspended"));
    }
    std::vector<auth::Role> roles;
    for (int r : row->subject.roles()) roles.push_back(static_cast<Role>(r));
    MARKET_RETURN_IF_ERROR(tokens_->MaybeRotate());
    MARKET_ASSIGN_OR_RETURN(auto token, tokens_->Issue(req->subject(), roles));
    // A success resets the subject's count (the address's decays only by
    // time: one address may be guessing at many subjects).
    MARKET_RETURN_IF_ERROR(
        store_
            ->ClearLoginThrottle(
                keys.subject,
                Event(v1::AuthEvent::LOGIN_SUCCEEDED, req->subject(), req->subject(), peer,
                      req->credential_case() == v1::LoginRequest::kPassword ? "password"
                                                                           : "API key"),
                clock_->Now())
            .status());
    resp->set_access_token(token.first);
    *resp->mutable_expire_time() = ToTimestamp(token.second);
    resp->set_password_change_required(row->subject.password_change_required());
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::CreateApiKey(grpc::ServerContext* ctx,
                                               const v1::CreateApiKeyRequest* req,
                                               v1::CreateApiKeyResponse* resp) {
  return server::HandleRpc(env_, ctx, "CreateApiKey", *req, [&](const auth::Caller& caller) {
    Violations v;
    CheckSubjectName(v, "parent", req->parent());
    CheckText(v, "display_name", req->display_name(), 0, 100);
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    RequestKey key{"CreateApiKey", caller.subject, req->request_id()};
    // The secret is shown once; a retry gets the key resource only.
    MARKET_ASSIGN_OR_RETURN(bool replayed, Replay(*store_, key, *resp->mutable_api_key()));
    if (replayed) return absl::OkStatus();
    MARKET_RETURN_IF_ERROR(store_->GetSubject(req->parent()).status());
    ApiKeyRow row;
    std::string key_id;
    std::string secret = NewApiKeySecret(&key_id);
    row.subject = req->parent();
    row.key.set_name(absl::StrCat(req->parent(), "/apiKeys/", key_id));
    row.key.set_display_name(req->display_name());
    row.secret_hash = Sha256(secret);
    MARKET_ASSIGN_OR_RETURN(*resp->mutable_api_key(),
                            store_->CreateApiKey(row, key, clock_->Now()));
    resp->set_key(absl::StrCat(kApiKeyPrefix, key_id, "_", secret));
    Audit(v1::AuthEvent::API_KEY_CREATED, req->parent(), caller.subject, ctx->peer(),
          resp->api_key().name());
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::RevokeApiKey(grpc::ServerContext* ctx,
                                               const v1::RevokeApiKeyRequest* req,
                                               v1::ApiKey* resp) {
  return server::HandleRpc(env_, ctx, "RevokeApiKey", *req, [&](const auth::Caller& caller) {
    std::vector<absl::string_view> parts = absl::StrSplit(req->name(), '/');
    if (parts.size() != 4 || parts[0] != "subjects" || !ValidSubjectId(parts[1]) ||
        parts[2] != "apiKeys" || parts[3].empty()) {
      return InvalidField("name", "want subjects/{subject}/apiKeys/{key}");
    }
    Violations v;
    CheckRequestId(v, req->request_id());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    RequestKey key{"RevokeApiKey", caller.subject, req->request_id()};
    MARKET_ASSIGN_OR_RETURN(bool replayed, Replay(*store_, key, *resp));
    if (replayed) return absl::OkStatus();
    MARKET_ASSIGN_OR_RETURN(*resp, store_->RevokeApiKey(req->name(), key, clock_->Now()));
    Audit(v1::AuthEvent::API_KEY_REVOKED, absl::StrCat(parts[0], "/", parts[1]), caller.subject,
          ctx->peer(), req->name());
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::GetSigningKeys(grpc::ServerContext* ctx,
                                                 const v1::GetSigningKeysRequest* req,
                                                 v1::GetSigningKeysResponse* resp) {
  return server::HandleRpc(env_, ctx, "GetSigningKeys", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(std::vector<SigningKeyRow> keys, store_->ListSigningKeys());
    for (const SigningKeyRow& row : keys) {
      auto* k = resp->add_keys();
      k->set_key_id(row.key_id);
      k->set_algorithm("EdDSA");
      k->set_public_key(row.public_raw);
      MARKET_ASSIGN_OR_RETURN(auto pub, Ed25519PublicKey::FromRaw(row.public_raw));
      k->set_public_key_pem(pub.Pem());
      k->set_active(row.active);
      *k->mutable_create_time() = ToTimestamp(row.create_time);
    }
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest* req,
                                         v1::WhoAmIResponse* resp) {
  return server::HandleRpc(env_, ctx, "WhoAmI", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(SubjectRow row, store_->GetSubject(caller.subject));
    resp->set_subject(caller.subject);
    for (Role r : caller.roles) resp->add_roles(r);
    resp->set_display_name(row.subject.display_name());
    *resp->mutable_token_expire_time() = ToTimestamp(caller.token_expire_time);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ChangePassword(grpc::ServerContext* ctx,
                                                 const v1::ChangePasswordRequest* req,
                                                 v1::ChangePasswordResponse* resp) {
  return server::HandleRpc(env_, ctx, "ChangePassword", *req, [&](const auth::Caller& caller)
                                                                   -> absl::Status {
    Violations v;
    CheckSubjectName(v, "name", req->name());
    if (req->old_password().empty()) v.Add("old_password", "required");
    if (Utf8Length(req->new_password()) < 10 || Utf8Length(req->new_password()) > 256) {
      v.Add("new_password", "want 10..256 characters");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    if (req->name() != caller.subject) {
      return absl::PermissionDeniedError("a subject changes its own password only");
    }
    if (req->old_password() == req->new_password()) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "SAME_PASSWORD",
                        "the new password must differ from the old one");
    }
    const std::string peer = ctx->peer();
    // The old password is a guess like a login's: throttled the same way.
    const ThrottleKeys keys = KeysFor(req->name(), PeerAddress(peer));
    MARKET_RETURN_IF_ERROR(CheckThrottle(keys));
    MARKET_ASSIGN_OR_RETURN(SubjectRow row, store_->GetSubject(req->name()));
    if (row.password_hash.empty()) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "NO_PASSWORD",
                        absl::StrCat(req->name(), " logs in with API keys only"));
    }
    MARKET_ASSIGN_OR_RETURN(bool ok, CheckPassword(req->old_password(), row.password_hash));
    if (!ok) {
      return FailLogin(keys, req->name(), peer, "wrong old password on ChangePassword",
                       absl::UnauthenticatedError("old_password is wrong"));
    }
    MARKET_ASSIGN_OR_RETURN(std::string hash, HashPassword(req->new_password()));
    MARKET_ASSIGN_OR_RETURN(
        Subject updated,
        store_->UpdateSubject(
            req->name(), RequestKey{}, clock_->Now(),
            [&](SubjectRow& r) {
              r.password_hash = hash;
              r.subject.set_password_change_required(false);
              *r.subject.mutable_credentials_change_time() = CredentialsChangeTime(clock_->Now());
              return absl::OkStatus();
            },
            {Event(v1::AuthEvent::PASSWORD_CHANGED, req->name(), caller.subject, peer, "")}));
    if (suspension_ != nullptr) suspension_->Invalidate(req->name());
    if (req->name() == kBootstrapSupervisor && !options_.bootstrap_file.empty()) {
      std::error_code ec;
      if (std::filesystem::remove(options_.bootstrap_file, ec)) {
        server::LogJson("info", "bootstrap credentials deleted",
                        {{"path", options_.bootstrap_file}});
      }
    }
    std::vector<auth::Role> roles;
    for (int r : updated.roles()) roles.push_back(static_cast<Role>(r));
    MARKET_RETURN_IF_ERROR(tokens_->MaybeRotate());
    MARKET_ASSIGN_OR_RETURN(auto token, tokens_->Issue(req->name(), roles));
    MARKET_ASSIGN_OR_RETURN(SubjectRow fresh, store_->GetSubject(req->name()));
    *resp->mutable_subject() = View(fresh, caller);
    resp->set_access_token(token.first);
    *resp->mutable_expire_time() = ToTimestamp(token.second);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ResetPassword(grpc::ServerContext* ctx,
                                                const v1::ResetPasswordRequest* req,
                                                v1::Subject* resp) {
  return server::HandleRpc(env_, ctx, "ResetPassword", *req, [&](const auth::Caller& caller) {
    Violations v;
    CheckSubjectName(v, "name", req->name());
    if (Utf8Length(req->new_password()) < 10 || Utf8Length(req->new_password()) > 256) {
      v.Add("new_password", "want 10..256 characters");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_RETURN_IF_ERROR(store_->GetSubject(req->name()).status());
    MARKET_ASSIGN_OR_RETURN(std::string hash, HashPassword(req->new_password()));
    MARKET_RETURN_IF_ERROR(
        store_
            ->UpdateSubject(
                req->name(), RequestKey{}, clock_->Now(),
                [&](SubjectRow& r) {
                  r.password_hash = hash;
                  r.subject.set_password_change_required(true);
                  *r.subject.mutable_credentials_change_time() =
                      CredentialsChangeTime(clock_->Now());
                  return absl::OkStatus();
                },
                {Event(v1::AuthEvent::PASSWORD_RESET, req->name(), caller.subject, ctx->peer(),
                       "")})
            .status());
    if (suspension_ != nullptr) suspension_->Invalidate(req->name());
    MARKET_ASSIGN_OR_RETURN(SubjectRow row, store_->GetSubject(req->name()));
    *resp = View(row, caller);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ClearLoginThrottle(grpc::ServerContext* ctx,
                                                     const v1::ClearLoginThrottleRequest* req,
                                                     v1::ClearLoginThrottleResponse* resp) {
  return server::HandleRpc(env_, ctx, "ClearLoginThrottle", *req,
                           [&](const auth::Caller& caller) -> absl::Status {
    Violations v;
    CheckSubjectName(v, "subject", req->subject());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_ASSIGN_OR_RETURN(
        int64_t failures,
        store_->ClearLoginThrottle(KeysFor(req->subject(), "").subject,
                                   Event(v1::AuthEvent::THROTTLE_CLEARED, req->subject(),
                                         caller.subject, ctx->peer(), ""),
                                   clock_->Now()));
    resp->set_cleared_failures(failures);
    return absl::OkStatus();
  });
}

grpc::Status IdentityServiceImpl::ListAuthEvents(grpc::ServerContext* ctx,
                                                 const v1::ListAuthEventsRequest* req,
                                                 v1::ListAuthEventsResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListAuthEvents", *req,
                           [&](const auth::Caller& caller) -> absl::Status {
    Violations v;
    if (!req->subject().empty()) CheckSubjectName(v, "subject", req->subject());
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    std::string subject = req->subject();
    if (!caller.HasRole(common::v1::SUPERVISOR)) {
      if (!subject.empty() && subject != caller.subject) {
        return absl::PermissionDeniedError("a subject sees its own auth events only");
      }
      subject = caller.subject;
    }
    MARKET_ASSIGN_OR_RETURN(Page page, Page::Start(pages_, absl::StrCat("auth-events|", subject),
                                                   req->page_size(), req->page_token()));
    MARKET_ASSIGN_OR_RETURN(int64_t before, page.Int(0));
    MARKET_ASSIGN_OR_RETURN(std::vector<v1::AuthEvent> events,
                            store_->ListAuthEvents(subject, before, page.limit()));
    resp->set_next_page_token(page.Trim(events, [](const v1::AuthEvent& e) {
      return std::string(absl::StripPrefix(e.name(), "authEvents/"));
    }));
    for (v1::AuthEvent& e : events) *resp->add_events() = std::move(e);
    return absl::OkStatus();
  });
}

}  // namespace market::identity
