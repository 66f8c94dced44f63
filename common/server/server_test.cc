#include <atomic>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/server/binary.h"
#include "common/server/build_info.h"
#include "common/server/metrics.h"
#include "common/server/periodic.h"
#include "common/server/process_metrics.h"
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
using ::testing::MatchesRegex;

// The value of the unlabelled sample `name` in text-format `text`, or NaN.
double Sample(const std::string& text, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    double value = 0;
    if (parts.size() == 2 && parts[0] == name && absl::SimpleAtod(parts[1], &value)) return value;
  }
  return std::nan("");
}

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
  EXPECT_THAT(metrics->body,
              HasSubstr("market_rpc_requests_total{code=\"OK\",method=\"/x.S/M\"} 1"));
}

TEST_F(RunnerTest, HttpRouteAnswersItsPathsWithStatusTypeAndCacheControl) {
  runner_->AddHttpRoute("/tile/.+", [](const std::string& path) {
    return HttpReply{.status = path == "/tile/missing" ? 404 : 200,
                     .content_type = "application/octet-stream",
                     .cache_control = "public, max-age=60",
                     .body = "body of " + path};
  });
  ASSERT_OK(runner_->Start());
  httplib::Client client("127.0.0.1", runner_->http_port());
  auto tile = client.Get("/tile/0/000");
  ASSERT_TRUE(tile);
  EXPECT_EQ(tile->status, 200);
  EXPECT_EQ(tile->body, "body of /tile/0/000");
  EXPECT_EQ(tile->get_header_value("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(tile->get_header_value("Content-Type"), "application/octet-stream");
  auto missing = client.Get("/tile/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto other = client.Get("/tiles");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
}

TEST_F(RunnerTest, HttpQueryRouteGetsTheDecodedQueryParameters) {
  runner_->AddHttpQueryRoute("/verify", [](const std::string& path, const HttpQuery& query) {
    std::string body = path;
    for (const auto& [name, value] : query) body += "|" + name + "=" + value;
    return HttpReply{.body = body};
  });
  ASSERT_OK(runner_->Start());
  httplib::Client client("127.0.0.1", runner_->http_port());
  auto res = client.Get("/verify?report=appraisals%2Fr-1&sha256=ab&note=%E9%89%B4%20x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "/verify|note=鉴 x|report=appraisals/r-1|sha256=ab");
}

TEST_F(RunnerTest, MetricsHaveProcessMetricsAndBuildInfo) {
  Metrics metrics;
  ServerRunner runner(
      ServerOptions{
          .service = "market-test", .listen = "127.0.0.1:0", .http_listen = "127.0.0.1:0"},
      &metrics);
  ASSERT_OK(runner.Start());
  httplib::Client client("127.0.0.1", runner.http_port());
  auto scraped = client.Get("/metrics");
  ASSERT_TRUE(scraped);
  const std::string& text = scraped->body;

  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  double start = Sample(text, "process_start_time_seconds");
  EXPECT_LE(start, now + 1) << text;
  EXPECT_GE(start, now - 3600) << text;
  double fds = Sample(text, "process_open_fds");
  EXPECT_GE(fds, 3) << text;  // stdin, stdout, stderr and the listening sockets
  EXPECT_GE(Sample(text, "process_max_fds"), fds) << text;
  double rss = Sample(text, "process_resident_memory_bytes");
  EXPECT_GT(rss, 1 << 20) << text;
  EXPECT_GE(Sample(text, "process_virtual_memory_bytes"), rss) << text;
  EXPECT_GE(Sample(text, "process_cpu_seconds_total"), 0) << text;
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));

  const BuildInfo& build = GetBuildInfo();
  EXPECT_THAT(build.version, MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_THAT(build.git_commit, MatchesRegex("[0-9a-f]{12}|unknown"));
  EXPECT_FALSE(build.build_type.empty());
  EXPECT_THAT(text, HasSubstr(absl::StrCat("\nmarket_build_info{version=\"", build.version,
                                           "\",git_commit=\"", build.git_commit, "\",build_type=\"",
                                           build.build_type, "\",service=\"market-test\"} 1\n")));
  EXPECT_EQ(VersionString("market-test"),
            absl::StrCat("market-test ", build.version, " (commit ", build.git_commit, ", ",
                         build.build_type, ")"));
}

TEST_F(RunnerTest, ShutdownStopsServing) {
  ASSERT_OK(runner_->Start());
  int port = runner_->grpc_port();
  runner_->Shutdown(absl::ZeroDuration());
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  EXPECT_FALSE(
      channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::milliseconds(300)));
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
  ServerRunner second(
      ServerOptions{.listen = absl::StrCat("127.0.0.1:", runner_->grpc_port()), .http_listen = ""},
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
  EXPECT_THAT(text, HasSubstr("market_rpc_requests_total{code=\"NOT_FOUND\",method=\"/a\"} 1"));
}

TEST(MetricsTest, GaugeEvaluatedAtRender) {
  Metrics m;
  double v = 1;
  m.AddGauge("market_test_gauge", "A test gauge.", [&] { return v; });
  v = 7;
  EXPECT_THAT(m.Render(), HasSubstr("market_test_gauge 7"));
}

TEST(MetricsTest, LabelledGaugeSeriesShareOneFamily) {
  Metrics m;
  m.AddGauge("market_test_sizes", "Sizes.", {{"service", "b"}}, [] { return 2.0; });
  m.AddGauge("market_test_sizes", "Ignored.", {{"service", "a"}}, [] { return 1.0; });
  EXPECT_THAT(m.Render(), HasSubstr("# HELP market_test_sizes Sizes.\n"
                                    "# TYPE market_test_sizes gauge\n"
                                    "market_test_sizes{service=\"a\"} 1\n"
                                    "market_test_sizes{service=\"b\"} 2\n"));
}

TEST(MetricsTest, InfoRendersLabelsInOrderWithValueOne) {
  Metrics m;
  m.AddInfo("market_test_info", "A test info.", {{"b", "x\"y"}, {"a", "z"}});
  EXPECT_THAT(m.Render(), HasSubstr("# TYPE market_test_info gauge\n"
                                    "market_test_info{b=\"x\\\"y\",a=\"z\"} 1\n"));
}

TEST(ProcessMetricsTest, ReadsPlausibleValuesOfThisProcess) {
  absl::StatusOr<ProcessStats> s = ReadProcessStats();
  ASSERT_OK(s.status());
  EXPECT_GE(s->open_fds, 3);
  EXPECT_GE(s->max_fds, s->open_fds);
  EXPECT_GT(s->resident_memory_bytes, 0);
  EXPECT_GE(s->virtual_memory_bytes, s->resident_memory_bytes);
  EXPECT_GE(s->cpu_seconds, 0);
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  EXPECT_LE(s->start_time_seconds, now + 1);
  EXPECT_GE(s->start_time_seconds, now - 3600);
  auto families = ProcessMetricFamilies(*s);
  ASSERT_EQ(families.size(), 6u);
  EXPECT_EQ(families[0].name, "process_cpu_seconds_total");
  EXPECT_EQ(families[0].type, prometheus::MetricType::Counter);
  EXPECT_EQ(families[0].metric.at(0).counter.value, s->cpu_seconds);
  EXPECT_EQ(families[4].name, "process_open_fds");
  EXPECT_EQ(families[4].metric.at(0).gauge.value, s->open_fds);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics m;
  m.RecordRpc("/a\"b\\c\n", "OK", absl::Milliseconds(1));
  EXPECT_THAT(m.Render(), HasSubstr("method=\"/a\\\"b\\\\c\\n\""));
}

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
