#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "common/config/files.h"
#include "google/protobuf/util/time_util.h"
#include "market/identity/v1/identity.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace market::ctl {
namespace {

namespace v1 = ::market::identity::v1;
using Stub = v1::IdentityService::Stub;
using google::protobuf::util::TimeUtil;

absl::StatusOr<std::string> ReadSecret(const std::string& file, bool from_stdin,
                                       const std::string& what) {
  if (!file.empty()) {
    auto text = config::ReadFile(file);
    if (!text.ok()) return text.status();
    return std::string(absl::StripTrailingAsciiWhitespace(*text));
  }
  if (from_stdin) {
    std::string line;
    std::getline(std::cin, line);
    return std::string(absl::StripTrailingAsciiWhitespace(line));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("give the ", what, " with --", what, "-file FILE or --", what, "-stdin"));
}

absl::StatusOr<common::v1::Role> ParseRole(const std::string& text) {
  common::v1::Role role;
  if (!common::v1::Role_Parse(absl::AsciiStrToUpper(text), &role) ||
      role == common::v1::ROLE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("--role ", text,
                     ": want SUPERVISOR, OPERATOR, SELLER, BUYER, APPRAISAL_FIRM or APPRAISER"));
  }
  return role;
}

// Saves a token for `subject` to the credentials file and says so.
int SaveToken(Client& client, const std::string& subject, const std::string& token,
              const google::protobuf::Timestamp& expire_time) {
  Credentials creds{client.Server(), subject, token, TimeUtil::ToString(expire_time)};
  if (auto saved = SaveCredentials(client.flags().credentials, creds); !saved.ok()) {
    return client.Fail(saved), kExitLocal;
  }
  client.out() << "logged in as " << subject << " until " << creds.expire_time << "\n";
  return 0;
}

// ChangePassword with `ctx` (carrying the subject's token; its old tokens
// stop working), then stores the fresh token the response carries.
int ChangePasswordAndSave(Client& client, std::unique_ptr<grpc::ClientContext> ctx,
                          const std::string& subject, const std::string& old_password,
                          const std::string& new_password) {
  v1::ChangePasswordRequest req;
  req.set_name(subject);
  req.set_old_password(old_password);
  req.set_new_password(new_password);
  v1::ChangePasswordResponse resp;
  Stub stub(client.Channel());
  grpc::Status s = stub.ChangePassword(ctx.get(), req, &resp);
  if (!s.ok()) return client.Fail(s);
  client.out() << "password changed for " << subject << "\n";
  return SaveToken(client, subject, resp.access_token(), resp.expire_time());
}

}  // namespace

void AddIdentityCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  // ---- login ----
  auto* login = app.add_subcommand("login", "Log in and store the access token")
                    ->footer(
                        "Examples:\n"
                        "  marketctl login --bootstrap var/bootstrap-admin.json "
                        "--new-password-file supervisor.pw\n"
                        "  marketctl login --subject subjects/alice --password-stdin < pw.txt\n"
                        "  marketctl login --subject alice --api-key-file key.txt");
  auto opts = std::make_shared<std::map<std::string, std::string>>();
  auto flags = std::make_shared<std::map<std::string, bool>>();
  login->add_option("--subject", (*opts)["subject"], "subjects/{id} or {id}");
  login->add_option("--password-file", (*opts)["password-file"], "File holding the password");
  login->add_flag("--password-stdin", (*flags)["password-stdin"], "Read the password from stdin");
  login->add_option("--api-key-file", (*opts)["api-key-file"], "File holding an API key");
  login->add_flag("--api-key-stdin", (*flags)["api-key-stdin"], "Read an API key from stdin");
  login->add_option("--bootstrap", (*opts)["bootstrap"],
                    "marketd's bootstrap-admin.json (subject and password)");
  login->add_option("--new-password-file", (*opts)["new-password-file"],
                    "When the password must be changed (bootstrap, reset): the new one");
  login->add_flag("--new-password-stdin", (*flags)["new-password-stdin"],
                  "When the password must be changed: read the new one from stdin");
  OnRun(login, run, [&client, opts, flags] {
    v1::LoginRequest req;
    if (!(*opts)["bootstrap"].empty()) {
      auto text = config::ReadFile((*opts)["bootstrap"]);
      if (!text.ok()) return client.Fail(text.status()), kExitLocal;
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (!j.is_object()) {
        client.err() << "error: " << (*opts)["bootstrap"] << " is not JSON\n";
        return kExitLocal;
      }
      auto text_field = [&j](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      req.set_subject(text_field("subject"));
      req.set_password(text_field("password"));
    } else {
      if ((*opts)["subject"].empty()) {
        client.err() << "error: --subject is required (or --bootstrap FILE)\n";
        return kExitUsage;
      }
      req.set_subject(SubjectName((*opts)["subject"]));
      if (!(*opts)["api-key-file"].empty() || (*flags)["api-key-stdin"]) {
        auto key = ReadSecret((*opts)["api-key-file"], (*flags)["api-key-stdin"], "api-key");
        if (!key.ok()) return client.Fail(key.status()), kExitUsage;
        req.set_api_key(*key);
      } else {
        auto pw = ReadSecret((*opts)["password-file"], (*flags)["password-stdin"], "password");
        if (!pw.ok()) return client.Fail(pw.status()), kExitUsage;
        req.set_password(*pw);
      }
    }
    bool new_given = !(*opts)["new-password-file"].empty() || (*flags)["new-password-stdin"];
    v1::LoginResponse resp;
    grpc::Status s = Invoke(client, &Stub::Login, req, &resp, /*with_token=*/false);
    if (!s.ok()) return client.Fail(s);
    if (resp.password_change_required() && new_given &&
        req.credential_case() == v1::LoginRequest::kPassword) {
      auto pw = ReadSecret((*opts)["new-password-file"], (*flags)["new-password-stdin"],
                           "new-password");
      if (!pw.ok()) return client.Fail(pw.status()), kExitUsage;
      auto ctx = client.Context(/*with_token=*/false);
      ctx->AddMetadata("authorization", "Bearer " + resp.access_token());
      return ChangePasswordAndSave(client, std::move(ctx), req.subject(), req.password(), *pw);
    }
    int saved = SaveToken(client, req.subject(), resp.access_token(), resp.expire_time());
    if (saved == 0 && resp.password_change_required()) {
      client.err() << "note: " << req.subject()
                   << " must change its password before anything else: marketctl subject "
                      "change-password (or log in with --new-password-file)\n";
    }
    return saved;
  });

  // ---- logout ----
  OnRun(app.add_subcommand("logout", "Forget the stored access token")
            ->footer("Example:\n  marketctl logout"),
        run, [&client] {
          const std::string& path = client.flags().credentials;
          std::error_code ec;
          bool removed = std::filesystem::remove(path, ec);
          if (ec) {
            client.err() << "error: cannot remove " << path << ": " << ec.message() << "\n";
            return kExitLocal;
          }
          client.out() << (removed ? "logged out: removed " : "not logged in: no ") << path
                       << "\n";
          return 0;
        });

  // ---- whoami ----
  OnRun(app.add_subcommand("whoami",
                           "Show the logged-in subject, its roles and when the token expires")
            ->footer("Example:\n  marketctl whoami -o json"),
        run, [&client] { return CallAndPrint(client, &Stub::WhoAmI, v1::WhoAmIRequest()); });

  // ---- subject ----
  auto* subject = AddGroup(&app, "subject", "Manage subjects (people and organisations)");

  auto* create = subject->add_subcommand("create", "Create a subject")
                     ->footer(
                         "Examples:\n"
                         "  marketctl subject create --kind organization --role OPERATOR \\\n"
                         "      --display-name '东城跳蚤市场' --credit-code 91350100M000100Y43 \\\n"
                         "      --id east-market --password-file op.txt\n"
                         "  marketctl subject create --kind person --role SELLER \\\n"
                         "      --display-name 张三 --id-number 11010519491231002X");
  auto c = std::make_shared<v1::CreateSubjectRequest>();
  auto roles = std::make_shared<std::vector<std::string>>();
  auto kind = std::make_shared<std::string>("person");
  auto pw_file = std::make_shared<std::string>();
  auto pw_stdin = std::make_shared<bool>(false);
  create->add_option("--kind", *kind, "person or organization")
      ->check(CLI::IsMember({"person", "organization"}))
      ->capture_default_str();
  create->add_option("--role", *roles, "Role(s): SELLER, BUYER, OPERATOR, …")->required();
  create->add_option("--display-name", *c->mutable_subject()->mutable_display_name(), "Name")
      ->required();
  create->add_option("--credit-code", *c->mutable_subject()->mutable_credit_code(),
                     "USCC (organisations)");
  create->add_option("--id-number", *c->mutable_subject()->mutable_id_number(),
                     "ID number (people; stored only hashed and masked)");
  create->add_option("--phone", *c->mutable_subject()->mutable_phone(), "Contact phone");
  create->add_option("--affiliation", *c->mutable_subject()->mutable_affiliation(),
                     "subjects/{firm} for appraisers");
  create->add_option("--id", *c->mutable_subject_id(), "Subject id (default: generated)");
  create->add_option("--request-id", *c->mutable_request_id(), "Idempotency key");
  create->add_option("--password-file", *pw_file, "Initial password from a file");
  create->add_flag("--password-stdin", *pw_stdin, "Initial password from stdin");
  OnRun(create, run, [&client, c, roles, kind, pw_file, pw_stdin] {
    c->mutable_subject()->set_kind(*kind == "organization" ? v1::Subject::ORGANIZATION
                                                           : v1::Subject::PERSON);
    for (const auto& r : *roles) {
      auto role = ParseRole(r);
      if (!role.ok()) return client.Fail(role.status()), kExitUsage;
      c->mutable_subject()->add_roles(*role);
    }
    if (!pw_file->empty() || *pw_stdin) {
      auto pw = ReadSecret(*pw_file, *pw_stdin, "password");
      if (!pw.ok()) return client.Fail(pw.status()), kExitUsage;
      c->set_password(*pw);
    }
    if (!c->mutable_subject()->affiliation().empty()) {
      c->mutable_subject()->set_affiliation(SubjectName(c->subject().affiliation()));
    }
    return CallAndPrint(client, &Stub::CreateSubject, *c);
  });

  AddCallByName(subject->add_subcommand("get", "Show one subject")
                    ->footer("Example:\n  marketctl subject get east-market"),
                client, run, &Stub::GetSubject, "name", "subjects/{id} or {id}", "subjects");

  auto* list =
      subject->add_subcommand("list", "List subjects")
          ->footer("Example:\n  marketctl subject list --filter 'role=SELLER AND state=ACTIVE'");
  auto lreq = std::make_shared<v1::ListSubjectsRequest>();
  list->add_option("--filter", *lreq->mutable_filter(), "role=ROLE AND state=ACTIVE|SUSPENDED");
  AddPagedList(
      list, client, run, &Stub::ListSubjects, lreq, "Items per page (1-1000)",
      [](const auto& p) -> const auto& { return p.subjects(); },
      PrintColumns(client, {"name", "kind", "roles", "display_name", "state"}));
  list->get_option("--page-size")->type_name("");  // its help has always shown no type

  auto* suspend = subject->add_subcommand("suspend", "Suspend a subject (supervisor)")
                      ->footer(
                          "Example:\n  marketctl subject suspend zhang-san --reason "
                          "'多次出售翻新机冒充原装' --request-id susp-2026-118");
  auto sreq = std::make_shared<v1::SuspendSubjectRequest>();
  suspend->add_option("name", *sreq->mutable_name(), "subjects/{id} or {id}")->required();
  suspend->add_option("--reason", *sreq->mutable_reason(), "Why (shown to the subject)")
      ->required();
  suspend->add_option("--etag", *sreq->mutable_etag(), "Expected etag");
  suspend->add_option("--request-id", *sreq->mutable_request_id(), "Idempotency key");
  OnRun(suspend, run, [&client, sreq] {
    sreq->set_name(SubjectName(sreq->name()));
    return CallAndPrint(client, &Stub::SuspendSubject, *sreq);
  });

  auto* reinstate =
      subject->add_subcommand("reinstate", "Reinstate a suspended subject")
          ->footer("Example:\n  marketctl subject reinstate zhang-san --etag '\"v7\"'");
  auto rreq = std::make_shared<v1::ReinstateSubjectRequest>();
  reinstate->add_option("name", *rreq->mutable_name(), "subjects/{id} or {id}")->required();
  reinstate->add_option("--etag", *rreq->mutable_etag(), "Expected etag");
  reinstate->add_option("--request-id", *rreq->mutable_request_id(), "Idempotency key");
  OnRun(reinstate, run, [&client, rreq] {
    rreq->set_name(SubjectName(rreq->name()));
    return CallAndPrint(client, &Stub::ReinstateSubject, *rreq);
  });

  auto* update = subject
                     ->add_subcommand("update",
                                      "Change a subject's display name, phone, "
                                      "affiliation (itself or SUPERVISOR) or roles "
                                      "(SUPERVISOR)")
                     ->footer(
                         "Example:\n  marketctl subject update zhang-san --phone 13812345678"
                         "\n  marketctl subject update zhang-san --role SELLER --role BUYER");
  auto ureq = std::make_shared<v1::UpdateSubjectRequest>();
  auto uroles = std::make_shared<std::vector<std::string>>();
  auto* udisplay = update->add_option("--display-name",
                                      *ureq->mutable_subject()->mutable_display_name(), "New name");
  auto* uphone = update->add_option("--phone", *ureq->mutable_subject()->mutable_phone(),
                                    "New phone (11 digits)");
  auto* uaff = update->add_option("--affiliation", *ureq->mutable_subject()->mutable_affiliation(),
                                  "Organisation the person belongs to (\"\" clears it)");
  auto* urole = update->add_option("--role", *uroles, "The complete new set of roles");
  update->add_option("name", *ureq->mutable_subject()->mutable_name(), "subjects/{id} or {id}")
      ->required();
  update->add_option("--etag", *ureq->mutable_subject()->mutable_etag(), "Expected etag");
  update->add_option("--request-id", *ureq->mutable_request_id(), "Idempotency key");
  OnRun(update, run, [&client, ureq, uroles, udisplay, uphone, uaff, urole] {
    v1::UpdateSubjectRequest req = *ureq;
    req.mutable_subject()->set_name(SubjectName(req.subject().name()));
    auto* mask = req.mutable_update_mask();
    if (udisplay->count() > 0) mask->add_paths("display_name");
    if (uphone->count() > 0) mask->add_paths("phone");
    if (uaff->count() > 0) {
      mask->add_paths("affiliation");
      if (!req.subject().affiliation().empty()) {
        req.mutable_subject()->set_affiliation(SubjectName(req.subject().affiliation()));
      }
    }
    if (urole->count() > 0) {
      mask->add_paths("roles");
      for (const auto& r : *uroles) {
        auto role = ParseRole(r);
        if (!role.ok()) return client.Fail(role.status()), kExitUsage;
        req.mutable_subject()->add_roles(*role);
      }
    }
    if (mask->paths().empty()) {
      client.err() << "error: give at least one of --display-name, --phone, --affiliation, "
                      "--role\n";
      return kExitUsage;
    }
    return CallAndPrint(client, &Stub::UpdateSubject, req);
  });

  auto* keys = AddGroup(subject, "api-key", "API keys of a subject (services, scripts)");
  auto* kcreate = keys->add_subcommand("create", "Create an API key; the secret is shown once")
                      ->footer(
                          "Example:\n  marketctl subject api-key create svc-credit "
                          "--display-name 'credit relay 2026'");
  auto kreq = std::make_shared<v1::CreateApiKeyRequest>();
  kcreate->add_option("subject", *kreq->mutable_parent(), "subjects/{id} or {id}")->required();
  kcreate->add_option("--display-name", *kreq->mutable_display_name(), "What the key is for");
  kcreate->add_option("--request-id", *kreq->mutable_request_id(), "Idempotency key");
  OnRun(kcreate, run, [&client, kreq] {
    v1::CreateApiKeyRequest req = *kreq;
    req.set_parent(SubjectName(req.parent()));
    return CallAndPrint(client, &Stub::CreateApiKey, req);
  });
  auto* krevoke = keys->add_subcommand("revoke", "Revoke an API key")
                      ->footer(
                          "Example:\n  marketctl subject api-key revoke "
                          "subjects/svc-credit/apiKeys/k1a2b3");
  auto rkreq = std::make_shared<v1::RevokeApiKeyRequest>();
  krevoke->add_option("name", *rkreq->mutable_name(), "subjects/{id}/apiKeys/{key}")->required();
  krevoke->add_option("--request-id", *rkreq->mutable_request_id(), "Idempotency key");
  OnRun(krevoke, run,
        [&client, rkreq] { return CallAndPrint(client, &Stub::RevokeApiKey, *rkreq); });

  auto* krotate = keys->add_subcommand("rotate",
                                       "Replace an API key: a new key (secret shown once), "
                                       "then the old one revoked")
                      ->footer(
                          "Example:\n  marketctl subject api-key rotate "
                          "subjects/svc-credit/apiKeys/k1a2b3");
  auto rotated = std::make_shared<std::string>();
  krotate->add_option("name", *rotated, "subjects/{id}/apiKeys/{key}")->required();
  OnRun(krotate, run, [&client, rotated] {
    auto at = rotated->find("/apiKeys/");
    if (at == std::string::npos) {
      client.err() << "error: want subjects/{id}/apiKeys/{key}, got " << *rotated << "\n";
      return kExitUsage;
    }
    v1::CreateApiKeyRequest create;
    create.set_parent(rotated->substr(0, at));
    create.set_display_name(absl::StrCat("rotated from ", rotated->substr(at + 9)));
    v1::CreateApiKeyResponse fresh;
    grpc::Status s = Invoke(client, &Stub::CreateApiKey, create, &fresh);
    if (!s.ok()) return client.Fail(s);
    v1::RevokeApiKeyRequest revoke;
    revoke.set_name(*rotated);
    v1::ApiKey old;
    s = Invoke(client, &Stub::RevokeApiKey, revoke, &old);
    if (!s.ok()) {
      client.err() << "the new key " << fresh.api_key().name()
                   << " was created; revoking the old one failed:\n";
      client.Print(fresh);
      return client.Fail(s);
    }
    client.Print(fresh);
    return 0;
  });

  auto* change = subject->add_subcommand(
                            "change-password",
                            "Change the logged-in subject's password (needs the old one); "
                            "its other tokens stop working")
                     ->footer(
                         "Example:\n  marketctl subject change-password --old-password-file "
                         "old.pw --new-password-file new.pw");
  auto cpw = std::make_shared<std::map<std::string, std::string>>();
  auto cpw_stdin = std::make_shared<std::map<std::string, bool>>();
  change->add_option("--old-password-file", (*cpw)["old"], "File holding the current password");
  change->add_flag("--old-password-stdin", (*cpw_stdin)["old"],
                   "Read the current password from stdin (first line)");
  change->add_option("--new-password-file", (*cpw)["new"], "File holding the new password");
  change->add_flag("--new-password-stdin", (*cpw_stdin)["new"],
                   "Read the new password from stdin (next line)");
  OnRun(change, run, [&client, cpw, cpw_stdin] {
    auto old_pw = ReadSecret((*cpw)["old"], (*cpw_stdin)["old"], "old-password");
    if (!old_pw.ok()) return client.Fail(old_pw.status()), kExitUsage;
    auto new_pw = ReadSecret((*cpw)["new"], (*cpw_stdin)["new"], "new-password");
    if (!new_pw.ok()) return client.Fail(new_pw.status()), kExitUsage;
    v1::WhoAmIResponse who;
    grpc::Status s = Invoke(client, &Stub::WhoAmI, v1::WhoAmIRequest(), &who);
    if (!s.ok()) return client.Fail(s);
    return ChangePasswordAndSave(client, client.Context(), who.subject(), *old_pw, *new_pw);
  });

  auto* reset = subject->add_subcommand("reset-password",
                                        "Set a one-time password the subject must change at its "
                                        "next login (supervisor)")
                    ->footer(
                        "Example:\n  marketctl subject reset-password zhang-san "
                        "--new-password-file one-time.pw");
  auto rpw = std::make_shared<v1::ResetPasswordRequest>();
  auto rpw_file = std::make_shared<std::string>();
  auto rpw_stdin = std::make_shared<bool>(false);
  reset->add_option("name", *rpw->mutable_name(), "subjects/{id} or {id}")->required();
  reset->add_option("--new-password-file", *rpw_file, "File holding the one-time password");
  reset->add_flag("--new-password-stdin", *rpw_stdin, "Read the one-time password from stdin");
  OnRun(reset, run, [&client, rpw, rpw_file, rpw_stdin] {
    v1::ResetPasswordRequest req = *rpw;
    req.set_name(SubjectName(req.name()));
    auto pw = ReadSecret(*rpw_file, *rpw_stdin, "new-password");
    if (!pw.ok()) return client.Fail(pw.status()), kExitUsage;
    req.set_new_password(*pw);
    return CallAndPrint(client, &Stub::ResetPassword, req);
  });

  auto* clear = subject->add_subcommand("clear-throttle",
                                        "Forget a subject's failed logins, ending its login "
                                        "back-off (supervisor)")
                    ->footer("Example:\n  marketctl subject clear-throttle zhang-san");
  auto creq = std::make_shared<v1::ClearLoginThrottleRequest>();
  clear->add_option("name", *creq->mutable_subject(), "subjects/{id} or {id}")->required();
  OnRun(clear, run, [&client, creq] {
    v1::ClearLoginThrottleRequest req = *creq;
    req.set_subject(SubjectName(req.subject()));
    return CallAndPrint(client, &Stub::ClearLoginThrottle, req);
  });

  auto* audit = subject->add_subcommand("auth-log",
                                        "Authentication events, newest first: logins, "
                                        "throttling, credential changes, suspensions "
                                        "(supervisor: anyone's; others: their own)")
                    ->footer(
                        "Example:\n  marketctl subject auth-log zhang-san\n"
                        "  marketctl subject auth-log --all -o json");
  auto areq = std::make_shared<v1::ListAuthEventsRequest>();
  audit->add_option("name", *areq->mutable_subject(),
                    "subjects/{id} or {id} (default: everyone for a supervisor, else yourself)");
  AddPagedList(
      audit, client, run, &Stub::ListAuthEvents, areq, "Items per page (1-1000)",
      [](const auto& p) -> const auto& { return p.events(); },
      PrintColumns(client, {"create_time", "type", "subject", "actor", "peer", "reason"}),
      [](v1::ListAuthEventsRequest* r) {
        if (!r->subject().empty()) r->set_subject(SubjectName(r->subject()));
      });

  OnRun(subject->add_subcommand("signing-keys", "The token signing public keys (public)")
            ->footer("Example:\n  marketctl subject signing-keys -o json > token-keys.json"),
        run, [&client] {
          return CallAndPrintList(
              client, &Stub::GetSigningKeys, v1::GetSigningKeysRequest(),
              [](const auto& r) -> const auto& { return r.keys(); },
              {"key_id", "algorithm", "active"}, /*with_token=*/false);
        });
}

}  // namespace market::ctl
