#include "tools/progress.h"

#include <unistd.h>

#include <ostream>

namespace vesta::tools {

ProgressDisplay::ProgressDisplay(std::ostream& out, bool terminal, Clock clock)
    : out_(out), terminal_(terminal), clock_(std::move(clock)), start_(clock_()), last_print_(start_) {}

ProgressDisplay::~ProgressDisplay() {
  Finish();
}

bool ProgressDisplay::StderrIsTerminal() {
  return isatty(STDERR_FILENO) != 0;
}

std::string ProgressDisplay::Line(std::string_view phase, int64_t done, int64_t total) {
  std::string s(phase);
  s += ": ";
  if (total <= 0) return s + std::to_string(done) + " rows";
  if (done >= total) return s + std::to_string(total) + " rows, done";
  return s + std::to_string(done) + " / " + std::to_string(total) + " rows (" +
         std::to_string(done * 100 / total) + "%)";
}

void ProgressDisplay::Update(std::string_view phase, int64_t done, int64_t total) {
  const auto now = clock_();
  const bool complete = total > 0 && done >= total;
  const bool new_phase = phase != last_phase_;
  if (terminal_) {
    if (!new_phase && !complete && now - last_print_ < kRedrawInterval) return;
    out_ << "\r\033[K" << Line(phase, done, total) << std::flush;
    line_shown_ = true;
  } else {
    if (now - start_ < kQuietPeriod) {
      last_phase_ = std::string(phase);
      return;
    }
    if (printed_any_ && !new_phase && !complete && now - last_print_ < kLogInterval) return;
    out_ << Line(phase, done, total) << "\n" << std::flush;
  }
  printed_any_ = true;
  last_print_ = now;
  last_phase_ = std::string(phase);
}

std::function<void(std::string_view, int64_t, int64_t)> ProgressDisplay::Callback() {
  return [this](std::string_view phase, int64_t done, int64_t total) { Update(phase, done, total); };
}

void ProgressDisplay::Finish() {
  if (line_shown_) out_ << "\r\033[K" << std::flush;
  line_shown_ = false;
}

}  // namespace vesta::tools
