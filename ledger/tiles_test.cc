#include "ledger/tiles.h"

#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/status/status.h"
#include "ledger/rfc6962_testing.h"

namespace market::ledger {
namespace {

using ::testing::HasSubstr;

TEST(TilePathTest, EncodesIndexInThreeDigitGroups) {
  EXPECT_EQ(TilePath({0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath({1, 5, 7}), "tile/1/005.p/7");
  EXPECT_EQ(TilePath({kEntriesLevel, 0, 256}), "tile/entries/000");
  EXPECT_EQ(TilePath({2, 1000, 255}), "tile/2/x001/000.p/255");
}

TEST(TilePathTest, ParsesWhatItEncodes) {
  for (TileRef t : {TileRef{0, 0, 256}, TileRef{3, 999, 1}, TileRef{kEntriesLevel, 1234067, 12},
                    TileRef{63, 123456789012345678, 256}}) {
    absl::StatusOr<TileRef> parsed = ParseTilePath(TilePath(t));
    ASSERT_TRUE(parsed.ok()) << TilePath(t) << ": " << parsed.status();
    EXPECT_EQ(*parsed, t) << TilePath(t);
  }
}

TEST(TilePathTest, RejectsNonCanonicalPaths) {
  for (const char* path :
       {"tile/0/1", "tile/0/0001", "tile/0/x000/001", "tile/00/000", "tile/64/000",
        "tile/0/000.p/256", "tile/0/000.p/0", "tile/0/000.p/07", "tile/0/001/002",
        "tiles/0/000", "tile/entries", "tile/0/x001/x002/x003/x004/x005/x006/007",
        "tile/0/000.p", "tile/-1/000"}) {
    absl::StatusOr<TileRef> parsed = ParseTilePath(path);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << path;
  }
}

TEST(TileWidthTest, FullAndPartialTilesOfATree) {
  const int64_t size = 256 * 256 + 300;  // level 0: 257 full + 44; level 1: 257 → 256 + 1
  EXPECT_EQ(TileWidth(0, 0, size), 256);
  EXPECT_EQ(TileWidth(0, 257, size), 44);
  EXPECT_EQ(TileWidth(0, 258, size), 0);
  EXPECT_EQ(TileWidth(kEntriesLevel, 257, size), 44);
  EXPECT_EQ(TileWidth(1, 0, size), 256);
  EXPECT_EQ(TileWidth(1, 1, size), 1);
  EXPECT_EQ(TileWidth(2, 0, size), 1);  // the root of the first 65536 leaves
  EXPECT_EQ(TileWidth(3, 0, size), 0);
  std::vector<TileRef> tiles = TilesOfTree(size);
  EXPECT_EQ(tiles.size(), 258u + 258u + 2u + 1u);
  EXPECT_EQ(tiles.back(), (TileRef{2, 0, 1}));
  EXPECT_TRUE(TilesOfTree(0).empty());
}

TEST(EntryBundleTest, RoundTripsAndRejectsTruncation) {
  std::vector<std::string> entries = {"", "a", std::string(300, 'x')};
  absl::StatusOr<std::string> bundle = EncodeEntryBundle(entries);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->substr(0, 5), std::string("\0\0\0\x01" "a", 5));
  EXPECT_EQ(*DecodeEntryBundle(*bundle), entries);
  EXPECT_EQ(DecodeEntryBundle(bundle->substr(0, bundle->size() - 1)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(EncodeEntryBundle({std::string(65536, 'y')}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A tree in memory served as tiles, with one byte changeable.
class TiledTree {
 public:
  explicit TiledTree(std::vector<std::string> leaves) : leaves_(std::move(leaves)) {
    for (const std::string& leaf : leaves_) EXPECT_TRUE(nodes_.Append(leaf).ok());
  }
  int64_t size() const { return static_cast<int64_t>(leaves_.size()); }
  Hash Root() { return *RootHash(size(), nodes_); }
  absl::StatusOr<std::string> Fetch(const TileRef& t) {
    std::string body;
    if (t.level == kEntriesLevel) {
      std::vector<std::string> entries(leaves_.begin() + t.index * 256,
                                       leaves_.begin() + t.index * 256 + t.width);
      MARKET_ASSIGN_OR_RETURN(body, EncodeEntryBundle(entries));
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < t.width; ++i) {
        MARKET_ASSIGN_OR_RETURN(Hash h, nodes_.Node(8 * t.level, t.index * 256 + i));
        body += h;
      }
    }
    if (tamper_ && *tamper_ == t && tamper_byte_ < body.size()) body[tamper_byte_] ^= 0x01;
    return body;
  }
  void Tamper(TileRef t, size_t byte) {
    tamper_ = t;
    tamper_byte_ = byte;
  }
  absl::StatusOr<TreeVerification> Verify(int parallelism = 4) {
    return VerifyTreeFromTiles(
        size(), Root(), [this](const TileRef& t) { return Fetch(t); }, nullptr, parallelism);
  }

 private:
  std::vector<std::string> leaves_;
  MemoryNodeSource nodes_;
  std::mutex mu_;
  std::optional<TileRef> tamper_;
  size_t tamper_byte_ = 0;
};

std::vector<std::string> Leaves(int64_t n) {
  std::vector<std::string> leaves;
  for (int64_t i = 0; i < n; ++i) leaves.push_back(absl::StrCat("leaf ", i));
  return leaves;
}

TEST(VerifyTreeFromTilesTest, AcceptsTheRfc6962TestVectorTrees) {
  std::vector<std::string> all = VectorLeaves();
  for (size_t n = 1; n <= all.size(); ++n) {
    TiledTree tree(std::vector<std::string>(all.begin(), all.begin() + n));
    absl::StatusOr<TreeVerification> v = VerifyTreeFromTiles(
        tree.size(), Unhex(kVectorRoots[n]), [&](const TileRef& t) { return tree.Fetch(t); },
        nullptr, 2);
    EXPECT_TRUE(v.ok()) << n << ": " << v.status();
  }
}

TEST(VerifyTreeFromTilesTest, AcceptsTreesAcrossTileBoundaries) {
  for (int64_t n : {255, 256, 257, 511, 512, 513, 256 * 256, 256 * 256 + 257}) {
    TiledTree tree(Leaves(n));
    absl::StatusOr<TreeVerification> v = tree.Verify();
    ASSERT_TRUE(v.ok()) << n << ": " << v.status();
    EXPECT_EQ(v->tiles, static_cast<int64_t>(TilesOfTree(n).size()));
  }
}

TEST(VerifyTreeFromTilesTest, RootMatchesTheNaiveRfcComputation) {
  std::vector<std::string> leaves = Leaves(1000);
  std::vector<std::string> hashes;
  for (const std::string& l : leaves) hashes.push_back(RefLeafHash(l));
  NaiveTree naive(hashes);
  TiledTree tree(leaves);
  EXPECT_TRUE(VerifyTreeFromTiles(
                  1000, naive.Mth(0, 1000), [&](const TileRef& t) { return tree.Fetch(t); },
                  nullptr, 3)
                  .ok());
}

TEST(VerifyTreeFromTilesTest, RejectsAWrongRoot) {
  TiledTree tree(Leaves(300));
  absl::StatusOr<TreeVerification> v = VerifyTreeFromTiles(
      300, Sha256("other"), [&](const TileRef& t) { return tree.Fetch(t); }, nullptr, 2);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(v.status().message(), HasSubstr("the tiles give root"));
}

TEST(VerifyTreeFromTilesTest, DetectsAFlippedBitInEveryTileAndBundle) {
  const int64_t n = 256 * 5 + 7;  // level-0 tiles 0..5, level-1 tile 0 of width 5
  TiledTree tree(Leaves(n));
  for (const TileRef& t : TilesOfTree(n)) {
    // The first and last hash of every tile (a byte in an entry for bundles).
    size_t last = t.level == kEntriesLevel ? 4 : t.width * 32 - 1;
    for (size_t byte : {size_t{2}, last}) {
      tree.Tamper(t, byte);
      absl::StatusOr<TreeVerification> v = tree.Verify();
      EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss)
          << TilePath(t) << " byte " << byte << ": " << v.status();
    }
  }
}

TEST(VerifyTreeFromTilesTest, ReportsAFetchErrorWithTheTilePath) {
  TiledTree tree(Leaves(10));
  absl::StatusOr<TreeVerification> v = VerifyTreeFromTiles(
      10, tree.Root(),
      [](const TileRef&) -> absl::StatusOr<std::string> {
        return absl::UnavailableError("connection refused");
      },
      nullptr, 2);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(v.status().message(), HasSubstr("tile/"));
}

TEST(VerifyTreeFromTilesTest, RunsTheEntryCheckOnEveryEntry) {
  TiledTree tree(Leaves(300));
  std::mutex mu;
  std::vector<int64_t> seen;
  absl::StatusOr<TreeVerification> v = VerifyTreeFromTiles(
      300, tree.Root(), [&](const TileRef& t) { return tree.Fetch(t); },
      [&](int64_t index, absl::string_view leaf) -> absl::Status {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(index);
        if (leaf != absl::StrCat("leaf ", index)) return absl::DataLossError("entry");
        return absl::OkStatus();
      },
      2);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(seen.size(), 300u);
}

}  // namespace
}  // namespace market::ledger
