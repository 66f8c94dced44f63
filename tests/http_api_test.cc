// The HTTP/JSON API of a real marketd on loopback, driven by a plain HTTP
// client (cpp-httplib): every method of every service marketd registers
// (found through gRPC reflection, so services added later are covered), the
// organiser's steps with a photo, GET /photos/…, and responses compared with
// the same call over gRPC after canonical JSON. Also one split binary.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/sqlite/sqlite_testing.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "market/credit/v1/credit.grpc.pb.h"
#include "market/listing/v1/listing.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/marketd/marketd.h"
#include "tests/marketd_testing.h"
#include "tests/process_helpers.h"

namespace market {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// A 1x1 PNG's leading bytes and some more (the store sniffs the signature).
std::string PngBytes(const std::string& salt = "") {
  return std::string("\x89PNG\r\n\x1A\n", 8) + "IHDR-http-api-test" + salt;
}

std::string Canonical(const google::protobuf::Message& m) {
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out).ok());
  return out;
}

class HttpApiTest : public marketd::testing::SharedMarketdTest<HttpApiTest> {
 protected:
  void SetUp() override {
    SharedMarketdTest::SetUp();
    if (HasFatalFailure()) return;
    channel_ = marketd::testing::Channel(*marketd_);
  }

  // The supervisor's token (bootstrap login and first password change, once).
  std::string Supervisor() {
    static std::string* token = nullptr;
    if (token == nullptr) token = new std::string(BootstrapSupervisor());
    return *token;
  }

  // Creates subject `id` with `subject` fields and logs it in; returns the token.
  std::string Subject(const std::string& id, const json& subject) {
    return CreateSubject(Supervisor(), id, subject);
  }

  // A market with one seller and one DRAFT listing carrying one photo
  // (uploaded as raw bytes); sets the members below. Once per suite.
  void Organise() {
    if (!listing_.empty()) return;
    operator_ = Subject("east-op", {{"kind", "ORGANIZATION"},
                                     {"roles", {"OPERATOR"}},
                                     {"displayName", "东城跳蚤市场管理处"},
                                     {"creditCode", "91350100M000100Y43"}});
    seller_ = Subject("seller-li", {{"kind", "PERSON"},
                                     {"roles", {"SELLER"}},
                                     {"displayName", "李四"},
                                     {"idNumber", "11010519491231002X"}});
    Ok("/market.listing.v1.MarketService/CreateMarket",
       {{"market",
         {{"kind", "FLEA_MARKET"},
          {"displayName", "东城社区跳蚤市场"},
          {"regionCode", "350102"},
          {"address", "鼓楼区东街 1 号"}}},
        {"marketId", "east-flea"}},
       operator_);
    Ok("/market.listing.v1.MarketService/AddSeller",
       {{"market", "markets/east-flea"}, {"seller", "subjects/seller-li"}}, operator_);
    std::tie(listing_, sha256_) = DraftWithPhoto("");
  }
  // A new DRAFT listing of seller-li with one photo (PngBytes(salt), uploaded
  // as raw bytes); returns its name and the photo's hash.
  std::pair<std::string, std::string> DraftWithPhoto(const std::string& salt) {
    json listing = Ok(
        "/market.listing.v1.ListingService/CreateListing",
        {{"parent", "markets/east-flea"},
         {"listing",
          {{"category", "APPLIANCE"},
           {"title", "海尔双门冰箱"},
           {"description", "九成新, 功能正常"},
           {"price", {{"amountFen", "120000"}}},
           {"declaredCondition",
            {{"scheme", "general-condition-v1"}, {"version", 1}, {"level", "9成新"}}},
           {"appliance",
            {{"brand", "Haier"}, {"model", "BCD-216"}, {"serialNumber", "SN-1" + salt}}}}}},
        seller_);
    std::string name = listing.value("name", "");
    EXPECT_FALSE(name.empty());
    httplib::Headers headers = {{"Authorization", "Bearer " + seller_}};
    std::string path = "/market.listing.v1.ListingService/UploadPhoto?listing=" + name;
    auto up = http_->Post(path.c_str(), headers, PngBytes(salt), "image/png");
    EXPECT_TRUE(up);
    if (!up) return {};
    EXPECT_EQ(up->status, 200) << up->body;
    json photo = json::parse(up->body, nullptr, false);
    EXPECT_EQ(photo["sha256"], HexEncode(Sha256(PngBytes(salt))));
    EXPECT_EQ(photo["contentType"], "image/png");
    return {name, photo.value("sha256", "")};
  }
  void Publish() {
    Organise();
    if (published_) return;
    Ok("/market.listing.v1.ListingService/PublishListing", {{"name", listing_}}, seller_);
    published_ = true;
  }
  httplib::Result GetPhoto(const std::string& token, const std::string& if_none_match = "",
                           const std::string& sha256 = sha256_) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    if (!if_none_match.empty()) headers.emplace("If-None-Match", if_none_match);
    return http_->Get(("/photos/" + sha256).c_str(), headers);
  }

  static std::string operator_, seller_, listing_, sha256_;
  static bool published_;
  std::shared_ptr<grpc::Channel> channel_;
};

