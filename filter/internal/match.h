// String matching shared by Evaluate and ToSql, so that the in-memory and the
// SQL paths agree byte for byte. Not for use outside filter/.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace vesta::filter::internal {

// The LIKE escape character of the filter language (and of the SQL ToSql
// emits: `LIKE ? ESCAPE '\'`).
inline constexpr char kLikeEscape = '\\';

// Returns true if `text` matches the LIKE `pattern`: '%' matches any
// sequence of characters, '_' exactly one character, '\' makes the next
// character literal; everything else matches itself, case-sensitively.
// Characters are UTF-8 sequences split the way SQLite's LIKE splits them (a
// byte >= 0xC0 and the continuation bytes after it), so results equal
// SQLite's with PRAGMA case_sensitive_like=ON for text without NUL bytes.
// REQUIRES: ValidateLikePattern(pattern) is empty.
// Runs in O(|text| * |pattern|) time without allocating.
bool LikeMatch(std::string_view text, std::string_view pattern);

// Returns "" if `pattern` is usable, else why not (a trailing lone escape,
// or longer than kMaxLikePatternBytes).
std::string ValidateLikePattern(std::string_view pattern);

// Returns `literal` with '%', '_' and '\' escaped, for use inside a pattern.
std::string EscapeLike(std::string_view literal);

// Returns "" if `token` (already stripped of leading and trailing
// separators) is usable by has_token, else why not (no word character, or
// longer than kMaxTokenBytes).
std::string ValidateToken(std::string_view token);

// Token separators for has_token: ASCII whitespace and ASCII punctuation
// except '_'. Letters, digits, '_' and every non-ASCII byte are word bytes.
bool IsTokenSeparator(unsigned char c);
// The separators as a string, for ToSql.
std::string_view TokenSeparators();

// Returns `token` without leading and trailing separators.
std::string StripTokenSeparators(std::string_view token);

// Returns true if `token` occurs in `text` as whole words: with N(s) the
// string s with every separator replaced by ' ', (' ' + N(text) + ' ')
// contains (' ' + N(token) + ' '). Case-sensitive; allocates nothing.
bool HasToken(std::string_view text, std::string_view token);

// Returns "" if `text` is well-formed UTF-8, else a message naming the byte
// offset of the first bad sequence.
std::string ValidateUtf8(std::string_view text, size_t* bad_offset);

}  // namespace vesta::filter::internal
