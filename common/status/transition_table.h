// A state machine as data: the allowed (from, to, actor) moves and the
// FAILED_PRECONDITION reason of a refused move into each state, plus the one
// check every *_lifecycle.cc shares. Thread-safe: tables are immutable and
// CheckMove is a pure function.
#ifndef MARKET_COMMON_STATUS_TRANSITION_TABLE_H_
#define MARKET_COMMON_STATUS_TRANSITION_TABLE_H_

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status/status.h"

namespace market {

// One allowed move: `from` → `to`, by any of `actors`.
template <typename State, typename Actor>
struct Move {
  State from;
  State to;
  std::vector<Actor> actors;
};

template <typename State, typename Actor>
struct TransitionTable {
  // What moves, for messages: "claim", "order", …
  absl::string_view noun;
  std::vector<Move<State, Actor>> moves;
  // The reason of a refused move into a state; ILLEGAL_STATE_TRANSITION for
  // states not listed.
  std::vector<std::pair<State, absl::string_view>> reasons;
  std::string (*state_name)(State);
  // Actor names for messages, indexed by the actor's enumerator value.
  std::vector<absl::string_view> actor_names;
};

// OK when `table` lists from → to for `actor`. PERMISSION_DENIED when no move
// of the table takes `actor` into `to` (from any state); otherwise
// FAILED_PRECONDITION "NOUN FROM → TO is not allowed" with the reason the
// table gives for `to`.
template <typename State, typename Actor>
absl::Status CheckMove(const TransitionTable<State, Actor>& table, State from, State to,
                       Actor actor) {
  bool actor_reaches_to = false;
  for (const Move<State, Actor>& m : table.moves) {
    const bool by_actor = std::find(m.actors.begin(), m.actors.end(), actor) != m.actors.end();
    if (by_actor && m.from == from && m.to == to) return absl::OkStatus();
    actor_reaches_to = actor_reaches_to || (by_actor && m.to == to);
  }
  if (!actor_reaches_to) {
    const auto i = static_cast<size_t>(actor);
    absl::string_view who = i < table.actor_names.size() ? table.actor_names[i] : "UNKNOWN";
    return absl::PermissionDeniedError(
        absl::StrCat(who, " may not move a ", table.noun, " to ", table.state_name(to)));
  }
  absl::string_view reason = "ILLEGAL_STATE_TRANSITION";
  for (const auto& [state, r] : table.reasons) {
    if (state == to) reason = r;
  }
  return WithReason(absl::StatusCode::kFailedPrecondition, reason,
                    absl::StrCat(table.noun, " ", table.state_name(from), " → ",
                                 table.state_name(to), " is not allowed"));
}

}  // namespace market

#endif  // MARKET_COMMON_STATUS_TRANSITION_TABLE_H_
