// C2SP tlog-tiles (https://c2sp.org/tlog-tiles) for the credit ledger: tile
// paths, which tiles a tree size has, entry bundles, and the verification of
// a whole tree from its tiles in O(n) hashing. A tile (L, N) holds up to 256
// consecutive hashes of tree level 8·L starting at node 256·N; the hashes
// are exactly the stored perfect-subtree hashes (ledger/merkle_tree.h) at
// that level. Pure functions; TreeFromTiles is thread-compatible and
// VerifyTreeFromTiles calls its TileFetcher from several threads at once.
#ifndef MARKET_LEDGER_TILES_H_
#define MARKET_LEDGER_TILES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ledger/merkle_tree.h"

namespace market::ledger {

inline constexpr int kTileHeight = 8;
inline constexpr int64_t kTileWidth = 256;  // 2^kTileHeight
inline constexpr int kMaxTileLevel = 63;
// The level number of entry bundles in TileRef.
inline constexpr int kEntriesLevel = -1;

struct TileRef {
  int level = 0;      // 0..kMaxTileLevel, or kEntriesLevel for tile/entries
  int64_t index = 0;  // N
  int width = 256;    // 1..256; < 256 is a partial tile (".p/<W>")
  bool operator==(const TileRef&) const = default;
};

// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]", N in 3-digit groups
// with "x" before all but the last ("x001/x234/067").
std::string TilePath(const TileRef& tile);
// The inverse of TilePath, strict (no leading zeros in L or W, exactly three
// digits per group, W in 1..255). INVALID_ARGUMENT naming the part otherwise.
absl::StatusOr<TileRef> ParseTilePath(absl::string_view path);

// How many hashes tile (level, index) holds in a tree of `size` leaves (for
// kEntriesLevel: entries in the bundle); 0 when it has none yet.
int TileWidth(int level, int64_t index, int64_t size);
// Every tile and entry bundle of a tree of `size` leaves at the widths that
// size gives them, entry bundles first, then levels upwards.
std::vector<TileRef> TilesOfTree(int64_t size);

// Entry bundle: each entry as a big-endian uint16 length and its bytes.
// INVALID_ARGUMENT for an entry longer than 65535 bytes.
absl::StatusOr<std::string> EncodeEntryBundle(const std::vector<std::string>& entries);
// DATA_LOSS when `bundle` is truncated or has trailing bytes.
absl::StatusOr<std::vector<std::string>> DecodeEntryBundle(absl::string_view bundle);

// The root hash of the perfect subtree whose 2^k (k >= 0) bottom hashes lie
// back to back in `hashes` (32·2^k bytes).
Hash PerfectRoot(absl::string_view hashes);

// Fetches one tile's body; may be called from several threads at once.
using TileFetcher = std::function<absl::StatusOr<std::string>(const TileRef&)>;
// Checks each entry of a bundle (e.g. that its leaf decodes at its index);
// called from several threads at once.
using EntryCheck = std::function<absl::Status(int64_t index, absl::string_view leaf)>;

struct TreeVerification {
  int64_t tiles = 0;          // tiles and bundles fetched
  int64_t bytes = 0;          // their total size
  int64_t hashes_checked = 0; // tile hashes compared with a recomputed value
};

// Fetches every tile and entry bundle of the tree of `size` leaves with
// `parallelism` threads and checks, in O(size) hashing: each entry's leaf
// hash against its level-0 tile hash, each tile hash of level L ≥ 1 against
// the root of the 256 hashes of the full tile below it, and the root computed
// from the tiles against `root`. Every served hash is checked.
// DATA_LOSS saying which tile and position differ; a fetch error is returned
// as it is, prefixed with the tile's path.
absl::StatusOr<TreeVerification> VerifyTreeFromTiles(int64_t size, const Hash& root,
                                                     const TileFetcher& fetch,
                                                     const EntryCheck& check, int parallelism);

}  // namespace market::ledger

#endif  // MARKET_LEDGER_TILES_H_
