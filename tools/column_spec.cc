#include "tools/column_spec.h"

namespace vesta::tools {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

struct Token {
  enum Kind { kWord, kQuoted, kParens } kind;
  std::string text;  // kQuoted: unescaped content; kParens: "(...)" without spaces
};

Result<std::vector<Token>> Tokenize(std::string_view spec) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < spec.size()) {
    const char c = spec[i];
    if (IsSpace(c)) {
      ++i;
    } else if (c == '\'') {
      std::string text;
      ++i;
      while (true) {
        if (i >= spec.size()) {
          return Status::InvalidArgument("column '" + std::string(spec) + "': unterminated quote");
        }
        if (spec[i] == '\'') {
          if (i + 1 < spec.size() && spec[i + 1] == '\'') {
            text += '\'';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        text += spec[i++];
      }
      tokens.push_back({Token::kQuoted, std::move(text)});
    } else if (c == '(') {
      const size_t close = spec.find(')', i);
      if (close == std::string_view::npos) {
        return Status::InvalidArgument("column '" + std::string(spec) + "': missing ')'");
      }
      std::string text;
      for (char p : spec.substr(i, close - i + 1)) {
        if (!IsSpace(p)) text += p;
      }
      tokens.push_back({Token::kParens, std::move(text)});
      i = close + 1;
    } else {
      const size_t start = i;
      while (i < spec.size() && !IsSpace(spec[i]) && spec[i] != '(' && spec[i] != '\'') ++i;
      tokens.push_back({Token::kWord, std::string(spec.substr(start, i - start))});
    }
  }
  return tokens;
}

}  // namespace

Result<std::vector<std::string>> SplitTopLevel(std::string_view text) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '\'') quoted = !quoted;  // '' inside a quote toggles twice
    if (!quoted && c == '(') ++depth;
    if (!quoted && c == ')' && --depth < 0) {
      return Status::InvalidArgument("unbalanced ')' in '" + std::string(text) + "'");
    }
    if (!quoted && depth == 0 && c == ',') {
      if (std::string t = Trim(cur); !t.empty()) parts.push_back(std::move(t));
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (quoted) return Status::InvalidArgument("unterminated quote in '" + std::string(text) + "'");
  if (depth != 0) return Status::InvalidArgument("unbalanced '(' in '" + std::string(text) + "'");
  if (std::string t = Trim(cur); !t.empty()) parts.push_back(std::move(t));
  return parts;
}

Result<Column> ParseColumnSpec(std::string_view spec) {
  const std::string quoted_spec = "column '" + Trim(spec) + "'";
  VESTA_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(spec));
  if (tokens.size() < 2 || tokens[0].kind != Token::kWord || tokens[1].kind != Token::kWord) {
    return Status::InvalidArgument(quoted_spec + ": expected \"name TYPE [NOT NULL] [COMMENT 'text']\"");
  }
  Column col;
  col.name = tokens[0].text;
  std::string type = tokens[1].text;
  size_t i = 2;
  if (i < tokens.size() && tokens[i].kind == Token::kParens) type += tokens[i++].text;
  auto parsed = DataType::Parse(type);
  if (!parsed.ok()) return Status::InvalidArgument(quoted_spec + ": " + parsed.status().message());
  col.type = *parsed;
  auto is_word = [&](size_t k, std::string_view w) {
    return k < tokens.size() && tokens[k].kind == Token::kWord && EqualsIgnoreCase(tokens[k].text, w);
  };
  while (i < tokens.size()) {
    if (is_word(i, "NOT") && is_word(i + 1, "NULL")) {
      col.nullable = false;
      i += 2;
    } else if (is_word(i, "NULL")) {
      col.nullable = true;
      i += 1;
    } else if (is_word(i, "COMMENT")) {
      if (i + 1 >= tokens.size() || tokens[i + 1].kind != Token::kQuoted) {
        return Status::InvalidArgument(quoted_spec +
                                       ": COMMENT needs a single-quoted text, e.g. COMMENT 'age in years'");
      }
      col.comment = tokens[i + 1].text;
      i += 2;
    } else {
      return Status::InvalidArgument(quoted_spec + ": unexpected '" + tokens[i].text +
                                     "' after the type (expected NOT NULL, NULL or COMMENT 'text')");
    }
  }
  return col;
}

Result<std::vector<Column>> ParseColumnList(std::string_view text) {
  VESTA_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitTopLevel(text));
  std::vector<Column> columns;
  for (const std::string& p : parts) {
    VESTA_ASSIGN_OR_RETURN(Column c, ParseColumnSpec(p));
    columns.push_back(std::move(c));
  }
  return columns;
}

}  // namespace vesta::tools
