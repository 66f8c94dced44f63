#include "services/credit/ledger_audit.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "ledger/checkpoint.h"
#include "market/credit/v1/credit.pb.h"
#include "services/credit/stored_nodes.h"

namespace market::credit {
namespace {

using sqlite::Connection;
using sqlite::Statement;

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

absl::StatusOr<LedgerAudit> AuditIn(Connection& c, absl::string_view public_key_raw) {
  ledger::RootBuilder builder;
  MARKET_ASSIGN_OR_RETURN(Statement records,
                          c.Prepare("SELECT idx, leaf FROM records ORDER BY idx"));
  for (;;) {
    MARKET_ASSIGN_OR_RETURN(bool row, records.Step());
    if (!row) break;
    const int64_t index = records.ColumnInt64(0);
    if (index != builder.size()) {
      return absl::DataLossError(
          absl::StrCat("ledger: expected record ", builder.size(), ", found ", index));
    }
    const std::string leaf = records.ColumnBlob(1);
    v1::Record decoded;
    if (!decoded.ParseFromString(leaf) || decoded.index() != index) {
      return absl::DataLossError(
          absl::StrCat("ledger: record ", index, " does not decode to its own index"));
    }
    builder.AddLeafHash(ledger::LeafHash(leaf));
  }
  const int64_t size = builder.size();
  const ledger::Hash recomputed = builder.Root();

  StoredNodes nodes(c);
  absl::StatusOr<ledger::Hash> stored_root = ledger::RootHash(size, nodes);
  if (!stored_root.ok()) {
    return absl::DataLossError(
        absl::StrCat("ledger: stored subtree hashes: ", stored_root.status().message()));
  }
  if (*stored_root != recomputed) {
    return absl::DataLossError(absl::StrCat("ledger: the stored subtree hashes give root ",
                                            Hex(*stored_root), ", the ", size, " records hash to ",
                                            Hex(recomputed)));
  }

  MARKET_ASSIGN_OR_RETURN(
      Statement latest,
      c.Prepare("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1"));
  MARKET_ASSIGN_OR_RETURN(bool has_checkpoint, latest.Step());
  if (!has_checkpoint) return absl::DataLossError("ledger: no signed checkpoint");
  LedgerAudit audit;
  audit.tree_size = latest.ColumnInt64(0);
  audit.root = latest.ColumnBlob(1);
  audit.note = latest.ColumnText(2);
  if (audit.tree_size != size) {
    return absl::DataLossError(absl::StrCat("ledger: the latest checkpoint covers ",
                                            audit.tree_size, " records, the database holds ",
                                            size));
  }
  if (audit.root != recomputed) {
    return absl::DataLossError(absl::StrCat("ledger: the ", size, " records hash to ",
                                            Hex(recomputed), ", the latest checkpoint says ",
                                            Hex(audit.root)));
  }
  // The origin is the note's first line; the signature binds it (key id and
  // signed text), so a rewritten origin fails verification below.
  const size_t newline = audit.note.find('\n');
  if (newline == std::string::npos || newline == 0) {
    return absl::InvalidArgumentError("ledger: the latest checkpoint has no origin line");
  }
  audit.origin = audit.note.substr(0, newline);
  MARKET_ASSIGN_OR_RETURN(ledger::Checkpoint signed_body,
                          ledger::VerifyCheckpoint(audit.note, audit.origin, public_key_raw));
  if (signed_body.size != size || signed_body.root != recomputed) {
    return absl::DataLossError(absl::StrCat(
        "ledger: the signed checkpoint says ", signed_body.size, " records with root ",
        Hex(signed_body.root), ", the database ", size, " records with root ", Hex(recomputed)));
  }
  return audit;
}

}  // namespace

absl::StatusOr<LedgerAudit> AuditLedger(Connection& c, absl::string_view public_key_raw) {
  MARKET_RETURN_IF_ERROR(c.Exec("BEGIN"));
  absl::StatusOr<LedgerAudit> audit = AuditIn(c, public_key_raw);
  c.Exec("ROLLBACK").IgnoreError();
  return audit;
}

}  // namespace market::credit
