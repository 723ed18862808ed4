// Policies: row filters, column masks, governed tags and tag policies (ABAC),
// versioned with history, and their resolution for one caller.
//
//   auto policies = Policies::Open(*store).value();
//   policies->SetRowFilter(patients, "site = 'A' OR is_member('admins')", "alice");
//   policies->SetColumnMask(patients, "patient_id", {.kind = MaskSpec::kKeyedHash,
//                                                    .exempt_groups = {"phi_readers"}}, "alice");
//   policies->SetTag(notes, "author", "PHI", "true", "alice");
//   policies->AddTagMaskPolicy("phi", "PHI", std::nullopt, {.kind = MaskSpec::kNull,
//                                                           .exempt_groups = {"phi_readers"}}, "alice");
//   auto ep = policies->Resolve(patients, schema, filter::EvalContext::ForUser("bob", {"site_a"}));
//   // ep->row_filter: bound, identity functions resolved for bob; ep->masks[i]: bob's mask of column i.
//
// Model (DESIGN.md section 2):
// - A row filter is one predicate per table in the shared filter language
//   (filter/README.md) over the table's columns, current_user() and
//   is_member('g'). A row where the effective filter is FALSE or NULL does
//   not exist for the caller. Row filters see raw (unmasked) values.
// - A column mask replaces a column's values for every caller who is not in
//   one of its exempt groups: NULL, a constant, a keyed hash, or a partial
//   reveal of the last n characters. NULL stays NULL under every mask.
// - Governed tags are key=value pairs on tables and on columns. Tag keys
//   match ignoring ASCII case (one value per key per object); values match
//   exactly. A tag policy applies to every table or column carrying its tag,
//   now and in the future:
//     mask policy:       masks every COLUMN tagged key[=value] (table tags do
//                        not propagate to columns);
//     row-filter policy: filters every TABLE tagged key[=value].
// - Precedence of masks on one column: a direct column mask wins over tag
//   mask policies (a caller exempt from the direct mask sees the column
//   unmasked even if a tag policy would mask it). Without a direct mask,
//   every matching tag mask policy the caller is not exempt from applies, and
//   the most restrictive one is used: NULL, then CONSTANT, then KEYED_HASH,
//   then PARTIAL_REVEAL (ties: the policy name, ascending). A tag mask whose
//   kind does not fit the column (a keyed hash or partial reveal on a
//   non-STRING column, a constant of another type) masks to NULL instead.
// - Row filters combine with AND: the table's own filter and every matching
//   tag row-filter policy. A filter that no longer binds against the schema
//   being read (a tag policy naming a column the table lacks, a table
//   re-created with another schema, a read at an old version that lacks a
//   column the filter uses) makes the table unreadable for everybody
//   (FailedPrecondition naming the policy and column): never silently open.
// - Every change appends to the policy history (time, actor, action, object,
//   before/after JSON). Reads use the current policies whatever table version
//   they read: nothing here is time-dependent.
// - Policies of a table are keyed by its name. Store::DropTable does not
//   remove them; a table re-created under the same name gets them again
//   (the safe direction: it can only be more restricted).
//
// Keyed hash. kKeyedHash maps a string to the 64-hex-digit HMAC-SHA256 of its
// UTF-8 bytes under a 32-byte secret generated once per store (RandomBytes)
// and kept in the store file's gov_secrets table. Equal values hash equally
// across all tables of a store (pseudonyms stay joinable), and differently in
// other stores. Trade-off: anyone who can read the store file can read the
// key and recompute (or brute-force small domains of) hashes; no API of this
// class exports the key. Protect the file like the data it holds.
//
// Persistence: tables gov_row_filters, gov_column_masks, gov_tags,
// gov_tag_policies, gov_policy_history and gov_secrets in the Store's SQLite
// file, through this object's own connection. Several processes may open the
// same store; every change is one SQLite transaction (change + history).
//
// Thread-safety: Policies is thread-safe. EffectivePolicy and ColumnMask are
// immutable values once returned (thread-safe to share for reading).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "filter/ast.h"
#include "filter/bind.h"
#include "filter/eval.h"
#include "governance/store.h"

