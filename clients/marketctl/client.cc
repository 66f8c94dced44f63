#include "clients/marketctl/client.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/marketctl/display.h"
#include "clients/marketctl/money.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/config/files.h"
#include "common/server/tls.h"
#include "common/status/grpc_status.h"
#include "common/status/status.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace market::ctl {
namespace {

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

// Replaces, in `j` (the JSON of `m`), each Money field at any depth by its
// yuan text. Map fields are left as they are.
void ReplaceMoney(const google::protobuf::Message& m, nlohmann::json* j) {
  if (!j->is_object()) return;
  const auto* refl = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  refl->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE || f->is_map()) {
      continue;
    }
    auto it = j->find(f->name());
    if (it == j->end()) continue;
    auto replace = [](const google::protobuf::Message& sub, nlohmann::json* slot) {
      if (sub.GetDescriptor() != common::v1::Money::descriptor()) {
        ReplaceMoney(sub, slot);
        return;
      }
      common::v1::Money money;
      money.CopyFrom(sub);
      *slot = FormatMoney(money);
    };
    if (!f->is_repeated()) {
      replace(refl->GetMessage(m, f), &*it);
      continue;
    }
    if (!it->is_array()) continue;
    const int n = std::min<int>(refl->FieldSize(m, f), static_cast<int>(it->size()));
    for (int i = 0; i < n; ++i) replace(refl->GetRepeatedMessage(m, f, i), &(*it)[i]);
  }
}

// `m` as JSON for tables and key/value rows: amounts in yuan.
nlohmann::json DisplayJson(const google::protobuf::Message& m) {
  nlohmann::json j = nlohmann::json::parse(ToJson(m), nullptr, false);
  ReplaceMoney(m, &j);
  return j;
}

// A JSON value as one cell: strings as they are, arrays joined by ",".
std::string CellText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const auto& e : v) parts.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    return absl::StrJoin(parts, ",");
  }
  return v.dump();
}

// The cell of field `field_name` of a message of type `type` whose
// DisplayJson is `j`.
std::string Cell(const google::protobuf::Descriptor* type, const nlohmann::json& j,
                 const std::string& field_name) {
  const auto* field = type->FindFieldByName(field_name);
  if (field == nullptr || !j.is_object()) return "";
  if (!j.contains(field_name)) {
    // proto3 JSON omits zero numbers; a table still shows them (index 0).
    using FD = google::protobuf::FieldDescriptor;
    bool number =
        !field->is_repeated() && !field->has_presence() &&
        (field->cpp_type() == FD::CPPTYPE_INT32 || field->cpp_type() == FD::CPPTYPE_INT64 ||
         field->cpp_type() == FD::CPPTYPE_UINT32 || field->cpp_type() == FD::CPPTYPE_UINT64);
    return number ? "0" : "";
  }
  return CellText(j.at(field_name));
}

}  // namespace

std::string DefaultCredentialsPath() {
  if (const char* p = std::getenv("MARKETCTL_CREDENTIALS"); p != nullptr && *p) return p;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x) {
    return absl::StrCat(x, "/marketctl/credentials.json");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.config/marketctl/credentials.json");
}

