// Progress display: throttling on a terminal and in logs, with a fake clock.
#include "tools/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace vesta::tools {
namespace {

using std::chrono::milliseconds;

class FakeClock {
 public:
  ProgressDisplay::Clock Fn() {
    return [this] { return now_; };
  }
  void Advance(milliseconds d) { now_ += d; }

 private:
  std::chrono::steady_clock::time_point now_{};
};

TEST(ProgressDisplay, LogModeIsQuietForShortJobs) {
  std::ostringstream out;
  FakeClock clock;
  {
    ProgressDisplay p(out, /*terminal=*/false, clock.Fn());
    p.Update("read", 100, 100);
    clock.Advance(milliseconds(500));
    p.Update("commit", 100, 100);
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressDisplay, LogModePrintsOccasionalLinesForLongJobs) {
  std::ostringstream out;
  FakeClock clock;
  ProgressDisplay p(out, /*terminal=*/false, clock.Fn());
  p.Update("read", 50000, 50000);  // within the quiet period
  clock.Advance(milliseconds(3000));
  p.Update("commit", 5000, 50000);  // first line after the quiet period
  clock.Advance(milliseconds(1000));
  p.Update("commit", 10000, 50000);  // too soon
  clock.Advance(ProgressDisplay::kLogInterval);
  p.Update("commit", 20000, 50000);
  clock.Advance(milliseconds(10));
  p.Update("commit", 50000, 50000);  // completion always prints
  p.Finish();
  EXPECT_EQ(out.str(),
            "commit: 5000 / 50000 rows (10%)\n"
            "commit: 20000 / 50000 rows (40%)\n"
            "commit: 50000 rows, done\n");
}

TEST(ProgressDisplay, TerminalModeRedrawsOneLineAndErasesIt) {
  std::ostringstream out;
  FakeClock clock;
  ProgressDisplay p(out, /*terminal=*/true, clock.Fn());
  p.Update("commit", 5000, 20000);
  clock.Advance(milliseconds(10));
  p.Update("commit", 10000, 20000);  // throttled
  clock.Advance(ProgressDisplay::kRedrawInterval);
  p.Update("commit", 15000, 20000);
  p.Finish();
  p.Finish();  // idempotent
  EXPECT_EQ(out.str(),
            "\r\033[Kcommit: 5000 / 20000 rows (25%)"
            "\r\033[Kcommit: 15000 / 20000 rows (75%)"
            "\r\033[K");
}

TEST(ProgressDisplay, UnknownTotalsPrintCounts) {
  std::ostringstream out;
  FakeClock clock;
  ProgressDisplay p(out, /*terminal=*/true, clock.Fn());
  p.Callback()("read", 42, 0);
  EXPECT_EQ(out.str(), "\r\033[Kread: 42 rows");
}

}  // namespace
}  // namespace vesta::tools
