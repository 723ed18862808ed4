// The attribute store of an index: a columnar copy of the index's filterable
// columns (Mosaic's `columns_to_sync`), keyed by the index's dense internal
// row ids 0..size()-1, with per-column indexes so that a filter evaluates to
// a bitmap without scanning rows. index/filter_bitmap.h compiles a filter
// against it; index/FILTERS.md describes the indexes and what each lookup
// costs.
//
//   VESTA_ASSIGN_OR_RETURN(Schema attrs, AttributeSchema(table_schema, {"site", "age", "scan_date"}));
//   VESTA_ASSIGN_OR_RETURN(AttributeStore store, AttributeStore::Create(attrs, rows));
//   VESTA_ASSIGN_OR_RETURN(uint32_t id, store.Append(row));     // the next internal id
//   VESTA_RETURN_IF_ERROR(store.Set(id, new_row));              // sync: update in place
//   VESTA_RETURN_IF_ERROR(store.Delete(id));                    // tombstone
#pragma once

#include <roaring/roaring.hh>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "filter/ast.h"

namespace vesta::index {

// Ids are uint32; the last value stays unused so that the universe of ids,
// [0, size()), always fits CRoaring's 64-bit range arguments and size() fits
// a uint32. At most this many rows (deleted ones included) per store.
inline constexpr uint32_t kMaxAttributeRows = std::numeric_limits<uint32_t>::max();

struct AttributeStoreOptions {
  // A column keeps an eager inverted index (distinct value -> Roaring bitmap
  // of its row ids) while it holds at most this many distinct values (for a
  // STRING column: dictionary entries ever created). Equality, IN and ranges
  // over few values then copy or union stored bitmaps instead of building
  // them from id lists. Past the limit the column's inverted index is dropped
  // for good and lookups use the lazily sorted index, which every column has.
  // Memory: about 100 bytes per distinct value plus 2 bytes per row of a
  // sparse value (less for dense ones). 0 disables inverted indexes.
  uint32_t max_postings_values = 4096;

  // Returns OK, or InvalidArgument if max_postings_values exceeds 1 << 24.
  Status Validate() const;
};

// Returns the schema of an attribute store for `table`'s columns named in
// `columns_to_sync` (matched ignoring case, in the order given, spelled as in
// `table`; primary_key copied if it is among them, else empty).
// Errors: InvalidArgument naming an unknown column (and listing the table's
// columns), a VECTOR column, or a name given twice.
Result<Schema> AttributeSchema(const Schema& table, const std::vector<std::string>& columns_to_sync);

// One condition `value op literal` of AttributeStore::CompareAllIds.
struct Comparison {
  filter::CompareOp op = filter::CompareOp::kEq;
  Value literal;
};

class AttributeColumn;  // one column's values and indexes; defined in attribute_store.cc

// A columnar store of scalar columns with typed arrays (int64 for BIGINT,
// DATE, TIMESTAMP and BOOLEAN; double for DOUBLE; dictionary codes for
// STRING), a NULL bitmap per column, and a tombstone bitmap of deleted ids.
// Indexes per column, all kept consistent by Append/Set:
//   - an inverted index value -> Roaring bitmap, maintained eagerly while the
//     column has at most options.max_postings_values distinct values;
//   - a sorted index, rebuilt lazily on the first lookup after a change:
//     (value, id) pairs sorted by value for numeric, DATE, TIMESTAMP and
//     BOOLEAN columns (appends are merged in, updates re-sort), and for
//     STRING columns the sorted dictionary plus the ids grouped by value
//     (a counting sort, linear in rows).
// Deleted ids keep their values (tombstones until compaction) and appear in
// the column lookups below; FilterBitmap removes them.
//
// Thread-safety: thread-compatible. Const methods may be called concurrently
// with each other (the lazy rebuilds inside them are synchronised
// internally); a non-const method needs exclusive access. The index keeps a
// store inside an immutable snapshot and clones it to make the next one.
class AttributeStore {
 public:
  // Returns an empty store for `schema`, whose columns are the filterable
  // columns (in the order filters are bound against; `primary_key` is not
  // required). Errors: InvalidArgument for a VECTOR column ("column
  // 'embedding' is VECTOR(4); only BIGINT, DOUBLE, STRING, BOOLEAN, DATE and
  // TIMESTAMP columns can be filter attributes"), an invalid or duplicate
  // (ignoring case) column name, or invalid options.
  static Result<AttributeStore> Create(Schema schema, AttributeStoreOptions options = {});
  // As above, then appends `rows` as ids 0..rows.size()-1 and builds every
  // index once. Errors: also those of Append, naming the row
  // ("row 12: column 'age': expected BIGINT, got 'x'"); nothing is returned
  // on error.
  static Result<AttributeStore> Create(Schema schema, const std::vector<Row>& rows,
                                       AttributeStoreOptions options = {});

  AttributeStore(AttributeStore&&) noexcept;
  AttributeStore& operator=(AttributeStore&&) noexcept;
  AttributeStore(const AttributeStore&) = delete;  // copies are explicit: Clone()
  AttributeStore& operator=(const AttributeStore&) = delete;
  ~AttributeStore();

