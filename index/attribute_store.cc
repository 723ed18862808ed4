#include "index/attribute_store.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <unordered_map>
#include <utility>

#include "index/dense_bits.h"

namespace vesta::index {

using filter::CompareOp;

namespace {

constexpr uint32_t kMaxPostingsValuesLimit = 1u << 24;
// A range that spans more distinct values than this is built from the sorted
// index's id slice rather than as a union of that many stored bitmaps.
constexpr size_t kMaxPostingsUnion = 64;

Status StoreError(StatusCode code, const std::string& message) {
  return Status(code, "attribute store: " + message);
}

Roaring AllIds(uint32_t n) {
  Roaring r;
  r.addRange(0, n);
  return r;
}

// The union of `parts` (borrowed).
Roaring Union(std::vector<const Roaring*>& parts) {
  if (parts.empty()) return Roaring();
  if (parts.size() == 1) return *parts[0];
  return Roaring::fastunion(parts.size(), parts.data());
}

// The bitmap of the ids in `parts` (each < universe, no id twice, any
// order). Few ids are sorted (O(m log m)) and handed to CRoaring as an
// array; many are marked in a dense bitset whose 2^16-id chunks become
// CRoaring containers directly (O(universe / 64 + m); index/dense_bits.h).
Roaring BitmapFromIds(const std::vector<std::span<const uint32_t>>& parts, uint32_t universe) {
  size_t m = 0;
  for (const auto& p : parts) m += p.size();
  if (m == 0) return Roaring();
  if (m * static_cast<size_t>(std::bit_width(m)) < universe / 32) {
    std::vector<uint32_t> sorted;
    sorted.reserve(m);
    for (const auto& p : parts) sorted.insert(sorted.end(), p.begin(), p.end());
    std::sort(sorted.begin(), sorted.end());
    return Roaring(sorted.size(), sorted.data());
  }
  DenseBits bits(universe);
  for (const auto& p : parts) {
    for (uint32_t id : p) bits.Set(id);
  }
  return bits.ToRoaring();
}

// The ids in [0, universe) that are neither in `nulls` nor in `parts` (each
// < universe): the complement of a slice, built without a second bitmap.
Roaring NonNullExcept(const std::vector<std::span<const uint32_t>>& parts, uint32_t universe, const Roaring& nulls) {
  DenseBits bits(universe);
  bits.SetRange(0, universe);
  bits.ClearAll(nulls);
  for (const auto& p : parts) {
    for (uint32_t id : p) bits.Clear(id);
  }
  return bits.ToRoaring();
}

// A closed interval of keys; empty when lo > hi or `empty` is set.
template <typename K>
struct Interval {
  K lo;
  K hi;
  bool empty = false;
};

// The int64 keys k for which `k op bound` holds. REQUIRES: op != kNe.
Interval<int64_t> IntInterval(CompareOp op, int64_t bound) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  switch (op) {
    case CompareOp::kEq:
      return {bound, bound};
    case CompareOp::kLt:
      return bound == kMin ? Interval<int64_t>{0, 0, true} : Interval<int64_t>{kMin, bound - 1};
    case CompareOp::kLe:
      return {kMin, bound};
    case CompareOp::kGt:
      return bound == kMax ? Interval<int64_t>{0, 0, true} : Interval<int64_t>{bound + 1, kMax};
    case CompareOp::kGe:
      return {bound, kMax};
    case CompareOp::kNe:
      break;
  }
  return {0, 0, true};
}

// The int64 keys i for which `i op d` holds when compared exactly, as
// filter::Evaluate does (an integer is never rounded to a double: 2^53 + 1 >
// 2^53 even though both convert to the same double). REQUIRES: d finite,
// op != kNe.
Interval<int64_t> IntIntervalForDouble(CompareOp op, double d) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr double kTwo63 = 9223372036854775808.0;
  const Interval<int64_t> all{kMin, kMax}, none{0, 0, true};
  if (d >= kTwo63) return op == CompareOp::kLt || op == CompareOp::kLe ? all : none;  // above every int64
  if (d < -kTwo63) return op == CompareOp::kGt || op == CompareOp::kGe ? all : none;  // below every int64
  // -2^63 <= d < 2^63, and doubles this close to 2^63 are integers, so floor
  // and ceil are int64 values with floor + 1 and ceil - 1 (unless kMin) too.
  const int64_t f = static_cast<int64_t>(std::floor(d));
  const int64_t c = static_cast<int64_t>(std::ceil(d));
  switch (op) {
    case CompareOp::kEq:
      return f == c ? Interval<int64_t>{f, f} : none;
    case CompareOp::kLt:  // i < d  <=>  i <= ceil(d) - 1
      return c == kMin ? none : Interval<int64_t>{kMin, c - 1};
    case CompareOp::kLe:  // i <= d  <=>  i <= floor(d)
      return {kMin, f};
    case CompareOp::kGt:  // i > d  <=>  i >= floor(d) + 1
      return {f + 1, kMax};
    case CompareOp::kGe:  // i >= d  <=>  i >= ceil(d)
      return {c, kMax};
    case CompareOp::kNe:
      break;
  }
  return none;
}

