#include "ledger/merkle_tree.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/crypto/crypto.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/proof.h"
#include "ledger/rfc6962_testing.h"

namespace market::ledger {
namespace {

using ::market::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> HexAll(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  for (const Hash& h : hashes) out.push_back(HexEncode(h));
  return out;
}

// ---- Reference verifiers, written from RFC 9162 independently of proof.cc ----

// RFC 9162 §2.1.3.2.
bool RefVerifyInclusion(int64_t leaf_index, int64_t tree_size, const Hash& leaf_hash,
                        const std::vector<Hash>& path, const Hash& root) {
  if (leaf_index < 0 || leaf_index >= tree_size) return false;
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : path) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = RefNodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = RefNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

// RFC 9162 §2.1.4.2 (plus the trivial first == second case).
bool RefVerifyConsistency(int64_t first, int64_t second, const Hash& first_hash,
                          const Hash& second_hash, std::vector<Hash> path) {
  if (first < 1 || second < first) return false;
  if (first == second) return path.empty() && first_hash == second_hash;
  if (path.empty()) return false;
  if (std::has_single_bit(static_cast<uint64_t>(first))) path.insert(path.begin(), first_hash);
  uint64_t fn = first - 1;
  uint64_t sn = second - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = RefNodeHash(c, fr);
      sr = RefNodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = RefNodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_hash && sr == second_hash && sn == 0;
}

// Fails (NOT_FOUND) any read of a node reaching past leaf `bound`, so a test
// catches an implementation that looks beyond the tree it was asked about.
class BoundedSource final : public NodeSource {
 public:
  BoundedSource(NodeSource& inner, int64_t bound) : inner_(inner), bound_(bound) {}
  absl::StatusOr<Hash> Node(int level, int64_t index) override {
    if ((index + 1) << level > bound_) {
      return absl::NotFoundError(absl::StrCat("node (", level, ", ", index, ") beyond ", bound_));
    }
    return inner_.Node(level, index);
  }

