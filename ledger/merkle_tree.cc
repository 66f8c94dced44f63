#include "ledger/merkle_tree.h"

#include <bit>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"

namespace market::ledger {
namespace {

// The largest power of two strictly smaller than n (n >= 2).
int64_t SplitPoint(int64_t n) {
  return int64_t{1} << (std::bit_width(static_cast<uint64_t>(n - 1)) - 1);
}

bool IsPowerOfTwo(int64_t n) { return n > 0 && std::has_single_bit(static_cast<uint64_t>(n)); }

// Reads node (level, index) and checks that it is a digest.
absl::StatusOr<Hash> ReadNode(NodeSource& source, int level, int64_t index) {
  MARKET_ASSIGN_OR_RETURN(Hash hash, source.Node(level, index));
  if (hash.size() != kSha256Size) {
    return absl::DataLossError(absl::StrCat("merkle node (", level, ", ", index, ") has ",
                                            hash.size(), " bytes, want ", kSha256Size));
  }
  return hash;
}

// MTH(D[lo:hi]) for 0 <= lo < hi. A perfect aligned range is one stored node;
// any other range is split as RFC 9162 splits it, so a range that occurs in
// the RFC recursion costs popcount(hi - lo) reads.
absl::StatusOr<Hash> RangeHash(int64_t lo, int64_t hi, NodeSource& source) {
  const int64_t n = hi - lo;
  if (IsPowerOfTwo(n) && lo % n == 0) {
    return ReadNode(source, std::countr_zero(static_cast<uint64_t>(n)), lo / n);
  }
  const int64_t k = SplitPoint(n);
  MARKET_ASSIGN_OR_RETURN(Hash left, RangeHash(lo, lo + k, source));
  MARKET_ASSIGN_OR_RETURN(Hash right, RangeHash(lo + k, hi, source));
  return NodeHash(left, right);
}

// RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]) with m absolute, lo <= m < hi; appends
// leaf-to-root. Only the first sibling taken on the right can be non-perfect:
// after going left, every range is a perfect subtree.
absl::Status Path(int64_t m, int64_t lo, int64_t hi, NodeSource& source, std::vector<Hash>& out) {
  if (hi - lo == 1) return absl::OkStatus();
  const int64_t mid = lo + SplitPoint(hi - lo);
  if (m < mid) {
    MARKET_RETURN_IF_ERROR(Path(m, lo, mid, source, out));
    MARKET_ASSIGN_OR_RETURN(Hash sibling, RangeHash(mid, hi, source));
    out.push_back(std::move(sibling));
  } else {
    MARKET_RETURN_IF_ERROR(Path(m, mid, hi, source, out));
    MARKET_ASSIGN_OR_RETURN(Hash sibling, RangeHash(lo, mid, source));
    out.push_back(std::move(sibling));
  }
  return absl::OkStatus();
}

// RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b) with m absolute, lo < m <= hi.
absl::Status SubProof(int64_t m, int64_t lo, int64_t hi, bool b, NodeSource& source,
                      std::vector<Hash>& out) {
  if (m == hi) {
    if (!b) {
      MARKET_ASSIGN_OR_RETURN(Hash whole, RangeHash(lo, hi, source));
      out.push_back(std::move(whole));
    }
    return absl::OkStatus();
  }
  const int64_t mid = lo + SplitPoint(hi - lo);
  if (m <= mid) {
    MARKET_RETURN_IF_ERROR(SubProof(m, lo, mid, b, source, out));
    MARKET_ASSIGN_OR_RETURN(Hash right, RangeHash(mid, hi, source));
    out.push_back(std::move(right));
  } else {
    MARKET_RETURN_IF_ERROR(SubProof(m, mid, hi, false, source, out));
    MARKET_ASSIGN_OR_RETURN(Hash left, RangeHash(lo, mid, source));
    out.push_back(std::move(left));
  }
  return absl::OkStatus();
}

}  // namespace

Hash EmptyRootHash() { return Sha256(""); }

absl::Status CheckHashSize(absl::string_view hash, absl::string_view what) {
  if (hash.size() != kSha256Size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has ", hash.size(), " bytes, want ", kSha256Size));
  }
  return absl::OkStatus();
}

Hash LeafHash(absl::string_view leaf) {
  return Sha256(absl::StrCat(absl::string_view("\x00", 1), leaf));
}

Hash NodeHash(absl::string_view left, absl::string_view right) {
  return Sha256(absl::StrCat("\x01", left, right));
}

absl::StatusOr<std::vector<NodeWrite>> AppendLeaf(int64_t index, const Hash& leaf_hash,
                                                  NodeSource& source) {
  if (index < 0) return InvalidField("index", absl::StrCat(index, ", want >= 0"));
  if (leaf_hash.size() != kSha256Size) {
    return InvalidField("leaf_hash", absl::StrCat(leaf_hash.size(), " bytes, want ", kSha256Size));
  }
  std::vector<NodeWrite> writes;
  writes.push_back({.level = 0, .index = index, .hash = leaf_hash});
  int level = 0;
  int64_t i = index;
  while (i % 2 == 1) {
    MARKET_ASSIGN_OR_RETURN(Hash left, ReadNode(source, level, i - 1));
    Hash parent = NodeHash(left, writes.back().hash);
    ++level;
    i /= 2;
    writes.push_back({.level = level, .index = i, .hash = std::move(parent)});
  }
  return writes;
}

absl::StatusOr<Hash> RootHash(int64_t size, NodeSource& source) {
  if (size < 0) return InvalidField("tree_size", absl::StrCat(size, ", want >= 0"));
  if (size == 0) return EmptyRootHash();
  // The perfect subtrees of size's binary decomposition, largest (leftmost)
  // first; then fold them right to left.
  std::vector<std::pair<int, int64_t>> subtrees;
  int64_t start = 0;
  for (int level = 62; level >= 0; --level) {
    const int64_t width = int64_t{1} << level;
    if ((size & width) == 0) continue;
    subtrees.push_back({level, start >> level});
    start += width;
  }
  MARKET_ASSIGN_OR_RETURN(Hash root,
                          ReadNode(source, subtrees.back().first, subtrees.back().second));
  for (auto it = subtrees.rbegin() + 1; it != subtrees.rend(); ++it) {
    MARKET_ASSIGN_OR_RETURN(Hash left, ReadNode(source, it->first, it->second));
    root = NodeHash(left, root);
  }
  return root;
}

absl::StatusOr<std::vector<Hash>> InclusionProof(int64_t index, int64_t size, NodeSource& source) {
  if (size < 1) return InvalidField("tree_size", absl::StrCat(size, ", want >= 1"));
  if (index < 0 || index >= size) {
    return InvalidField("index", absl::StrCat(index, ", want in [0, tree_size ", size, ")"));
  }
  std::vector<Hash> proof;
  MARKET_RETURN_IF_ERROR(Path(index, 0, size, source, proof));
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(int64_t size1, int64_t size2,
                                                   NodeSource& source) {
  if (size1 < 1) return InvalidField("first_size", absl::StrCat(size1, ", want >= 1"));
  if (size2 < size1) {
    return InvalidField("second_size", absl::StrCat(size2, ", want >= first_size ", size1));
  }
  std::vector<Hash> proof;
  MARKET_RETURN_IF_ERROR(SubProof(size1, 0, size2, true, source, proof));
  return proof;
}

absl::StatusOr<Hash> MemoryNodeSource::Node(int level, int64_t index) {
  ++reads_;
  auto it = nodes_.find({level, index});
  if (it == nodes_.end()) {
    return absl::NotFoundError(absl::StrCat("merkle node (", level, ", ", index, ") not stored"));
  }
  return it->second;
}

absl::StatusOr<int64_t> MemoryNodeSource::Append(absl::string_view leaf) {
  MARKET_ASSIGN_OR_RETURN(std::vector<NodeWrite> writes, AppendLeaf(size_, LeafHash(leaf), *this));
  for (const NodeWrite& w : writes) Put(w);
  return ++size_;
}

void RootBuilder::AddLeafHash(absl::string_view leaf_hash) {
  Subtree node{0, Hash(leaf_hash)};
  while (!stack_.empty() && stack_.back().level == node.level) {
    node = Subtree{node.level + 1, NodeHash(stack_.back().hash, node.hash)};
    stack_.pop_back();
  }
  stack_.push_back(std::move(node));
  ++size_;
}

Hash RootBuilder::Root() const {
  if (stack_.empty()) return EmptyRootHash();
  // Perfect subtrees from largest (left) to smallest (right); the RFC 9162
  // split combines them right to left.
  Hash root = stack_.back().hash;
  for (size_t i = stack_.size() - 1; i-- > 0;) root = NodeHash(stack_[i].hash, root);
  return root;
}

}  // namespace market::ledger
