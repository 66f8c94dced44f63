// credit.db's table `nodes` (perfect-subtree hashes) as a ledger::NodeSource,
// read through one connection inside its current transaction: shared by
// SqliteCreditStore and the ledger audit. Not thread-safe (one connection).
#ifndef MARKET_SERVICES_CREDIT_STORED_NODES_H_
#define MARKET_SERVICES_CREDIT_STORED_NODES_H_

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/sqlite/connection.h"
#include "common/status/status.h"
#include "ledger/merkle_tree.h"

namespace market::credit {

class StoredNodes final : public ledger::NodeSource {
 public:
  // `c` must outlive this object.
  explicit StoredNodes(sqlite::Connection& c) : c_(c) {}
  // NOT_FOUND when the node was never stored; SQLite errors as Statement.
  absl::StatusOr<ledger::Hash> Node(int level, int64_t index) override {
    MARKET_ASSIGN_OR_RETURN(sqlite::Statement st,
                            c_.Prepare("SELECT hash FROM nodes WHERE level = ? AND idx = ?"));
    MARKET_RETURN_IF_ERROR(st.Bind(1, static_cast<int64_t>(level)));
    MARKET_RETURN_IF_ERROR(st.Bind(2, index));
    MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
    if (!found) return absl::NotFoundError(absl::StrCat("node ", level, "/", index));
    return st.ColumnBlob(0);
  }

 private:
  sqlite::Connection& c_;
};

}  // namespace market::credit

#endif  // MARKET_SERVICES_CREDIT_STORED_NODES_H_