 private:
  NodeSource& inner_;
  int64_t bound_;
};

// ---- RFC 6962 test vectors ----

// Every perfect subtree of the 8-leaf tree, by [level][index] (trillian's
// merkle/testonly NodeHashes()).
const std::vector<std::vector<std::string>> kVectorNodes = {
    {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"},
    {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"},
    {"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
    {"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"},
};

class MerkleVectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& leaf : VectorLeaves()) ASSERT_OK(tree_.Append(leaf));
  }
  MemoryNodeSource tree_;
};

TEST(MerkleHashTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(HexEncode(EmptyRootHash()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(MerkleHashTest, LeafAndNodeHashesUseDomainSeparationPrefixes) {
  EXPECT_EQ(LeafHash("abc"), RefLeafHash("abc"));
  EXPECT_EQ(HexEncode(LeafHash("")), kVectorNodes[0][0]);
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  EXPECT_EQ(NodeHash(a, b), RefNodeHash(a, b));
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
}

TEST_F(MerkleVectorTest, RootHashesMatchRfc6962Vectors) {
  for (int64_t size = 0; size <= 8; ++size) {
    ASSERT_OK_AND_ASSIGN(Hash root, RootHash(size, tree_));
    EXPECT_EQ(HexEncode(root), kVectorRoots[size]) << "size " << size;
  }
}

TEST_F(MerkleVectorTest, StoredNodesMatchTrillianNodeHashes) {
  for (size_t level = 0; level < kVectorNodes.size(); ++level) {
    for (size_t index = 0; index < kVectorNodes[level].size(); ++index) {
      ASSERT_OK_AND_ASSIGN(Hash node, tree_.Node(static_cast<int>(level), index));
      EXPECT_EQ(HexEncode(node), kVectorNodes[level][index]) << level << "/" << index;
    }
  }
  EXPECT_THAT(tree_.Node(0, 8), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(tree_.Node(4, 0), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MerkleVectorTest, InclusionProofsMatchRfc6962Vectors) {
  struct Case {
    int64_t index;
    int64_t size;
    std::vector<std::string> path;
  };
  const std::vector<Case> cases = {
      {0, 1, {}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  const std::vector<std::string> leaves = VectorLeaves();
  for (const Case& c : cases) {
    ASSERT_OK_AND_ASSIGN(std::vector<Hash> path, InclusionProof(c.index, c.size, tree_));
    EXPECT_THAT(HexAll(path), ElementsAreArray(c.path)) << c.index << " in " << c.size;
    EXPECT_TRUE(RefVerifyInclusion(c.index, c.size, RefLeafHash(leaves[c.index]), path,
                                   Unhex(kVectorRoots[c.size])));
  }
}

TEST_F(MerkleVectorTest, ConsistencyProofsMatchRfc6962Vectors) {
  struct Case {
    int64_t size1;
    int64_t size2;
    std::vector<std::string> proof;
  };
  const std::vector<Case> cases = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const Case& c : cases) {
    ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, ConsistencyProof(c.size1, c.size2, tree_));
    EXPECT_THAT(HexAll(proof), ElementsAreArray(c.proof)) << c.size1 << " -> " << c.size2;
    EXPECT_TRUE(RefVerifyConsistency(c.size1, c.size2, Unhex(kVectorRoots[c.size1]),
                                     Unhex(kVectorRoots[c.size2]), proof));
  }
}

TEST_F(MerkleVectorTest, AppendLeafReturnsLeafAndEveryCompletedSubtree) {
  // Leaf 7 of the vector tree completes (1, 3), (2, 1) and (3, 0).
  MemoryNodeSource seven;
  const std::vector<std::string> leaves = VectorLeaves();
  for (int i = 0; i < 7; ++i) ASSERT_OK(seven.Append(leaves[i]));
  seven.reset_reads();
  ASSERT_OK_AND_ASSIGN(std::vector<NodeWrite> writes, AppendLeaf(7, LeafHash(leaves[7]), seven));
  EXPECT_EQ(seven.reads(), 3);
  ASSERT_EQ(writes.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(writes[i].level, i);
    EXPECT_EQ(writes[i].index, 7 >> i);
    EXPECT_EQ(HexEncode(writes[i].hash), kVectorNodes[i][7 >> i]);
  }
  // An even index completes nothing and reads nothing.
  seven.reset_reads();
  ASSERT_OK_AND_ASSIGN(writes, AppendLeaf(6, LeafHash(leaves[6]), seven));
  EXPECT_EQ(seven.reads(), 0);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(HexEncode(writes[0].hash), kVectorNodes[0][6]);
}

TEST(MemoryNodeSourceTest, AppendReturnsNewSizeAndCountsReads) {
  MemoryNodeSource tree;
  ASSERT_OK_AND_ASSIGN(int64_t size, tree.Append("a"));
  EXPECT_EQ(size, 1);
  ASSERT_OK_AND_ASSIGN(size, tree.Append("b"));
  EXPECT_EQ(size, 2);
  EXPECT_EQ(tree.size(), 2);
  EXPECT_EQ(tree.reads(), 1);  // Appending leaf 1 read leaf 0.
  tree.reset_reads();
  ASSERT_OK_AND_ASSIGN(Hash root, RootHash(2, tree));
  EXPECT_EQ(root, RefNodeHash(RefLeafHash("a"), RefLeafHash("b")));
  EXPECT_EQ(tree.reads(), 1);
}

// ---- Edge cases and argument validation ----

TEST_F(MerkleVectorTest, ConsistencyProofBetweenEqualSizesIsEmpty) {
  for (int64_t size = 1; size <= 8; ++size) {
    tree_.reset_reads();
    ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, ConsistencyProof(size, size, tree_));
    EXPECT_THAT(proof, IsEmpty()) << size;
    EXPECT_EQ(tree_.reads(), 0);
  }
}

TEST_F(MerkleVectorTest, InclusionProofOfSingleLeafTreeIsEmpty) {
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, InclusionProof(0, 1, tree_));
  EXPECT_THAT(proof, IsEmpty());
}

TEST_F(MerkleVectorTest, InclusionProofRejectsIndexOutsideTree) {
  EXPECT_THAT(InclusionProof(-1, 8, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("index")));
  EXPECT_THAT(InclusionProof(8, 8, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("index")));
  EXPECT_THAT(InclusionProof(9, 8, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("index")));
  EXPECT_THAT(InclusionProof(0, 0, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tree_size")));
  EXPECT_THAT(InclusionProof(0, -1, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tree_size")));
}

TEST_F(MerkleVectorTest, InclusionProofNamesTheBadFieldInItsViolation) {
  absl::StatusOr<std::vector<Hash>> proof = InclusionProof(8, 8, tree_);
  std::vector<FieldViolation> violations = FieldViolationsOf(proof.status());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "index");
}

TEST_F(MerkleVectorTest, ConsistencyProofRejectsBadSizes) {
  EXPECT_THAT(ConsistencyProof(0, 8, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("first_size")));
  EXPECT_THAT(ConsistencyProof(0, 0, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("first_size")));
  EXPECT_THAT(ConsistencyProof(-3, 8, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("first_size")));
  EXPECT_THAT(ConsistencyProof(5, 4, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("second_size")));
}

TEST_F(MerkleVectorTest, RootHashRejectsNegativeSize) {
  EXPECT_THAT(RootHash(-1, tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tree_size")));
}

TEST_F(MerkleVectorTest, AppendLeafRejectsBadArguments) {
  EXPECT_THAT(AppendLeaf(-1, LeafHash("x"), tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("index")));
  EXPECT_THAT(AppendLeaf(8, "short", tree_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("leaf_hash")));
}

TEST_F(MerkleVectorTest, MissingNodesSurfaceAsNotFound) {
  EXPECT_THAT(RootHash(9, tree_), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(InclusionProof(0, 9, tree_), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ConsistencyProof(3, 12, tree_), StatusIs(absl::StatusCode::kNotFound));
  MemoryNodeSource empty;
  EXPECT_THAT(AppendLeaf(1, LeafHash("x"), empty), StatusIs(absl::StatusCode::kNotFound));
}

TEST(MerkleSourceTest, MalformedStoredNodeIsDataLoss) {
  MemoryNodeSource tree;
  tree.Put({.level = 0, .index = 0, .hash = "not a digest"});
  EXPECT_THAT(RootHash(1, tree), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(MerkleVectorTest, VerifiersRejectTamperedProofs) {
  // Guards the test's own verifiers: a proof with any bit flipped, or checked
  // against the wrong index or size, must fail.
  const Hash leaf5 = RefLeafHash(VectorLeaves()[5]);
  const Hash root8 = Unhex(kVectorRoots[8]);
  ASSERT_OK_AND_ASSIGN(std::vector<Hash> path, InclusionProof(5, 8, tree_));
  ASSERT_TRUE(RefVerifyInclusion(5, 8, leaf5, path, root8));
  EXPECT_FALSE(RefVerifyInclusion(4, 8, leaf5, path, root8));
  // (Size 7 would pass: leaf 5 has the same left/right shape in trees of 7
  // and 8 leaves, so an inclusion proof binds the size only through the root.)
  EXPECT_FALSE(RefVerifyInclusion(5, 6, leaf5, path, root8));
  for (size_t i = 0; i < path.size(); ++i) {
    std::vector<Hash> bad = path;
    bad[i][0] ^= 1;
    EXPECT_FALSE(RefVerifyInclusion(5, 8, leaf5, bad, root8)) << i;
  }
  std::vector<Hash> short_path(path.begin(), path.end() - 1);
  EXPECT_FALSE(RefVerifyInclusion(5, 8, leaf5, short_path, root8));

  ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, ConsistencyProof(6, 8, tree_));
  const Hash root6 = Unhex(kVectorRoots[6]);
  ASSERT_TRUE(RefVerifyConsistency(6, 8, root6, root8, proof));
  EXPECT_FALSE(RefVerifyConsistency(5, 8, Unhex(kVectorRoots[5]), root8, proof));
  EXPECT_FALSE(RefVerifyConsistency(6, 8, Unhex(kVectorRoots[7]), root8, proof));
  for (size_t i = 0; i < proof.size(); ++i) {
    std::vector<Hash> bad = proof;
    bad[i][31] ^= 0x80;
    EXPECT_FALSE(RefVerifyConsistency(6, 8, root6, root8, bad)) << i;
  }
  EXPECT_FALSE(RefVerifyConsistency(6, 8, root6, root8, {}));
}

// ---- Property test against the naive reference ----

constexpr int64_t kMaxPropertySize = 2000;

class MerklePropertyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tree_ = new MemoryNodeSource();
    std::vector<Hash> leaf_hashes;
    for (int64_t i = 0; i < kMaxPropertySize; ++i) {
      const std::string leaf = absl::StrCat("ledger entry ", i);
      ASSERT_OK(tree_->Append(leaf));
      leaf_hashes.push_back(RefLeafHash(leaf));
    }
    naive_ = new NaiveTree(std::move(leaf_hashes));
  }
  static void TearDownTestSuite() {
    delete tree_;
    delete naive_;
  }

  // Checks root, inclusion proofs and consistency proofs for `size` leaves;
  // every read goes through a source that refuses nodes beyond `size`.
  static void CheckSize(int64_t size, bool exhaustive, absl::BitGen& gen) {
    SCOPED_TRACE(absl::StrCat("size ", size));
    BoundedSource bounded(*tree_, size);
    ASSERT_OK_AND_ASSIGN(Hash root, RootHash(size, bounded));
    ASSERT_EQ(root, naive_->Mth(0, size));

    std::vector<int64_t> indices;
    if (exhaustive) {
      for (int64_t i = 0; i < size; ++i) indices.push_back(i);
    } else {
      indices = {0, size / 2, size - 1};
      for (int i = 0; i < 16; ++i) indices.push_back(absl::Uniform<int64_t>(gen, 0, size));
    }
    for (int64_t index : indices) {
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> path, InclusionProof(index, size, bounded));
      ASSERT_EQ(path, naive_->Path(index, 0, size)) << "index " << index;
      ASSERT_TRUE(RefVerifyInclusion(index, size, naive_->Mth(index, index + 1), path, root))
          << "index " << index;
      ASSERT_OK(VerifyInclusion(index, size, naive_->Mth(index, index + 1), path, root))
          << "index " << index;
    }

    std::vector<int64_t> firsts;
    if (exhaustive) {
      for (int64_t m = 1; m <= size; ++m) firsts.push_back(m);
    } else {
      firsts = {1, size / 2 + 1, size - 1, size};
      for (int i = 0; i < 16; ++i) firsts.push_back(absl::Uniform<int64_t>(gen, 1, size + 1));
    }
    for (int64_t m : firsts) {
      ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, ConsistencyProof(m, size, bounded));
      ASSERT_EQ(proof, naive_->Proof(m, size)) << "first " << m;
      ASSERT_TRUE(RefVerifyConsistency(m, size, naive_->Mth(0, m), root, proof)) << "first " << m;
      ASSERT_OK(VerifyConsistency(m, size, naive_->Mth(0, m), root, proof)) << "first " << m;
    }
  }

  static MemoryNodeSource* tree_;
  static NaiveTree* naive_;
};

MemoryNodeSource* MerklePropertyTest::tree_ = nullptr;
NaiveTree* MerklePropertyTest::naive_ = nullptr;

TEST_F(MerklePropertyTest, EverySmallSizeMatchesNaiveReferenceExhaustively) {
  absl::BitGen gen;  // Unused when exhaustive.
  for (int64_t size = 1; size <= 64; ++size) {
    CheckSize(size, /*exhaustive=*/true, gen);
    if (HasFatalFailure()) return;
  }
}

TEST_F(MerklePropertyTest, RandomLargeSizesMatchNaiveReference) {
  std::seed_seq seed = {20240601};
  absl::BitGen gen(seed);
  std::vector<int64_t> sizes = {65, 127, 128, 129, 1023, 1024, 1025, kMaxPropertySize};
  while (sizes.size() < 68) sizes.push_back(absl::Uniform<int64_t>(gen, 65, kMaxPropertySize + 1));
  for (int64_t size : sizes) {
    CheckSize(size, /*exhaustive=*/false, gen);
    if (HasFatalFailure()) return;
  }
}

TEST_F(MerklePropertyTest, ProofsFromATreeHoldingExactlyThatManyLeaves) {
  // The shared tree holds extra leaves; a fresh tree of exactly `size` leaves
  // must give the same answers (nothing relies on nodes past the end).
  for (int64_t size : {1, 2, 3, 5, 17, 100, 333}) {
    MemoryNodeSource exact;
    for (int64_t i = 0; i < size; ++i) ASSERT_OK(exact.Append(absl::StrCat("ledger entry ", i)));
    ASSERT_OK_AND_ASSIGN(Hash root, RootHash(size, exact));
    EXPECT_EQ(root, naive_->Mth(0, size));
    ASSERT_OK_AND_ASSIGN(std::vector<Hash> path, InclusionProof(size - 1, size, exact));
    EXPECT_EQ(path, naive_->Path(size - 1, 0, size));
    ASSERT_OK_AND_ASSIGN(std::vector<Hash> proof, ConsistencyProof(1, size, exact));
    EXPECT_EQ(proof, naive_->Proof(1, size));
  }
}

// ---- Reads are logarithmic ----

class MerkleCostTest : public ::testing::Test {
 protected:
  static constexpr int64_t kSize = (int64_t{1} << 20) - 1;

  static void SetUpTestSuite() {
    tree_ = new MemoryNodeSource();
    for (int64_t i = 0; i < kSize; ++i) ASSERT_OK(tree_->Append(absl::StrCat(i)));
  }
  static void TearDownTestSuite() { delete tree_; }

  // 2·floor(log2(n)) + 2, which is at most 2·log2(n) + 2.
  static int64_t ReadBudget(int64_t n) {
    return 2 * (std::bit_width(static_cast<uint64_t>(n)) - 1) + 2;
  }

  static MemoryNodeSource* tree_;
};

MemoryNodeSource* MerkleCostTest::tree_ = nullptr;

TEST_F(MerkleCostTest, AppendReadsAtMostLog2Nodes) {
  // Appending leaf 2^20 - 1 completes twenty subtrees: the worst case.
  MemoryNodeSource& tree = *tree_;
  tree.reset_reads();
  ASSERT_OK_AND_ASSIGN(std::vector<NodeWrite> writes, AppendLeaf(kSize, LeafHash("x"), tree));
  EXPECT_EQ(tree.reads(), 20);
  EXPECT_EQ(writes.size(), 21u);
  EXPECT_EQ(writes.back().level, 20);
}

TEST_F(MerkleCostTest, RootHashReadsOneNodePerSetBit) {
  for (int64_t size : {kSize, kSize - 1, int64_t{1} << 19, int64_t{1000000}, int64_t{654321}}) {
    tree_->reset_reads();
    ASSERT_OK(RootHash(size, *tree_));
    EXPECT_EQ(tree_->reads(), std::popcount(static_cast<uint64_t>(size))) << size;
    EXPECT_LE(tree_->reads(), ReadBudget(size));
  }
}

TEST_F(MerkleCostTest, InclusionProofReadsAreLogarithmic) {
  std::seed_seq seed = {7};
  absl::BitGen gen(seed);
  std::vector<int64_t> indices = {
      0, 1, kSize / 2, kSize - 2, kSize - 1, (int64_t{1} << 19) - 1, int64_t{1} << 19};
  for (int i = 0; i < 200; ++i) indices.push_back(absl::Uniform<int64_t>(gen, 0, kSize));
  int64_t worst = 0;
  for (int64_t index : indices) {
    tree_->reset_reads();
    ASSERT_OK_AND_ASSIGN(std::vector<Hash> path, InclusionProof(index, kSize, *tree_));
    EXPECT_LE(path.size(), 20u) << index;
    EXPECT_LE(tree_->reads(), ReadBudget(kSize)) << index;
    worst = std::max(worst, tree_->reads());
  }
  // Leaf 0 is the worst case: 19 perfect siblings plus the 19-node right edge.
  EXPECT_EQ(worst, 38);
}

TEST_F(MerkleCostTest, ConsistencyProofReadsAreLogarithmic) {
  std::seed_seq seed = {11};
  absl::BitGen gen(seed);
  std::vector<int64_t> firsts = {1, 2, 3, kSize / 2, kSize - 1, int64_t{1} << 19};
  for (int i = 0; i < 200; ++i) firsts.push_back(absl::Uniform<int64_t>(gen, 1, kSize + 1));
  for (int64_t m : firsts) {
    tree_->reset_reads();
    ASSERT_OK(ConsistencyProof(m, kSize, *tree_));
    EXPECT_LE(tree_->reads(), ReadBudget(kSize)) << m;
  }
}

// ---- RootBuilder ----

TEST(RootBuilderTest, EmptyIsEmptyRoot) { EXPECT_EQ(RootBuilder().Root(), Sha256("")); }

TEST(RootBuilderTest, MatchesNaiveRootForEverySizeUpTo300) {
  RootBuilder builder;
  std::vector<Hash> hashes;
  for (int i = 0; i < 300; ++i) {
    hashes.push_back(RefLeafHash(std::string(1, static_cast<char>(i)) + std::to_string(i)));
    builder.AddLeafHash(hashes.back());
    ASSERT_EQ(builder.Root(), NaiveTree(hashes).Mth(0, i + 1)) << "size " << i + 1;
  }
  EXPECT_EQ(builder.size(), 300);
}

TEST(RootBuilderTest, Rfc6962EightLeafRoot) {
  RootBuilder builder;
  for (const std::string& leaf : VectorLeaves()) builder.AddLeafHash(RefLeafHash(leaf));
  EXPECT_EQ(HexEncode(builder.Root()), kVectorRoots[8]);
}

}  // namespace
}  // namespace market::ledger
