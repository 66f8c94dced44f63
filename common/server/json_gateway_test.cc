// The HTTP/JSON gateway of every ServerRunner, driven by a plain HTTP client
// against a real runner on loopback. The services behind it are small fakes of
// the project's own protos whose replies describe what they received (the
// metadata, the stream), so each test checks what the gateway sends and maps.
#include "common/server/json_gateway.h"

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/server/runner.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "market/identity/v1/identity.grpc.pb.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace market::server {
namespace {

namespace identity = ::market::identity::v1;
namespace listing = ::market::listing::v1;
using ::testing::HasSubstr;

std::string Metadata(const grpc::ServerContext& ctx, const std::string& key) {
  auto it = ctx.client_metadata().find(key);
  return it == ctx.client_metadata().end() ? "" : std::string(it->second.data(), it->second.size());
}

// WhoAmI echoes the authorization metadata as the subject; Login fails with
// the code named by `subject` ("3" → INVALID_ARGUMENT naming `subject`);
// GetSubject waits for its deadline.
class FakeIdentity final : public identity::IdentityService::Service {
 public:
  grpc::Status WhoAmI(grpc::ServerContext* ctx, const identity::WhoAmIRequest*,
                      identity::WhoAmIResponse* resp) override {
    resp->set_subject(Metadata(*ctx, "authorization"));
    resp->set_display_name("东城");
    resp->add_roles(common::v1::Role::SELLER);
    return grpc::Status::OK;
  }
  grpc::Status Login(grpc::ServerContext*, const identity::LoginRequest* req,
                     identity::LoginResponse*) override {
    int code = std::stoi(req->subject());
    if (code == 3) return ToGrpcStatus(InvalidField("subject", "no such subject"));
    return grpc::Status(static_cast<grpc::StatusCode>(code), "as asked");
  }
  grpc::Status GetSubject(grpc::ServerContext* ctx, const identity::GetSubjectRequest*,
                          identity::Subject*) override {
    for (int i = 0; i < 500 && !ctx->IsCancelled(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "waited");
  }
};

// UploadPhoto answers with what the stream held: sha256 = the number of
// messages, content_type = "<first content_type>|<first listing>",
// size_bytes = the bytes of `data` in all.
class FakeListing final : public listing::ListingService::Service {
 public:
  grpc::Status UploadPhoto(grpc::ServerContext*, grpc::ServerReader<listing::UploadPhotoRequest>* r,
                           listing::Photo* resp) override {
    listing::UploadPhotoRequest msg;
    int n = 0;
    int64_t bytes = 0;
    while (r->Read(&msg)) {
      if (n == 0) resp->set_content_type(absl::StrCat(msg.content_type(), "|", msg.listing()));
      ++n;
      bytes += msg.data().size();
    }
    resp->set_sha256(std::to_string(n));
    resp->set_size_bytes(bytes);
    return grpc::Status::OK;
  }
};

class JsonGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.service = "json-gateway-test";
    options.listen = "127.0.0.1:0";
    options.http_listen = "127.0.0.1:0";
    runner_ = std::make_unique<ServerRunner>(options, nullptr);
    runner_->AddService(&identity_, "market.identity.v1.IdentityService");
    runner_->AddService(&listing_, "market.listing.v1.ListingService");
    ASSERT_TRUE(runner_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", runner_->http_port());
    client_->set_read_timeout(30, 0);
  }

  httplib::Result Post(const std::string& path, const std::string& body,
                       httplib::Headers headers = {},
                       const std::string& content_type = "application/json") {
    return client_->Post(path.c_str(), headers, body, content_type.c_str());
  }
  static nlohmann::json Json(const httplib::Result& r) {
    return nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  }

