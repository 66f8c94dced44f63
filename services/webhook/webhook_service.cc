#include "services/webhook/webhook_service.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "services/webhook/webhook_rules.h"

namespace market::webhook {

namespace {

constexpr char kService[] = "market.webhook.v1.WebhookService";

absl::Status ValidName(const std::string& name) {
  if (!absl::StartsWith(name, "webhooks/") || name.size() == 9 || name.size() > 100 ||
      name.find('/', 9) != std::string::npos) {
    return InvalidField("name", "want webhooks/{id}");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PublishCaseOpened(WebhookStore& store, const supervision::v1::Case& c,
                               absl::Time now) {
  v1::Event e;
  e.set_event_id(absl::StrCat("case-opened:", c.name()));
  e.set_kind(v1::CASE_OPENED);
  *e.mutable_time() = c.has_create_time() ? c.create_time() : ToTimestamp(now);
  e.set_resource(c.name());
  e.set_market(c.market());
  auto& a = *e.mutable_attributes();
  a["kind"] = supervision::v1::Case::Kind_Name(c.kind());
  if (!c.region_code().empty()) a["region_code"] = c.region_code();
  if (!c.summary().empty()) a["summary"] = c.summary();  // up to 500 characters
  for (int i = 0; i < c.subjects_size() && i < 8; ++i) {
    a[absl::StrCat("subject_", i)] = c.subjects(i).subject();
  }
  return PublishEvent(store, e, now).status();
}

std::vector<auth::RpcPolicy> WebhookPolicies() {
  using common::v1::APPRAISAL_FIRM;
  using common::v1::OPERATOR;
  using common::v1::SERVICE;
  using common::v1::SUPERVISOR;
  // Ownership of a webhook (owner or SUPERVISOR) is checked in the handlers.
  const std::set<common::v1::Role> owners = {SUPERVISOR, OPERATOR, APPRAISAL_FIRM};
  return {
      {.method = "CreateWebhook", .roles = owners},
      {.method = "ListWebhooks", .roles = owners},
      {.method = "DeleteWebhook", .roles = owners},
      {.method = "TestWebhook", .roles = owners},
      {.method = "ListWebhookDeliveries", .roles = owners},
      {.method = "PublishEvent", .roles = {SERVICE}},
  };
}

absl::StatusOr<PublishResult> PublishEvent(WebhookStore& store, const v1::Event& event,
                                           absl::Time now) {
  MARKET_RETURN_IF_ERROR(ValidateEvent(event));
  return store.Publish(event, now);
}

absl::StatusOr<std::unique_ptr<WebhookServiceImpl>> WebhookServiceImpl::Create(
    WebhookStore* store, const Clock* clock, std::shared_ptr<const auth::TokenVerifier> verifier,
    std::shared_ptr<auth::SuspensionChecker> suspension, server::Metrics* metrics) {
  std::unique_ptr<WebhookServiceImpl> s(new WebhookServiceImpl(store, clock));
  MARKET_ASSIGN_OR_RETURN(
      s->authorizer_,
      auth::Authorizer::Create(v1::Webhook::descriptor()->file()->FindServiceByName("WebhookService"),
                               WebhookPolicies(), std::move(verifier), std::move(suspension),
                               clock));
  s->env_ = server::RpcEnv{kService, s->authorizer_.get(), metrics};
  return s;
}

absl::StatusOr<StoredWebhook> WebhookServiceImpl::Owned(const auth::Caller& caller,
                                                        const std::string& name) {
  MARKET_RETURN_IF_ERROR(ValidName(name));
  MARKET_ASSIGN_OR_RETURN(std::optional<StoredWebhook> w, store_->Get(name));
  if (!w.has_value()) return absl::NotFoundError(absl::StrCat(name, " not found"));
  if (w->webhook.owner() != caller.subject && !caller.HasRole(common::v1::SUPERVISOR)) {
    return absl::PermissionDeniedError(absl::StrCat(name, " belongs to another subject"));
  }
  return *std::move(w);
}

grpc::Status WebhookServiceImpl::CreateWebhook(grpc::ServerContext* ctx,
                                               const v1::CreateWebhookRequest* req,
                                               v1::CreateWebhookResponse* resp) {
  return server::HandleRpc(env_, ctx, "CreateWebhook", *req, [&](const auth::Caller& caller) {
    MARKET_RETURN_IF_ERROR(ValidateWebhook(req->webhook()));
    StoredWebhook w;
    MARKET_ASSIGN_OR_RETURN(w.scope, OwnerScope(caller.roles));
    w.webhook.set_name(absl::StrCat("webhooks/", HexEncode(RandomBytes(8))));
    w.webhook.set_owner(caller.subject);
    w.webhook.set_url(req->webhook().url());
    *w.webhook.mutable_event_kinds() = req->webhook().event_kinds();
    w.webhook.set_description(req->webhook().description());
    *w.webhook.mutable_create_time() = ToTimestamp(clock_->Now());
    w.secret = absl::StrCat("whsec_", HexEncode(RandomBytes(32)));
    MARKET_RETURN_IF_ERROR(store_->Create(w));
    *resp->mutable_webhook() = w.webhook;
    resp->set_secret(w.secret);
    return absl::OkStatus();
  });
}

grpc::Status WebhookServiceImpl::ListWebhooks(grpc::ServerContext* ctx,
                                              const v1::ListWebhooksRequest* req,
                                              v1::ListWebhooksResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListWebhooks", *req, [&](const auth::Caller& caller) {
    const std::string owner = caller.HasRole(common::v1::SUPERVISOR) ? "" : caller.subject;
    MARKET_ASSIGN_OR_RETURN(std::vector<v1::Webhook> list, store_->List(owner));
    for (v1::Webhook& w : list) *resp->add_webhooks() = std::move(w);
    return absl::OkStatus();
  });
}

grpc::Status WebhookServiceImpl::DeleteWebhook(grpc::ServerContext* ctx,
                                               const v1::DeleteWebhookRequest* req,
                                               v1::DeleteWebhookResponse*) {
  return server::HandleRpc(env_, ctx, "DeleteWebhook", *req, [&](const auth::Caller& caller) {
    MARKET_RETURN_IF_ERROR(Owned(caller, req->name()).status());
    return store_->Delete(req->name(), clock_->Now());
  });
}

grpc::Status WebhookServiceImpl::TestWebhook(grpc::ServerContext* ctx,
                                             const v1::TestWebhookRequest* req,
                                             v1::TestWebhookResponse* resp) {
  return server::HandleRpc(env_, ctx, "TestWebhook", *req, [&](const auth::Caller& caller) {
    MARKET_RETURN_IF_ERROR(Owned(caller, req->name()).status());
    const absl::Time now = clock_->Now();
    v1::Event ping;
    ping.set_event_id(absl::StrCat("ping-", HexEncode(RandomBytes(12))));
    ping.set_kind(v1::PING);
    *ping.mutable_time() = ToTimestamp(now);
    ping.set_resource(req->name());
    MARKET_RETURN_IF_ERROR(store_->QueueFor(req->name(), ping, now));
    resp->set_event_id(ping.event_id());
    return absl::OkStatus();
  });
}

grpc::Status WebhookServiceImpl::ListWebhookDeliveries(
    grpc::ServerContext* ctx, const v1::ListWebhookDeliveriesRequest* req,
    v1::ListWebhookDeliveriesResponse* resp) {
  return server::HandleRpc(env_, ctx, "ListWebhookDeliveries", *req,
                           [&](const auth::Caller& caller) -> absl::Status {
    Violations v;
    v.Merge(ValidName(req->name()));
    if (req->page_size() < 0 || req->page_size() > 100) v.Add("page_size", "0..100");
    int64_t before = 0;
    if (!req->page_token().empty() &&
        (!absl::SimpleAtoi(req->page_token(), &before) || before <= 0)) {
      v.Add("page_token", "not a token from next_page_token");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    MARKET_RETURN_IF_ERROR(Owned(caller, req->name()).status());
    MARKET_ASSIGN_OR_RETURN(auto page, store_->ListDeliveries(
                                           req->name(), before,
                                           req->page_size() == 0 ? 20 : req->page_size()));
    for (v1::Delivery& d : page.first) *resp->add_deliveries() = std::move(d);
    if (page.second != 0) resp->set_next_page_token(absl::StrCat(page.second));
    return absl::OkStatus();
  });
}

grpc::Status WebhookServiceImpl::PublishEvent(grpc::ServerContext* ctx,
                                              const v1::PublishEventRequest* req,
                                              v1::PublishEventResponse* resp) {
  return server::HandleRpc(env_, ctx, "PublishEvent", *req, [&](const auth::Caller&) {
    MARKET_ASSIGN_OR_RETURN(PublishResult r,
                            webhook::PublishEvent(*store_, req->event(), clock_->Now()));
    resp->set_accepted(r.accepted);
    resp->set_deliveries(r.deliveries);
    return absl::OkStatus();
  });
}

}  // namespace market::webhook
