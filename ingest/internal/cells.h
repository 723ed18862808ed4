// Cell-level text helpers shared by the delimited and MAF readers: NA
// tokens, type classification for inference, conversion of one cell to a
// Value. Not part of the public API.
//
// Thread-safety: NaSet is immutable after construction; the functions are
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace vesta::ingest::internal {

// Strips spaces and tabs at both ends.
std::string_view TrimSpaces(std::string_view s);

// A set of NA tokens with a cheap membership test (the lists are short).
class NaSet {
 public:
  explicit NaSet(const std::vector<std::string>& tokens);
  // True if the trimmed cell is one of the tokens.
  bool IsNa(std::string_view trimmed) const;

 private:
  std::vector<std::string> tokens_;
  uint64_t length_mask_ = 0;  // bit L set if some token has length L (L < 64)
  bool has_long_ = false;     // some token is 64 bytes or longer
};

// Classification used by schema inference. `trimmed` must be non-empty and
// not NA.
// Skips one leading '+' (from_chars rejects it) and returns the start of the
// digits, or nullptr for "+-1" / "++1" (a second sign after '+').
const char* SkipPlusSign(const char* b, const char* e);
bool LooksInteger(std::string_view trimmed);   // int64 decimal, optional sign, no leading zeros ("007")
bool LooksNumber(std::string_view trimmed);    // finite decimal/scientific double, no leading zeros
bool LooksBoolean(std::string_view trimmed);   // true/false, any case
bool LooksDate(std::string_view trimmed);      // YYYY-MM-DD (also YYYY.MM.DD, YYYY/MM/DD), a real date
bool LooksTimestamp(std::string_view trimmed); // what ParseTimestamp accepts

// Parses one cell as `type`: NA tokens (after trimming) are NULL; other
// cells go through ParseValue (DATE also accepts YYYY.MM.DD and YYYY/MM/DD).
// On failure returns InvalidArgument with ParseValue's message ("expected
// BIGINT, got 'abc'") for the caller to prefix with file, line and column.
Result<Value> ConvertCell(std::string_view text, const DataType& type, const NaSet& na);

// "<source>:<line>: column '<column>': <message>".
std::string CellError(std::string_view source, int64_t line, std::string_view column, std::string_view message);

}  // namespace vesta::ingest::internal