// The doubles x for which `x op d` holds (doubles are discrete, so strict
// bounds become the adjacent double; -0.0 and 0.0 compare equal throughout).
// REQUIRES: d finite, op != kNe.
Interval<double> DoubleInterval(CompareOp op, double d) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  switch (op) {
    case CompareOp::kEq:
      return {d, d};
    case CompareOp::kLt:
      return {-kInf, std::nextafter(d, -kInf)};
    case CompareOp::kLe:
      return {-kInf, d};
    case CompareOp::kGt:
      return {std::nextafter(d, kInf), kInf};
    case CompareOp::kGe:
      return {d, kInf};
    case CompareOp::kNe:
      break;
  }
  return {0, 0, true};
}

}  // namespace

// One column: values, NULL bitmap and indexes. Subclasses per storage type.
// Thread-safety as AttributeStore: const methods may run concurrently (lazy
// index builds lock `mu_`), non-const ones need exclusive access.
class AttributeColumn {
 public:
  AttributeColumn(Column column, uint32_t max_postings)
      : column_(std::move(column)), max_postings_(max_postings) {}
  virtual ~AttributeColumn() = default;
  AttributeColumn(const AttributeColumn&) = delete;
  AttributeColumn& operator=(const AttributeColumn&) = delete;

  virtual std::unique_ptr<AttributeColumn> Clone() const = 0;
  virtual void Reserve(size_t rows) = 0;
  // REQUIRES: `v` is NULL or of the column's type.
  virtual void Append(const Value& v) = 0;
  // REQUIRES: id < size(), `v` is NULL or of the column's type.
  virtual void Set(uint32_t id, const Value& v) = 0;
  virtual Value Get(uint32_t id) const = 0;
  // Non-NULL ids whose value satisfies every comparison (AttributeStore::CompareAllIds).
  virtual Result<Roaring> CompareAll(const std::vector<Comparison>& all) const = 0;
  // Non-NULL ids whose value starts with `required_prefix` and satisfies `match`.
  virtual Result<Roaring> Match(const std::function<bool(std::string_view)>& /*match*/,
                                std::string_view /*required_prefix*/) const {
    return StoreError(StatusCode::kInvalidArgument, "column '" + column_.name + "' is " +
                                                        column_.type.ToString() +
                                                        "; string matching needs a STRING column");
  }
  virtual void BuildIndexes() const = 0;
  virtual bool has_postings() const = 0;
  virtual size_t MemoryUsage() const = 0;

  const Column& column() const { return column_; }
  const Roaring& nulls() const { return nulls_; }
  uint32_t size() const { return size_; }

 protected:
  // Copies the state of the base class (for Clone).
  void CopyBaseFrom(const AttributeColumn& o) {
    nulls_ = o.nulls_;
    size_ = o.size_;
  }

  Roaring NonNull() const { return AllIds(size_) - nulls_; }

  Status TypeMismatch(const Value& literal) const {
    return StoreError(StatusCode::kInvalidArgument,
                      "cannot compare column '" + column_.name + "' (" + column_.type.ToString() + ") with " +
                          literal.ToString() + " (" + std::string(literal.TypeName()) + ")");
  }

  // The bitmap of ids[b, e), a slice of `ids` (the ids of every non-NULL row
  // in some order). `ascending`: the slice is sorted. A slice holding more
  // than half of the ids is built as NonNull() minus the rest.
  Roaring SliceBitmap(std::span<const uint32_t> ids, size_t b, size_t e, bool ascending) const {
    if (b >= e) return Roaring();
    if (ascending) return Roaring(e - b, ids.data() + b);
    if (e - b > ids.size() / 2) return NonNullExcept({ids.first(b), ids.subspan(e)}, size_, nulls_);
    return BitmapFromIds({ids.subspan(b, e - b)}, size_);
  }

  const Column column_;
  const uint32_t max_postings_;
  Roaring nulls_;
  uint32_t size_ = 0;
};

namespace {

// BIGINT, DATE, TIMESTAMP and BOOLEAN columns (K = int64_t) and DOUBLE
// columns (K = double). Indexes: postings_ (value -> ids, ordered) while
// there are at most max_postings_ distinct values, and the lazily sorted
// (keys_, ids_) arrays.
template <typename K>
class NumericColumn final : public AttributeColumn {
 public:
  NumericColumn(Column column, uint32_t max_postings)
      : AttributeColumn(std::move(column), max_postings), postings_enabled_(max_postings > 0) {}