std::string HttpApiTest::operator_, HttpApiTest::seller_, HttpApiTest::listing_,
    HttpApiTest::sha256_;
bool HttpApiTest::published_ = false;

// The services marketd registers, as gRPC reflection lists them.
std::vector<std::string> RegisteredServices(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::reflection::v1::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1::ServerReflectionRequest req;
  req.set_list_services("");
  stream->Write(req);
  stream->WritesDone();
  grpc::reflection::v1::ServerReflectionResponse resp;
  std::vector<std::string> names;
  while (stream->Read(&resp)) {
    for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
  }
  EXPECT_TRUE(stream->Finish().ok());
  return names;
}

// Every method of every registered service answers a generic `{}` call, as
// anonymous and as the supervisor, with a success or a google.rpc.Status whose
// HTTP status matches its code, and never with INTERNAL or UNKNOWN.
TEST_F(HttpApiTest, EveryMethodOfEveryRegisteredServiceAnswersWithoutInternalErrors) {
  std::string supervisor = Supervisor();
  int methods = 0;
  std::vector<std::string> services = RegisteredServices(channel_);
  EXPECT_THAT(services, ::testing::IsSupersetOf({"market.identity.v1.IdentityService",
                                                 "market.listing.v1.ListingService",
                                                 "market.credit.v1.LedgerService"}));
  for (const std::string& service_name : services) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    // Every project service is known; gRPC's own (reflection v1alpha) may not
    // be linked into this test, and the gateway serves only what it knows.
    if (service == nullptr && service_name.rfind("market.", 0) != 0) continue;
    ASSERT_NE(service, nullptr) << service_name;
    for (int i = 0; i < service->method_count(); ++i) {
      std::string path = absl::StrCat("/", service_name, "/", service->method(i)->name());
      ++methods;
      for (const std::string& token : {std::string(), supervisor}) {
        auto r = Rpc(path, json::object(), token);
        ASSERT_TRUE(r) << path;
        std::string who = token.empty() ? "anonymous" : "supervisor";
        EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << path;
        json body = json::parse(r->body, nullptr, false);
        ASSERT_FALSE(body.is_discarded()) << path << " " << who << ": " << r->body;
        if (r->status == 200) continue;
        ASSERT_TRUE(body.contains("code")) << path << " " << who << ": " << r->body;
        int code = body["code"];
        EXPECT_NE(code, 13) << path << " " << who << ": " << r->body;  // INTERNAL
        EXPECT_NE(code, 2) << path << " " << who << ": " << r->body;   // UNKNOWN
        EXPECT_LT(r->status, 500) << path << " " << who << ": " << r->body;
        EXPECT_TRUE(body["message"].is_string()) << path;
      }
    }
  }
  EXPECT_GE(methods, 80) << "fewer methods than the protos declare";
}

TEST_F(HttpApiTest, AnonymousProtectedCallIs401AndWrongRoleIs403) {
  auto r = Rpc("/market.identity.v1.IdentityService/ListSubjects", json::object());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["code"], 16);
  Organise();
  r = Rpc("/market.identity.v1.IdentityService/SuspendSubject",
          {{"name", "subjects/east-op"}, {"reason", "test"}}, seller_);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(json::parse(r->body)["code"], 7);
}

