// Parsers for the two filter forms of Mosaic AI Vector Search's query API,
// both producing the one filter AST (filter/ast.h). The grammar is in
// filter/README.md. Parsing checks syntax and limits only; column names and
// types are checked by Bind (filter/bind.h).
//
// Thread-safety: pure functions, safe to call concurrently.
#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"
#include "filter/ast.h"

namespace vesta::filter {

// Parses Mosaic's SQL-like `filter_string`, e.g.
//   "age >= 18 AND (site IN ('A', 'B') OR name LIKE 'Sm%') AND NOT deceased"
// Keywords and column names are case-insensitive; column names may be
// backquoted. A literal on the left of a comparison is moved to the right.
// Returns the expression. Errors: InvalidArgument whose message starts with
// "filter_string: at position <byte offset, 0-based>: " and says what was
// expected and what was found, e.g.
//   "filter_string: at position 6: expected a value after '=', got end of input";
// also for input over kMaxFilterBytes, nesting over kMaxDepth, an IN list
// over kMaxInListItems values, more than kMaxValues literals, invalid UTF-8.
Result<Expr> ParseFilterString(std::string_view text);

// Parses Mosaic's `filters_json` dictionary, e.g.
//   {"site": ["A", "B"], "age >=": 18, "name NOT": null, "notes LIKE": "sepsis"}
// Keys are ANDed (a top-level JSON list of such objects is ANDed too). Key
// forms: "col" (= value, IN list, or IS NULL for null), "col NOT" (!=, NOT
// IN, IS NOT NULL), "col <" / "<=" / ">" / ">=", "col LIKE" (whole-token
// match, or a LIKE pattern if the value contains '%'), "c1 OR c2 ..." with a
// list of one value per column (c1 = v1 OR c2 = v2).
// Returns the expression (TRUE for {}). Errors: InvalidArgument starting
// with "filters_json: ", naming the key where there is one, e.g.
//   "filters_json: key 'age <': expected a number or a string, got a list";
// malformed JSON, input over kMaxFilterBytes, unknown operators, empty
// lists, and the limits of ParseFilterString.
Result<Expr> ParseFiltersJson(std::string_view json_text);

// Parses the optional filters of one query and ANDs them (filters_json
// first). An absent or all-whitespace input counts as no filter. Returns
// TRUE if there is none. Errors: those of the two parsers.
Result<Expr> ParseQueryFilters(std::optional<std::string_view> filters_json,
                               std::optional<std::string_view> filter_string);

}  // namespace vesta::filter
