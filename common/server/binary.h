// What every single-service binary (market-identity, market-credit, …) shares
// in main(): the common flags with their environment fallbacks, start-up
// failure reporting, and serving until SIGTERM/SIGINT. Call from main() only.
#ifndef MARKET_COMMON_SERVER_BINARY_H_
#define MARKET_COMMON_SERVER_BINARY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock/clock.h"
#include "common/server/runner.h"
#include "grpcpp/channel.h"

namespace market::server {

struct BinaryOptions {
  std::string data_dir = "./var";
  ServerOptions server;
  // JSON file {"subject", "api_key"} of the binary's SERVICE account.
  std::string credentials_file;
  // Peer service ("identity", "listing", "credit", …) → HOST:PORT.
  std::map<std::string, std::string> peers;
  // Seconds between runs of the schedulers (expiry, completion, deadlines).
  double scheduler_seconds = 60;
  // Testing and demonstrations only: seconds added to the real time.
  std::string clock_offset_file;
};

// Adds --scheduler-period and --clock-offset-file (marketd and every
// single-service binary, so a test drives both deployments the same way).
void AddClockFlags(CLI::App& app, BinaryOptions* options);

// The clock `options` ask for: the real one, or one shifted by the seconds in
// --clock-offset-file (logged as a warning). Lives as long as the process.
const Clock* BinaryClock(const BinaryOptions& options);

// "NAME 0.2.0 (commit 1a2b3c4d5e6f, RelWithDebInfo)": what --version prints.
std::string VersionString(const std::string& name);

// Adds --version (VersionString(name)) to `app`.
void AddVersionFlag(CLI::App& app, const std::string& name);

// The default gRPC HOST:PORT of each service in a split deployment
// (identity 7400, listing 7420, appraisal 7430, warranty 7440, credit 7450,
// stats 7460);
// its HTTP port is the next one.
std::string DefaultAddress(const std::string& service);

// Adds --version, --data-dir (`data_help`), --listen and --http-listen
// (defaults from `service`), and for each of `peers` --NAME-addr defaulting to
// $MARKET_NAME_ADDR or DefaultAddress(NAME), plus --service-credentials
// ($MARKET_SERVICE_CREDENTIALS; required when there are peers) and the
// AddClockFlags and AddTlsFlags (--peer-ca when there are peers).
void AddBinaryFlags(CLI::App& app, const std::string& service, const std::string& data_help,
                    const std::vector<std::string>& peers, BinaryOptions* options);

// The clock (BinaryClock) after making sure --data-dir exists (mode 0700).
absl::StatusOr<const Clock*> PrepareBinary(const BinaryOptions& options);

// A channel to peer service `peer` (its --PEER-addr): the one place a
// binary's peer channels are made: TLS with --peer-ca (and --tls-cert as the
// client certificate), else plaintext.
std::shared_ptr<grpc::Channel> PeerChannel(const BinaryOptions& options, const std::string& peer);

// Logs "start-up failed" with `status` as a JSON line; returns exit code 1.
int FailStart(const absl::Status& status);

// Starts `runner`, runs `started`, waits for SIGTERM/SIGINT (block them with
// BlockShutdownSignals() first), runs `stopping`, drains and stops the
// runner. Returns the process exit code.
int ServeUntilSignal(ServerRunner& runner, const std::function<void()>& started = {},
                     const std::function<void()>& stopping = {});

// What differs between the single-service binaries' start-ups (besides
// what their `serve` does).
struct SingleServiceBinary {
  // The --help description ("market-listing: …").
  std::string description;
  // AddBinaryFlags' service (flags' defaults), --data-dir help and peers.
  std::string service;
  std::string data_help;
  std::vector<std::string> peers;
  // Adds the binary's own flags after the common ones; may be empty.
  std::function<void(CLI::App&)> add_flags;
};

// A single-service binary's main(): the common flags (AddBinaryFlags) and
// `binary.add_flags` parsed from `argc`/`argv` (--help, --version and a bad
// flag end the process as CLI11_PARSE does), BlockShutdownSignals(),
// PrepareBinary() (FailStart when it fails); then `serve` opens the service
// with the flags, the clock and a metrics registry, serves it
// (ServeUntilSignal) and returns the process exit code.
int RunSingleServiceBinary(
    int argc, char** argv, const SingleServiceBinary& binary,
    const std::function<int(const BinaryOptions&, const Clock*, Metrics&)>& serve);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_BINARY_H_
