#include "services/credit/ledger_audit.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/crypto/crypto.h"
#include "ledger/checkpoint.h"
#include "ledger/leaf.h"
#include "market/credit/v1/credit.pb.h"
#include "services/credit/stored_nodes.h"

namespace market::credit {
namespace {

using sqlite::Connection;
using sqlite::Statement;

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

// Every stored node of tree level `level` (ORDER BY idx) against `expected`
// (32-byte hashes back to back, node 0 first): one row per node, no gaps.
absl::Status CheckStoredLevel(Connection& c, int level, const std::string& expected) {
  MARKET_ASSIGN_OR_RETURN(Statement st,
                          c.Prepare("SELECT idx, hash FROM nodes WHERE level = ? ORDER BY idx"));
  MARKET_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(level)));
  const int64_t count = static_cast<int64_t>(expected.size() / kSha256Size);
  int64_t next = 0;
  for (;;) {
    MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (st.ColumnInt64(0) != next || next >= count) {
      return absl::DataLossError(absl::StrCat("ledger: unexpected stored node ", level, "/",
                                              st.ColumnInt64(0)));
    }
    if (st.ColumnBlob(1) != absl::string_view(expected).substr(next * kSha256Size, kSha256Size)) {
      return absl::DataLossError(absl::StrCat("ledger: stored node ", level, "/", next,
                                              " differs from the hash recomputed from the records"));
    }
    ++next;
  }
  if (next != count) {
    return absl::DataLossError(absl::StrCat("ledger: stored node ", level, "/", next, " is missing"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LedgerAudit> AuditIn(Connection& c, absl::string_view public_key_raw) {
  ledger::RootBuilder builder;
  std::string level_hashes;  // level 0: the leaf hashes, back to back
  MARKET_ASSIGN_OR_RETURN(
      Statement records,
      c.Prepare("SELECT r.idx, r.leaf, l.idx, l.leaf, l.salt FROM records r "
                "LEFT JOIN leaves l ON l.idx = r.idx ORDER BY r.idx"));
  for (;;) {
    MARKET_ASSIGN_OR_RETURN(bool row, records.Step());
    if (!row) break;
    const int64_t index = records.ColumnInt64(0);
    if (index != builder.size()) {
      return absl::DataLossError(
          absl::StrCat("ledger: expected record ", builder.size(), ", found ", index));
    }
    if (records.ColumnIsNull(2)) {
      return absl::DataLossError(absl::StrCat("ledger: record ", index, " has no leaf"));
    }
    const std::string leaf = records.ColumnBlob(3);
    absl::Status opened =
        ledger::CheckOpening(index, leaf, records.ColumnBlob(1), records.ColumnBlob(4));
    if (!opened.ok()) return absl::DataLossError(absl::StrCat("ledger: ", opened.message()));
    const ledger::Hash leaf_hash = ledger::LeafHash(leaf);
    level_hashes += leaf_hash;
    builder.AddLeafHash(leaf_hash);
  }
  const int64_t size = builder.size();
  const ledger::Hash recomputed = builder.Root();

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
  // Every stored perfect-subtree hash, level by level, recomputed (2n hashes).
  for (int level = 0; !level_hashes.empty(); ++level) {
    MARKET_RETURN_IF_ERROR(CheckStoredLevel(c, level, level_hashes));
    std::string parents;
    for (size_t i = 0; i + 2 * kSha256Size <= level_hashes.size(); i += 2 * kSha256Size) {
      parents += ledger::NodeHash(absl::string_view(level_hashes).substr(i, kSha256Size),
                                  absl::string_view(level_hashes).substr(i + kSha256Size, kSha256Size));
    }
    level_hashes = std::move(parents);
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
