#include "common/server/handler.h"

namespace market::server {

std::string AuthorizationOf(const grpc::ServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

grpc::Status FinishRpc(const RpcEnv& env, const std::string& method, absl::Time start,
                       const std::string& subject, const absl::Status& status) {
  absl::Duration latency = absl::Now() - start;
  std::string full = absl::StrCat("/", env.service, "/", method);
  std::string code = absl::StatusCodeToString(status.code());
  if (env.metrics != nullptr) env.metrics->RecordRpc(full, code, latency);
  LogRpc(full, code, latency, subject, status.ok() ? "" : std::string(status.message()));
  return ToGrpcStatus(status);
}

}  // namespace market::server
