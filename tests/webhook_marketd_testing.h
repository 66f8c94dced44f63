// marketd in-process for the webhook tests: loopback gRPC and HTTP on free
// ports, outboxes relayed every 50 ms, webhook receivers verified against
// `ca_file`, fast retries (webhook::testing::FastDispatcherOptions).
#ifndef MARKET_TESTS_WEBHOOK_MARKETD_TESTING_H_
#define MARKET_TESTS_WEBHOOK_MARKETD_TESTING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock/clock.h"
#include "services/marketd/marketd.h"
#include "services/webhook/webhook_testing.h"

namespace market::webhook::testing {

inline absl::StatusOr<std::unique_ptr<marketd::Marketd>> StartMarketd(
    const std::string& data_dir, const std::string& ca_file) {
  marketd::MarketdOptions options;
  options.data_dir = data_dir;
  options.server.listen = "127.0.0.1:0";
  options.server.http_listen = "127.0.0.1:0";
  options.outbox_poll = absl::Milliseconds(50);
  options.webhook = FastDispatcherOptions(ca_file);
  return marketd::Marketd::Start(options, RealClock());
}

}  // namespace market::webhook::testing

#endif  // MARKET_TESTS_WEBHOOK_MARKETD_TESTING_H_
