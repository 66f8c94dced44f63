#include <atomic>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/server/metrics.h"
#include "common/server/periodic.h"
#include "common/server/runner.h"
#include "common/status/status_matchers.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/support/method_handler.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace market::server {
namespace {

using ::testing::HasSubstr;

// grpc.health.v1.HealthCheckRequest{service} encoded by hand (field 1, string).
grpc::ByteBuffer HealthRequest(const std::string& service) {
  std::string bytes;
  if (!service.empty()) {
    bytes.push_back(0x0a);
    bytes.push_back(static_cast<char>(service.size()));
    bytes += service;
  }
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// Returns the HealthCheckResponse status enum (1 = SERVING), or -1 on error.
int CheckHealth(grpc::Channel* channel, const std::string& service, grpc::StatusCode* code) {
  grpc::GenericStub stub(std::shared_ptr<grpc::Channel>(channel, [](grpc::Channel*) {}));
  grpc::ClientContext ctx;
  grpc::ByteBuffer response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  grpc::ByteBuffer request = HealthRequest(service);  // outlives the call: we wait below
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = s;
                   done = true;
                   cv.notify_all();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  *code = status.error_code();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  (void)response.Dump(&slices);
  std::string bytes;
  for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : 0;
}

// A raw message of no bytes (a default ByteBuffer is no message at all).
grpc::ByteBuffer Empty() {
  grpc::Slice slice("");
  return grpc::ByteBuffer(&slice, 1);
}

// A unary call of `method` with an empty raw request, started at
// construction; Wait() returns its status (DEADLINE_EXCEEDED after 30 s).
class PendingCall {
 public:
  PendingCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method)
      : stub_(channel), request_(Empty()) {
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stub_.UnaryCall(&ctx_, method, grpc::StubOptions(), &request_, &response_,
                    [this](grpc::Status s) {
                      status_ = std::move(s);
                      done_.Notify();
                    });
  }
  grpc::Status Wait() {
    done_.WaitForNotification();  // the call's own deadline bounds this
    return status_;
  }

 private:
  grpc::GenericStub stub_;
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  absl::Notification done_;
  grpc::Status status_;
};

// A raw-bytes service: /test.Drain/Slow signals `entered` and then blocks
// until `release` (30 s at most); /test.Drain/Fast answers at once.
class DrainService : public grpc::Service {
 public:
  using Handler =
      grpc::internal::RpcMethodHandler<DrainService, grpc::ByteBuffer, grpc::ByteBuffer>;
  DrainService() {
    AddMethod(new grpc::internal::RpcServiceMethod(
        "/test.Drain/Slow", grpc::internal::RpcMethod::NORMAL_RPC,
        new Handler(
            [](DrainService* self, grpc::ServerContext*, const grpc::ByteBuffer*,
               grpc::ByteBuffer* response) {
              *response = Empty();
              self->entered.Notify();
              if (!self->release.WaitForNotificationWithTimeout(absl::Seconds(30))) {
                return grpc::Status(grpc::StatusCode::INTERNAL, "never released");
              }
              return grpc::Status::OK;
            },
            this)));
    AddMethod(new grpc::internal::RpcServiceMethod(
        "/test.Drain/Fast", grpc::internal::RpcMethod::NORMAL_RPC,
        new Handler(
            [](DrainService*, grpc::ServerContext*, const grpc::ByteBuffer*,
               grpc::ByteBuffer* response) {
              *response = Empty();
              return grpc::Status::OK;
            },
            this)));
  }
  absl::Notification entered;
  absl::Notification release;
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_ = std::make_unique<ServerRunner>(
        ServerOptions{.listen = "127.0.0.1:0", .http_listen = "127.0.0.1:0"}, &metrics_);
  }
  Metrics metrics_;
  std::unique_ptr<ServerRunner> runner_;
};

TEST_F(RunnerTest, BindsFreePorts) {
  ASSERT_OK(runner_->Start());
  EXPECT_GT(runner_->grpc_port(), 0);
  EXPECT_GT(runner_->http_port(), 0);
}

TEST_F(RunnerTest, HealthReportsServing) {
  ASSERT_OK(runner_->Start());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runner_->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  grpc::StatusCode code;
  EXPECT_EQ(CheckHealth(channel.get(), "", &code), 1);
}

