#include "governance/policies.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "filter/parser.h"
#include "governance/internal/crypto.h"
#include "governance/internal/sqlite.h"

namespace vesta::governance {
namespace {

using filter::Expr;
using filter::ExprKind;
using filter::Node;
using filter::Operand;
using filter::Truth;
using internal::Db;
using internal::Stmt;
using internal::TxnScope;
using json = nlohmann::json;

constexpr char kDdl[] = R"sql(
CREATE TABLE IF NOT EXISTS gov_secrets(
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_row_filters(
  table_key TEXT PRIMARY KEY,
  table_name TEXT NOT NULL,
  filter TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS gov_column_masks(
  table_key TEXT NOT NULL,
  column_key TEXT NOT NULL,
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  spec TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_us INTEGER NOT NULL,
  PRIMARY KEY(table_key, column_key));
CREATE TABLE IF NOT EXISTS gov_tags(
  table_key TEXT NOT NULL,
  column_key TEXT NOT NULL,
  key_norm TEXT NOT NULL,
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  tag_key TEXT NOT NULL,
  tag_value TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_us INTEGER NOT NULL,
  PRIMARY KEY(table_key, column_key, key_norm));
CREATE TABLE IF NOT EXISTS gov_tag_policies(
  name_key TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  tag_key_norm TEXT NOT NULL,
  tag_key TEXT NOT NULL,
  tag_value TEXT,
  spec TEXT,
  filter TEXT,
  created_by TEXT NOT NULL,
  created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS gov_policy_history(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts_us INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  table_key TEXT,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gov_policy_history_by_table ON gov_policy_history(table_key, id);
)sql";

constexpr char kMaskKeyName[] = "column_mask_hmac_key";
constexpr size_t kMaxTagKeyBytes = 255;
constexpr size_t kMaxTagValueBytes = 1000;
constexpr size_t kMaxGroupBytes = 255;

std::string TableKey(const TableName& t) {
  return AsciiLower(t.ToString());
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

Result<std::string> HexDecode(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return Status::Internal("corrupt secret: odd hex length");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return Status::Internal("corrupt secret: not hex");
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// --- Values and mask specs as JSON ---------------------------------------------

json ValueToJson(const Value& v) {
  if (v.is_null()) return nullptr;
  json j;
  j["type"] = std::string(v.TypeName());
  if (v.is_int()) j["value"] = v.as_int();
  if (v.is_double()) j["value"] = v.as_double();
  if (v.is_string()) j["value"] = v.as_string();
  if (v.is_bool()) j["value"] = v.as_bool();
  if (v.is_date()) {
    j["value"] = FormatDate(v.as_date());
  }
  if (v.is_timestamp()) {
    j["value"] = FormatTimestamp(v.as_timestamp());
    j["micros"] = v.as_timestamp().micros;
  }
  if (v.is_vector()) j["value"] = v.as_vector();
  return j;
}

Result<Value> ValueFromJson(const json& j) {
  if (j.is_null()) return Value();
  const std::string type = j.at("type").get<std::string>();
  const json& v = j.at("value");
  if (type == "BIGINT") return Value::Int(v.get<int64_t>());
  if (type == "DOUBLE") return Value::Real(v.get<double>());
  if (type == "STRING") return Value::Str(v.get<std::string>());
  if (type == "BOOLEAN") return Value::Bool(v.get<bool>());
  if (type == "DATE") return ParseValue(v.get<std::string>(), DataType::DateT());
  if (type == "TIMESTAMP") return Value::Ts(Timestamp{j.at("micros").get<int64_t>()});
  if (type == "VECTOR") return Value::Vec(v.get<std::vector<float>>());
  return Status::Internal("corrupt mask constant: unknown type '" + type + "'");
}

json MaskToJson(const MaskSpec& m) {
  json j;
  j["kind"] = std::string(MaskKindName(m.kind));
  if (m.kind == MaskSpec::kConstant) j["constant"] = ValueToJson(m.constant);
  if (m.kind == MaskSpec::kPartialReveal) j["reveal_last"] = m.reveal_last;
  j["exempt_groups"] = m.exempt_groups;
  return j;
}

Result<MaskSpec> MaskFromJson(const json& j) {
  MaskSpec m;
  const std::string kind = j.at("kind").get<std::string>();
  bool found = false;
  for (MaskSpec::Kind k : {MaskSpec::kNull, MaskSpec::kConstant, MaskSpec::kKeyedHash, MaskSpec::kPartialReveal}) {
    if (MaskKindName(k) == kind) {
      m.kind = k;
      found = true;
    }
  }
  if (!found) return Status::Internal("corrupt mask: unknown kind '" + kind + "'");
  if (j.contains("constant")) {
    VESTA_ASSIGN_OR_RETURN(m.constant, ValueFromJson(j.at("constant")));
  }
  if (j.contains("reveal_last")) m.reveal_last = j.at("reveal_last").get<int>();
  m.exempt_groups = j.at("exempt_groups").get<std::vector<std::string>>();
  return m;
}

Result<MaskSpec> MaskFromText(const std::string& text) {
  try {
    return MaskFromJson(json::parse(text));
  } catch (const json::exception& e) {
    return Status::Internal(std::string("corrupt column mask in the policy tables: ") + e.what());
  }
}

// --- Validation ------------------------------------------------------------------

// Checks what does not depend on a column; returns the spec normalised (no
// constant unless kConstant).
Result<MaskSpec> ValidateMask(const MaskSpec& in) {
  MaskSpec m = in;
  switch (m.kind) {
    case MaskSpec::kNull:
    case MaskSpec::kConstant:
    case MaskSpec::kKeyedHash:
    case MaskSpec::kPartialReveal:
      break;
    default:
      return Status::InvalidArgument("mask: unknown kind " + std::to_string(static_cast<int>(m.kind)));
  }
  if (m.kind != MaskSpec::kConstant) m.constant = Value();
  if (m.kind == MaskSpec::kPartialReveal && (m.reveal_last < 0 || m.reveal_last > MaskSpec::kMaxRevealLast)) {
    return Status::InvalidArgument("mask: reveal_last must be in 0.." + std::to_string(MaskSpec::kMaxRevealLast) +
                                   ", got " + std::to_string(m.reveal_last));
  }
  if (m.kind != MaskSpec::kPartialReveal) m.reveal_last = MaskSpec().reveal_last;
  if (m.constant.is_double() && !std::isfinite(m.constant.as_double())) {
    return Status::InvalidArgument("mask: constant " + m.constant.ToString() + " is not finite");
  }
  if (m.constant.is_string() && !IsValidUtf8(m.constant.as_string())) {
    return Status::InvalidArgument("mask: constant is not valid UTF-8");
  }
  for (const std::string& g : m.exempt_groups) {
    if (g.empty() || g.size() > kMaxGroupBytes || !IsValidUtf8(g)) {
      return Status::InvalidArgument("mask: exempt group name '" + g + "' must be 1.." +
                                     std::to_string(kMaxGroupBytes) + " bytes of UTF-8");
    }
  }
  std::sort(m.exempt_groups.begin(), m.exempt_groups.end());
  m.exempt_groups.erase(std::unique(m.exempt_groups.begin(), m.exempt_groups.end()), m.exempt_groups.end());
  return m;
}

// Why `m` cannot mask a column of type `t`; empty if it can.
std::string MaskMismatch(const MaskSpec& m, const DataType& t) {
  switch (m.kind) {
    case MaskSpec::kNull:
      return "";
    case MaskSpec::kConstant:
      if (m.constant.FitsType(t)) return "";
      return "constant " + m.constant.ToString() + " (" + std::string(m.constant.TypeName()) +
             ") does not fit the column type " + t.ToString();
    case MaskSpec::kKeyedHash:
    case MaskSpec::kPartialReveal:
      if (t.id == TypeId::kString) return "";
      return std::string(MaskKindName(m.kind)) + " masks apply to STRING columns only, the column is " +
             t.ToString();
  }
  return "unknown mask kind";
}

Status ValidateTagKey(const std::string& key) {
  if (key.empty() || key.size() > kMaxTagKeyBytes || !IsValidUtf8(key)) {
    return Status::InvalidArgument("tag key '" + key + "' must be 1.." + std::to_string(kMaxTagKeyBytes) +
                                   " bytes of UTF-8");
  }
  return Status::OK();
}

Status ValidateTagValue(const std::string& value) {
  if (value.size() > kMaxTagValueBytes || !IsValidUtf8(value)) {
    return Status::InvalidArgument("tag value must be at most " + std::to_string(kMaxTagValueBytes) +
                                   " bytes of UTF-8");
  }
  return Status::OK();
}

std::string ColumnList(const Schema& s) {
  std::string out;
  for (size_t i = 0; i < s.columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += s.columns[i].name;
  }
  return out;
}

Result<int> FindColumnOrError(const TableInfo& info, const std::string& column) {
  int idx = info.schema.FindColumn(column);
  if (idx < 0) {
    return Status::NotFound("column '" + column + "' is not in " + info.name.ToString() +
                            " (columns: " + ColumnList(info.schema) + ")");
  }
  return idx;
}

// --- Expression rewriting --------------------------------------------------------

Truth FromBool(bool b) {
  return b ? Truth::kTrue : Truth::kFalse;
}

bool IsConstant(const Expr& e, Truth t) {
  return e.kind() == ExprKind::kConstant && e.node().constant == t;
}

// AND / OR / NOT with constants folded; exact in three-valued logic.
Expr FoldAnd(const std::vector<Expr>& children) {
  std::vector<Expr> keep;
  for (const Expr& c : children) {
    if (IsConstant(c, Truth::kFalse)) return Expr::Constant(Truth::kFalse);
    if (IsConstant(c, Truth::kTrue)) continue;
    keep.push_back(c);
  }
  return Expr::And(std::move(keep));
}

Expr FoldOr(const std::vector<Expr>& children) {
  std::vector<Expr> keep;
  for (const Expr& c : children) {
    if (IsConstant(c, Truth::kTrue)) return Expr::Constant(Truth::kTrue);
    if (IsConstant(c, Truth::kFalse)) continue;
    keep.push_back(c);
  }
  return Expr::Or(std::move(keep));
}

Expr FoldNot(const Expr& child) {
  if (child.kind() == ExprKind::kConstant) {
    Truth t = child.node().constant;
    if (t == Truth::kUnknown) return child;
    return Expr::Constant(t == Truth::kTrue ? Truth::kFalse : Truth::kTrue);
  }
  return Expr::Not(child);
}

// Rebuilds `e` with every predicate (leaf) replaced by leaf(predicate),
// folding constants in AND / OR / NOT.
template <typename Leaf>
Expr RewriteLeaves(const Expr& e, const Leaf& leaf) {
  const Node& n = e.node();
  switch (n.kind) {
    case ExprKind::kConstant:
      return e;
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      std::vector<Expr> children;
      children.reserve(n.children.size());
      for (const Expr& c : n.children) children.push_back(RewriteLeaves(c, leaf));
      return n.kind == ExprKind::kAnd ? FoldAnd(children) : FoldOr(children);
    }
    case ExprKind::kNot:
      if (n.children.size() != 1) return e;  // malformed: left for Bind to report
      return FoldNot(RewriteLeaves(n.children[0], leaf));
    default:
      return leaf(e);
  }
}

// --- Partial reveal ----------------------------------------------------------------

std::string PartialReveal(const std::string& s, int reveal_last) {
  // Byte offsets where code points start (continuation bytes are 10xxxxxx).
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  const size_t n = starts.size();
  const auto keep = static_cast<size_t>(std::max(reveal_last, 0));
  if (n <= keep || keep == 0) return std::string(n, '*');
  return std::string(n - keep, '*') + s.substr(starts[n - keep]);
}

int MaskRank(MaskSpec::Kind k) {
  switch (k) {
    case MaskSpec::kNull: return 0;
    case MaskSpec::kConstant: return 1;
    case MaskSpec::kKeyedHash: return 2;
    case MaskSpec::kPartialReveal: return 3;
  }
  return 0;
}

}  // namespace

std::string_view MaskKindName(MaskSpec::Kind kind) {
  switch (kind) {
    case MaskSpec::kNull: return "NULL";
    case MaskSpec::kConstant: return "CONSTANT";
    case MaskSpec::kKeyedHash: return "KEYED_HASH";
    case MaskSpec::kPartialReveal: return "PARTIAL_REVEAL";
  }
  return "UNKNOWN";
}

// --- ColumnMask / EffectivePolicy --------------------------------------------------

Value ColumnMask::Apply(const Value& v) const {
  if (v.is_null()) return v;
  switch (kind_) {
    case MaskSpec::kNull:
      return Value();
    case MaskSpec::kConstant:
      return constant_;
    case MaskSpec::kKeyedHash:
      if (!v.is_string() || !key_) return Value();
      return Value::Str(internal::HexEncode(internal::HmacSha256(*key_, v.as_string())));
    case MaskSpec::kPartialReveal:
      if (!v.is_string()) return Value();
      return Value::Str(PartialReveal(v.as_string(), reveal_last_));
  }
  return Value();
}

bool EffectivePolicy::has_masks() const {
  return std::any_of(masks.begin(), masks.end(), [](const auto& m) { return m.has_value(); });
}

void EffectivePolicy::ApplyMasks(Row* row) const {
  const size_t n = std::min(row->size(), masks.size());
  for (size_t i = 0; i < n; ++i) {
    if (masks[i]) (*row)[i] = masks[i]->Apply((*row)[i]);
  }
}

// --- Rewrites ------------------------------------------------------------------------

filter::Expr ResolveCallerFunctions(const filter::Expr& expr, const filter::EvalContext& caller) {
  const Value user = caller.current_user.empty() ? Value() : Value::Str(caller.current_user);
  return RewriteLeaves(expr, [&](const Expr& e) -> Expr {
    const Node& n = e.node();
    if (n.kind == ExprKind::kIsMember) {
      return Expr::Constant(FromBool(caller.is_member && caller.is_member(n.group)));
    }
    if (n.subject.is_current_user()) {
      // No column can occur in it (a column would be the subject): its value
      // is fixed for this caller.
      Result<filter::BoundExpr> b = filter::Bind(e, Schema{});
      if (!b.ok()) return e;
      return Expr::Constant(filter::Evaluate(*b, Row{}, caller));
    }
    bool has_user = std::any_of(n.values.begin(), n.values.end(), [](const Operand& o) { return o.is_current_user(); });
    if (!has_user) return e;
    Node out = n;
    for (Operand& o : out.values) {
      if (o.is_current_user()) o = Operand::Literal(user);
    }
    return filter::MakeExpr(std::move(out));
  });
}

Result<filter::BoundExpr> RewriteFilterForMasks(const filter::BoundExpr& user_filter, const EffectivePolicy& policy) {
  const Schema& schema = policy.schema;
  if (user_filter.column_count() != schema.columns.size() || policy.masks.size() != schema.columns.size()) {
    return Status::InvalidArgument("filter bound against " + std::to_string(user_filter.column_count()) +
                                   " columns, but the policy of " + policy.table.ToString() + " has " +
                                   std::to_string(schema.columns.size()));
  }
  filter::EvalContext ctx;
  ctx.current_user = policy.caller_user;
  Status error;
  Expr rewritten = RewriteLeaves(user_filter.expr(), [&](const Expr& e) -> Expr {
    const Node& n = e.node();
    if (!n.subject.is_column()) return e;
    const int idx = n.subject.column_index;
    if (idx < 0 || static_cast<size_t>(idx) >= policy.masks.size()) return e;
    const std::optional<ColumnMask>& mask = policy.masks[static_cast<size_t>(idx)];
    if (!mask || (mask->kind() != MaskSpec::kNull && mask->kind() != MaskSpec::kConstant)) return e;
    // The predicate reads only this column (no column-to-column
    // comparisons), so its value on the masked column is one of two
    // constants: on NULL (a NULL raw value, or any value under kNull) and on
    // the mask's constant.
    Result<filter::BoundExpr> b = filter::Bind(e, schema);
    if (!b.ok()) {
      if (error.ok()) error = b.status();
      return e;
    }
    Row row(schema.columns.size());
    const Truth on_null = filter::Evaluate(*b, row, ctx);
    if (mask->kind() == MaskSpec::kNull || mask->constant().is_null()) return Expr::Constant(on_null);
    row[static_cast<size_t>(idx)] = mask->constant();
    const Truth on_constant = filter::Evaluate(*b, row, ctx);
    if (on_constant == on_null) return Expr::Constant(on_null);
    const Operand& column = n.subject;
    return FoldOr({FoldAnd({Expr::IsNull(column), Expr::Constant(on_null)}),
                   FoldAnd({Expr::IsNull(column, /*negated=*/true), Expr::Constant(on_constant)})});
  });
  VESTA_RETURN_IF_ERROR(error);
  return filter::Bind(rewritten, schema);
}

bool NeedsMaskedRowEvaluation(const filter::BoundExpr& filter, const EffectivePolicy& policy) {
  for (int c : filter.ReferencedColumns()) {
    if (std::binary_search(policy.masked_eval_columns.begin(), policy.masked_eval_columns.end(), c)) return true;
  }
  return false;
}

// --- Policies ------------------------------------------------------------------------

struct Policies::Impl {
  Store* store = nullptr;
  std::mutex mu;  // guards db
  std::unique_ptr<Db> db;
  std::shared_ptr<const std::string> mask_key;

  Status AppendHistory(const std::string& actor, const std::string& action, const std::string& object,
                       const std::optional<std::string>& table_key, const json& before, const json& after) {
    VESTA_ASSIGN_OR_RETURN(
        Stmt s, db->Prepare("INSERT INTO gov_policy_history(ts_us, actor, action, object, table_key, before_json, "
                            "after_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    s.BindInt(1, NowTimestamp().micros).BindText(2, actor).BindText(3, action).BindText(4, object);
    if (table_key) {
      s.BindText(5, *table_key);
    } else {
      s.BindNull(5);
    }
    const std::string b = Dump(before);
    const std::string a = Dump(after);
    s.BindText(6, b).BindText(7, a);
    return s.Run();
  }

  // Runs `fn` inside an IMMEDIATE transaction under the lock; commits if it
  // returns OK.
  template <typename F>
  Status Write(F fn) {
    std::lock_guard<std::mutex> l(mu);
    TxnScope txn(db.get(), true);
    VESTA_RETURN_IF_ERROR(txn.Begin());
    VESTA_RETURN_IF_ERROR(fn(*db));
    return txn.Commit();
  }
};

Policies::~Policies() = default;

Result<std::unique_ptr<Policies>> Policies::Open(Store& store) {
  std::unique_ptr<Policies> p(new Policies());
  p->impl_ = std::make_unique<Impl>();
  Impl& impl = *p->impl_;
  impl.store = &store;
  VESTA_ASSIGN_OR_RETURN(impl.db, internal::OpenStoreConnection(store.path(), kDdl, "policies"));
  std::string key_hex;
  Status st = impl.Write([&](Db& db) -> Status {
    VESTA_ASSIGN_OR_RETURN(Stmt sel, db.Prepare("SELECT value FROM gov_secrets WHERE name = ?1"));
    sel.BindText(1, kMaskKeyName);
    VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
    if (found) {
      key_hex = sel.Text(0);
      return Status::OK();
    }
    VESTA_ASSIGN_OR_RETURN(std::string key, internal::RandomBytes(32));
    key_hex = internal::HexEncode(key);
    VESTA_ASSIGN_OR_RETURN(Stmt ins, db.Prepare("INSERT INTO gov_secrets(name, value) VALUES(?1, ?2)"));
    ins.BindText(1, kMaskKeyName).BindText(2, key_hex);
    return ins.Run();
  });
  VESTA_RETURN_IF_ERROR(st.WithContext("opening policies of '" + store.path() + "'"));
  VESTA_ASSIGN_OR_RETURN(std::string key, HexDecode(key_hex));
  if (key.size() != 32) return Status::Internal("corrupt column mask key in '" + store.path() + "'");
  impl.mask_key = std::make_shared<const std::string>(std::move(key));
  return p;
}

// --- Row filters -----------------------------------------------------------------------

Status Policies::SetRowFilter(const TableName& table, const std::string& filter_string, const std::string& by) {
  VESTA_ASSIGN_OR_RETURN(TableInfo info, impl_->store->DescribeTable(table));
  const std::string name = info.name.ToString();
  const std::string what = "row filter for " + name;
  Result<Expr> parsed = filter::ParseFilterString(filter_string);
  if (!parsed.ok()) return Status::InvalidArgument(what + ": " + parsed.status().message());
  Result<filter::BoundExpr> bound = filter::Bind(*parsed, info.schema);
  if (!bound.ok()) return Status::InvalidArgument(what + ": " + bound.status().message());
  const std::string key = TableKey(table);
  return impl_->Write([&](Db& db) -> Status {
    json before = nullptr;
    VESTA_ASSIGN_OR_RETURN(Stmt sel, db.Prepare("SELECT filter FROM gov_row_filters WHERE table_key = ?1"));
    sel.BindText(1, key);
    VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
    if (found) before = json{{"filter", sel.Text(0)}};
    VESTA_ASSIGN_OR_RETURN(Stmt up, db.Prepare("INSERT OR REPLACE INTO gov_row_filters(table_key, table_name, "
                                               "filter, set_by, set_us) VALUES(?1, ?2, ?3, ?4, ?5)"));
    up.BindText(1, key).BindText(2, name).BindText(3, filter_string).BindText(4, by).BindInt(
        5, NowTimestamp().micros);
    VESTA_RETURN_IF_ERROR(up.Run());
    return impl_->AppendHistory(by, "SET ROW FILTER", name, key, before, json{{"filter", filter_string}});
  });
}

Status Policies::DropRowFilter(const TableName& table, const std::string& by) {
  const std::string key = TableKey(table);
  return impl_->Write([&](Db& db) -> Status {
    VESTA_ASSIGN_OR_RETURN(Stmt sel,
                           db.Prepare("SELECT filter, table_name FROM gov_row_filters WHERE table_key = ?1"));
    sel.BindText(1, key);
    VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
    if (!found) return Status::NotFound(table.ToString() + " has no row filter");
    const std::string filter_text = sel.Text(0);
    const std::string name = sel.Text(1);
    VESTA_ASSIGN_OR_RETURN(Stmt del, db.Prepare("DELETE FROM gov_row_filters WHERE table_key = ?1"));
    del.BindText(1, key);
    VESTA_RETURN_IF_ERROR(del.Run());
    return impl_->AppendHistory(by, "DROP ROW FILTER", name, key, json{{"filter", filter_text}}, nullptr);
  });
}

Result<std::optional<std::string>> Policies::RowFilterOf(const TableName& table) {
  std::lock_guard<std::mutex> l(impl_->mu);
  VESTA_ASSIGN_OR_RETURN(Stmt sel, impl_->db->Prepare("SELECT filter FROM gov_row_filters WHERE table_key = ?1"));
  sel.BindText(1, TableKey(table));
  VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(sel.Text(0));
}

// --- Column masks ------------------------------------------------------------------------

Status Policies::SetColumnMask(const TableName& table, const std::string& column, const MaskSpec& mask,
                               const std::string& by) {
  VESTA_ASSIGN_OR_RETURN(TableInfo info, impl_->store->DescribeTable(table));
  VESTA_ASSIGN_OR_RETURN(int idx, FindColumnOrError(info, column));
  const Column& col = info.schema.columns[static_cast<size_t>(idx)];
  const std::string object = info.name.ToString() + "." + col.name;
  Result<MaskSpec> valid = ValidateMask(mask);
  if (!valid.ok()) return Status::InvalidArgument("column mask for " + object + ": " + valid.status().message());
  std::string why = MaskMismatch(*valid, col.type);
  if (!why.empty()) return Status::InvalidArgument("column mask for " + object + ": " + why);
  const std::string key = TableKey(table);
  const std::string column_key = AsciiLower(col.name);
  const json after = MaskToJson(*valid);
  return impl_->Write([&](Db& db) -> Status {
    json before = nullptr;
    VESTA_ASSIGN_OR_RETURN(
        Stmt sel, db.Prepare("SELECT spec FROM gov_column_masks WHERE table_key = ?1 AND column_key = ?2"));
    sel.BindText(1, key).BindText(2, column_key);
    VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
    if (found) {
      try {
        before = json::parse(sel.Text(0));
      } catch (const json::exception&) {
        before = sel.Text(0);
      }
    }
    VESTA_ASSIGN_OR_RETURN(Stmt up, db.Prepare("INSERT OR REPLACE INTO gov_column_masks(table_key, column_key, "
                                               "table_name, column_name, spec, set_by, set_us) "
                                               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    const std::string spec_text = Dump(after);
    up.BindText(1, key).BindText(2, column_key).BindText(3, info.name.ToString()).BindText(4, col.name);
    up.BindText(5, spec_text).BindText(6, by).BindInt(7, NowTimestamp().micros);
    VESTA_RETURN_IF_ERROR(up.Run());
    return impl_->AppendHistory(by, "SET COLUMN MASK", object, key, before, after);
  });
}

Status Policies::DropColumnMask(const TableName& table, const std::string& column, const std::string& by) {
  const std::string key = TableKey(table);
  const std::string column_key = AsciiLower(column);
  return impl_->Write([&](Db& db) -> Status {
    VESTA_ASSIGN_OR_RETURN(Stmt sel, db.Prepare("SELECT spec, table_name, column_name FROM gov_column_masks "
                                                "WHERE table_key = ?1 AND column_key = ?2"));
    sel.BindText(1, key).BindText(2, column_key);
    VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
    if (!found) return Status::NotFound("column '" + column + "' of " + table.ToString() + " has no mask");
    json before;
    try {
      before = json::parse(sel.Text(0));
    } catch (const json::exception&) {
      before = sel.Text(0);
    }
    const std::string object = sel.Text(1) + "." + sel.Text(2);
    VESTA_ASSIGN_OR_RETURN(Stmt del,
                           db.Prepare("DELETE FROM gov_column_masks WHERE table_key = ?1 AND column_key = ?2"));
    del.BindText(1, key).BindText(2, column_key);
    VESTA_RETURN_IF_ERROR(del.Run());
    return impl_->AppendHistory(by, "DROP COLUMN MASK", object, key, before, nullptr);
  });
}

Result<std::vector<std::pair<std::string, MaskSpec>>> Policies::ColumnMasksOf(const TableName& table) {
  std::lock_guard<std::mutex> l(impl_->mu);
  VESTA_ASSIGN_OR_RETURN(Stmt sel, impl_->db->Prepare("SELECT column_name, spec FROM gov_column_masks "
                                                      "WHERE table_key = ?1 ORDER BY column_key"));
  sel.BindText(1, TableKey(table));
  std::vector<std::pair<std::string, MaskSpec>> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    VESTA_ASSIGN_OR_RETURN(MaskSpec spec, MaskFromText(sel.Text(1)));
    out.emplace_back(sel.Text(0), std::move(spec));
  }
  return out;
}

// --- Tags -----------------------------------------------------------------------------------

Status Policies::SetTag(const TableName& table, const std::optional<std::string>& column, const std::string& key,
                        const std::string& value, const std::string& by) {
  VESTA_RETURN_IF_ERROR(ValidateTagKey(key));
  VESTA_RETURN_IF_ERROR(ValidateTagValue(value));
  VESTA_ASSIGN_OR_RETURN(TableInfo info, impl_->store->DescribeTable(table));
  std::string column_name;
  if (column) {
    VESTA_ASSIGN_OR_RETURN(int idx, FindColumnOrError(info, *column));
    column_name = info.schema.columns[static_cast<size_t>(idx)].name;
  }
  const std::string tkey = TableKey(table);
  const std::string ckey = AsciiLower(column_name);
  const std::string object = info.name.ToString() + (column ? "." + column_name : "");
  return impl_->Write([&](Db& db) -> Status {
    json before = nullptr;
    VESTA_ASSIGN_OR_RETURN(Stmt sel, db.Prepare("SELECT tag_key, tag_value FROM gov_tags WHERE table_key = ?1 "
                                                "AND column_key = ?2 AND key_norm = ?3"));
    sel.BindText(1, tkey).BindText(2, ckey).BindText(3, AsciiLower(key));
    VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
    if (found) before = json{{"key", sel.Text(0)}, {"value", sel.Text(1)}};
    VESTA_ASSIGN_OR_RETURN(Stmt up, db.Prepare("INSERT OR REPLACE INTO gov_tags(table_key, column_key, key_norm, "
                                               "table_name, column_name, tag_key, tag_value, set_by, set_us) "
                                               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    const std::string norm = AsciiLower(key);
    const std::string tname = info.name.ToString();
    up.BindText(1, tkey).BindText(2, ckey).BindText(3, norm).BindText(4, tname).BindText(5, column_name);
    up.BindText(6, key).BindText(7, value).BindText(8, by).BindInt(9, NowTimestamp().micros);
    VESTA_RETURN_IF_ERROR(up.Run());
    return impl_->AppendHistory(by, "SET TAG", object, tkey, before, json{{"key", key}, {"value", value}});
  });
}

Status Policies::UnsetTag(const TableName& table, const std::optional<std::string>& column, const std::string& key,
                          const std::string& by) {
  const std::string tkey = TableKey(table);
  const std::string ckey = column ? AsciiLower(*column) : std::string();
  return impl_->Write([&](Db& db) -> Status {
    VESTA_ASSIGN_OR_RETURN(Stmt sel, db.Prepare("SELECT tag_key, tag_value, table_name, column_name FROM gov_tags "
                                                "WHERE table_key = ?1 AND column_key = ?2 AND key_norm = ?3"));
    sel.BindText(1, tkey).BindText(2, ckey).BindText(3, AsciiLower(key));
    VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
    if (!found) {
      return Status::NotFound(table.ToString() + (column ? "." + *column : "") + " has no tag '" + key + "'");
    }
    const json before{{"key", sel.Text(0)}, {"value", sel.Text(1)}};
    const std::string object = sel.Text(2) + (column ? "." + sel.Text(3) : "");
    VESTA_ASSIGN_OR_RETURN(
        Stmt del, db.Prepare("DELETE FROM gov_tags WHERE table_key = ?1 AND column_key = ?2 AND key_norm = ?3"));
    del.BindText(1, tkey).BindText(2, ckey).BindText(3, AsciiLower(key));
    VESTA_RETURN_IF_ERROR(del.Run());
    return impl_->AppendHistory(by, "UNSET TAG", object, tkey, before, nullptr);
  });
}

Result<std::vector<Tag>> Policies::TagsOf(const TableName& table) {
  std::lock_guard<std::mutex> l(impl_->mu);
  VESTA_ASSIGN_OR_RETURN(Stmt sel, impl_->db->Prepare("SELECT column_key, column_name, tag_key, tag_value "
                                                      "FROM gov_tags WHERE table_key = ?1 "
                                                      "ORDER BY column_key, key_norm"));
  sel.BindText(1, TableKey(table));
  std::vector<Tag> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    Tag t;
    if (!sel.Text(0).empty()) t.column = sel.Text(1);
    t.key = sel.Text(2);
    t.value = sel.Text(3);
    out.push_back(std::move(t));
  }
  return out;
}

// --- Tag policies ---------------------------------------------------------------------------

namespace {

Status ValidatePolicyName(const std::string& name) {
  if (!IsValidIdentifier(name)) {
    return Status::InvalidArgument("tag policy name '" + name +
                                   "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 128 bytes)");
  }
  return Status::OK();
}

json TagPolicyJson(const TagPolicy& p) {
  json j;
  j["name"] = p.name;
  j["kind"] = p.kind == TagPolicy::Kind::kMask ? "MASK" : "ROW_FILTER";
  j["tag_key"] = p.tag_key;
  j["tag_value"] = p.tag_value ? json(*p.tag_value) : json(nullptr);
  if (p.kind == TagPolicy::Kind::kMask) {
    j["mask"] = MaskToJson(p.mask);
  } else {
    j["filter"] = p.filter;
  }
  return j;
}

}  // namespace

// Inserts `p` (validated) as a new tag policy.
static Status InsertTagPolicy(Policies::Impl& impl, const TagPolicy& p) {
  return impl.Write([&](Db& db) -> Status {
    VESTA_ASSIGN_OR_RETURN(Stmt sel, db.Prepare("SELECT name FROM gov_tag_policies WHERE name_key = ?1"));
    sel.BindText(1, AsciiLower(p.name));
    VESTA_ASSIGN_OR_RETURN(bool found, sel.Step());
    if (found) return Status::AlreadyExists("tag policy '" + sel.Text(0) + "' already exists");
    VESTA_ASSIGN_OR_RETURN(Stmt ins, db.Prepare("INSERT INTO gov_tag_policies(name_key, name, kind, tag_key_norm, "
                                                "tag_key, tag_value, spec, filter, created_by, created_us) "
                                                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    const std::string name_key = AsciiLower(p.name);
    const std::string kind = p.kind == TagPolicy::Kind::kMask ? "MASK" : "ROW_FILTER";
    const std::string key_norm = AsciiLower(p.tag_key);
    const std::string spec = p.kind == TagPolicy::Kind::kMask ? Dump(MaskToJson(p.mask)) : std::string();
    ins.BindText(1, name_key).BindText(2, p.name).BindText(3, kind).BindText(4, key_norm).BindText(5, p.tag_key);
    if (p.tag_value) {
      ins.BindText(6, *p.tag_value);
    } else {
      ins.BindNull(6);
    }
    if (p.kind == TagPolicy::Kind::kMask) {
      ins.BindText(7, spec).BindNull(8);
    } else {
      ins.BindNull(7).BindText(8, p.filter);
    }
    ins.BindText(9, p.created_by).BindInt(10, p.created_at.micros);
    VESTA_RETURN_IF_ERROR(ins.Run());
    return impl.AppendHistory(p.created_by, "ADD TAG POLICY", "tag_policy:" + p.name, std::nullopt, nullptr,
                              TagPolicyJson(p));
  });
}

Status Policies::AddTagMaskPolicy(const std::string& name, const std::string& tag_key,
                                  const std::optional<std::string>& tag_value, const MaskSpec& mask,
                                  const std::string& by) {
  VESTA_RETURN_IF_ERROR(ValidatePolicyName(name));
  VESTA_RETURN_IF_ERROR(ValidateTagKey(tag_key));
  if (tag_value) VESTA_RETURN_IF_ERROR(ValidateTagValue(*tag_value));
  Result<MaskSpec> valid = ValidateMask(mask);
  if (!valid.ok()) return Status::InvalidArgument("tag policy '" + name + "': " + valid.status().message());
  TagPolicy p;
  p.name = name;
  p.kind = TagPolicy::Kind::kMask;
  p.tag_key = tag_key;
  p.tag_value = tag_value;
  p.mask = *valid;
  p.created_by = by;
  p.created_at = NowTimestamp();
  return InsertTagPolicy(*impl_, p);
}

Status Policies::AddTagRowFilterPolicy(const std::string& name, const std::string& tag_key,
                                       const std::optional<std::string>& tag_value, const std::string& filter_string,
                                       const std::string& by) {
  VESTA_RETURN_IF_ERROR(ValidatePolicyName(name));
  VESTA_RETURN_IF_ERROR(ValidateTagKey(tag_key));
  if (tag_value) VESTA_RETURN_IF_ERROR(ValidateTagValue(*tag_value));
  Result<Expr> parsed = filter::ParseFilterString(filter_string);
  if (!parsed.ok()) return Status::InvalidArgument("tag policy '" + name + "': " + parsed.status().message());
  TagPolicy p;
  p.name = name;
  p.kind = TagPolicy::Kind::kRowFilter;
  p.tag_key = tag_key;
  p.tag_value = tag_value;
  p.filter = filter_string;
  p.created_by = by;
  p.created_at = NowTimestamp();
  return InsertTagPolicy(*impl_, p);
}

namespace {

Result<std::vector<TagPolicy>> LoadTagPolicies(Db& db) {
  VESTA_ASSIGN_OR_RETURN(Stmt sel, db.Prepare("SELECT name, kind, tag_key, tag_value, spec, filter, created_by, "
                                              "created_us FROM gov_tag_policies ORDER BY name_key"));
  std::vector<TagPolicy> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    TagPolicy p;
    p.name = sel.Text(0);
    p.kind = sel.Text(1) == "MASK" ? TagPolicy::Kind::kMask : TagPolicy::Kind::kRowFilter;
    p.tag_key = sel.Text(2);
    if (!sel.IsNull(3)) p.tag_value = sel.Text(3);
    if (p.kind == TagPolicy::Kind::kMask) {
      VESTA_ASSIGN_OR_RETURN(p.mask, MaskFromText(sel.Text(4)));
    } else {
      p.filter = sel.Text(5);
    }
    p.created_by = sel.Text(6);
    p.created_at = Timestamp{sel.Int(7)};
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

Status Policies::DropTagPolicy(const std::string& name, const std::string& by) {
  return impl_->Write([&](Db& db) -> Status {
    VESTA_ASSIGN_OR_RETURN(std::vector<TagPolicy> all, LoadTagPolicies(db));
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const TagPolicy& p) { return AsciiLower(p.name) == AsciiLower(name); });
    if (it == all.end()) return Status::NotFound("tag policy '" + name + "' does not exist");
    VESTA_ASSIGN_OR_RETURN(Stmt del, db.Prepare("DELETE FROM gov_tag_policies WHERE name_key = ?1"));
    del.BindText(1, AsciiLower(name));
    VESTA_RETURN_IF_ERROR(del.Run());
    return impl_->AppendHistory(by, "DROP TAG POLICY", "tag_policy:" + it->name, std::nullopt, TagPolicyJson(*it),
                                nullptr);
  });
}

Result<std::vector<TagPolicy>> Policies::ListTagPolicies() {
  std::lock_guard<std::mutex> l(impl_->mu);
  return LoadTagPolicies(*impl_->db);
}

// --- History ------------------------------------------------------------------------------------

Result<std::vector<PolicyChange>> Policies::History(int64_t limit, const std::optional<TableName>& table) {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::string sql =
      "SELECT id, ts_us, actor, action, object, table_key, before_json, after_json FROM gov_policy_history";
  if (table) sql += " WHERE table_key = ?2";
  sql += " ORDER BY id DESC LIMIT ?1";
  VESTA_ASSIGN_OR_RETURN(Stmt sel, impl_->db->Prepare(sql));
  sel.BindInt(1, limit < 0 ? -1 : limit);
  if (table) sel.BindText(2, TableKey(*table));
  std::vector<PolicyChange> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) break;
    PolicyChange c;
    c.id = sel.Int(0);
    c.time = Timestamp{sel.Int(1)};
    c.actor = sel.Text(2);
    c.action = sel.Text(3);
    c.object = sel.Text(4);
    c.table = sel.IsNull(5) ? std::string() : sel.Text(5);
    c.before_json = sel.Text(6);
    c.after_json = sel.Text(7);
    out.push_back(std::move(c));
  }
  return out;
}

// --- Resolution ---------------------------------------------------------------------------------

Result<EffectivePolicy> Policies::Resolve(const TableName& table, const Schema& schema,
                                          const filter::EvalContext& caller) {
  const std::string tkey = TableKey(table);
  const std::string tname = table.ToString();

  // One consistent snapshot of everything that applies.
  std::optional<std::string> direct_filter;
  std::vector<std::pair<std::string, MaskSpec>> direct_masks;  // column_key -> spec
  struct StoredTag {
    std::string column_key;
    std::string key_norm;
    std::string value;
  };
  std::vector<StoredTag> tags;
  std::vector<TagPolicy> tag_policies;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    Db& db = *impl_->db;
    TxnScope txn(&db, false);
    VESTA_RETURN_IF_ERROR(txn.Begin());
    {
      VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare("SELECT filter FROM gov_row_filters WHERE table_key = ?1"));
      s.BindText(1, tkey);
      VESTA_ASSIGN_OR_RETURN(bool found, s.Step());
      if (found) direct_filter = s.Text(0);
    }
    {
      VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare("SELECT column_key, spec FROM gov_column_masks WHERE table_key = ?1"));
      s.BindText(1, tkey);
      while (true) {
        VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        VESTA_ASSIGN_OR_RETURN(MaskSpec spec, MaskFromText(s.Text(1)));
        direct_masks.emplace_back(s.Text(0), std::move(spec));
      }
    }
    {
      VESTA_ASSIGN_OR_RETURN(Stmt s,
                             db.Prepare("SELECT column_key, key_norm, tag_value FROM gov_tags WHERE table_key = ?1"));
      s.BindText(1, tkey);
      while (true) {
        VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        tags.push_back({s.Text(0), s.Text(1), s.Text(2)});
      }
    }
    VESTA_ASSIGN_OR_RETURN(tag_policies, LoadTagPolicies(db));
  }

  auto is_member = [&](const std::string& g) { return caller.is_member && caller.is_member(g); };
  auto exempt = [&](const MaskSpec& m) { return std::any_of(m.exempt_groups.begin(), m.exempt_groups.end(), is_member); };
  auto tagged = [&](const std::string& column_key, const TagPolicy& p) {
    const std::string norm = AsciiLower(p.tag_key);
    return std::any_of(tags.begin(), tags.end(), [&](const StoredTag& t) {
      return t.column_key == column_key && t.key_norm == norm && (!p.tag_value || *p.tag_value == t.value);
    });
  };

  EffectivePolicy ep;
  ep.table = table;
  ep.schema = schema;
  ep.caller_user = caller.current_user;
  ep.masks.resize(schema.columns.size());

  // Row filters: the table's own and every matching tag policy, ANDed.
  std::vector<Expr> parts;
  auto add_filter = [&](const std::string& text, const std::string& policy, const std::string& what) -> Status {
    Result<Expr> parsed = filter::ParseFilterString(text);
    if (!parsed.ok()) return Status::FailedPrecondition(what + ": " + parsed.status().message());
    Result<filter::BoundExpr> bound = filter::Bind(*parsed, schema);
    if (!bound.ok()) return Status::FailedPrecondition(what + ": " + bound.status().message());
    parts.push_back(bound->expr());
    ep.applied.push_back(policy);
    return Status::OK();
  };
  if (direct_filter) {
    VESTA_RETURN_IF_ERROR(add_filter(*direct_filter, "row_filter:" + tname,
                                     "the row filter of " + tname + " does not fit the schema read"));
  }
  for (const TagPolicy& p : tag_policies) {
    if (p.kind != TagPolicy::Kind::kRowFilter || !tagged("", p)) continue;
    VESTA_RETURN_IF_ERROR(
        add_filter(p.filter, "tag_policy:" + p.name, "tag policy '" + p.name + "' cannot be applied to " + tname));
  }
  if (!parts.empty()) {
    Expr resolved = ResolveCallerFunctions(Expr::And(parts), caller);
    if (!IsConstant(resolved, Truth::kTrue)) {
      Result<filter::BoundExpr> bound = filter::Bind(resolved, schema);
      if (!bound.ok()) {
        return Status::FailedPrecondition("row filters of " + tname + " cannot be resolved for '" +
                                          caller.current_user + "': " + bound.status().message());
      }
      ep.row_filter = std::move(bound).value();
    }
  }

  // Masks: a direct mask wins; else the most restrictive matching tag policy
  // the caller is not exempt from.
  auto make_mask = [&](const MaskSpec& spec, const Column& col, std::string policy) {
    ColumnMask m;
    m.policy_ = std::move(policy);
    if (!MaskMismatch(spec, col.type).empty()) {
      m.kind_ = MaskSpec::kNull;  // does not fit this column: the safe fallback
      return m;
    }
    m.kind_ = spec.kind;
    m.constant_ = spec.constant;
    m.reveal_last_ = spec.reveal_last;
    if (spec.kind == MaskSpec::kKeyedHash) m.key_ = impl_->mask_key;
    return m;
  };
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const Column& col = schema.columns[i];
    const std::string ckey = AsciiLower(col.name);
    auto direct = std::find_if(direct_masks.begin(), direct_masks.end(),
                               [&](const auto& dm) { return dm.first == ckey; });
    if (direct != direct_masks.end()) {
      if (exempt(direct->second)) continue;
      ep.masks[i] = make_mask(direct->second, col, "column_mask:" + tname + "." + col.name);
      continue;
    }
    const TagPolicy* best = nullptr;
    for (const TagPolicy& p : tag_policies) {
      if (p.kind != TagPolicy::Kind::kMask || !tagged(ckey, p) || exempt(p.mask)) continue;
      auto rank = [&](const TagPolicy& q) {
        return MaskMismatch(q.mask, col.type).empty() ? MaskRank(q.mask.kind) : MaskRank(MaskSpec::kNull);
      };
      if (best == nullptr || rank(p) < rank(*best)) best = &p;  // ties: first by name
    }
    if (best != nullptr) ep.masks[i] = make_mask(best->mask, col, "tag_policy:" + best->name);
  }
  for (size_t i = 0; i < ep.masks.size(); ++i) {
    if (!ep.masks[i]) continue;
    ep.applied.push_back(ep.masks[i]->policy());
    if (ep.masks[i]->kind() == MaskSpec::kKeyedHash || ep.masks[i]->kind() == MaskSpec::kPartialReveal) {
      ep.masked_eval_columns.push_back(static_cast<int>(i));
    }
  }
  std::sort(ep.applied.begin(), ep.applied.end());
  ep.applied.erase(std::unique(ep.applied.begin(), ep.applied.end()), ep.applied.end());
  return ep;
}

}  // namespace vesta::governance
