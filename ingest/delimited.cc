#include "ingest/delimited.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "ingest/internal/cells.h"
#include "ingest/internal/file_io.h"

namespace vesta::ingest {

using internal::CellError;
using internal::NaSet;
using internal::TrimSpaces;

namespace {

constexpr size_t kMaxRawRecordBytes = 4096;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

std::string ShowChar(char c) {
  if (c == '\t') return "\\t";
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
    return buf;
  }
  return std::string(1, c);
}

}  // namespace

// Tokenises the input (RFC 4180 state machine) and fills a RawTable.
class RawTableBuilder {
 public:
  static Result<RawTable> Create(std::vector<char> text, std::string source, const DelimitedOptions& options) {
    RawTable t;
    t.source_ = std::move(source);
    t.text_ = std::move(text);
    char delim = options.delimiter != '\0' ? options.delimiter : DelimiterForPath(t.source_);
    if (delim == '\0') {
      // Sniff: a tab on the first line means TSV.
      const char* b = t.text_.data();
      const char* e = b + t.text_.size();
      const char* nl = std::find(b, e, '\n');
      delim = std::find(b, nl, '\t') != nl ? '\t' : ',';
    }
    t.delimiter_ = delim;
    RawTableBuilder builder(&t, options);
    VESTA_RETURN_IF_ERROR(builder.Build());
    return t;
  }

 private:
  RawTableBuilder(RawTable* table, const DelimitedOptions& options) : t_(*table), options_(options) {}

