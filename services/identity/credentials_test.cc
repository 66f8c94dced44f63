// Login throttling, the auth audit log and the credential lifecycle
// (bootstrap password, ChangePassword, ResetPassword), through a real gRPC
// server on 127.0.0.1:0 over a real SQLite file, with a password hasher that
// counts the scrypt work each request costs.
#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/config/files.h"
#include "common/status/grpc_status.h"
#include "common/status/retry.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "market/identity/v1/identity.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/identity/identity_service.h"
#include "services/identity/identity_testing.h"

namespace market::identity {
namespace {

namespace v1 = ::market::identity::v1;
using common::v1::Role;

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);
constexpr char kPassword[] = "correct horse battery";
constexpr char kWrong[] = "wrong horse battery";
constexpr char kSupervisorPassword[] = "supervisor's own passphrase";

// scrypt at cost 2^10, counting calls and the most run at once.
class CountingHasher final : public PasswordHasher {
 public:
  absl::StatusOr<std::string> Hash(const std::string& password) override {
    Slot slot(*this);
    return real_->Hash(password);
  }
  absl::StatusOr<bool> Verify(const std::string& password, const std::string& hash) override {
    Slot slot(*this);
    // Long enough for concurrent calls to overlap.
    absl::SleepFor(absl::Milliseconds(delay_ms.load()));
    return real_->Verify(password, hash);
  }

  std::atomic<int> calls{0};
  std::atomic<int> max_active{0};
  std::atomic<int> delay_ms{0};

 private:
  struct Slot {
    explicit Slot(CountingHasher& h) : h(h) {
      ++h.calls;
      int now = ++h.active;
      int seen = h.max_active.load();
      while (now > seen && !h.max_active.compare_exchange_weak(seen, now)) {
      }
    }
    ~Slot() { --h.active; }
    CountingHasher& h;
  };
  std::shared_ptr<PasswordHasher> real_ = ScryptHasher(10);
  std::atomic<int> active{0};
};

class CredentialsTest : public testing::ServiceTest {
 protected:
  CredentialsTest() : ServiceTest(kStart) { identity_options_.hasher = hasher_; }

  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ServiceTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(Serve());
    ASSERT_OK_AND_ASSIGN(bootstrap_file_, BootstrapIfEmpty(*identity_.service, dir_));
    ASSERT_OK_AND_ASSIGN(std::string text, config::ReadFile(bootstrap_file_));
    auto doc = nlohmann::json::parse(text);
    supervisor_ = doc["subject"].get<std::string>();
    bootstrap_password_ = doc["password"].get<std::string>();
  }

  void Serve() {
    ASSERT_OK_AND_ASSIGN(auto channel, StartServer({{identity_.service.get(),
                                                     "market.identity.v1.IdentityService"}}));
    stub_ = v1::IdentityService::NewStub(channel);
  }

  // The supervisor's token after its first password change.
  std::string Supervisor() {
    if (supervisor_token_.empty()) {
      supervisor_token_ = testing::ChangeFirstPassword(*stub_, supervisor_, bootstrap_password_,
                                                       kSupervisorPassword);
    }
    return supervisor_token_;
  }

  // A SELLER person with kPassword.
  std::string AddPerson(const std::string& id) {
    SubjectRow row;
    row.subject.set_name("subjects/" + id);
    row.subject.set_kind(v1::Subject::PERSON);
    row.subject.add_roles(common::v1::SELLER);
    row.subject.set_display_name(id);
    row.subject.set_state(v1::Subject::ACTIVE);
    row.password_hash = *ScryptHasher(10)->Hash(kPassword);
    EXPECT_OK(
        identity_.store->CreateSubject(row, std::nullopt, RequestKey{}, clock_.Now(), nullptr));
    return row.subject.name();
  }

  grpc::Status Login(const std::string& subject, const std::string& password,
                     v1::LoginResponse* resp = nullptr) {
    v1::LoginRequest req;
    req.set_subject(subject);
    req.set_password(password);
    v1::LoginResponse ignored;
    grpc::ClientContext ctx;
    return stub_->Login(&ctx, req, resp != nullptr ? resp : &ignored);
  }

