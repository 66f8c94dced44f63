#include "common/server/binary.h"

#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/config/files.h"
#include "common/server/build_info.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "grpcpp/create_channel.h"

namespace market::server {
namespace {

constexpr int kBasePort = 7400;

std::string Env(const std::string& name, const std::string& fallback) {
  const char* v = std::getenv(name.c_str());
  return v != nullptr && *v != '\0' ? v : fallback;
}

int PortOf(const std::string& service) {
  static const std::map<std::string, int> kOffsets = {
      {"identity", 0}, {"listing", 20}, {"appraisal", 30}, {"warranty", 40}, {"credit", 50},
      {"stats", 60}};
  auto it = kOffsets.find(service);
  return kBasePort + (it == kOffsets.end() ? 0 : it->second);
}

}  // namespace

std::string VersionString(const std::string& name) {
  const BuildInfo& build = GetBuildInfo();
  return absl::StrCat(name, " ", build.version, " (commit ", build.git_commit, ", ",
                      build.build_type, ")");
}

void AddVersionFlag(CLI::App& app, const std::string& name) {
  app.set_version_flag("--version", VersionString(name), "Print the version and exit");
}

std::string DefaultAddress(const std::string& service) {
  return absl::StrCat("127.0.0.1:", PortOf(service));
}

void AddBinaryFlags(CLI::App& app, const std::string& service, const std::string& data_help,
                    const std::vector<std::string>& peers, BinaryOptions* options) {
  options->server.service = absl::StrCat("market-", service);
  AddVersionFlag(app, options->server.service);
  options->server.listen = DefaultAddress(service);
  options->server.http_listen = absl::StrCat("127.0.0.1:", PortOf(service) + 1);
  app.add_option("--data-dir", options->data_dir, data_help)->capture_default_str();
  app.add_option("--listen", options->server.listen, "gRPC HOST:PORT")->capture_default_str();
  app.add_option("--http-listen", options->server.http_listen,
                 "HTTP HOST:PORT serving /metrics, /healthz, the HTTP/JSON API of the services "
                 "and their pages (listing /photos/..., appraisal /verify, credit /checkpoint "
                 "and /tile/...)")
      ->capture_default_str();
  for (const std::string& peer : peers) {
    std::string env = absl::StrCat("MARKET_", absl::AsciiStrToUpper(peer), "_ADDR");
    std::string& addr = options->peers[peer];
    addr = Env(env, DefaultAddress(peer));
    std::string title = peer;
    title[0] = absl::ascii_toupper(title[0]);
    app.add_option(absl::StrCat("--", peer, "-addr"), addr,
                   absl::StrCat(title, " service HOST:PORT ($", env, ")"))
        ->capture_default_str();
  }
  AddClockFlags(app, options);
  AddTlsFlags(app, &options->server.tls, !peers.empty());
  if (!peers.empty()) {
    options->credentials_file = Env("MARKET_SERVICE_CREDENTIALS", "");
    auto* opt = app.add_option("--service-credentials", options->credentials_file,
                               "JSON file {\"subject\", \"api_key\"} of this service's SERVICE "
                               "account ($MARKET_SERVICE_CREDENTIALS)");
    if (options->credentials_file.empty()) opt->required();
  }
}

void AddClockFlags(CLI::App& app, BinaryOptions* options) {
  app.add_option("--scheduler-period", options->scheduler_seconds,
                 "Seconds between runs of the schedulers (credit expiry, order completion, "
                 "claim deadlines)")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  app.add_option("--clock-offset-file", options->clock_offset_file,
                 "Testing and demonstrations only: a file holding seconds added to the real "
                 "time, re-read on every use (walks deadlines and display periods forward)");
}

const Clock* BinaryClock(const BinaryOptions& options) {
  if (options.clock_offset_file.empty()) return RealClock();
  static std::unique_ptr<OffsetFileClock> shifted;
  shifted = std::make_unique<OffsetFileClock>(options.clock_offset_file);
  LogJson("warn", "clock shifted by --clock-offset-file (testing only)",
          {{"file", options.clock_offset_file}});
  return shifted.get();
}

absl::StatusOr<const Clock*> PrepareBinary(const BinaryOptions& options) {
  MARKET_RETURN_IF_ERROR(config::EnsureDir(options.data_dir));
  return BinaryClock(options);
}

std::shared_ptr<grpc::Channel> PeerChannel(const BinaryOptions& options, const std::string& peer) {
  auto it = options.peers.find(peer);
  return grpc::CreateChannel(it == options.peers.end() ? DefaultAddress(peer) : it->second,
                             PeerCredentials(options.server.tls));
}

int FailStart(const absl::Status& status) {
  LogJson("error", "start-up failed", {{"error", status.ToString()}});
  return 1;
}

int ServeUntilSignal(ServerRunner& runner, const std::function<void()>& started,
                     const std::function<void()>& stopping) {
  if (absl::Status s = runner.Start(); !s.ok()) return FailStart(s);
  if (started) started();
  WaitForShutdownSignal();
  if (stopping) stopping();
  runner.Shutdown();
  return 0;
}

int RunSingleServiceBinary(
    int argc, char** argv, const SingleServiceBinary& binary,
    const std::function<int(const BinaryOptions&, const Clock*, Metrics&)>& serve) {
  CLI::App app{binary.description};
  BinaryOptions flags;
  AddBinaryFlags(app, binary.service, binary.data_help, binary.peers, &flags);
  if (binary.add_flags) binary.add_flags(app);
  CLI11_PARSE(app, argc, argv);
  BlockShutdownSignals();
  absl::StatusOr<const Clock*> clock = PrepareBinary(flags);
  if (!clock.ok()) return FailStart(clock.status());
  Metrics metrics;
  return serve(flags, *clock, metrics);
}

}  // namespace market::server
