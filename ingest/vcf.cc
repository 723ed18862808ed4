#include "ingest/vcf.h"

#include <htslib/hts.h>
#include <htslib/hts_log.h>
#include <htslib/kseq.h>  // KS_SEP_LINE
#include <htslib/kstring.h>
#include <htslib/vcf.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "ingest/internal/file_io.h"

namespace vesta::ingest {
namespace {

constexpr size_t kMaxRawRecordBytes = 4096;
constexpr int kTolerableErrors = BCF_ERR_CTG_UNDEF | BCF_ERR_TAG_UNDEF;

struct HtsFileCloser {
  void operator()(htsFile* f) const { hts_close(f); }
};
struct HeaderCloser {
  void operator()(bcf_hdr_t* h) const { bcf_hdr_destroy(h); }
};
struct RecordCloser {
  void operator()(bcf1_t* r) const { bcf_destroy(r); }
};

// Frees a kstring_t at scope exit.
struct KStringGuard {
  kstring_t* s;
  ~KStringGuard() { ks_free(s); }
};

void SilenceHtslib() {
  static std::once_flag once;
  std::call_once(once, [] { hts_set_log_level(HTS_LOG_OFF); });
}

std::string ErrcodeNames(int code) {
  static const struct {
    int bit;
    const char* name;
  } kNames[] = {{BCF_ERR_CTG_UNDEF, "contig not in header"}, {BCF_ERR_TAG_UNDEF, "tag not in header"},
                {BCF_ERR_NCOLS, "wrong number of columns"}, {BCF_ERR_LIMITS, "limits exceeded"},
                {BCF_ERR_CHAR, "invalid characters"},       {BCF_ERR_CTG_INVALID, "invalid contig"},
                {BCF_ERR_TAG_INVALID, "invalid tag"}};
  std::string out;
  for (const auto& n : kNames) {
    if (code & n.bit) out += (out.empty() ? "" : ", ") + std::string(n.name);
  }
  return out.empty() ? "error code " + std::to_string(code) : out;
}

// "20\t300\t..." with tabs shown as \t, cut to `max_bytes`.
std::string ShowLine(std::string_view line, size_t max_bytes = 120) {
  std::string out;
  for (char c : line.substr(0, max_bytes)) {
    if (c == '\t') {
      out += "\\t";
    } else {
      out.push_back(c);
    }
  }
  if (line.size() > max_bytes) out += "...";
  return out;
}

// Checks a text record before htslib parses it; returns "" or the problem.
std::string PrecheckLine(std::string_view line, int nsamples) {
  size_t columns = 1;
  std::string_view fields[6];
  size_t start = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\t') {
      if (columns <= 6) fields[columns - 1] = line.substr(start, i - start);
      ++columns;
      start = i + 1;
    }
  }
  if (columns <= 6) fields[columns - 1] = line.substr(start);
  if (nsamples > 0) {
    size_t expected = 9 + static_cast<size_t>(nsamples);
    if (columns != expected) {
      return "expected " + std::to_string(expected) + " tab-separated columns (8 fixed, FORMAT, " +
             std::to_string(nsamples) + (nsamples == 1 ? " sample" : " samples") + "), got " +
             std::to_string(columns);
    }
  } else if (columns < 8) {
    return "expected at least 8 tab-separated columns, got " + std::to_string(columns);
  }
  if (fields[0].empty()) return "empty CHROM";
  int64_t pos = 0;
  auto [p, ec] = std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), pos);
  if (fields[1].empty() || ec != std::errc() || p != fields[1].data() + fields[1].size() || pos < 1) {
    return "POS '" + internal::Abbreviate(fields[1], 40) + "' is not a positive integer";
  }
  std::string_view qual = fields[5];
  if (qual != ".") {
    double q = 0;
    auto [qp, qec] = std::from_chars(qual.data(), qual.data() + qual.size(), q);
    if (qual.empty() || qec != std::errc() || qp != qual.data() + qual.size() || !std::isfinite(q)) {
      return "QUAL '" + internal::Abbreviate(qual, 40) + "' is not a number or '.'";
    }
  }
  return "";
}

// Appends the rows of one parsed record.
class RowBuilder {
 public:
  RowBuilder(const bcf_hdr_t* hdr, const VcfOptions& options, TypedTable* table)
      : hdr_(hdr), options_(options), t_(*table), nsamples_(bcf_hdr_nsamples(hdr)) {}
  ~RowBuilder() { std::free(gt_); }

