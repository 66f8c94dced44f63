// Costs of the credit ledger's Merkle tree on MemoryNodeSource at 10^4, 10^5
// and 10^6 leaves: append, root, inclusion proof and consistency proof, each
// with its node reads per operation (the "node_reads" counter), plus a full
// recomputation of the root from every leaf (RootBuilder) as a baseline.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "ledger/merkle_tree.h"

namespace market::ledger {
namespace {

constexpr int kWindow = 1024;  // Distinct operations cycled through per benchmark.

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
    if (!w.ok()) state.SkipWithError("AppendLeaf failed");
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
    if (!root.ok()) state.SkipWithError("RootHash failed");
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
    if (!proof.ok()) state.SkipWithError("InclusionProof failed");
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
    if (!proof.ok()) state.SkipWithError("ConsistencyProof failed");
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

BENCHMARK(BM_AppendLeaf)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_RootHash)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_InclusionProof)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_ConsistencyProof)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(BM_NaiveRootRecompute)->Arg(10'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace market::ledger

BENCHMARK_MAIN();
