// Fatal-error helpers shared by the benchmark programs (bench/*.cc): a
// benchmark that meets an error prints "<program>: <what>: <status>" on
// stderr and exits 1.
//
//   int main(int argc, char** argv) {
//     vesta::bench::SetProgram("governed_bench");
//     auto store = vesta::bench::Take(Store::Open(path, {}), "opening the store");
//
// Thread-safety: call SetProgram once before any other thread starts; Die
// may then be called from any thread (it exits the process).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>

#include "common/status.h"

namespace vesta::bench {

namespace internal {
struct ProgramState {
  std::string name = "bench";
  std::function<void()> on_die;  // e.g. removing a temporary folder
};
inline ProgramState& Program() {
  static ProgramState state;
  return state;
}
}  // namespace internal

// The name Die prints, and what it runs before exiting (optional).
inline void SetProgram(std::string name, std::function<void()> on_die = nullptr) {
  internal::Program().name = std::move(name);
  internal::Program().on_die = std::move(on_die);
}

[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", internal::Program().name.c_str(), what.c_str());
  if (internal::Program().on_die) internal::Program().on_die();
  std::exit(1);
}

// Dies with `what` and the status unless it is OK.
inline void Check(const Status& st, const std::string& what) {
  if (!st.ok()) Die(what + ": " + st.ToString());
}

// The value, or dies with `what` and the status.
template <typename T>
T Take(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

}  // namespace vesta::bench
