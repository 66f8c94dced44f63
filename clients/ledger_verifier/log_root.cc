#include "clients/ledger_verifier/log_root.h"

#include "clients/ledger_verifier/verifier.h"

namespace market::ledger {

void RootBuilder::AddLeafHash(absl::string_view leaf_hash) {
  Subtree node{0, std::string(leaf_hash)};
  while (!stack_.empty() && stack_.back().level == node.level) {
    node = Subtree{node.level + 1, NodeHash(stack_.back().hash, node.hash)};
    stack_.pop_back();
  }
  stack_.push_back(std::move(node));
  ++size_;
}

std::string RootBuilder::Root() const {
  if (stack_.empty()) return EmptyRootHash();
  // Perfect subtrees from largest (left) to smallest (right); the RFC 9162
  // split combines them right to left.
  std::string root = stack_.back().hash;
  for (size_t i = stack_.size() - 1; i-- > 0;) root = NodeHash(stack_[i].hash, root);
  return root;
}

}  // namespace market::ledger
