#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "clients/marketctl/display.h"
#include "clients/marketctl/progress.h"
#include "clients/marketctl/tile_fetcher.h"
#include "common/config/files.h"
#include "common/crypto/crypto.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/checkpoint.h"
#include "ledger/leaf.h"
#include "ledger/merkle_tree.h"
#include "ledger/proof.h"
#include "ledger/tiles.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace market::ctl {
namespace {

namespace v1 = ::market::credit::v1;
using LedgerStub = v1::LedgerService::Stub;
using CreditStub = v1::CreditService::Stub;

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }

// Where `ledger verify` remembers the last checkpoint it verified.
std::string DefaultStatePath(const Client& client) {
  std::string creds = client.flags().credentials;
  auto slash = creds.rfind('/');
  std::string dir = slash == std::string::npos ? "." : creds.substr(0, slash);
  std::string server = client.Server();
  for (char& c : server) {
    if (!absl::ascii_isalnum(c)) c = '_';
  }
  return absl::StrCat(dir, "/ledger-", server, ".json");
}

// Typed reads of the state file (a hand-edited file must not crash marketctl).
std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
int64_t JsonInt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// The newest checkpoint (no token: anyone may verify).
grpc::Status GetCheckpoint(Client& client, v1::Checkpoint* cp) {
  return Invoke(client, &LedgerStub::GetCheckpoint, v1::GetCheckpointRequest(), cp, false);
}

int Mismatch(Client& client, const std::string& what) {
  client.err() << "LEDGER VERIFICATION FAILED: " << what << "\n";
  return kExitVerificationFailed;
}

}  // namespace

void AddLedgerCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* ledger = AddGroup(&app, "ledger", "Verify the credit ledger (anyone, no login)");

  auto* checkpoint =
      ledger
          ->add_subcommand("checkpoint",
                           "Show the newest signed checkpoint and check its signature")
          ->footer("Example:\n  marketctl ledger checkpoint --server market.example.cn:7400");
  OnRun(checkpoint, run, [&client] {
    v1::Checkpoint cp;
    grpc::Status s = GetCheckpoint(client, &cp);
    if (!s.ok()) return client.Fail(s);
    auto verified = ledger::VerifyCheckpoint(cp.note(), cp.origin(), cp.public_key());
    if (!verified.ok()) return Mismatch(client, std::string(verified.status().message()));
    if (client.flags().output == "json") {
      client.Print(cp);
    } else {
      client.out() << FormatKeyValues({{"origin", cp.origin()},
                                       {"tree_size", absl::StrCat(cp.tree_size())},
                                       {"root_hash", Hex(cp.root_hash())},
                                       {"public_key", Hex(cp.public_key())},
                                       {"signature", "verified"}})
                   << "\n"
                   << cp.note();
    }
    return 0;
  });

  auto* proof = ledger->add_subcommand("proof", "Prove one record is in the ledger")
                    ->footer("Example:\n  marketctl ledger proof --index 1842");
  auto index = std::make_shared<int64_t>(0);
  proof->add_option("--index", *index, "Record index")->required();
  OnRun(proof, run, [&client, index] {
    v1::Checkpoint cp;
    grpc::Status s = GetCheckpoint(client, &cp);
    if (!s.ok()) return client.Fail(s);
    auto verified = ledger::VerifyCheckpoint(cp.note(), cp.origin(), cp.public_key());
    if (!verified.ok()) return Mismatch(client, std::string(verified.status().message()));
    v1::GetRecordsRequest rreq;
    rreq.set_start(*index);
    rreq.set_end(*index + 1);
    v1::GetRecordsResponse records;
    s = Invoke(client, &LedgerStub::GetRecords, rreq, &records, false);
    if (!s.ok()) return client.Fail(s);
    if (records.records_size() != 1) {
      client.err() << "error: no record " << *index << " in a ledger of " << cp.tree_size() << "\n";
      return 5;
    }
    v1::GetInclusionProofRequest preq;
    preq.set_index(*index);
    preq.set_tree_size(verified->size);
    v1::InclusionProof p;
    s = Invoke(client, &LedgerStub::GetInclusionProof, preq, &p, false);
    if (!s.ok()) return client.Fail(s);
    std::vector<std::string> hashes(p.hashes().begin(), p.hashes().end());
    absl::Status ok =
        ledger::VerifyInclusion(*index, verified->size, ledger::LeafHash(records.records(0).leaf()),
                                hashes, verified->root);
    if (!ok.ok()) return Mismatch(client, std::string(ok.message()));
    client.Print(records.records(0).record());
    client.out() << "included in checkpoint of size " << verified->size << " (root "
                 << Hex(verified->root) << "): verified with " << hashes.size() << " hashes\n";
    return 0;
  });

  auto* verify = ledger->add_subcommand(
      "verify",
      "Check the newest checkpoint's signature, its consistency with the last verified one, "
      "and the whole tree (every leaf and stored hash) against its root, from the ledger's "
      "C2SP tlog tiles fetched in parallel over HTTP(S)");
  verify->footer(
      "A progress bar is drawn on stderr when it is a terminal.\n"
      "Examples:\n"
      "  marketctl ledger verify\n"
      "  marketctl ledger verify --http-server https://market.example.cn:7401 --parallel 16\n"
      "  marketctl ledger verify --per-record --skip-proofs --state ~/ledger-state.json");
  auto state_path = std::make_shared<std::string>();
  auto skip_proofs = std::make_shared<bool>(false);
  auto per_record = std::make_shared<bool>(false);
  auto http_server = std::make_shared<std::string>();
  auto parallel = std::make_shared<int>(8);
  verify->add_option("--http-server", *http_server,
                     "Where the tiles are: http(s)://HOST:PORT (default $MARKET_HTTP_SERVER, "
                     "else the --server host at its port + 1; HOST:PORT alone is https with --tls-ca)")
      ->envname("MARKET_HTTP_SERVER");
  verify->add_option("--parallel", *parallel, "Tiles fetched at once")
      ->check(CLI::Range(1, 256));
  verify->add_flag("--per-record", *per_record,
                   "Instead of tiles: GetRecords pages and one inclusion-proof RPC per record "
                   "(slow; the fallback for servers without an HTTP port)");
  verify->add_flag("--skip-proofs", *skip_proofs,
                   "With --per-record: do not check each record's inclusion proof (stored "
                   "subtree hashes then go unchecked)");
  verify->add_option("--state", *state_path,
                     "File remembering the last verified checkpoint (default beside the "
                     "credentials)");
  OnRun(verify, run, [&client, state_path, skip_proofs, per_record, http_server, parallel] {
    std::string path = state_path->empty() ? DefaultStatePath(client) : *state_path;
    v1::Checkpoint cp;
    grpc::Status s = GetCheckpoint(client, &cp);
    if (!s.ok()) return client.Fail(s);
    // Trust on first use: the key and the last verified tree are remembered.
    nlohmann::json state = nlohmann::json::object();
    if (auto text = config::ReadFile(path); text.ok()) {
      state = nlohmann::json::parse(*text, nullptr, false);
      if (!state.is_object()) return Mismatch(client, path + " is corrupt");
    }
    std::string pinned_key;
    if (state.contains("public_key")) {
      auto key = Base64Decode(JsonString(state, "public_key"));
      if (!key.ok()) return Mismatch(client, path + " holds a bad key");
      pinned_key = *key;
      if (pinned_key != cp.public_key()) {
        return Mismatch(client, "the ledger's signing key changed since the last verification");
      }
    }
    auto verified = ledger::VerifyCheckpoint(cp.note(), cp.origin(), cp.public_key());
    if (!verified.ok()) {
      return Mismatch(client, absl::StrCat("checkpoint signature: ", verified.status().message()));
    }
    if (verified->size != cp.tree_size() || verified->root != cp.root_hash()) {
      return Mismatch(client, "checkpoint fields disagree with the signed note");
    }
    int64_t old_size = JsonInt(state, "tree_size");
    if (state.contains("origin") && JsonString(state, "origin") != verified->origin) {
      return Mismatch(
          client, absl::StrCat("the ledger's origin changed from \"", JsonString(state, "origin"),
                               "\" to \"", verified->origin, "\""));
    }
    if (old_size > 0) {
      auto old_root = Base64Decode(JsonString(state, "root_hash"));
      if (!old_root.ok()) return Mismatch(client, path + " holds a bad root");
      if (old_size > verified->size) {
        return Mismatch(client, absl::StrCat("the ledger shrank from ", old_size, " to ",
                                             verified->size, " records"));
      }
      v1::GetConsistencyProofRequest creq;
      creq.set_first_size(old_size);
      creq.set_second_size(verified->size);
      v1::ConsistencyProof cproof;
      s = Invoke(client, &LedgerStub::GetConsistencyProof, creq, &cproof, false);
      if (!s.ok()) return client.Fail(s);
      std::vector<std::string> hashes(cproof.hashes().begin(), cproof.hashes().end());
      absl::Status consistent =
          ledger::VerifyConsistency(old_size, verified->size, *old_root, verified->root, hashes);
      if (!consistent.ok()) {
        return Mismatch(client, absl::StrCat("history rewritten: checkpoint ", verified->size,
                                             " is not consistent with the verified ", old_size,
                                             ": ", consistent.message()));
      }
    }
    ProgressBar progress(client.err(), client.err_is_tty());
    // A failure ends an open progress line before saying why.
    auto mismatch = [&](const std::string& what) {
      progress.Break();
      return Mismatch(client, what);
    };
    auto failed = [&](const grpc::Status& status) {
      progress.Break();
      return client.Fail(status);
    };
    std::string tiles_summary;
    if (!*per_record) {
      std::string base = !http_server->empty()
                             ? *http_server
                             : DefaultHttpServer(client.Server(), !client.flags().tls_ca.empty());
      if (base.empty()) {
        progress.Break();
        client.err() << "error: --http-server (or MARKET_HTTP_SERVER) is required when the "
                        "server is a Unix socket\n";
        return kExitUsage;
      }
      HttpTileFetcher fetcher(base, client.flags().tls_ca);
      progress.Update(0, verified->size, "records (tiles)");
      absl::StatusOr<ledger::TreeVerification> tree = ledger::VerifyTreeFromTiles(
          verified->size, verified->root,
          [&fetcher](const ledger::TileRef& t) { return fetcher.Fetch(t); },
          [](int64_t index, absl::string_view leaf) -> absl::Status {
            absl::StatusOr<ledger::ParsedLeaf> parsed = ledger::ParseLeaf(leaf);
            if (!parsed.ok()) {
              return absl::DataLossError(absl::StrCat("entry ", index, ": ", parsed.status().message()));
            }
            if (parsed->public_view.index() != index) {
              return absl::DataLossError(
                  absl::StrCat("entry ", index, " names index ", parsed->public_view.index()));
            }
            return absl::OkStatus();
          },
          *parallel);
      if (!tree.ok()) {
        if (tree.status().code() == absl::StatusCode::kDataLoss) {
          return mismatch(std::string(tree.status().message()));
        }
        progress.Break();
        return client.Fail(tree.status());
      }
      progress.Update(verified->size, verified->size, "records (tiles)");
      tiles_summary = absl::StrCat(" (", tree->tiles, " tiles, ", tree->bytes, " bytes, ",
                                   tree->hashes_checked, " tile hashes checked)");
    }
    ledger::RootBuilder builder;
    std::vector<std::string> leaf_hashes;
    while (*per_record && builder.size() < verified->size) {
      v1::GetRecordsRequest rreq;
      rreq.set_start(builder.size());
      rreq.set_end(verified->size);
      v1::GetRecordsResponse page;
      s = Invoke(client, &LedgerStub::GetRecords, rreq, &page, false);
      if (s.error_code() == grpc::StatusCode::DATA_LOSS) {
        return mismatch(absl::StrCat("the server reports: ", s.error_message()));
      }
      if (!s.ok()) return failed(s);
      if (page.records().empty()) {
        return mismatch(absl::StrCat("record ", builder.size(), " is missing"));
      }
      for (const auto& entry : page.records()) {
        if (entry.index() != builder.size()) {
          return mismatch(
              absl::StrCat("expected record ", builder.size(), ", got ", entry.index()));
        }
        absl::StatusOr<ledger::ParsedLeaf> decoded = ledger::ParseLeaf(entry.leaf());
        if (!decoded.ok() || decoded->public_view.index() != entry.index()) {
          return mismatch(
              absl::StrCat("record ", entry.index(), " does not decode to its own index"));
        }
        if (!entry.salt().empty()) {
          absl::Status opened =
              ledger::CheckOpening(entry.index(), entry.leaf(), entry.content(), entry.salt());
          if (!opened.ok()) return mismatch(std::string(opened.message()));
        }
        leaf_hashes.push_back(ledger::LeafHash(entry.leaf()));
        builder.AddLeafHash(leaf_hashes.back());
      }
      progress.Update(builder.size(), verified->size, "records downloaded");
    }
    if (*per_record && builder.Root() != verified->root) {
      return mismatch(absl::StrCat("the records hash to ", Hex(builder.Root()),
                                   ", but the checkpoint's root is ", Hex(verified->root)));
    }
    // Every stored subtree hash is a sibling in some record's inclusion
    // proof, so checking them all proves the server's hashes, not just its leaves.
    if (*per_record && !*skip_proofs) {
      for (int64_t i = 0; i < verified->size; ++i) {
        v1::GetInclusionProofRequest preq;
        preq.set_index(i);
        preq.set_tree_size(verified->size);
        v1::InclusionProof p;
        s = Invoke(client, &LedgerStub::GetInclusionProof, preq, &p, false);
        if (!s.ok()) return failed(s);
        std::vector<std::string> hashes(p.hashes().begin(), p.hashes().end());
        absl::Status ok =
            ledger::VerifyInclusion(i, verified->size, leaf_hashes[i], hashes, verified->root);
        if (!ok.ok()) {
          return mismatch(absl::StrCat("inclusion proof of record ", i, ": ", ok.message()));
        }
        if ((i + 1) % 256 == 0 || i + 1 == verified->size) {
          progress.Update(i + 1, verified->size, "inclusion proofs checked");
        }
      }
    }
    nlohmann::json next = {{"origin", verified->origin},
                           {"tree_size", verified->size},
                           {"root_hash", Base64Encode(verified->root)},
                           {"public_key", Base64Encode(cp.public_key())}};
    if (auto saved = config::WriteOwnerOnlyFile(path, next.dump(2) + "\n"); !saved.ok()) {
      return client.Fail(saved), kExitLocal;
    }
    client.out() << "ledger verified: " << verified->size << " records, root "
                 << Hex(verified->root) << tiles_summary;
    if (old_size > 0) {
      client.out() << ", consistent with the previous verification (" << old_size << " records)\n";
    } else {
      client.out() << "; first verification: signing key pinned in " << path << "\n";
    }
    return 0;
  });
}

void AddCreditCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* credit = AddGroup(&app, "credit", "Credit profiles, records, repair and lists");

  auto* profile = credit
                      ->add_subcommand("profile",
                                       "A subject's credit level (and score for "
                                       "itself and supervisors)")
                      ->footer(
                          "Example:\n  marketctl credit profile seller-one --purpose "
                          "'order o-1842 dispute'");
  auto preq = std::make_shared<v1::GetCreditProfileRequest>();
  auto subject = std::make_shared<std::string>();
  profile->add_option("subject", *subject, "subjects/{id} or {id}")->required();
  profile->add_option("--purpose", *preq->mutable_purpose(), "Why (logged for supervisors)");
  OnRun(profile, run, [&client, preq, subject] {
    preq->set_name(SubjectName(*subject) + "/creditProfile");
    return CallAndPrint(client, &CreditStub::GetCreditProfile, *preq);
  });

  auto* records = credit->add_subcommand("records", "List ledger records")
                      ->footer(
                          "Example:\n  marketctl credit records --subject seller-one "
                          "--purpose 'complaint 2026-118'");
  auto lreq = std::make_shared<v1::ListRecordsRequest>();
  auto rsubject = std::make_shared<std::string>();
  auto paging = std::make_shared<PageFlags>();
  paging->next_page_hint = false;
  records->add_option("--subject", *rsubject, "Whose records (default: your own)");
  records->add_option("--filter", *lreq->mutable_filter(),
                      "type=…, tier=…, active=true, occurred_time>=\"RFC 3339\"");
  records->add_option("--purpose", *lreq->mutable_purpose(), "Why (required for others' records)");
  records->add_flag("--all", paging->all, "Follow every page");
  OnRun(records, run, [&client, lreq, rsubject, paging] {
    v1::ListRecordsRequest req = *lreq;
    req.set_parent("ledgers/main");
    if (!rsubject->empty()) {
      std::string term = absl::StrCat("subject=\"", SubjectName(*rsubject), "\"");
      req.set_filter(req.filter().empty() ? term : absl::StrCat(term, " AND ", req.filter()));
    }
    return ListAndPrint(client, &CreditStub::ListRecords, req, *paging,
                        [](const auto& p) -> const auto& { return p.records(); },
                        {"index", "subject", "type", "tier", "occurred_time", "reason"});
  });

  auto* record = credit
                     ->add_subcommand("record",
                                      "Record a supervisor decision or a service "
                                      "event (SUPERVISOR, SERVICE)")
                     ->footer(
                         "Example:\n  marketctl credit record --subject seller-one --role SELLER "
                         "--type COUNTERFEIT_CONFIRMED \\\n      --decision-document "
                         "'市监处〔2026〕17号' --reason 'counterfeit phones' --event-id d-17");
  auto ereq = std::make_shared<v1::RecordEventRequest>();
  auto esubject = std::make_shared<std::string>();
  auto erole = std::make_shared<std::string>("SELLER");
  auto etype = std::make_shared<std::string>();
  auto etier = std::make_shared<std::string>();
  auto eoccurred = std::make_shared<std::string>();
  auto erefers = std::make_shared<int64_t>(-1);
  record->add_option("--subject", *esubject, "Whom the record is about")->required();
  record->add_option("--role", *erole, "The subject's role")->capture_default_str();
  record->add_option("--type", *etype, "Record type, e.g. COUNTERFEIT_CONFIRMED")->required();
  record->add_option("--tier", *etier, "Tier (SANCTION_OTHER only)");
  record->add_option("--reason", *ereq->mutable_record()->mutable_reason(), "Short reason");
  record->add_option("--decision-document",
                     *ereq->mutable_record()->mutable_decision_document_number(),
                     "Decision document number (sanctions)");
  record->add_option("--reference", *ereq->mutable_record()->mutable_reference(),
                     "Resource that caused it");
  record->add_option("--counterparty", *ereq->mutable_record()->mutable_counterparty(),
                     "Other party (trades)");
  record->add_option("--event-id", *ereq->mutable_record()->mutable_event_id(), "Idempotency key")
      ->required();
  record->add_option("--occurred", *eoccurred, "RFC 3339 time (default now)");
  record->add_option("--refers-to", *erefers, "Index of the record withdrawn");
  OnRun(record, run, [&client, ereq, esubject, erole, etype, etier, eoccurred, erefers] {
    v1::Record* r = ereq->mutable_record();
    r->set_subject(SubjectName(*esubject));
    common::v1::Role role;
    v1::Record::Type type;
    v1::Record::Tier tier = v1::Record::TIER_UNSPECIFIED;
    if (!common::v1::Role_Parse(absl::AsciiStrToUpper(*erole), &role) ||
        !v1::Record::Type_Parse(absl::AsciiStrToUpper(*etype), &type) ||
        (!etier->empty() && !v1::Record::Tier_Parse(absl::AsciiStrToUpper(*etier), &tier))) {
      client.err() << "error: unknown --role, --type or --tier\n";
      return kExitUsage;
    }
    r->set_subject_role(role);
    r->set_type(type);
    r->set_tier(tier);
    absl::Time when = absl::Now();
    std::string err;
    if (!eoccurred->empty() && !absl::ParseTime(absl::RFC3339_full, *eoccurred, &when, &err)) {
      client.err() << "error: --occurred: " << err << "\n";
      return kExitUsage;
    }
    *r->mutable_occurred_time() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(when));
    if (*erefers >= 0) r->set_refers_to(*erefers);
    auto stub = v1::CreditService::NewStub(client.Channel());
    v1::RecordEventResponse resp;
    grpc::Status s = stub->RecordEvent(client.Context().get(), *ereq, &resp);
    if (!s.ok()) return client.Fail(s);
    client.Print(resp.record());
    return 0;
  });

  auto* repair = AddGroup(credit, "repair", "Credit repair (信用修复)");
  auto* apply = repair->add_subcommand("apply", "Apply to repair one of your records")
                    ->footer(
                        "Example:\n  marketctl credit repair apply --record 118 --correction "
                        "'已下架全部翻新机并退款' \\\n"
                        "      --fulfilment '已赔付买家 2999.00元' --commitment "
                        "'今后如实描述商品成色'");
  auto areq = std::make_shared<v1::ApplyForRepairRequest>();
  auto aindex = std::make_shared<int64_t>(-1);
  apply->add_option("--record", *aindex, "Record index")->required();
  apply
      ->add_option("--correction",
                   *areq->mutable_repair_application()->mutable_correction_statement(),
                   "How the violation was corrected")
      ->required();
  apply
      ->add_option("--fulfilment",
                   *areq->mutable_repair_application()->mutable_fulfilment_statement(),
                   "How obligations were fulfilled")
      ->required();
  apply
      ->add_option("--commitment", *areq->mutable_repair_application()->mutable_commitment(),
                   "Written commitment (信用承诺)")
      ->required();
  OnRun(apply, run, [&client, areq, aindex] {
    auto creds = LoadCredentials(client.flags().credentials);
    areq->set_parent(creds.ok() ? creds->subject : "");
    areq->mutable_repair_application()->set_record(absl::StrCat("ledgers/main/records/", *aindex));
    return CallAndPrint(client, &CreditStub::ApplyForRepair, *areq);
  });
  auto* rule = repair->add_subcommand("rule", "Approve or reject an application (SUPERVISOR)")
                   ->footer(
                       "Example:\n  marketctl credit repair rule "
                       "subjects/seller-one/repairApplications/ra-7 --approve \\\n"
                       "      --reason '整改到位' --decision-document '厦市监信修〔2026〕12号'");
  auto rreq = std::make_shared<v1::RuleOnRepairRequest>();
  auto approve = std::make_shared<bool>(false);
  auto reject = std::make_shared<bool>(false);
  rule->add_option("name", *rreq->mutable_name(), "subjects/{s}/repairApplications/{a}")
      ->required();
  rule->add_flag("--approve", *approve, "Approve");
  rule->add_flag("--reject", *reject, "Reject");
  rule->add_option("--reason", *rreq->mutable_reason(), "Reasoning shown to the subject")
      ->required();
  rule->add_option("--decision-document", *rreq->mutable_decision_document_number(),
                   "Decision document number");
  OnRun(rule, run, [&client, rreq, approve, reject] {
    if (*approve == *reject) {
      client.err() << "error: give exactly one of --approve or --reject\n";
      return kExitUsage;
    }
    rreq->set_outcome(*approve ? v1::RepairApplication::APPROVED : v1::RepairApplication::REJECTED);
    return CallAndPrint(client, &CreditStub::RuleOnRepair, *rreq);
  });

  for (bool black : {true, false}) {
    auto* list = credit->add_subcommand(
        black ? "blacklist" : "redlist",
        black ? "The serious-dishonesty list (严重失信名单)" : "The good-conduct list (守信激励)");
    list->footer(black ? "Example:\n  marketctl credit blacklist -o json"
                       : "Example:\n  marketctl credit redlist");
    OnRun(list, run, [&client, black] {
      auto entries = [](const auto& r) -> const auto& { return r.entries(); };
      const std::vector<std::string> columns = {"subject", "display_name", "reason_type", "since",
                                                "until"};
      return black ? CallAndPrintList(client, &CreditStub::ListBlacklist,
                                      v1::ListBlacklistRequest(), entries, columns, false)
                   : CallAndPrintList(client, &CreditStub::ListRedlist, v1::ListRedlistRequest(),
                                      entries, columns, false);
    });
  }

  auto* access = credit->add_subcommand("access-log", "Who read whose credit records")
                     ->footer(
                         "Examples:\n  marketctl credit access-log\n"
                         "  marketctl credit access-log -   # every subject (SUPERVISOR)");
  auto asubject = std::make_shared<std::string>();
  access->add_option("subject", *asubject, "Whose records (default: your own; - for all)");
  OnRun(access, run, [&client, asubject] {
    v1::ListAccessLogRequest req;
    if (asubject->empty()) {
      auto creds = LoadCredentials(client.flags().credentials);
      req.set_parent(creds.ok() ? creds->subject : "");
    } else {
      req.set_parent(*asubject == "-" ? "subjects/-" : SubjectName(*asubject));
    }
    return CallAndPrintList(client, &CreditStub::ListAccessLog, req,
                            [](const auto& r) -> const auto& { return r.access_log_entries(); },
                            {"access_time", "reader", "subject", "method", "purpose"});
  });
}

}  // namespace market::ctl
