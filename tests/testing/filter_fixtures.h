// Fixtures shared by the random-filter property tests (filter/ SQL
// equivalence and index/ bitmap equivalence): strings that stress LIKE,
// has_token, escaping and UTF-8, and principals for current_user().
#pragma once

#include <string>
#include <vector>

namespace vesta::testing {

const std::vector<std::string>& Words() {
  static const std::vector<std::string> kWords = {"red",
                                                  "red car",
                                                  "blue-green sky",
                                                  "Red",
                                                  "a_b",
                                                  "100%",
                                                  "it's",
                                                  "caf\xC3\xA9",
                                                  "x\\y",
                                                  "",
                                                  "red,blue",
                                                  "the red",
                                                  "redder",
                                                  "F-150 truck",
                                                  "\xE2\x82\xAC"
                                                  "5",
                                                  "100",
                                                  "a b  c",
                                                  "RED CAR",
                                                  "car red",
                                                  "(red)",
                                                  "_%_"};
  return kWords;
}
const std::vector<std::string>& Owners() {
  static const std::vector<std::string> kOwners = {"alice", "bob", "carol"};
  return kOwners;
}

}  // namespace vesta::testing