namespace vesta::governance {

// What a column mask does, and who is exempt from it.
struct MaskSpec {
  enum Kind {
    kNull,           // every value reads NULL
    kConstant,       // every non-NULL value reads `constant`
    kKeyedHash,      // hex HMAC-SHA256 under the store's key (STRING columns)
    kPartialReveal,  // all but the last `reveal_last` code points as '*' (STRING columns)
  };
  Kind kind = kNull;
  Value constant;       // kConstant: must fit the column's type (NULL allowed)
  int reveal_last = 4;  // kPartialReveal: 0..kMaxRevealLast
  // Members of any of these groups (EvalContext::is_member) see raw values.
  std::vector<std::string> exempt_groups;

  static constexpr int kMaxRevealLast = 1000;
};

// "NULL", "CONSTANT", "KEYED_HASH", "PARTIAL_REVEAL".
std::string_view MaskKindName(MaskSpec::Kind kind);

// One caller's mask of one column. Produced by Policies::Resolve only.
class ColumnMask {
 public:
  MaskSpec::Kind kind() const { return kind_; }
  const Value& constant() const { return constant_; }  // kConstant
  int reveal_last() const { return reveal_last_; }      // kPartialReveal
  // The policy that put it there, as listed in EffectivePolicy::applied.
  const std::string& policy() const { return policy_; }

  // The masked form of `v`. NULL stays NULL for every kind. kNull: NULL;
  // kConstant: the constant; kKeyedHash: 64 lowercase hex characters of
  // HMAC-SHA256(key, v) (STRING values; anything else reads NULL);
  // kPartialReveal: every code point but the last reveal_last() replaced by
  // '*', and a string of at most reveal_last() code points entirely '*' (a
  // short value is not revealed whole); non-STRING values read NULL.
  Value Apply(const Value& v) const;

 private:
  friend class Policies;
  MaskSpec::Kind kind_ = MaskSpec::kNull;
  Value constant_;
  int reveal_last_ = 0;
  std::string policy_;
  std::shared_ptr<const std::string> key_;  // kKeyedHash: the store's HMAC key (raw bytes)
};

// Everything the governed read path applies to one table for one caller.
struct EffectivePolicy {
  TableName table;
  Schema schema;  // the schema it was resolved against (masks and row_filter index it)
  // The AND of the table's row filter and every matching tag row-filter
  // policy, bound against `schema`, with current_user() and is_member()
  // already replaced by this caller's values and constants folded: it needs
  // no EvalContext (compile with any; Evaluate with an empty one). nullopt
  // when no filter applies or the filter folds to TRUE for this caller.
  std::optional<filter::BoundExpr> row_filter;
  // One entry per schema column: the mask this caller sees, or nullopt.
  std::vector<std::optional<ColumnMask>> masks;
  // Indices of the columns whose masks (kKeyedHash, kPartialReveal) cannot be
  // folded into a filter: a user filter that still references one of them
  // after RewriteFilterForMasks must be evaluated with filter::Evaluate on
  // masked rows (see NeedsMaskedRowEvaluation). Ascending.
  std::vector<int> masked_eval_columns;
  // Names of the policies applied, for audit: "row_filter:<table>",
  // "column_mask:<table>.<column>", "tag_policy:<name>". Sorted, unique.
  std::vector<std::string> applied;
  // The caller's current_user() (empty: none), used by RewriteFilterForMasks.
  std::string caller_user;