TEST_F(RunnerTest, HealthUnknownServiceIsNotFound) {
  ASSERT_OK(runner_->Start());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runner_->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  grpc::StatusCode code;
  CheckHealth(channel.get(), "no.such.Service", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
}

TEST_F(RunnerTest, HttpServesHealthzAndMetrics) {
  metrics_.RecordRpc("/x.S/M", "OK", absl::Milliseconds(3));
  ASSERT_OK(runner_->Start());
  httplib::Client client("127.0.0.1", runner_->http_port());
  auto healthz = client.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("market_rpc_requests_total{method=\"/x.S/M\",code=\"OK\"} 1"));
}

TEST_F(RunnerTest, ShutdownStopsServing) {
  ASSERT_OK(runner_->Start());
  int port = runner_->grpc_port();
  runner_->Shutdown(absl::ZeroDuration());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  EXPECT_FALSE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                         std::chrono::milliseconds(300)));
}

TEST_F(RunnerTest, ShutdownDrainsInFlightCallsAndRefusesNewOnes) {
  DrainService service;
  runner_->AddService(&service, "test.Drain");
  ASSERT_OK(runner_->Start());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", runner_->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  PendingCall slow(channel, "/test.Drain/Slow");
  ASSERT_TRUE(service.entered.WaitForNotificationWithTimeout(absl::Seconds(30)))
      << "the slow call never reached the handler";

  std::thread stopper([&] { runner_->Shutdown(absl::Seconds(30)); });
  // Shutdown has begun once a new call is refused; give up after 30 s.
  grpc::Status fresh;
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  do {
    fresh = PendingCall(channel, "/test.Drain/Fast").Wait();
  } while (fresh.ok() && absl::Now() < give_up);
  service.release.Notify();
  grpc::Status drained = slow.Wait();
  stopper.join();

  // Refused: a call racing the GOAWAY is cancelled, a later one finds no listener.
  EXPECT_THAT(fresh.error_code(),
              ::testing::AnyOf(grpc::StatusCode::CANCELLED, grpc::StatusCode::UNAVAILABLE))
      << fresh.error_message();
  EXPECT_TRUE(drained.ok()) << drained.error_code() << " " << drained.error_message();
}

TEST_F(RunnerTest, TakenPortIsUnavailable) {
  ASSERT_OK(runner_->Start());
  ServerRunner second(ServerOptions{.listen = absl::StrCat("127.0.0.1:", runner_->grpc_port()),
                                    .http_listen = ""},
                      nullptr);
  EXPECT_THAT(second.Start(), ::market::testing::StatusIs(absl::StatusCode::kUnavailable));
}

TEST(MetricsTest, HistogramCountsAreCumulative) {
  Metrics m;
  m.RecordRpc("/a", "OK", absl::Microseconds(100));
  m.RecordRpc("/a", "NOT_FOUND", absl::Seconds(3));
  std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("market_rpc_latency_seconds_bucket{method=\"/a\",le=\"0.0005\"} 1"));
  EXPECT_THAT(text, HasSubstr("market_rpc_latency_seconds_bucket{method=\"/a\",le=\"5\"} 2"));
  EXPECT_THAT(text, HasSubstr("market_rpc_latency_seconds_count{method=\"/a\"} 2"));
  EXPECT_THAT(text, HasSubstr("code=\"NOT_FOUND\"} 1"));
}

TEST(MetricsTest, GaugeEvaluatedAtRender) {
  Metrics m;
  double v = 1;
  m.AddGauge("market_test_gauge", "A test gauge.", [&] { return v; });
  v = 7;
  EXPECT_THAT(m.Render(), HasSubstr("market_test_gauge 7"));
}

TEST(MetricsTest, LabelsAreEscaped) { EXPECT_EQ(EscapeLabel("a\"b\\c\n"), "a\\\"b\\\\c\\n"); }

TEST(PeriodicJobTest, RunsRepeatedlyUntilStopped) {
  absl::Mutex mu;
  int runs = 0;
  bool stopped = false;
  int runs_after_stop = 0;
  {
    PeriodicJob job("test job", [&]() -> absl::StatusOr<int> {
      absl::MutexLock lock(&mu);
      if (stopped) ++runs_after_stop;
      return ++runs;
    });
    job.Start(absl::Milliseconds(1));
    {
      absl::MutexLock lock(&mu);
      auto three = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return runs >= 3; };
      ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&three), absl::Seconds(30)))
          << "the job ran " << runs << " times in 30 s";
    }
    job.Stop();
    absl::MutexLock lock(&mu);
    stopped = true;
  }  // the job is destroyed: a thread Stop() left running would still have to end here
  absl::MutexLock lock(&mu);
  EXPECT_EQ(runs_after_stop, 0);
}

}  // namespace
}  // namespace market::server
