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

}  // namespace

void AddIdentityCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  // ---- login ----
  auto* login = app.add_subcommand("login", "Log in and store the access token")
                    ->footer(
                        "Examples:\n"
                        "  marketctl login --bootstrap var/bootstrap-admin.json\n"
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
    v1::LoginResponse resp;
    grpc::Status s = Invoke(client, &Stub::Login, req, &resp, /*with_token=*/false);
    if (!s.ok()) return client.Fail(s);
    Credentials creds{client.Server(), req.subject(), resp.access_token(),
                      TimeUtil::ToString(resp.expire_time())};
    if (auto saved = SaveCredentials(client.flags().credentials, creds); !saved.ok()) {
      return client.Fail(saved), kExitLocal;
    }
    client.out() << "logged in as " << req.subject() << " until " << creds.expire_time << "\n";
    return 0;
  });

  // ---- whoami ----
  OnRun(app.add_subcommand("whoami", "Show the logged-in subject and its roles")
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
