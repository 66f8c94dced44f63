#include "clients/marketctl/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace market::ctl {

std::string RenderProgress(int64_t done, int64_t total, absl::string_view label, int width) {
  int64_t filled = width;
  if (total > 0) filled = width * std::clamp<int64_t>(done, 0, total) / total;
  return absl::StrCat("[", std::string(filled, '#'), std::string(width - filled, '.'), "] ", done,
                      "/", total, " ", label);
}

void ProgressBar::Update(int64_t done, int64_t total, absl::string_view label) {
  if (!tty_) return;
  const std::string line = RenderProgress(done, total, label, kWidth);
  err_ << "\r" << line;
  if (line.size() < drawn_) err_ << std::string(drawn_ - line.size(), ' ');
  drawn_ = line.size();
  open_ = true;
  if (done >= total) Break();
  err_ << std::flush;
}

void ProgressBar::Break() {
  if (!open_) return;
  err_ << "\n" << std::flush;
  open_ = false;
  drawn_ = 0;
}

}  // namespace market::ctl
