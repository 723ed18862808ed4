// Loads the TCGA glioma demo cohort (data/tcga-glioma/, see its SOURCE.md).
#include "ingest/demo_cohort.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

namespace vesta::ingest {

using governance::Store;
using governance::TableName;

namespace {

constexpr const char* kDir = "tcga-glioma";
// cBioPortal converts TCGA-CDR day counts to months with 30.417 days/month
// (checked on the 385 GBM patients present in both sources).
constexpr double kDaysPerMonth = 30.417;

TableName T(const char* n) { return TableName::Parse(n).value(); }

Result<std::string> DataFile(const DemoOptions& o, const std::string& name) {
  std::filesystem::path p = std::filesystem::path(o.data_dir) / kDir / name;
  if (!std::filesystem::exists(p)) {
    return Status::NotFound("demo data file " + p.string() + " is missing (expected the project's data/ folder; " +
                            "pass --data DIR)");
  }
  return p.string();
}

// TCGA barcode "TCGA-02-0006-01A-..." -> tissue source site "02".
Value SiteOf(const std::string& barcode) {
  if (barcode.size() >= 7 && barcode.compare(0, 5, "TCGA-") == 0) return Value::Str(barcode.substr(5, 2));
  return Value::Null();
}

// "1:DECEASED" -> "DECEASED" (cBioPortal's coded status values).
Value StripCode(const Value& v) {
  if (!v.is_string()) return Value::Null();
  const std::string& s = v.as_string();
  size_t colon = s.find(':');
  return Value::Str(AsciiUpper(colon == std::string::npos ? s : s.substr(colon + 1)));
}

Value UpperOrNull(const Value& v) {
  return v.is_string() ? Value::Str(AsciiUpper(v.as_string())) : Value::Null();
}

Value AsDouble(const Value& v) {
  if (v.is_int()) return Value::Real(static_cast<double>(v.as_int()));
  if (v.is_double()) return v;
  return Value::Null();
}

// Column accessor by name over a reader's table.
class Cols {
 public:
  Cols(const TypedTable& t, std::initializer_list<const char*> needed) : t_(t) {
    for (const char* n : needed) {
      int i = t.FindColumn(n);
      if (i < 0) missing_ += std::string(missing_.empty() ? "" : ", ") + n;
      idx_[n] = i;
    }
  }
  Status Check() const {
    if (missing_.empty()) return Status::OK();
    return Status::InvalidArgument(t_.source + ": missing columns " + missing_);
  }
  const Value& Get(const Row& r, const char* n) const { return r[static_cast<size_t>(idx_.at(n))]; }

