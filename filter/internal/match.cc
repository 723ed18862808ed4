#include "filter/internal/match.h"

#include <cstring>

#include "filter/ast.h"

namespace vesta::filter::internal {
namespace {

// End of the character starting at `i`, as sqlite3Utf8Read reads it: a lead
// byte >= 0xC0 takes every continuation byte (10xxxxxx) that follows it.
size_t NextChar(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i++]);
  if (c >= 0xC0) {
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

// One element of a LIKE pattern, starting at byte `j`.
struct PatternElem {
  enum Kind { kAny, kOne, kLiteral } kind;
  size_t lit_begin = 0, lit_end = 0;  // kLiteral: the character's bytes in the pattern
  size_t next = 0;                    // where the following element starts
};

PatternElem ElemAt(std::string_view p, size_t j) {
  char c = p[j];
  if (c == '%') return {PatternElem::kAny, 0, 0, j + 1};
  if (c == '_') return {PatternElem::kOne, 0, 0, j + 1};
  if (c == kLikeEscape) ++j;  // ValidateLikePattern guarantees a character follows
  size_t end = NextChar(p, j);
  return {PatternElem::kLiteral, j, end, end};
}

constexpr char kSeparators[] = " \t\n\v\f\r!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~";

}  // namespace

bool LikeMatch(std::string_view text, std::string_view pattern) {
  // Greedy matching with backtracking to the last '%': correct for LIKE since
  // '%' is its only variable-length wildcard.
  size_t i = 0, j = 0;
  size_t star_next = std::string_view::npos;  // pattern position after the last '%'
  size_t star_text = 0;                       // text position that '%' last absorbed up to
  while (i < text.size()) {
    if (j < pattern.size()) {
      PatternElem e = ElemAt(pattern, j);
      if (e.kind == PatternElem::kAny) {
        star_next = e.next;
        star_text = i;
        j = e.next;
        continue;
      }
      size_t char_end = NextChar(text, i);
      if (e.kind == PatternElem::kOne ||
          (char_end - i == e.lit_end - e.lit_begin &&
           std::memcmp(text.data() + i, pattern.data() + e.lit_begin, char_end - i) == 0)) {
        i = char_end;
        j = e.next;
        continue;
      }
    }
    if (star_next == std::string_view::npos) return false;
    star_text = NextChar(text, star_text);
    i = star_text;
    j = star_next;
  }
  while (j < pattern.size() && pattern[j] == '%') ++j;
  return j == pattern.size();
}

std::string ValidateLikePattern(std::string_view pattern) {
  if (pattern.size() > kMaxLikePatternBytes) {
    return "LIKE pattern is " + std::to_string(pattern.size()) + " bytes; the limit is " +
           std::to_string(kMaxLikePatternBytes);
  }
  for (size_t j = 0; j < pattern.size(); ++j) {
    if (pattern[j] == kLikeEscape) {
      if (j + 1 == pattern.size()) return "LIKE pattern ends with a lone escape character '\\'";
      ++j;
    }
  }
  return "";
}

std::string EscapeLike(std::string_view literal) {
  std::string out;
  out.reserve(literal.size());
  for (char c : literal) {
    if (c == '%' || c == '_' || c == kLikeEscape) out += kLikeEscape;
    out += c;
  }
  return out;
}

std::string ValidateToken(std::string_view token) {
  if (token.empty()) return "has_token needs a token with at least one letter or digit";
  if (token.size() > kMaxTokenBytes) {
    return "token is " + std::to_string(token.size()) + " bytes; the limit is " +
           std::to_string(kMaxTokenBytes);
  }
  return "";
}

bool IsTokenSeparator(unsigned char c) {
  return c != 0 && std::memchr(kSeparators, c, sizeof(kSeparators) - 1) != nullptr;
}

std::string_view TokenSeparators() {
  return std::string_view(kSeparators, sizeof(kSeparators) - 1);
}

std::string StripTokenSeparators(std::string_view token) {
  while (!token.empty() && IsTokenSeparator(static_cast<unsigned char>(token.front())))
    token.remove_prefix(1);
  while (!token.empty() && IsTokenSeparator(static_cast<unsigned char>(token.back()))) token.remove_suffix(1);
  return std::string(token);
}

bool HasToken(std::string_view text, std::string_view token) {
  auto sep = [](char c) { return IsTokenSeparator(static_cast<unsigned char>(c)); };
  const size_t n = text.size(), m = token.size();
  if (m > n) return false;
  for (size_t i = 0; i + m <= n; ++i) {
    if (i > 0 && !sep(text[i - 1])) continue;
    if (i + m < n && !sep(text[i + m])) continue;
    bool same = true;
    for (size_t k = 0; k < m && same; ++k) {
      char a = text[i + k], b = token[k];
      same = a == b || (sep(a) && sep(b));
    }
    if (same) return true;
  }
  return false;
}

std::string ValidateUtf8(std::string_view s, size_t* bad_offset) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      if (bad_offset != nullptr) *bad_offset = i;
      return "invalid UTF-8 at byte " + std::to_string(i);
    }
    i += len;
  }
  return "";
}

}  // namespace vesta::filter::internal
