// filter_string: a tokenizer and a recursive-descent parser.
//
//   expr      := and_expr (OR and_expr)*
//   and_expr  := not_expr (AND not_expr)*
//   not_expr  := NOT not_expr | '(' expr ')' | predicate
//   predicate := is_member '(' string ')' | has_token '(' subject ',' string ')'
//              | operand [tail]
//   tail      := cmp_op operand | [NOT] IN '(' value (',' value)* ')'
//              | [NOT] BETWEEN value AND value | [NOT] LIKE string
//              | IS [NOT] (NULL | TRUE | FALSE)
//   operand   := column | literal | current_user '(' ')'
#include "filter/parser.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include "filter/internal/match.h"

namespace vesta::filter {
namespace {

enum class TokType { kEnd, kIdent, kQuotedIdent, kString, kNumber, kOp, kLParen, kRParen, kComma, kMinus };

struct Token {
  TokType type = TokType::kEnd;
  size_t pos = 0;
  std::string text;  // identifier, unescaped string contents, number text or symbol
};

Status ErrorAt(size_t pos, const std::string& msg) {
  return Status::InvalidArgument("filter_string: at position " + std::to_string(pos) + ": " + msg);
}

std::string Abbreviate(std::string_view s, size_t max = 40) {
  if (s.size() <= max) return std::string(s);
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
  return std::string(s.substr(0, cut)) + "...";
}

std::string Describe(const Token& t) {
  switch (t.type) {
    case TokType::kEnd:
      return "end of input";
    case TokType::kString: {
      std::string quoted;
      for (char c : Abbreviate(t.text)) {
        quoted += c;
        if (c == '\'') quoted += '\'';
      }
      return "string '" + quoted + "'";
    }
    case TokType::kNumber:
      return "number " + Abbreviate(t.text);
    case TokType::kQuotedIdent:
      return "column `" + Abbreviate(t.text) + "`";
    default:
      return "'" + Abbreviate(t.text) + "'";
  }
}

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || IsDigit(c);
}

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v')) {
      ++i;
    }
    Token t;
    t.pos = i;
    if (i == s.size()) {
      out.push_back(std::move(t));
      return out;
    }
    char c = s[i];
    if (IsIdentStart(c)) {
      size_t b = i;
      while (i < s.size() && IsIdentChar(s[i])) ++i;
      t.type = TokType::kIdent;
      t.text = std::string(s.substr(b, i - b));
    } else if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      size_t b = i;
      while (i < s.size() && IsDigit(s[i])) ++i;
      if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && IsDigit(s[i])) ++i;
      }
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = i + 1;
        if (e < s.size() && (s[e] == '+' || s[e] == '-')) ++e;
        if (e < s.size() && IsDigit(s[e])) {
          i = e;
          while (i < s.size() && IsDigit(s[i])) ++i;
        }
      }
      if (i < s.size() && (IsIdentChar(s[i]) || s[i] == '.')) {
        size_t e = i;
        while (e < s.size() && (IsIdentChar(s[e]) || s[e] == '.')) ++e;
        return ErrorAt(b, "malformed number '" + Abbreviate(s.substr(b, e - b)) + "'");
      }
      t.type = TokType::kNumber;
      t.text = std::string(s.substr(b, i - b));
    } else if (c == '\'' || c == '`') {
      const char quote = c;
      ++i;
      while (true) {
        if (i == s.size()) {
          return ErrorAt(t.pos, quote == '\'' ? "unterminated string literal (no closing ')"
                                              : "unterminated quoted column name (no closing `)");
        }
        if (s[i] == quote) {
          if (i + 1 < s.size() && s[i + 1] == quote) {
            t.text += quote;
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        t.text += s[i++];
      }
      t.type = quote == '\'' ? TokType::kString : TokType::kQuotedIdent;
      if (t.type == TokType::kQuotedIdent && t.text.empty())
        return ErrorAt(t.pos, "empty quoted column name ``");
    } else if (c == '"') {
      return ErrorAt(i,
                     "unexpected character '\"': use single quotes for strings ('text') and backquotes "
                     "for column names (`name`)");
    } else if (c == '(' || c == ')' || c == ',' || c == '-') {
      t.type = c == '(' ? TokType::kLParen
                        : (c == ')' ? TokType::kRParen : (c == ',' ? TokType::kComma : TokType::kMinus));
      t.text = std::string(1, c);
      ++i;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      char n = i + 1 < s.size() ? s[i + 1] : '\0';
      t.type = TokType::kOp;
      if (c == '=') {
        t.text = "=";
        i += n == '=' ? 2 : 1;  // "==" is accepted as "="
      } else if (c == '!') {
        if (n != '=') return ErrorAt(i, "unexpected character '!' (did you mean '!='?)");
        t.text = "!=";
        i += 2;
      } else if (c == '<') {
        t.text = n == '=' ? "<=" : (n == '>' ? "<>" : "<");
        i += (n == '=' || n == '>') ? 2 : 1;
      } else {
        t.text = n == '=' ? ">=" : ">";
        i += n == '=' ? 2 : 1;
      }
    } else {
      size_t e = i + 1;
      if (static_cast<unsigned char>(c) >= 0xC0) {
        while (e < s.size() && (static_cast<unsigned char>(s[e]) & 0xC0) == 0x80) ++e;
      }
      return ErrorAt(i, "unexpected character '" + std::string(s.substr(i, e - i)) + "'");
    }
    out.push_back(std::move(t));
  }
}

