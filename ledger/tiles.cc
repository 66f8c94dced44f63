#include "ledger/tiles.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"

namespace market::ledger {
namespace {

constexpr int64_t kHash = kSha256Size;

// Nodes at tree level 8·level in a tree of `size` leaves.
int64_t NodesAt(int level, int64_t size) {
  const int shift = level * kTileHeight;
  return shift >= 63 ? 0 : size >> shift;
}

int64_t Tiles(int64_t nodes) { return (nodes + kTileWidth - 1) / kTileWidth; }

absl::string_view HashAt(const std::string& flat, int64_t i) {
  return absl::string_view(flat).substr(i * kHash, kHash);
}

// A decimal without sign or leading zeros, at most `max`.
bool ParseDecimal(absl::string_view s, int64_t max, int64_t* out) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  return absl::SimpleAtoi(s, out) && *out <= max;
}

bool ThreeDigits(absl::string_view s) {
  return s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Runs fn(i) for i in [0, n) on `threads` threads; the first error wins.
absl::Status ParallelFor(int64_t n, int threads, const std::function<absl::Status(int64_t)>& fn) {
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  absl::Status first;
  auto work = [&] {
    for (int64_t i; !failed.load() && (i = next.fetch_add(1)) < n;) {
      absl::Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = s;
        failed = true;
      }
    }
  };
  const int count = static_cast<int>(std::clamp<int64_t>(threads, 1, std::max<int64_t>(n, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < count; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return first;
}

}  // namespace

std::string TilePath(const TileRef& tile) {
  std::string digits = absl::StrCat(tile.index);
  digits.insert(0, (3 - digits.size() % 3) % 3, '0');
  std::string n;
  for (size_t i = 0; i < digits.size(); i += 3) {
    absl::StrAppend(&n, i + 3 < digits.size() ? "x" : "", digits.substr(i, 3),
                    i + 3 < digits.size() ? "/" : "");
  }
  std::string path = absl::StrCat(
      "tile/", tile.level == kEntriesLevel ? "entries" : absl::StrCat(tile.level), "/", n);
  if (tile.width < kTileWidth) absl::StrAppend(&path, ".p/", tile.width);
  return path;
}

absl::StatusOr<TileRef> ParseTilePath(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.size() < 3 || parts[0] != "tile") {
    return InvalidField("path", "want tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]");
  }
  TileRef tile;
  int64_t level = 0;
  if (parts[1] == "entries") {
    tile.level = kEntriesLevel;
  } else if (ParseDecimal(parts[1], kMaxTileLevel, &level)) {
    tile.level = static_cast<int>(level);
  } else {
    return InvalidField("path", absl::StrCat("tile level \"", parts[1], "\", want 0..63"));
  }
  size_t last = parts.size() - 1;
  // "<NNN>.p/<W>": the width is the final element.
  if (parts.size() >= 4 && absl::EndsWith(parts[last - 1], ".p")) {
    int64_t width = 0;
    if (!ParseDecimal(parts[last], kTileWidth - 1, &width) || width < 1) {
      return InvalidField("path", absl::StrCat("partial width \"", parts[last], "\", want 1..255"));
    }
    tile.width = static_cast<int>(width);
    parts[last - 1].remove_suffix(2);
    --last;
  }
  if (last - 2 + 1 > 6) return InvalidField("path", "tile index too large");
  int64_t index = 0;
  for (size_t i = 2; i <= last; ++i) {
    absl::string_view group = parts[i];
    if (i < last) {
      if (group.empty() || group[0] != 'x') {
        return InvalidField("path", absl::StrCat("index element \"", group, "\", want x<NNN>"));
      }
      group.remove_prefix(1);
    }
    int64_t value = 0;
    if (!ThreeDigits(group) || !absl::SimpleAtoi(group, &value)) {
      return InvalidField("path", absl::StrCat("index element \"", parts[i], "\", want 3 digits"));
    }
    // No leading all-zero groups: the encoding of N is unique.
    if (i == 2 && i < last && value == 0) {
      return InvalidField("path", "index with a leading x000 element");
    }
    index = index * 1000 + value;
  }
  tile.index = index;
  return tile;
}

int TileWidth(int level, int64_t index, int64_t size) {
  const int64_t nodes = NodesAt(level == kEntriesLevel ? 0 : level, size);
  if (index < 0 || index >= Tiles(nodes)) return 0;
  return static_cast<int>(std::min(kTileWidth, nodes - index * kTileWidth));
}

std::vector<TileRef> TilesOfTree(int64_t size) {
  std::vector<TileRef> tiles;
  for (int64_t n = 0; n < Tiles(size); ++n) {
    tiles.push_back({kEntriesLevel, n, TileWidth(kEntriesLevel, n, size)});
  }
  for (int level = 0; NodesAt(level, size) > 0; ++level) {
    for (int64_t n = 0; n < Tiles(NodesAt(level, size)); ++n) {
      tiles.push_back({level, n, TileWidth(level, n, size)});
    }
  }
  return tiles;
}

absl::StatusOr<std::string> EncodeEntryBundle(const std::vector<std::string>& entries) {
  std::string out;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].size() > 0xffff) {
      return InvalidField("entries", absl::StrCat("entry ", i, " has ", entries[i].size(),
                                                  " bytes, more than 65535"));
    }
    out.push_back(static_cast<char>(entries[i].size() >> 8));
    out.push_back(static_cast<char>(entries[i].size() & 0xff));
    out += entries[i];
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeEntryBundle(absl::string_view bundle) {
  std::vector<std::string> entries;
  while (!bundle.empty()) {
    if (bundle.size() < 2) return absl::DataLossError("entry bundle: truncated length");
    const size_t len = (static_cast<uint8_t>(bundle[0]) << 8) | static_cast<uint8_t>(bundle[1]);
    bundle.remove_prefix(2);
    if (bundle.size() < len) {
      return absl::DataLossError(absl::StrCat("entry bundle: entry ", entries.size(),
                                              " is truncated"));
    }
    entries.emplace_back(bundle.substr(0, len));
    bundle.remove_prefix(len);
  }
  return entries;
}

Hash PerfectRoot(absl::string_view hashes) {
  std::string level(hashes);
  char buf[1 + 2 * kHash];
  buf[0] = '\x01';
  for (int64_t n = level.size() / kHash; n > 1; n /= 2) {
    for (int64_t i = 0; i < n / 2; ++i) {
      std::memcpy(buf + 1, level.data() + 2 * i * kHash, 2 * kHash);
      std::string parent = Sha256(absl::string_view(buf, sizeof(buf)));
      std::memcpy(level.data() + i * kHash, parent.data(), kHash);
    }
  }
  return level.substr(0, kHash);
}

absl::StatusOr<TreeVerification> VerifyTreeFromTiles(int64_t size, const Hash& root,
                                                     const TileFetcher& fetch,
                                                     const EntryCheck& check, int parallelism) {
  if (size < 0) return InvalidField("tree_size", absl::StrCat(size, ", want >= 0"));
  if (size == 0) {
    if (root != EmptyRootHash()) return absl::DataLossError("the empty tree has another root");
    return TreeVerification{};
  }
  // Flat arrays of 32-byte hashes: the served tile hashes per level, and the
  // leaf hashes recomputed from the entry bundles.
  std::vector<std::string> served;
  for (int level = 0; NodesAt(level, size) > 0; ++level) {
    served.emplace_back(NodesAt(level, size) * kHash, '\0');
  }
  std::string leaf_hashes(size * kHash, '\0');
  const std::vector<TileRef> tiles = TilesOfTree(size);
  std::atomic<int64_t> bytes{0};
  MARKET_RETURN_IF_ERROR(ParallelFor(
      static_cast<int64_t>(tiles.size()), parallelism, [&](int64_t t) -> absl::Status {
        const TileRef& tile = tiles[t];
        absl::StatusOr<std::string> body = fetch(tile);
        if (!body.ok()) {
          return absl::Status(body.status().code(),
                              absl::StrCat(TilePath(tile), ": ", body.status().message()));
        }
        bytes += static_cast<int64_t>(body->size());
        const int64_t first = tile.index * kTileWidth;
        if (tile.level == kEntriesLevel) {
          absl::StatusOr<std::vector<std::string>> entries = DecodeEntryBundle(*body);
          if (!entries.ok()) {
            return absl::DataLossError(absl::StrCat(TilePath(tile), ": ", entries.status().message()));
          }
          if (static_cast<int64_t>(entries->size()) != tile.width) {
            return absl::DataLossError(absl::StrCat(TilePath(tile), ": ", entries->size(),
                                                    " entries, want ", tile.width));
          }
          for (int64_t i = 0; i < tile.width; ++i) {
            if (check) MARKET_RETURN_IF_ERROR(check(first + i, (*entries)[i]));
            Hash h = LeafHash((*entries)[i]);
            std::memcpy(leaf_hashes.data() + (first + i) * kHash, h.data(), kHash);
          }
          return absl::OkStatus();
        }
        if (static_cast<int64_t>(body->size()) != tile.width * kHash) {
          return absl::DataLossError(absl::StrCat(TilePath(tile), ": ", body->size(),
                                                  " bytes, want ", tile.width * kHash));
        }
        std::memcpy(served[tile.level].data() + first * kHash, body->data(), body->size());
        return absl::OkStatus();
      }));
  TreeVerification result;
  result.tiles = static_cast<int64_t>(tiles.size());
  result.bytes = bytes.load();
  // Level 0: every served leaf hash against the entry it should hash.
  for (int64_t i = 0; i < size; ++i) {
    if (HashAt(leaf_hashes, i) != HashAt(served[0], i)) {
      return absl::DataLossError(absl::StrCat(
          TilePath({0, i / kTileWidth, TileWidth(0, i / kTileWidth, size)}), " hash ",
          i % kTileWidth, " differs from the hash of entry ", i));
    }
  }
  result.hashes_checked = size;
  // Level L+1: every served hash against the root of the full tile below.
  for (size_t level = 0; level + 1 < served.size(); ++level) {
    const int64_t parents = NodesAt(static_cast<int>(level) + 1, size);
    MARKET_RETURN_IF_ERROR(ParallelFor(parents, parallelism, [&](int64_t g) -> absl::Status {
      Hash below = PerfectRoot(
          absl::string_view(served[level]).substr(g * kTileWidth * kHash, kTileWidth * kHash));
      if (below != HashAt(served[level + 1], g)) {
        const int next = static_cast<int>(level) + 1;
        return absl::DataLossError(absl::StrCat(
            TilePath({next, g / kTileWidth, TileWidth(next, g / kTileWidth, size)}), " hash ",
            g % kTileWidth, " differs from the root of ",
            TilePath({static_cast<int>(level), g, kTileWidth})));
      }
      return absl::OkStatus();
    }));
    result.hashes_checked += parents;
  }
  // The root: the perfect subtrees of size's binary decomposition, each the
  // root of 2^r consecutive hashes of tile level q (tree level 8q + r).
  std::vector<Hash> subtrees;
  int64_t start = 0;
  for (int l = 62; l >= 0; --l) {
    const int64_t width = int64_t{1} << l;
    if ((size & width) == 0) continue;
    const int q = l / kTileHeight, r = l % kTileHeight;
    const int64_t first = (start >> l) << r;
    subtrees.push_back(PerfectRoot(
        absl::string_view(served[q]).substr(first * kHash, (int64_t{1} << r) * kHash)));
    start += width;
  }
  Hash computed = subtrees.back();
  for (auto it = subtrees.rbegin() + 1; it != subtrees.rend(); ++it) computed = NodeHash(*it, computed);
  if (computed != root) {
    return absl::DataLossError(absl::StrCat("the tiles give root ",
                                            absl::BytesToHexString(computed),
                                            ", the checkpoint says ",
                                            absl::BytesToHexString(root)));
  }
  return result;
}

}  // namespace market::ledger