 private:
  const TypedTable& t_;
  std::map<std::string, int> idx_;
  std::string missing_;
};

Status CreateIfMissing(Store& store, const TableName& name, const Schema& schema, const std::string& comment,
                       const std::map<std::string, std::string>& props, const std::string& principal) {
  return store.CreateTable(name, schema, {.comment = comment, .properties = props, .if_not_exists = true}, principal)
      .status();
}

Result<DemoTableLoad> Summarize(Store& store, const TableName& name, bool changed, std::string note) {
  VESTA_ASSIGN_OR_RETURN(auto info, store.DescribeTable(name));
  return DemoTableLoad{name, info.row_count, info.current_version, changed, std::move(note)};
}

void Report(const DemoOptions& o, std::string_view phase, int64_t done, int64_t total) {
  if (o.progress) o.progress(phase, done, total);
}

// --- Imaging ----------------------------------------------------------------

Schema RadiomicsSchema(int dim) {
  Schema s;
  s.columns = {
      {"study_id", DataType::String(), false, "<patient_id>:<scan_date>"},
      {"patient_id", DataType::String(), false, "12-character TCGA patient barcode"},
      {"scan_date", DataType::DateT(), true, "pre-operative MRI scan date"},
      {"cohort", DataType::String(), false, "GBM or LGG (TCGA project)"},
      {"tissue_source_site", DataType::String(), true, "TCGA tissue source site code from the barcode"},
      {"missing_features", DataType::Bigint(), true, "raw features missing in this study (imputed as the mean)"},
      {"features", DataType::Vector(dim), false,
       "radiomic features standardised per feature: (x - mean) / sd over both cohorts; "
       "see main.imaging.radiomics_feature_stats"}};
  s.primary_key = "study_id";
  return s;
}

Schema FeatureStatsSchema() {
  Schema s;
  s.columns = {{"feature_index", DataType::Bigint(), false, "0-based component of radiomics.features"},
               {"feature_name", DataType::String(), false, "radiomic feature (CaPTk / BraTS naming)"},
               {"mean", DataType::Double(), true, "mean over observed values, both cohorts"},
               {"sd", DataType::Double(), true, "sample standard deviation (n - 1) over observed values"},
               {"n_observed", DataType::Bigint(), false, ""},
               {"n_missing", DataType::Bigint(), false, ""}};
  s.primary_key = "feature_index";
  return s;
}

Result<DemoTableLoad> LoadImaging(Store& store, const DemoOptions& o, DemoTableLoad* stats_load) {
  struct Study {
    std::string patient;
    Value date;
    std::string cohort;
    std::vector<double> raw;
  };
  std::vector<Study> studies;
  std::vector<std::string> feature_names;
  for (const char* cohort : {"GBM", "LGG"}) {
    VESTA_ASSIGN_OR_RETURN(std::string path, DataFile(o, std::string("TCGA_") + cohort + "_radiomicFeatures.csv.gz"));
    DelimitedOptions d;
    d.delimiter = ',';
    d.renames = {{"ID", "patient_id"}, {"Date", "scan_date"}};
    d.type_overrides = {{"ID", DataType::String()}, {"Date", DataType::String()}};
    // The LGG file has spreadsheet errors ("#DIV/0!", 2 cells) and an "Inf"
    // (DIST_Vent_ED, 1 cell): undefined ratios, treated as missing.
    d.na_tokens.insert(d.na_tokens.end(), {"#DIV/0!", "Inf", "-Inf"});
    VESTA_ASSIGN_OR_RETURN(TypedTable t, ReadDelimited(path, d));
    Report(o, std::string("read radiomics ") + cohort, static_cast<int64_t>(t.rows.size()),
           static_cast<int64_t>(t.rows.size()));
    if (t.schema.columns.size() < 3 || t.FindColumn("patient_id") != 0 || t.FindColumn("scan_date") != 1) {
      return Status::InvalidArgument(t.source + ": expected columns ID, Date, then the features");
    }
    std::vector<std::string> names;
    for (size_t j = 2; j < t.schema.columns.size(); ++j) {
      const Column& c = t.schema.columns[j];
      if (!c.type.is_numeric() && c.type.id != TypeId::kString) {
        return Status::InvalidArgument(t.source + ": feature column '" + c.name + "' is " + c.type.ToString());
      }
      names.push_back(t.source_columns[j].empty() ? c.name : t.source_columns[j]);
    }
    if (feature_names.empty()) {
      feature_names = names;
    } else if (names != feature_names) {
      return Status::InvalidArgument(t.source + ": its feature columns differ from the GBM file's");
    }
    for (size_t r = 0; r < t.rows.size(); ++r) {
      const Row& row = t.rows[r];
      Study s;
      s.patient = row[0].is_string() ? row[0].as_string() : "";
      if (s.patient.size() < 12) {
        return Status::InvalidArgument(t.source + ":" + std::to_string(t.source_lines[r]) +
                                       ": column 'ID': expected a TCGA patient barcode, got '" + s.patient + "'");
      }
      s.patient = s.patient.substr(0, 12);
      // Dates are written YYYY.MM.DD.
      if (row[1].is_string()) {
        std::string iso = row[1].as_string();
        std::replace(iso.begin(), iso.end(), '.', '-');
        auto dv = ParseValue(iso, DataType::DateT());
        if (!dv.ok()) {
          return Status::InvalidArgument(t.source + ":" + std::to_string(t.source_lines[r]) +
                                         ": column 'Date': expected a date YYYY.MM.DD, got '" + row[1].as_string() + "'");
        }
        s.date = *dv;
      }
      s.cohort = cohort;
      s.raw.resize(names.size());
      for (size_t j = 2; j < row.size(); ++j) {
        const Value& v = row[j];
        double x = std::numeric_limits<double>::quiet_NaN();
        if (v.is_int() || v.is_double()) {
          x = v.as_number();
        } else if (v.is_string()) {
          return Status::InvalidArgument(t.source + ":" + std::to_string(t.source_lines[r]) + ": column '" +
                                         names[j - 2] + "': expected a number, got '" + v.as_string() + "'");
        }
        s.raw[j - 2] = x;
      }
      studies.push_back(std::move(s));
    }
  }
  // Per-feature mean and sample sd over observed values (Eigen; missing = NaN).
  const Eigen::Index n = static_cast<Eigen::Index>(studies.size());
  const Eigen::Index d = static_cast<Eigen::Index>(feature_names.size());
  Eigen::MatrixXd x(n, d);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < d; ++j) x(i, j) = studies[static_cast<size_t>(i)].raw[static_cast<size_t>(j)];
  const Eigen::ArrayXXd observed = x.array().isNaN().select(Eigen::ArrayXXd::Zero(n, d), 1.0);
  const Eigen::ArrayXXd filled = x.array().isNaN().select(Eigen::ArrayXXd::Zero(n, d), x.array());
  const Eigen::ArrayXd count = observed.colwise().sum().transpose();
  const Eigen::ArrayXd mean = filled.colwise().sum().transpose() / count.max(1.0);
  Eigen::ArrayXXd centered = filled.rowwise() - mean.transpose();
  centered *= observed;
  const Eigen::ArrayXd var = centered.square().colwise().sum().transpose() / (count - 1.0).max(1.0);
  std::vector<double> means(static_cast<size_t>(d)), sds(static_cast<size_t>(d));
  std::vector<Row> stats_rows;
  for (Eigen::Index j = 0; j < d; ++j) {
    means[static_cast<size_t>(j)] = mean(j);
    sds[static_cast<size_t>(j)] = std::sqrt(var(j));
    stats_rows.push_back({Value::Int(j), Value::Str(feature_names[static_cast<size_t>(j)]),
                          count(j) > 0 ? Value::Real(mean(j)) : Value::Null(),
                          count(j) > 1 ? Value::Real(std::sqrt(var(j))) : Value::Null(),
                          Value::Int(static_cast<int64_t>(count(j))), Value::Int(n - static_cast<int64_t>(count(j)))});
  }
  std::vector<Row> rows;
  for (const Study& s : studies) {
    int64_t missing = 0;
    for (double v : s.raw) missing += std::isnan(v) ? 1 : 0;
    std::string study_id = s.patient + ":" + (s.date.is_null() ? std::string("unknown") : s.date.ToString());
    rows.push_back({Value::Str(study_id), Value::Str(s.patient), s.date, Value::Str(s.cohort), SiteOf(s.patient),
                    Value::Int(missing), Value::Vec(StandardizeFeatures(s.raw, means, sds))});
  }
  const TableName radiomics = T("main.imaging.radiomics"), stats = T("main.imaging.radiomics_feature_stats");
  VESTA_RETURN_IF_ERROR(CreateIfMissing(
      store, radiomics, RadiomicsSchema(static_cast<int>(d)),
      "MRI radiomic features of pre-operative TCGA-GBM and TCGA-LGG scans (Bakas et al. 2017, TCIA), one row per study",
      {{"vector_column", "features"},
       {"standardization_table", stats.ToString()},
       {"missing_value_rule",
        "empty cells and undefined ratios (#DIV/0!, Inf) are missing; a missing raw feature is imputed with the "
        "feature's mean over both cohorts, i.e. 0 after standardisation"}},
      o.principal));
  VESTA_RETURN_IF_ERROR(CreateIfMissing(store, stats, FeatureStatsSchema(),
                                        "per-feature parameters of the radiomics standardisation", {}, o.principal));
  // One transaction: the vectors and the parameters that produced them.
  auto txn = store.Begin(o.principal);
  txn->SetProgress([&o](int64_t done, int64_t total) { Report(o, "commit radiomics", done, total); });
  VESTA_RETURN_IF_ERROR(txn->Upsert(radiomics, std::move(rows), "TCGA_{GBM,LGG}_radiomicFeatures.csv"));
  VESTA_RETURN_IF_ERROR(txn->Upsert(stats, std::move(stats_rows), "TCGA_{GBM,LGG}_radiomicFeatures.csv"));
  VESTA_ASSIGN_OR_RETURN(auto commits, txn->Commit());
  bool changed_r = false, changed_s = false;
  for (const auto& c : commits) {
    (EqualsIgnoreCase(c.table.table, "radiomics") ? changed_r : changed_s) = true;
  }
  int64_t imputed = 0;
  for (Eigen::Index j = 0; j < d; ++j) imputed += n - static_cast<int64_t>(count(j));
  VESTA_ASSIGN_OR_RETURN(*stats_load, Summarize(store, stats, changed_s, std::to_string(d) + " features"));
  return Summarize(store, radiomics, changed_r,
                   std::to_string(n) + " studies x " + std::to_string(d) + " features; " + std::to_string(imputed) +
                       " missing cells imputed");
}

// --- Clinical ---------------------------------------------------------------

Schema PatientsSchema() {
  Schema s;
  s.columns = {
      {"patient_id", DataType::String(), false, "12-character TCGA patient barcode"},
      {"cohort", DataType::String(), false, "GBM or LGG (TCGA project)"},
      {"tissue_source_site", DataType::String(), true, "TCGA tissue source site code from the barcode"},
      {"age_at_diagnosis", DataType::Double(), true, "years"},
      {"sex", DataType::String(), true, "MALE / FEMALE"},
      {"race", DataType::String(), true, ""},
      {"ethnicity", DataType::String(), true, ""},
      {"subtype", DataType::String(), true, "PanCancer Atlas molecular subtype (GBM only)"},
      {"histological_type", DataType::String(), true, "TCGA-CDR histological type (LGG only)"},
      {"histological_grade", DataType::String(), true, "TCGA-CDR grade (LGG only)"},
      {"icd_o_3_histology", DataType::String(), true, ""},
      {"os_status", DataType::String(), true, "LIVING / DECEASED"},
      {"os_event", DataType::Boolean(), true, "true if deceased (overall survival event)"},
      {"os_months", DataType::Double(), true, "overall survival, months (days / 30.417)"},
      {"dss_status", DataType::String(), true, "disease-specific survival status"},
      {"dss_months", DataType::Double(), true, ""},
      {"pfs_status", DataType::String(), true, "progression-free survival status"},
      {"pfs_months", DataType::Double(), true, ""},
      {"source", DataType::String(), false, "file the row came from"}};
  s.primary_key = "patient_id";
  return s;
}

Result<DemoTableLoad> LoadClinical(Store& store, const DemoOptions& o) {
  std::vector<Row> rows;
  {  // GBM: cBioPortal PanCancer Atlas patient table.
    VESTA_ASSIGN_OR_RETURN(std::string path, DataFile(o, "data_clinical_patient.txt.gz"));
    DelimitedOptions d = DelimitedOptions::CbioportalClinical();
    d.type_overrides = {{"AGE", DataType::Double()}};
    VESTA_ASSIGN_OR_RETURN(TypedTable t, ReadDelimited(path, d));
    Cols c(t, {"PATIENT_ID", "AGE", "SEX", "RACE", "ETHNICITY", "SUBTYPE", "ICD_O_3_HISTOLOGY", "OS_STATUS",
               "OS_MONTHS", "DSS_STATUS", "DSS_MONTHS", "PFS_STATUS", "PFS_MONTHS"});
    VESTA_RETURN_IF_ERROR(c.Check());
    for (const Row& r : t.rows) {
      const std::string id = c.Get(r, "PATIENT_ID").as_string();
      Value os = StripCode(c.Get(r, "OS_STATUS"));
      rows.push_back({Value::Str(id), Value::Str("GBM"), SiteOf(id), AsDouble(c.Get(r, "AGE")),
                      UpperOrNull(c.Get(r, "SEX")), UpperOrNull(c.Get(r, "RACE")), UpperOrNull(c.Get(r, "ETHNICITY")),
                      c.Get(r, "SUBTYPE"), Value::Null(), Value::Null(), c.Get(r, "ICD_O_3_HISTOLOGY").is_null()
                          ? Value::Null()
                          : Value::Str(c.Get(r, "ICD_O_3_HISTOLOGY").ToString()),
                      os, os.is_null() ? Value::Null() : Value::Bool(os.as_string() == "DECEASED"),
                      AsDouble(c.Get(r, "OS_MONTHS")), StripCode(c.Get(r, "DSS_STATUS")),
                      AsDouble(c.Get(r, "DSS_MONTHS")), StripCode(c.Get(r, "PFS_STATUS")),
                      AsDouble(c.Get(r, "PFS_MONTHS")), Value::Str("cBioPortal gbm_tcga_pan_can_atlas_2018")});
    }
    Report(o, "read clinical GBM", static_cast<int64_t>(t.rows.size()), static_cast<int64_t>(t.rows.size()));
  }
  {  // LGG: MC3 per-sample clinical table (TCGA-CDR outcomes), primary tumour samples.
    VESTA_ASSIGN_OR_RETURN(std::string path, DataFile(o, "LGG_MC3_clinical.tsv.gz"));
    DelimitedOptions d;
    d.delimiter = '\t';
    d.type_overrides = {{"CDR_age_at_initial_pathologic_diagnosis", DataType::Double()},
                        {"CDR_OS", DataType::String()},        {"CDR_OS.time", DataType::Double()},
                        {"CDR_DSS", DataType::String()},       {"CDR_DSS.time", DataType::Double()},
                        {"CDR_PFI", DataType::String()},       {"CDR_PFI.time", DataType::Double()},
                        {"icd_o_3_histology", DataType::String()}};
    VESTA_ASSIGN_OR_RETURN(TypedTable t, ReadDelimited(path, d));
    Cols c(t, {"Tumor_Sample_Barcode_min", "Tumor_Sample_Barcode", "CDR_age_at_initial_pathologic_diagnosis",
               "CDR_gender", "CDR_race", "ethnicity", "CDR_histological_type", "CDR_histological_grade",
               "icd_o_3_histology", "CDR_OS", "CDR_OS_time", "CDR_DSS", "CDR_DSS_time", "CDR_PFI", "CDR_PFI_time"});
    VESTA_RETURN_IF_ERROR(c.Check());
    auto months = [](const Value& days) {
      return days.is_null() ? Value::Null() : Value::Real(days.as_number() / kDaysPerMonth);
    };
    auto status = [](const Value& v, const char* zero, const char* one) {
      if (!v.is_string()) return Value::Null();
      if (v.as_string() == "0") return Value::Str(zero);
      if (v.as_string() == "1") return Value::Str(one);
      return Value::Null();
    };
    for (const Row& r : t.rows) {
      const Value& sample = c.Get(r, "Tumor_Sample_Barcode");
      // Sample type 01 = primary solid tumour; 14 patients also have a 02 (recurrence).
      if (!sample.is_string() || sample.as_string().size() < 15 || sample.as_string().substr(13, 2) != "01") continue;
      const std::string id = c.Get(r, "Tumor_Sample_Barcode_min").as_string();
      Value os = status(c.Get(r, "CDR_OS"), "LIVING", "DECEASED");
      rows.push_back({Value::Str(id), Value::Str("LGG"), SiteOf(id),
                      AsDouble(c.Get(r, "CDR_age_at_initial_pathologic_diagnosis")), UpperOrNull(c.Get(r, "CDR_gender")),
                      UpperOrNull(c.Get(r, "CDR_race")), UpperOrNull(c.Get(r, "ethnicity")), Value::Null(),
                      UpperOrNull(c.Get(r, "CDR_histological_type")), c.Get(r, "CDR_histological_grade"),
                      c.Get(r, "icd_o_3_histology"), os,
                      os.is_null() ? Value::Null() : Value::Bool(os.as_string() == "DECEASED"),
                      months(c.Get(r, "CDR_OS_time")), status(c.Get(r, "CDR_DSS"), "ALIVE OR DEAD TUMOR FREE", "DEAD WITH TUMOR"),
                      months(c.Get(r, "CDR_DSS_time")), status(c.Get(r, "CDR_PFI"), "CENSORED", "PROGRESSION"),
                      months(c.Get(r, "CDR_PFI_time")), Value::Str("TCGAmutations MC3 LGG clinical (TCGA-CDR)")});
    }
    Report(o, "read clinical LGG", static_cast<int64_t>(t.rows.size()), static_cast<int64_t>(t.rows.size()));
  }
  const TableName name = T("main.clinical.patients");
  VESTA_RETURN_IF_ERROR(CreateIfMissing(store, name, PatientsSchema(),
                                        "TCGA glioma patients: GBM from cBioPortal PanCancer Atlas, LGG from MC3 / "
                                        "TCGA-CDR; one row per patient",
                                        {}, o.principal));
  const size_t n = rows.size();
  auto txn = store.Begin(o.principal);
  VESTA_RETURN_IF_ERROR(txn->Upsert(name, std::move(rows), "data_clinical_patient.txt + LGG_MC3_clinical.tsv"));
  VESTA_ASSIGN_OR_RETURN(auto commits, txn->Commit());
  return Summarize(store, name, !commits.empty(), std::to_string(n) + " patients (GBM + LGG primary tumours)");
}

// --- Genomics ---------------------------------------------------------------

Result<DemoTableLoad> LoadMutations(Store& store, const DemoOptions& o) {
  const TableName name = T("main.genomics.somatic_mutations");
  std::vector<Row> rows;
  Schema schema;
  std::vector<int64_t> lines;
  for (const char* cohort : {"GBM", "LGG"}) {
    VESTA_ASSIGN_OR_RETURN(std::string path, DataFile(o, std::string(cohort) + "_MC3_mutations_nonsilent.tsv.gz"));
    MafOptions m;
    m.keep_other_columns = false;
    VESTA_ASSIGN_OR_RETURN(TypedTable t, ReadMaf(path, m));
    Report(o, std::string("read mutations ") + cohort, static_cast<int64_t>(t.rows.size()),
           static_cast<int64_t>(t.rows.size()));
    if (schema.columns.empty()) {
      schema = t.schema;
      schema.columns.push_back({"cohort", DataType::String(), true, "GBM or LGG (TCGA project)"});
    } else if (schema.columns.size() != t.schema.columns.size() + 1) {
      return Status::InvalidArgument(t.source + ": its columns differ from the GBM file's");
    }
    for (Row& r : t.rows) {
      r.push_back(Value::Str(cohort));
      rows.push_back(std::move(r));
    }
  }
  VESTA_RETURN_IF_ERROR(CreateIfMissing(store, name, schema,
                                        "TCGA MC3 somatic mutations (non-silent), GBM + LGG (Ellrott et al. 2018)", {},
                                        o.principal));
  const size_t n = rows.size();
  auto txn = store.Begin(o.principal);
  txn->SetProgress([&o](int64_t done, int64_t total) { Report(o, "commit mutations", done, total); });
  VESTA_RETURN_IF_ERROR(txn->Upsert(name, std::move(rows), "{GBM,LGG}_MC3_mutations_nonsilent.tsv"));
  VESTA_ASSIGN_OR_RETURN(auto commits, txn->Commit());
  return Summarize(store, name, !commits.empty(), std::to_string(n) + " non-silent variants (MC3)");
}

}  // namespace

