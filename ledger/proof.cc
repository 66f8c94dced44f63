#include "ledger/proof.h"

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status/status.h"
#include "ledger/merkle_tree.h"

namespace market::ledger {
namespace {

absl::Status CheckProofHashes(const std::vector<std::string>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    MARKET_RETURN_IF_ERROR(CheckHashSize(proof[i], absl::StrCat("proof[", i, "]")));
  }
  return absl::OkStatus();
}

// Number of hashes in the inclusion proof of leaf `index` in a tree of `size`
// leaves: the levels below the split where index and size-1 diverge (inner)
// plus the perfect subtrees along the right border above it.
size_t InclusionProofSize(uint64_t index, uint64_t size) {
  const int inner = static_cast<int>(std::bit_width(index ^ (size - 1)));
  return static_cast<size_t>(inner + std::popcount(index >> inner));
}

// Number of hashes in the consistency proof from size1 to size2 (1 <= size1 <
// size2): the inclusion proof of leaf size1-1 without the levels inside the
// perfect subtree that ends at size1, plus that subtree's hash unless it is the
// whole old tree (size1 a power of two).
size_t ConsistencyProofSize(uint64_t size1, uint64_t size2) {
  const int shift = static_cast<int>(std::countr_zero(size1));
  const size_t full = InclusionProofSize(size1 - 1, size2) - static_cast<size_t>(shift);
  return (size1 == (uint64_t{1} << shift)) ? full : full + 1;
}

absl::Status CheckRootsMatch(absl::string_view computed, absl::string_view expected,
                             absl::string_view what) {
  if (computed != expected) {
    return absl::DataLossError(absl::StrCat(what, " does not match the proof"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifyInclusion(int64_t index, int64_t size, absl::string_view leaf_hash,
                             const std::vector<std::string>& proof, absl::string_view root) {
  if (index < 0 || size <= 0 || index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("index ", index, " and size ", size, ", want 0 <= index < size"));
  }
  MARKET_RETURN_IF_ERROR(CheckHashSize(leaf_hash, "leaf hash"));
  MARKET_RETURN_IF_ERROR(CheckHashSize(root, "root"));
  MARKET_RETURN_IF_ERROR(CheckProofHashes(proof));
  const size_t want = InclusionProofSize(static_cast<uint64_t>(index), static_cast<uint64_t>(size));
  if (proof.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof has ", proof.size(), " hashes, want ", want));
  }

  // RFC 9162 §2.1.3.2.
  uint64_t fn = static_cast<uint64_t>(index);
  uint64_t sn = static_cast<uint64_t>(size) - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) return absl::InvalidArgumentError("inclusion proof is too long");
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("inclusion proof is too short");
  return CheckRootsMatch(r, root, "root");
}

absl::Status VerifyConsistency(int64_t size1, int64_t size2, absl::string_view root1,
                               absl::string_view root2, const std::vector<std::string>& proof) {
  if (size1 <= 0 || size2 < size1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sizes ", size1, " and ", size2, ", want 1 <= size1 <= size2"));
  }
  MARKET_RETURN_IF_ERROR(CheckHashSize(root1, "root1"));
  MARKET_RETURN_IF_ERROR(CheckHashSize(root2, "root2"));
  MARKET_RETURN_IF_ERROR(CheckProofHashes(proof));
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("consistency proof between equal sizes has ",
                                                     proof.size(), " hashes, want 0"));
    }
    if (root1 != root2) return absl::DataLossError("roots of equal sizes differ");
    return absl::OkStatus();
  }
  const size_t want =
      ConsistencyProofSize(static_cast<uint64_t>(size1), static_cast<uint64_t>(size2));
  if (proof.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof has ", proof.size(), " hashes, want ", want));
  }

  // RFC 9162 §2.1.4.2.
  std::vector<absl::string_view> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(static_cast<uint64_t>(size1))) path.push_back(root1);
  for (const std::string& p : proof) path.push_back(p);
  if (path.empty()) return absl::InvalidArgumentError("consistency proof is empty");

  uint64_t fn = static_cast<uint64_t>(size1) - 1;
  uint64_t sn = static_cast<uint64_t>(size2) - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr(path[0]);
  std::string sr(path[0]);
  for (size_t i = 1; i < path.size(); ++i) {
    const absl::string_view c = path[i];
    if (sn == 0) return absl::InvalidArgumentError("consistency proof is too long");
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("consistency proof is too short");
  MARKET_RETURN_IF_ERROR(CheckRootsMatch(fr, root1, "root1"));
  return CheckRootsMatch(sr, root2, "root2");
}

}  // namespace market::ledger
