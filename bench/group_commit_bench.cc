// Durable writes (synchronous=FULL, WAL) through sqlite::Database: one writer
// thread (one fsync per write: the baseline) versus 8 and 32 concurrent
// writers whose writes the group commit batches into shared transactions.
// Prints writes per second, transactions (≈ fsyncs) and the speed-up. Exits 1
// when any write failed or a row is missing afterwards. `group_commit_bench
// --smoke` writes 160 rows a run instead of 1,600 (seconds; ctest runs it).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/sqlite/database.h"

namespace {

struct Result {
  double writes_per_second;
  uint64_t transactions;
  uint64_t writes;
  int failures;  // failed writes, plus rows missing from the table afterwards
};

Result Run(int threads, int writes_per_thread) {
  std::string dir = "/tmp/market_group_commit_bench_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  market::sqlite::Options options;
  options.synchronous = market::sqlite::Options::Synchronous::kFull;
  auto db = market::sqlite::Database::Open(
      dir + "/bench.db", options,
      {{1, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);"}});
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    std::exit(1);
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < writes_per_thread; ++i) {
        absl::Status s = (*db)->Write([](market::sqlite::Connection& c) -> absl::Status {
          auto st = c.Prepare("INSERT INTO t(v) VALUES(?)");
          if (!st.ok()) return st.status();
          if (auto b = st->BindBlob(1, std::string(200, 'x')); !b.ok()) return b;
          return st->Run();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto stats = (*db)->GetWriteStats();
  int64_t rows = -1;
  absl::Status counted = (*db)->Read([&](market::sqlite::Connection& c) -> absl::Status {
    auto st = c.Prepare("SELECT count(*) FROM t");
    if (!st.ok()) return st.status();
    if (auto row = st->Step(); !row.ok()) return row.status();
    rows = st->ColumnInt64(0);
    return absl::OkStatus();
  });
  db->reset();
  std::filesystem::remove_all(dir);
  const int64_t want = static_cast<int64_t>(threads) * writes_per_thread;
  if (failures > 0) std::fprintf(stderr, "%d writes failed\n", failures.load());
  if (!counted.ok()) {
    std::fprintf(stderr, "count: %s\n", counted.ToString().c_str());
    ++failures;
  } else if (rows != want - failures) {
    std::fprintf(stderr, "%lld rows stored, want %lld\n", static_cast<long long>(rows),
                 static_cast<long long>(want - failures));
    failures += static_cast<int>(std::abs(want - failures - rows));
  }
  return Result{want / seconds, stats.transactions, stats.writes, failures.load()};
}

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  if (argc > 1 && !smoke) {
    std::fprintf(stderr, "usage: group_commit_bench [--smoke]\n");
    return 2;
  }
  const int total = smoke ? 160 : 1600;
  int failures = 0;
  Result base = Run(1, total);
  failures += base.failures;
  std::printf("%-28s %12s %14s %10s %8s\n", "durable writes (FULL, WAL)", "writes/s", "transactions",
              "writes", "speed-up");
  std::printf("%-28s %12.0f %14llu %10llu %8.2f\n", "1 writer (baseline)", base.writes_per_second,
              static_cast<unsigned long long>(base.transactions),
              static_cast<unsigned long long>(base.writes), 1.0);
  for (int threads : {8, 32}) {
    Result r = Run(threads, total / threads);
    failures += r.failures;
    std::printf("%-28s %12.0f %14llu %10llu %8.2f\n",
                (std::to_string(threads) + " concurrent writers").c_str(), r.writes_per_second,
                static_cast<unsigned long long>(r.transactions),
                static_cast<unsigned long long>(r.writes),
                r.writes_per_second / base.writes_per_second);
  }
  if (failures > 0) {
    std::fprintf(stderr, "group_commit_bench: %d writes failed or are missing\n", failures);
    return 1;
  }
  return 0;
}
