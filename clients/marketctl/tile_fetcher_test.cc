#include "clients/marketctl/tile_fetcher.h"

#include <thread>

#include "gtest/gtest.h"
#include "httplib.h"

namespace market::ctl {
namespace {

TEST(DefaultHttpServerTest, SameHostNextPort) {
  EXPECT_EQ(DefaultHttpServer("127.0.0.1:7400", false), "http://127.0.0.1:7401");
  EXPECT_EQ(DefaultHttpServer("market.example.cn:443", true), "https://market.example.cn:444");
  EXPECT_EQ(DefaultHttpServer("[::1]:7400", false), "http://[::1]:7401");
}

TEST(DefaultHttpServerTest, NoneForAUnixSocket) {
  EXPECT_EQ(DefaultHttpServer("unix:/run/market/credit.sock", false), "");
}

class HttpTileFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/tile/0/000", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(8192, 'h'), "application/octet-stream");
    });
    server_.Get("/tile/0/001", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("ledger integrity: stored node 1/2 is not the hash of its children\n",
                      "text/plain");
    });
    server_.Get("/tile/0/002", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content("busy", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(HttpTileFetcherTest, ReturnsTheBodyOfAServedTile) {
  HttpTileFetcher fetcher("127.0.0.1:" + std::to_string(port_), "");
  absl::StatusOr<std::string> body = fetcher.Fetch({0, 0, 256});
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->size(), 8192u);
}

TEST_F(HttpTileFetcherTest, ServerIntegrityErrorIsDataLoss) {
  HttpTileFetcher fetcher("http://127.0.0.1:" + std::to_string(port_), "");
  EXPECT_EQ(fetcher.Fetch({0, 1, 256}).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(HttpTileFetcherTest, MissingTileIsNotFoundAndOtherFailuresUnavailable) {
  HttpTileFetcher fetcher("127.0.0.1:" + std::to_string(port_), "");
  EXPECT_EQ(fetcher.Fetch({0, 3, 256}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fetcher.Fetch({0, 2, 256}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace market::ctl
