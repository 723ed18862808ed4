// Index scans and index metadata (access/governed.h, "Index scans and index
// metadata"): ScanIndex (Mosaic's scan), DescribeIndex and VisibleIndexes.
// The index is pinned and its policies resolved as for QueryIndex
// (Governed::Impl::PinIndex, access/governed_index.cc).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "access/internal/governed_impl.h"
#include "index/filter_bitmap.h"

namespace vesta::access {
namespace {

using governance::AuditRecord;
using governance::ColumnMask;
using governance::MaskSpec;
using governance::Securable;
using governance::TableName;
using internal::AuditText;
using json = nlohmann::json;

constexpr size_t kMaxScanResults = 10000;

// The order of scan keys: BIGINT numerically, STRING bytewise (std::string's
// operator< compares as unsigned char, as SQLite's BINARY collation). An
// index has one key type, and masked keys are all STRING; NULLs (not
// produced) would sort first.
bool KeyLess(const Value& a, const Value& b) {
  if (a.is_int() && b.is_int()) return a.as_int() < b.as_int();
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  return a.is_null() && !b.is_null();
}

// after_primary_key as a key to compare with: the key's own type (BIGINT
// also accepts decimal text, as Mosaic's JSON sends keys as strings), or the
// keyed hash (STRING) when the caller sees the key hashed. NULL: from the
// start.
Result<Value> AfterKey(const Value& given, bool hashed, const Column& pk, const std::string& iname) {
  if (given.is_null()) return Value();
  const std::string got = std::string(given.TypeName()) + " " + AuditText(given.ToString());
  if (hashed) {
    if (given.is_string()) return given;
    return Status::InvalidArgument(
        "after_primary_key: the primary key '" + pk.name + "' of index " + iname +
        " is shown to this caller as a keyed hash, so pages are positioned by that "
        "STRING (the last_primary_key of the previous page); got " +
        got);
  }
  if (pk.type.id == TypeId::kBigint) {
    if (given.is_int()) return given;
    if (given.is_string()) {
      const std::string& s = given.as_string();
      int64_t v = 0;
      const char* end = s.data() + s.size();
      auto [ptr, ec] = std::from_chars(s.data(), end, v);
      if (!s.empty() && ec == std::errc() && ptr == end) return Value::Int(v);
    }
  } else if (pk.type.id == TypeId::kString) {
    if (given.is_string()) return given;
  }
  return Status::InvalidArgument("after_primary_key: index " + iname + " has primary key '" + pk.name +
                                 "' of type " + pk.type.ToString() + "; got " + got);
}

Value MaskValue(const std::optional<ColumnMask>& mask, Value v) {
  return mask ? mask->Apply(v) : v;
}

}  // namespace

// --- ScanIndex -------------------------------------------------------------------

Result<IndexScanResult> Governed::ScanIndex(const Caller& caller, const IndexRef& index,
                                            const IndexScanRequest& request) {
  AuditRecord rec = Impl::NewRecord(caller, "index.scan", index.name.ToString());
  const std::string query_id = impl_->NewQueryId();
  json params = json::object();
  params["source"] = index.source.ToString();
  params["after_primary_key"] = request.after_primary_key.is_null()
                                    ? json(nullptr)
                                    : json(AuditText(request.after_primary_key.ToString()));
  params["num_results"] = request.num_results;
  params["columns"] = request.columns;
  params["include_vector"] = request.include_vector;
  params["query_id"] = query_id;
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;

  std::vector<std::string> keys;
  Result<IndexScanResult> r = impl_->ScanIndex(caller, index, request, &params, &keys);
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  r->query_id = query_id;
  const int64_t version = r->index_version;
  VESTA_RETURN_IF_ERROR(impl_->Allow(
      std::move(rec), params, static_cast<int64_t>(r->rows.size()), std::move(keys),
      {{"index", index.name.ToString(), version}, {"table", index.source.ToString(), version}}, query_id));
  return r;
}

Result<IndexScanResult> Governed::Impl::ScanIndex(const Caller& caller, const IndexRef& ref,
                                                  const IndexScanRequest& request, json* params,
                                                  std::vector<std::string>* keys) {
  VESTA_ASSIGN_OR_RETURN(internal::PinnedIndex p, PinIndex(caller, ref, request.include_vector, params));
  if (request.num_results < 1 || request.num_results > kMaxScanResults) {
    return Status::InvalidArgument("num_results: " + std::to_string(request.num_results) + " is outside 1.." +
                                   std::to_string(kMaxScanResults));
  }
  VESTA_ASSIGN_OR_RETURN(std::vector<size_t> out_cols, internal::SelectIndexColumns(p, request.columns));
  const Column& pk = p.columns.columns[0];

  // The key the caller sees orders and positions the pages: the raw key, or
  // its keyed hash. Other masks leave nothing that identifies a row.
  const std::optional<ColumnMask>& pk_mask = p.policy.masks[0];
  if (pk_mask && (pk_mask->kind() != MaskSpec::kKeyedHash || pk.type.id != TypeId::kString)) {
    return Status::FailedPrecondition("index " + p.name + ": its primary key '" + pk.name + "' is masked (" +
                                      std::string(governance::MaskKindName(pk_mask->kind())) + ") for " +
                                      caller.user +
                                      ", so its rows have no key order or position this caller may see and "
                                      "cannot be scanned; query the index or read the source table instead");
  }
  const bool hashed = pk_mask.has_value();
  (*params)["key_order"] = hashed ? "keyed_hash" : "primary_key";
  VESTA_ASSIGN_OR_RETURN(const Value after, AfterKey(request.after_primary_key, hashed, pk, p.name));

  const index::IndexSnapshot& snap = *p.snap;
  const index::AttributeStore& attrs = snap.attributes();
  // The live rows the caller may see: the row filter over the attribute
  // store (as inside QueryIndex's search), tombstones removed.
  Roaring visible;
  if (p.row_filter) {
    VESTA_ASSIGN_OR_RETURN(index::PassingRows passing,
                           index::FilterBitmap(*p.row_filter, attrs, filter::EvalContext{}));
    visible = passing.TakeBitmap();
  } else {
    visible.addRange(0, snap.size());
  }
  visible -= snap.deleted();
  (*params)["visible_rows"] = visible.cardinality();

  // The first num_results keys after `after`: a selection (O(n)), then a
  // sort of the page only.
  struct Candidate {
    const Value* key;  // the key the caller sees: snap.key(id), or an entry of `hashes`
    uint32_t id;
  };
  std::vector<Value> hashes;  // reserved up front: pointers into it stay valid
  if (hashed) hashes.reserve(visible.cardinality());
  std::vector<Candidate> cands;
  cands.reserve(visible.cardinality());
  for (const uint32_t id : visible) {
    const Value* k = &snap.key(id);
    if (hashed) {
      hashes.push_back(pk_mask->Apply(*k));
      k = &hashes.back();
    }
    if (!after.is_null() && !KeyLess(after, *k)) continue;
    cands.push_back({k, id});
  }
  const auto less = [](const Candidate& a, const Candidate& b) {
    if (KeyLess(*a.key, *b.key)) return true;
    if (KeyLess(*b.key, *a.key)) return false;
    return a.id < b.id;  // equal hashes (not expected): a stable order
  };
  if (cands.size() > request.num_results) {
    std::nth_element(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(request.num_results),
                     cands.end(), less);
    cands.resize(request.num_results);
  }
  std::sort(cands.begin(), cands.end(), less);

  IndexScanResult out;
  out.columns.push_back(pk.name);
  for (size_t i : out_cols) out.columns.push_back(p.columns.columns[i].name);
  if (p.vector_column >= 0)
    out.columns.push_back(p.columns.columns[static_cast<size_t>(p.vector_column)].name);
  out.index_version = snap.version();
  out.policies_applied = p.policy.applied;
  const size_t dim = snap.spec().dimension;
  out.rows.reserve(cands.size());
  for (const Candidate& c : cands) {
    keys->push_back(AuditText(snap.key(c.id).ToString()));
    Row row;
    row.reserve(out.columns.size());
    row.push_back(*c.key);
    for (size_t i : out_cols) row.push_back(MaskValue(p.policy.masks[i], attrs.GetValue(c.id, p.attr_of[i])));
    if (p.vector_column >= 0) {
      const float* v = snap.vector(c.id);
      row.push_back(MaskValue(p.policy.masks[static_cast<size_t>(p.vector_column)],
                              Value::Vec(std::vector<float>(v, v + dim))));
    }
    out.rows.push_back(std::move(row));
  }
  if (!out.rows.empty()) out.last_primary_key = out.rows.back()[0];
  return out;
}

// --- Index metadata ---------------------------------------------------------------

Status Governed::DescribeIndex(const Caller& caller, const TableName& index_name) {
  AuditRecord rec = Impl::NewRecord(caller, "index.describe", index_name.ToString());
  json params = json::object();
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Status st = impl_->privileges->CheckRead(caller.user, internal::GroupSet(caller), Securable::Index(index_name),
                                           caller.metastore_admin);
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return impl_->Allow(std::move(rec), params, 0, {}, {}, "");
}

Result<std::vector<TableName>> Governed::VisibleIndexes(const Caller& caller,
                                                        const std::vector<TableName>& candidates) {
  AuditRecord rec = Impl::NewRecord(caller, "index.list", "");
  json params = json::object();
  params["candidates"] = candidates.size();
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  const std::set<std::string> groups = internal::GroupSet(caller);
  std::vector<TableName> out;
  std::vector<std::string> names;
  for (const TableName& name : candidates) {
    Status st =
        impl_->privileges->CheckRead(caller.user, groups, Securable::Index(name), caller.metastore_admin);
    if (st.code() == StatusCode::kPermissionDenied) continue;
    if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
    out.push_back(name);
    names.push_back(AuditText(name.ToString()));
  }
  params["indexes"] = names;
  VESTA_RETURN_IF_ERROR(impl_->Allow(std::move(rec), params, static_cast<int64_t>(out.size()), {}, {}, ""));
  return out;
}

}  // namespace vesta::access
