#include "services/identity/identity_module.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/config/files.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "nlohmann/json.hpp"

namespace market::identity {

absl::StatusOr<IdentityModule> OpenIdentityModule(const std::string& data_dir, const Clock* clock,
                                                  std::shared_ptr<auth::TokenVerifier> verifier,
                                                  server::Metrics* metrics,
                                                  IdentityOptions options) {
  std::string secrets = absl::StrCat(data_dir, "/identity");
  MARKET_RETURN_IF_ERROR(config::EnsureDir(secrets));
  MARKET_ASSIGN_OR_RETURN(options.id_hash_key,
                          config::LoadOrCreateSecret(secrets + "/id-number-hmac.key", 32));
  MARKET_ASSIGN_OR_RETURN(options.page_token_secret,
                          config::LoadOrCreateSecret(secrets + "/page-token-hmac.key", 32));
  if (options.bootstrap_file.empty()) {
    options.bootstrap_file = absl::StrCat(data_dir, "/bootstrap-admin.json");
  }
  IdentityModule m;
  MARKET_ASSIGN_OR_RETURN(m.store, SqliteIdentityStore::Open(data_dir + "/identity.db"));
  m.suspension = std::make_shared<auth::SuspensionChecker>(
      IdentityServiceImpl::SuspensionSource(m.store.get()), clock, absl::Seconds(5));
  MARKET_ASSIGN_OR_RETURN(m.service,
                          IdentityServiceImpl::Create(m.store.get(), clock, std::move(options),
                                                      std::move(verifier), m.suspension, metrics));
  m.retention = std::make_unique<retention::TablePurger>("identity", m.store->database(), clock,
                                                         retention::Tables{.idempotency = true});
  if (metrics != nullptr) m.retention->ExportMetrics(metrics);
  return m;
}

absl::StatusOr<std::string> BootstrapIfEmpty(IdentityServiceImpl& service,
                                             const std::string& data_dir) {
  MARKET_ASSIGN_OR_RETURN(auto created, service.BootstrapSupervisor());
  if (!created.has_value()) return std::string();
  std::string path = absl::StrCat(data_dir, "/bootstrap-admin.json");
  nlohmann::json doc = {{"subject", created->first}, {"password", created->second}};
  MARKET_RETURN_IF_ERROR(config::WriteOwnerOnlyFile(path, doc.dump(2) + "\n"));
  server::LogJson("warn", "bootstrap supervisor credentials written",
                  {{"path", path}, {"subject", created->first}});
  return path;
}

absl::Status EnsureServiceAccount(IdentityStore& store, const std::string& name,
                                  const std::string& display_name, absl::Time now) {
  absl::StatusOr<SubjectRow> found = store.GetSubject(name);
  if (found.ok()) return absl::OkStatus();
  if (!absl::IsNotFound(found.status())) return found.status();
  SubjectRow row;
  row.subject.set_name(name);
  row.subject.set_kind(Subject::ORGANIZATION);
  row.subject.add_roles(common::v1::SERVICE);
  row.subject.set_display_name(display_name);
  row.subject.set_state(Subject::ACTIVE);
  return store.CreateSubject(row, std::nullopt, RequestKey{}, now, nullptr).status();
}

client::TokenSource InProcessServiceToken(const IdentityModule& module, const std::string& subject,
                                          const Clock* clock) {
  struct Cache {
    absl::Mutex mu;
    std::string token ABSL_GUARDED_BY(mu);
    absl::Time expiry ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  };
  auto cache = std::make_shared<Cache>();
  TokenAuthority* tokens = module.service->token_authority();
  return [cache, tokens, subject, clock]() -> absl::StatusOr<std::string> {
    absl::MutexLock lock(&cache->mu);
    if (clock->Now() + absl::Minutes(5) < cache->expiry) return cache->token;
    MARKET_ASSIGN_OR_RETURN(auto issued, tokens->Issue(subject, {common::v1::SERVICE}));
    std::tie(cache->token, cache->expiry) = std::move(issued);
    return cache->token;
  };
}

}  // namespace market::identity
