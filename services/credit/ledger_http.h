// The credit ledger over HTTP as C2SP tlog-tiles (https://c2sp.org/tlog-tiles):
// GET /checkpoint (the latest signed note), /tile/<L>/<N>[.p/<W>] (stored
// hashes of tree level 8·L) and /tile/entries/<N>[.p/<W>] (leaf bundles),
// on the HTTP port of marketd and market-credit. Full tiles never change and
// are sent `Cache-Control: public, max-age=31536000, immutable`; partial tiles
// and the checkpoint are short-lived. Thread-safe (the store is).
#ifndef MARKET_SERVICES_CREDIT_LEDGER_HTTP_H_
#define MARKET_SERVICES_CREDIT_LEDGER_HTTP_H_

#include <string>

#include "common/server/runner.h"
#include "services/credit/credit_store.h"

namespace market::credit {

inline constexpr char kImmutableCache[] = "public, max-age=31536000, immutable";
inline constexpr char kPartialTileCache[] = "public, max-age=10";
inline constexpr char kCheckpointCache[] = "no-cache";

// The reply to GET `path`: 200 with the body; 400 for a malformed path; 404
// for a tile beyond the current tree; 500 with a "ledger integrity: …" body
// when the stored hashes are inconsistent (StoredNodes' DATA_LOSS); 503 for
// other storage errors.
server::HttpReply ServeLedgerHttp(CreditStore& store, const std::string& path);

// Adds the /checkpoint and /tile/… routes to `runner` (`store` must outlive it).
void AddLedgerHttpRoutes(server::ServerRunner& runner, CreditStore* store);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_LEDGER_HTTP_H_
