// Costs of the credit ledger's Merkle tree on MemoryNodeSource at 10^4, 10^5
// and 10^6 leaves: append, root, inclusion proof and consistency proof, each
// with its node reads per operation (the "node_reads" counter), plus a full
// recomputation of the root from every leaf (RootBuilder) as a baseline; and
// the same operations on the SQLite-backed SqliteCreditStore (credit.db,
// synchronous=FULL) at 10^3 and 10^4 records: a durable signed append, root,
// and proofs read from the stored subtree hashes.
//
// First it prints the group commit of appends: durable appends per second
// with 1 and 64 concurrent appenders, against raw SQLite inserts through the
// same sqlite::Database (synchronous=FULL, WAL, group commit) at the same
// concurrency and the raw Ed25519 signing rate, all measured in the same run,
// with the transactions and checkpoints signed per 1000 appends. Then the CPU
// of a durable append to subjects holding 10, 200 and 1000 records each (the
// standing update of credit_outbox.h), with its ratio to 10.
//
// `ledger_bench --smoke` runs every benchmark on small sizes for a few
// iterations (seconds; ctest runs it). Exits 1 when any operation failed.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/sqlite/database.h"
#include "common/crypto/crypto.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/checkpoint.h"
#include "ledger/credit_policy.h"
#include "ledger/merkle_tree.h"
#include "services/credit/sqlite_credit_store.h"