  std::string TokenOf(const std::string& subject, const std::string& password) {
    v1::LoginResponse resp;
    grpc::Status s = Login(subject, password, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.access_token();
  }

  grpc::Status ChangePassword(const std::string& token, const std::string& subject,
                              const std::string& old_password, const std::string& new_password,
                              v1::ChangePasswordResponse* resp = nullptr) {
    v1::ChangePasswordRequest req;
    req.set_name(subject);
    req.set_old_password(old_password);
    req.set_new_password(new_password);
    v1::ChangePasswordResponse ignored;
    return stub_->ChangePassword(Ctx(token).get(), req, resp != nullptr ? resp : &ignored);
  }

  std::vector<v1::AuthEvent> Events(const std::string& token, const std::string& subject) {
    v1::ListAuthEventsRequest req;
    req.set_subject(subject);
    req.set_page_size(1000);
    v1::ListAuthEventsResponse resp;
    grpc::Status s = stub_->ListAuthEvents(Ctx(token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.events().begin(), resp.events().end()};
  }

  grpc::Status WhoAmI(const std::string& token) {
    v1::WhoAmIResponse who;
    return stub_->WhoAmI(Ctx(token).get(), v1::WhoAmIRequest(), &who);
  }

  grpc::Status ListSubjects(const std::string& token) {
    v1::ListSubjectsResponse resp;
    return stub_->ListSubjects(Ctx(token).get(), v1::ListSubjectsRequest(), &resp);
  }

  std::shared_ptr<CountingHasher> hasher_ = std::make_shared<CountingHasher>();
  std::unique_ptr<v1::IdentityService::Stub> stub_;
  std::string bootstrap_file_, supervisor_, bootstrap_password_, supervisor_token_;
};

bool HasEvent(const std::vector<v1::AuthEvent>& events, v1::AuthEvent::Type type,
              const std::string& subject) {
  for (const auto& e : events) {
    if (e.type() == type && e.subject() == subject && absl::StrContains(e.peer(), "127.0.0.1")) {
      return true;
    }
  }
  return false;
}

// ---- throttling ----

TEST_F(CredentialsTest, SixthAttemptAfterFiveFailuresIsThrottledWithoutHashing) {
  std::string alice = AddPerson("alice");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login(alice, kWrong).error_code(), grpc::StatusCode::UNAUTHENTICATED) << i;
  }
  int hashed = hasher_->calls.load();
  grpc::Status s = Login(alice, kPassword);  // even the right password waits
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  absl::Status status = FromGrpcStatus(s);
  EXPECT_EQ(ReasonOf(status), "LOGIN_THROTTLED");
  ASSERT_TRUE(RetryDelayOf(status).has_value());
  EXPECT_EQ(*RetryDelayOf(status), absl::Seconds(1));
  EXPECT_EQ(hasher_->calls.load(), hashed);
}

