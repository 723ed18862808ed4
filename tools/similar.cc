#include "tools/similar.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <regex>

#include "tools/output.h"

namespace vesta::tools {
namespace {

using json = nlohmann::json;

const char* kClinical = "main.clinical.patients";
const char* kMutations = "main.genomics.somatic_mutations";
const std::vector<std::string> kClinicalColumns = {"age_at_diagnosis",  "sex",       "subtype",
                                                   "histological_type", "os_months", "os_event"};

std::string Fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, x);
  return buf;
}

// A p-value as people read it: 3 significant digits, "<1e-16" below that.
std::string PValue(const json& p) {
  if (!p.is_number()) return "-";
  const double x = p.get<double>();
  if (x < 1e-16) return "<1e-16";
  char buf[32];
  std::snprintf(buf, sizeof(buf), x < 1e-3 ? "%.2e" : "%.3f", x);
  return buf;
}

std::string Cell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return Fixed(v.get<double>(), 1);
  return v.dump();
}

std::string Percent(const json& prop) {
  if (!prop.is_object()) return "-";
  const json& p = prop["proportion"];
  return std::to_string(prop.value("count", 0)) + "/" + std::to_string(prop.value("n", 0)) +
         (p.is_number() ? " (" + Fixed(100.0 * p.get<double>(), 0) + "%)" : "");
}

std::string Iqr(const json& s) {
  if (!s.is_object() || !s["median"].is_number()) return "-";
  return Fixed(s["median"].get<double>(), 1) + " [" + Fixed(s["q1"].get<double>(), 1) + ", " +
         Fixed(s["q3"].get<double>(), 1) + "] n=" + std::to_string(s.value("n", 0));
}

int ColumnOf(const json& columns, const std::string& name) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Result<json> SimilarRequestBody(const SimilarOptions& o) {
  if (o.like.empty()) return Status::InvalidArgument("--like: give the example case's " + o.like_column);
  if (o.k < 1 || o.k > 1000)
    return Status::InvalidArgument("--k: expected 1..1000, got " + std::to_string(o.k));
  json body = {{"example", {{"column", o.like_column}, {"value", o.like}}},
               {"num_results", o.k},
               {"columns", {"study_id", "patient_id", "cohort", "tissue_source_site"}},
               {"join_key", "patient_id"}};
  if (!o.filter.empty()) body["filter_string"] = o.filter;
  bool clinical = false, mutations = false;
  for (const std::string& j : o.joins) {
    if (j == "clinical") {
      clinical = true;
    } else if (j == "mutations") {
      mutations = true;
    } else {
      return Status::InvalidArgument("--join: unknown join '" + j + "' (expected clinical, mutations)");
    }
  }
  if (!o.clinical_filter.empty()) clinical = true;
  json joins = json::array();
  if (clinical) {
    json c = {{"name", "clinical"}, {"table", kClinical}, {"columns", kClinicalColumns}};
    if (!o.clinical_filter.empty()) {
      c["filter"] = o.clinical_filter;
      c["restrict_cases"] = true;
    }
    joins.push_back(c);
  }
  if (mutations) {
    if (o.genes.empty())
      return Status::InvalidArgument("--genes: list at least one gene to join mutations on");
    std::string in;
    for (const std::string& g : o.genes) {
      if (g.empty() ||
          g.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") !=
              std::string::npos) {
        return Status::InvalidArgument("--genes: '" + g +
                                       "' is not a gene symbol (letters, digits, '-', '.')");
      }
      in += (in.empty() ? "'" : ", '") + g + "'";
    }
    joins.push_back({{"name", "mutations"},
                     {"table", kMutations},
                     {"columns", {"hugo_symbol", "hgvsp_short", "variant_classification", "vaf"}},
                     {"filter", "hugo_symbol IN (" + in + ")"}});
  }
  if (!joins.empty()) body["joins"] = joins;
  if (o.summary && (clinical || mutations)) {
    json s = json::object();
    if (clinical) {
      s["categorical"] = {{{"join", "clinical"}, {"column", "sex"}},
                          {{"join", "clinical"}, {"column", "subtype"}}};
      s["numeric"] = {{{"join", "clinical"}, {"column", "age_at_diagnosis"}},
                      {{"join", "clinical"}, {"column", "os_months"}}};
      s["survival"] = {{"join", "clinical"}, {"time_column", "os_months"}, {"event_column", "os_event"}};
    }
    if (mutations) s["genes"] = {{"join", "mutations"}, {"column", "hugo_symbol"}, {"genes", o.genes}};
    body["summary"] = s;
  }
  return body;
}

