// Progress of long ingests on stderr.
//
// On a terminal: one line, redrawn in place at most every 100 ms
// ("commit: 45000 / 77499 rows (58%)"), erased by Finish() so that only the
// command's summary stays. Otherwise (a log file, a pipe, a test): nothing
// for the first 2 s, then at most one line every 10 s per phase and one when
// a phase completes, so short ingests print nothing and long ones leave a
// short trace.
//
//   ProgressDisplay progress(std::cerr, ProgressDisplay::StderrIsTerminal());
//   options.progress = progress.Callback();
//   ... IngestFile(...) ...
//   progress.Finish();
//
// Thread-safety: thread-compatible; the callback must be called from one
// thread at a time (the ingest code calls it from the committing thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace vesta::tools {

class ProgressDisplay {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `out` is borrowed and must outlive this object. `clock` is for tests.
  ProgressDisplay(std::ostream& out, bool terminal, Clock clock = &std::chrono::steady_clock::now);
  ~ProgressDisplay();  // calls Finish()
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  static bool StderrIsTerminal();

  // Reports `done` of `total` rows in `phase` ("read", "commit", ...).
  // `total` <= 0 means unknown.
  void Update(std::string_view phase, int64_t done, int64_t total);

  // A callback forwarding to Update; valid while this object lives.
  std::function<void(std::string_view, int64_t, int64_t)> Callback();

  // Erases the terminal line if one is shown. Idempotent.
  void Finish();

  // Timing of the non-terminal mode.
  static constexpr std::chrono::milliseconds kQuietPeriod{2000};    // nothing before this
  static constexpr std::chrono::milliseconds kLogInterval{10000};   // between lines of one phase
  static constexpr std::chrono::milliseconds kRedrawInterval{100};  // terminal redraws

 private:
  static std::string Line(std::string_view phase, int64_t done, int64_t total);

  std::ostream& out_;
  const bool terminal_;
  Clock clock_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  std::string last_phase_;
  bool printed_any_ = false;
  bool line_shown_ = false;  // terminal: a progress line is on screen
};

}  // namespace vesta::tools