  bool has_masks() const;
  // Replaces each value of `row` by its masked form.
  // REQUIRES: row->size() == schema.columns.size().
  void ApplyMasks(Row* row) const;
};

// A governed tag on a table (column empty) or on one of its columns.
struct Tag {
  std::optional<std::string> column;
  std::string key;
  std::string value;
};

struct TagPolicy {
  enum class Kind { kMask, kRowFilter };
  std::string name;
  Kind kind = Kind::kMask;
  std::string tag_key;
  std::optional<std::string> tag_value;  // nullopt: any value
  MaskSpec mask;                         // kMask
  std::string filter;                    // kRowFilter: filter_string text
  std::string created_by;
  Timestamp created_at;
};

// One entry of the policy history.
struct PolicyChange {
  int64_t id = 0;  // increasing
  Timestamp time;
  std::string actor;
  // "SET ROW FILTER", "DROP ROW FILTER", "SET COLUMN MASK", "DROP COLUMN MASK",
  // "SET TAG", "UNSET TAG", "ADD TAG POLICY", "DROP TAG POLICY".
  std::string action;
  // "main.clinical.patients", "main.clinical.patients.patient_id" or
  // "tag_policy:<name>".
  std::string object;
  std::string table;        // the table concerned, empty for tag policies
  std::string before_json;  // "null" if the object did not exist before
  std::string after_json;   // "null" if it was removed
};

class Policies {
 public:
  // Opens the policy tables in `store`'s file (creating them, and the
  // store's keyed-hash secret, on first use) through a connection of its own.
  // `store` is used to look up table schemas (Store::DescribeTable) and must
  // outlive the returned object.
  // Errors: those of opening the SQLite file (Unavailable if locked).
  static Result<std::unique_ptr<Policies>> Open(Store& store);
  ~Policies();
  Policies(const Policies&) = delete;
  Policies& operator=(const Policies&) = delete;

  // --- Row filters -------------------------------------------------------------
  // Sets the table's row filter (replacing any previous one). `filter_string`
  // is parsed with the shared filter language and bound against the table's
  // current schema; it may use current_user() and is_member('group').
  // Errors: NotFound (table); InvalidArgument naming the problem, e.g.
  //   "row filter for main.clinical.patients: filter: unknown column 'stie'
  //    (columns: patient_id, site, age)"; nothing is stored on error.
  Status SetRowFilter(const TableName& table, const std::string& filter_string, const std::string& by);
  // Errors: NotFound if the table has no row filter.
  Status DropRowFilter(const TableName& table, const std::string& by);
  // The table's row filter text, or nullopt if none.
  Result<std::optional<std::string>> RowFilterOf(const TableName& table);

  // --- Column masks ------------------------------------------------------------
  // Sets the mask of one column (replacing any previous one).
  // Errors: NotFound (table, or column: the message lists the columns);
  // InvalidArgument for a kConstant value that does not fit the column type,
  // kKeyedHash / kPartialReveal on a non-STRING column, reveal_last outside
  // 0..kMaxRevealLast, an empty exempt group name.
  Status SetColumnMask(const TableName& table, const std::string& column, const MaskSpec& mask,
                       const std::string& by);
  // Errors: NotFound if the column has no mask.
  Status DropColumnMask(const TableName& table, const std::string& column, const std::string& by);
  // The table's direct column masks: (column name, spec), by column name.
  Result<std::vector<std::pair<std::string, MaskSpec>>> ColumnMasksOf(const TableName& table);

  // --- Tags --------------------------------------------------------------------
  // Sets tag `key` = `value` on the table (column nullopt) or on one of its
  // columns, replacing that key's previous value. key: 1..255 bytes, value:
  // at most 1,000 bytes, both valid UTF-8.
  // Errors: NotFound (table, column); InvalidArgument (key, value).
  Status SetTag(const TableName& table, const std::optional<std::string>& column, const std::string& key,
                const std::string& value, const std::string& by);
  // Errors: NotFound if the object has no tag `key`.
  Status UnsetTag(const TableName& table, const std::optional<std::string>& column, const std::string& key,
                  const std::string& by);
  // The table's tags and its columns' tags: table tags first, then by
  // column, then by key. Empty for an unknown table.
  Result<std::vector<Tag>> TagsOf(const TableName& table);

