#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "common/config/files.h"
#include "common/crypto/crypto.h"
#include "google/protobuf/util/json_util.h"
#include "market/appraisal/v1/appraisal.grpc.pb.h"
#include "services/appraisal/certificate.h"

namespace market::ctl {
namespace {

namespace v1 = ::market::appraisal::v1;
using Stub = v1::AppraisalService::Stub;

// Prints a local error (files, keys) and returns kExitLocal.
int LocalFailure(Client& client, const absl::Status& status) {
  client.Fail(status);
  return kExitLocal;
}

// RFC 3339 → Timestamp; false (with a message) when malformed.
bool ParseTimestamp(Client& client, const char* flag, const std::string& text,
                    google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    client.err() << "error: " << flag << ": want RFC 3339, e.g. 2026-11-02T10:00:00+08:00 (" << err
                 << ")\n";
    return false;
  }
  out->set_seconds(absl::ToUnixSeconds(t));
  return true;
}

// appraisal verify --url: the verdict on a certificate's verify URL, from
// GetAppraisal (the filed bytes, for the hash) and VerifyAppraisal.
int VerifyCertificateUrl(Client& client, const std::string& url) {
  absl::StatusOr<appraisal::VerifyTarget> target = appraisal::ParseVerifyUrl(url);
  if (!target.ok()) {
    client.Fail(target.status());
    return kExitUsage;
  }
  v1::GetAppraisalRequest get;
  get.set_name(target->report);
  v1::Appraisal filed;
  if (grpc::Status s = Invoke(client, &Stub::GetAppraisal, get, &filed); !s.ok()) {
    return client.Fail(s);
  }
  v1::VerifyAppraisalRequest req;
  req.set_name(target->report);
  v1::VerifyAppraisalResponse resp;
  if (grpc::Status s = Invoke(client, &Stub::VerifyAppraisal, req, &resp); !s.ok()) {
    return client.Fail(s);
  }
  appraisal::Verdict verdict = appraisal::Judge(target->sha256, filed, resp);
  std::string line = absl::StrCat("verdict: ", appraisal::VerdictName(verdict), " (",
                                  appraisal::VerdictLabel(verdict), ")\n");
  if (client.flags().output == "json") {
    client.Print(resp);
    client.err() << line;
  } else {
    client.out() << line;
    client.Print(resp);
  }
  return verdict == appraisal::Verdict::kValid ? 0 : kExitVerificationFailed;
}

void AddCertificateCommand(CLI::App* appraisal, Client& client, std::function<int()>* run) {
  auto* cert =
      appraisal
          ->add_subcommand("certificate",
                           "Write the printable A5 certificate of a FILED report (public)")
          ->footer(
              "The format follows the file's extension (.svg, .html); the QR code carries the\n"
              "verify URL printed on stdout.\nExample:\n"
              "  marketctl appraisal certificate r-1 -o r-1.svg");
  auto name = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  cert->add_option("name", *name, "appraisals/{id} or {id}")->required();
  cert->add_option("-o,--output-file", *file, "FILE.svg or FILE.html to write")->required();
  OnRun(cert, run, [&client, name, file] {
    v1::GetAppraisalCertificateRequest req;
    req.set_name(Prefixed(*name, "appraisals"));
    std::string lower = absl::AsciiStrToLower(*file);
    if (absl::EndsWith(lower, ".svg")) {
      req.set_format(v1::GetAppraisalCertificateRequest::SVG);
    } else if (absl::EndsWith(lower, ".html") || absl::EndsWith(lower, ".htm")) {
      req.set_format(v1::GetAppraisalCertificateRequest::HTML);
    } else {
      client.err() << "error: --output-file: want a name ending in .svg or .html\n";
      return kExitUsage;
    }
    v1::AppraisalCertificate resp;
    grpc::Status s = Invoke(client, &Stub::GetAppraisalCertificate, req, &resp);
    if (!s.ok()) return client.Fail(s);
    std::ofstream out(*file, std::ios::binary | std::ios::trunc);
    out << resp.document();
    out.close();
    if (!out) {
      return LocalFailure(client, absl::UnavailableError(absl::StrCat("cannot write ", *file)));
    }
    client.err() << "certificate written to " << *file << "\n";
    client.out() << resp.verify_url() << "\n";
    return 0;
  });
}

void AddKeyCommands(CLI::App* appraisal, Client& client, std::function<int()>* run) {
  auto* keygen =
      appraisal
          ->add_subcommand("keygen",
                           "Create an Ed25519 report-signing key (private key file mode 0600)")
          ->footer("Example:\n  marketctl appraisal keygen --out acme.pem");
  auto out = std::make_shared<std::string>();
  keygen->add_option("--out", *out, "Private key PEM file to write")->required();
  OnRun(keygen, run, [&client, out] {
    absl::StatusOr<Ed25519PrivateKey> key = Ed25519PrivateKey::Generate();
    if (!key.ok()) return client.Fail(key.status());
    if (absl::Status s = WritePrivateKeyFile(*out, *key); !s.ok()) {
      return LocalFailure(client, s);
    }
    client.err() << "private key written to " << *out << " (mode 0600)\n";
    client.out() << key->PublicKeyPem();
    client.out() << "raw public key (base64): " << Base64Encode(key->PublicKeyRaw()) << "\n";
    return 0;
  });

  auto* reg = appraisal->add_subcommand("register-key", "Register the firm's public key (FIRM)")
                  ->footer(
                      "Example:\n  marketctl appraisal register-key acme --private-key "
                      "acme.pem --id acme-2026");
  auto firm = std::make_shared<std::string>();
  auto priv = std::make_shared<std::string>();
  auto pub = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  reg->add_option("firm", *firm, "firms/{id} or {id}")->required();
  auto* from_priv = reg->add_option("--private-key", *priv, "Derive it from this private key PEM");
  auto* from_pub = reg->add_option("--public-key", *pub, "Public key PEM file");
  from_priv->excludes(from_pub);
  reg->add_option("--id", *id, "Key id (default: generated)");
  OnRun(reg, run, [&client, firm, priv, pub, id] {
    v1::RegisterSigningKeyRequest req;
    req.set_parent(Prefixed(*firm, "firms"));
    req.set_key_id(*id);
    if (!priv->empty()) {
      absl::StatusOr<Ed25519PrivateKey> key = ReadPrivateKeyFile(*priv);
      if (!key.ok()) return LocalFailure(client, key.status());
      req.mutable_signing_key()->set_public_key_pem(key->PublicKeyPem());
    } else if (!pub->empty()) {
      absl::StatusOr<std::string> pem = config::ReadFile(*pub);
      if (!pem.ok()) return LocalFailure(client, pem.status());
      req.mutable_signing_key()->set_public_key_pem(*pem);
    } else {
      client.err() << "error: give --private-key or --public-key\n";
      return kExitUsage;
    }
    return CallAndPrint(client, &Stub::RegisterSigningKey, req);
  });

  AddCallByName(
      appraisal->add_subcommand("retire-key", "Retire a signing key (FIRM, SUPERVISOR)")
          ->footer("Example:\n  marketctl appraisal retire-key firms/acme/keys/acme-2025"),
      client, run, &Stub::RetireSigningKey, "key", "firms/{firm}/keys/{key}");

  auto* keys = appraisal->add_subcommand("keys", "List signing keys (public)")
                   ->footer("Example:\n  marketctl appraisal keys acme --filter state=ACTIVE");
  auto kfirm = std::make_shared<std::string>("-");
  keys->add_option("firm", *kfirm, "firms/{id}, {id} or - for all")->capture_default_str();
  AddFilteredList(
      keys, client, run, &Stub::ListSigningKeys, "state=ACTIVE or state=RETIRED",
      [](const auto& p) -> const auto& { return p.signing_keys(); },
      {"name", "state", "fingerprint", "create_time"},
      [kfirm](auto* req) { req->set_parent(Prefixed(*kfirm, "firms")); });
}

void AddReportCommands(CLI::App* appraisal, Client& client, std::function<int()>* run) {
  auto* file = appraisal
                   ->add_subcommand(
                       "file", "Sign a report locally and file it (APPRAISER of the firm, FIRM)")
                   ->footer(
                       "REPORT is AppraisalContent as proto JSON, e.g.\n"
                       "  {\"reportNumber\": \"ACME-2026-0001\", \"firm\": \"firms/acme\", "
                       "\"category\": \"PHONE\", ...}\n"
                       "Example:\n  marketctl appraisal file report.json --key "
                       "firms/acme/keys/acme-2026 --private-key acme.pem");
  auto report = std::make_shared<std::string>();
  auto priv = std::make_shared<std::string>();
  auto freq = std::make_shared<v1::FileAppraisalRequest>();
  file->add_option("report", *report, "Report file (proto JSON of AppraisalContent)")->required();
  file->add_option("--key", *freq->mutable_appraisal()->mutable_key(),
                   "The registered key, firms/{firm}/keys/{key}")
      ->required();
  file->add_option("--private-key", *priv, "The key's private PEM (signs locally)")->required();
  file->add_option("--id", *freq->mutable_appraisal_id(), "Appraisal id (default: generated)");
  file->add_option("--request-id", *freq->mutable_request_id(), "Idempotency key");
  OnRun(file, run, [&client, report, priv, freq] {
    absl::StatusOr<std::string> text = config::ReadFile(*report);
    if (!text.ok()) return LocalFailure(client, text.status());
    v1::AppraisalContent content;
    auto parsed = google::protobuf::util::JsonStringToMessage(*text, &content);
    if (!parsed.ok()) {
      client.err() << "error: " << *report << ": not an AppraisalContent JSON: " << parsed.message()
                   << "\n";
      return kExitLocal;
    }
    absl::StatusOr<Ed25519PrivateKey> signer = ReadPrivateKeyFile(*priv);
    if (!signer.ok()) return LocalFailure(client, signer.status());
    std::string bytes = content.SerializeAsString();
    absl::StatusOr<std::string> signature = signer->Sign(bytes);
    if (!signature.ok()) return LocalFailure(client, signature.status());
    v1::FileAppraisalRequest req = *freq;
    req.mutable_appraisal()->set_signed_content(bytes);
    req.mutable_appraisal()->set_signature(*signature);
    return CallAndPrint(client, &Stub::FileAppraisal, req);
  });

  AddCallByName(appraisal->add_subcommand("get", "Show an appraisal (public)")
                    ->footer("Example:\n  marketctl appraisal get r-1 -o json"),
                client, run, &Stub::GetAppraisal, "name", "appraisals/{id} or {id}", "appraisals");

  auto* list = appraisal->add_subcommand("list", "List appraisals, newest inspection first")
                   ->footer(
                       "Example:\n  marketctl appraisal list --filter "
                       "'item=\"items/PHONE:355383063760236\" AND state=FILED'");
  AddFilteredList(list, client, run, &Stub::ListAppraisals,
                  "item=, firm=, listing=, category=, state= joined by AND",
                  [](const auto& p) -> const auto& { return p.appraisals(); },
                  {"name", "item", "state", "key", "create_time"});

  auto* verify =
      appraisal
          ->add_subcommand("verify", "Check a report's signature, key, accreditation and state")
          ->footer(
              "Examples:\n  marketctl appraisal verify appraisals/r-1\n"
              "  marketctl appraisal verify --content report.bin --signature "
              "BASE64 --key firms/acme/keys/k1\n"
              "  marketctl appraisal verify --url "
              "'http://127.0.0.1:7401/verify?report=appraisals/r-1&sha256=…'");
  auto vname = std::make_shared<std::string>();
  auto content_file = std::make_shared<std::string>();
  auto signature = std::make_shared<std::string>();
  auto vkey = std::make_shared<std::string>();
  verify->add_option("name", *vname, "appraisals/{id} or {id}");
  verify->add_option("--content", *content_file, "File with the raw signed bytes");
  verify->add_option("--signature", *signature, "The signature, standard base64");
  verify->add_option("--key", *vkey, "firms/{firm}/keys/{key}");
  auto vurl = std::make_shared<std::string>();
  verify->add_option("--url", *vurl,
                     "A certificate's verify URL: prints VALID, SUPERSEDED, OVERTURNED, "
                     "BAD_SIGNATURE, HASH_MISMATCH, …");
  OnRun(verify, run, [&client, vname, content_file, signature, vkey, vurl] {
    if (!vurl->empty()) return VerifyCertificateUrl(client, *vurl);
    v1::VerifyAppraisalRequest req;
    if (!vname->empty()) {
      req.set_name(Prefixed(*vname, "appraisals"));
    } else {
      absl::StatusOr<std::string> bytes = config::ReadFile(*content_file);
      if (!bytes.ok()) return LocalFailure(client, bytes.status());
      absl::StatusOr<std::string> sig = Base64Decode(*signature);
      if (!sig.ok()) {
        client.err() << "error: --signature: want standard base64\n";
        return kExitUsage;
      }
      req.set_signed_content(*bytes);
      req.set_signature(*sig);
      req.set_key(*vkey);
    }
    v1::VerifyAppraisalResponse resp;
    grpc::Status s = Invoke(client, &Stub::VerifyAppraisal, req, &resp);
    if (!s.ok()) return client.Fail(s);
    client.Print(resp);
    for (const auto& problem : resp.problems()) client.err() << "problem: " << problem << "\n";
    return resp.valid() ? 0 : kExitVerificationFailed;
  });

  auto* schemes = appraisal->add_subcommand("schemes", "List grading schemes (public)")
                      ->footer("Example:\n  marketctl appraisal schemes --filter category=VEHICLE");
  AddFilteredList(schemes, client, run, &Stub::ListGradingSchemes, "category=, scheme=\"id\"",
                  [](const auto& p) -> const auto& { return p.grading_schemes(); },
                  {"name", "display_name", "scored", "basis"});
}

void AddAccreditationCommands(CLI::App* appraisal, Client& client, std::function<int()>* run) {
  auto* acc = AddGroup(appraisal, "accreditation", "Accreditations of appraisal firms");

  auto* grant = acc->add_subcommand("grant", "Accredit a firm for categories (SUPERVISOR)")
                    ->footer(
                        "Example:\n  marketctl appraisal accreditation grant acme --category "
                        "PHONE --category VEHICLE \\\n      --from 2026-01-01T00:00:00+08:00 "
                        "--until 2029-01-01T00:00:00+08:00");
  auto firm = std::make_shared<std::string>();
  auto categories = std::make_shared<std::vector<std::string>>();
  auto from = std::make_shared<std::string>();
  auto until = std::make_shared<std::string>();
  auto certificate = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  grant->add_option("firm", *firm, "firms/{id} or {id}")->required();
  grant->add_option("--category", *categories, "PHONE, APPLIANCE, FURNITURE or VEHICLE")
      ->required();
  grant->add_option("--from", *from, "Start of validity, RFC 3339")->required();
  grant->add_option("--until", *until, "End of validity, RFC 3339")->required();
  grant->add_option("--certificate", *certificate, "Certificate or licence number");
  grant->add_option("--id", *id, "Accreditation id (default: generated)");
  OnRun(grant, run, [&client, firm, categories, from, until, certificate, id] {
    v1::GrantAccreditationRequest req;
    req.set_parent(Prefixed(*firm, "firms"));
    req.set_accreditation_id(*id);
    v1::Accreditation* a = req.mutable_accreditation();
    if (!ParseCategories(client, *categories, a->mutable_categories())) return kExitUsage;
    if (!ParseTimestamp(client, "--from", *from, a->mutable_valid_from()) ||
        !ParseTimestamp(client, "--until", *until, a->mutable_valid_until())) {
      return kExitUsage;
    }
    a->set_certificate_number(*certificate);
    return CallAndPrint(client, &Stub::GrantAccreditation, req);
  });

  for (bool suspend : {true, false}) {
    auto* cmd = acc->add_subcommand(suspend ? "suspend" : "revoke",
                                    suspend ? "Suspend an ACTIVE accreditation (SUPERVISOR)"
                                            : "Revoke an accreditation (SUPERVISOR)");
    cmd->footer(suspend ? "Example:\n  marketctl appraisal accreditation suspend "
                          "firms/acme/accreditations/acc-1 --reason '资质年检未通过'"
                        : "Example:\n  marketctl appraisal accreditation revoke "
                          "firms/acme/accreditations/acc-1 --reason '出具虚假鉴定报告'");
    auto name = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    auto etag = std::make_shared<std::string>();
    cmd->add_option("name", *name, "firms/{firm}/accreditations/{id}")->required();
    cmd->add_option("--reason", *reason, "Shown to the firm")->required();
    cmd->add_option("--etag", *etag, "Fail if the accreditation changed since");
    OnRun(cmd, run, [&client, suspend, name, reason, etag] {
      auto call = [&](auto req, auto rpc) {
        req.set_name(*name);
        req.set_reason(*reason);
        req.set_etag(*etag);
        return CallAndPrint(client, rpc, req);
      };
      return suspend ? call(v1::SuspendAccreditationRequest(), &Stub::SuspendAccreditation)
                     : call(v1::RevokeAccreditationRequest(), &Stub::RevokeAccreditation);
    });
  }

  auto* list = acc->add_subcommand("list", "List accreditations (public)")
                   ->footer(
                       "Example:\n  marketctl appraisal accreditation list acme --filter "
                       "'category=PHONE AND state=ACTIVE'");
  auto lfirm = std::make_shared<std::string>("-");
  list->add_option("firm", *lfirm, "firms/{id}, {id} or - for all")->capture_default_str();
  AddFilteredList(
      list, client, run, &Stub::ListAccreditations, "category=, state= joined by AND",
      [](const auto& p) -> const auto& { return p.accreditations(); },
      {"name", "state", "categories", "valid_from", "valid_until"},
      [lfirm](auto* req) { req->set_parent(Prefixed(*lfirm, "firms")); });
}

void AddDisputeCommands(CLI::App* appraisal, Client& client, std::function<int()>* run) {
  auto* dispute = AddGroup(appraisal, "dispute", "Objections to appraisals");

  auto* file =
      dispute
          ->add_subcommand(
              "file",
              "Dispute an appraisal within 15 days (listing parties, other accredited firms)")
          ->footer(
              "Example:\n  marketctl appraisal dispute file r-1 --reason '屏幕有明显划痕，"
              "报告却评为99新' --counter r-9");
  auto parent = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  auto counter = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  file->add_option("appraisal", *parent, "appraisals/{id} or {id}")->required();
  file->add_option("--reason", *reason, "The objection")->required();
  file->add_option("--counter", *counter, "Counter-appraisal of the same item, appraisals/{id}");
  file->add_option("--id", *id, "Dispute id (default: generated)");
  OnRun(file, run, [&client, parent, reason, counter, id] {
    v1::FileDisputeRequest req;
    req.set_parent(Prefixed(*parent, "appraisals"));
    req.mutable_dispute()->set_reason(*reason);
    if (!counter->empty()) {
      req.mutable_dispute()->set_counter_appraisal(Prefixed(*counter, "appraisals"));
    }
    req.set_dispute_id(*id);
    return CallAndPrint(client, &Stub::FileDispute, req);
  });

  AddCallByName(
      dispute->add_subcommand("get", "Show a dispute")
          ->footer("Example:\n  marketctl appraisal dispute get appraisals/r-1/disputes/d-1"),
      client, run, &Stub::GetDispute, "name", "appraisals/{a}/disputes/{d}");

  auto* list = dispute->add_subcommand("list", "List disputes you may see, newest first")
                   ->footer("Example:\n  marketctl appraisal dispute list r-1 --filter state=OPEN");
  auto lparent = std::make_shared<std::string>("appraisals/-");
  list->add_option("appraisal", *lparent, "appraisals/{id} or appraisals/-")->capture_default_str();
  AddFilteredList(
      list, client, run, &Stub::ListDisputes, "state=, raiser=\"subjects/x\"",
      [](const auto& p) -> const auto& { return p.disputes(); },
      {"name", "state", "raiser", "raiser_role", "create_time"},
      [lparent](auto* req) { req->set_parent(Prefixed(*lparent, "appraisals")); });

  auto* rule = dispute->add_subcommand("rule", "Rule on an OPEN dispute (SUPERVISOR)")
                   ->footer(
                       "Example:\n  marketctl appraisal dispute rule "
                       "appraisals/r-1/disputes/d-1 --outcome UPHELD --reason '复检不符'");
  auto rname = std::make_shared<std::string>();
  auto outcome = std::make_shared<std::string>();
  auto rreason = std::make_shared<std::string>();
  auto document = std::make_shared<std::string>();
  auto etag = std::make_shared<std::string>();
  rule->add_option("name", *rname, "appraisals/{a}/disputes/{d}")->required();
  rule->add_option("--outcome", *outcome, "UPHELD or DISMISSED")->required();
  rule->add_option("--reason", *rreason, "Reasoning shown to the raiser and the firm")->required();
  rule->add_option("--decision", *document, "Decision document number");
  rule->add_option("--etag", *etag, "Fail if the dispute changed since");
  OnRun(rule, run, [&client, rname, outcome, rreason, document, etag] {
    v1::RuleOnDisputeRequest req;
    v1::Dispute::State state;
    if (!v1::Dispute::State_Parse(absl::AsciiStrToUpper(*outcome), &state)) {
      client.err() << "error: --outcome: want UPHELD or DISMISSED\n";
      return kExitUsage;
    }
    req.set_name(*rname);
    req.set_outcome(state);
    req.set_reason(*rreason);
    req.set_decision_document_number(*document);
    req.set_etag(*etag);
    return CallAndPrint(client, &Stub::RuleOnDispute, req);
  });
}

}  // namespace

void AddAppraisalCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* appraisal =
      AddGroup(&app, "appraisal",
               "Appraisal firms: keys, signed reports, accreditations, disputes, schemes");
  AddKeyCommands(appraisal, client, run);
  AddReportCommands(appraisal, client, run);
  AddCertificateCommand(appraisal, client, run);
  AddAccreditationCommands(appraisal, client, run);
  AddDisputeCommands(appraisal, client, run);
}

}  // namespace market::ctl
