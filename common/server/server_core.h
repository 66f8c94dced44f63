// The threads of the synchronous gRPC server (every service's handlers are
// synchronous). gRPC's ThreadManager (src/cpp/thread_manager, per completion
// queue) keeps between MIN_POLLERS and MAX_POLLERS threads polling; a poller
// that picks up a call runs the handler itself and, when polling threads fell
// below MIN_POLLERS, starts a new thread; after the handler it goes back to
// polling only while fewer than MAX_POLLERS poll, else it exits. With gRPC's
// defaults (1 and 2 pollers) every concurrent call beyond two therefore
// creates a thread and destroys one (1,000+ clone() per second under load).
// Raising MAX_POLLERS to the pool size keeps finished handler threads as
// pollers (reused), and a ResourceQuota bounds the threads of the whole
// server: past it a call is run by a thread that is already polling, or
// answered RESOURCE_EXHAUSTED ("Server Threadpool Exhausted") when none is.
#ifndef MARKET_COMMON_SERVER_SERVER_CORE_H_
#define MARKET_COMMON_SERVER_SERVER_CORE_H_

#include "grpcpp/server_builder.h"

namespace market::server {

struct SyncServerThreads {
  // Upper bound of the server's threads (all completion queues); 0 leaves
  // gRPC's defaults alone (threads created and destroyed per call).
  int max_threads = 256;
  // Completion queues (0: one per CPU, at most 4).
  int num_cqs = 0;
  // Threads kept polling per completion queue when idle.
  int min_pollers = 2;
};

// Sets NUM_CQS, MIN_POLLERS, MAX_POLLERS (= max_threads / num_cqs, so a
// handler thread returns to polling instead of exiting) and the quota.
void ConfigureSyncServerThreads(grpc::ServerBuilder& builder, const SyncServerThreads& threads);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_SERVER_CORE_H_