  FakeIdentity identity_;
  FakeListing listing_;
  std::unique_ptr<ServerRunner> runner_;
  std::unique_ptr<httplib::Client> client_;
};

constexpr char kWhoAmI[] = "/market.identity.v1.IdentityService/WhoAmI";
constexpr char kLogin[] = "/market.identity.v1.IdentityService/Login";
constexpr char kUpload[] = "/market.listing.v1.ListingService/UploadPhoto";

TEST(HttpStatusOfTest, MapsEveryCodeAsGrpcGatewayDoes) {
  const std::pair<grpc::StatusCode, int> table[] = {
      {grpc::StatusCode::OK, 200},
      {grpc::StatusCode::CANCELLED, 499},
      {grpc::StatusCode::UNKNOWN, 500},
      {grpc::StatusCode::INVALID_ARGUMENT, 400},
      {grpc::StatusCode::DEADLINE_EXCEEDED, 504},
      {grpc::StatusCode::NOT_FOUND, 404},
      {grpc::StatusCode::ALREADY_EXISTS, 409},
      {grpc::StatusCode::PERMISSION_DENIED, 403},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, 429},
      {grpc::StatusCode::FAILED_PRECONDITION, 400},
      {grpc::StatusCode::ABORTED, 409},
      {grpc::StatusCode::OUT_OF_RANGE, 400},
      {grpc::StatusCode::UNIMPLEMENTED, 501},
      {grpc::StatusCode::INTERNAL, 500},
      {grpc::StatusCode::UNAVAILABLE, 503},
      {grpc::StatusCode::DATA_LOSS, 500},
      {grpc::StatusCode::UNAUTHENTICATED, 401},
  };
  for (const auto& [code, http] : table) EXPECT_EQ(HttpStatusOf(code), http) << code;
}

