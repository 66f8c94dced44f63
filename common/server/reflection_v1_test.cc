#include "common/server/reflection_v1.h"

#include <memory>
#include <string>
#include <vector>

#include "common/server/runner.h"
#include "common/status/status_matchers.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "market/listing/v1/listing.grpc.pb.h"

namespace market::server {
namespace {

namespace v1 = ::grpc::reflection::v1;
using ::testing::Contains;
using ::testing::UnorderedElementsAreArray;

// A real server on loopback serving ListingService (every method
// UNIMPLEMENTED: reflection only needs its descriptor), talked to by a
// grpc.reflection.v1 client stub.
class ReflectionV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_ = std::make_unique<ServerRunner>(
        ServerOptions{.listen = "127.0.0.1:0", .http_listen = ""}, nullptr);
    runner_->AddService(&listing_, "market.listing.v1.ListingService");
    ASSERT_OK(runner_->Start());
    stub_ = v1::ServerReflection::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", runner_->grpc_port()), grpc::InsecureChannelCredentials()));
  }

  // Sends `requests` on one stream; returns the answers in order.
  std::vector<v1::ServerReflectionResponse> Ask(
      const std::vector<v1::ServerReflectionRequest>& requests) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub_->ServerReflectionInfo(&ctx);
    std::vector<v1::ServerReflectionResponse> responses;
    for (const auto& request : requests) {
      EXPECT_TRUE(stream->Write(request));
      v1::ServerReflectionResponse response;
      EXPECT_TRUE(stream->Read(&response));
      responses.push_back(response);
    }
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    return responses;
  }

  v1::ServerReflectionResponse AskOne(const v1::ServerReflectionRequest& request) {
    auto responses = Ask({request});
    return responses.empty() ? v1::ServerReflectionResponse() : responses[0];
  }

  static std::vector<google::protobuf::FileDescriptorProto> Files(
      const v1::ServerReflectionResponse& response) {
    std::vector<google::protobuf::FileDescriptorProto> files;
    for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
      files.emplace_back();
      EXPECT_TRUE(files.back().ParseFromString(bytes));
    }
    return files;
  }

  market::listing::v1::ListingService::Service listing_;
  std::unique_ptr<ServerRunner> runner_;
  std::unique_ptr<v1::ServerReflection::Stub> stub_;
};

TEST_F(ReflectionV1Test, ListServicesNamesRegisteredServicesAndBothReflections) {
  v1::ServerReflectionRequest request;
  request.set_list_services("");
  v1::ServerReflectionResponse response = AskOne(request);
  ASSERT_TRUE(response.has_list_services_response()) << response.DebugString();
  std::vector<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  EXPECT_THAT(names, UnorderedElementsAreArray(std::vector<std::string>{
                         "market.listing.v1.ListingService", "grpc.reflection.v1.ServerReflection",
                         "grpc.reflection.v1alpha.ServerReflection", "grpc.health.v1.Health"}));
  EXPECT_TRUE(response.original_request().has_list_services());
}

TEST_F(ReflectionV1Test, FileContainingServiceHasItsMethodsAndDependencies) {
  v1::ServerReflectionRequest request;
  request.set_host("example");
  request.set_file_containing_symbol("market.listing.v1.ListingService");
  v1::ServerReflectionResponse response = AskOne(request);
  EXPECT_EQ(response.valid_host(), "example");
  auto files = Files(response);
  ASSERT_FALSE(files.empty()) << response.DebugString();
  const google::protobuf::FileDescriptorProto& first = files[0];
  EXPECT_EQ(first.name(), "market/listing/v1/listing.proto");
  EXPECT_EQ(first.package(), "market.listing.v1");
  std::vector<std::string> methods;
  for (const auto& service : first.service()) {
    if (service.name() != "ListingService") continue;
    for (const auto& m : service.method()) methods.push_back(m.name());
  }
  EXPECT_THAT(methods, Contains("SearchListings"));
  // Every import is sent too, each once, so a client can build the pool.
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.name());
  for (const std::string& dep : first.dependency()) EXPECT_THAT(names, Contains(dep));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST_F(ReflectionV1Test, FileByFilenameAndMethodSymbolFindTheFile) {
  v1::ServerReflectionRequest by_name;
  by_name.set_file_by_filename("market/listing/v1/listing.proto");
  v1::ServerReflectionRequest by_method;
  by_method.set_file_containing_symbol("market.listing.v1.ListingService.SearchListings");
  auto responses = Ask({by_name, by_method});
  ASSERT_EQ(responses.size(), 2u);
  for (const auto& response : responses) {
    auto files = Files(response);
    ASSERT_FALSE(files.empty()) << response.DebugString();
    EXPECT_EQ(files[0].name(), "market/listing/v1/listing.proto");
  }
}

TEST_F(ReflectionV1Test, UnknownNamesGetNotFoundAndTheStreamGoesOn) {
  v1::ServerReflectionRequest symbol;
  symbol.set_file_containing_symbol("no.such.Service");
  v1::ServerReflectionRequest file;
  file.set_file_by_filename("no/such.proto");
  v1::ServerReflectionRequest extension;
  extension.mutable_file_containing_extension()->set_containing_type(
      "google.protobuf.MessageOptions");
  extension.mutable_file_containing_extension()->set_extension_number(99999);
  v1::ServerReflectionRequest numbers;
  numbers.set_all_extension_numbers_of_type("no.such.Type");
  v1::ServerReflectionRequest list;
  list.set_list_services("*");
  auto responses = Ask({symbol, file, extension, numbers, list});
  ASSERT_EQ(responses.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(responses[i].has_error_response()) << responses[i].DebugString();
    EXPECT_EQ(responses[i].error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(responses[0].error_response().error_message(),
            "file_containing_symbol: no.such.Service not found");
  EXPECT_TRUE(responses[4].has_list_services_response());
}

TEST_F(ReflectionV1Test, EmptyRequestIsInvalidArgument) {
  v1::ServerReflectionResponse response = AskOne(v1::ServerReflectionRequest());
  ASSERT_TRUE(response.has_error_response());
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReflectionV1Test, AllExtensionNumbersOfAKnownTypeNameTheType) {
  v1::ServerReflectionRequest request;
  request.set_all_extension_numbers_of_type("market.listing.v1.Listing");
  v1::ServerReflectionResponse response = AskOne(request);
  ASSERT_TRUE(response.has_all_extension_numbers_response()) << response.DebugString();
  EXPECT_EQ(response.all_extension_numbers_response().base_type_name(),
            "market.listing.v1.Listing");
  EXPECT_EQ(response.all_extension_numbers_response().extension_number_size(), 0);
}

}  // namespace
}  // namespace market::server