TEST_F(HttpApiTest, ValidationErrorCarriesTheBadRequestDetail) {
  auto r = Rpc("/market.listing.v1.ListingService/SearchListings",
               {{"parent", "markets/-"}, {"filter", "colour=red"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  json body = json::parse(r->body);
  EXPECT_EQ(body["code"], 3);
  EXPECT_EQ(body["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
  EXPECT_EQ(body["details"][0]["fieldViolations"][0]["field"], "filter");
}

TEST_F(HttpApiTest, GetListingMatchesGrpcByteForByteAndCarriesPhotoUrls) {
  Publish();
  auto stub = listing::v1::ListingService::NewStub(channel_);
  grpc::ClientContext ctx;
  listing::v1::GetListingRequest req;
  req.set_name(listing_);
  listing::v1::Listing viaGrpc;
  ASSERT_TRUE(stub->GetListing(&ctx, req, &viaGrpc).ok());
  auto r = Rpc("/market.listing.v1.ListingService/GetListing", {{"name", listing_}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, Canonical(viaGrpc));
  json body = json::parse(r->body);
  EXPECT_EQ(body["photoUrls"], json::array({"/photos/" + sha256_}));
  EXPECT_EQ(body["photos"][0]["sha256"], sha256_);
}

TEST_F(HttpApiTest, SearchListingsMatchesGrpcByteForByte) {
  Publish();
  auto stub = listing::v1::ListingService::NewStub(channel_);
  grpc::ClientContext ctx;
  listing::v1::SearchListingsRequest req;
  req.set_parent("markets/-");
  req.set_query("冰箱");
  listing::v1::SearchListingsResponse viaGrpc;
  ASSERT_TRUE(stub->SearchListings(&ctx, req, &viaGrpc).ok());
  ASSERT_EQ(viaGrpc.listings_size(), 1);
  auto r = Rpc("/market.listing.v1.ListingService/SearchListings",
               {{"parent", "markets/-"}, {"query", "冰箱"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, Canonical(viaGrpc));
}

TEST_F(HttpApiTest, CreditProfileMatchesGrpcByteForByte) {
  Organise();
  auto stub = credit::v1::CreditService::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + seller_);
  credit::v1::GetCreditProfileRequest req;
  req.set_name("subjects/seller-li/creditProfile");
  credit::v1::CreditProfile viaGrpc;
  grpc::Status s = stub->GetCreditProfile(&ctx, req, &viaGrpc);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto r = Rpc("/market.credit.v1.CreditService/GetCreditProfile",
               {{"name", "subjects/seller-li/creditProfile"}}, seller_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  // evaluate_time is the moment of each call; the rest must be the same bytes.
  credit::v1::CreditProfile viaHttp;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &viaHttp).ok());
  EXPECT_EQ(r->body, Canonical(viaHttp));
  EXPECT_TRUE(viaHttp.has_evaluate_time());
  viaHttp.clear_evaluate_time();
  viaGrpc.clear_evaluate_time();
  EXPECT_EQ(Canonical(viaHttp), Canonical(viaGrpc));
}

TEST_F(HttpApiTest, LedgerCheckpointMatchesGrpcByteForByte) {
  Organise();
  auto stub = credit::v1::LedgerService::NewStub(channel_);
  grpc::ClientContext ctx;
  credit::v1::GetCheckpointRequest req;
  credit::v1::Checkpoint viaGrpc;
  grpc::Status s = stub->GetCheckpoint(&ctx, req, &viaGrpc);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto r = Rpc("/market.credit.v1.LedgerService/GetCheckpoint", json::object());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, Canonical(viaGrpc));
}

TEST_F(HttpApiTest, DraftListingPhotoIsServedOnlyToWhoMayReadTheListing) {
  Organise();
  auto [draft, sha256] = DraftWithPhoto("-draft");
  auto anonymous = GetPhoto("", "", sha256);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 404);
  EXPECT_EQ(json::parse(anonymous->body)["code"], 5);
  for (const std::string& token : {seller_, operator_, Supervisor()}) {
    auto r = GetPhoto(token, "", sha256);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, PngBytes("-draft"));
    EXPECT_EQ(r->get_header_value("Cache-Control"), "private, max-age=31536000, immutable");
  }
  std::string buyer = Subject("buyer-zhao", {{"kind", "PERSON"},
                                             {"roles", {"BUYER"}},
                                             {"displayName", "赵六"}});
  auto r = GetPhoto(buyer, "", sha256);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = GetPhoto("not-a-token", "", sha256);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(HttpApiTest, PublishedPhotoIsPublicImmutableWithStrongEtag) {
  Publish();
  auto r = GetPhoto("");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body, PngBytes());
  EXPECT_EQ(r->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(r->get_header_value("ETag"), "\"" + sha256_ + "\"");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  auto again = GetPhoto("", "\"" + sha256_ + "\"");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_EQ(again->body, "");
  auto other = GetPhoto("", "\"0000\"");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST_F(HttpApiTest, UnknownOrMalformedPhotoHashIs404) {
  for (const std::string& path :
       {"/photos/" + std::string(64, 'a'), std::string("/photos/not-a-hash")}) {
    auto r = http_->Get(path.c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(json::parse(r->body)["code"], 5) << path;
  }
}

// A split deployment: market-identity answers its own RPCs on its HTTP port.
TEST(SplitBinaryHttpApiTest, MarketIdentityServesItsRpcsOverHttp) {
  std::string dir = testing::MakeTempDir("http-api-identity");
  ASSERT_FALSE(dir.empty());
  testing::Child child({MARKET_IDENTITY_BIN, "--data-dir", dir + "/var", "--listen",
                        testing::kAnyLoopbackPort, "--http-listen", testing::kAnyLoopbackPort},
                       dir + "/out", dir + "/err");
  auto ports = testing::WaitForServing(child, dir + "/err", 60);
  ASSERT_TRUE(ports.has_value()) << testing::ReadWholeFile(dir + "/err");
  httplib::Client http("127.0.0.1", ports->http);
  auto r = http.Post("/market.identity.v1.IdentityService/WhoAmI", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json::parse(r->body)["code"], 16);
  r = http.Post("/market.identity.v1.IdentityService/GetSigningKeys", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("keys"));
  // Its neighbours' services are not there.
  r = http.Post("/market.listing.v1.ListingService/SearchListings", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  child.Stop(SIGTERM, 10);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace market