  Status Build() {
    data_ = t_.text_.data();
    n_ = t_.text_.size();
    quote_ = options_.quote;
    delim_ = t_.delimiter_;
    if (n_ >= 3 && std::memcmp(data_, "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
    if (options_.skip_comment_lines) SkipCommentLines();

    std::vector<std::string_view> fields;
    bool eof = false;
    if (options_.has_header) {
      VESTA_RETURN_IF_ERROR(NextRecord(&fields, &eof, /*header=*/true));
      if (eof) return Status::InvalidArgument(t_.source_ + ": empty input: no header line");
      t_.header_line_ = record_line_;
      VESTA_RETURN_IF_ERROR(SetHeader(fields));
    } else if (!options_.column_names.empty()) {
      VESTA_RETURN_IF_ERROR(
          SetHeader(std::vector<std::string_view>(options_.column_names.begin(), options_.column_names.end())));
    }
    DetectCbioportalTypes();

    while (true) {
      Status st = NextRecord(&fields, &eof, /*header=*/false);
      if (!st.ok()) {
        if (!recoverable_ || options_.mode == ErrorMode::kStrict) return st;
        ++t_.records_read_;
        SkipToEndOfLine();
        Reject(st.message(), RecordText());
        continue;
      }
      if (eof) break;
      ++t_.records_read_;
      if (t_.header_.empty()) {
        if (options_.has_header) return Status::Internal("header missing");
        std::vector<std::string> names;
        for (size_t i = 0; i < fields.size(); ++i) names.push_back("column_" + std::to_string(i + 1));
        VESTA_RETURN_IF_ERROR(SetHeader(std::vector<std::string_view>(names.begin(), names.end())));
      }
      if (fields.size() != t_.header_.size()) {
        std::string msg = t_.source_ + ":" + std::to_string(record_line_) + ": expected " +
                          std::to_string(t_.header_.size()) + " fields, got " + std::to_string(fields.size());
        if (options_.mode == ErrorMode::kStrict) return Status::InvalidArgument(msg);
        Reject(msg, RecordText());
        continue;
      }
      t_.cells_.insert(t_.cells_.end(), fields.begin(), fields.end());
      t_.lines_.push_back(record_line_);
      t_.records_.push_back(RecordText());
    }
    if (t_.header_.empty()) {
      return Status::InvalidArgument(t_.source_ + ": empty input: no header line and no records");
    }
    return Status::OK();
  }

 private:
  void SkipCommentLines() {
    while (pos_ < n_ && data_[pos_] == '#') {
      size_t end = pos_;
      while (end < n_ && data_[end] != '\n') ++end;
      size_t stop = end;
      if (stop > pos_ && data_[stop - 1] == '\r') --stop;
      t_.comment_lines_.emplace_back(data_ + pos_ + 1, stop - pos_ - 1);
      pos_ = end < n_ ? end + 1 : end;
      ++line_;
    }
  }

  void DetectCbioportalTypes() {
    if (t_.comment_lines_.size() < 3 || t_.header_.empty()) return;
    std::vector<std::string> types;
    std::string_view s = t_.comment_lines_[2];
    while (true) {
      size_t cut = s.find(delim_);
      std::string_view item = TrimSpaces(s.substr(0, cut));
      if (item != "STRING" && item != "NUMBER" && item != "BOOLEAN") return;
      types.emplace_back(item);
      if (cut == std::string_view::npos) break;
      s.remove_prefix(cut + 1);
    }
    if (types.size() == t_.header_.size()) t_.cbioportal_types_ = std::move(types);
  }

  Status SetHeader(const std::vector<std::string_view>& fields) {
    t_.header_.clear();
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t i = 0; i < fields.size(); ++i) t_.header_.emplace_back(TrimSpaces(fields[i]));
    for (size_t i = 0; i < t_.header_.size(); ++i) {
      const std::string& name = t_.header_[i];
      if (name.empty()) continue;  // unnamed columns get generated names later
      auto [it, inserted] = seen.emplace(name, i);
      if (!inserted) {
        return Status::InvalidArgument(t_.source_ + ":" + std::to_string(t_.header_line_) +
                                       ": duplicate column name '" + name + "' (columns " +
                                       std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + ")");
      }
    }
    return Status::OK();
  }

  std::string_view RecordText() const {
    size_t end = std::min(record_end_, n_);
    if (end > record_begin_ && data_[end - 1] == '\n') --end;
    if (end > record_begin_ && data_[end - 1] == '\r') --end;
    return std::string_view(data_ + record_begin_, end - record_begin_);
  }

  void Reject(const std::string& message, std::string_view raw) {
    Rejected r;
    r.source = t_.source_;
    r.line = record_line_;
    r.reason = message;
    r.raw_record = internal::Abbreviate(raw, kMaxRawRecordBytes);
    t_.rejected_.push_back(std::move(r));
  }

  // After a recoverable error inside a record: continue at the next line.
  void SkipToEndOfLine() {
    while (pos_ < n_ && data_[pos_] != '\n') ++pos_;
    if (pos_ < n_) {
      ++pos_;
      ++line_;
    }
    record_end_ = pos_;
  }

  // Reads the next record into `fields` (views into the input or the arena).
  // Sets *eof at end of input. On error sets recoverable_ (the scanner can
  // continue at the next line) and leaves pos_ inside the bad record.
  Status NextRecord(std::vector<std::string_view>* fields, bool* eof, bool header) {
    fields->clear();
    *eof = false;
    recoverable_ = false;
    // Blank lines (LF, CRLF, or a lone CR at end of input) separate nothing.
    while (pos_ < n_) {
      if (data_[pos_] == '\n') {
        ++pos_;
        ++line_;
      } else if (data_[pos_] == '\r' && (pos_ + 1 == n_ || data_[pos_ + 1] == '\n')) {
        ++pos_;
      } else {
        break;
      }
    }
    if (pos_ >= n_) {
      *eof = true;
      return Status::OK();
    }
    record_line_ = line_;
    record_begin_ = pos_;
    while (true) {
      if (quote_ != '\0' && data_[pos_] == quote_) {
        // Quoted field: runs to the next quote not doubled.
        int64_t field_line = line_;
        size_t start = pos_ + 1;
        size_t p = start;
        bool escaped = false;
        size_t close = 0;
        while (true) {
          const void* q = p < n_ ? std::memchr(data_ + p, quote_, n_ - p) : nullptr;
          size_t qpos = q ? static_cast<size_t>(static_cast<const char*>(q) - data_) : n_;
          line_ += std::count(data_ + p, data_ + qpos, '\n');
          if (q == nullptr) {
            record_end_ = n_;
            return Status::InvalidArgument(t_.source_ + ":" + std::to_string(field_line) + ": field " +
                                           std::to_string(fields->size() + 1) +
                                           ": unterminated quote at end of file");
          }
          if (qpos + 1 < n_ && data_[qpos + 1] == quote_) {
            escaped = true;
            p = qpos + 2;
            continue;
          }
          close = qpos;
          break;
        }
        if (escaped) {
          std::string un;
          un.reserve(close - start);
          for (size_t i = start; i < close; ++i) {
            un.push_back(data_[i]);
            if (data_[i] == quote_) ++i;  // skip the second quote of a pair
          }
          t_.arena_.push_back(std::move(un));
          fields->emplace_back(t_.arena_.back());
        } else {
          fields->emplace_back(data_ + start, close - start);
        }
        pos_ = close + 1;
        if (pos_ >= n_) break;
        char c = data_[pos_];
        if (c == delim_) {
          ++pos_;
          if (pos_ >= n_) {  // trailing delimiter at end of input: one more empty field
            fields->emplace_back();
            break;
          }
          continue;
        }
        if (c == '\n') {
          ++pos_;
          ++line_;
          break;
        }
        if (c == '\r' && (pos_ + 1 == n_ || data_[pos_ + 1] == '\n')) {
          pos_ += pos_ + 1 == n_ ? 1 : 2;
          if (pos_ <= n_ && data_[pos_ - 1] == '\n') ++line_;
          break;
        }
        recoverable_ = !header;
        record_end_ = pos_;
        return Status::InvalidArgument(t_.source_ + ":" + std::to_string(record_line_) + ": field " +
                                       std::to_string(fields->size()) + ": unexpected character '" +
                                       ShowChar(c) + "' after closing quote");
      }
      // Unquoted field: runs to the delimiter or the end of the line.
      size_t p = pos_;
      while (p < n_ && data_[p] != delim_ && data_[p] != '\n') ++p;
      size_t end = p;
      if ((p == n_ || data_[p] == '\n') && end > pos_ && data_[end - 1] == '\r') --end;
      fields->emplace_back(data_ + pos_, end - pos_);
      if (p >= n_) {
        pos_ = n_;
        break;
      }
      if (data_[p] == '\n') {
        pos_ = p + 1;
        ++line_;
        break;
      }
      pos_ = p + 1;  // at a delimiter
      if (pos_ >= n_) {
        fields->emplace_back();
        break;
      }
    }
    record_end_ = pos_;
    return Status::OK();
  }

  RawTable& t_;
  const DelimitedOptions& options_;
  const char* data_ = nullptr;
  size_t n_ = 0;
  size_t pos_ = 0;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  size_t record_begin_ = 0;
  size_t record_end_ = 0;
  char quote_ = '"';
  char delim_ = ',';
  bool recoverable_ = false;
};

char DelimiterForPath(std::string_view path) {
  std::string_view p = path;
  if (EndsWith(p, ".gz")) p.remove_suffix(3);
  if (EndsWith(p, ".csv")) return ',';
  if (EndsWith(p, ".tsv") || EndsWith(p, ".txt") || EndsWith(p, ".tab") || EndsWith(p, ".maf")) return '\t';
  return '\0';
}

DelimitedOptions DelimitedOptions::CbioportalClinical() {
  DelimitedOptions o;
  o.delimiter = '\t';
  o.skip_comment_lines = true;
  o.use_cbioportal_types = true;
  return o;
}

Status DelimitedOptions::Validate() const {
  if (delimiter == '\n' || delimiter == '\r') return Status::InvalidArgument("delimiter cannot be a line break");
  if (quote != '\0' && quote == delimiter) return Status::InvalidArgument("quote and delimiter must differ");
  if (quote == '\n' || quote == '\r') return Status::InvalidArgument("quote cannot be a line break");
  for (const VectorAssembly& v : vectors) {
    int selectors = (!v.columns.empty()) + (!v.prefixes.empty()) + (!v.after_column.empty());
    if (selectors != 1) {
      return Status::InvalidArgument("vector assembly '" + v.column +
                                     "': set exactly one of columns, prefixes and after_column");
    }
    if (!IsValidIdentifier(v.column)) {
      return Status::InvalidArgument("vector assembly column name '" + v.column + "' is not an identifier");
    }
  }
  for (const auto& [from, to] : renames) {
    if (!IsValidIdentifier(to) || (to.size() > 1 && to[0] == '_' && to[1] == '_')) {
      return Status::InvalidArgument("rename of '" + from + "': '" + to + "' is not an identifier");
    }
  }
  return Status::OK();
}

Result<RawTable> ParseDelimitedRaw(std::vector<char> text, std::string source_name, const DelimitedOptions& options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  return RawTableBuilder::Create(std::move(text), std::move(source_name), options);
}

Result<RawTable> ReadDelimitedRaw(const std::string& path, const DelimitedOptions& options) {
  std::string display = internal::DisplayName(path, options.source_name);
  VESTA_ASSIGN_OR_RETURN(std::vector<char> bytes, internal::ReadFileMaybeGzip(path, display));
  DelimitedOptions o = options;
  if (o.delimiter == '\0') o.delimiter = DelimiterForPath(path);
  return ParseDelimitedRaw(std::move(bytes), std::move(display), o);
}

DataType InferColumnType(const RawTable& raw, size_t column, const std::vector<std::string>& na_tokens) {
  NaSet na(na_tokens);
  bool can_int = true, can_num = true, can_bool = true, can_date = true, can_ts = true;
  bool any = false;
  for (size_t r = 0; r < raw.num_records(); ++r) {
    std::string_view s = TrimSpaces(raw.cell(r, column));
    if (na.IsNa(s)) continue;
    any = true;
    if (can_int && !internal::LooksInteger(s)) can_int = false;
    if (!can_int && can_num && !internal::LooksNumber(s)) can_num = false;
    if (can_bool && !internal::LooksBoolean(s)) can_bool = false;
    if (can_date && !internal::LooksDate(s)) can_date = false;
    if (can_ts && !internal::LooksTimestamp(s)) can_ts = false;
    if (!can_num && !can_bool && !can_date && !can_ts) return DataType::String();
  }
  if (!any) return DataType::String();
  if (can_int) return DataType::Bigint();
  if (can_num) return DataType::Double();
  if (can_bool) return DataType::Boolean();
  if (can_date) return DataType::DateT();
  if (can_ts) return DataType::TimestampT();
  return DataType::String();
}

namespace {

// One output column: a converted cell, or an assembled vector.
struct OutColumn {
  std::string name;
  std::string source_name;
  DataType type;
  bool nullable = true;
  int source = -1;    // input column (cell columns)
  int assembly = -1;  // index into `assemblies` (vector columns)
};

struct Assembly {
  const VectorAssembly* spec = nullptr;
  std::vector<int> components;  // input columns
  std::vector<double> fill;     // per component (kImputeMean / kZero)
  std::vector<std::string> empty;  // components without any number (kImputeMean)
};

// Parses a vector component cell; false if not a finite float32.
bool ParseComponent(std::string_view s, float* out) {
  const char* e = s.data() + s.size();
  const char* b = internal::SkipPlusSign(s.data(), e);
  if (b == nullptr) return false;
  if (b == e) return false;
  double v = 0;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e || !std::isfinite(v)) return false;
  if (std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max())) return false;
  *out = static_cast<float>(v);
  return true;
}

