// Bulk ledger verification from C2SP tlog tiles against the SHA-256 bound,
// measured in the same run. The bound is what any verifier of the tree must
// at least hash: two SHA-256 per record (the leaf hash and one interior node)
// on one core, timed here over 64-byte inputs. Two set-ups:
//  - memory: VerifyTreeFromTiles over tiles already in memory (N = 10^5 and
//    10^6 v2 leaves), 1 and 2 threads: the verifier's own cost;
//  - http: marketd's code path end to end: a SqliteCreditStore (credit.db,
//    durable appends) served by a ServerRunner's HTTP port
//    (AddLedgerHttpRoutes) and fetched by marketctl's HttpTileFetcher with 8
//    connections (N = 10^4 and 10^5).
// Prints records/s, the bound and their ratio. `--smoke` runs small sizes in
// seconds (ctest); exits 1 when a verification fails.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "clients/marketctl/tile_fetcher.h"
#include "common/crypto/crypto.h"
#include "common/server/runner.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/checkpoint.h"
#include "ledger/leaf.h"
#include "ledger/tiles.h"
#include "services/credit/ledger_http.h"
#include "services/credit/sqlite_credit_store.h"

namespace market::ledger {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

credit::Record BenchRecord(int64_t i) {
  credit::Record r;
  r.set_index(i);
  r.set_subject(absl::StrCat("subjects/seller-", i % 97));
  r.set_subject_role(common::v1::SELLER);
  r.set_type(credit::Record::TRADE_COMPLETED);
  r.set_tier(credit::Record::POSITIVE);
  r.set_counterparty(absl::StrCat("subjects/buyer-", i % 89));
  r.set_reference(absl::StrCat("markets/m1/orders/o-", i));
  *r.mutable_occurred_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1'790'000'000 + i);
  r.set_event_id(absl::StrCat("bench-event-", i));
  return r;
}

// Records per second at the SHA-256 bound: 2 hashes of 64 bytes per record.
double BoundRecordsPerSecond(int64_t records) {
  std::string block(64, 'b');
  auto start = Clock::now();
  for (int64_t i = 0; i < 2 * records; ++i) {
    std::string h = Sha256(block);
    std::memcpy(block.data(), h.data(), h.size());
  }
  return static_cast<double>(records) / Seconds(start);
}

// The tiles of n v2 leaves, encoded once.
struct MemoryTiles {
  std::map<std::pair<int, int64_t>, std::string> bodies;  // (level, index) → full-width body
  Hash root;
};

MemoryTiles BuildTiles(int64_t n) {
  MemoryTiles t;
  MemoryNodeSource nodes;
  std::vector<std::string> leaves;
  for (int64_t i = 0; i < n; ++i) {
    leaves.push_back(CommittedLeaf(BenchRecord(i), std::string(kSaltSize, static_cast<char>(i))));
    if (!nodes.Append(leaves.back()).ok()) std::abort();
  }
  t.root = *RootHash(n, nodes);
  for (const TileRef& ref : TilesOfTree(n)) {
    std::string body;
    if (ref.level == kEntriesLevel) {
      std::vector<std::string> part(leaves.begin() + ref.index * 256,
                                    leaves.begin() + ref.index * 256 + ref.width);
      body = *EncodeEntryBundle(part);
    } else {
      for (int i = 0; i < ref.width; ++i) body += *nodes.Node(8 * ref.level, ref.index * 256 + i);
    }
    t.bodies[{ref.level, ref.index}] = std::move(body);
  }
  return t;
}

bool failed = false;

void Report(const char* setup, int64_t n, int threads, double seconds, double bound) {
  const double rate = static_cast<double>(n) / seconds;
  std::printf("%-7s %9lld records %2d threads  %8.3f s  %11.0f records/s  bound %11.0f  ratio %.2f\n",
              setup, static_cast<long long>(n), threads, seconds, rate, bound, rate / bound);
  std::fflush(stdout);
}

void RunMemory(int64_t n) {
  MemoryTiles tiles = BuildTiles(n);
  const double bound = BoundRecordsPerSecond(n);
  for (int threads : {1, 2}) {
    auto start = Clock::now();
    auto v = VerifyTreeFromTiles(
        n, tiles.root,
        [&](const TileRef& ref) -> absl::StatusOr<std::string> {
          return tiles.bodies.at({ref.level, ref.index});
        },
        [](int64_t index, absl::string_view leaf) -> absl::Status {
          absl::StatusOr<ParsedLeaf> p = ParseLeaf(leaf);
          if (!p.ok() || p->public_view.index() != index) return absl::DataLossError("entry");
          return absl::OkStatus();
        },
        threads);
    if (!v.ok()) {
      std::fprintf(stderr, "memory verification failed: %s\n", v.status().ToString().c_str());
      failed = true;
      return;
    }
    Report("memory", n, threads, Seconds(start), bound);
  }
}

void RunHttp(int64_t n) {
  const std::string dir = absl::StrCat("/tmp/market_tile_bench_", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto key = std::make_shared<Ed25519PrivateKey>(*Ed25519PrivateKey::Generate());
  auto store = credit::SqliteCreditStore::Open(dir + "/credit.db", [key](int64_t size,
                                                                          const Hash& root) {
    return SignCheckpoint({"bench/ledger/v2", size, root}, "bench/ledger/v2", *key);
  });
  if (!store.ok()) std::abort();
  std::atomic<int64_t> next{0};
  std::vector<std::thread> appenders;
  for (int t = 0; t < 8; ++t) {
    appenders.emplace_back([&] {
      for (int64_t i = next++; i < n; i = next++) {
        credit::Record r = BenchRecord(i);
        r.clear_index();
        if (!(*store)->Append(r).ok()) std::abort();
      }
    });
  }
  for (auto& a : appenders) a.join();
  server::ServerRunner runner({.service = "tile-bench", .listen = "127.0.0.1:0",
                               .http_listen = "127.0.0.1:0"},
                              nullptr);
  credit::AddLedgerHttpRoutes(runner, store->get());
  if (!runner.Start().ok()) std::abort();
  const Hash root = (*store)->LatestCheckpoint()->root;
  const double bound = BoundRecordsPerSecond(n);
  for (int threads : {1, 8}) {
    ctl::HttpTileFetcher fetcher(absl::StrCat("127.0.0.1:", runner.http_port()), "");
    auto start = Clock::now();
    auto v = VerifyTreeFromTiles(
        n, root, [&](const TileRef& ref) { return fetcher.Fetch(ref); }, nullptr, threads);
    if (!v.ok()) {
      std::fprintf(stderr, "http verification failed: %s\n", v.status().ToString().c_str());
      failed = true;
      break;
    }
    Report("http", n, threads, Seconds(start), bound);
  }
  runner.Shutdown(absl::ZeroDuration());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace market::ledger

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  std::printf("ledger verification from tiles vs the SHA-256 bound (2 hashes per record, 1 core)\n");
  for (int64_t n : smoke ? std::vector<int64_t>{3'000} : std::vector<int64_t>{100'000, 1'000'000}) {
    market::ledger::RunMemory(n);
  }
  for (int64_t n : smoke ? std::vector<int64_t>{600} : std::vector<int64_t>{10'000, 100'000}) {
    market::ledger::RunHttp(n);
  }
  return market::ledger::failed ? 1 : 0;
}