  void Add(bcf1_t* rec, int64_t record) {
    bcf_unpack(rec, BCF_UN_STR | BCF_UN_FLT);
    const char* chrom_c = bcf_seqname(hdr_, rec);
    std::string chrom = chrom_c ? chrom_c : "";
    const int64_t pos = static_cast<int64_t>(rec->pos) + 1;
    std::string ref = rec->n_allele > 0 ? rec->d.allele[0] : "";
    std::string alt;
    for (int i = 1; i < rec->n_allele; ++i) {
      if (i > 1) alt += ',';
      alt += rec->d.allele[i];
    }
    Value id = (rec->d.id == nullptr || std::strcmp(rec->d.id, ".") == 0) ? Value::Null() : Value::Str(rec->d.id);
    Value qual = bcf_float_is_missing(rec->qual) || !std::isfinite(rec->qual)
                     ? Value::Null()
                     : Value::Real(static_cast<double>(rec->qual));
    Value filter = Value::Null();
    if (rec->d.n_flt > 0) {
      std::string f;
      for (int i = 0; i < rec->d.n_flt; ++i) {
        if (i) f += ';';
        f += bcf_hdr_int2id(hdr_, BCF_DT_ID, rec->d.flt[i]);
      }
      filter = Value::Str(std::move(f));
    }
    std::string site_key = chrom + ":" + std::to_string(pos) + ":" + ref + ":" + (alt.empty() ? "." : alt);

    if (nsamples_ == 0) {
      Emit(site_key, chrom, pos, id, ref, alt, qual, filter, Value::Null(), Value::Null(), record);
      return;
    }
    int ngt = bcf_get_genotypes(hdr_, rec, &gt_, &ngt_arr_);
    int ploidy = ngt > 0 ? ngt / nsamples_ : 0;
    for (int s = 0; s < nsamples_; ++s) {
      Value genotype = Value::Null();
      int called = 0, missing = 0, ref_alleles = 0;
      if (ploidy > 0) {
        const int32_t* g = gt_ + static_cast<size_t>(s) * static_cast<size_t>(ploidy);
        std::string text;
        for (int j = 0; j < ploidy; ++j) {
          if (g[j] == bcf_int32_vector_end) break;
          if (j > 0) text += bcf_gt_is_phased(g[j]) ? '|' : '/';
          if (g[j] == bcf_int32_missing || bcf_gt_is_missing(g[j])) {
            text += '.';
            ++missing;
          } else {
            int allele = bcf_gt_allele(g[j]);
            text += std::to_string(allele);
            if (allele == 0) ++ref_alleles;
            ++called;
          }
        }
        if (called + missing > 0) genotype = Value::Str(std::move(text));
      }
      if (options_.drop_hom_ref_and_no_call) {
        bool no_call = called == 0;
        bool hom_ref = called > 0 && missing == 0 && ref_alleles == called;
        if (no_call || hom_ref) continue;
      }
      const char* sample = hdr_->samples[s];
      Emit(site_key + ":" + sample, chrom, pos, id, ref, alt, qual, filter, Value::Str(sample), std::move(genotype),
           record);
    }
  }

 private:
  void Emit(std::string key, const std::string& chrom, int64_t pos, const Value& id, const std::string& ref,
            const std::string& alt, const Value& qual, const Value& filter, Value sample, Value genotype,
            int64_t record) {
    if (!keys_.insert(key).second) {
      for (int k = 2;; ++k) {
        std::string candidate = key + "#" + std::to_string(k);
        if (keys_.insert(candidate).second) {
          key = std::move(candidate);
          break;
        }
      }
      ++t_.stats.keys_disambiguated;
    }
    Row row;
    row.reserve(10);
    row.push_back(Value::Str(std::move(key)));
    row.push_back(Value::Str(chrom));
    row.push_back(Value::Int(pos));
    row.push_back(id);
    row.push_back(Value::Str(ref));
    row.push_back(alt.empty() ? Value::Null() : Value::Str(alt));
    row.push_back(qual);
    row.push_back(filter);
    row.push_back(std::move(sample));
    row.push_back(std::move(genotype));
    t_.rows.push_back(std::move(row));
    t_.source_lines.push_back(record);
  }

  const bcf_hdr_t* hdr_;
  const VcfOptions& options_;
  TypedTable& t_;
  const int nsamples_;
  int32_t* gt_ = nullptr;
  int ngt_arr_ = 0;
  std::unordered_set<std::string> keys_;
};

}  // namespace

