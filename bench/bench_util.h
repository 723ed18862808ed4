// Fatal-error helpers shared by the benchmark programs (bench/*.cc): a
// benchmark that meets an error prints "<program>: <what>: <status>" on
// stderr and exits 1.
//
//   int main(int argc, char** argv) {
//     vesta::bench::SetProgram("governed_bench");
//     auto store = vesta::bench::Take(Store::Open(path, {}), "opening the store");
//
// Thread-safety: call SetProgram (and MakeTempDir) before any other thread
// starts; Die may then be called from any thread (it exits the process).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "common/status.h"

namespace vesta::bench {

namespace internal {
struct ProgramState {
  std::string name = "bench";
  std::string temp_dir;  // MakeTempDir's folder, removed by RemoveTempDir and Die
};
inline ProgramState& Program() {
  static ProgramState state;
  return state;
}
}  // namespace internal

// The name Die prints.
inline void SetProgram(std::string name) {
  internal::Program().name = std::move(name);
}

// Removes MakeTempDir's folder, if any (errors ignored).
inline void RemoveTempDir() {
  std::string& dir = internal::Program().temp_dir;
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  dir.clear();
}

// Prints "<program>: <what>", removes MakeTempDir's folder and exits 1.
[[noreturn]] inline void Die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", internal::Program().name.c_str(), what.c_str());
  RemoveTempDir();
  std::exit(1);
}

// Creates a fresh folder "<system temp>/<prefix>-XXXXXX" (mkdtemp), removed
// by RemoveTempDir or Die; one per program. Returns its path; dies if it
// cannot be created.
inline std::string MakeTempDir(const std::string& prefix) {
  std::string path = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(path.data()) == nullptr) Die("cannot create a temporary directory for " + prefix);
  internal::Program().temp_dir = path;
  return path;
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
