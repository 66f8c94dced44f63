// grpc.reflection.v1.ServerReflection over protobuf's generated descriptor
// pool: what current grpcurl and Postman ask for (Debian's gRPC 1.51 serves
// only grpc.reflection.v1alpha). Thread-safe.
#ifndef MARKET_COMMON_SERVER_REFLECTION_V1_H_
#define MARKET_COMMON_SERVER_REFLECTION_V1_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace market::server {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // The full service names list_services answers with.
  void SetServiceList(std::vector<std::string> services) ABSL_LOCKS_EXCLUDED(mu_);

  // Answers each request on the stream in order. A name the pool does not
  // know gets an error_response NOT_FOUND; a request with no message_request
  // set gets INVALID_ARGUMENT; the stream itself always ends OK.
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

  // The answer to one request (exposed for the stream loop and for tests).
  grpc::reflection::v1::ServerReflectionResponse Answer(
      const grpc::reflection::v1::ServerReflectionRequest& request) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> services_ ABSL_GUARDED_BY(mu_);
};

// Makes the server `builder` builds serve a ReflectionV1Service whose
// list_services names every service registered on that server (itself and
// grpc.reflection.v1alpha included). Call once per builder, before BuildAndStart.
void AddReflectionV1(grpc::ServerBuilder& builder);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_REFLECTION_V1_H_