const char* PolicyName(MissingCellPolicy p) {
  switch (p) {
    case MissingCellPolicy::kError: return "kError";
    case MissingCellPolicy::kImputeMean: return "kImputeMean";
    case MissingCellPolicy::kZero: return "kZero";
  }
  return "?";
}

}  // namespace

Result<TypedTable> ConvertRawTable(const RawTable& raw, const DelimitedOptions& options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  const std::string& src = raw.source();
  const size_t ncols = raw.num_columns();
  NaSet na(options.na_tokens);

  // Names: renames first, then sanitised input names, then made unique.
  std::vector<std::string> names(ncols);
  for (const auto& [from, to] : options.renames) {
    auto it = std::find(raw.header().begin(), raw.header().end(), from);
    if (it == raw.header().end()) {
      return Status::InvalidArgument(src + ": rename of unknown column '" + from + "'");
    }
  }
  for (size_t i = 0; i < ncols; ++i) {
    auto it = options.renames.find(raw.header()[i]);
    names[i] = it != options.renames.end() ? it->second
                                           : SanitizeIdentifier(raw.header()[i], static_cast<int>(i) + 1);
  }
  MakeNamesUnique(&names);
  auto resolve = [&](std::string_view name) -> int {
    for (size_t i = 0; i < ncols; ++i) {
      if (raw.header()[i] == name) return static_cast<int>(i);
    }
    for (size_t i = 0; i < ncols; ++i) {
      if (EqualsIgnoreCase(names[i], name)) return static_cast<int>(i);
    }
    return -1;
  };

  // Overrides.
  std::vector<std::optional<DataType>> override_type(ncols);
  for (const auto& [name, type] : options.type_overrides) {
    int c = resolve(name);
    if (c < 0) return Status::InvalidArgument(src + ": type override for unknown column '" + name + "'");
    if (type.id == TypeId::kVector && (type.dim < 1 || type.dim > kMaxVectorDim)) {
      return Status::InvalidArgument(src + ": type override for column '" + name + "': vector dimension " +
                                     std::to_string(type.dim) + " outside 1.." + std::to_string(kMaxVectorDim));
    }
    override_type[static_cast<size_t>(c)] = type;
  }

  // Primary key.
  int pk = -1;
  if (!options.primary_key.empty()) {
    pk = resolve(options.primary_key);
    if (pk < 0) return Status::InvalidArgument(src + ": primary key column '" + options.primary_key + "' not found");
  }

  // Vector assemblies.
  std::vector<Assembly> assemblies;
  std::vector<int> component_of(ncols, -1);
  for (const VectorAssembly& spec : options.vectors) {
    Assembly a;
    a.spec = &spec;
    if (!spec.columns.empty()) {
      for (const std::string& name : spec.columns) {
        int c = resolve(name);
        if (c < 0) {
          return Status::InvalidArgument(src + ": vector '" + spec.column + "': unknown column '" + name + "'");
        }
        a.components.push_back(c);
      }
    } else if (!spec.prefixes.empty()) {
      for (size_t i = 0; i < ncols; ++i) {
        for (const std::string& prefix : spec.prefixes) {
          if (raw.header()[i].compare(0, prefix.size(), prefix) == 0) {
            a.components.push_back(static_cast<int>(i));
            break;
          }
        }
      }
    } else {
      int after = resolve(spec.after_column);
      if (after < 0) {
        return Status::InvalidArgument(src + ": vector '" + spec.column + "': unknown column '" +
                                       spec.after_column + "'");
      }
      for (size_t i = static_cast<size_t>(after) + 1; i < ncols; ++i) a.components.push_back(static_cast<int>(i));
    }
    if (a.components.empty() || a.components.size() > static_cast<size_t>(kMaxVectorDim)) {
      return Status::InvalidArgument(src + ": vector '" + spec.column + "' selects " +
                                     std::to_string(a.components.size()) + " columns; need 1.." +
                                     std::to_string(kMaxVectorDim));
    }
    for (int c : a.components) {
      const std::string& cname = raw.header()[static_cast<size_t>(c)];
      if (component_of[static_cast<size_t>(c)] >= 0) {
        return Status::InvalidArgument(src + ": column '" + cname + "' is selected twice for vector columns");
      }
      if (c == pk) return Status::InvalidArgument(src + ": primary key '" + cname + "' cannot be a vector component");
      if (override_type[static_cast<size_t>(c)]) {
        return Status::InvalidArgument(src + ": column '" + cname + "' has a type override and is a component of '" +
                                       spec.column + "'");
      }
      component_of[static_cast<size_t>(c)] = static_cast<int>(assemblies.size());
    }
    // Fill values.
    a.fill.assign(a.components.size(), 0.0);
    if (spec.missing == MissingCellPolicy::kImputeMean) {
      for (size_t k = 0; k < a.components.size(); ++k) {
        size_t c = static_cast<size_t>(a.components[k]);
        double sum = 0;
        int64_t count = 0;
        for (size_t r = 0; r < raw.num_records(); ++r) {
          float f;
          std::string_view s = TrimSpaces(raw.cell(r, c));
          if (!na.IsNa(s) && ParseComponent(s, &f)) {
            sum += f;
            ++count;
          }
        }
        if (count == 0) {
          a.empty.push_back(raw.header()[c]);  // no mean: filled with 0, reported
          continue;
        }
        a.fill[k] = sum / static_cast<double>(count);
      }
    }
    assemblies.push_back(std::move(a));
  }

  // Column types and the output layout.
  std::vector<OutColumn> out;
  std::vector<bool> assembly_emitted(assemblies.size(), false);
  for (size_t i = 0; i < ncols; ++i) {
    int a = component_of[i];
    if (a >= 0) {
      // The vector takes the place of its first component in file order.
      if (!assembly_emitted[static_cast<size_t>(a)]) {
        assembly_emitted[static_cast<size_t>(a)] = true;
        OutColumn oc;
        oc.name = assemblies[static_cast<size_t>(a)].spec->column;
        oc.type = DataType::Vector(static_cast<int>(assemblies[static_cast<size_t>(a)].components.size()));
        oc.assembly = a;
        out.push_back(std::move(oc));
      }
      if (!assemblies[static_cast<size_t>(a)].spec->keep_source_columns) continue;
    }
    OutColumn oc;
    oc.name = names[i];
    oc.source_name = raw.header()[i];
    oc.source = static_cast<int>(i);
    if (override_type[i]) {
      oc.type = *override_type[i];
    } else if (!raw.cbioportal_types().empty() && options.use_cbioportal_types) {
      const std::string& hint = raw.cbioportal_types()[i];
      if (hint == "NUMBER") {
        DataType inferred = InferColumnType(raw, i, options.na_tokens);
        oc.type = inferred.id == TypeId::kBigint ? inferred : DataType::Double();
      } else if (hint == "BOOLEAN") {
        oc.type = DataType::Boolean();
      } else {
        oc.type = DataType::String();
      }
    } else {
      oc.type = InferColumnType(raw, i, options.na_tokens);
    }
    if (static_cast<int>(i) == pk) {
      if (oc.type.id != TypeId::kBigint && oc.type.id != TypeId::kString) {
        if (override_type[i]) {
          return Status::InvalidArgument(src + ": primary key '" + raw.header()[i] + "' must be BIGINT or STRING, "
                                         "override says " + oc.type.ToString());
        }
        oc.type = DataType::String();
      }
      oc.nullable = false;
    }
    out.push_back(std::move(oc));
  }
  // Assembled names must not collide with kept column names.
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t j = i + 1; j < out.size(); ++j) {
      if (EqualsIgnoreCase(out[i].name, out[j].name)) {
        return Status::InvalidArgument(src + ": two output columns are named '" + out[j].name +
                                       "' (rename one or choose another vector column name)");
      }
    }
  }
  if (out.size() > 2000) {
    return Status::InvalidArgument(src + ": " + std::to_string(out.size()) +
                                   " columns; a table holds at most 2000 (assemble features into a vector)");
  }

  TypedTable table;
  table.source = src;
  for (const OutColumn& oc : out) {
    table.schema.columns.push_back(Column{oc.name, oc.type, oc.nullable, ""});
    table.source_columns.push_back(oc.source_name);
  }
  if (pk >= 0) table.schema.primary_key = names[static_cast<size_t>(pk)];
  for (const Assembly& a : assemblies) {
    VectorAssemblyReport rep;
    rep.column = a.spec->column;
    for (int c : a.components) rep.components.push_back(raw.header()[static_cast<size_t>(c)]);
    rep.fill_values = a.fill;
    rep.imputed.assign(a.components.size(), 0);
    rep.empty_components = a.empty;
    table.vectors.push_back(std::move(rep));
  }

  // Rows.
  const std::vector<Rejected>& raw_rejected = raw.rejected();
  size_t next_raw_reject = 0;
  std::unordered_map<std::string, int64_t> seen_string_keys;
  std::unordered_map<int64_t, int64_t> seen_int_keys;
  std::vector<std::vector<int64_t>> imputed_here(assemblies.size());
  for (size_t a = 0; a < assemblies.size(); ++a) imputed_here[a].assign(assemblies[a].components.size(), 0);
  table.rows.reserve(raw.num_records());
  table.source_lines.reserve(raw.num_records());

  for (size_t r = 0; r < raw.num_records(); ++r) {
    const int64_t line = raw.line(r);
    // Parse-stage rejections that come before this record.
    while (next_raw_reject < raw_rejected.size() && raw_rejected[next_raw_reject].line < line) {
      if (options.mode == ErrorMode::kStrict) {
        return Status::InvalidArgument(raw_rejected[next_raw_reject].reason);
      }
      table.rejected.push_back(raw_rejected[next_raw_reject++]);
    }
    Row row;
    row.reserve(out.size());
    std::string error, bad_column, bad_value;
    for (size_t a = 0; a < assemblies.size(); ++a) std::fill(imputed_here[a].begin(), imputed_here[a].end(), 0);

    for (const OutColumn& oc : out) {
      if (oc.source >= 0) {
        std::string_view text = raw.cell(r, static_cast<size_t>(oc.source));
        Result<Value> v = internal::ConvertCell(text, oc.type, na);
        if (!v.ok()) {
          error = CellError(src, line, oc.source_name, v.status().message());
          bad_column = oc.source_name;
          bad_value = std::string(text);
          break;
        }
        if (!oc.nullable && v->is_null()) {
          error = CellError(src, line, oc.source_name, "NULL primary key");
          bad_column = oc.source_name;
          bad_value = std::string(text);
          break;
        }
        row.push_back(std::move(v).value());
        continue;
      }
      // Assembled vector.
      const Assembly& a = assemblies[static_cast<size_t>(oc.assembly)];
      std::vector<float> vec(a.components.size());
      for (size_t k = 0; k < a.components.size() && error.empty(); ++k) {
        size_t c = static_cast<size_t>(a.components[k]);
        std::string_view text = raw.cell(r, c);
        std::string_view s = TrimSpaces(text);
        if (na.IsNa(s)) {
          if (a.spec->missing == MissingCellPolicy::kError) {
            error = CellError(src, line, raw.header()[c],
                              "missing value for " + oc.type.ToString() + " column '" + oc.name +
                                  "' (missing-cell policy " + PolicyName(a.spec->missing) + ")");
          } else {
            vec[k] = static_cast<float>(a.fill[k]);
            ++imputed_here[static_cast<size_t>(oc.assembly)][k];
          }
        } else if (!ParseComponent(s, &vec[k])) {
          error = CellError(src, line, raw.header()[c],
                            "expected DOUBLE (component " + std::to_string(k + 1) + " of " + oc.type.ToString() +
                                " column '" + oc.name + "'), got '" + internal::Abbreviate(s, 64) + "'");
        }
        if (!error.empty()) {
          bad_column = raw.header()[c];
          bad_value = std::string(text);
        }
      }
      if (!error.empty()) break;
      row.push_back(Value::Vec(std::move(vec)));
    }

    // Primary-key uniqueness.
    if (error.empty() && pk >= 0) {
      size_t pk_out = 0;
      while (out[pk_out].source != pk) ++pk_out;
      const Value& key = row[pk_out];
      int64_t first = 0;
      bool dup = false;
      if (key.is_int()) {
        auto [it, inserted] = seen_int_keys.emplace(key.as_int(), line);
        dup = !inserted;
        first = it->second;
      } else {
        auto [it, inserted] = seen_string_keys.emplace(key.as_string(), line);
        dup = !inserted;
        first = it->second;
      }
      if (dup) {
        const std::string& pk_name = raw.header()[static_cast<size_t>(pk)];
        error = CellError(src, line, pk_name,
                          "duplicate primary key '" + internal::Abbreviate(key.ToString(), 64) + "' (first at line " +
                              std::to_string(first) + ")");
        bad_column = pk_name;
        bad_value = std::string(raw.cell(r, static_cast<size_t>(pk)));
      }
    }

    if (!error.empty()) {
      if (options.mode == ErrorMode::kStrict) return Status::InvalidArgument(error);
      Rejected rej;
      rej.source = src;
      rej.line = line;
      rej.column = std::move(bad_column);
      rej.value = std::move(bad_value);
      rej.reason = std::move(error);
      rej.raw_record = internal::Abbreviate(raw.raw_record(r), kMaxRawRecordBytes);
      table.rejected.push_back(std::move(rej));
      continue;
    }
    for (size_t a = 0; a < assemblies.size(); ++a) {
      for (size_t k = 0; k < imputed_here[a].size(); ++k) {
        table.vectors[a].imputed[k] += imputed_here[a][k];
        table.vectors[a].imputed_total += imputed_here[a][k];
      }
    }
    table.rows.push_back(std::move(row));
    table.source_lines.push_back(line);
  }
  while (next_raw_reject < raw_rejected.size()) {
    if (options.mode == ErrorMode::kStrict) return Status::InvalidArgument(raw_rejected[next_raw_reject].reason);
    table.rejected.push_back(raw_rejected[next_raw_reject++]);
  }
  table.stats.records_read = raw.records_read();
  table.stats.rows_rejected = static_cast<int64_t>(table.rejected.size());
  return table;
}

Result<TypedTable> ReadDelimited(const std::string& path, const DelimitedOptions& options) {
  DelimitedOptions raw_options = options;
  raw_options.mode = ErrorMode::kQuarantine;  // ConvertRawTable applies strictness in line order
  VESTA_ASSIGN_OR_RETURN(RawTable raw, ReadDelimitedRaw(path, raw_options));
  return ConvertRawTable(raw, options);
}

Result<TypedTable> ParseDelimited(std::string_view text, std::string source_name, const DelimitedOptions& options) {
  DelimitedOptions raw_options = options;
  raw_options.mode = ErrorMode::kQuarantine;
  VESTA_ASSIGN_OR_RETURN(RawTable raw,
                         ParseDelimitedRaw(std::vector<char>(text.begin(), text.end()), std::move(source_name),
                                           raw_options));
  return ConvertRawTable(raw, options);
}

}  // namespace vesta::ingest