bool IsWord(const Token& t, std::string_view word) {
  return t.type == TokType::kIdent && EqualsIgnoreCase(t.text, word);
}

Result<CompareOp> OpFromSymbol(std::string_view s) {
  if (s == "=") return CompareOp::kEq;
  if (s == "!=" || s == "<>") return CompareOp::kNe;
  if (s == "<") return CompareOp::kLt;
  if (s == "<=") return CompareOp::kLe;
  if (s == ">") return CompareOp::kGt;
  if (s == ">=") return CompareOp::kGe;
  return Status::Internal("unknown comparison operator '" + std::string(s) + "'");
}

std::string DescribeOperand(const Operand& o) {
  if (o.is_column()) return "column '" + o.column + "'";
  return o.ToString();
}

struct PosOperand {
  Operand operand;
  size_t pos = 0;
};

class StringParser {
 public:
  explicit StringParser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Expr> Parse() {
    VESTA_ASSIGN_OR_RETURN(Expr e, ParseOr(0));
    if (Peek().type != TokType::kEnd) {
      if (Peek().type == TokType::kRParen) return ErrorAt(Peek().pos, "unbalanced ')': no matching '('");
      return ErrorAt(Peek().pos, "expected AND, OR or end of input, got " + Describe(Peek()));
    }
    return e;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = next_ + ahead;
    return tokens_[i < tokens_.size() ? i : tokens_.size() - 1];
  }
  const Token& Take() {
    const Token& t = tokens_[next_];
    if (next_ + 1 < tokens_.size()) ++next_;
    return t;
  }

  Status CheckDepth(int depth) const {
    if (depth > kMaxDepth) {
      return ErrorAt(Peek().pos, "expression nests deeper than " + std::to_string(kMaxDepth) +
                                     " levels of parentheses and NOT");
    }
    return Status::OK();
  }

  Status CountValue(size_t pos) {
    if (++value_count_ > kMaxValues) {
      return ErrorAt(pos, "filter has more than " + std::to_string(kMaxValues) + " values");
    }
    return Status::OK();
  }

  Result<Expr> ParseOr(int depth) {
    VESTA_RETURN_IF_ERROR(CheckDepth(depth));
    std::vector<Expr> terms;
    VESTA_ASSIGN_OR_RETURN(Expr first, ParseAnd(depth));
    terms.push_back(std::move(first));
    while (IsWord(Peek(), "OR")) {
      Take();
      VESTA_ASSIGN_OR_RETURN(Expr next, ParseAnd(depth));
      terms.push_back(std::move(next));
    }
    return Expr::Or(std::move(terms));
  }

  Result<Expr> ParseAnd(int depth) {
    std::vector<Expr> terms;
    VESTA_ASSIGN_OR_RETURN(Expr first, ParseNot(depth));
    terms.push_back(std::move(first));
    while (IsWord(Peek(), "AND")) {
      Take();
      VESTA_ASSIGN_OR_RETURN(Expr next, ParseNot(depth));
      terms.push_back(std::move(next));
    }
    return Expr::And(std::move(terms));
  }

  Result<Expr> ParseNot(int depth) {
    if (IsWord(Peek(), "NOT")) {
      Take();
      VESTA_RETURN_IF_ERROR(CheckDepth(depth + 1));
      VESTA_ASSIGN_OR_RETURN(Expr child, ParseNot(depth + 1));
      return Expr::Not(std::move(child));
    }
    if (Peek().type == TokType::kLParen) {
      size_t open = Take().pos;
      VESTA_ASSIGN_OR_RETURN(Expr inner, ParseOr(depth + 1));
      if (Peek().type != TokType::kRParen) {
        return ErrorAt(Peek().pos, "expected ')' to close the '(' at position " + std::to_string(open) +
                                       ", got " + Describe(Peek()));
      }
      Take();
      return inner;
    }
    return ParsePredicate();
  }

