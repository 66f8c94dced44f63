#include "services/credit/credit_module.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/config/files.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"
#include "ledger/checkpoint.h"
#include "services/credit/credit_outbox.h"
#include "services/stats/stats_events.h"
#include "services/webhook/webhook_events.h"

namespace market::credit {

SubjectDirectory PeerDirectory(identity::SubjectLookup subjects, SellerOperators operators) {
  return [subjects = std::move(subjects), operators = std::move(operators)](
             const std::string& subject) -> absl::StatusOr<std::optional<SubjectInfo>> {
    MARKET_ASSIGN_OR_RETURN(std::optional<identity::v1::Subject> found, subjects(subject));
    if (!found.has_value()) return std::nullopt;
    return SubjectInfo{found->display_name(), found->affiliation(),
                       [operators, subject] { return operators(subject); }};
  };
}

absl::StatusOr<CreditModule> OpenCreditModule(const std::string& data_dir, const Clock* clock,
                                              SubjectDirectory directory,
                                              std::shared_ptr<const auth::TokenVerifier> verifier,
                                              std::shared_ptr<auth::SuspensionChecker> suspension,
                                              server::Metrics* metrics,
                                              const std::string& origin) {
  std::string secrets = absl::StrCat(data_dir, "/credit");
  MARKET_RETURN_IF_ERROR(config::EnsureDir(secrets));
  std::string key_path = secrets + "/ledger-key.pem";
  absl::StatusOr<Ed25519PrivateKey> key = ReadPrivateKeyFile(key_path);
  if (absl::IsNotFound(key.status()) && config::ReadFile(data_dir + "/credit.db").ok()) {
    // A ledger whose checkpoints were signed with a key that is gone must not
    // silently switch keys: every verifier would see "key changed".
    return absl::FailedPreconditionError(absl::StrCat(
        key_path, " is missing but ", data_dir,
        "/credit.db exists; restore the ledger key from the backup"));
  }
  if (absl::IsNotFound(key.status())) {
    MARKET_ASSIGN_OR_RETURN(Ed25519PrivateKey fresh, Ed25519PrivateKey::Generate());
    MARKET_RETURN_IF_ERROR(WritePrivateKeyFile(key_path, fresh));
    key = std::move(fresh);
  }
  MARKET_RETURN_IF_ERROR(key.status());
  auto shared_key = std::make_shared<Ed25519PrivateKey>(*std::move(key));
  CreditOptions options;
  options.origin = origin;
  options.public_key_raw = shared_key->PublicKeyRaw();
  MARKET_ASSIGN_OR_RETURN(options.page_token_secret,
                          config::LoadOrCreateSecret(secrets + "/page-token-hmac.key", 32));
  CheckpointSigner signer = [shared_key, origin](int64_t size,
                                                 const Hash& root) -> absl::StatusOr<std::string> {
    return ledger::SignCheckpoint(ledger::Checkpoint{origin, size, root}, origin, *shared_key);
  };
  CreditModule m;
  MARKET_ASSIGN_OR_RETURN(m.store, SqliteCreditStore::Open(data_dir + "/credit.db", signer));
  MARKET_ASSIGN_OR_RETURN(m.credit,
                          CreditServiceImpl::Create(m.store.get(), clock, options,
                                                    std::move(directory), verifier,
                                                    std::move(suspension), metrics));
  MARKET_ASSIGN_OR_RETURN(m.ledger,
                          LedgerServiceImpl::Create(m.store.get(), clock, options, verifier,
                                                    metrics));
  m.retention = std::make_unique<retention::TablePurger>("credit", m.store->database(), clock,
                                                         retention::Tables{.outbox = true, .idempotency = true});
  if (metrics != nullptr) m.retention->ExportMetrics(metrics);
  return m;
}

void OpenCreditRelay(CreditModule& m, const Clock* clock, outbox::Relay::Deliverer to_figures,
                     outbox::Relay::Deliverer to_webhook, SellerOperators operators,
                     server::Metrics* metrics, outbox::RelayOptions options) {
  options.batch = std::max(options.batch, kCreditRelayBatch);
  m.relay = std::make_unique<outbox::Relay>(
      m.store->database(), clock,
      std::map<std::string, outbox::Relay::Deliverer>{
          {stats::kFiguresDestination, std::move(to_figures)},
          {webhook::kWebhookDestination,
           WithSellerOperators(std::move(to_webhook), std::move(operators))}},
      options);
  if (metrics != nullptr) m.relay->ExportMetrics(metrics, "credit");
}

CasePeers ListingCasePeers(
    std::function<absl::StatusOr<std::optional<listing::OrderInfo>>(const std::string&)> orders,
    std::function<absl::StatusOr<std::string>(const std::string&)> market_region) {
  CasePeers peers;
  peers.order = [orders = std::move(orders)](
                    const std::string& name) -> absl::StatusOr<std::optional<OrderParties>> {
    MARKET_ASSIGN_OR_RETURN(std::optional<listing::OrderInfo> info, orders(name));
    if (!info.has_value()) return std::nullopt;
    return OrderParties{info->order.buyer(), info->order.seller(),
                        name.substr(0, name.find("/orders/"))};
  };
  peers.market_region = std::move(market_region);
  return peers;
}

absl::Status OpenCaseService(CreditModule& m, const std::string& data_dir, const Clock* clock,
                             CasePeers peers, std::shared_ptr<const auth::TokenVerifier> verifier,
                             std::shared_ptr<auth::SuspensionChecker> suspension,
                             server::Metrics* metrics) {
  MARKET_ASSIGN_OR_RETURN(
      std::string secret,
      config::LoadOrCreateSecret(absl::StrCat(data_dir, "/credit/page-token-hmac.key"), 32));
  m.case_store = std::make_unique<CaseStore>(m.store.get());
  MARKET_ASSIGN_OR_RETURN(m.cases, CaseServiceImpl::Create(m.case_store.get(), clock,
                                                           std::move(peers), std::move(secret),
                                                           std::move(verifier),
                                                           std::move(suspension), metrics));
  return absl::OkStatus();
}

}  // namespace market::credit