  // Returns an independent deep copy (values, tombstones and every index).
  // O(size) time and memory. Safe to call concurrently with const methods.
  AttributeStore Clone() const;

  const Schema& schema() const { return schema_; }
  const AttributeStoreOptions& options() const { return options_; }
  // Rows ever appended, deleted ones included: ids are 0..size()-1.
  uint32_t size() const { return size_; }
  // Rows not deleted.
  uint32_t live_count() const { return size_ - static_cast<uint32_t>(deleted_.cardinality()); }
  // The tombstone set: ids deleted since the store was built.
  const Roaring& deleted() const { return deleted_; }
  // Returns true if `id` was deleted (false for ids >= size()).
  bool IsDeleted(uint32_t id) const { return deleted_.contains(id); }

  // Appends `row` (one value per schema column) as id size() and returns the
  // id. Errors: InvalidArgument if the row does not fit the schema (width,
  // types, NULL in a NOT NULL column, a non-finite DOUBLE), naming the
  // column; ResourceExhausted once kMaxAttributeRows rows exist. On error the
  // store is unchanged. Amortised O(1) plus inverted-index upkeep.
  Result<uint32_t> Append(const Row& row);

  // Replaces the values of row `id` (index sync's update). Returns OK.
  // Errors: NotFound if id >= size(); FailedPrecondition if `id` is deleted;
  // InvalidArgument as for Append. On error the store is unchanged. The
  // sorted indexes of the columns whose value changed are re-sorted on their
  // next lookup.
  Status Set(uint32_t id, const Row& row);

  // Adds `id` to the tombstone set. Returns OK, also when it was already
  // deleted. Errors: NotFound if id >= size().
  Status Delete(uint32_t id);

  // Returns the value of `column` in row `id` (deleted rows keep theirs).
  // REQUIRES: id < size(), 0 <= column < schema().columns.size().
  Value GetValue(uint32_t id, int column) const;
  // Returns row `id`, one value per column. REQUIRES: id < size().
  Row GetRow(uint32_t id) const;

  // Column lookups: the building blocks of FilterBitmap. Each returns a new
  // bitmap of ids in [0, size()), deleted ids included, and errors with
  // InvalidArgument if `column` is out of range. Costs: index/FILTERS.md.

  // Returns the ids whose value in `column` is NULL.
  Result<Roaring> NullIds(int column) const;

  // Returns the ids whose value in `column` is not NULL and `value op
  // literal` is TRUE exactly as filter::Evaluate decides it: numbers compare
  // numerically, a BIGINT column with a DOUBLE literal exactly (no rounding
  // above 2^53), strings byte-wise; -0.0 equals 0.0. A NULL literal returns
  // the empty set (the comparison is UNKNOWN for every row). kNe returns the
  // non-NULL rows that are not equal.
  // Errors: InvalidArgument if `literal` is not of the column's type, or is
  // a non-finite DOUBLE. Accepted literal kinds: BIGINT columns BIGINT or
  // DOUBLE; DOUBLE columns DOUBLE; STRING, BOOLEAN, DATE, TIMESTAMP columns
  // their own kind (filter::Bind coerces every literal to one of these).
  Result<Roaring> CompareIds(int column, filter::CompareOp op, const Value& literal) const;

  // Returns the intersection of CompareIds(column, c.op, c.literal) over
  // `all`, computed as one range lookup: `age >= 18 AND age < 65` costs what
  // one comparison costs. kNe conditions are subtracted afterwards. Empty
  // `all`: the non-NULL ids. Errors: those of CompareIds.
  Result<Roaring> CompareAllIds(int column, const std::vector<Comparison>& all) const;

  // Returns the union of CompareIds(column, kEq, v) over `literals` (NULL
  // literals match nothing). Errors: those of CompareIds.
  Result<Roaring> EqualAnyIds(int column, const std::vector<Value>& literals) const;

  // Returns the ids whose value in STRING column `column` is not NULL, starts
  // with `required_prefix` (byte-wise) and satisfies `match`. `match` is
  // called once per distinct value in use that has the prefix (values
  // without it are skipped through the sorted dictionary), on the calling
  // thread; it borrows the string for the call only.
  // Errors: InvalidArgument if the column is not STRING.
  Result<Roaring> StringMatchIds(int column, const std::function<bool(std::string_view)>& match,
                                 std::string_view required_prefix = {}) const;

  // Builds every lazily built index now, so that the next lookups do not pay
  // for it (e.g. before publishing a snapshot). Safe to call concurrently
  // with other const methods.
  void BuildIndexes() const;

  // Returns true if `column` currently has an inverted index (see
  // AttributeStoreOptions). REQUIRES: 0 <= column < schema().columns.size().
  bool HasPostings(int column) const;

  // Approximate heap memory of values, dictionaries and indexes, in bytes.
  size_t MemoryUsage() const;

 private:
  AttributeStore(Schema schema, AttributeStoreOptions options);
  Status CheckColumn(int column) const;

  Schema schema_;
  AttributeStoreOptions options_;
  uint32_t size_ = 0;
  Roaring deleted_;
  std::vector<std::unique_ptr<AttributeColumn>> columns_;  // one per schema column, never null
};

}  // namespace vesta::index
