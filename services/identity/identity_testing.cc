#include "services/identity/identity_testing.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"

namespace market::identity::testing {

std::string AddTestSubject(IdentityModule& identity, absl::Time now, const std::string& id,
                           const std::vector<common::v1::Role>& roles,
                           const std::string& affiliation, Subject::Kind kind) {
  SubjectRow row;
  row.subject.set_name("subjects/" + id);
  row.subject.set_kind(kind);
  for (common::v1::Role r : roles) row.subject.add_roles(r);
  row.subject.set_display_name(id);
  row.subject.set_affiliation(affiliation);
  row.subject.set_state(Subject::ACTIVE);
  EXPECT_OK(identity.store->CreateSubject(row, std::nullopt, RequestKey{}, now, nullptr));
  return row.subject.name();
}

std::string TestToken(IdentityModule& identity, const std::string& subject,
                      const std::vector<common::v1::Role>& roles) {
  std::vector<common::v1::Role> granted = roles;
  if (granted.empty()) {
    absl::StatusOr<SubjectRow> row = identity.store->GetSubject(subject);
    EXPECT_OK(row);
    if (row.ok()) {
      for (int r : row->subject.roles()) granted.push_back(static_cast<common::v1::Role>(r));
    }
  }
  auto issued = identity.service->token_authority()->Issue(subject, granted);
  EXPECT_OK(issued);
  return issued.ok() ? issued->first : "";
}

absl::StatusOr<std::optional<v1::Subject>> LookupTestSubject(IdentityModule& identity,
                                                             const std::string& subject) {
  absl::StatusOr<SubjectRow> row = identity.store->GetSubject(subject);
  if (absl::IsNotFound(row.status())) return std::nullopt;
  if (!row.ok()) return row.status();
  return row->subject;
}

ServiceTest::ServiceTest(absl::Time start) : clock_(start) {}

void ServiceTest::SetUp() {
  static int counter = 0;
  server::SetRpcLogging(false);
  dir_ = absl::StrCat(::testing::TempDir(),
                      ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name(),
                      "_", ::getpid(), "_", counter++);
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  IdentityOptions options = identity_options_;
  options.password_log2_n = 10;
  ASSERT_OK_AND_ASSIGN(identity_, OpenIdentityModule(dir_, &clock_, verifier_, nullptr, options));
}

void ServiceTest::TearDown() {
  if (runner_ != nullptr) runner_->Shutdown(absl::ZeroDuration());
  runner_.reset();
  std::filesystem::remove_all(dir_);
}

std::string ChangeFirstPassword(v1::IdentityService::Stub& stub, const std::string& subject,
                                const std::string& old_password,
                                const std::string& new_password) {
  v1::LoginRequest login;
  login.set_subject(subject);
  login.set_password(old_password);
  v1::LoginResponse token;
  grpc::ClientContext login_ctx;
  grpc::Status s = stub.Login(&login_ctx, login, &token);
  EXPECT_TRUE(s.ok()) << s.error_message();
  v1::ChangePasswordRequest change;
  change.set_name(subject);
  change.set_old_password(old_password);
  change.set_new_password(new_password);
  v1::ChangePasswordResponse changed;
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token.access_token());
  s = stub.ChangePassword(&ctx, change, &changed);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return changed.access_token();
}

std::string ServiceTest::TempPath(const std::string& name) const {
  return absl::StrCat(dir_, "/", name);
}

std::string ServiceTest::AddSubject(const std::string& id, common::v1::Role role,
                                    const std::string& affiliation) {
  return AddSubject(id, std::vector<common::v1::Role>{role}, affiliation);
}

std::string ServiceTest::AddSubject(const std::string& id,
                                    const std::vector<common::v1::Role>& roles,
                                    const std::string& affiliation) {
  return AddTestSubject(identity_, clock_.Now(), id, roles, affiliation, subject_kind_);
}

std::string ServiceTest::Token(const std::string& subject, common::v1::Role role) {
  return TestToken(identity_, subject, {role});
}

std::string ServiceTest::Token(const std::string& subject,
                               const std::vector<common::v1::Role>& roles) {
  return TestToken(identity_, subject, roles);
}

std::unique_ptr<grpc::ClientContext> ServiceTest::Ctx(const std::string& who) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (who.empty()) return ctx;
  std::string token = absl::StartsWith(who, "subjects/") ? Token(who) : who;
  ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::function<absl::StatusOr<std::optional<v1::Subject>>(const std::string&)>
ServiceTest::TestSubjectLookup() {
  return [this](const std::string& subject) { return LookupTestSubject(identity_, subject); };
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ServiceTest::StartServer(
    std::initializer_list<Served> services) {
  runner_ = std::make_unique<server::ServerRunner>(
      server::ServerOptions{.listen = "127.0.0.1:0", .http_listen = ""}, nullptr);
  for (const auto& [service, health_name] : services) runner_->AddService(service, health_name);
  MARKET_RETURN_IF_ERROR(runner_->Start());
  return NewChannel();
}

std::shared_ptr<grpc::Channel> ServiceTest::NewChannel() const {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", runner_->grpc_port()),
                             grpc::InsecureChannelCredentials());
}

}  // namespace market::identity::testing
