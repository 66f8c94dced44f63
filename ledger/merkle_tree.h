// The credit ledger's Merkle tree (the one implementation the credit service
// and the outside verifier share), hashed exactly as RFC 6962 / RFC 9162:
// leaf hash SHA-256(0x00 ‖ leaf), node hash SHA-256(0x01 ‖ left ‖ right), a
// tree of n leaves split at the largest power of two smaller than n, empty
// root SHA-256("").
//
// Storage model: the hash of every *perfect* subtree is stored once, as node
// (level, index) covering leaves [index·2^level, (index+1)·2^level). Appending
// a leaf writes at most log2(n)+1 nodes; a root, an inclusion proof or a
// consistency proof reads O(log n) nodes; nothing ever rehashes the log.
//
// Pure domain code: no gRPC or SQLite types. Functions are thread-compatible
// (they only call the NodeSource they are given); RootBuilder and
// MemoryNodeSource are not thread-safe.
#ifndef MARKET_LEDGER_MERKLE_TREE_H_
#define MARKET_LEDGER_MERKLE_TREE_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace market::ledger {

// A 32-byte SHA-256 digest.
using Hash = std::string;

// The root of the empty tree, SHA-256("").
Hash EmptyRootHash();
// SHA-256(0x00 ‖ leaf).
Hash LeafHash(absl::string_view leaf);
// SHA-256(0x01 ‖ left ‖ right).
Hash NodeHash(absl::string_view left, absl::string_view right);

// OK if `hash` has 32 bytes, else INVALID_ARGUMENT naming it `what`.
absl::Status CheckHashSize(absl::string_view hash, absl::string_view what);

// Where stored perfect-subtree hashes come from.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // The hash of node (level, index); NOT_FOUND if it was never stored.
  virtual absl::StatusOr<Hash> Node(int level, int64_t index) = 0;
};

struct NodeWrite {
  int level;
  int64_t index;
  Hash hash;
};

// The nodes to store when the leaf with hash `leaf_hash` is appended at
// `index` (the current tree size): the leaf node itself and every perfect
// subtree it completes. Reads at most log2(index+1) nodes from `source`.
absl::StatusOr<std::vector<NodeWrite>> AppendLeaf(int64_t index, const Hash& leaf_hash,
                                                  NodeSource& source);

// The root hash of the first `size` leaves (EmptyRootHash() for 0).
absl::StatusOr<Hash> RootHash(int64_t size, NodeSource& source);

// RFC 9162 §2.1.3 inclusion proof (PATH) of leaf `index` in the tree of
// `size` leaves, leaf-to-root order. INVALID_ARGUMENT unless 0 <= index < size.
absl::StatusOr<std::vector<Hash>> InclusionProof(int64_t index, int64_t size, NodeSource& source);

// RFC 9162 §2.1.4 consistency proof between sizes `size1` and `size2`.
// INVALID_ARGUMENT unless 1 <= size1 <= size2; empty when size1 == size2.
absl::StatusOr<std::vector<Hash>> ConsistencyProof(int64_t size1, int64_t size2,
                                                   NodeSource& source);

// A NodeSource in memory, for tests and benchmarks. Not thread-safe.
class MemoryNodeSource final : public NodeSource {
 public:
  absl::StatusOr<Hash> Node(int level, int64_t index) override;
  void Put(const NodeWrite& w) { nodes_[{w.level, w.index}] = w.hash; }
  // Appends a leaf (leaf bytes, not hash) and stores its nodes; returns the new size.
  absl::StatusOr<int64_t> Append(absl::string_view leaf);
  int64_t size() const { return size_; }
  int64_t reads() const { return reads_; }
  void reset_reads() { reads_ = 0; }

 private:
  std::map<std::pair<int, int64_t>, Hash> nodes_;
  int64_t size_ = 0;
  int64_t reads_ = 0;
};

// Recomputes a root from all leaf hashes in order, in O(n) hashing and
// O(log n) memory (a stack of perfect-subtree roots), so a client can check a
// checkpoint against every record it downloaded.
class RootBuilder {
 public:
  // Adds the next leaf's hash (LeafHash of its bytes).
  void AddLeafHash(absl::string_view leaf_hash);
  int64_t size() const { return size_; }
  // The root of the leaves added so far (EmptyRootHash() for none).
  Hash Root() const;

 private:
  struct Subtree {
    int level;
    Hash hash;
  };
  std::vector<Subtree> stack_;  // strictly decreasing levels
  int64_t size_ = 0;
};

}  // namespace market::ledger

#endif  // MARKET_LEDGER_MERKLE_TREE_H_
