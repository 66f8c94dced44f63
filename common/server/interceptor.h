// A server interceptor that turns gRPC's own "could not parse the request"
// INTERNAL (a request that is not a valid protobuf message, e.g. a proto3
// string that is not UTF-8) into INVALID_ARGUMENT: a client must never be able
// to cause INTERNAL. Errors from our handlers always carry google.rpc details,
// so an INTERNAL without details can only come from the framework.
#ifndef MARKET_COMMON_SERVER_INTERCEPTOR_H_
#define MARKET_COMMON_SERVER_INTERCEPTOR_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace market::server {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMalformedRequestInterceptorFactory();

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_INTERCEPTOR_H_
