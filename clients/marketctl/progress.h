// The one progress bar of marketctl (CSV import, ledger verify): a line on
// stderr redrawn in place, drawn only when stderr is a terminal; when it is
// not (a pipe, a log file, CI) nothing is written, as the command's result on
// stdout is the summary. Not thread-safe.
#ifndef MARKET_CLIENTS_MARKETCTL_PROGRESS_H_
#define MARKET_CLIENTS_MARKETCTL_PROGRESS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"

namespace market::ctl {

// "[#####.....] 500/1000 rows, 3 failed": a bar `width` characters wide,
// filled in proportion to done/total (full when total is 0), the counts and
// `label`.
std::string RenderProgress(int64_t done, int64_t total, absl::string_view label, int width);

class ProgressBar {
 public:
  static constexpr int kWidth = 30;

  // Draws on `err` (which must outlive the bar) only when `err_is_tty`.
  ProgressBar(std::ostream& err, bool err_is_tty) : err_(err), tty_(err_is_tty) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { Break(); }

  // Redraws the line as RenderProgress(done, total, label); at done >= total
  // the line is ended.
  void Update(int64_t done, int64_t total, absl::string_view label);
  // Ends a line left open, so that a message can follow on a line of its own.
  void Break();

 private:
  std::ostream& err_;
  const bool tty_;
  bool open_ = false;  // a line drawn without its newline
  size_t drawn_ = 0;   // length of that line, to blank a longer previous one
};

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_PROGRESS_H_