  Status Expect(TokType type, std::string_view what, std::string_view after) {
    if (Peek().type != type) {
      return ErrorAt(Peek().pos, "expected " + std::string(what) + " after " + std::string(after) + ", got " +
                                     Describe(Peek()));
    }
    Take();
    return Status::OK();
  }

  Result<Expr> ParsePredicate() {
    if (Peek(1).type == TokType::kLParen && IsWord(Peek(), "is_member")) return ParseIsMember();
    if (Peek(1).type == TokType::kLParen && IsWord(Peek(), "has_token")) return ParseHasToken();
    VESTA_ASSIGN_OR_RETURN(PosOperand lhs, ParseOperand("a condition"));
    const Token& t = Peek();
    if (t.type == TokType::kOp) {
      std::string symbol = Take().text;
      VESTA_ASSIGN_OR_RETURN(CompareOp op, OpFromSymbol(symbol));
      VESTA_ASSIGN_OR_RETURN(PosOperand rhs, ParseOperand("a value after '" + symbol + "'"));
      if (lhs.operand.is_literal() && rhs.operand.is_literal()) {
        return ErrorAt(lhs.pos, "a comparison needs a column or current_user() on one side, got " +
                                    DescribeOperand(lhs.operand) + " " + symbol + " " +
                                    DescribeOperand(rhs.operand));
      }
      if (lhs.operand.kind == rhs.operand.kind) {
        return ErrorAt(rhs.pos,
                       "expected a value after '" + symbol + "', got " + DescribeOperand(rhs.operand) +
                           (rhs.operand.is_column() ? " (comparing two columns is not supported)" : ""));
      }
      if (lhs.operand.is_literal()) VESTA_RETURN_IF_ERROR(CountValue(lhs.pos));
      if (rhs.operand.is_literal()) VESTA_RETURN_IF_ERROR(CountValue(rhs.pos));
      return Expr::Compare(std::move(lhs.operand), op, std::move(rhs.operand));
    }
    bool negated = false;
    if (IsWord(t, "NOT")) {
      const Token& n = Peek(1);
      if (!IsWord(n, "IN") && !IsWord(n, "BETWEEN") && !IsWord(n, "LIKE")) {
        return ErrorAt(n.pos, "expected IN, BETWEEN or LIKE after NOT, got " + Describe(n));
      }
      Take();
      negated = true;
    }
    const Token& kw = Peek();
    if (IsWord(kw, "IN")) {
      VESTA_RETURN_IF_ERROR(RequireSubject(lhs, "IN"));
      Take();
      VESTA_RETURN_IF_ERROR(Expect(TokType::kLParen, "'('", "IN"));
      if (Peek().type == TokType::kRParen) {
        return ErrorAt(Peek().pos, "IN list is empty: expected at least one value");
      }
      std::vector<Operand> values;
      while (true) {
        VESTA_ASSIGN_OR_RETURN(PosOperand v, ParseValue(values.empty() ? "'IN ('" : "','"));
        if (values.size() == kMaxInListItems) {
          return ErrorAt(v.pos, "IN list has more than " + std::to_string(kMaxInListItems) + " values");
        }
        values.push_back(std::move(v.operand));
        if (Peek().type == TokType::kComma) {
          Take();
          continue;
        }
        if (Peek().type == TokType::kRParen) {
          Take();
          break;
        }
        return ErrorAt(Peek().pos, "expected ',' or ')' in the IN list, got " + Describe(Peek()));
      }
      return Expr::In(std::move(lhs.operand), std::move(values), negated);
    }
    if (IsWord(kw, "BETWEEN")) {
      VESTA_RETURN_IF_ERROR(RequireSubject(lhs, "BETWEEN"));
      Take();
      VESTA_ASSIGN_OR_RETURN(PosOperand low, ParseValue("BETWEEN"));
      if (!IsWord(Peek(), "AND")) {
        return ErrorAt(Peek().pos,
                       "expected AND after BETWEEN " + low.operand.ToString() + ", got " + Describe(Peek()));
      }
      Take();
      VESTA_ASSIGN_OR_RETURN(PosOperand high, ParseValue("BETWEEN ... AND"));
      return Expr::Between(std::move(lhs.operand), std::move(low.operand), std::move(high.operand), negated);
    }
    if (IsWord(kw, "LIKE")) {
      VESTA_RETURN_IF_ERROR(RequireSubject(lhs, "LIKE"));
      Take();
      if (Peek().type != TokType::kString) {
        return ErrorAt(Peek().pos, "expected a string pattern after LIKE, got " + Describe(Peek()));
      }
      const Token& p = Take();
      std::string why = internal::ValidateLikePattern(p.text);
      if (!why.empty()) return ErrorAt(p.pos, why);
      VESTA_RETURN_IF_ERROR(CountValue(p.pos));
      return Expr::Like(std::move(lhs.operand), p.text, negated);
    }
    if (IsWord(kw, "IS")) {
      VESTA_RETURN_IF_ERROR(RequireSubject(lhs, "IS"));
      Take();
      bool is_not = false;
      if (IsWord(Peek(), "NOT")) {
        Take();
        is_not = true;
      }
      const Token& what = Peek();
      if (IsWord(what, "NULL")) {
        Take();
        return Expr::IsNull(std::move(lhs.operand), is_not);
      }
      if (IsWord(what, "TRUE")) {
        Take();
        return Expr::IsTrue(std::move(lhs.operand), is_not);
      }
      if (IsWord(what, "FALSE")) {
        Take();
        return Expr::IsFalse(std::move(lhs.operand), is_not);
      }
      return ErrorAt(what.pos, std::string("expected NULL, TRUE or FALSE after IS") + (is_not ? " NOT" : "") +
                                   ", got " + Describe(what));
    }
    // No operator: a bare boolean column, or a constant condition, where a
    // condition may end.
    const bool at_end =
        kw.type == TokType::kEnd || kw.type == TokType::kRParen || IsWord(kw, "AND") || IsWord(kw, "OR");
    if (at_end && lhs.operand.is_column()) {
      return Expr::Compare(std::move(lhs.operand), CompareOp::kEq, Operand::Literal(Value::Bool(true)));
    }
    if (at_end && lhs.operand.is_literal() &&
        (lhs.operand.literal.is_bool() || lhs.operand.literal.is_null())) {
      const Value& v = lhs.operand.literal;
      return Expr::Constant(v.is_null() ? Truth::kUnknown : (v.as_bool() ? Truth::kTrue : Truth::kFalse));
    }
    return ErrorAt(kw.pos, "expected an operator (=, !=, <, <=, >, >=, IN, BETWEEN, LIKE or IS) after " +
                               DescribeOperand(lhs.operand) + ", got " + Describe(kw));
  }

