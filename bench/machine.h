// What the benchmarks print about the machine they ran on, shared by the
// benchmark programs in bench/.
#pragma once

#include <fstream>
#include <string>

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

}  // namespace vesta::bench
