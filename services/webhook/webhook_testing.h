// Test helpers for webhooks over real HTTPS on loopback: certificates from
// deploy/pki.sh (the including target defines MARKET_SOURCE_DIR), polling,
// and a receiver written the way the README tells integrators to write one.
// Header-only; for tests.
#ifndef MARKET_SERVICES_WEBHOOK_WEBHOOK_TESTING_H_
#define MARKET_SERVICES_WEBHOOK_WEBHOOK_TESTING_H_

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "services/webhook/webhook_dispatcher.h"
#include "services/webhook/webhook_signature.h"

namespace market::webhook::testing {

// Runs deploy/pki.sh with `args` ("ca DIR", "server DIR NAME --ip 127.0.0.1").
inline bool Pki(const std::string& args) {
  std::string cmd =
      absl::StrCat("bash ", MARKET_SOURCE_DIR, "/deploy/pki.sh ", args, " >/dev/null");
  return std::system(cmd.c_str()) == 0;
}

// A CA in `dir` and a server certificate for 127.0.0.1 signed by it:
// dir/ca.crt, dir/receiver.crt, dir/receiver.key.
inline bool ReceiverPki(const std::string& dir) {
  return Pki("ca " + dir) && Pki("server " + dir + " receiver --ip 127.0.0.1");
}

// Polls `done` every 20 ms for up to `seconds`.
template <typename F>
bool Eventually(F done, double seconds = 20) {
  absl::Time deadline = absl::Now() + absl::Seconds(seconds);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return done();
}

// Dispatcher options for tests: receivers verified against `ca_file`, a
// 100 ms first retry doubling up to 400 ms, polled every 50 ms.
inline DispatcherOptions FastDispatcherOptions(const std::string& ca_file) {
  DispatcherOptions o;
  o.ca_file = ca_file;
  o.backoff.initial_backoff = absl::Milliseconds(100);
  o.backoff.max_backoff = absl::Milliseconds(400);
  o.backoff.poll = absl::Milliseconds(50);
  return o;
}

// An HTTPS receiver on 127.0.0.1 serving POST /hook: verifies the signature
// over the raw body (timestamp within 5 minutes of its clock), then
// deduplicates by X-Market-Event-Id, answering 2xx only once it has the event.
class Receiver {
 public:
  Receiver(std::string cert, std::string key) : cert_(std::move(cert)), key_(std::move(key)) {}
  ~Receiver() { Stop(); }

  // Serves on `port` (0 picks one); returns the port, -1 when it cannot bind.
  int Start(int port) {
    server_ = std::make_unique<httplib::SSLServer>(cert_.c_str(), key_.c_str());
    server_->Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res);
    });
    if (port == 0) {
      port = server_->bind_to_any_port("127.0.0.1");
    } else if (!server_->bind_to_port("127.0.0.1", port)) {
      return -1;
    }
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    Eventually([this] { return server_->is_running(); }, 5);
    return port;
  }
  void Stop() {
    if (server_ == nullptr) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }

  void SetSecret(const std::string& s) {
    absl::MutexLock l(&mu_);
    secret_ = s;
  }
  // Moves the receiver's clock (to see a captured delivery as a late replay).
  void SetClockSkew(absl::Duration d) {
    absl::MutexLock l(&mu_);
    skew_ = d;
  }
  // Events accepted (2xx) by id, with the number of valid POSTs each got.
  std::map<std::string, int> Posts() {
    absl::MutexLock l(&mu_);
    return posts_;
  }
  // Ids of the valid POSTs in arrival order (repeats included).
  std::vector<std::string> Arrivals() {
    absl::MutexLock l(&mu_);
    return arrivals_;
  }
  std::map<std::string, nlohmann::json> Bodies() {
    absl::MutexLock l(&mu_);
    return bodies_;
  }
  int Rejected() {
    absl::MutexLock l(&mu_);
    return rejected_;
  }
  // The raw body and signature of the first delivery of `id`.
  std::pair<std::string, std::string> Raw(const std::string& id) {
    absl::MutexLock l(&mu_);
    return raw_[id];
  }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    absl::MutexLock l(&mu_);
    absl::Status verified = VerifySignature(secret_, req.get_header_value(kSignatureHeader),
                                            req.body, absl::Now() + skew_);
    if (!verified.ok()) {
      ++rejected_;
      res.status = 400;
      res.set_content(std::string(verified.message()), "text/plain");
      return;
    }
    const std::string id = req.get_header_value(kEventIdHeader);
    arrivals_.push_back(id);
    if (++posts_[id] == 1) {
      bodies_[id] = nlohmann::json::parse(req.body);
      raw_[id] = {req.body, req.get_header_value(kSignatureHeader)};
    }
    res.status = 204;
  }

  const std::string cert_, key_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  absl::Mutex mu_;
  std::string secret_ ABSL_GUARDED_BY(mu_);
  absl::Duration skew_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> posts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> arrivals_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, nlohmann::json> bodies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<std::string, std::string>> raw_ ABSL_GUARDED_BY(mu_);
  int rejected_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace market::webhook::testing

#endif  // MARKET_SERVICES_WEBHOOK_WEBHOOK_TESTING_H_
