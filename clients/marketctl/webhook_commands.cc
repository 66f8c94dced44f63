// marketctl webhook: HTTPS endpoints that receive signed event deliveries
// (market.webhook.v1.WebhookService, served by the credit process).
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "market/webhook/v1/webhook.grpc.pb.h"

namespace market::ctl {
namespace {

namespace v1 = ::market::webhook::v1;
using Stub = v1::WebhookService::Stub;

constexpr char kKinds[] =
    "claim.filed, claim.reply_due, claim.escalated, ruling.made, dispute.filed, case.opened, "
    "subject.blacklisted, subject.redlisted";

// "claim.filed" or "CLAIM_FILED" → CLAIM_FILED; false for anything else.
bool ParseKind(const std::string& text, v1::EventKind* out) {
  std::string name = absl::AsciiStrToUpper(absl::StrReplaceAll(text, {{".", "_"}}));
  return v1::EventKind_Parse(name, out) && *out != v1::EVENT_KIND_UNSPECIFIED && *out != v1::PING;
}

std::string KindText(int kind) {
  std::string name = absl::AsciiStrToLower(v1::EventKind_Name(static_cast<v1::EventKind>(kind)));
  size_t underscore = name.find('_');
  if (underscore != std::string::npos) name[underscore] = '.';
  return name;
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(t.seconds()),
                          absl::FixedTimeZone(8 * 3600));
}

struct AddFlags {
  std::string url, description;
  std::vector<std::string> events;
};

int RunAdd(Client& client, const AddFlags& f) {
  v1::CreateWebhookRequest req;
  req.mutable_webhook()->set_url(f.url);
  req.mutable_webhook()->set_description(f.description);
  for (const std::string& e : f.events) {
    v1::EventKind kind;
    if (!ParseKind(e, &kind)) {
      client.err() << "error: --event " << e << ": want one of " << kKinds << "\n";
      return kExitUsage;
    }
    req.mutable_webhook()->add_event_kinds(kind);
  }
  v1::CreateWebhookResponse resp;
  grpc::Status s = Invoke(client, &Stub::CreateWebhook, req, &resp);
  if (!s.ok()) return client.Fail(s);
  if (client.flags().output == "json") {
    client.Print(resp);
    return 0;
  }
  client.out() << "created " << resp.webhook().name() << "\n"
               << "secret: " << resp.secret() << "\n"
               << "(shown this once: the receiver verifies X-Market-Signature with it)\n";
  return 0;
}

}  // namespace

void AddWebhookCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* webhook = AddGroup(&app, "webhook",
                           "HTTPS endpoints receiving signed event deliveries (organisers, "
                           "appraisal firms, supervisors)");

  auto* add = webhook->add_subcommand("add", "Register an endpoint; prints its secret once")
                  ->footer(absl::StrCat(
                      "SUPERVISOR (every event), OPERATOR (its markets' events), APPRAISAL_FIRM\n"
                      "(its reports' and disputes' events). Event kinds: ", kKinds, ".\n"
                      "Example:\n  marketctl webhook add --url https://hooks.example.org/market \\\n"
                      "      --event claim.filed --event ruling.made"));
  auto f = std::make_shared<AddFlags>();
  add->add_option("--url", f->url, "https://HOST[:PORT]/PATH")->required();
  add->add_option("--event", f->events, "An event kind to receive (repeatable)")->required();
  add->add_option("--description", f->description, "Up to 200 characters");
  OnRun(add, run, [&client, f] { return RunAdd(client, *f); });

  auto* list = webhook->add_subcommand("list", "Your webhooks (a SUPERVISOR sees all)")
                   ->footer("Example:\n  marketctl webhook list");
  OnRun(list, run, [&client] {
    v1::ListWebhooksResponse resp;
    grpc::Status s = Invoke(client, &Stub::ListWebhooks, v1::ListWebhooksRequest(), &resp);
    if (!s.ok()) return client.Fail(s);
    std::vector<const v1::Webhook*> items;
    for (const auto& w : resp.webhooks()) items.push_back(&w);
    PrintRows(client, items, {"NAME", "OWNER", "URL", "EVENTS"}, [](const v1::Webhook& w) {
      std::vector<std::string> kinds;
      for (int k : w.event_kinds()) kinds.push_back(KindText(k));
      return std::vector<std::string>{w.name(), w.owner(), w.url(), absl::StrJoin(kinds, ",")};
    });
    return 0;
  });

  AddCallByName(webhook->add_subcommand("delete", "Delete a webhook; pending deliveries stop")
                    ->footer("Example:\n  marketctl webhook delete 3f2a9c0d1e4b5a67"),
                client, run, &Stub::DeleteWebhook, "name", "webhooks/{id} or {id}", "webhooks");
  AddCallByName(webhook->add_subcommand("test", "Send a signed ping event to a webhook")
                    ->footer("Example:\n  marketctl webhook test 3f2a9c0d1e4b5a67"),
                client, run, &Stub::TestWebhook, "name", "webhooks/{id} or {id}", "webhooks");

  auto* deliveries =
      webhook->add_subcommand("deliveries", "A webhook's deliveries, newest first, with attempts")
          ->footer("Times are China time (UTC+8). STATUS 0: no HTTP answer (see ERROR).\n"
                   "Example:\n  marketctl webhook deliveries 3f2a9c0d1e4b5a67 --page-size 50");
  auto name = std::make_shared<std::string>();
  deliveries->add_option("name", *name, "webhooks/{id} or {id}")->required();
  auto paging = AddPageFlags(deliveries, "Deliveries per page (1..100; default 20)");
  OnRun(deliveries, run, [&client, name, paging] {
    v1::ListWebhookDeliveriesRequest req;
    req.set_name(Prefixed(*name, "webhooks"));
    return ListAndPrint(
        client, &Stub::ListWebhookDeliveries, req, *paging,
        [](const auto& page) -> const auto& { return page.deliveries(); },
        [&client](const std::vector<const v1::Delivery*>& items) {
          PrintRows(client, items,
                    {"EVENT", "KIND", "STATE", "ATTEMPTS", "LAST", "STATUS", "ERROR", "NEXT RETRY"},
                    [](const v1::Delivery& d) {
                      const v1::DeliveryAttempt last =
                          d.attempts().empty() ? v1::DeliveryAttempt()
                                               : d.attempts(d.attempts_size() - 1);
                      return std::vector<std::string>{
                          d.event_id(), KindText(d.kind()), v1::Delivery::State_Name(d.state()),
                          absl::StrCat(d.attempts_size()), TimeText(last.time()),
                          absl::StrCat(last.http_status()), last.error(),
                          TimeText(d.next_attempt_time())};
                    });
        });
  });
}

}  // namespace market::ctl