namespace market::ledger {
namespace {

constexpr int kWindow = 1024;  // Distinct operations cycled through per benchmark.

// Set when any measured operation fails; main() then exits 1.
std::atomic<bool> failed{false};

void Fail(benchmark::State& state, const std::string& what) {
  failed = true;
  state.SkipWithError(what.c_str());
}

// A tree of n leaves and those leaves' hashes, built once per size.
struct Fixture {
  MemoryNodeSource tree;
  std::vector<Hash> leaf_hashes;
};

Fixture& TreeOfSize(int64_t n) {
  static auto* cache = new std::map<int64_t, std::unique_ptr<Fixture>>();
  std::unique_ptr<Fixture>& slot = (*cache)[n];
  if (slot == nullptr) {
    slot = std::make_unique<Fixture>();
    slot->leaf_hashes.reserve(n);
    for (int64_t i = 0; i < n; ++i) {
      const std::string leaf = absl::StrCat("ledger entry ", i);
      slot->leaf_hashes.push_back(LeafHash(leaf));
      if (!slot->tree.Append(leaf).ok()) std::abort();
    }
  }
  return *slot;
}

std::vector<int64_t> RandomInts(int64_t lo, int64_t hi, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::vector<int64_t> out(kWindow);
  for (int64_t& x : out) x = dist(gen);
  return out;
}

void ReportReads(benchmark::State& state, MemoryNodeSource& tree) {
  state.counters["node_reads"] =
      benchmark::Counter(static_cast<double>(tree.reads()), benchmark::Counter::kAvgIterations);
}

// AppendLeaf for the last kWindow leaves of the tree (their nodes' inputs are
// stored): the hashing and reads of one append, amortised over odd and even
// indices. Storing the returned writes is the NodeSource's cost, not measured.
void BM_AppendLeaf(benchmark::State& state) {
  const int64_t n = state.range(0);
  Fixture& f = TreeOfSize(n);
  f.tree.reset_reads();
  int64_t writes = 0;
  int64_t i = 0;
  for (auto _ : state) {
    const int64_t index = n - kWindow + (i++ % kWindow);
    auto w = AppendLeaf(index, f.leaf_hashes[index], f.tree);
    if (!w.ok()) {
      Fail(state, "AppendLeaf failed");
      break;
    }
    writes += static_cast<int64_t>(w->size());
    benchmark::DoNotOptimize(w);
  }
  ReportReads(state, f.tree);
  state.counters["node_writes"] =
      benchmark::Counter(static_cast<double>(writes), benchmark::Counter::kAvgIterations);
}

void BM_RootHash(benchmark::State& state) {
  const int64_t n = state.range(0);
  Fixture& f = TreeOfSize(n);
  f.tree.reset_reads();
  for (auto _ : state) {
    auto root = RootHash(n, f.tree);
    if (!root.ok()) {
      Fail(state, "RootHash failed");
      break;
    }
    benchmark::DoNotOptimize(root);
  }
  ReportReads(state, f.tree);
}

void BM_InclusionProof(benchmark::State& state) {
  const int64_t n = state.range(0);
  Fixture& f = TreeOfSize(n);
  const std::vector<int64_t> indices = RandomInts(0, n - 1, 1);
  f.tree.reset_reads();
  int64_t i = 0;
  for (auto _ : state) {
    auto proof = InclusionProof(indices[i++ % kWindow], n, f.tree);
    if (!proof.ok()) {
      Fail(state, "InclusionProof failed");
      break;
    }
    benchmark::DoNotOptimize(proof);
  }
  ReportReads(state, f.tree);
}

void BM_ConsistencyProof(benchmark::State& state) {
  const int64_t n = state.range(0);
  Fixture& f = TreeOfSize(n);
  const std::vector<int64_t> firsts = RandomInts(1, n, 2);
  f.tree.reset_reads();
  int64_t i = 0;
  for (auto _ : state) {
    auto proof = ConsistencyProof(firsts[i++ % kWindow], n, f.tree);
    if (!proof.ok()) {
      Fail(state, "ConsistencyProof failed");
      break;
    }
    benchmark::DoNotOptimize(proof);
  }
  ReportReads(state, f.tree);
}

// Baseline: read every leaf hash and recompute MTH(D[0:n]) from scratch.
void BM_NaiveRootRecompute(benchmark::State& state) {
  const int64_t n = state.range(0);
  Fixture& f = TreeOfSize(n);
  f.tree.reset_reads();
  for (auto _ : state) {
    RootBuilder builder;
    for (int64_t i = 0; i < n; ++i) builder.AddLeafHash(*f.tree.Node(0, i));
    benchmark::DoNotOptimize(builder.Root());
  }
  ReportReads(state, f.tree);
}

// A SqliteCreditStore holding n records, built once per size in a temporary
// folder (8 concurrent appenders, so the group commit batches the set-up).
struct SqliteFixture {
  std::string dir;
  std::unique_ptr<credit::SqliteCreditStore> store;
  int64_t next = 0;  // event number of the next record to append
};

credit::Record BenchRecord(int64_t i) {
  credit::Record r;
  r.set_subject(absl::StrCat("subjects/seller-", i % 97));
  r.set_subject_role(common::v1::SELLER);
  r.set_type(credit::Record::TRADE_COMPLETED);
  r.set_tier(credit::Record::POSITIVE);
  r.set_counterparty(absl::StrCat("subjects/buyer-", i % 89));
  *r.mutable_occurred_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1'790'000'000 + i);
  r.set_event_id(absl::StrCat("bench-event-", i));
  return r;
}

SqliteFixture* SqliteStoreOfSize(int64_t n) {
  static auto* cache = new std::map<int64_t, std::unique_ptr<SqliteFixture>>();
  std::unique_ptr<SqliteFixture>& slot = (*cache)[n];
  if (slot != nullptr) return slot.get();
  auto f = std::make_unique<SqliteFixture>();
  f->dir = absl::StrCat("/tmp/market_ledger_bench_", ::getpid(), "_", n);
  std::filesystem::remove_all(f->dir);
  std::filesystem::create_directories(f->dir);
  auto key = Ed25519PrivateKey::Generate();
  if (!key.ok()) return nullptr;
  auto shared_key = std::make_shared<Ed25519PrivateKey>(*std::move(key));
  auto store = credit::SqliteCreditStore::Open(
      f->dir + "/credit.db", [shared_key](int64_t size, const Hash& root) {
        return SignCheckpoint({"bench/ledger", size, root}, "bench/ledger", *shared_key);
      });
  if (!store.ok()) {
    std::fprintf(stderr, "open credit.db: %s\n", store.status().ToString().c_str());
    return nullptr;
  }
  f->store = *std::move(store);
  std::atomic<int64_t> next{0};
  std::atomic<bool> ok{true};
  std::vector<std::thread> appenders;
  for (int t = 0; t < 8; ++t) {
    appenders.emplace_back([&] {
      for (int64_t i = next++; i < n && ok; i = next++) {
        if (auto r = f->store->Append(BenchRecord(i)); !r.ok()) {
          std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
          ok = false;
        }
      }
    });
  }
  for (auto& a : appenders) a.join();
  if (!ok) return nullptr;
  f->next = n;
  slot = std::move(f);
  return slot.get();
}

// Durable appends to a store of n records: the record, its subtree hashes and
// a newly signed checkpoint in one fsynced transaction.
void BM_SqliteAppend(benchmark::State& state) {
  SqliteFixture* f = SqliteStoreOfSize(state.range(0));
  if (f == nullptr) return Fail(state, "set-up failed");
  for (auto _ : state) {
    auto r = f->store->Append(BenchRecord(f->next++));
    if (!r.ok()) {
      Fail(state, r.status().ToString());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}

void BM_SqliteRootHash(benchmark::State& state) {
  const int64_t n = state.range(0);
  SqliteFixture* f = SqliteStoreOfSize(n);
  if (f == nullptr) return Fail(state, "set-up failed");
  for (auto _ : state) {
    auto root = f->store->RootHash(n);
    if (!root.ok()) {
      Fail(state, root.status().ToString());
      break;
    }
    benchmark::DoNotOptimize(root);
  }
}

void BM_SqliteInclusionProof(benchmark::State& state) {
  const int64_t n = state.range(0);
  SqliteFixture* f = SqliteStoreOfSize(n);
  if (f == nullptr) return Fail(state, "set-up failed");
  const std::vector<int64_t> indices = RandomInts(0, n - 1, 1);
  int64_t i = 0;
  for (auto _ : state) {
    auto proof = f->store->InclusionProof(indices[i++ % kWindow], n);
    if (!proof.ok()) {
      Fail(state, proof.status().ToString());
      break;
    }
    benchmark::DoNotOptimize(proof);
  }
}

void BM_SqliteConsistencyProof(benchmark::State& state) {
  const int64_t n = state.range(0);
  SqliteFixture* f = SqliteStoreOfSize(n);
  if (f == nullptr) return Fail(state, "set-up failed");
  const std::vector<int64_t> firsts = RandomInts(1, n, 2);
  int64_t i = 0;
  for (auto _ : state) {
    auto proof = f->store->ConsistencyProof(firsts[i++ % kWindow], n);
    if (!proof.ok()) {
      Fail(state, proof.status().ToString());
      break;
    }
    benchmark::DoNotOptimize(proof);
  }
}

// ---- Group commit of durable appends (printed table, not google-benchmark) ----

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs `op(thread, i)` for i in [0, per_thread) on each of `threads` threads;
// returns operations per second, counting failures in `failures`.
template <typename Op>
double Throughput(int threads, int per_thread, std::atomic<int>& failures, Op op) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        if (!op(t, i)) ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  return threads * per_thread / SecondsSince(start);
}

// A fresh folder for one measurement.
std::string FreshDir(const std::string& name) {
  std::string dir = absl::StrCat("/tmp/market_ledger_bench_", ::getpid(), "_", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Ed25519 signatures per second over a checkpoint-sized message.
double SignRate(const Ed25519PrivateKey& key, int n) {
  const std::string body = absl::StrCat("bench/ledger\n1000000\n", std::string(44, 'A'), "\n");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto sig = key.Sign(body);
    if (!sig.ok()) std::abort();
    benchmark::DoNotOptimize(sig);
  }
  return n / SecondsSince(start);
}

// Inserts of one leaf-sized row each through sqlite::Database (FULL, WAL).
double RawInserts(int threads, int per_thread, std::atomic<int>& failures, uint64_t* txns) {
  std::string dir = FreshDir(absl::StrCat("raw", threads));
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  auto db = sqlite::Database::Open(
      dir + "/raw.db", options,
      {{1, "CREATE TABLE t (id INTEGER PRIMARY KEY, leaf BLOB NOT NULL, key TEXT UNIQUE);"}});
  if (!db.ok()) std::abort();
  const std::string leaf(120, 'x');
  double rate = Throughput(threads, per_thread, failures, [&](int t, int i) {
    return (*db)
        ->Write([&](sqlite::Connection& c) -> absl::Status {
          MARKET_ASSIGN_OR_RETURN(sqlite::Statement st,
                                  c.Prepare("INSERT INTO t(leaf, key) VALUES(?, ?)"));
          MARKET_RETURN_IF_ERROR(st.BindBlob(1, leaf));
          MARKET_RETURN_IF_ERROR(st.BindText(2, absl::StrCat(t, "-", i)));
          return st.Run();
        })
        .ok();
  });
  *txns = (*db)->GetWriteStats().transactions;
  db->reset();
  std::filesystem::remove_all(dir);
  return rate;
}

// Durable SqliteCreditStore appends; sets the store's counters.
double LedgerAppends(int threads, int per_thread, std::atomic<int>& failures,
                     std::shared_ptr<Ed25519PrivateKey> key, credit::AppendStats* stats) {
  std::string dir = FreshDir(absl::StrCat("append", threads));
  auto store = credit::SqliteCreditStore::Open(
      dir + "/credit.db", [key](int64_t size, const Hash& root) {
        return SignCheckpoint({"bench/ledger", size, root}, "bench/ledger", *key);
      });
  if (!store.ok()) std::abort();
  double rate = Throughput(threads, per_thread, failures, [&](int t, int i) {
    auto r = (*store)->Append(BenchRecord(static_cast<int64_t>(t) * per_thread + i));
    return r.ok() && !r->existed && r->checkpoint.size > r->record.index();
  });
  *stats = (*store)->GetAppendStats();
  if (*(*store)->Size() != static_cast<int64_t>(threads) * per_thread) failures += 1;
  store->reset();
  std::filesystem::remove_all(dir);
  return rate;
}

// Prints the table; returns false when any write failed.
bool PrintAppendThroughput(bool smoke) {
  auto key = Ed25519PrivateKey::Generate();
  if (!key.ok()) return false;
  auto shared_key = std::make_shared<Ed25519PrivateKey>(*std::move(key));
  const double signs = SignRate(*shared_key, smoke ? 200 : 20'000);
  std::printf("raw Ed25519 signatures: %.0f/s\n", signs);
  std::printf("%-10s %10s %14s %7s %11s %13s %14s %11s\n", "appenders", "appends/s",
              "raw inserts/s", "vs raw", "vs signing", "batches/1000", "raw txns/1000",
              "ckpts/1000");
  std::atomic<int> failures{0};
  for (int threads : {1, 64}) {
    const int per_thread = smoke ? (threads == 1 ? 40 : 4) : (threads == 1 ? 1'000 : 150);
    uint64_t raw_txns = 0;
    const double raw = RawInserts(threads, per_thread, failures, &raw_txns);
    credit::AppendStats stats;
    const double appends = LedgerAppends(threads, per_thread, failures, shared_key, &stats);
    const double n = static_cast<double>(stats.appends);
    std::printf("%-10d %10.0f %14.0f %7.2f %11.2f %13.1f %14.1f %11.1f\n", threads, appends, raw,
                appends / raw, appends / signs, 1000.0 * stats.batches / n,
                1000.0 * raw_txns / (threads * per_thread), 1000.0 * stats.checkpoints / n);
  }
  if (failures > 0) std::fprintf(stderr, "ledger_bench: %d appends failed\n", failures.load());
  return failures == 0;
}

// ---- Standing updates of subjects with long histories (printed table) ----

// Record `seq` of subject `subject`: a trade with one of 40 buyers every 2
// days, every 20th a MINOR; recorded when it occurred (so "now" advances).
credit::Record SubjectRecord(int subject, int64_t seq) {
  credit::Record r;
  r.set_subject(absl::StrCat("subjects/busy-", subject));
  r.set_subject_role(common::v1::SELLER);
  if (seq % 20 == 7) {
    r.set_type(credit::Record::CLAIM_REPLY_MISSED);
  } else {
    r.set_type(credit::Record::TRADE_COMPLETED);
    r.set_counterparty(absl::StrCat("subjects/buyer-", seq % 40));
  }
  r.set_tier(TierOf(r.type()));
  *r.mutable_occurred_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1'700'000'000 + seq * 2 * 86'400);
  r.set_event_id(absl::StrCat("busy-", subject, "-", seq));
  return r;
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// CPU of one durable append (on the appending thread, which runs the
// transaction: record, subtree hashes, outbox events, the subject's standing
// segments, checkpoint signature) to subjects that already hold `k` records
// each; -1 when an append failed.
double CpuPerSubjectAppend(int subjects, int64_t k, int appends,
                           std::shared_ptr<Ed25519PrivateKey> key) {
  std::string dir = FreshDir(absl::StrCat("busy", k));
  auto store = credit::SqliteCreditStore::Open(
      dir + "/credit.db", [key](int64_t size, const Hash& root) {
        return SignCheckpoint({"bench/ledger", size, root}, "bench/ledger", *key);
      });
  if (!store.ok()) return -1;
  std::atomic<int> failures{0};
  const int threads = 16;
  const int64_t per_thread = (subjects * k + threads - 1) / threads;
  Throughput(threads, static_cast<int>(per_thread), failures, [&](int t, int i) {
    const int64_t g = t * per_thread + i;
    if (g >= subjects * k) return true;
    return (*store)->Append(SubjectRecord(static_cast<int>(g % subjects), g / subjects)).ok();
  });
  const double start = ThreadCpuSeconds();
  for (int i = 0; i < appends && failures == 0; ++i) {
    if (!(*store)->Append(SubjectRecord(i % subjects, k + i / subjects)).ok()) ++failures;
  }
  const double cpu = (ThreadCpuSeconds() - start) / appends;
  store->reset();
  std::filesystem::remove_all(dir);
  return failures == 0 ? cpu : -1;
}

// Prints the CPU per append against the records its subject already holds
// (credit_outbox.h recomputes the subject's standing in every append); the
// ratio to 10 records per subject shows how the update grows with history.
// Returns false when any append failed.
bool PrintSubjectAppendCost(bool smoke) {
  auto key = Ed25519PrivateKey::Generate();
  if (!key.ok()) return false;
  auto shared_key = std::make_shared<Ed25519PrivateKey>(*std::move(key));
  const int subjects = smoke ? 4 : 8;
  const int appends = smoke ? 20 : 400;
  std::printf("\n%-20s %14s %12s\n", "records/subject", "CPU/append us", "vs 10");
  double base = 0;
  for (int64_t k : smoke ? std::vector<int64_t>{10, 100} : std::vector<int64_t>{10, 200, 1000}) {
    const double cpu = CpuPerSubjectAppend(subjects, k, appends, shared_key);
    if (cpu < 0) {
      std::fprintf(stderr, "ledger_bench: appends to busy subjects failed\n");
      return false;
    }
    if (k == 10) base = cpu;
    std::printf("%-20lld %14.0f %12.2f\n", static_cast<long long>(k), cpu * 1e6, cpu / base);
  }
  std::printf("\n");
  return true;
}

// StandingFrom over one subject's n records (SubjectRecord), from the last
// one's time: the sweep, and the definition it replaces (Evaluate at every
// change time) as the baseline.
std::vector<credit::Record> SubjectHistory(int64_t n) {
  std::vector<credit::Record> records;
  for (int64_t j = 0; j < n; ++j) {
    records.push_back(SubjectRecord(0, j));
    records.back().set_index(j);
  }
  return records;
}

template <auto Standing>
void BM_Standing(benchmark::State& state) {
  const std::vector<credit::Record> records = SubjectHistory(state.range(0));
  const absl::Time from = absl::FromUnixSeconds(records.back().occurred_time().seconds());
  for (auto _ : state) {
    std::vector<StandingSegment> segments = Standing(records.front().subject(), records, from);
    benchmark::DoNotOptimize(segments);
  }
}

// Registers every benchmark: the full sizes, or small ones with a few
// iterations each for --smoke.
void Register(bool smoke) {
  using Fn = void (*)(benchmark::State&);
  const std::vector<int64_t> memory_sizes =
      smoke ? std::vector<int64_t>{2'000} : std::vector<int64_t>{10'000, 100'000, 1'000'000};
  const std::vector<int64_t> sqlite_sizes =
      smoke ? std::vector<int64_t>{300} : std::vector<int64_t>{1'000, 10'000};
  auto add = [smoke](const char* name, Fn fn, const std::vector<int64_t>& sizes,
                     benchmark::TimeUnit unit) {
    for (int64_t n : sizes) {
      auto* b = benchmark::RegisterBenchmark(name, fn)->Arg(n)->Unit(unit);
      if (smoke) b->Iterations(20);
    }
  };
  add("BM_AppendLeaf", BM_AppendLeaf, memory_sizes, benchmark::kNanosecond);
  add("BM_RootHash", BM_RootHash, memory_sizes, benchmark::kNanosecond);
  add("BM_InclusionProof", BM_InclusionProof, memory_sizes, benchmark::kNanosecond);
  add("BM_ConsistencyProof", BM_ConsistencyProof, memory_sizes, benchmark::kNanosecond);
  add("BM_NaiveRootRecompute", BM_NaiveRootRecompute, {memory_sizes.front()},
      benchmark::kMicrosecond);
  add("BM_SqliteAppend", BM_SqliteAppend, sqlite_sizes, benchmark::kMicrosecond);
  const std::vector<int64_t> history_sizes =
      smoke ? std::vector<int64_t>{100} : std::vector<int64_t>{200, 1'000};
  add("BM_StandingFrom", BM_Standing<StandingFrom>, history_sizes, benchmark::kMicrosecond);
  add("BM_StandingFromByEvaluate", BM_Standing<StandingFromByEvaluate>, history_sizes,
      benchmark::kMicrosecond);
  add("BM_SqliteRootHash", BM_SqliteRootHash, sqlite_sizes, benchmark::kMicrosecond);
  add("BM_SqliteInclusionProof", BM_SqliteInclusionProof, sqlite_sizes, benchmark::kMicrosecond);
  add("BM_SqliteConsistencyProof", BM_SqliteConsistencyProof, sqlite_sizes,
      benchmark::kMicrosecond);
}

}  // namespace
}  // namespace market::ledger

int main(int argc, char** argv) {
  bool smoke = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      smoke = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  if (!market::ledger::PrintAppendThroughput(smoke)) market::ledger::failed = true;
  if (!market::ledger::PrintSubjectAppendCost(smoke)) market::ledger::failed = true;
  market::ledger::Register(smoke);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const auto& entry : std::filesystem::directory_iterator("/tmp")) {
    if (entry.path().filename().string().rfind(
            absl::StrCat("market_ledger_bench_", ::getpid(), "_"), 0) == 0) {
      std::filesystem::remove_all(entry.path());
    }
  }
  if (market::ledger::failed) {
    std::fprintf(stderr, "ledger_bench: an operation failed (see the error_message above)\n");
    return 1;
  }
  return 0;
}
