#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "clients/marketctl/money.h"
#include "market/warranty/v1/warranty.grpc.pb.h"

namespace market::ctl {
namespace {

namespace v1 = ::market::warranty::v1;
using Stub = v1::WarrantyService::Stub;

// "claims/c1" as given, or "c1" prefixed.
std::string ClaimName(const std::string& s) { return Prefixed(s, "claims"); }

// Yuan text to a Money in fen; nullopt after printing why.
std::optional<common::v1::Money> YuanFlag(Client& client, const char* flag,
                                          const std::string& text) {
  auto fen = ParseYuanFlag(flag, text);
  if (!fen.ok()) {
    client.err() << "error: " << fen.status().message() << "\n";
    return std::nullopt;
  }
  common::v1::Money m;
  m.set_currency("CNY");
  m.set_amount_fen(*fen);
  return m;
}

// Flags every claim mutation has.
struct Mutation {
  std::string name;
  std::string etag;
  std::string request_id;

  // Calls `rpc` with `req` and its name, etag and request_id; prints the claim.
  template <typename Req>
  int Call(Client& client, Rpc<Stub, Req, v1::Claim> rpc, Req req) const {
    req.set_name(ClaimName(name));
    req.set_etag(etag);
    req.set_request_id(request_id);
    return CallAndPrint(client, rpc, req);
  }
};

std::shared_ptr<Mutation> AddMutationFlags(CLI::App* cmd) {
  auto m = std::make_shared<Mutation>();
  cmd->add_option("name", m->name, "claims/{id} or {id}")->required();
  cmd->add_option("--etag", m->etag, "The claim's etag; ABORTED if it changed since");
  cmd->add_option("--request-id", m->request_id, "Idempotency key");
  return m;
}

}  // namespace

void AddClaimCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* claim =
      AddGroup(&app, "claim", "After-sales claims under the three guarantees (三包)",
               "Lifecycle: FILED -> ACCEPTED -> RESOLVED, or FILED -> REJECTED -> ESCALATED -> "
               "UPHELD (-> RESOLVED) / DISMISSED;\na FILED claim escalates by itself when the "
               "seller misses the reply deadline (3 days; vehicles 10 working days).\n"
               "Example:\n  marketctl claim check o-1842 --market east-flea --fault-code SCREEN");

  // ---- check ----
  auto* check =
      claim
          ->add_subcommand("check",
                           "Which claim kinds the buyer may file now, and why not "
                           "(the order's BUYER, SUPERVISOR)")
          ->footer(
              "Examples:\n  marketctl claim check markets/east-flea/orders/o-1842 --fault-code "
              "SCREEN\n  marketctl claim check o-77 --market city-cars --fault-code BRAKES "
              "--mileage-km 58200");
  auto corder = AddChildArg(check, "order", "order");
  auto cfault = std::make_shared<std::string>();
  auto cmileage = std::make_shared<int64_t>(0);
  check->add_option("--fault-code", *cfault,
                    "Fault label, [A-Z0-9_] (counts failed repairs of the same fault)");
  check->add_option("--mileage-km", *cmileage, "Vehicles (required): odometer reading now");
  OnRun(check, run, [&client, check, corder, cfault, cmileage] {
    auto order = corder->Resolve(client);
    if (!order) return kExitUsage;
    v1::CheckEligibilityRequest req;
    req.set_order(*order);
    req.set_fault_code(*cfault);
    if (check->count("--mileage-km") > 0) req.set_mileage_km(*cmileage);
    v1::CheckEligibilityResponse resp;
    grpc::Status s = Invoke(client, &Stub::CheckEligibility, req, &resp);
    if (!s.ok()) return client.Fail(s);
    if (client.flags().output == "json") {
      client.Print(resp);
      return 0;
    }
    std::vector<const google::protobuf::Message*> items;
    for (const auto& r : resp.results()) items.push_back(&r);
    client.PrintList(items, {"kind", "allowed", "reason", "window_end_time", "detail"});
    client.out() << "days in repair: " << resp.days_in_repair()
                 << "; failed repairs of this fault: " << resp.failed_repair_count() << "\n";
    return 0;
  });