void PrintSimilarAnswer(std::ostream& out, const json& a) {
  const json& cols = a["manifest"]["columns"];
  const json& data = a["result"]["data_array"];
  const json& clinical =
      a["joins"].is_object() && a["joins"].contains("clinical") ? a["joins"]["clinical"] : json();
  const json& mutations =
      a["joins"].is_object() && a["joins"].contains("mutations") ? a["joins"]["mutations"] : json();
  std::vector<TextColumn> header = {{"#", Align::kRight}};
  for (const json& c : cols) {
    const std::string name = c.value("name", "");
    header.push_back({name, name == "score" ? Align::kRight : Align::kLeft, 28});
  }
  std::vector<std::string> clin_cols;
  if (clinical.is_object()) {
    for (const json& c : clinical["columns"]) {
      clin_cols.push_back(c.get<std::string>());
      header.push_back({c.get<std::string>(), Align::kLeft, 24});
    }
  }
  if (mutations.is_object()) header.push_back({"mutations (panel)", Align::kLeft, 60});
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < data.size(); ++i) {
    std::vector<std::string> r = {std::to_string(i + 1)};
    for (size_t j = 0; j < data[i].size(); ++j) {
      r.push_back(j + 1 == data[i].size() && data[i][j].is_number() ? Fixed(data[i][j].get<double>(), 4)
                                                                    : Cell(data[i][j]));
    }
    if (clinical.is_object()) {
      const json& per = clinical["rows_per_case"];
      const json row = i < per.size() && !per[i].empty() ? per[i][0] : json();
      for (size_t c = 0; c < clin_cols.size(); ++c) r.push_back(row.is_array() ? Cell(row[c]) : "");
    }
    if (mutations.is_object()) {
      const json& per = mutations["rows_per_case"];
      const json& mc = mutations["columns"];
      const int g = ColumnOf(mc, "hugo_symbol"), p = ColumnOf(mc, "hgvsp_short"), v = ColumnOf(mc, "vaf");
      std::string text;
      if (i < per.size()) {
        for (const json& m : per[i]) {
          std::string one = g >= 0 ? Cell(m[g]) : "";
          if (p >= 0 && m[p].is_string()) one += " " + m[p].get<std::string>();
          if (v >= 0 && m[v].is_number()) one += " (" + Fixed(m[v].get<double>(), 2) + ")";
          text += (text.empty() ? "" : ", ") + one;
        }
      }
      r.push_back(text.empty() ? "-" : text);
    }
    rows.push_back(std::move(r));
  }
  out << "Similar cases (" << data.size() << "):\n";
  PrintTextTable(out, header, rows);

  const json& s = a["summary"];
  if (s.is_object()) {
    out << "\nEvidence summary: " << s["similar"].value("patients", 0) << " similar patients vs "
        << s["population"].value("patients", 0) << " in the population you can see ("
        << s["population"].value("definition", "") << ").\nTests: " << s.value("tests", "") << "\n";
    std::vector<std::vector<std::string>> feature_rows;
    for (const json& f : s.value("categorical", json::array())) {
      for (const json& l : f["levels"]) {
        feature_rows.push_back({f.value("column", "") + " = " + l.value("value", ""), Percent(l["similar"]),
                                Percent(l["population"]),
                                l["odds_ratio"].is_number() ? Fixed(l["odds_ratio"].get<double>(), 2) : "-",
                                PValue(l["fisher_p"])});
      }
    }
    if (s.contains("genes") && s["genes"].is_object()) {
      for (const json& g : s["genes"]["genes"]) {
        feature_rows.push_back({g.value("gene", "") + " mutated", Percent(g["similar"]),
                                Percent(g["population"]),
                                g["odds_ratio"].is_number() ? Fixed(g["odds_ratio"].get<double>(), 2) : "-",
                                PValue(g["fisher_p"])});
      }
    }
    if (!feature_rows.empty()) {
      out << "\n";
      PrintTextTable(out,
                     {{"feature", Align::kLeft, 40},
                      {"similar", Align::kRight},
                      {"population", Align::kRight},
                      {"odds ratio", Align::kRight},
                      {"Fisher p", Align::kRight}},
                     feature_rows);
    }
    std::vector<std::vector<std::string>> numeric_rows;
    for (const json& f : s.value("numeric", json::array())) {
      numeric_rows.push_back({f.value("column", ""), Iqr(f["similar"]), Iqr(f["population"])});
    }
    if (!numeric_rows.empty()) {
      out << "\n";
      PrintTextTable(out,
                     {{"feature (median [IQR])", Align::kLeft},
                      {"similar", Align::kRight},
                      {"population", Align::kRight}},
                     numeric_rows);
    }
    if (s.contains("survival") && s["survival"].is_object()) {
      const json& v = s["survival"];
      auto median = [](const json& c) {
        if (!c.is_object()) return std::string("-");
        return (c["median"].is_number() ? Fixed(c["median"].get<double>(), 1) : std::string("not reached")) +
               " (n=" + std::to_string(c.value("n", 0)) + ", " + std::to_string(c.value("events", 0)) +
               " events)";
      };
      out << "\nOverall survival (Kaplan-Meier median, months): similar " << median(v["similar"])
          << "; population " << median(v["population"]);
      if (v["log_rank"].is_object())
        out << "; log-rank p (similar vs rest) " << PValue(v["log_rank"]["p_value"]);
      out << "\n";
    }
  }
  const json& p = a["provenance"];
  if (p.is_object()) {
    out << "\nProvenance " << p.value("id", "") << ": index " << p.value("index", "") << " @"
        << (p["index_version"].is_number() ? std::to_string(p["index_version"].get<int64_t>())
                                           : std::string("-"))
        << " (plan " << p.value("plan", "") << "), " << p.value("source_table", "") << " @"
        << p.value("source_version", -1);
    for (const auto& [name, j] : a["joins"].items()) {
      out << ", " << j.value("table", "") << " @" << j.value("version", -1);
    }
    out << "\n";
  }
}

