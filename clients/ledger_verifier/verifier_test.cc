#include "clients/ledger_verifier/verifier.h"

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

// ---- Signed notes and checkpoints ----

constexpr absl::string_view kEmDashSpace = "\xE2\x80\x94 ";
constexpr absl::string_view kOrigin = "ledger.market.example.cn/main";

// golang.org/x/mod/sumdb/note's documented example (note.go, note_test.go).
constexpr absl::string_view kGoName = "PeterNeumann";
constexpr absl::string_view kGoPublicKey = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr absl::string_view kGoPrivateKey = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr absl::string_view kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr absl::string_view kGoSignature =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

Ed25519PrivateKey KeyFromSeed(char fill) {
  return *Ed25519PrivateKey::FromSeed(std::string(kEd25519KeySize, fill));
}

Checkpoint TestCheckpoint() { return {.origin = std::string(kOrigin), .size = 8, .root = Root(8)}; }

class CheckpointTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::string> Sign(const Checkpoint& c) { return SignCheckpoint(c, kOrigin, key_); }
  absl::StatusOr<Checkpoint> Verify(absl::string_view note) {
    return VerifyCheckpoint(note, kOrigin, key_.PublicKeyRaw());
  }
  // A note whose (possibly malformed) body carries a valid signature.
  std::string SignedBody(absl::string_view body) { return *SignNote(body, kOrigin, key_); }

  Ed25519PrivateKey key_ = KeyFromSeed('k');
};

TEST_F(CheckpointTest, SignThenVerifyRoundTrips) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  ASSERT_OK_AND_ASSIGN(const Checkpoint got, Verify(note));
  EXPECT_EQ(got.origin, kOrigin);
  EXPECT_EQ(got.size, 8);
  EXPECT_EQ(got.root, Root(8));
}

TEST_F(CheckpointTest, NoteTextHasExactFormat) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  const std::string body =
      absl::StrCat(kOrigin, "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
  EXPECT_EQ(CheckpointBody(TestCheckpoint()), body);
  const std::string prefix = absl::StrCat(body, "\n", kEmDashSpace, kOrigin, " ");
  ASSERT_THAT(note, StartsWith(prefix));
  EXPECT_EQ(prefix.substr(body.size() + 1, 4), "\xE2\x80\x94\x20");
  ASSERT_EQ(note.back(), '\n');
  const std::string encoded = note.substr(prefix.size(), note.size() - prefix.size() - 1);
  ASSERT_OK_AND_ASSIGN(const std::string blob, Base64Decode(encoded));
  ASSERT_EQ(blob.size(), 4 + kEd25519SignatureSize);
  const uint32_t id = NoteKeyId(kOrigin, key_.PublicKeyRaw());
  EXPECT_EQ(blob.substr(0, 4),
            (std::string{static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                         static_cast<char>(id >> 8), static_cast<char>(id)}));
  EXPECT_TRUE(key_.PublicKey().Verify(body, blob.substr(4)));
}

TEST_F(CheckpointTest, KeyIdIsTruncatedSha256OfNameNewlineTypeAndKey) {
  const std::string public_key = key_.PublicKeyRaw();
  std::string preimage(kOrigin);
  preimage += '\n';
  preimage += '\x01';
  preimage += public_key;
  const std::string digest = Sha256(preimage);
  const uint32_t want = (uint32_t{static_cast<unsigned char>(digest[0])} << 24) |
                        (uint32_t{static_cast<unsigned char>(digest[1])} << 16) |
                        (uint32_t{static_cast<unsigned char>(digest[2])} << 8) |
                        uint32_t{static_cast<unsigned char>(digest[3])};
  EXPECT_EQ(NoteKeyId(kOrigin, public_key), want);
}

TEST(SignedNoteTest, KeyIdMatchesGoSumdbVector) {
  ASSERT_OK_AND_ASSIGN(const std::string typed_key, Base64Decode(kGoPublicKey));
  EXPECT_EQ(NoteKeyId(kGoName, typed_key.substr(1)), 0xc74f20a3u);
}