TEST_F(CredentialsTest, BackoffDoublesWithEachFailure) {
  std::string alice = AddPerson("alice");
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  for (absl::Duration want : {absl::Seconds(1), absl::Seconds(2), absl::Seconds(4)}) {
    absl::Status throttled = FromGrpcStatus(Login(alice, kWrong));
    ASSERT_EQ(throttled.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(RetryDelayOf(throttled), want);
    clock_.Advance(want);
    EXPECT_EQ(Login(alice, kWrong).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(CredentialsTest, SuccessResetsTheSubjectsCount) {
  std::string alice = AddPerson("alice");
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  ASSERT_TRUE(Login(alice, kPassword).ok());
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  EXPECT_EQ(Login(alice, kWrong).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(CredentialsTest, ThrottleSurvivesARestart) {
  std::string alice = AddPerson("alice");
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  runner_->Shutdown(absl::ZeroDuration());
  runner_.reset();
  identity_ = IdentityModule();  // closes identity.db
  ASSERT_OK_AND_ASSIGN(identity_,
                       OpenIdentityModule(dir_, &clock_, verifier_, nullptr, identity_options_));
  ASSERT_NO_FATAL_FAILURE(Serve());
  EXPECT_EQ(Login(alice, kPassword).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(CredentialsTest, SupervisorClearsAThrottle) {
  std::string alice = AddPerson("alice");
  std::string bob = AddPerson("bob-seller");
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  v1::ClearLoginThrottleRequest req;
  req.set_subject(alice);
  v1::ClearLoginThrottleResponse resp;
  EXPECT_EQ(stub_->ClearLoginThrottle(Ctx(TokenOf(bob, kPassword)).get(), req, &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->ClearLoginThrottle(Ctx(Supervisor()).get(), req, &resp).ok());
  EXPECT_EQ(resp.cleared_failures(), 5);
  EXPECT_TRUE(Login(alice, kPassword).ok());
}

TEST_F(CredentialsTest, FailuresAreForgottenAfterAQuietDay) {
  std::string alice = AddPerson("alice");
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  clock_.Advance(LoginThrottlePolicy().forget_after);
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  EXPECT_EQ(Login(alice, kWrong).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(CredentialsTest, OneAddressGuessingAtManySubjectsIsThrottled) {
  for (int s = 0; s < 5; ++s) {
    std::string name = AddPerson(absl::StrCat("person-", s));
    for (int i = 0; i < 4; ++i) ASSERT_FALSE(Login(name, kWrong).ok());
  }
  std::string fresh = AddPerson("untouched");
  EXPECT_EQ(Login(fresh, kPassword).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(CredentialsTest, FiftyGuessesTakeAtLeastTheSumOfTheBackoffs) {
  std::string alice = AddPerson("alice");
  absl::Time start = clock_.Now();
  int guesses = 0;
  while (guesses < 50) {
    absl::Status s = FromGrpcStatus(Login(alice, kWrong));
    if (s.code() == absl::StatusCode::kResourceExhausted) {
      clock_.Advance(*RetryDelayOf(s));  // the attacker waits exactly as told
    } else {
      ASSERT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
      ++guesses;
    }
  }
  LoginThrottlePolicy policy;
  EXPECT_EQ(policy.MinimumTimeFor(50), absl::Seconds(32523));  // the README's figure
  EXPECT_GE(clock_.Now() - start, policy.MinimumTimeFor(50));
}

TEST_F(CredentialsTest, ConcurrentPasswordChecksAreBounded) {
  std::string alice = AddPerson("alice");
  hasher_->delay_ms = 30;
  hasher_->max_active = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { (void)Login(alice, kPassword); });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(hasher_->max_active.load(), IdentityOptions().max_concurrent_hashes);
}

// ---- audit ----

TEST_F(CredentialsTest, AuditShowsLoginsThrottlingAndPasswordChanges) {
  std::string alice = AddPerson("alice");
  ASSERT_TRUE(Login(alice, kPassword).ok());
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  clock_.Advance(absl::Seconds(1));
  std::string token = TokenOf(alice, kPassword);
  ASSERT_TRUE(ChangePassword(token, alice, kPassword, "a brand new passphrase").ok());
  std::vector<v1::AuthEvent> events = Events(Supervisor(), alice);
  EXPECT_TRUE(HasEvent(events, v1::AuthEvent::LOGIN_SUCCEEDED, alice));
  EXPECT_TRUE(HasEvent(events, v1::AuthEvent::LOGIN_FAILED, alice));
  EXPECT_TRUE(HasEvent(events, v1::AuthEvent::LOGIN_THROTTLED, alice));
  EXPECT_TRUE(HasEvent(events, v1::AuthEvent::PASSWORD_CHANGED, alice));
  for (const auto& e : events) EXPECT_FALSE(absl::StrContains(e.reason(), kWrong));
}

TEST_F(CredentialsTest, AuditNamesTheUnknownSubjectTried) {
  ASSERT_FALSE(Login("subjects/nobody-here", kWrong).ok());
  EXPECT_TRUE(HasEvent(Events(Supervisor(), ""), v1::AuthEvent::LOGIN_FAILED,
                       "subjects/nobody-here"));
}

TEST_F(CredentialsTest, FailedLoginLogLineNamesSubjectAndPeerButNotThePassword) {
  std::string alice = AddPerson("alice");
  ::testing::internal::CaptureStderr();
  ASSERT_FALSE(Login(alice, kWrong).ok());
  std::string log = ::testing::internal::GetCapturedStderr();
  bool found = false;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("msg", "") != "login failed") continue;
    found = true;
    EXPECT_EQ(j.value("subject", ""), alice);
    EXPECT_THAT(j.value("peer", ""), ::testing::HasSubstr("127.0.0.1"));
  }
  EXPECT_TRUE(found) << log;
  EXPECT_FALSE(absl::StrContains(log, kWrong));
}

TEST_F(CredentialsTest, ASubjectSeesOnlyItsOwnEvents) {
  std::string alice = AddPerson("alice");
  std::string bob = AddPerson("bob-seller");
  ASSERT_FALSE(Login(bob, kWrong).ok());
  std::string token = TokenOf(alice, kPassword);
  std::vector<v1::AuthEvent> mine = Events(token, "");
  ASSERT_FALSE(mine.empty());
  for (const auto& e : mine) EXPECT_EQ(e.subject(), alice);
  v1::ListAuthEventsRequest req;
  req.set_subject(bob);
  v1::ListAuthEventsResponse resp;
  EXPECT_EQ(stub_->ListAuthEvents(Ctx(token).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CredentialsTest, AuthEventsArePaginatedNewestFirst) {
  std::string alice = AddPerson("alice");
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(Login(alice, kWrong).ok());
  std::string token = Supervisor();
  v1::ListAuthEventsRequest req;
  req.set_subject(alice);
  req.set_page_size(2);
  v1::ListAuthEventsResponse first, second;
  ASSERT_TRUE(stub_->ListAuthEvents(Ctx(token).get(), req, &first).ok());
  ASSERT_EQ(first.events_size(), 2);
  ASSERT_FALSE(first.next_page_token().empty());
  req.set_page_token(first.next_page_token());
  ASSERT_TRUE(stub_->ListAuthEvents(Ctx(token).get(), req, &second).ok());
  ASSERT_EQ(second.events_size(), 1);
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_GT(first.events(1).name(), second.events(0).name());
}

// ---- credential lifecycle ----

TEST_F(CredentialsTest, BootstrapPasswordMustBeChangedFirst) {
  v1::LoginResponse login;
  ASSERT_TRUE(Login(supervisor_, bootstrap_password_, &login).ok());
  EXPECT_TRUE(login.password_change_required());
  const std::string& token = login.access_token();
  EXPECT_TRUE(WhoAmI(token).ok());
  grpc::Status refused = ListSubjects(token);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(refused)), "PASSWORD_CHANGE_REQUIRED");
  v1::ChangePasswordResponse changed;
  ASSERT_TRUE(
      ChangePassword(token, supervisor_, bootstrap_password_, kSupervisorPassword, &changed).ok());
  EXPECT_FALSE(std::filesystem::exists(bootstrap_file_));
  EXPECT_TRUE(ListSubjects(changed.access_token()).ok());
  EXPECT_EQ(Login(supervisor_, bootstrap_password_).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::LoginResponse again;
  ASSERT_TRUE(Login(supervisor_, kSupervisorPassword, &again).ok());
  EXPECT_FALSE(again.password_change_required());
}

TEST_F(CredentialsTest, TokensIssuedBeforeAPasswordChangeAreRefused) {
  std::string alice = AddPerson("alice");
  std::string old_token = TokenOf(alice, kPassword);
  clock_.Advance(absl::Seconds(2));
  v1::ChangePasswordResponse changed;
  ASSERT_TRUE(ChangePassword(old_token, alice, kPassword, "a brand new passphrase", &changed).ok());
  EXPECT_EQ(WhoAmI(old_token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(WhoAmI(changed.access_token()).ok());
}

TEST_F(CredentialsTest, ChangePasswordWithAWrongOldPasswordIsRefused) {
  std::string alice = AddPerson("alice");
  std::string token = TokenOf(alice, kPassword);
  EXPECT_EQ(ChangePassword(token, alice, kWrong, "a brand new passphrase").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Login(alice, kPassword).ok());
}

TEST_F(CredentialsTest, SupervisorResetForcesAChangeAndEndsOldTokens) {
  std::string alice = AddPerson("alice");
  std::string old_token = TokenOf(alice, kPassword);
  clock_.Advance(absl::Seconds(2));
  v1::ResetPasswordRequest req;
  req.set_name(alice);
  req.set_new_password("one-time passphrase");
  v1::Subject out;
  ASSERT_TRUE(stub_->ResetPassword(Ctx(Supervisor()).get(), req, &out).ok());
  EXPECT_TRUE(out.password_change_required());
  EXPECT_EQ(WhoAmI(old_token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::LoginResponse login;
  ASSERT_TRUE(Login(alice, "one-time passphrase", &login).ok());
  EXPECT_TRUE(login.password_change_required());
  EXPECT_EQ(ListSubjects(login.access_token()).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(HasEvent(Events(Supervisor(), alice), v1::AuthEvent::PASSWORD_RESET, alice));
}

TEST_F(CredentialsTest, TokensIssuedBeforeASuspensionStayRefusedAfterReinstatement) {
  std::string alice = AddPerson("alice");
  std::string old_token = TokenOf(alice, kPassword);
  clock_.Advance(absl::Seconds(2));
  v1::SuspendSubjectRequest suspend;
  suspend.set_name(alice);
  suspend.set_reason("investigation");
  v1::Subject out;
  ASSERT_TRUE(stub_->SuspendSubject(Ctx(Supervisor()).get(), suspend, &out).ok());
  v1::ReinstateSubjectRequest reinstate;
  reinstate.set_name(alice);
  ASSERT_TRUE(stub_->ReinstateSubject(Ctx(Supervisor()).get(), reinstate, &out).ok());
  EXPECT_EQ(WhoAmI(old_token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(WhoAmI(TokenOf(alice, kPassword)).ok());
  EXPECT_TRUE(HasEvent(Events(Supervisor(), alice), v1::AuthEvent::SUBJECT_SUSPENDED, alice));
}

TEST_F(CredentialsTest, ServiceCallersSeeWhatAuthorizersNeed) {
  std::string svc = AddSubject("svc-credit", common::v1::SERVICE);
  v1::GetSubjectRequest req;
  req.set_name(supervisor_);
  v1::Subject out;
  ASSERT_TRUE(stub_->GetSubject(Ctx(svc).get(), req, &out).ok());
  EXPECT_TRUE(out.password_change_required());
  std::string alice = AddPerson("alice");
  ASSERT_TRUE(stub_->GetSubject(Ctx(TokenOf(alice, kPassword)).get(), req, &out).ok());
  EXPECT_FALSE(out.password_change_required());
}

}  // namespace
}  // namespace market::identity