  Result<Expr> ParseIsMember() {
    Take();
    Take();
    if (Peek().type != TokType::kString) {
      return ErrorAt(Peek().pos, "expected a group name string after 'is_member(', got " + Describe(Peek()));
    }
    std::string group = Take().text;
    VESTA_RETURN_IF_ERROR(Expect(TokType::kRParen, "')'", "is_member('" + Abbreviate(group) + "'"));
    return Expr::IsMember(std::move(group));
  }

  Result<Expr> ParseHasToken() {
    Take();
    Take();
    VESTA_ASSIGN_OR_RETURN(PosOperand subject, ParseOperand("a column after 'has_token('"));
    VESTA_RETURN_IF_ERROR(RequireSubject(subject, "has_token"));
    VESTA_RETURN_IF_ERROR(Expect(TokType::kComma, "','", "has_token(" + subject.operand.ToString()));
    if (Peek().type != TokType::kString) {
      return ErrorAt(Peek().pos, "expected a token string in has_token(), got " + Describe(Peek()));
    }
    const Token& token = Take();
    std::string why = internal::ValidateToken(internal::StripTokenSeparators(token.text));
    if (!why.empty()) return ErrorAt(token.pos, why + ", got " + Describe(token));
    VESTA_RETURN_IF_ERROR(CountValue(token.pos));
    VESTA_RETURN_IF_ERROR(Expect(TokType::kRParen, "')'", "the token of has_token()"));
    return Expr::HasToken(std::move(subject.operand), token.text);
  }

  Status RequireSubject(const PosOperand& o, std::string_view keyword) const {
    if (o.operand.is_literal()) {
      return ErrorAt(o.pos, "expected a column or current_user() before " + std::string(keyword) + ", got " +
                                DescribeOperand(o.operand));
    }
    return Status::OK();
  }

  // A literal or current_user(), not a column.
  Result<PosOperand> ParseValue(std::string_view after) {
    VESTA_ASSIGN_OR_RETURN(PosOperand v, ParseOperand("a value after " + std::string(after)));
    if (v.operand.is_column()) {
      return ErrorAt(v.pos, "expected a value (a literal or current_user()) after " + std::string(after) +
                                ", got " + DescribeOperand(v.operand));
    }
    if (v.operand.is_literal()) VESTA_RETURN_IF_ERROR(CountValue(v.pos));
    return v;
  }

