// Filter evaluation for search: compiles a bound filter (filter/bind.h) into
// Roaring bitmap algebra over an AttributeStore's per-column indexes and
// returns the live rows where the filter is TRUE, with their exact count.
// The result equals, id for id, the rows where filter::Evaluate returns
// kTrue, minus deleted ids. How each node compiles and what it costs:
// index/FILTERS.md.
//
//   VESTA_ASSIGN_OR_RETURN(filter::BoundExpr f, filter::Bind(expr, store.schema()));
//   VESTA_ASSIGN_OR_RETURN(PassingRows rows, FilterBitmap(f, store, filter::EvalContext::ForUser("alice")));
//   if (rows.Selectivity() < 0.01) { /* exact search over rows.bitmap() */ }
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <utility>

#include "common/status.h"
#include "filter/ast.h"
#include "filter/bind.h"
#include "filter/eval.h"
#include "index/attribute_store.h"

namespace vesta::index {

// The ids of the live rows that pass a filter, and how many there are.
// Thread-safety: a value type; const methods may be called concurrently.
class PassingRows {
 public:
  PassingRows(Roaring bitmap, uint32_t live_rows)
      : bitmap_(std::move(bitmap)), cardinality_(bitmap_.cardinality()), live_rows_(live_rows) {}

  // Ids of the passing rows, ascending; never a deleted id.
  const Roaring& bitmap() const { return bitmap_; }
  // Moves the bitmap out; the object keeps its counts but holds an empty bitmap.
  Roaring TakeBitmap() { return std::move(bitmap_); }
  // Number of passing rows (exact; computed once).
  uint64_t cardinality() const { return cardinality_; }
  // Live (not deleted) rows of the store when the filter ran.
  uint32_t live_rows() const { return live_rows_; }
  // Returns cardinality() / live_rows(), in [0, 1]; 0 when there are no live
  // rows. What the planner uses to pick exact versus graph search.
  double Selectivity() const {
    return live_rows_ == 0 ? 0.0 : static_cast<double>(cardinality_) / static_cast<double>(live_rows_);
  }

 private:
  Roaring bitmap_;
  uint64_t cardinality_;
  uint32_t live_rows_;
};

// Returns the live rows of `store` for which `expr` is TRUE under SQL's
// three-valued logic, exactly as filter::Evaluate(expr, store.GetRow(id),
// ctx) == kTrue would select them: each node carries its TRUE and UNKNOWN
// sets, so NOT, AND and OR over NULLs are exact (NOT UNKNOWN stays UNKNOWN,
// `x NOT IN (1, NULL)` passes nothing). current_user() and is_member() are
// resolved once from `ctx`; sub-expressions without columns are evaluated
// once, not per row. Deleted ids are removed last.
// REQUIRES: `expr` was bound against store.schema() (an equal schema will
// do). Errors: InvalidArgument if it was bound against a schema whose
// columns differ ("filter bound against a different schema: column 2 is
// 'site' in the filter but 'age' in the attribute store"), or a literal
// does not fit its column (only for hand-made trees; Bind prevents it).
// Thread-safety: safe to call concurrently on one store (const access) if
// ctx.is_member is; the store must not be modified meanwhile. `ctx` is only
// used during the call.
Result<PassingRows> FilterBitmap(const filter::BoundExpr& expr, const AttributeStore& store,
                                 const filter::EvalContext& ctx);

// Binds `expr` against store.schema(), then as above. Errors: also those of
// filter::Bind, e.g. a column that is not among the store's (synced)
// columns: "filter: unknown column 'mrn' (columns: site, age, scan_date)".
Result<PassingRows> FilterBitmap(const filter::Expr& expr, const AttributeStore& store,
                                 const filter::EvalContext& ctx);

}  // namespace vesta::index