Status RunSimilar(const SimilarOptions& o, std::ostream& out) {
  static const std::regex kLocal(R"(^http://(127\.0\.0\.1|localhost)(:[0-9]{1,5})?/?$)");
  if (!std::regex_match(o.server, kLocal)) {
    return Status::InvalidArgument("--server: expected http://127.0.0.1:PORT (or localhost), got '" +
                                   o.server + "'");
  }
  if (o.token.empty()) return Status::InvalidArgument("--token-file: no token (or set VESTA_TOKEN)");
  VESTA_ASSIGN_OR_RETURN(json body, SimilarRequestBody(o));
  std::string base = o.server;
  if (base.back() == '/') base.pop_back();
  httplib::Client c(base);
  c.set_connection_timeout(5);
  c.set_read_timeout(120);
  auto r = c.Post("/api/2.0/vector-search/indexes/" + o.index + "/similar-cases",
                  {{"Authorization", "Bearer " + o.token}}, body.dump(), "application/json");
  if (!r) return Status::Unavailable("cannot reach " + base + ": " + httplib::to_string(r.error()));
  json a = json::parse(r->body, nullptr, false);
  if (r->status != 200) {
    const std::string msg = a.is_object() ? a.value("message", r->body) : r->body;
    switch (r->status) {
      case 400:
        return Status::InvalidArgument(msg);
      case 401:
        return Status::Unauthenticated(msg);
      case 403:
        return Status::PermissionDenied(msg);
      case 404:
        return Status::NotFound(msg);
      case 503:
        return Status::Unavailable(msg);
      default:
        return Status::Internal("HTTP " + std::to_string(r->status) + ": " + msg);
    }
  }
  if (a.is_discarded()) return Status::Internal("the server's answer is not JSON");
  if (o.json_output) {
    out << a.dump(2) << "\n";
  } else {
    PrintSimilarAnswer(out, a);
  }
  return Status::OK();
}

}  // namespace vesta::tools
