// GoogleTest helper for lifecycle tables (transition_table.h): checks every
// (from, to, actor) of a state machine against the moves and reasons a test
// writes down independently. Test-only.
#ifndef MARKET_COMMON_STATUS_TRANSITION_TABLE_TESTING_H_
#define MARKET_COMMON_STATUS_TRANSITION_TABLE_TESTING_H_

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "gtest/gtest.h"

namespace market::testing {

template <typename State, typename Actor>
struct ExpectedMoves {
  std::vector<State> states;
  std::vector<Actor> actors;
  // The only (from, to, actor) rows that are allowed.
  std::vector<std::tuple<State, State, Actor>> allowed;
  // Reason of a refused move into a state; ILLEGAL_STATE_TRANSITION when absent.
  std::vector<std::pair<State, std::string>> reasons;
};

// Calls check(from, to, actor) for every combination of want.states and
// want.actors: OK for the allowed rows; PERMISSION_DENIED when no allowed row
// takes the actor into `to`; else FAILED_PRECONDITION with the expected reason.
// Returns the number of allowed rows seen.
template <typename State, typename Actor, typename Check, typename Name>
int ExpectEveryMove(const ExpectedMoves<State, Actor>& want, Check check, Name state_name) {
  int allowed = 0;
  for (State from : want.states) {
    for (State to : want.states) {
      for (Actor actor : want.actors) {
        const std::string label = absl::StrCat(state_name(from), " → ", state_name(to),
                                               " by actor ", static_cast<int>(actor));
        const absl::Status s = check(from, to, actor);
        auto& rows = want.allowed;
        if (std::find(rows.begin(), rows.end(), std::make_tuple(from, to, actor)) != rows.end()) {
          ++allowed;
          EXPECT_TRUE(s.ok()) << label << ": " << s;
          continue;
        }
        const bool reaches = std::any_of(rows.begin(), rows.end(), [&](const auto& row) {
          return std::get<1>(row) == to && std::get<2>(row) == actor;
        });
        if (!reaches) {
          EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << label << ": " << s;
          continue;
        }
        std::string reason = "ILLEGAL_STATE_TRANSITION";
        for (const auto& [state, r] : want.reasons) {
          if (state == to) reason = r;
        }
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << label << ": " << s;
        EXPECT_EQ(ReasonOf(s), reason) << label;
      }
    }
  }
  return allowed;
}

}  // namespace market::testing

#endif  // MARKET_COMMON_STATUS_TRANSITION_TABLE_TESTING_H_