  // ---- file ----
  auto* file = claim->add_subcommand("file", "File a claim on a delivered order (its BUYER)")
                   ->footer(
                       "Examples:\n  marketctl claim file o-1842 --market east-flea --kind refund "
                       "--fault-code SCREEN \\\n      --description '屏幕出现绿线' --photo "
                       "$(sha256sum screen.jpg | cut -c1-64)\n  marketctl claim file o-77 --market "
                       "city-cars --kind exchange --fault-code BRAKES --mileage-km 58200 "
                       "--description '刹车失灵'");
  auto forder = AddChildArg(file, "order", "order");
  auto fkind = std::make_shared<std::string>();
  auto freq = std::make_shared<v1::FileClaimRequest>();
  auto fphotos = std::make_shared<std::vector<std::string>>();
  auto fmileage = std::make_shared<int64_t>(0);
  file->add_option("--kind", *fkind, "refund, exchange or repair")->required();
  file->add_option("--fault-code", *freq->mutable_claim()->mutable_fault_code(),
                   "Fault label, [A-Z0-9_]{1,50}; vehicles: ENGINE, GEARBOX, TRACTION_BATTERY, "
                   "DRIVE_MOTOR, STEERING, BRAKES, BODY_CRACK, FUEL_LEAK, BATTERY_FIRE")
      ->required();
  file->add_option("--description", *freq->mutable_claim()->mutable_fault_description(),
                   "The fault, 1-2,000 characters")
      ->required();
  file->add_option("--photo", *fphotos, "SHA-256 (hex) of an uploaded evidence photo; repeat");
  file->add_option("--mileage-km", *fmileage, "Vehicles (required): odometer reading now");
  file->add_option("--id", *freq->mutable_claim_id(), "Claim id (default: generated)");
  file->add_option("--request-id", *freq->mutable_request_id(), "Idempotency key");
  OnRun(file, run, [&client, file, forder, fkind, freq, fphotos, fmileage] {
    auto order = forder->Resolve(client);
    if (!order) return kExitUsage;
    auto kind = EnumFlag<v1::Claim::Kind>(client, "--kind", *fkind, v1::Claim::Kind_Parse,
                                          "REFUND, EXCHANGE or REPAIR");
    if (!kind) return kExitUsage;
    v1::FileClaimRequest req = *freq;
    req.mutable_claim()->set_order(*order);
    req.mutable_claim()->set_kind(*kind);
    for (const auto& p : *fphotos) req.mutable_claim()->add_evidence_photos(p);
    if (file->count("--mileage-km") > 0) req.mutable_claim()->set_mileage_km(*fmileage);
    return CallAndPrint(client, &Stub::FileClaim, req);
  });

  // ---- respond ----
  auto* respond =
      claim->add_subcommand("respond", "Accept or reject a FILED claim (its SELLER)")
          ->footer(
              "Examples:\n  marketctl claim respond c-31 --decision accept\n"
              "  marketctl claim respond c-31 --decision reject --reason '外屏碎裂属人为损坏'");
  auto rm = AddMutationFlags(respond);
  auto rdecision = std::make_shared<std::string>();
  auto rreq = std::make_shared<v1::RespondToClaimRequest>();
  respond->add_option("--decision", *rdecision, "accept or reject")->required();
  respond->add_option("--reason", *rreq->mutable_reason(),
                      "Required to reject, up to 2,000 characters");
  OnRun(respond, run, [&client, rm, rdecision, rreq] {
    auto d = EnumFlag<v1::RespondToClaimRequest::Decision>(
        client, "--decision", *rdecision, v1::RespondToClaimRequest::Decision_Parse,
        "ACCEPT or REJECT");
    if (!d) return kExitUsage;
    v1::RespondToClaimRequest req = *rreq;
    req.set_decision(*d);
    return rm->Call(client, &Stub::RespondToClaim, req);
  });