TEST_F(JsonGatewayTest, UnaryCallAnswersCanonicalJsonAndForwardsAuthorization) {
  auto r = Post(kWhoAmI, "{}", {{"Authorization", "Bearer abc"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(r->body, R"({"subject":"Bearer abc","roles":["SELLER"],"displayName":"东城"})");
}

TEST_F(JsonGatewayTest, EmptyBodyIsTheEmptyRequest) {
  auto r = Post(kWhoAmI, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(JsonGatewayTest, ErrorIsStatusJsonWithTheTrailerDetails) {
  auto r = Post(kLogin, R"({"subject":"3"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  nlohmann::json j = Json(r);
  EXPECT_EQ(j["code"], 3);
  EXPECT_EQ(j["message"], "subject: no such subject");
  ASSERT_EQ(j["details"].size(), 1u);
  EXPECT_EQ(j["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
  EXPECT_EQ(j["details"][0]["fieldViolations"][0]["field"], "subject");
}

TEST_F(JsonGatewayTest, EachCodeGetsItsHttpStatus) {
  for (int code : {5, 7, 9, 10, 14, 16}) {
    auto r = Post(kLogin, absl::StrCat(R"({"subject":")", code, R"("})"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, HttpStatusOf(static_cast<grpc::StatusCode>(code))) << code;
    EXPECT_EQ(Json(r)["code"], code);
    EXPECT_EQ(Json(r)["message"], "as asked");
  }
}

TEST_F(JsonGatewayTest, UnknownFieldIsInvalidArgumentNamingIt) {
  auto r = Post("/market.identity.v1.IdentityService/CreateSubject",
                R"({"subject":{"displayName":"x","colour":"red"}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  nlohmann::json j = Json(r);
  EXPECT_EQ(j["code"], 3);
  EXPECT_EQ(j["details"][0]["fieldViolations"][0]["field"], "subject.colour");
}

TEST_F(JsonGatewayTest, MalformedJsonIsInvalidArgument) {
  auto r = Post(kWhoAmI, "{not json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json(r)["code"], 3);
  EXPECT_THAT(Json(r)["message"].get<std::string>(), HasSubstr("body"));
}

TEST_F(JsonGatewayTest, OversizedJsonBodyIs413WithStatus) {
  std::string big = absl::StrCat(R"({"subject":")", std::string(JsonGatewayOptions{}.max_json_bytes, 'a'), R"("})");
  auto r = Post(kLogin, big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Json(r)["code"], 8);
}

TEST_F(JsonGatewayTest, BodyBeyondTheServerLimitIs413WithStatus) {
  std::string huge(JsonGatewayOptions{}.max_raw_bytes + 1, 'a');
  auto r = Post(kUpload, huge, {}, "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Json(r)["code"], 8);
}

TEST_F(JsonGatewayTest, UnknownServiceOrMethodIs404WithStatus) {
  for (const char* path : {"/market.identity.v1.IdentityService/Nope", "/nothing/here", "/x"}) {
    auto r = Post(path, "{}");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(Json(r)["code"], 5) << path;
  }
}

TEST_F(JsonGatewayTest, GetOnAnRpcPathIs405) {
  auto r = client_->Get(kWhoAmI);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  EXPECT_EQ(Json(r)["code"], 12);
}

TEST_F(JsonGatewayTest, NonJsonContentTypeIs415) {
  auto r = Post(kWhoAmI, "{}", {}, "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(Json(r)["code"], 3);
}

TEST_F(JsonGatewayTest, ConnectTimeoutBecomesTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  auto r = Post("/market.identity.v1.IdentityService/GetSubject", "{}",
                {{"Connect-Timeout-Ms", "100"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  EXPECT_EQ(Json(r)["code"], 4);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(JsonGatewayTest, BadTimeoutOrAuthorizationHeaderIsInvalidArgument) {
  auto r = Post(kWhoAmI, "{}", {{"Connect-Timeout-Ms", "soon"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json(r)["details"][0]["fieldViolations"][0]["field"], "Connect-Timeout-Ms");
  r = Post(kWhoAmI, "{}", {{"Authorization", "Bearer \xe4\xb8\x9c"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json(r)["details"][0]["fieldViolations"][0]["field"], "Authorization");
}

TEST_F(JsonGatewayTest, RawUploadIsCutIntoChunksWithHeaderFieldsFromQueryAndContentType) {
  std::string bytes((5 << 20) / 2, 'x');  // 2.5 MiB: three 1 MiB chunks
  auto r = Post(std::string(kUpload) + "?listing=markets/m/listings/l", bytes, {}, "image/png");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  nlohmann::json j = Json(r);
  EXPECT_EQ(j["sha256"], "3");
  EXPECT_EQ(j["contentType"], "image/png|markets/m/listings/l");
  EXPECT_EQ(j["sizeBytes"], std::to_string(bytes.size()));  // int64 is a JSON string
}

TEST_F(JsonGatewayTest, RawUploadRefusesAnUnknownQueryField) {
  auto r = Post(std::string(kUpload) + "?colour=red", "abc", {}, "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json(r)["details"][0]["fieldViolations"][0]["field"], "colour");
}

TEST_F(JsonGatewayTest, ClientStreamingTakesAJsonArray) {
  auto r = Post(kUpload, R"([{"contentType":"image/webp","data":"YWJj"},{"data":"ZGVm"}])");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json(r)["sha256"], "2");
  EXPECT_EQ(Json(r)["sizeBytes"], "6");
  r = Post(kUpload, R"({"contentType":"image/webp"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(JsonGatewayTest, BidiStreamingAnswersAJsonArray) {
  auto r = Post("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                R"([{"listServices":""},{"fileContainingSymbol":"no.such.Symbol"}])");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  nlohmann::json j = Json(r);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_THAT(j[0].dump(), HasSubstr("market.identity.v1.IdentityService"));
  EXPECT_EQ(j[1]["errorResponse"]["errorCode"], 5);
}

TEST_F(JsonGatewayTest, ServesEveryRegisteredServiceAndNoOther) {
  JsonGateway gateway({"market.identity.v1.IdentityService", "no.such.Service"},
                      runner_->InProcessChannel());
  EXPECT_EQ(gateway.services(), std::vector<std::string>{"market.identity.v1.IdentityService"});
}

}  // namespace
}  // namespace market::server
