// What the benchmarks print about the machine they ran on, shared by the
// benchmark programs in bench/.
#pragma once

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace vesta::bench {

// The CPU model from /proc/cpuinfo ("AMD EPYC ..."), or "unknown".
inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// A shell command's standard output without the trailing newline ("" on
// failure). Used for lscpu and git only.
inline std::string ShellOutput(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return out;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// "AMD EPYC ... (2 cores)" from lscpu (model name and CPU(s)), falling back
// to /proc/cpuinfo and std::thread::hardware_concurrency().
inline std::string MachineText() {
  std::string model, cpus;
  std::istringstream in(ShellOutput("LC_ALL=C lscpu"));
  std::string line;
  auto value = [](const std::string& l) {
    std::string v = l.substr(l.find(':') + 1);
    v.erase(0, v.find_first_not_of(' '));
    return v;
  };
  while (std::getline(in, line)) {
    if (line.rfind("Model name:", 0) == 0 && model.empty()) model = value(line);
    if (line.rfind("CPU(s):", 0) == 0 && cpus.empty()) cpus = value(line);
  }
  if (model.empty()) model = CpuModel();
  if (cpus.empty()) cpus = std::to_string(std::thread::hardware_concurrency());
  return model + ", " + cpus + " cores (lscpu CPU(s))";
}

// The short commit of the source tree at `source_dir`, with "+ uncommitted changes" when
// `git status` lists anything (untracked files included). Read-only: no
// optional locks, so the git index is not refreshed.
inline std::string CommitText(const std::string& source_dir) {
  const std::string git = "git --no-optional-locks -C '" + std::string(source_dir) + "' ";
  std::string c = ShellOutput(git + "rev-parse --short HEAD");
  if (c.empty()) return "unknown (not a git checkout)";
  if (!ShellOutput(git + "status --porcelain").empty()) c += " + uncommitted changes";
  return c;
}

inline std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace vesta::bench
