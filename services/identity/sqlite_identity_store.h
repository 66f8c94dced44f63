// IdentityStore on one SQLite file (identity.db): subjects as serialized
// protos plus indexed columns, API keys, token signing keys, idempotency
// records. Thread-safe (sqlite::Database serializes writes, pools reads).
#ifndef MARKET_SERVICES_IDENTITY_SQLITE_IDENTITY_STORE_H_
#define MARKET_SERVICES_IDENTITY_SQLITE_IDENTITY_STORE_H_

#include <memory>
#include <string>

#include "common/sqlite/database.h"
#include "services/identity/identity_store.h"

namespace market::identity {

class SqliteIdentityStore final : public IdentityStore {
 public:
  // Opens (creating and migrating) the database at `path`; ":memory:" works.
  static absl::StatusOr<std::unique_ptr<SqliteIdentityStore>> Open(const std::string& path);

  absl::StatusOr<Subject> CreateSubject(const SubjectRow& row,
                                        const std::optional<ApiKeyRow>& initial_key,
                                        const RequestKey& key, absl::Time now,
                                        bool* replayed) override;
  absl::StatusOr<SubjectRow> GetSubject(const std::string& name) override;
  absl::StatusOr<std::vector<SubjectRow>> ListSubjects(const SubjectFilter& filter,
                                                       const std::string& after,
                                                       int limit) override;
  absl::StatusOr<Subject> UpdateSubject(
      const std::string& name, const RequestKey& key, absl::Time now,
      const std::function<absl::Status(SubjectRow&)>& mutate,
      const std::vector<v1::AuthEvent>& audit = {}) override;
  absl::StatusOr<std::optional<std::string>> LookupReplay(const RequestKey& key) override;
  absl::StatusOr<ApiKey> CreateApiKey(const ApiKeyRow& row, const RequestKey& key,
                                      absl::Time now) override;
  absl::StatusOr<ApiKeyRow> GetApiKey(const std::string& name) override;
  absl::StatusOr<ApiKey> RevokeApiKey(const std::string& name, const RequestKey& key,
                                      absl::Time now) override;
  absl::StatusOr<std::vector<SigningKeyRow>> ListSigningKeys() override;
  absl::Status AddSigningKey(const SigningKeyRow& row) override;
  absl::Status DeleteSigningKeysBefore(absl::Time cutoff) override;
  absl::StatusOr<int64_t> CountSubjects() override;
  absl::StatusOr<LoginThrottle> GetLoginThrottle(const std::string& key) override;
  absl::StatusOr<std::vector<LoginThrottle>> RecordLoginFailure(
      const std::vector<std::string>& keys, absl::Time now, absl::Duration forget_after,
      const std::function<absl::Duration(int64_t failures)>& backoff,
      const std::vector<v1::AuthEvent>& events) override;
  absl::StatusOr<int64_t> ClearLoginThrottle(const std::string& key, const v1::AuthEvent& event,
                                             absl::Time now) override;
  absl::Status AppendAuthEvent(const v1::AuthEvent& event, absl::Time now) override;
  absl::StatusOr<std::vector<v1::AuthEvent>> ListAuthEvents(const std::string& subject,
                                                            int64_t before, int limit) override;

  sqlite::Database* database() { return db_.get(); }

 private:
  explicit SqliteIdentityStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace market::identity

#endif  // MARKET_SERVICES_IDENTITY_SQLITE_IDENTITY_STORE_H_