  std::unique_ptr<AttributeColumn> Clone() const override {
    auto c = std::make_unique<NumericColumn<K>>(column_, max_postings_);
    c->CopyBaseFrom(*this);
    c->values_ = values_;
    c->postings_ = postings_;
    c->postings_enabled_ = postings_enabled_;
    std::lock_guard<std::mutex> lock(mu_);
    c->keys_ = keys_;
    c->ids_ = ids_;
    c->sorted_rows_ = sorted_rows_;
    c->needs_full_sort_ = needs_full_sort_;
    c->dirty_.store(dirty_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return c;
  }

  void Reserve(size_t rows) override { values_.reserve(rows); }

  void Append(const Value& v) override {
    const uint32_t id = size_++;
    dirty_.store(true, std::memory_order_relaxed);  // the new id is merged in at the next lookup
    if (v.is_null()) {
      values_.push_back(K{});
      nulls_.add(id);
      return;
    }
    const K k = KeyOf(v);
    values_.push_back(k);
    AddPosting(k, id);
  }

  void Set(uint32_t id, const Value& v) override {
    const bool was_null = nulls_.contains(id);
    if (was_null && v.is_null()) return;
    if (!was_null && !v.is_null() && values_[id] == KeyOf(v)) {
      values_[id] = KeyOf(v);  // keeps the exact bits (-0.0 vs 0.0); indexes see equal keys
      return;
    }
    if (was_null) {
      nulls_.remove(id);
    } else {
      RemovePosting(values_[id], id);
    }
    if (v.is_null()) {
      values_[id] = K{};
      nulls_.add(id);
    } else {
      values_[id] = KeyOf(v);
      AddPosting(values_[id], id);
    }
    needs_full_sort_ = true;
    dirty_.store(true, std::memory_order_relaxed);
  }

  Value Get(uint32_t id) const override { return nulls_.contains(id) ? Value() : ValueOf(values_[id]); }

  Result<Roaring> CompareAll(const std::vector<Comparison>& all) const override {
    Interval<K> range{std::numeric_limits<K>::lowest(), std::numeric_limits<K>::max()};
    if constexpr (std::is_same_v<K, double>) {
      range = {-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    }
    bool bounded = false;
    std::vector<Interval<K>> excluded;  // the kNe literals, as equality intervals
    for (const Comparison& c : all) {
      if (c.literal.is_null()) return Roaring();
      VESTA_ASSIGN_OR_RETURN(Interval<K> one,
                             IntervalOf(c.op == CompareOp::kNe ? CompareOp::kEq : c.op, c.literal));
      if (c.op == CompareOp::kNe) {
        excluded.push_back(one);
        continue;
      }
      if (one.empty) return Roaring();
      bounded = true;
      range.lo = std::max(range.lo, one.lo);
      range.hi = std::min(range.hi, one.hi);
    }
    Roaring r = bounded ? Range(range) : NonNull();
    for (const Interval<K>& ex : excluded) {
      if (r.isEmpty()) break;
      r -= Range(ex);
    }
    return r;
  }

  void BuildIndexes() const override { EnsureSorted(); }
  bool has_postings() const override { return postings_enabled_; }

  size_t MemoryUsage() const override {
    size_t bytes = values_.capacity() * sizeof(K) + nulls_.getSizeInBytes();
    for (const auto& [k, ids] : postings_) bytes += ids.getSizeInBytes() + sizeof(Roaring) + sizeof(K) + 32;
    std::lock_guard<std::mutex> lock(mu_);
    return bytes + keys_.capacity() * sizeof(K) + ids_.capacity() * sizeof(uint32_t);
  }

 private:
  Status NonFinite(const Value& literal) const {
    return StoreError(StatusCode::kInvalidArgument,
                      "column '" + column_.name + "': literal " + literal.ToString() + " is not finite");
  }

  // The keys k for which `k op literal` holds. REQUIRES: op != kNe, literal
  // not NULL. Errors: a literal of another type, a non-finite DOUBLE.
  Result<Interval<K>> IntervalOf(CompareOp op, const Value& literal) const {
    if constexpr (std::is_same_v<K, double>) {
      if (!literal.is_double()) return TypeMismatch(literal);
      if (!std::isfinite(literal.as_double())) return NonFinite(literal);
      return DoubleInterval(op, literal.as_double());
    } else {
      const TypeId type = column_.type.id;
      if (type == TypeId::kBigint && literal.is_double()) {
        if (!std::isfinite(literal.as_double())) return NonFinite(literal);
        return IntIntervalForDouble(op, literal.as_double());
      }
      if ((type == TypeId::kBigint && literal.is_int()) || (type == TypeId::kBoolean && literal.is_bool()) ||
          (type == TypeId::kDate && literal.is_date()) ||
          (type == TypeId::kTimestamp && literal.is_timestamp())) {
        return IntInterval(op, KeyOf(literal));
      }
      return TypeMismatch(literal);
    }
  }

  // REQUIRES: `v` is not NULL and of the column's storage kind.
  static K KeyOf(const Value& v) {
    if constexpr (std::is_same_v<K, double>) {
      return v.as_double();
    } else {
      if (v.is_int()) return v.as_int();
      if (v.is_bool()) return v.as_bool() ? 1 : 0;
      if (v.is_date()) return v.as_date().days;
      return v.as_timestamp().micros;
    }
  }

  Value ValueOf(K k) const {
    if constexpr (std::is_same_v<K, double>) {
      return Value::Real(k);
    } else {
      switch (column_.type.id) {
        case TypeId::kBoolean:
          return Value::Bool(k != 0);
        case TypeId::kDate:
          return Value::DateV(Date{static_cast<int32_t>(k)});
        case TypeId::kTimestamp:
          return Value::Ts(Timestamp{k});
        default:
          return Value::Int(k);
      }
    }
  }

  void AddPosting(K k, uint32_t id) {
    if (!postings_enabled_) return;
    auto [it, inserted] = postings_.try_emplace(k);
    it->second.add(id);
    if (inserted && postings_.size() > max_postings_) {
      postings_.clear();  // high cardinality from now on: the sorted index serves every lookup
      postings_enabled_ = false;
    }
  }

  void RemovePosting(K k, uint32_t id) {
    if (!postings_enabled_) return;
    auto it = postings_.find(k);
    if (it == postings_.end()) return;
    it->second.remove(id);
    if (it->second.isEmpty()) postings_.erase(it);
  }

  // Non-NULL ids with a key in `iv`.
  Roaring Range(const Interval<K>& iv) const {
    if (iv.empty || iv.hi < iv.lo) return Roaring();
    if (postings_enabled_) {
      std::vector<const Roaring*> parts;
      for (auto it = postings_.lower_bound(iv.lo); it != postings_.end() && !(iv.hi < it->first); ++it) {
        parts.push_back(&it->second);
        if (parts.size() > kMaxPostingsUnion) break;
      }
      if (parts.size() <= kMaxPostingsUnion) return Union(parts);
    }
    EnsureSorted();
    const size_t b = static_cast<size_t>(std::lower_bound(keys_.begin(), keys_.end(), iv.lo) - keys_.begin());
    const size_t e = static_cast<size_t>(std::upper_bound(keys_.begin(), keys_.end(), iv.hi) - keys_.begin());
    const bool one_key = b < e && !(keys_[b] < keys_[e - 1]);  // ids of one key are ascending
    return SliceBitmap(ids_, b, e, one_key);
  }

  // Brings keys_/ids_ up to date: merges appended rows in, or re-sorts
  // everything after an update. Ordered by (key, id).
  void EnsureSorted() const {
    if (!dirty_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (!dirty_.load(std::memory_order_relaxed)) return;
    if (needs_full_sort_) {
      keys_.clear();
      ids_.clear();
      sorted_rows_ = 0;
    }
    // The rows not yet indexed, sorted by (key, id).
    std::vector<std::pair<K, uint32_t>> fresh;
    fresh.reserve(size_ - sorted_rows_);
    std::vector<uint32_t> null_ids(nulls_.cardinality());
    nulls_.toUint32Array(null_ids.data());
    auto next_null = std::lower_bound(null_ids.begin(), null_ids.end(), sorted_rows_);
    for (uint32_t id = sorted_rows_; id < size_; ++id) {
      if (next_null != null_ids.end() && *next_null == id) {
        ++next_null;
        continue;
      }
      fresh.emplace_back(values_[id], id);
    }
    std::sort(fresh.begin(), fresh.end(), [](const auto& a, const auto& b) {
      return a.first < b.first || (!(b.first < a.first) && a.second < b.second);
    });
    if (keys_.empty()) {
      keys_.reserve(fresh.size());
      ids_.reserve(fresh.size());
      for (const auto& [k, id] : fresh) {
        keys_.push_back(k);
        ids_.push_back(id);
      }
    } else if (!fresh.empty()) {
      // Merge: every fresh id exceeds every indexed one, so on equal keys the
      // indexed entries go first and ids stay ascending within a key.
      std::vector<K> keys;
      std::vector<uint32_t> ids;
      keys.reserve(keys_.size() + fresh.size());
      ids.reserve(keys_.size() + fresh.size());
      size_t i = 0, j = 0;
      while (i < keys_.size() || j < fresh.size()) {
        if (j == fresh.size() || (i < keys_.size() && !(fresh[j].first < keys_[i]))) {
          keys.push_back(keys_[i]);
          ids.push_back(ids_[i++]);
        } else {
          keys.push_back(fresh[j].first);
          ids.push_back(fresh[j++].second);
        }
      }
      keys_.swap(keys);
      ids_.swap(ids);
    }
    sorted_rows_ = size_;
    needs_full_sort_ = false;
    dirty_.store(false, std::memory_order_release);
  }

  std::vector<K> values_;  // per row; K{} for NULL
  std::map<K, Roaring> postings_;
  bool postings_enabled_;

  // The sorted index, built lazily under mu_ (see EnsureSorted).
  mutable std::mutex mu_;
  mutable std::atomic<bool> dirty_{false};
  mutable bool needs_full_sort_ = false;  // an update happened: merging appended rows is not enough
  mutable uint32_t sorted_rows_ = 0;      // rows 0..sorted_rows_-1 are reflected in keys_/ids_
  mutable std::vector<K> keys_;           // non-NULL values, ascending
  mutable std::vector<uint32_t> ids_;     // their row ids, ascending within equal keys
};

// STRING columns: dictionary codes per row. Indexes: postings_ (code -> ids)
// while the dictionary has at most max_postings_ entries, and, built lazily,
// the dictionary sorted byte-wise plus every non-NULL id grouped by the rank
// of its value (CSR: ids_[offsets_[r] .. offsets_[r + 1]) hold rank r).
class StringColumn final : public AttributeColumn {
 public:
  static constexpr uint32_t kNullCode = std::numeric_limits<uint32_t>::max();

  StringColumn(Column column, uint32_t max_postings)
      : AttributeColumn(std::move(column), max_postings), postings_enabled_(max_postings > 0) {}

  std::unique_ptr<AttributeColumn> Clone() const override {
    auto c = std::make_unique<StringColumn>(column_, max_postings_);
    c->CopyBaseFrom(*this);
    c->codes_ = codes_;
    c->dict_ = dict_;
    for (uint32_t code = 0; code < c->dict_.size(); ++code) c->lookup_.emplace(c->dict_[code], code);
    c->counts_ = counts_;
    c->postings_ = postings_;
    c->postings_enabled_ = postings_enabled_;
    std::lock_guard<std::mutex> lock(mu_);
    c->sorted_codes_ = sorted_codes_;
    c->rank_ = rank_;
    c->offsets_ = offsets_;
    c->ids_ = ids_;
    c->dirty_.store(dirty_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return c;
  }

  void Reserve(size_t rows) override { codes_.reserve(rows); }

  void Append(const Value& v) override {
    const uint32_t id = size_++;
    dirty_.store(true, std::memory_order_relaxed);
    if (v.is_null()) {
      codes_.push_back(kNullCode);
      nulls_.add(id);
      return;
    }
    const uint32_t code = Intern(v.as_string());
    codes_.push_back(code);
    AddRow(code, id);
  }

  void Set(uint32_t id, const Value& v) override {
    const uint32_t old_code = codes_[id];
    const uint32_t new_code = v.is_null() ? kNullCode : Intern(v.as_string());
    if (old_code == new_code) return;
    if (old_code == kNullCode) {
      nulls_.remove(id);
    } else {
      --counts_[old_code];
      if (postings_enabled_) postings_[old_code].remove(id);
    }
    codes_[id] = new_code;
    if (new_code == kNullCode) {
      nulls_.add(id);
    } else {
      AddRow(new_code, id);
    }
    dirty_.store(true, std::memory_order_relaxed);
  }

  Value Get(uint32_t id) const override {
    return codes_[id] == kNullCode ? Value() : Value::Str(dict_[codes_[id]]);
  }

  Result<Roaring> CompareAll(const std::vector<Comparison>& all) const override {
    for (const Comparison& c : all) {
      if (c.literal.is_null()) return Roaring();
      if (!c.literal.is_string()) return TypeMismatch(c.literal);
    }
    if (all.size() == 1 && (all[0].op == CompareOp::kEq || all[0].op == CompareOp::kNe)) {
      // Plain (in)equality: a dictionary lookup, no sorted dictionary needed.
      auto it = lookup_.find(std::string_view(all[0].literal.as_string()));
      Roaring eq = it == lookup_.end() ? Roaring() : RowsOf(it->second);
      return all[0].op == CompareOp::kNe ? NonNull() - eq : eq;
    }
    EnsureIndexed();
    // Intersect the rank ranges [r0, r1) of the comparisons; kNe excludes codes.
    size_t r0 = 0, r1 = sorted_codes_.size();
    bool bounded = false;
    std::vector<uint32_t> excluded;
    for (const Comparison& c : all) {
      const std::string_view x = c.literal.as_string();
      if (c.op == CompareOp::kEq || c.op == CompareOp::kNe) {
        auto it = lookup_.find(x);
        if (c.op == CompareOp::kNe) {
          if (it != lookup_.end()) excluded.push_back(it->second);
          continue;
        }
        if (it == lookup_.end()) return Roaring();
        r0 = std::max<size_t>(r0, rank_[it->second]);
        r1 = std::min<size_t>(r1, rank_[it->second] + 1);
      } else {
        const size_t lb = LowerRank(x);
        const size_t ub = UpperRank(x);
        switch (c.op) {
          case CompareOp::kLt:
            r1 = std::min(r1, lb);
            break;
          case CompareOp::kLe:
            r1 = std::min(r1, ub);
            break;
          case CompareOp::kGt:
            r0 = std::max(r0, ub);
            break;
          default:  // kGe
            r0 = std::max(r0, lb);
            break;
        }
      }
      bounded = true;
    }
    Roaring r = bounded ? RankRange(r0, r1) : NonNull();
    for (uint32_t code : excluded) {
      if (r.isEmpty()) break;
      r -= RowsOf(code);
    }
    return r;
  }

  Result<Roaring> Match(const std::function<bool(std::string_view)>& match,
                        std::string_view required_prefix) const override {
    // Candidates: the values in use, or (with a prefix) those in the prefix's
    // rank range of the sorted dictionary.
    std::vector<uint32_t> candidates;
    if (required_prefix.empty()) {
      candidates.reserve(dict_.size());
      for (uint32_t code = 0; code < dict_.size(); ++code) candidates.push_back(code);
    } else {
      EnsureIndexed();
      for (size_t r = LowerRank(required_prefix);
           r < sorted_codes_.size() && std::string_view(dict_[sorted_codes_[r]]).starts_with(required_prefix);
           ++r) {
        candidates.push_back(sorted_codes_[r]);
      }
    }
    std::vector<uint32_t> matched, unmatched;
    uint64_t matched_rows = 0, unmatched_rows = 0;
    for (uint32_t code : candidates) {
      if (counts_[code] == 0) continue;
      if (match(dict_[code])) {
        matched.push_back(code);
        matched_rows += counts_[code];
      } else {
        unmatched.push_back(code);
        unmatched_rows += counts_[code];
      }
    }
    if (matched.empty()) return Roaring();
    if (postings_enabled_) {
      std::vector<const Roaring*> parts;
      for (uint32_t code : matched) parts.push_back(&postings_[code]);
      return Union(parts);
    }
    if (matched.size() == 1) return RowsOf(matched[0]);
    EnsureIndexed();
    // Without a prefix every non-NULL row is a candidate, so the cheaper side
    // can be built and the other derived from NonNull().
    const bool complement = required_prefix.empty() && matched_rows > unmatched_rows;
    std::vector<std::span<const uint32_t>> slices;
    for (uint32_t code : complement ? unmatched : matched) slices.push_back(Slice(rank_[code]));
    return complement ? NonNullExcept(slices, size_, nulls_) : BitmapFromIds(slices, size_);
  }

  void BuildIndexes() const override { EnsureIndexed(); }
  bool has_postings() const override { return postings_enabled_; }

  size_t MemoryUsage() const override {
    size_t bytes = codes_.capacity() * sizeof(uint32_t) + nulls_.getSizeInBytes() +
                   counts_.capacity() * sizeof(uint32_t) + postings_.capacity() * sizeof(Roaring);
    for (const std::string& s : dict_)
      bytes += sizeof(std::string) + (s.capacity() > 15 ? s.capacity() + 1 : 0);
    bytes += lookup_.size() * (sizeof(std::string_view) + sizeof(uint32_t) + 16) +
             lookup_.bucket_count() * sizeof(void*);
    for (const Roaring& p : postings_) bytes += p.getSizeInBytes();
    std::lock_guard<std::mutex> lock(mu_);
    return bytes + (sorted_codes_.capacity() + rank_.capacity() + offsets_.capacity() + ids_.capacity()) *
                       sizeof(uint32_t);
  }

 private:
  uint32_t Intern(const std::string& s) {
    auto it = lookup_.find(s);
    if (it != lookup_.end()) return it->second;
    const uint32_t code = static_cast<uint32_t>(dict_.size());
    dict_.push_back(s);  // a deque: earlier strings (and the views to them) stay put
    lookup_.emplace(dict_.back(), code);
    counts_.push_back(0);
    if (postings_enabled_) {
      if (dict_.size() > max_postings_) {
        postings_.clear();
        postings_.shrink_to_fit();
        postings_enabled_ = false;
      } else {
        postings_.emplace_back();
      }
    }
    return code;
  }

  void AddRow(uint32_t code, uint32_t id) {
    ++counts_[code];
    if (postings_enabled_) postings_[code].add(id);
  }

  // The first rank whose value is >= x (LowerRank) or > x (UpperRank).
  // REQUIRES: EnsureIndexed() ran since the last change.
  size_t LowerRank(std::string_view x) const {
    return static_cast<size_t>(std::lower_bound(sorted_codes_.begin(), sorted_codes_.end(), x,
                                                [this](uint32_t code, std::string_view v) {
                                                  return std::string_view(dict_[code]) < v;
                                                }) -
                               sorted_codes_.begin());
  }
  size_t UpperRank(std::string_view x) const {
    return static_cast<size_t>(std::upper_bound(sorted_codes_.begin(), sorted_codes_.end(), x,
                                                [this](std::string_view v, uint32_t code) {
                                                  return v < std::string_view(dict_[code]);
                                                }) -
                               sorted_codes_.begin());
  }

  // REQUIRES: EnsureIndexed() ran since the last change.
  std::span<const uint32_t> Slice(uint32_t rank) const {
    return std::span<const uint32_t>(ids_).subspan(offsets_[rank], offsets_[rank + 1] - offsets_[rank]);
  }

  // The ids holding `code`.
  Roaring RowsOf(uint32_t code) const {
    if (postings_enabled_) return postings_[code];
    EnsureIndexed();
    std::span<const uint32_t> s = Slice(rank_[code]);
    return Roaring(s.size(), s.data());
  }

  // The ids whose value has a rank in [r0, r1).
  Roaring RankRange(size_t r0, size_t r1) const {
    if (r0 >= r1) return Roaring();
    if (postings_enabled_ && r1 - r0 <= kMaxPostingsUnion) {
      std::vector<const Roaring*> parts;
      for (size_t r = r0; r < r1; ++r) parts.push_back(&postings_[sorted_codes_[r]]);
      return Union(parts);
    }
    return SliceBitmap(ids_, offsets_[r0], offsets_[r1], r1 - r0 == 1);
  }

  // Brings the sorted dictionary and the CSR id lists up to date. New
  // dictionary entries are sorted and merged in (O(d + new log new) string
  // comparisons); the id lists are rebuilt by a counting sort (O(rows + d)).
  void EnsureIndexed() const {
    if (!dirty_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (!dirty_.load(std::memory_order_relaxed)) return;
    const size_t d = dict_.size();
    auto by_value = [this](uint32_t a, uint32_t b) { return dict_[a] < dict_[b]; };
    if (sorted_codes_.size() < d) {
      const size_t old_d = sorted_codes_.size();
      for (size_t code = old_d; code < d; ++code) sorted_codes_.push_back(static_cast<uint32_t>(code));
      std::sort(sorted_codes_.begin() + static_cast<std::ptrdiff_t>(old_d), sorted_codes_.end(), by_value);
      std::inplace_merge(sorted_codes_.begin(), sorted_codes_.begin() + static_cast<std::ptrdiff_t>(old_d),
                         sorted_codes_.end(), by_value);
      rank_.resize(d);
      for (size_t r = 0; r < d; ++r) rank_[sorted_codes_[r]] = static_cast<uint32_t>(r);
    }
    offsets_.assign(d + 1, 0);
    for (size_t code = 0; code < d; ++code) offsets_[rank_[code] + 1] = counts_[code];
    for (size_t r = 0; r < d; ++r) offsets_[r + 1] += offsets_[r];
    ids_.resize(offsets_[d]);
    std::vector<uint32_t> cursor(offsets_.begin(), offsets_.end() - 1);
    for (uint32_t id = 0; id < size_; ++id) {
      const uint32_t code = codes_[id];
      if (code != kNullCode) ids_[cursor[rank_[code]]++] = id;
    }
    dirty_.store(false, std::memory_order_release);
  }

  std::vector<uint32_t> codes_;                            // per row; kNullCode for NULL
  std::deque<std::string> dict_;                           // code -> value
  std::unordered_map<std::string_view, uint32_t> lookup_;  // value -> code; views into dict_
  std::vector<uint32_t> counts_;                           // code -> rows holding it (deleted included)
  std::vector<Roaring> postings_;                          // code -> ids, while postings_enabled_
  bool postings_enabled_;

  // Built lazily under mu_ (see EnsureIndexed).
  mutable std::mutex mu_;
  mutable std::atomic<bool> dirty_{false};
  mutable std::vector<uint32_t> sorted_codes_;  // rank -> code, values ascending byte-wise
  mutable std::vector<uint32_t> rank_;          // code -> rank
  mutable std::vector<uint32_t> offsets_;       // rank -> start in ids_; size d + 1
  mutable std::vector<uint32_t> ids_;           // non-NULL ids grouped by rank, ascending within a rank
};

std::unique_ptr<AttributeColumn> MakeColumn(const Column& c, uint32_t max_postings) {
  switch (c.type.id) {
    case TypeId::kDouble:
      return std::make_unique<NumericColumn<double>>(c, max_postings);
    case TypeId::kString:
      return std::make_unique<StringColumn>(c, max_postings);
    default:
      return std::make_unique<NumericColumn<int64_t>>(c, max_postings);
  }
}

std::string ColumnList(const Schema& schema) {
  constexpr size_t kMaxListed = 20;
  std::string list;
  for (size_t i = 0; i < schema.columns.size() && i < kMaxListed; ++i) {
    if (i > 0) list += ", ";
    list += schema.columns[i].name;
  }
  if (schema.columns.size() > kMaxListed) {
    list += ", ... and " + std::to_string(schema.columns.size() - kMaxListed) + " more";
  }
  return list;
}

Status CheckAttributeColumn(const Column& c) {
  if (c.type.id == TypeId::kVector) {
    return StoreError(StatusCode::kInvalidArgument,
                      "column '" + c.name + "' is " + c.type.ToString() +
                          "; only BIGINT, DOUBLE, STRING, BOOLEAN, DATE and TIMESTAMP columns can be filter "
                          "attributes");
  }
  return Status::OK();
}

}  // namespace

Status AttributeStoreOptions::Validate() const {
  if (max_postings_values > kMaxPostingsValuesLimit) {
    return StoreError(StatusCode::kInvalidArgument,
                      "max_postings_values is " + std::to_string(max_postings_values) + "; the limit is " +
                          std::to_string(kMaxPostingsValuesLimit));
  }
  return Status::OK();
}

Result<Schema> AttributeSchema(const Schema& table, const std::vector<std::string>& columns_to_sync) {
  Schema out;
  for (const std::string& name : columns_to_sync) {
    const int index = table.FindColumn(name);
    if (index < 0) {
      return StoreError(
          StatusCode::kInvalidArgument,
          "unknown column '" + name + "' in columns_to_sync (columns: " + ColumnList(table) + ")");
    }
    const Column& c = table.columns[static_cast<size_t>(index)];
    VESTA_RETURN_IF_ERROR(CheckAttributeColumn(c));
    if (out.FindColumn(c.name) >= 0) {
      return StoreError(StatusCode::kInvalidArgument,
                        "column '" + c.name + "' is listed twice in columns_to_sync");
    }
    out.columns.push_back(c);
  }
  if (!table.primary_key.empty() && out.FindColumn(table.primary_key) >= 0)
    out.primary_key = table.primary_key;
  return out;
}

AttributeStore::AttributeStore(Schema schema, AttributeStoreOptions options)
    : schema_(std::move(schema)), options_(options) {
  columns_.reserve(schema_.columns.size());
  for (const Column& c : schema_.columns) columns_.push_back(MakeColumn(c, options_.max_postings_values));
}

AttributeStore::AttributeStore(AttributeStore&&) noexcept = default;
AttributeStore& AttributeStore::operator=(AttributeStore&&) noexcept = default;
AttributeStore::~AttributeStore() = default;

Result<AttributeStore> AttributeStore::Create(Schema schema, AttributeStoreOptions options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const Column& c = schema.columns[i];
    if (!IsValidIdentifier(c.name)) {
      return StoreError(StatusCode::kInvalidArgument, "invalid column name '" + c.name + "'");
    }
    VESTA_RETURN_IF_ERROR(CheckAttributeColumn(c));
    for (size_t j = 0; j < i; ++j) {
      if (EqualsIgnoreCase(schema.columns[j].name, c.name)) {
        return StoreError(StatusCode::kInvalidArgument, "duplicate column name '" + c.name + "'");
      }
    }
  }
  return AttributeStore(std::move(schema), options);
}

Result<AttributeStore> AttributeStore::Create(Schema schema, const std::vector<Row>& rows,
                                              AttributeStoreOptions options) {
  VESTA_ASSIGN_OR_RETURN(AttributeStore store, Create(std::move(schema), options));
  if (rows.size() > kMaxAttributeRows) {
    return StoreError(
        StatusCode::kResourceExhausted,
        std::to_string(rows.size()) + " rows; a store holds at most " + std::to_string(kMaxAttributeRows));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    Status st = store.schema_.ValidateRow(rows[i]);
    if (!st.ok()) return st.WithContext("attribute store: row " + std::to_string(i));
  }
  for (auto& c : store.columns_) c->Reserve(rows.size());
  for (const Row& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) store.columns_[c]->Append(row[c]);
  }
  store.size_ = static_cast<uint32_t>(rows.size());
  store.BuildIndexes();
  return store;
}

AttributeStore AttributeStore::Clone() const {
  AttributeStore copy(schema_, options_);
  copy.size_ = size_;
  copy.deleted_ = deleted_;
  for (size_t c = 0; c < columns_.size(); ++c) copy.columns_[c] = columns_[c]->Clone();
  return copy;
}

Result<uint32_t> AttributeStore::Append(const Row& row) {
  Status st = schema_.ValidateRow(row);
  if (!st.ok()) return st.WithContext("attribute store");
  if (size_ == kMaxAttributeRows) {
    return StoreError(StatusCode::kResourceExhausted,
                      "the store is full (" + std::to_string(size_) + " rows); compact the index");
  }
  for (size_t c = 0; c < row.size(); ++c) columns_[c]->Append(row[c]);
  return size_++;
}

Status AttributeStore::Set(uint32_t id, const Row& row) {
  if (id >= size_) {
    return StoreError(StatusCode::kNotFound, "row id " + std::to_string(id) + " does not exist (size " +
                                                 std::to_string(size_) + ")");
  }
  if (deleted_.contains(id)) {
    return StoreError(StatusCode::kFailedPrecondition, "row id " + std::to_string(id) + " is deleted");
  }
  Status st = schema_.ValidateRow(row);
  if (!st.ok()) return st.WithContext("attribute store");
  for (size_t c = 0; c < row.size(); ++c) columns_[c]->Set(id, row[c]);
  return Status::OK();
}

Status AttributeStore::Delete(uint32_t id) {
  if (id >= size_) {
    return StoreError(StatusCode::kNotFound, "row id " + std::to_string(id) + " does not exist (size " +
                                                 std::to_string(size_) + ")");
  }
  deleted_.add(id);
  return Status::OK();
}

Value AttributeStore::GetValue(uint32_t id, int column) const {
  assert(id < size_ && column >= 0 && static_cast<size_t>(column) < columns_.size());
  return columns_[static_cast<size_t>(column)]->Get(id);
}

Row AttributeStore::GetRow(uint32_t id) const {
  assert(id < size_);
  Row row;
  row.reserve(columns_.size());
  for (const auto& c : columns_) row.push_back(c->Get(id));
  return row;
}

Status AttributeStore::CheckColumn(int column) const {
  if (column < 0 || static_cast<size_t>(column) >= columns_.size()) {
    return StoreError(StatusCode::kInvalidArgument, "column index " + std::to_string(column) +
                                                        " out of range (" + std::to_string(columns_.size()) +
                                                        " columns)");
  }
  return Status::OK();
}

Result<Roaring> AttributeStore::NullIds(int column) const {
  VESTA_RETURN_IF_ERROR(CheckColumn(column));
  return columns_[static_cast<size_t>(column)]->nulls();
}

Result<Roaring> AttributeStore::CompareIds(int column, CompareOp op, const Value& literal) const {
  VESTA_RETURN_IF_ERROR(CheckColumn(column));
  if (literal.is_null()) return Roaring();
  return columns_[static_cast<size_t>(column)]->CompareAll({Comparison{op, literal}});
}

Result<Roaring> AttributeStore::CompareAllIds(int column, const std::vector<Comparison>& all) const {
  VESTA_RETURN_IF_ERROR(CheckColumn(column));
  return columns_[static_cast<size_t>(column)]->CompareAll(all);
}

Result<Roaring> AttributeStore::EqualAnyIds(int column, const std::vector<Value>& literals) const {
  VESTA_RETURN_IF_ERROR(CheckColumn(column));
  std::vector<Roaring> parts;
  parts.reserve(literals.size());
  for (const Value& v : literals) {
    if (v.is_null()) continue;
    VESTA_ASSIGN_OR_RETURN(
        Roaring r, columns_[static_cast<size_t>(column)]->CompareAll({Comparison{CompareOp::kEq, v}}));
    if (!r.isEmpty()) parts.push_back(std::move(r));
  }
  std::vector<const Roaring*> ptrs;
  ptrs.reserve(parts.size());
  for (const Roaring& r : parts) ptrs.push_back(&r);
  return Union(ptrs);
}

Result<Roaring> AttributeStore::StringMatchIds(int column, const std::function<bool(std::string_view)>& match,
                                               std::string_view required_prefix) const {
  VESTA_RETURN_IF_ERROR(CheckColumn(column));
  return columns_[static_cast<size_t>(column)]->Match(match, required_prefix);
}

void AttributeStore::BuildIndexes() const {
  for (const auto& c : columns_) c->BuildIndexes();
}

bool AttributeStore::HasPostings(int column) const {
  assert(column >= 0 && static_cast<size_t>(column) < columns_.size());
  return columns_[static_cast<size_t>(column)]->has_postings();
}

size_t AttributeStore::MemoryUsage() const {
  size_t bytes = deleted_.getSizeInBytes();
  for (const auto& c : columns_) bytes += c->MemoryUsage();
  return bytes;
}

}  // namespace vesta::index
