#include "ledger/proof.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "common/crypto/crypto.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/merkle_tree.h"
#include "ledger/rfc6962_testing.h"

namespace market::ledger {
namespace {

using ::market::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The RFC 6962 test tree: its leaves, the root of its first n leaves, and
// proofs computed naively from the RFC (rfc6962_testing.h).
const std::vector<std::string>& Leaves() {
  static const auto* leaves = new std::vector<std::string>(VectorLeaves());
  return *leaves;
}
std::string Root(int n) { return Unhex(kVectorRoots[n]); }

// A naive tree over `leaves` (leaf bytes, not hashes).
NaiveTree NaiveOf(const std::vector<std::string>& leaves) {
  std::vector<std::string> hashes;
  for (const std::string& leaf : leaves) hashes.push_back(RefLeafHash(leaf));
  return NaiveTree(std::move(hashes));
}
NaiveTree& Naive() {
  static auto* naive = new NaiveTree(NaiveOf(Leaves()));
  return *naive;
}
std::string Mth(int64_t begin, int64_t end) { return Naive().Mth(begin, end); }
std::vector<std::string> InclusionProof(int64_t index, int64_t size) {
  return Naive().Path(index, 0, size);
}
std::vector<std::string> ConsistencyProof(int64_t size1, int64_t size2) {
  return Naive().Proof(size1, size2);
}

std::string FlipBit(std::string s, size_t bit) {
  s[bit / 8 % s.size()] ^= static_cast<char>(1 << (bit % 8));
  return s;
}

// ---- Hashing and the test helpers themselves ----

TEST(MerkleHashTest, RootsOfNaiveTreeMatchRfc6962Vectors) {
  EXPECT_EQ(EmptyRootHash(),
            Unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  for (int n = 1; n <= 8; ++n) EXPECT_EQ(Mth(0, n), Root(n)) << "size " << n;
}

TEST(MerkleHashTest, NaiveProofsMatchPublishedVectors) {
  EXPECT_EQ(InclusionProof(5, 8),
            (std::vector<std::string>{
                Unhex("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                Unhex("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                Unhex("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}));
  EXPECT_EQ(ConsistencyProof(6, 8),
            (std::vector<std::string>{
                Unhex("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                Unhex("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                Unhex("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}));
  EXPECT_EQ(ConsistencyProof(2, 5),
            (std::vector<std::string>{
                Unhex("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                Unhex("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}));
}

// ---- Inclusion ----

TEST(VerifyInclusionTest, CorrectProofVerifies) {
  for (int64_t n = 1; n <= 8; ++n) {
    for (int64_t m = 0; m < n; ++m) {
      EXPECT_OK(VerifyInclusion(m, n, LeafHash(Leaves()[m]), InclusionProof(m, n), Root(n)))
          << "index " << m << " size " << n;
    }
  }
}

TEST(VerifyInclusionTest, ProofWithOneFlippedBitIsDataLoss) {
  for (int64_t n = 2; n <= 8; ++n) {
    for (int64_t m = 0; m < n; ++m) {
      const std::vector<std::string> proof = InclusionProof(m, n);
      for (size_t i = 0; i < proof.size(); ++i) {
        for (size_t bit : {size_t{0}, size_t{133}, size_t{255}}) {
          std::vector<std::string> bad = proof;
          bad[i] = FlipBit(bad[i], bit);
          EXPECT_THAT(VerifyInclusion(m, n, LeafHash(Leaves()[m]), bad, Root(n)),
                      StatusIs(absl::StatusCode::kDataLoss))
              << "index " << m << " size " << n << " hash " << i << " bit " << bit;
        }
      }
    }
  }
}

TEST(VerifyInclusionTest, ProofWithExtraHashIsInvalidArgument) {
  for (int64_t n = 1; n <= 8; ++n) {
    for (int64_t m = 0; m < n; ++m) {
      std::vector<std::string> proof = InclusionProof(m, n);
      proof.push_back(Root(1));
      EXPECT_THAT(VerifyInclusion(m, n, LeafHash(Leaves()[m]), proof, Root(n)),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << "index " << m << " size " << n;
    }
  }
}

TEST(VerifyInclusionTest, ProofWithMissingHashIsInvalidArgument) {
  for (int64_t n = 2; n <= 8; ++n) {
    for (int64_t m = 0; m < n; ++m) {
      std::vector<std::string> proof = InclusionProof(m, n);
      proof.pop_back();
      EXPECT_THAT(VerifyInclusion(m, n, LeafHash(Leaves()[m]), proof, Root(n)),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << "index " << m << " size " << n;
    }
  }
}

TEST(VerifyInclusionTest, WrongIndexFails) {
  for (int64_t n = 2; n <= 8; ++n) {
    for (int64_t m = 0; m < n; ++m) {
      for (int64_t wrong = 0; wrong < n; ++wrong) {
        if (wrong == m) continue;
        EXPECT_FALSE(
            VerifyInclusion(wrong, n, LeafHash(Leaves()[m]), InclusionProof(m, n), Root(n)).ok())
            << "index " << m << " claimed " << wrong << " size " << n;
      }
    }
  }
}

// The size is bound to a tree through its root (the checkpoint): claiming
// another size means presenting that size's root.
TEST(VerifyInclusionTest, WrongSizeFails) {
  for (int64_t n = 1; n <= 8; ++n) {
    for (int64_t m = 0; m < n; ++m) {
      for (int64_t wrong = m + 1; wrong <= 8; ++wrong) {
        if (wrong == n) continue;
        EXPECT_FALSE(
            VerifyInclusion(m, wrong, LeafHash(Leaves()[m]), InclusionProof(m, n), Root(wrong))
                .ok())
            << "index " << m << " size " << n << " claimed " << wrong;
      }
    }
  }
}

TEST(VerifyInclusionTest, WrongRootIsDataLoss) {
  for (int64_t n = 1; n <= 8; ++n) {
    for (int64_t m = 0; m < n; ++m) {
      EXPECT_THAT(
          VerifyInclusion(m, n, LeafHash(Leaves()[m]), InclusionProof(m, n), FlipBit(Root(n), 7)),
          StatusIs(absl::StatusCode::kDataLoss))
          << "index " << m << " size " << n;
    }
  }
}

TEST(VerifyInclusionTest, WrongLeafIsDataLoss) {
  EXPECT_THAT(VerifyInclusion(3, 8, LeafHash(Leaves()[4]), InclusionProof(3, 8), Root(8)),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(VerifyInclusionTest, ImpossibleIndexOrSizeIsInvalidArgument) {
  const std::string leaf = LeafHash(Leaves()[0]);
  EXPECT_THAT(VerifyInclusion(8, 8, leaf, {}, Root(8)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyInclusion(-1, 8, leaf, {}, Root(8)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyInclusion(0, 0, leaf, {}, EmptyRootHash()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VerifyInclusionTest, HashOfWrongLengthIsInvalidArgument) {
  std::vector<std::string> proof = InclusionProof(5, 8);
  proof[1].pop_back();
  EXPECT_THAT(VerifyInclusion(5, 8, LeafHash(Leaves()[5]), proof, Root(8)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyInclusion(5, 8, "short", InclusionProof(5, 8), Root(8)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Proof lengths depend on the shape of the tree; check every shape up to 40.
TEST(VerifyInclusionTest, EveryProofOfLargerTreesVerifies) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(absl::StrCat("leaf ", i));
  NaiveTree naive = NaiveOf(leaves);
  for (int64_t n = 1; n <= 40; ++n) {
    const std::string root = naive.Mth(0, n);
    for (int64_t m = 0; m < n; ++m) {
      EXPECT_OK(VerifyInclusion(m, n, LeafHash(leaves[m]), naive.Path(m, 0, n), root))
          << "index " << m << " size " << n;
    }
  }
}

// ---- Consistency ----

TEST(VerifyConsistencyTest, CorrectProofVerifies) {
  for (int64_t n = 1; n <= 8; ++n) {
    for (int64_t m = 1; m <= n; ++m) {
      EXPECT_OK(VerifyConsistency(m, n, Root(m), Root(n), ConsistencyProof(m, n)))
          << m << " -> " << n;
    }
  }
}

TEST(VerifyConsistencyTest, EveryProofOfLargerTreesVerifies) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(absl::StrCat("leaf ", i));
  NaiveTree naive = NaiveOf(leaves);
  for (int64_t n = 1; n <= 40; ++n) {
    for (int64_t m = 1; m <= n; ++m) {
      EXPECT_OK(VerifyConsistency(m, n, naive.Mth(0, m), naive.Mth(0, n), naive.Proof(m, n)))
          << m << " -> " << n;
    }
  }
}

TEST(VerifyConsistencyTest, ProofWithOneFlippedBitFails) {
  for (int64_t n = 2; n <= 8; ++n) {
    for (int64_t m = 1; m < n; ++m) {
      const std::vector<std::string> proof = ConsistencyProof(m, n);
      for (size_t i = 0; i < proof.size(); ++i) {
        for (size_t bit : {size_t{0}, size_t{133}, size_t{255}}) {
          std::vector<std::string> bad = proof;
          bad[i] = FlipBit(bad[i], bit);
          EXPECT_THAT(VerifyConsistency(m, n, Root(m), Root(n), bad),
                      StatusIs(absl::StatusCode::kDataLoss))
              << m << " -> " << n << " hash " << i << " bit " << bit;
        }
      }
    }
  }
}

TEST(VerifyConsistencyTest, ProofWithExtraHashIsInvalidArgument) {
  for (int64_t n = 2; n <= 8; ++n) {
    for (int64_t m = 1; m < n; ++m) {
      std::vector<std::string> proof = ConsistencyProof(m, n);
      proof.push_back(Root(1));
      EXPECT_THAT(VerifyConsistency(m, n, Root(m), Root(n), proof),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << m << " -> " << n;
    }
  }
}

TEST(VerifyConsistencyTest, ProofWithMissingHashIsInvalidArgument) {
  for (int64_t n = 2; n <= 8; ++n) {
    for (int64_t m = 1; m < n; ++m) {
      std::vector<std::string> proof = ConsistencyProof(m, n);
      proof.pop_back();
      EXPECT_THAT(VerifyConsistency(m, n, Root(m), Root(n), proof),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << m << " -> " << n;
    }
  }
}

// As for inclusion, a claimed size comes with its own root.
TEST(VerifyConsistencyTest, WrongSizeFails) {
  for (int64_t n = 2; n <= 8; ++n) {
    for (int64_t m = 1; m < n; ++m) {
      const std::vector<std::string> proof = ConsistencyProof(m, n);
      for (int64_t wrong = 1; wrong <= 8; ++wrong) {
        if (wrong != m && wrong < n) {
          EXPECT_FALSE(VerifyConsistency(wrong, n, Root(wrong), Root(n), proof).ok())
              << m << " -> " << n << " claimed first size " << wrong;
        }
        if (wrong != n && wrong > m) {
          EXPECT_FALSE(VerifyConsistency(m, wrong, Root(m), Root(wrong), proof).ok())
              << m << " -> " << n << " claimed second size " << wrong;
        }
      }
    }
  }
}

TEST(VerifyConsistencyTest, WrongRootIsDataLoss) {
  for (int64_t n = 2; n <= 8; ++n) {
    for (int64_t m = 1; m < n; ++m) {
      const std::vector<std::string> proof = ConsistencyProof(m, n);
      EXPECT_THAT(VerifyConsistency(m, n, FlipBit(Root(m), 3), Root(n), proof),
                  StatusIs(absl::StatusCode::kDataLoss))
          << m << " -> " << n;
      EXPECT_THAT(VerifyConsistency(m, n, Root(m), FlipBit(Root(n), 3), proof),
                  StatusIs(absl::StatusCode::kDataLoss))
          << m << " -> " << n;
    }
  }
}

TEST(VerifyConsistencyTest, EqualSizesNeedEmptyProofAndEqualRoots) {
  EXPECT_OK(VerifyConsistency(5, 5, Root(5), Root(5), {}));
  EXPECT_THAT(VerifyConsistency(5, 5, Root(5), Root(6), {}), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(VerifyConsistency(5, 5, Root(5), Root(5), {Root(1)}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VerifyConsistencyTest, FirstSizeZeroIsInvalidArgument) {
  EXPECT_THAT(VerifyConsistency(0, 5, EmptyRootHash(), Root(5), {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyConsistency(0, 0, EmptyRootHash(), EmptyRootHash(), {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VerifyConsistencyTest, FirstSizeLargerThanSecondIsInvalidArgument) {
  EXPECT_THAT(VerifyConsistency(6, 5, Root(6), Root(5), ConsistencyProof(5, 6)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace market::ledger
