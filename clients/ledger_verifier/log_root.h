// Recomputes an RFC 9162 tree root from all leaf hashes in order, in O(n)
// hashing and O(log n) memory (a stack of perfect-subtree roots), so a client
// can check a checkpoint against every record it downloaded. Not thread-safe.
#ifndef MARKET_CLIENTS_LEDGER_VERIFIER_LOG_ROOT_H_
#define MARKET_CLIENTS_LEDGER_VERIFIER_LOG_ROOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace market::ledger {

class RootBuilder {
 public:
  // Adds the next leaf's hash (LeafHash of its bytes).
  void AddLeafHash(absl::string_view leaf_hash);
  int64_t size() const { return size_; }
  // The root of the leaves added so far (EmptyRootHash() for none).
  std::string Root() const;

 private:
  struct Subtree {
    int level;
    std::string hash;
  };
  std::vector<Subtree> stack_;  // strictly decreasing levels
  int64_t size_ = 0;
};

}  // namespace market::ledger

#endif  // MARKET_CLIENTS_LEDGER_VERIFIER_LOG_ROOT_H_