  Result<PosOperand> ParseOperand(const std::string& expected) {
    const Token& t = Peek();
    const size_t pos = t.pos;
    switch (t.type) {
      case TokType::kMinus: {
        Take();
        if (Peek().type != TokType::kNumber) {
          return ErrorAt(Peek().pos, "expected a number after '-', got " + Describe(Peek()));
        }
        VESTA_ASSIGN_OR_RETURN(Value v, ParseNumber("-" + Take().text, pos));
        return PosOperand{Operand::Literal(std::move(v)), pos};
      }
      case TokType::kNumber: {
        VESTA_ASSIGN_OR_RETURN(Value v, ParseNumber(Take().text, pos));
        return PosOperand{Operand::Literal(std::move(v)), pos};
      }
      case TokType::kString:
        return PosOperand{Operand::Literal(Value::Str(Take().text)), pos};
      case TokType::kQuotedIdent:
        return PosOperand{Operand::Column(Take().text), pos};
      case TokType::kIdent: {
        if (IsWord(t, "TRUE") || IsWord(t, "FALSE")) {
          bool b = IsWord(Take(), "TRUE");
          return PosOperand{Operand::Literal(Value::Bool(b)), pos};
        }
        if (IsWord(t, "NULL")) {
          Take();
          return PosOperand{Operand::Literal(Value::Null()), pos};
        }
        if ((IsWord(t, "DATE") || IsWord(t, "TIMESTAMP")) && Peek(1).type == TokType::kString) {
          bool is_date = IsWord(Take(), "DATE");
          const Token& s = Take();
          const DataType type = is_date ? DataType::DateT() : DataType::TimestampT();
          Result<Value> v = s.text.empty() ? Result<Value>(Status::InvalidArgument("empty"))
                                           : vesta::ParseValue(s.text, type);
          if (!v.ok()) {
            return ErrorAt(s.pos, "invalid " + type.ToString() + " literal " + Describe(s) + ": " +
                                      v.status().message());
          }
          return PosOperand{Operand::Literal(std::move(v).value()), pos};
        }
        if (IsWord(t, "current_user") && Peek(1).type == TokType::kLParen) {
          Take();
          Take();
          VESTA_RETURN_IF_ERROR(Expect(TokType::kRParen, "')'", "'current_user('"));
          return PosOperand{Operand::CurrentUser(), pos};
        }
        if (IsReservedWord(t.text)) {
          return ErrorAt(pos, "expected " + expected + ", got " + Describe(t) +
                                  " (a reserved word: backquote a column with this name)");
        }
        return PosOperand{Operand::Column(Take().text), pos};
      }
      default:
        return ErrorAt(pos, "expected " + expected + ", got " + Describe(t));
    }
  }

  static Result<Value> ParseNumber(const std::string& text, size_t pos) {
    const char* b = text.data();
    const char* e = text.data() + text.size();
    if (text.find_first_of(".eE") == std::string::npos) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc() && p == e) return Value::Int(v);
      return ErrorAt(pos, "integer " + Abbreviate(text) + " is out of the BIGINT range");
    }
    double v = 0;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec == std::errc() && p == e) return Value::Real(v);
    return ErrorAt(pos, "number " + Abbreviate(text) + " is out of the DOUBLE range");
  }

  std::vector<Token> tokens_;  // ends with kEnd
  size_t next_ = 0;
  size_t value_count_ = 0;
};

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') return false;
  }
  return true;
}

}  // namespace

Result<Expr> ParseFilterString(std::string_view text) {
  if (text.size() > kMaxFilterBytes) {
    return Status::InvalidArgument("filter_string: " + std::to_string(text.size()) +
                                   " bytes is over the limit of " + std::to_string(kMaxFilterBytes));
  }
  size_t bad = 0;
  if (!internal::ValidateUtf8(text, &bad).empty()) return ErrorAt(bad, "invalid UTF-8");
  VESTA_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  return StringParser(std::move(tokens)).Parse();
}

Result<Expr> ParseQueryFilters(std::optional<std::string_view> filters_json,
                               std::optional<std::string_view> filter_string) {
  std::vector<Expr> parts;
  if (filters_json && !IsBlank(*filters_json)) {
    VESTA_ASSIGN_OR_RETURN(Expr e, ParseFiltersJson(*filters_json));
    parts.push_back(std::move(e));
  }
  if (filter_string && !IsBlank(*filter_string)) {
    VESTA_ASSIGN_OR_RETURN(Expr e, ParseFilterString(*filter_string));
    parts.push_back(std::move(e));
  }
  return Expr::And(std::move(parts));
}

}  // namespace vesta::filter