  // ---- repair ----
  constexpr char kRepairFooter[] =
      "Repair days count each started 24 h and do not count toward the warranty windows.\n"
      "Examples:\n"
      "  marketctl claim repair c-31 --action started --delay-cause parts_shortage\n"
      "  marketctl claim repair c-31 --action failed --note '更换排线后仍有绿线'";
  auto* repair =
      claim
          ->add_subcommand("repair",
                           "Record a repair step on an ACCEPTED or UPHELD claim (its SELLER)")
          ->footer(kRepairFooter);
  auto pm = AddMutationFlags(repair);
  auto paction = std::make_shared<std::string>();
  auto pcause = std::make_shared<std::string>();
  auto pmajor = std::make_shared<bool>(false);
  auto pnote = std::make_shared<std::string>();
  repair->add_option("--action", *paction, "started, finished or failed")->required();
  repair->add_option("--delay-cause", *pcause,
                     "parts_shortage or repairer_fault (decides the stalled-repair rule)");
  repair->add_flag("--major-assembly-replaced", *pmajor,
                   "Vehicles, with finished/failed: an engine, gearbox, traction battery or "
                   "drive motor was replaced");
  repair->add_option("--note", *pnote, "Up to 2,000 characters");
  OnRun(repair, run, [&client, pm, paction, pcause, pmajor, pnote] {
    auto action = EnumFlag<v1::RecordRepairRequest::Action>(client, "--action", *paction,
                                                            v1::RecordRepairRequest::Action_Parse,
                                                            "STARTED, FINISHED or FAILED");
    if (!action) return kExitUsage;
    v1::RecordRepairRequest req;
    if (!pcause->empty()) {
      auto cause = EnumFlag<v1::RepairEntry::DelayCause>(client, "--delay-cause", *pcause,
                                                         v1::RepairEntry::DelayCause_Parse,
                                                         "PARTS_SHORTAGE or REPAIRER_FAULT");
      if (!cause) return kExitUsage;
      req.set_delay_cause(*cause);
    }
    req.set_action(*action);
    req.set_major_assembly_replaced(*pmajor);
    req.set_note(*pnote);
    return pm->Call(client, &Stub::RecordRepair, req);
  });

  // ---- escalate ----
  auto* escalate = claim
                       ->add_subcommand("escalate",
                                        "Escalate to a supervisor after a rejection, instead of "
                                        "confirming a resolution, or after a missed resolve "
                                        "deadline (its BUYER)")
                       ->footer(
                           "Example:\n  marketctl claim escalate c-31 --reason '购买时屏幕完好，"
                           "有开箱视频'");
  auto em = AddMutationFlags(escalate);
  auto ereason = std::make_shared<std::string>();
  escalate->add_option("--reason", *ereason, "Why you disagree, 1-2,000 characters")->required();
  OnRun(escalate, run, [&client, em, ereason] {
    v1::EscalateClaimRequest req;
    req.set_reason(*ereason);
    return em->Call(client, &Stub::EscalateClaim, req);
  });

  // ---- rule ----
  constexpr char kRuleFooter[] =
      "UPHELD records CLAIM_UPHELD against the seller; a second unfounded dismissal of a buyer "
      "within 90 days\n"
      "records CLAIM_UNFOUNDED against the buyer.\n"
      "Examples:\n"
      "  marketctl claim rule c-31 --outcome upheld --reason '检测报告显示屏幕排线老化'\n"
      "  marketctl claim rule c-32 --outcome dismissed --unfounded --reason '无任何故障证据'";
  auto* rule =
      claim->add_subcommand("rule", "Rule on an ESCALATED claim (SUPERVISOR)")->footer(kRuleFooter);
  auto um = AddMutationFlags(rule);
  auto uoutcome = std::make_shared<std::string>();
  auto ureq = std::make_shared<v1::RuleOnClaimRequest>();
  auto uunfounded = std::make_shared<bool>(false);
  rule->add_option("--outcome", *uoutcome, "upheld or dismissed")->required();
  rule->add_option("--reason", *ureq->mutable_reason(), "Reasoning shown to both parties")
      ->required();
  rule->add_flag("--unfounded", *uunfounded, "Dismissed: the claim had no basis");
  OnRun(rule, run, [&client, um, uoutcome, ureq, uunfounded] {
    auto outcome = EnumFlag<v1::Claim::State>(client, "--outcome", *uoutcome,
                                              v1::Claim::State_Parse, "UPHELD or DISMISSED");
    if (!outcome) return kExitUsage;
    if (*outcome != v1::Claim::UPHELD && *outcome != v1::Claim::DISMISSED) {
      client.err() << "error: --outcome \"" << *uoutcome << "\": want UPHELD or DISMISSED\n";
      return kExitUsage;
    }
    v1::RuleOnClaimRequest req = *ureq;
    req.set_outcome(*outcome);
    req.set_unfounded(*uunfounded);
    return um->Call(client, &Stub::RuleOnClaim, req);
  });

