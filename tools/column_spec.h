// Column definitions as typed on the command line, SQL-like:
//
//   "id BIGINT NOT NULL"
//   "scan_date DATE COMMENT 'MRI date, pre-op'"
//   "emb VECTOR(724) COMMENT 'standardised radiomics'"
//   "id BIGINT NOT NULL, name STRING, emb VECTOR(3)"   (a list: --schema)
//
// Keywords (NOT NULL, NULL, COMMENT) are case-insensitive and may come in any
// order after the type; the comment is single-quoted with '' for a quote.
// Types are those of DataType::Parse (aliases included), spaces inside the
// parentheses allowed: "VECTOR( 3 )".
//
// Thread-safety: functions are thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace vesta::tools {

// Splits `text` on the commas outside single quotes and parentheses, trimming
// spaces around each part; empty parts are dropped ("a, b,," -> {"a", "b"}).
// Errors: InvalidArgument for an unterminated quote or unbalanced parentheses.
Result<std::vector<std::string>> SplitTopLevel(std::string_view text);

// Parses one column definition "name TYPE [NOT NULL | NULL] [COMMENT 'text']".
// Does not check the name (Schema::Validate does).
// Errors: InvalidArgument quoting the definition and saying what was expected.
Result<Column> ParseColumnSpec(std::string_view spec);

// SplitTopLevel then ParseColumnSpec on each part.
Result<std::vector<Column>> ParseColumnList(std::string_view text);

}  // namespace vesta::tools
