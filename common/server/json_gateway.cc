#include "common/server/json_gateway.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/impl/server_initializer.h"
#include "nlohmann/json.hpp"

namespace market::server {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::MessageFactory;
using ::google::protobuf::MethodDescriptor;
using ::google::protobuf::ServiceDescriptor;

constexpr char kJson[] = "application/json";

grpc::Status ToGrpc(const absl::Status& status) { return ToGrpcStatus(status); }

// INVALID_ARGUMENT naming `field` (a BadRequest violation, like every service's).
grpc::Status BadField(absl::string_view field, absl::string_view description) {
  return ToGrpc(InvalidField(field, description));
}

// A protobuf JSON parse error as INVALID_ARGUMENT; an unknown field is named
// by its path ("listing.fooBar").
grpc::Status JsonParseError(const std::string& what, absl::string_view error) {
  std::string field = what;
  constexpr absl::string_view kUnknown = ": Cannot find field.";
  if (absl::EndsWith(error, kUnknown)) {
    // "name" at the top level, "(parent.path) name" below it.
    absl::string_view rest = error.substr(0, error.size() - kUnknown.size());
    field = std::string(rest);
    if (absl::ConsumePrefix(&rest, "(")) {
      auto close = rest.find(") ");
      if (close != absl::string_view::npos) {
        field = absl::StrCat(rest.substr(0, close), ".", rest.substr(close + 2));
      }
    }
    return BadField(field, absl::StrCat("unknown field in ", what));
  }
  return BadField(field, absl::StrCat("not the request in canonical JSON: ", error));
}

// Parses canonical JSON `json` into a new message of `type`, unknown fields refused.
grpc::Status ParseMessage(const Descriptor* type, const std::string& json, const std::string& what,
                          std::string* serialized) {
  std::unique_ptr<Message> message(MessageFactory::generated_factory()->GetPrototype(type)->New());
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, message.get(), options);
  if (!status.ok()) return JsonParseError(what, status.message().as_string());
  if (!message->SerializeToString(serialized)) {
    return BadField(what, "cannot be serialized (missing required fields)");
  }
  return grpc::Status::OK;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

// Runs `method` (any kind) on `channel`: writes every request and then
// half-closes while reading every response, so a bidi server that answers each
// message before reading the next (over the in-process transport a write
// completes only once the other side reads it) never waits on us. One code
// path for unary and streaming calls, on a completion queue of its own.
grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext* ctx,
                  const std::string& method, const std::vector<std::string>& requests,
                  std::vector<std::string>* responses) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  // Distinct tags for the three kinds of operation in flight.
  void* const kStart = reinterpret_cast<void*>(1);
  void* const kWrite = reinterpret_cast<void*>(2);
  void* const kRead = reinterpret_cast<void*>(3);
  void* const kFinish = reinterpret_cast<void*>(4);
  void* tag = nullptr;
  bool ok = false;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call = stub.PrepareCall(ctx, method, &cq);
  call->StartCall(kStart);
  bool started = cq.Next(&tag, &ok) && ok;
  if (started) {
    size_t next = 0;            // the next request to write; size() = WritesDone sent
    bool writing = true;        // a write (or WritesDone) is in flight
    bool reading = true;        // a read is in flight
    grpc::ByteBuffer buffer;
    if (requests.empty()) {
      call->WritesDone(kWrite);
      next = 1;
    } else {
      call->Write(ToByteBuffer(requests[0]), kWrite);
      next = 1;
    }
    call->Read(&buffer, kRead);
    while ((writing || reading) && cq.Next(&tag, &ok)) {
      if (tag == kWrite) {
        if (ok && next < requests.size()) {
          call->Write(ToByteBuffer(requests[next++]), kWrite);
        } else if (ok && next == requests.size() && !requests.empty()) {
          call->WritesDone(kWrite);
          ++next;
        } else {
          writing = false;
        }
      } else if (tag == kRead) {
        if (ok) {
          responses->push_back(FromByteBuffer(buffer));
          buffer.Clear();
          call->Read(&buffer, kRead);
        } else {
          reading = false;
        }
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, kFinish);
  while (cq.Next(&tag, &ok) && tag != kFinish) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

// Header values that become gRPC metadata: printable ASCII only.
bool ValidMetadataValue(absl::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Fills `ctx` from the request's headers: Authorization → `authorization`,
// Connect-Timeout-Ms → deadline.
grpc::Status PrepareContext(const HttpRequest& request, grpc::ClientContext* ctx) {
  std::string authorization = request.Header("authorization");
  if (!authorization.empty()) {
    if (!ValidMetadataValue(authorization)) {
      return BadField("Authorization", "header holds characters other than printable ASCII");
    }
    ctx->AddMetadata("authorization", authorization);
  }
  std::string timeout = request.Header("connect-timeout-ms");
  if (!timeout.empty()) {
    int64_t ms = 0;
    if (timeout.size() > 10 || !absl::SimpleAtoi(timeout, &ms) || ms <= 0) {
      return BadField("Connect-Timeout-Ms", "want a positive integer of at most 10 digits");
    }
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
  }
  return grpc::Status::OK;
}

bool IsJsonContentType(const std::string& content_type) {
  absl::string_view type = content_type;
  type = type.substr(0, type.find(';'));
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(type), kJson);
}

// The `bytes data` field of a client-streaming method's request, if any.
const FieldDescriptor* RawDataField(const MethodDescriptor* method) {
  if (!method->client_streaming()) return nullptr;
  const FieldDescriptor* data = method->input_type()->FindFieldByName("data");
  if (data == nullptr || data->type() != FieldDescriptor::TYPE_BYTES || data->is_repeated()) {
    return nullptr;
  }
  return data;
}

// The stream of a raw upload: the first message from the query parameters
// (and `content_type` from the header), then the body in chunks.
grpc::Status RawRequests(const MethodDescriptor* method, const HttpRequest& request,
                         size_t chunk_bytes, std::vector<std::string>* out) {
  const Descriptor* type = method->input_type();
  nlohmann::json first = nlohmann::json::object();
  for (const auto& [name, value] : request.query) {
    const FieldDescriptor* field = type->FindFieldByName(name);
    if (field == nullptr) field = type->FindFieldByCamelcaseName(name);
    if (field == nullptr || field->name() == "data" || field->is_repeated() ||
        field->type() == FieldDescriptor::TYPE_MESSAGE) {
      return BadField(name, "not a scalar field of the first message");
    }
    if (field->type() == FieldDescriptor::TYPE_BOOL && (value == "true" || value == "false")) {
      first[field->json_name()] = value == "true";
    } else {
      first[field->json_name()] = value;
    }
  }
  const FieldDescriptor* content_type = type->FindFieldByName("content_type");
  std::string header_type = request.Header("content-type");
  if (content_type != nullptr && content_type->type() == FieldDescriptor::TYPE_STRING &&
      !first.contains(content_type->json_name()) && !header_type.empty() &&
      header_type != "application/octet-stream") {
    first[content_type->json_name()] = header_type.substr(0, header_type.find(';'));
  }
  std::string serialized;
  grpc::Status s = ParseMessage(type, first.dump(), "query", &serialized);
  if (!s.ok()) return s;
  std::unique_ptr<Message> message(MessageFactory::generated_factory()->GetPrototype(type)->New());
  message->ParseFromString(serialized);
  const FieldDescriptor* data = type->FindFieldByName("data");
  size_t offset = 0;
  do {
    size_t n = std::min(chunk_bytes, request.body.size() - offset);
    message->GetReflection()->SetString(message.get(), data, request.body.substr(offset, n));
    out->push_back(message->SerializeAsString());
    message->Clear();
    offset += n;
  } while (offset < request.body.size());
  return grpc::Status::OK;
}

// The JSON body as the method's request stream: one object, or an array of
// objects for client-streaming methods.
grpc::Status JsonRequests(const MethodDescriptor* method, const std::string& body,
                          std::vector<std::string>* out) {
  const Descriptor* type = method->input_type();
  std::string text = absl::StripAsciiWhitespace(body).empty() ? "{}" : body;
  if (!method->client_streaming()) {
    out->emplace_back();
    return ParseMessage(type, text, "body", &out->back());
  }
  nlohmann::json array = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) {
    return BadField("body", "a client-streaming method takes a JSON array of request messages");
  }
  for (size_t i = 0; i < array.size(); ++i) {
    out->emplace_back();
    grpc::Status s = ParseMessage(type, array[i].dump(), absl::StrCat("body[", i, "]"), &out->back());
    if (!s.ok()) return s;
  }
  return grpc::Status::OK;
}

grpc::Status ToJson(const Descriptor* type, const std::string& serialized, std::string* json) {
  std::unique_ptr<Message> message(MessageFactory::generated_factory()->GetPrototype(type)->New());
  if (!message->ParseFromString(serialized)) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat("the server's ", type->full_name(), " does not parse"));
  }
  auto status = google::protobuf::util::MessageToJsonString(*message, json);
  if (!status.ok()) {
    return grpc::Status(grpc::StatusCode::INTERNAL, status.message().as_string());
  }
  return grpc::Status::OK;
}

