#include "ingest/typed_table.h"

#include <string>
#include <unordered_set>

namespace vesta::ingest {
namespace {

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

const std::vector<std::string>& DefaultNaTokens() {
  static const std::vector<std::string> kTokens = {
      "",          "NA",           "N/A",           "NaN", "null", "[Not Available]", "[Not Applicable]",
      "[Unknown]", "[Not Evaluated]", "[Discrepancy]", "."};
  return kTokens;
}

std::string SanitizeIdentifier(std::string_view name, int position, bool lower_case) {
  std::string out;
  out.reserve(name.size() + 1);
  bool pending_sep = false;  // a run of invalid characters seen since the last valid one
  for (char c : name) {
    if (IsIdentChar(c)) {
      if (pending_sep && !out.empty() && out.back() != '_' && c != '_') out.push_back('_');
      pending_sep = false;
      if (lower_case && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out.push_back(c);
    } else {
      pending_sep = true;  // dropped at either end; one '_' in between
    }
  }
  // Names starting with "__" are reserved by Schema: keep one underscore.
  size_t underscores = 0;
  while (underscores < out.size() && out[underscores] == '_') ++underscores;
  if (underscores > 1) out.erase(0, underscores - 1);
  if (out.empty() || out == "_") return "column_" + std::to_string(position);
  if (out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  if (out.size() > 128) out.resize(128);
  return out;
}

void MakeNamesUnique(std::vector<std::string>* names) {
  std::unordered_set<std::string> taken;
  for (const std::string& n : *names) taken.insert(AsciiUpper(n));
  std::unordered_set<std::string> seen;
  for (std::string& n : *names) {
    std::string key = AsciiUpper(n);
    if (seen.insert(key).second) continue;
    for (int k = 2;; ++k) {
      std::string suffix(1, '_');  // (not "_" + ...: GCC 12 -Wrestrict false positive)
      suffix += std::to_string(k);
      std::string base = n.size() + suffix.size() > 128 ? n.substr(0, 128 - suffix.size()) : n;
      std::string candidate = base + suffix;
      std::string ckey = AsciiUpper(candidate);
      if (!taken.count(ckey) && !seen.count(ckey)) {
        n = candidate;
        taken.insert(ckey);
        seen.insert(ckey);
        break;
      }
    }
  }
}

}  // namespace vesta::ingest