  // --- Tag policies (ABAC) -----------------------------------------------------
  // "Mask every column tagged tag_key[=tag_value] unless the caller is in one
  // of mask.exempt_groups", for current and future tables. `name`: an
  // identifier, unique among tag policies (ignoring case).
  // Errors: AlreadyExists; InvalidArgument (name, tag key, mask: reveal_last,
  // group names, a non-finite constant). Whether the mask fits a column's type
  // is decided per column at resolution (see the model above).
  Status AddTagMaskPolicy(const std::string& name, const std::string& tag_key,
                          const std::optional<std::string>& tag_value, const MaskSpec& mask, const std::string& by);
  // "Row filter `filter_string` on every table tagged tag_key[=tag_value]".
  // The filter is parsed here and bound per table at resolution.
  // Errors: AlreadyExists; InvalidArgument (name, tag key, filter syntax).
  Status AddTagRowFilterPolicy(const std::string& name, const std::string& tag_key,
                               const std::optional<std::string>& tag_value, const std::string& filter_string,
                               const std::string& by);
  // Errors: NotFound.
  Status DropTagPolicy(const std::string& name, const std::string& by);
  // All tag policies by name.
  Result<std::vector<TagPolicy>> ListTagPolicies();

  // --- History -----------------------------------------------------------------
  // Policy changes, newest first; at most `limit` (-1: all). With `table`,
  // only the changes to that table's row filter, masks and tags (tag policies
  // are not table-specific and are left out).
  Result<std::vector<PolicyChange>> History(int64_t limit = -1, const std::optional<TableName>& table = std::nullopt);

  // --- Resolution --------------------------------------------------------------
  // What `caller` may see of `table` read with `schema` (the table's schema
  // at the version read): see EffectivePolicy. Group membership comes from
  // caller.is_member (unset: member of nothing).
  // Errors: FailedPrecondition when a row filter (the table's own or a tag
  // policy's) does not bind against `schema`, naming the policy and the
  // problem, e.g. "tag policy 'study_x' cannot be applied to
  // main.clinical.patients: filter: unknown column 'study' (columns: ...)";
  // the table must then be refused, not read unfiltered.
  Result<EffectivePolicy> Resolve(const TableName& table, const Schema& schema, const filter::EvalContext& caller);

  struct Impl;  // internal

 private:
  Policies() = default;
  std::unique_ptr<Impl> impl_;
};

// Replaces current_user() by the caller's name as a STRING literal (NULL when
// caller.current_user is empty) and is_member('g') by TRUE or FALSE, then
// folds constants: a predicate whose subject is current_user() becomes its
// truth value, AND/OR/NOT over constants simplify (exactly, in three-valued
// logic). The result evaluates, for every row and any context, as `expr`
// does under `caller`. Works on bound and unbound expressions (rebind the
// result); a malformed current_user() predicate is left for Bind to report.
filter::Expr ResolveCallerFunctions(const filter::Expr& expr, const filter::EvalContext& caller);

// Rewrites a user filter so that it sees masked values, exactly where that
// can be done in the filter itself: a predicate on a kNull-masked column is
// evaluated on NULL, and one on a kConstant-masked column becomes
// "(col IS NULL AND p(NULL)) OR (col IS NOT NULL AND p(constant))" folded to
// constants (NULL stays NULL under a mask). For every raw row r:
//   Evaluate(result, r, ctx) == Evaluate(user_filter, masked(r), ctx)
// for a ctx whose current_user is policy.caller_user, as long as the filter
// references no column of policy.masked_eval_columns. Predicates on
// kKeyedHash / kPartialReveal columns are left unchanged: if
// NeedsMaskedRowEvaluation(result, policy), the governed read path must
// evaluate `result` with filter::Evaluate on masked rows (ApplyMasks) rather
// than compile it to SQL or a bitmap over raw values.
// Errors: InvalidArgument if user_filter was bound against a schema of
// another width than policy.schema.
Result<filter::BoundExpr> RewriteFilterForMasks(const filter::BoundExpr& user_filter, const EffectivePolicy& policy);

// True if `filter` references a column listed in policy.masked_eval_columns.
bool NeedsMaskedRowEvaluation(const filter::BoundExpr& filter, const EffectivePolicy& policy);

}  // namespace vesta::governance