  // ---- resolve ----
  constexpr char kResolveFooter[] =
      "Unconfirmed resolutions are confirmed automatically after 7 days.\n"
      "Examples:\n"
      "  marketctl claim resolve c-31 --outcome refunded --refund-yuan 2999.00 --depreciation-yuan "
      "300.00\n"
      "  marketctl claim resolve c-31 --outcome exchanged --replacement-item "
      "items/PHONE:355383063760236\n"
      "  marketctl claim resolve c-31 --confirm";
  auto* resolve = claim
                      ->add_subcommand("resolve",
                                       "Record the outcome (SELLER) or confirm it (BUYER, "
                                       "--confirm) of an ACCEPTED or UPHELD claim")
                      ->footer(kResolveFooter);
  auto sm = AddMutationFlags(resolve);
  auto soutcome = std::make_shared<std::string>();
  auto srefund = std::make_shared<std::string>();
  auto sdepreciation = std::make_shared<std::string>();
  auto sitem = std::make_shared<std::string>();
  auto snote = std::make_shared<std::string>();
  auto sconfirm = std::make_shared<bool>(false);
  auto* outcome_opt =
      resolve->add_option("--outcome", *soutcome, "repaired, exchanged or refunded (seller)");
  resolve->add_option("--refund-yuan", *srefund,
                      "Refunded: the amount returned in yuan, e.g. 2999.00 or 2999.00元");
  resolve->add_option("--depreciation-yuan", *sdepreciation,
                      "Refunded after the refund window: depreciation deducted, in yuan");
  resolve->add_option("--replacement-item", *sitem,
                      "Exchanged: the replacement, items/{CATEGORY}:{identifier}");
  resolve->add_option("--note", *snote, "Up to 2,000 characters");
  resolve->add_flag("--confirm", *sconfirm, "Buyer: confirm the recorded resolution")
      ->excludes(outcome_opt);
  OnRun(resolve, run, [&client, sm, soutcome, srefund, sdepreciation, sitem, snote, sconfirm] {
    v1::ResolveClaimRequest req;
    req.set_confirm(*sconfirm);
    if (!*sconfirm) {
      if (soutcome->empty()) {
        client.err() << "error: want --outcome (seller) or --confirm (buyer)\n";
        return kExitUsage;
      }
      auto outcome = EnumFlag<v1::Resolution::Outcome>(client, "--outcome", *soutcome,
                                                       v1::Resolution::Outcome_Parse,
                                                       "REPAIRED, EXCHANGED or REFUNDED");
      if (!outcome) return kExitUsage;
      v1::Resolution* r = req.mutable_resolution();
      r->set_outcome(*outcome);
      if (!srefund->empty()) {
        auto m = YuanFlag(client, "--refund-yuan", *srefund);
        if (!m) return kExitUsage;
        *r->mutable_refunded_amount() = *m;
      }
      if (!sdepreciation->empty()) {
        auto m = YuanFlag(client, "--depreciation-yuan", *sdepreciation);
        if (!m) return kExitUsage;
        *r->mutable_depreciation_deducted() = *m;
      }
      r->set_replacement_item(*sitem);
      r->set_note(*snote);
    }
    return sm->Call(client, &Stub::ResolveClaim, req);
  });

  // ---- get ----
  auto* get = claim
                  ->add_subcommand("get",
                                   "Show a claim (its buyer and seller, the market's "
                                   "OPERATOR, SUPERVISOR)")
                  ->footer("Example:\n  marketctl claim get c-31 -o json");
  AddCallByName(get, client, run, &Stub::GetClaim, "name", "claims/{id} or {id}", "claims");

  // ---- list ----
  auto* list =
      claim->add_subcommand("list", "List claims you may see, newest first")
          ->footer(
              "Filter terms, joined by ' AND ': order=\"markets/m/orders/o\", "
              "market=\"markets/m\", buyer=\"subjects/x\",\nseller=\"subjects/x\", "
              "state=FILED|ACCEPTED|REJECTED|ESCALATED|UPHELD|DISMISSED|RESOLVED,\n"
              "kind=REFUND|EXCHANGE|REPAIR, create_time>=\"RFC 3339\", create_time<\"RFC 3339\".\n"
              "Example:\n  marketctl claim list --filter 'state=ESCALATED AND "
              "market=\"markets/east-flea\"' --all");
  auto lreq = std::make_shared<v1::ListClaimsRequest>();
  list->add_option("--filter", *lreq->mutable_filter(), "Conjunction of terms (see below)");
  list->add_option("--order-by", *lreq->mutable_order_by(),
                   "create_time or create_time desc (default)");
  AddPagedList(
      list, client, run, &Stub::ListClaims, lreq, "Claims per page, 1-1000 (default 50)",
      [](const auto& p) -> const auto& { return p.claims(); },
      PrintColumns(client, {"name", "state", "kind", "order", "buyer", "seller", "fault_code",
                            "create_time"}));
}

}  // namespace market::ctl
