#include "services/credit/ledger_http.h"

#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "ledger/tiles.h"

namespace market::credit {
namespace {

server::HttpReply Error(const absl::Status& status) {
  int code = 503;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      code = 400;
      break;
    case absl::StatusCode::kNotFound:
      code = 404;
      break;
    case absl::StatusCode::kDataLoss:
      code = 500;
      break;
    default:
      break;
  }
  return {.status = code, .body = absl::StrCat(status.message(), "\n")};
}

absl::StatusOr<std::string> TileBody(CreditStore& store, const ledger::TileRef& tile) {
  MARKET_ASSIGN_OR_RETURN(StoredCheckpoint cp, store.LatestCheckpoint());
  if (tile.width > ledger::TileWidth(tile.level, tile.index, cp.size)) {
    return absl::NotFoundError(absl::StrCat(ledger::TilePath(tile), " is beyond the tree of ",
                                            cp.size, " records"));
  }
  if (tile.level != ledger::kEntriesLevel) {
    return store.TileHashes(tile.level, tile.index, tile.width);
  }
  const int64_t first = tile.index * ledger::kTileWidth;
  MARKET_ASSIGN_OR_RETURN(std::vector<StoredEntry> entries,
                          store.GetEntries(first, first + tile.width));
  std::vector<std::string> leaves;
  for (StoredEntry& e : entries) leaves.push_back(std::move(e.leaf));
  if (static_cast<int>(leaves.size()) != tile.width) {
    return absl::DataLossError(absl::StrCat("ledger integrity: ", ledger::TilePath(tile), " has ",
                                            leaves.size(), " stored entries"));
  }
  return ledger::EncodeEntryBundle(leaves);
}

}  // namespace

server::HttpReply ServeLedgerHttp(CreditStore& store, const std::string& path) {
  if (path == "/checkpoint") {
    absl::StatusOr<StoredCheckpoint> cp = store.LatestCheckpoint();
    if (!cp.ok()) return Error(cp.status());
    return {.cache_control = kCheckpointCache, .body = cp->note};
  }
  absl::StatusOr<ledger::TileRef> tile =
      ledger::ParseTilePath(path.empty() ? path : path.substr(1));
  if (!tile.ok()) return Error(tile.status());
  absl::StatusOr<std::string> body = TileBody(store, *tile);
  if (!body.ok()) return Error(body.status());
  return {.content_type = "application/octet-stream",
          .cache_control = tile->width == ledger::kTileWidth ? kImmutableCache : kPartialTileCache,
          .body = *std::move(body)};
}

void AddLedgerHttpRoutes(server::ServerRunner& runner, CreditStore* store) {
  auto route = [store](const std::string& path) { return ServeLedgerHttp(*store, path); };
  runner.AddHttpRoute("/checkpoint", route);
  runner.AddHttpRoute("/tile/.+", route);
}

}  // namespace market::credit