grpc::Status NotFoundStatus(const std::string& message) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND, message);
}

class ServiceNamesPlugin final : public grpc::ServerBuilderPlugin {
 public:
  explicit ServiceNamesPlugin(std::shared_ptr<std::vector<std::string>> names)
      : names_(std::move(names)) {}
  std::string name() override { return "market_service_names"; }
  void InitServer(grpc::ServerInitializer*) override {}
  void Finish(grpc::ServerInitializer* si) override { *names_ = *si->GetServiceList(); }
  void ChangeArguments(const std::string&, void*) override {}
  bool has_sync_methods() const override { return false; }

 private:
  std::shared_ptr<std::vector<std::string>> names_;
};

class ServiceNamesOption final : public grpc::ServerBuilderOption {
 public:
  explicit ServiceNamesOption(std::shared_ptr<std::vector<std::string>> names)
      : names_(std::move(names)) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->push_back(std::make_unique<ServiceNamesPlugin>(names_));
  }

 private:
  std::shared_ptr<std::vector<std::string>> names_;
};

}  // namespace

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

std::string StatusJson(const grpc::Status& status) {
  google::rpc::Status out;
  if (!status.error_details().empty() && out.ParseFromString(status.error_details())) {
    // The trailer's code and message are the status's own; keep the status's.
  } else {
    out.Clear();
  }
  out.set_code(static_cast<int>(status.error_code()));
  out.set_message(status.error_message());
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(out, &json).ok()) {
    out.clear_details();  // a detail type this binary does not know
    json.clear();
    (void)google::protobuf::util::MessageToJsonString(out, &json);
  }
  return json;
}

