// marketd in-process: what an operator sees of it (the bootstrap log line,
// /metrics, gRPC reflection v1).
#include "services/marketd/marketd.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/clock/clock.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace market::marketd {
namespace {

using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

class MarketdTest : public ::testing::Test {
 protected:
  // Starts marketd on free ports; returns what it logged while starting.
  std::string Start() {
    MarketdOptions options;
    options.data_dir = dir_.path() + "/var";
    options.server.listen = "127.0.0.1:0";
    options.server.http_listen = "127.0.0.1:0";
    ::testing::internal::CaptureStderr();
    auto started = Marketd::Start(options, RealClock());
    std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_OK(started.status());
    if (started.ok()) marketd_ = std::move(*started);
    return log;
  }

  // The log lines (JSON objects) whose msg is `msg`.
  static std::vector<nlohmann::json> LogLines(const std::string& log, const std::string& msg) {
    std::vector<nlohmann::json> lines;
    for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.value("msg", "") == msg) lines.push_back(j);
    }
    return lines;
  }

  sqlite::testing::ScopedTempDir dir_;
  std::unique_ptr<Marketd> marketd_;
};

TEST_F(MarketdTest, BootstrapNoticeIsOneJsonLogLineWithoutThePassword) {
  std::string log = Start();
  ASSERT_NE(marketd_, nullptr);
  const std::string path = dir_.path() + "/var/bootstrap-admin.json";
  EXPECT_EQ(marketd_->bootstrap_file(), path);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json file = nlohmann::json::parse(text.str());
  const std::string password = file.at("password").get<std::string>();
  ASSERT_FALSE(password.empty());

  auto lines = LogLines(log, "bootstrap supervisor credentials written");
  ASSERT_EQ(lines.size(), 1u) << log;
  EXPECT_EQ(lines[0].value("level", ""), "warn");
  EXPECT_EQ(lines[0].value("path", ""), path);
  EXPECT_EQ(lines[0].value("subject", ""), file.at("subject").get<std::string>());
  EXPECT_FALSE(lines[0].contains("password"));
  EXPECT_THAT(log, Not(HasSubstr(password)));

  // A restart on the same data dir bootstraps nothing and says nothing of it.
  marketd_->Shutdown();
  marketd_.reset();
  log = Start();
  ASSERT_NE(marketd_, nullptr);
  EXPECT_EQ(marketd_->bootstrap_file(), "");
  EXPECT_TRUE(LogLines(log, "bootstrap supervisor credentials written").empty()) << log;
}

TEST_F(MarketdTest, EveryMetricIsMarketPrefixedButTheProcessOnes) {
  Start();
  ASSERT_NE(marketd_, nullptr);
  httplib::Client client("127.0.0.1", marketd_->http_port());
  auto scraped = client.Get("/metrics");
  ASSERT_TRUE(scraped);
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(scraped->body, '\n', absl::SkipEmpty())) {
    if (line.front() == '#') continue;
    std::string name(line.substr(0, line.find_first_of("{ ")));
    EXPECT_TRUE(absl::StartsWith(name, "market_") || absl::StartsWith(name, "process_")) << name;
    names.push_back(name);
  }
  EXPECT_THAT(names, IsSupersetOf({"market_listing_outbox_depth",
                                   "market_warranty_outbox_oldest_age_seconds", "market_build_info",
                                   "process_open_fds", "process_start_time_seconds"}));
  EXPECT_THAT(scraped->body, HasSubstr("\",service=\"marketd\"} 1\n"));
}

TEST_F(MarketdTest, HttpPortAnswersCertificateVerifyUrls) {
  Start();
  ASSERT_NE(marketd_, nullptr);
  httplib::Client client("127.0.0.1", marketd_->http_port());
  // The route asks the appraisal service over the in-process channel.
  auto unknown = client.Get("/verify?report=appraisals/none&sha256=" + std::string(64, 'a'));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_THAT(unknown->body, HasSubstr("未找到该鉴定报告"));
  auto bad = client.Get("/verify?report=none&sha256=" + std::string(64, 'a'));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(MarketdTest, ReflectionV1ListsEveryService) {
  Start();
  ASSERT_NE(marketd_, nullptr);
  auto stub = grpc::reflection::v1::ServerReflection::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", marketd_->grpc_port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  std::vector<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(
      names,
      IsSupersetOf({"market.identity.v1.IdentityService", "market.credit.v1.CreditService",
                    "market.credit.v1.LedgerService", "market.listing.v1.MarketService",
                    "market.listing.v1.ListingService", "market.listing.v1.OrderService",
                    "market.listing.v1.ItemService", "market.appraisal.v1.AppraisalService",
                    "market.warranty.v1.WarrantyService", "grpc.reflection.v1.ServerReflection",
                    "grpc.reflection.v1alpha.ServerReflection"}));
}

}  // namespace
}  // namespace market::marketd
