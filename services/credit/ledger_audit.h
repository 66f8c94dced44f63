// Checks the credit ledger at rest in a credit.db that nothing writes (a
// backup copy), from its tables alone: what `marketctl admin backup` and
// `restore-check` use. Lives beside SqliteCreditStore because it reads that
// schema. Thread-compatible (one connection per call).
#ifndef MARKET_SERVICES_CREDIT_LEDGER_AUDIT_H_
#define MARKET_SERVICES_CREDIT_LEDGER_AUDIT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sqlite/connection.h"
#include "ledger/merkle_tree.h"

namespace market::credit {

// What a ledger that passed the audit holds.
struct LedgerAudit {
  std::string origin;  // the checkpoint's origin line (also the key name)
  int64_t tree_size = 0;
  ledger::Hash root;  // 32 bytes
  std::string note;   // the latest signed checkpoint, as stored
};

// Audits the ledger in `c` (a connection to a credit.db, read-only is
// enough): every record in index order (indexes 0..n-1) must open its v2 leaf
// (ledger::CheckOpening: content and salt match the commitment, the public
// view matches the content); the leaves are hashed into the RFC 6962 tree and
// every stored subtree hash (table `nodes`, every level) must equal the
// recomputed one; the latest stored checkpoint must cover exactly the n
// records with that root, and its signed note must verify with the Ed25519
// key `public_key_raw` (32 bytes) under the origin it names.
// DATA_LOSS naming the first thing that disagrees; UNAUTHENTICATED for a
// signature that does not verify; INVALID_ARGUMENT for a malformed note;
// other codes for SQLite errors (e.g. not a credit database).
absl::StatusOr<LedgerAudit> AuditLedger(sqlite::Connection& c, absl::string_view public_key_raw);

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_LEDGER_AUDIT_H_