absl::StatusOr<Credentials> LoadCredentials(const std::string& path) {
  MARKET_ASSIGN_OR_RETURN(std::string text, config::ReadFile(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return absl::DataLossError(absl::StrCat(path, " is not a JSON object"));
  auto field = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Credentials c;
  c.server = field("server");
  c.subject = field("subject");
  c.access_token = field("access_token");
  c.expire_time = field("expire_time");
  return c;
}

absl::Status SaveCredentials(const std::string& path, const Credentials& c) {
  nlohmann::json j = {{"server", c.server},
                      {"subject", c.subject},
                      {"access_token", c.access_token},
                      {"expire_time", c.expire_time}};
  return config::WriteOwnerOnlyFile(path, j.dump(2) + "\n");
}

void Client::RouteCommandGroup(const std::string& group) {
  static const auto* services = new std::map<std::string, std::string>{
      {"login", "IDENTITY"},      {"whoami", "IDENTITY"}, {"subject", "IDENTITY"},
      {"market", "LISTING"},      {"listing", "LISTING"}, {"order", "LISTING"},
      {"item", "LISTING"},        {"credit", "CREDIT"},   {"ledger", "CREDIT"},
      {"appraisal", "APPRAISAL"}, {"claim", "WARRANTY"}, {"stats", "STATS"},
      {"case", "CREDIT"},  // the case queue runs in the credit process
      {"webhook", "CREDIT"}};
  auto it = services->find(group);
  if (it == services->end()) return;
  std::string var = "MARKET_" + it->second + "_ADDR";
  if (const char* env = std::getenv(var.c_str()); env != nullptr && *env) route_ = env;
}

std::string Client::Server() const {
  if (!flags_.server.empty()) return flags_.server;
  if (!route_.empty()) return route_;
  if (const char* env = std::getenv("MARKET_SERVER"); env != nullptr && *env) return env;
  auto creds = LoadCredentials(flags_.credentials);
  if (creds.ok() && !creds->server.empty()) return creds->server;
  return "127.0.0.1:7400";
}

absl::Status Client::LoadTls() {
  if (flags_.tls_cert.empty() != flags_.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  if (flags_.tls_ca.empty()) {
    if (!flags_.tls_cert.empty()) {
      return absl::InvalidArgumentError("--tls-cert needs --tls-ca (the CA of the server)");
    }
    channel_credentials_ = grpc::InsecureChannelCredentials();
    return absl::OkStatus();
  }
  grpc::SslCredentialsOptions ssl;
  MARKET_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                          server::ReadCertificateFile("--tls-ca", flags_.tls_ca));
  if (!flags_.tls_cert.empty()) {
    MARKET_ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                            server::ReadCertificateFile("--tls-cert", flags_.tls_cert));
    MARKET_ASSIGN_OR_RETURN(ssl.pem_private_key, server::ReadPrivateKeyFile(
                                                     "--tls-key", flags_.tls_key,
                                                     ssl.pem_cert_chain));
  }
  channel_credentials_ = grpc::SslCredentials(ssl);
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> Client::Channel() {
  if (channel_ != nullptr) return channel_;
  if (channel_credentials_ == nullptr) (void)LoadTls();
  std::shared_ptr<grpc::ChannelCredentials> creds =
      channel_credentials_ != nullptr ? channel_credentials_ : grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(32 * 1024 * 1024);
  channel_ = grpc::CreateCustomChannel(Server(), creds, args);
  return channel_;
}

std::unique_ptr<grpc::ClientContext> Client::Context(bool with_token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  if (!with_token) return ctx;
  std::string token = flags_.token;
  if (token.empty()) {
    if (const char* env = std::getenv("MARKET_TOKEN"); env != nullptr && *env) token = env;
  }
  if (token.empty()) {
    auto creds = LoadCredentials(flags_.credentials);
    if (creds.ok()) token = creds->access_token;
  }
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

void Client::Print(const google::protobuf::Message& message) {
  if (flags_.output == "json") {
    out_ << ToJson(message);
    return;
  }
  nlohmann::json j = DisplayJson(message);
  if (!j.is_object()) return;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [k, v] : j.items()) pairs.emplace_back(k, CellText(v));
  out_ << FormatKeyValues(pairs);
}

void Client::PrintList(const std::vector<const google::protobuf::Message*>& items,
                       const std::vector<std::string>& columns) {
  if (flags_.output == "json") {
    out_ << "[";
    for (size_t i = 0; i < items.size(); ++i) out_ << (i ? ",\n" : "\n") << ToJson(*items[i]);
    out_ << "]\n";
    return;
  }
  std::vector<std::string> header;
  for (const auto& c : columns) {
    std::string h = c;
    for (auto& ch : h) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    header.push_back(h);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto* item : items) {
    std::vector<std::string> row;
    const nlohmann::json j = DisplayJson(*item);
    for (const auto& c : columns) row.push_back(Cell(item->GetDescriptor(), j, c));
    rows.push_back(std::move(row));
  }
  PrintTable(header, rows);
}

void Client::PrintTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  out_ << FormatTable(header, rows);
}

std::string DescribeConnectionFailure(const std::string& message, const GlobalFlags& flags,
                                      const std::string& server) {
  const std::string lower = absl::AsciiStrToLower(message);
  auto has = [&lower](std::initializer_list<const char*> needles) {
    for (const char* n : needles) {
      if (absl::StrContains(lower, n)) return true;
    }
    return false;
  };
  // A connection the server closed while it was being set up: a TLS server
  // answering plaintext, or an mTLS server refusing the client certificate
  // (with TLS 1.3 the client only learns of it that way).
  const bool closed_at_connect =
      has({"failed to connect"}) &&
      has({"socket closed", "connection reset", "end of tcp stream", "connection closed"});
  if (flags.tls_ca.empty()) {
    if (!closed_at_connect) return "";
    return absl::StrCat("the server ", server,
                        " closed the connection: if it serves TLS, pass --tls-ca "
                        "(or set MARKET_TLS_CA) with the CA that issued its certificate");
  }
  const std::string failed = absl::StrCat("TLS handshake with ", server, " failed: ");
  if (has({"wrong_version_number", "wrong version number", "packet_length_too_long",
           "http_request"})) {
    return absl::StrCat(failed, "the server does not speak TLS (drop --tls-ca)");
  }
  if (has({"certificate required", "certificate_required", "peer did not return a certificate"}) ||
      (closed_at_connect && flags.tls_cert.empty())) {
    return absl::StrCat(failed,
                        "the server requires a client certificate: pass --tls-cert and --tls-key");
  }
  if (has({"alert unknown ca", "unknown_ca", "alert bad certificate", "bad_certificate"}) ||
      closed_at_connect) {
    return absl::StrCat(failed, "the server refused the client certificate ", flags.tls_cert,
                        " (not signed by a CA it trusts)");
  }
  if (has({"certificate verify failed", "certificate_verify_failed"})) {
    return absl::StrCat(failed, "certificate signed by an unknown authority: pass --tls-ca "
                                "with the CA that issued the server's certificate (now ",
                        flags.tls_ca, ")");
  }
  if (has({"peer name", "no match found for server name", "not in peer certificate"})) {
    return absl::StrCat(failed, "the server's certificate is not valid for the name in --server");
  }
  if (has({"ssl", "tls", "handshake"})) {
    return absl::StrCat(failed, "check --tls-ca, --tls-cert and --tls-key");
  }
  return "";
}

int Client::Fail(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::string readable = DescribeConnectionFailure(status.error_message(), flags_, Server());
    if (!readable.empty()) {
      err_ << "error: UNAVAILABLE: " << readable << "\n";
      return static_cast<int>(grpc::StatusCode::UNAVAILABLE);
    }
  }
  absl::Status s = FromGrpcStatus(status);
  return Fail(s);
}

int Client::Fail(const absl::Status& s) {
  err_ << "error: " << absl::StatusCodeToString(s.code()) << ": " << s.message() << "\n";
  std::string reason = ReasonOf(s);
  if (!reason.empty()) err_ << "reason: " << reason << "\n";
  for (const auto& v : FieldViolationsOf(s)) {
    err_ << "bad field: " << v.field << ": " << v.description << "\n";
  }
  int code = static_cast<int>(s.code());
  return code == 0 ? 0 : code;
}

}  // namespace market::ctl
