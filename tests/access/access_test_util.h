// Small helpers shared by the access/ tests.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>

#include "common/types.h"
#include "governance/privileges.h"

namespace vesta::access::testing {

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A keyed-hash mask's output: 64 lowercase hex characters.
inline bool IsHex64(const Value& v) {
  if (!v.is_string() || v.as_string().size() != 64) return false;
  return std::all_of(v.as_string().begin(), v.as_string().end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

inline governance::Securable Cat(const std::string& name) {
  return governance::Securable::Parse(governance::SecurableType::kCatalog, name).value();
}
inline governance::Securable Sch(const std::string& name) {
  return governance::Securable::Parse(governance::SecurableType::kSchema, name).value();
}

// Test patient ids: "P000", "P001", ...
inline std::string Pid(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "P%03d", i);
  return buf;
}

}  // namespace vesta::access::testing
