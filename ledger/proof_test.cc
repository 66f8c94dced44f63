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

namespace market::ledger {
namespace {

using ::market::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Unhex(absl::string_view hex) {
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

// The RFC 6962 test tree (as in certificate-transparency and trillian).
const std::vector<std::string>& Leaves() {
  static const auto* leaves = new std::vector<std::string>{
      Unhex(""),
      Unhex("00"),
      Unhex("10"),
      Unhex("2021"),
      Unhex("3031"),
      Unhex("40414243"),
      Unhex("5051525354555657"),
      Unhex("606162636465666768696a6b6c6d6e6f"),
  };
  return *leaves;
}

// Root of the first n leaves is Root(n).
std::string Root(int n) {
  static const char* const kRoots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  return Unhex(kRoots[n - 1]);
}

// ---- Naive RFC 9162 §2.1 definitions over leaves[begin, end) ----

using Leafs = std::vector<std::string>;

int64_t LargestPowerOfTwoBelow(int64_t n) {
  int64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

std::string Mth(const Leafs& leaves, int64_t begin, int64_t end) {
  const int64_t n = end - begin;
  if (n == 0) return Sha256("");
  if (n == 1) return LeafHash(leaves[begin]);
  const int64_t k = LargestPowerOfTwoBelow(n);
  return NodeHash(Mth(leaves, begin, begin + k), Mth(leaves, begin + k, end));
}

// PATH(m, D[begin:end]).
std::vector<std::string> Path(const Leafs& leaves, int64_t m, int64_t begin, int64_t end) {
  const int64_t n = end - begin;
  if (n == 1) return {};
  const int64_t k = LargestPowerOfTwoBelow(n);
  std::vector<std::string> path;
  if (m < k) {
    path = Path(leaves, m, begin, begin + k);
    path.push_back(Mth(leaves, begin + k, end));
  } else {
    path = Path(leaves, m - k, begin + k, end);
    path.push_back(Mth(leaves, begin, begin + k));
  }
  return path;
}

// SUBPROOF(m, D[begin:end], b).
std::vector<std::string> SubProof(const Leafs& leaves, int64_t m, int64_t begin, int64_t end,
                                  bool b) {
  const int64_t n = end - begin;
  if (m == n) {
    return b ? std::vector<std::string>{} : std::vector<std::string>{Mth(leaves, begin, end)};
  }
  const int64_t k = LargestPowerOfTwoBelow(n);
  std::vector<std::string> proof;
  if (m <= k) {
    proof = SubProof(leaves, m, begin, begin + k, b);
    proof.push_back(Mth(leaves, begin + k, end));
  } else {
    proof = SubProof(leaves, m - k, begin + k, end, false);
    proof.push_back(Mth(leaves, begin, begin + k));
  }
  return proof;
}

std::string Mth(int64_t begin, int64_t end) { return Mth(Leaves(), begin, end); }
std::vector<std::string> InclusionProof(int64_t index, int64_t size) {
  return Path(Leaves(), index, 0, size);
}
std::vector<std::string> ConsistencyProof(int64_t size1, int64_t size2) {
  return SubProof(Leaves(), size1, 0, size2, true);
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
  Leafs leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(absl::StrCat("leaf ", i));
  for (int64_t n = 1; n <= 40; ++n) {
    const std::string root = Mth(leaves, 0, n);
    for (int64_t m = 0; m < n; ++m) {
      EXPECT_OK(VerifyInclusion(m, n, LeafHash(leaves[m]), Path(leaves, m, 0, n), root))
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
  Leafs leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(absl::StrCat("leaf ", i));
  for (int64_t n = 1; n <= 40; ++n) {
    for (int64_t m = 1; m <= n; ++m) {
      EXPECT_OK(VerifyConsistency(m, n, Mth(leaves, 0, m), Mth(leaves, 0, n),
                                  SubProof(leaves, m, 0, n, true)))
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