HttpReply StatusReply(const grpc::Status& status, int http_status) {
  HttpReply reply;
  reply.status = http_status > 0 ? http_status : HttpStatusOf(status.error_code());
  reply.content_type = kJson;
  reply.body = StatusJson(status);
  return reply;
}

JsonGateway::JsonGateway(const std::vector<std::string>& services,
                         std::shared_ptr<grpc::Channel> channel, JsonGatewayOptions options)
    : channel_(std::move(channel)), options_(options) {
  for (const std::string& name : services) {
    const ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service != nullptr) services_[name] = service;
  }
}

std::vector<std::string> JsonGateway::services() const {
  std::vector<std::string> names;
  for (const auto& [name, service] : services_) names.push_back(name);
  return names;
}

std::string JsonGateway::PathPattern() const {
  std::vector<std::string> escaped;
  for (const auto& [name, service] : services_) {
    escaped.push_back(absl::StrReplaceAll(name, {{".", "\\."}}));
  }
  if (escaped.empty()) return "/(?!)";  // matches nothing
  return absl::StrCat("/(", absl::StrJoin(escaped, "|"), ")/[^/]*");
}

HttpReply JsonGateway::Handle(const HttpRequest& request) const {
  auto slash = request.path.find('/', 1);
  std::string service_name =
      slash == std::string::npos ? "" : request.path.substr(1, slash - 1);
  auto it = services_.find(service_name);
  if (it == services_.end()) {
    return StatusReply(NotFoundStatus(absl::StrCat("no service at ", request.path)));
  }
  const MethodDescriptor* method = it->second->FindMethodByName(request.path.substr(slash + 1));
  if (method == nullptr) {
    return StatusReply(NotFoundStatus(
        absl::StrCat(service_name, " has no method ", request.path.substr(slash + 1))));
  }
  if (request.method != "POST") {
    HttpReply reply = StatusReply(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     absl::StrCat(request.method, " ", request.path, ": RPCs take POST")),
        405);
    reply.headers.emplace_back("Allow", "POST");
    return reply;
  }
  std::vector<std::string> requests;
  std::string content_type = request.Header("content-type");
  bool json = IsJsonContentType(content_type);
  if (!json && RawDataField(method) != nullptr) {
    if (request.body.size() > options_.max_raw_bytes) {
      return StatusReply(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       absl::StrCat("body: larger than ", options_.max_raw_bytes, " bytes")),
          413);
    }
    grpc::Status s = RawRequests(method, request, options_.raw_chunk_bytes, &requests);
    if (!s.ok()) return StatusReply(s);
  } else {
    if (!json) {
      return StatusReply(BadField("Content-Type", absl::StrCat("want ", kJson, ", got \"",
                                                                content_type, "\"")),
                         415);
    }
    if (request.body.size() > options_.max_json_bytes) {
      return StatusReply(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       absl::StrCat("body: larger than ", options_.max_json_bytes, " bytes")),
          413);
    }
    grpc::Status s = JsonRequests(method, request.body, &requests);
    if (!s.ok()) return StatusReply(s);
  }
  grpc::ClientContext ctx;
  if (grpc::Status s = PrepareContext(request, &ctx); !s.ok()) return StatusReply(s);
  std::vector<std::string> responses;
  grpc::Status status =
      Call(channel_, &ctx, absl::StrCat("/", it->first, "/", method->name()), requests, &responses);
  if (!status.ok()) return StatusReply(status);
  std::vector<std::string> jsons;
  for (const std::string& response : responses) {
    jsons.emplace_back();
    if (grpc::Status s = ToJson(method->output_type(), response, &jsons.back()); !s.ok()) {
      return StatusReply(s);
    }
  }
  HttpReply reply;
  reply.content_type = kJson;
  if (method->server_streaming()) {
    reply.body = absl::StrCat("[", absl::StrJoin(jsons, ","), "]");
  } else if (jsons.size() == 1) {
    reply.body = std::move(jsons[0]);
  } else {
    return StatusReply(grpc::Status(
        grpc::StatusCode::INTERNAL,
        absl::StrCat(method->full_name(), " answered ", jsons.size(), " messages, want 1")));
  }
  return reply;
}

void CollectServiceNames(grpc::ServerBuilder& builder,
                         std::shared_ptr<std::vector<std::string>> names) {
  builder.SetOption(std::make_unique<ServiceNamesOption>(std::move(names)));
}

}  // namespace market::server