std::vector<float> StandardizeFeatures(const std::vector<double>& raw, const std::vector<double>& mean,
                                       const std::vector<double>& sd) {
  std::vector<float> z(raw.size());
  for (size_t j = 0; j < raw.size(); ++j) {
    const double x = raw[j];
    z[j] = (std::isnan(x) || !(sd[j] > 0)) ? 0.0f : static_cast<float>((x - mean[j]) / sd[j]);
  }
  return z;
}

Result<DemoLoadReport> LoadDemoCohort(Store& store, const DemoOptions& options) {
  VESTA_ASSIGN_OR_RETURN(std::string probe, DataFile(options, "TCGA_GBM_radiomicFeatures.csv.gz"));
  (void)probe;
  VESTA_RETURN_IF_ERROR(store.CreateCatalog("main", options.principal, true));
  for (const char* s : {"imaging", "clinical", "genomics"}) {
    VESTA_RETURN_IF_ERROR(store.CreateSchema("main", s, options.principal, true));
  }
  DemoLoadReport report;
  DemoTableLoad stats;
  VESTA_ASSIGN_OR_RETURN(DemoTableLoad imaging, LoadImaging(store, options, &stats));
  report.tables.push_back(imaging);
  report.tables.push_back(stats);
  VESTA_ASSIGN_OR_RETURN(DemoTableLoad clinical, LoadClinical(store, options));
  report.tables.push_back(clinical);
  VESTA_ASSIGN_OR_RETURN(DemoTableLoad mutations, LoadMutations(store, options));
  report.tables.push_back(mutations);
  return report;
}

}  // namespace vesta::ingest
