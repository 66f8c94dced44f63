// Reads the credit ledger's C2SP tlog tiles over HTTP(S) for `marketctl ledger
// verify`: one keep-alive connection per concurrent caller. Thread-safe.
#ifndef MARKET_CLIENTS_MARKETCTL_TILE_FETCHER_H_
#define MARKET_CLIENTS_MARKETCTL_TILE_FETCHER_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/tiles.h"

namespace httplib {
class Client;
}

namespace market::ctl {

// The HTTP address matching gRPC address `grpc_server` ("HOST:PORT"): the same
// host, port + 1 (marketd's defaults 7400 and 7401); "https://" when `tls`;
// "" for a Unix socket (there is no port to derive from).
std::string DefaultHttpServer(const std::string& grpc_server, bool tls);

class HttpTileFetcher {
 public:
  // `base_url`: "http://HOST:PORT" or "https://HOST:PORT" (a bare HOST:PORT
  // means http). `ca_file`: PEM CA trusted for https ("" = system store).
  HttpTileFetcher(std::string base_url, std::string ca_file);
  ~HttpTileFetcher();

  // GET `path` (e.g. "/checkpoint"). 200 → the body. A 500 whose body says
  // "ledger integrity" → DATA_LOSS (the server found its stored hashes
  // inconsistent); 404 → NOT_FOUND; other failures → UNAVAILABLE.
  absl::StatusOr<std::string> Get(const std::string& path);
  // GET "/" + ledger::TilePath(tile).
  absl::StatusOr<std::string> Fetch(const ledger::TileRef& tile) {
    return Get("/" + ledger::TilePath(tile));
  }

 private:
  std::unique_ptr<httplib::Client> Take();
  void Give(std::unique_ptr<httplib::Client> client);

  std::string base_url_;
  std::string ca_file_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_TILE_FETCHER_H_
