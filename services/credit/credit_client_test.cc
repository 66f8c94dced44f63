// CreditClient against a real gRPC server on loopback whose GetCreditProfile
// answers from a small table.
#include "services/credit/credit_client.h"

#include <algorithm>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/server/runner.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"

namespace market::credit {
namespace {

using ::market::testing::StatusIs;

// subjects/black is blacklisted by record 7, subjects/unknown is NOT_FOUND,
// subjects/broken fails; anyone else is on no list. Each call waits (up to
// 10 s) until `wait_for` calls are in flight at once.
class ProfileCredit final : public v1::CreditService::Service {
 public:
  explicit ProfileCredit(int wait_for) : wait_for_(wait_for) {}

  grpc::Status GetCreditProfile(grpc::ServerContext*, const v1::GetCreditProfileRequest* req,
                                v1::CreditProfile* resp) override {
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
      most_in_flight_ = std::max(most_in_flight_, in_flight_);
      auto enough = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return most_in_flight_ >= wait_for_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
      --in_flight_;
    }
    if (req->name() == "subjects/unknown/creditProfile") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such subject");
    }
    if (req->name() == "subjects/broken/creditProfile") {
      return grpc::Status(grpc::StatusCode::INTERNAL, "disk on fire");
    }
    if (req->name() == "subjects/black/creditProfile") {
      resp->set_blacklisted(true);
      resp->set_blacklist_record("ledgers/main/records/7");
    }
    return grpc::Status::OK;
  }

  int most_in_flight() {
    absl::MutexLock lock(&mu_);
    return most_in_flight_;
  }

 private:
  const int wait_for_;
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int most_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

class CreditStandingsTest : public ::testing::Test {
 protected:
  // Serves `service` and connects client_ to it.
  void Serve(ProfileCredit* service) {
    runner_ = std::make_unique<server::ServerRunner>(
        server::ServerOptions{.listen = "127.0.0.1:0", .http_listen = ""}, nullptr);
    runner_->AddService(service, "market.credit.v1.CreditService");
    ASSERT_OK(runner_->Start());
    client_ = std::make_unique<CreditClient>(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", runner_->grpc_port()),
                            grpc::InsecureChannelCredentials()),
        [] { return absl::StatusOr<std::string>("token"); });
  }

  std::unique_ptr<server::ServerRunner> runner_;
  std::unique_ptr<CreditClient> client_;
};

TEST_F(CreditStandingsTest, StandingsAsksEverySubjectAtOnce) {
  ProfileCredit credit(/*wait_for=*/2);
  Serve(&credit);
  std::vector<absl::StatusOr<ledger::CreditStanding>> got =
      client_->Standings({"subjects/black", "subjects/plain"});
  EXPECT_EQ(credit.most_in_flight(), 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_OK(got[0].status());
  EXPECT_EQ(got[0]->subject, "subjects/black");
  EXPECT_TRUE(got[0]->blacklisted);
  EXPECT_EQ(got[0]->blacklist_record, "ledgers/main/records/7");
  ASSERT_OK(got[1].status());
  EXPECT_EQ(got[1]->subject, "subjects/plain");
  EXPECT_FALSE(got[1]->blacklisted);
}

TEST_F(CreditStandingsTest, StandingsMapsEachAnswerAsStandingDoes) {
  ProfileCredit credit(/*wait_for=*/1);
  Serve(&credit);
  std::vector<absl::StatusOr<ledger::CreditStanding>> got =
      client_->Standings({"subjects/unknown", "subjects/broken"});
  ASSERT_EQ(got.size(), 2u);
  ASSERT_OK(got[0].status());  // unknown to credit: on no list
  EXPECT_FALSE(got[0]->blacklisted);
  EXPECT_THAT(got[1], StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(client_->Standing("subjects/broken"), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(ledger::CreditStanding unknown, client_->Standing("subjects/unknown"));
  EXPECT_FALSE(unknown.blacklisted);
}

}  // namespace
}  // namespace market::credit
