#include "common/server/server_core.h"

#include <algorithm>
#include <thread>

#include "grpcpp/resource_quota.h"

namespace market::server {

void ConfigureSyncServerThreads(grpc::ServerBuilder& builder, const SyncServerThreads& threads) {
  if (threads.max_threads <= 0) return;
  int cqs = threads.num_cqs > 0
                ? threads.num_cqs
                : std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
  int max_pollers = std::max(threads.min_pollers, threads.max_threads / cqs);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, cqs);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS,
                              threads.min_pollers);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, max_pollers);
  grpc::ResourceQuota quota("market-server");
  quota.SetMaxThreads(threads.max_threads);
  builder.SetResourceQuota(quota);
}

}  // namespace market::server