Result<TypedTable> ReadVcf(const std::string& path, const VcfOptions& options) {
  SilenceHtslib();
  const std::string src = internal::DisplayName(path, options.source_name);
  std::unique_ptr<htsFile, HtsFileCloser> fp(hts_open(path.c_str(), "r"));
  if (!fp) {
    struct stat sb;
    if (::stat(path.c_str(), &sb) != 0 && errno == ENOENT) {
      return Status::NotFound(src + ": cannot open: No such file or directory");
    }
    return Status::InvalidArgument(src + ": cannot open with htslib");
  }
  const htsFormat* fmt = hts_get_format(fp.get());
  if (fmt->format != vcf && fmt->format != bcf) {
    char* desc = hts_format_description(fmt);
    std::string what = desc ? desc : "unknown";
    std::free(desc);
    return Status::InvalidArgument(src + ": not a VCF or BCF file (htslib detects: " + what + ")");
  }
  const bool text = fmt->format == vcf;
  std::unique_ptr<bcf_hdr_t, HeaderCloser> hdr(bcf_hdr_read(fp.get()));
  if (!hdr) return Status::InvalidArgument(src + ": cannot parse the VCF header");
  const int nsamples = bcf_hdr_nsamples(hdr.get());
  std::unique_ptr<bcf1_t, RecordCloser> rec(bcf_init());
  if (!rec) return Status::ResourceExhausted(src + ": out of memory");

  TypedTable t;
  t.source = src;
  t.schema.columns = {Column{"variant_key", DataType::String(), false, ""}, Column{"chrom", DataType::String(), true, ""},
                      Column{"pos", DataType::Bigint(), true, ""},         Column{"id", DataType::String(), true, ""},
                      Column{"ref", DataType::String(), true, ""},         Column{"alt", DataType::String(), true, ""},
                      Column{"qual", DataType::Double(), true, ""},        Column{"filter", DataType::String(), true, ""},
                      Column{"sample_id", DataType::String(), true, ""},   Column{"genotype", DataType::String(), true, ""}};
  t.schema.primary_key = "variant_key";
  t.source_columns = {"", "CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "", "GT"};
  RowBuilder builder(hdr.get(), options, &t);

  kstring_t line = KS_INITIALIZE;
  KStringGuard line_guard{&line};
  int64_t record = 0;
  while (true) {
    std::string problem, raw;
    if (text) {
      int r = hts_getline(fp.get(), KS_SEP_LINE, &line);
      if (r == -1) break;
      if (r < -1) {
        return Status::InvalidArgument(src + ": record " + std::to_string(record + 1) +
                                       ": read error (truncated or corrupt compressed data?)");
      }
      if (line.l == 0) continue;  // blank line
      ++record;
      std::string_view view(line.s, line.l);
      raw = std::string(view.substr(0, kMaxRawRecordBytes));
      problem = PrecheckLine(view, nsamples);
      if (problem.empty() && vcf_parse(&line, hdr.get(), rec.get()) < 0) {
        problem = "htslib could not parse the record: " + ShowLine(raw);
      }
    } else {
      int r = bcf_read(fp.get(), hdr.get(), rec.get());
      if (r == -1) break;
      ++record;
      if (r < -1) {
        return Status::InvalidArgument(src + ": record " + std::to_string(record) +
                                       ": htslib could not read the BCF record (truncated or corrupt?)");
      }
      if (rec->pos < 0) problem = "invalid position " + std::to_string(rec->pos + 1);
    }
    if (problem.empty() && (rec->errcode & ~kTolerableErrors) != 0) {
      problem = "htslib flagged the record: " + ErrcodeNames(rec->errcode & ~kTolerableErrors);
      if (!raw.empty()) problem += ": " + ShowLine(raw);
    }
    if (!problem.empty()) {
      std::string message = src + ": record " + std::to_string(record) + ": " + problem;
      if (options.mode == ErrorMode::kStrict || !text) return Status::InvalidArgument(message);
      Rejected rej;
      rej.source = src;
      rej.line = record;
      rej.reason = std::move(message);
      rej.raw_record = std::move(raw);
      t.rejected.push_back(std::move(rej));
      continue;
    }
    builder.Add(rec.get(), record);
  }
  t.stats.records_read = record;
  t.stats.rows_rejected = static_cast<int64_t>(t.rejected.size());
  return t;
}

}  // namespace vesta::ingest