TEST(SignedNoteTest, SignReproducesGoSumdbNote) {
  ASSERT_OK_AND_ASSIGN(const std::string typed_seed, Base64Decode(kGoPrivateKey));
  ASSERT_OK_AND_ASSIGN(const Ed25519PrivateKey key,
                       Ed25519PrivateKey::FromSeed(typed_seed.substr(1)));
  ASSERT_OK_AND_ASSIGN(const std::string note, SignNote(kGoText, kGoName, key));
  EXPECT_EQ(note, absl::StrCat(kGoText, "\n", kEmDashSpace, kGoName, " ", kGoSignature, "\n"));
}

TEST(SignedNoteTest, OpenAcceptsGoSumdbNote) {
  ASSERT_OK_AND_ASSIGN(const std::string typed_key, Base64Decode(kGoPublicKey));
  const std::string note =
      absl::StrCat(kGoText, "\n", kEmDashSpace, kGoName, " ", kGoSignature, "\n");
  ASSERT_OK_AND_ASSIGN(const std::string text, OpenNote(note, kGoName, typed_key.substr(1)));
  EXPECT_EQ(text, kGoText);
}

TEST_F(CheckpointTest, AlteredSizeIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  EXPECT_THAT(Verify(absl::StrReplaceAll(note, {{"\n8\n", "\n9\n"}})),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, AlteredRootIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  const std::string altered =
      absl::StrReplaceAll(note, {{Base64Encode(Root(8)), Base64Encode(Root(7))}});
  ASSERT_NE(altered, note);
  EXPECT_THAT(Verify(altered), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, AlteredOriginIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  ASSERT_TRUE(absl::StartsWith(note, kOrigin));
  EXPECT_THAT(Verify(absl::StrCat("x", note)), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, AlteredSignatureIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  const size_t start = note.rfind(' ') + 1;
  ASSERT_OK_AND_ASSIGN(std::string blob, Base64Decode(note.substr(start, note.size() - start - 1)));
  blob[40] ^= 0x01;
  EXPECT_THAT(Verify(absl::StrCat(note.substr(0, start), Base64Encode(blob), "\n")),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, SignatureByAnotherKeyOnlyIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(TestCheckpoint(), kOrigin, KeyFromSeed('x')));
  EXPECT_THAT(Verify(note), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, ExtraSignatureLinesByOtherKeysAreIgnored) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  // A witness with another name, and another key using the log's own name.
  const std::string witness_line =
      SignNote(CheckpointBody(TestCheckpoint()), "witness.example/w1", KeyFromSeed('w'))
          ->substr(CheckpointBody(TestCheckpoint()).size() + 1);
  const std::string same_name_line =
      SignNote(CheckpointBody(TestCheckpoint()), kOrigin, KeyFromSeed('x'))
          ->substr(CheckpointBody(TestCheckpoint()).size() + 1);
  const std::string own_line = note.substr(CheckpointBody(TestCheckpoint()).size() + 1);
  const std::string cosigned =
      absl::StrCat(CheckpointBody(TestCheckpoint()), "\n", witness_line, same_name_line, own_line);
  ASSERT_OK_AND_ASSIGN(const Checkpoint got, Verify(cosigned));
  EXPECT_EQ(got.size, 8);
  EXPECT_OK(VerifyCheckpoint(cosigned, "witness.example/w1", KeyFromSeed('w').PublicKeyRaw()));
}

TEST_F(CheckpointTest, NonDecimalSizeIsInvalidArgument) {
  for (absl::string_view size : {"08", "-8", "+8", "8x", "0x8", "", "99999999999999999999"}) {
    const std::string body = absl::StrCat(kOrigin, "\n", size, "\n", Base64Encode(Root(8)), "\n");
    EXPECT_THAT(Verify(SignedBody(body)), StatusIs(absl::StatusCode::kInvalidArgument))
        << "size \"" << size << "\"";
  }
}

TEST_F(CheckpointTest, RootNot32BytesIsInvalidArgument) {
  for (const std::string& root : {Base64Encode(Root(8).substr(1)), Base64Encode(Root(8) + "x"),
                                  std::string("not base64"), std::string("")}) {
    const std::string body = absl::StrCat(kOrigin, "\n8\n", root, "\n");
    EXPECT_THAT(Verify(SignedBody(body)), StatusIs(absl::StatusCode::kInvalidArgument))
        << "root \"" << root << "\"";
  }
}

TEST_F(CheckpointTest, LinesWithExtraWhitespaceAreInvalidArgument) {
  const std::string root = Base64Encode(Root(8));
  for (const std::string& body :
       {absl::StrCat(" ", kOrigin, "\n8\n", root, "\n"),
        absl::StrCat(kOrigin, " \n8\n", root, "\n"), absl::StrCat(kOrigin, "\n 8\n", root, "\n"),
        absl::StrCat(kOrigin, "\n8 \n", root, "\n"), absl::StrCat(kOrigin, "\n8\n", root, " \n"),
        absl::StrCat(kOrigin, "\n8\n ", root, "\n")}) {
    EXPECT_THAT(Verify(SignedBody(body)), StatusIs(absl::StatusCode::kInvalidArgument)) << body;
  }
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  EXPECT_THAT(Verify(absl::StrReplaceAll(note, {{kEmDashSpace, "\xE2\x80\x94  "}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Verify(absl::StrCat(note.substr(0, note.size() - 1), " \n")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CheckpointTest, ExtensionLinesAreInvalidArgument) {
  const std::string body = absl::StrCat(CheckpointBody(TestCheckpoint()), "extension\n");
  EXPECT_THAT(Verify(SignedBody(body)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CheckpointTest, MalformedNoteIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  const std::string body = CheckpointBody(TestCheckpoint());
  const std::string line = note.substr(body.size() + 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no signature lines", absl::StrCat(body, "\n")},
      {"no blank line", absl::StrCat(body, line)},
      {"no final newline", note.substr(0, note.size() - 1)},
      {"ASCII dash", absl::StrReplaceAll(note, {{kEmDashSpace, "-- "}})},
      {"no name", absl::StrReplaceAll(note, {{absl::StrCat(kEmDashSpace, kOrigin, " "),
                                              absl::StrCat(kEmDashSpace, " ")}})},
      {"signature too short", absl::StrCat(note, kEmDashSpace, "other AAAA\n")},
      {"bad base64 in another line", absl::StrCat(note, kEmDashSpace, "other !!!!\n")},
      {"carriage return", absl::StrReplaceAll(note, {{"\n8\n", "\n8\r\n"}})},
      {"invalid UTF-8", absl::StrReplaceAll(note, {{"ledger",
                                                    "l\xFF"
                                                    "dger"}})},
      {"blank line in body", absl::StrReplaceAll(note, {{"\n8\n", "\n\n8\n"}})},
      {"body only", body},
  };
  for (const auto& [what, text] : cases) {
    EXPECT_THAT(Verify(text), StatusIs(absl::StatusCode::kInvalidArgument)) << what;
  }
}

TEST_F(CheckpointTest, TooManySignatureLinesIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(std::string note, Sign(TestCheckpoint()));
  const std::string line = note.substr(CheckpointBody(TestCheckpoint()).size() + 1);
  for (int i = 0; i < kMaxNoteSignatures; ++i) note += line;
  EXPECT_THAT(Verify(note), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("signature")));
}

TEST_F(CheckpointTest, SignRejectsInvalidCheckpoint) {
  Checkpoint bad_root = TestCheckpoint();
  bad_root.root.pop_back();
  EXPECT_THAT(Sign(bad_root), StatusIs(absl::StatusCode::kInvalidArgument));
  Checkpoint negative = TestCheckpoint();
  negative.size = -1;
  EXPECT_THAT(Sign(negative), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SignCheckpoint(TestCheckpoint(), "has space", key_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace market::ledger
