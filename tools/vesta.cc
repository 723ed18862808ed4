// vesta: the command-line tool for Vesta stores.
//
// Exit codes (also in `vesta --help`):
//   0 success
//   1 internal or other error
//   2 usage error (unknown command or flag, bad flag value)
//   3 not found (store, table, version, column, file)
//   4 invalid argument (bad input data, predicate, schema)
//   5 conflict: a concurrent commit (ABORTED: retry) or something already exists
//   6 failed precondition (e.g. a vacuumed version)
// Errors print one line to stderr: "vesta: <CODE>: <message>".
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "governance/store.h"
#include "ingest/demo_cohort.h"
#include "ingest/ingest.h"
#include "tools/output.h"

namespace vesta::tools {
namespace {

using governance::CommitInfo;
using governance::Store;
using governance::TableName;
using governance::VersionSpec;

constexpr const char* kExitCodes =
    "Exit codes: 0 success; 1 internal error; 2 usage error; 3 not found; 4 invalid argument;\n"
    "5 conflict (a concurrent commit: retry) or already exists; 6 failed precondition (e.g. vacuumed version).";

int ExitCode(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kNotFound: return 3;
    case StatusCode::kInvalidArgument: return 4;
    case StatusCode::kAborted:
    case StatusCode::kAlreadyExists: return 5;
    case StatusCode::kFailedPrecondition: return 6;
    default: return 1;
  }
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

struct Globals {
  std::string store = EnvOr("VESTA_STORE", "vesta-data/store.vesta");
  std::string principal = EnvOr("USER", "vesta");
};

Result<std::unique_ptr<Store>> OpenStore(const Globals& g) {
  return Store::Open(g.store, {.create_if_missing = false});
}

// --version / --timestamp flags shared by read commands.
struct VersionFlags {
  int64_t version = -1;
  std::string timestamp;
  void Add(CLI::App* cmd) {
    auto* v = cmd->add_option("--version", version, "read the table as of this version (time travel)");
    auto* t = cmd->add_option("--timestamp", timestamp,
                              "read as of this time, ISO-8601 UTC (YYYY-MM-DD[THH:MM:SS[.ffffff]][Z])");
    v->excludes(t);
  }
  Result<VersionSpec> Spec() const {
    VersionSpec at;
    if (version >= 0) at.version = version;
    if (!timestamp.empty()) {
      VESTA_ASSIGN_OR_RETURN(Timestamp ts, ParseTimestamp(timestamp));
      at.timestamp = ts;
    }
    return at;
  }
};

Result<TableName> Name(const std::string& s) { return TableName::Parse(s); }

// Splits "a BIGINT NOT NULL, b VECTOR(3) COMMENT 'x, y'" on top-level commas.
std::vector<std::string> SplitTopLevel(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  bool quoted = false;
  for (char c : s) {
    if (c == '\'') quoted = !quoted;
    if (!quoted && c == '(') ++depth;
    if (!quoted && c == ')') --depth;
    if (!quoted && depth == 0 && c == ',') {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Parses "name TYPE [NOT NULL] [COMMENT 'text']".
Result<Column> ParseColumnSpec(const std::string& spec) {
  std::string s = spec;
  Column c;
  size_t cpos = std::string::npos;
  for (size_t i = 0; i + 7 <= s.size(); ++i) {
    if (EqualsIgnoreCase(s.substr(i, 7), "COMMENT") && (i == 0 || s[i - 1] == ' ')) {
      cpos = i;
      break;
    }
  }
  if (cpos != std::string::npos) {
    std::string rest = s.substr(cpos + 7);
    size_t a = rest.find('\''), b = rest.rfind('\'');
    if (a == std::string::npos || b == a) {
      return Status::InvalidArgument("column '" + spec + "': COMMENT needs a quoted text, e.g. COMMENT 'age in years'");
    }
    c.comment = rest.substr(a + 1, b - a - 1);
    s = s.substr(0, cpos);
  }
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (words.size() < 2) {
    return Status::InvalidArgument("column '" + spec + "': expected 'name TYPE [NOT NULL] [COMMENT '...']'");
  }
  c.name = words[0];
  // The type may contain spaces inside parentheses: VECTOR( 3 ).
  std::string type = words[1];
  size_t i = 2;
  while (type.find('(') != std::string::npos && type.find(')') == std::string::npos && i < words.size()) {
    type += words[i++];
  }
  VESTA_ASSIGN_OR_RETURN(c.type, DataType::Parse(type));
  if (i + 2 == words.size() && EqualsIgnoreCase(words[i], "NOT") && EqualsIgnoreCase(words[i + 1], "NULL")) {
    c.nullable = false;
  } else if (i != words.size()) {
    return Status::InvalidArgument("column '" + spec + "': unexpected '" + words[i] + "' (expected NOT NULL or COMMENT)");
  }
  return c;
}

void PrintCommits(const std::vector<CommitInfo>& commits) {
  for (const CommitInfo& c : commits) {
    std::cout << "committed " << c.table.ToString() << " version " << c.version << " (" << c.operation
              << "): " << c.rows_added << " added, " << c.rows_updated << " updated, " << c.rows_removed
              << " removed\n";
  }
}

// Progress on stderr: one updating line on a terminal, a line per phase otherwise.
ingest::ProgressFn MakeProgress() {
  const bool tty = isatty(STDERR_FILENO) != 0;
  auto last = std::make_shared<std::string>();
  return [tty, last](std::string_view phase, int64_t done, int64_t total) {
    if (tty) {
      std::cerr << "\r" << phase << ": " << done << " / " << total << " rows" << std::string(8, ' ');
      if (done == total) std::cerr << "\n";
    } else if (done == total || *last != phase) {
      if (done == total) std::cerr << phase << ": " << done << " rows\n";
      *last = std::string(phase);
    }
    std::cerr.flush();
  };
}

std::string CommitParams(const CommitInfo& c) {
  try {
    auto j = nlohmann::json::parse(c.parameters_json);
    std::string s;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!s.empty()) s += ", ";
      s += it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
    }
    return s;
  } catch (const nlohmann::json::exception&) {
    return c.parameters_json;
  }
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"vesta: governed, versioned tables for multimodal clinical data (catalog.schema.table)"};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  Globals g;
  app.add_option("--store", g.store, "store file (default: $VESTA_STORE, else vesta-data/store.vesta)");
  app.add_option("--as", g.principal, "principal recorded in commits (default: $USER)");

  std::function<Status()> action;
  auto set = [&action](CLI::App* cmd, std::function<Status()> f) { cmd->callback([&action, f]() { action = f; }); };

  // --- init, catalog, schema -------------------------------------------------
  auto* init = app.add_subcommand("init", "create the store file (and its folder) and catalog 'main'");
  set(init, [&]() -> Status {
    std::filesystem::path p(g.store);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    const bool existed = std::filesystem::exists(p);
    VESTA_ASSIGN_OR_RETURN(auto store, Store::Open(g.store, {}));
    VESTA_RETURN_IF_ERROR(store->CreateCatalog("main", g.principal, true));
    std::cout << (existed ? "found store " : "created store ") << g.store << " (catalog main)\n";
    return Status::OK();
  });
  auto* catalog = app.add_subcommand("catalog", "manage catalogs");
  catalog->require_subcommand(1);
  std::string catalog_name;
  auto* catalog_create = catalog->add_subcommand("create", "create a catalog");
  catalog_create->add_option("NAME", catalog_name, "catalog name")->required();
  set(catalog_create, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    VESTA_RETURN_IF_ERROR(store->CreateCatalog(catalog_name, g.principal));
    std::cout << "created catalog " << catalog_name << "\n";
    return Status::OK();
  });
  auto* schema = app.add_subcommand("schema", "manage schemas");
  schema->require_subcommand(1);
  std::string schema_name;
  auto* schema_create = schema->add_subcommand("create", "create a schema CATALOG.SCHEMA");
  schema_create->add_option("NAME", schema_name, "CATALOG.SCHEMA")->required();
  set(schema_create, [&]() -> Status {
    size_t dot = schema_name.find('.');
    if (dot == std::string::npos) return Status::InvalidArgument("schema name must be CATALOG.SCHEMA, got '" + schema_name + "'");
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    VESTA_RETURN_IF_ERROR(store->CreateSchema(schema_name.substr(0, dot), schema_name.substr(dot + 1), g.principal));
    std::cout << "created schema " << schema_name << "\n";
    return Status::OK();
  });

  // --- table -----------------------------------------------------------------
  auto* table = app.add_subcommand("table", "create, ingest into, read and maintain versioned tables");
  table->require_subcommand(1);
  std::string tname;
  std::string out_format = "table";
  auto output = [&]() -> Result<OutputFormat> {
    OutputFormat f;
    if (!ParseOutputFormat(out_format, &f)) {
      return Status::InvalidArgument("--format must be table, json or csv, got '" + out_format + "'");
    }
    return f;
  };

  // table create
  std::vector<std::string> column_specs;
  std::string schema_spec, primary_key, comment;
  bool if_not_exists = false, create_schema = false;
  auto* create = table->add_subcommand("create", "create a table (version 0)");
  create->add_option("NAME", tname, "catalog.schema.table")->required();
  create->add_option("--column", column_specs, "a column: \"name TYPE [NOT NULL] [COMMENT 'text']\" (repeatable)");
  create->add_option("--schema", schema_spec, "all columns, comma-separated: \"id BIGINT NOT NULL, emb VECTOR(3)\"");
  create->add_option("--primary-key", primary_key, "the primary-key column (BIGINT or STRING)")->required();
  create->add_option("--comment", comment, "table comment");
  create->add_flag("--if-not-exists", if_not_exists, "succeed if the table exists with the same schema");
  create->add_flag("--create-schema", create_schema, "create the catalog and schema if missing");
  set(create, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    std::vector<std::string> specs = column_specs;
    for (const std::string& s : SplitTopLevel(schema_spec)) specs.push_back(s);
    if (specs.empty()) return Status::InvalidArgument("give the columns with --column or --schema");
    Schema sch;
    for (const std::string& s : specs) {
      VESTA_ASSIGN_OR_RETURN(Column c, ParseColumnSpec(s));
      sch.columns.push_back(std::move(c));
    }
    sch.primary_key = primary_key;
    int pk = sch.primary_key_index();
    if (pk >= 0) sch.columns[static_cast<size_t>(pk)].nullable = false;  // keys are never NULL
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    if (create_schema) {
      VESTA_RETURN_IF_ERROR(store->CreateCatalog(name.catalog, g.principal, true));
      VESTA_RETURN_IF_ERROR(store->CreateSchema(name.catalog, name.schema, g.principal, true));
    }
    VESTA_ASSIGN_OR_RETURN(auto info, store->CreateTable(name, sch, {.comment = comment, .if_not_exists = if_not_exists},
                                                         g.principal));
    std::cout << "table " << info.name.ToString() << " at version " << info.current_version << " ("
              << info.schema.columns.size() << " columns)\n";
    return Status::OK();
  });

  // table list
  std::string list_prefix;
  auto* list = table->add_subcommand("list", "list tables, optionally of CATALOG or CATALOG.SCHEMA");
  list->add_option("PREFIX", list_prefix, "CATALOG or CATALOG.SCHEMA");
  set(list, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    size_t dot = list_prefix.find('.');
    std::string cat = list_prefix.substr(0, dot), sch = dot == std::string::npos ? "" : list_prefix.substr(dot + 1);
    VESTA_ASSIGN_OR_RETURN(auto names, store->ListTables(cat, sch));
    std::vector<std::vector<std::string>> rows;
    for (const auto& n : names) {
      VESTA_ASSIGN_OR_RETURN(auto info, store->DescribeTable(n));
      rows.push_back({n.ToString(), std::to_string(info.current_version), std::to_string(info.row_count),
                      std::to_string(info.schema.columns.size()), info.comment});
    }
    PrintTextTable(std::cout, {"table", "version", "rows", "columns", "comment"}, rows);
    return Status::OK();
  });

  // table describe
  VersionFlags describe_at;
  auto* describe = table->add_subcommand("describe", "columns, primary key, versions, row count and properties");
  describe->add_option("NAME", tname, "catalog.schema.table")->required();
  describe_at.Add(describe);
  set(describe, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    VESTA_ASSIGN_OR_RETURN(VersionSpec at, describe_at.Spec());
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    VESTA_ASSIGN_OR_RETURN(auto info, store->DescribeTable(name, at));
    std::cout << info.name.ToString() << "  (" << info.comment << ")\n"
              << "version " << info.version << " of " << info.current_version << " (oldest readable "
              << info.oldest_version << "), " << info.row_count << " rows, owner " << info.owner << ", created "
              << FormatTimestamp(info.created_at) << "\n";
    for (const auto& [k, v] : info.properties) std::cout << "property " << k << " = " << v << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const Column& c : info.schema.columns) {
      rows.push_back({c.name, c.type.ToString(), c.nullable ? "" : "NOT NULL",
                      EqualsIgnoreCase(c.name, info.schema.primary_key) ? "primary key" : "", c.comment});
    }
    std::cout << "\n";
    PrintTextTable(std::cout, {"column", "type", "null", "key", "comment"}, rows, 80);
    return Status::OK();
  });

  // table ingest
  std::string ingest_file, ingest_format = "auto", ingest_mode = "upsert";
  std::vector<std::string> type_flags, rename_flags;
  bool quarantine = false, no_create = false, cbioportal = false;
  auto* ingest_cmd = table->add_subcommand("ingest", "read a file and commit its rows to a table, all or nothing");
  ingest_cmd->add_option("NAME", tname, "catalog.schema.table")->required();
  ingest_cmd->add_option("FILE", ingest_file, "csv, tsv, maf, vcf, fvecs or npz file (.gz accepted for text)")
      ->required();
  ingest_cmd->add_option("--format", ingest_format, "auto (from the extension), csv, tsv, maf, vcf, fvecs, npz");
  ingest_cmd->add_option("--mode", ingest_mode, "upsert (default: replace changed rows) or append (keys must be new)");
  ingest_cmd->add_option("--primary-key", primary_key, "primary-key column when the file creates the table");
  ingest_cmd->add_option("--type", type_flags, "column type override COL=TYPE, e.g. site=STRING (repeatable)");
  ingest_cmd->add_option("--rename", rename_flags, "rename a file column FROM=TO (repeatable)");
  ingest_cmd->add_flag("--cbioportal", cbioportal, "cBioPortal clinical file: skip '#' header lines, use its types");
  ingest_cmd->add_flag("--quarantine", quarantine,
                       "commit the good rows and record rejected ones in <table>_quarantine");
  ingest_cmd->add_flag("--no-create", no_create, "fail if the table does not exist");
  set(ingest_cmd, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    ingest::IngestOptions o;
    VESTA_ASSIGN_OR_RETURN(o.format, ingest::ParseFileFormat(ingest_format));
    if (ingest_mode == "append") o.mode = ingest::WriteMode::kAppend;
    else if (ingest_mode != "upsert") return Status::InvalidArgument("--mode must be upsert or append, got '" + ingest_mode + "'");
    if (cbioportal) o.delimited = ingest::DelimitedOptions::CbioportalClinical();
    o.delimited.primary_key = primary_key;
    for (const std::string& t : type_flags) {
      size_t eq = t.find('=');
      if (eq == std::string::npos) return Status::InvalidArgument("--type must be COL=TYPE, got '" + t + "'");
      VESTA_ASSIGN_OR_RETURN(DataType dt, DataType::Parse(t.substr(eq + 1)));
      o.delimited.type_overrides[t.substr(0, eq)] = dt;
    }
    for (const std::string& r : rename_flags) {
      size_t eq = r.find('=');
      if (eq == std::string::npos) return Status::InvalidArgument("--rename must be FROM=TO, got '" + r + "'");
      o.delimited.renames[r.substr(0, eq)] = r.substr(eq + 1);
    }
    o.quarantine = quarantine;
    o.create_table = !no_create;
    o.principal = g.principal;
    o.progress = MakeProgress();
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    if (!std::filesystem::exists(ingest_file)) return Status::NotFound("no such file: " + ingest_file);
    VESTA_ASSIGN_OR_RETURN(auto rep, ingest::IngestFile(*store, name, ingest_file, o));
    std::cout << "read " << rep.rows_read << " rows from " << rep.source
              << (rep.created_table ? " (created " + name.ToString() + ")" : "") << "\n";
    if (rep.rows_rejected > 0) {
      std::cout << "rejected " << rep.rows_rejected << " records: see " << rep.quarantine_table << "\n";
    }
    if (rep.commits.empty()) {
      VESTA_ASSIGN_OR_RETURN(auto info, store->DescribeTable(name));
      std::cout << "no changes: " << name.ToString() << " stays at version " << info.current_version << "\n";
    }
    PrintCommits(rep.commits);
    return Status::OK();
  });

  // table history
  int64_t limit = -1;
  auto* history = table->add_subcommand("history", "the table's commits, newest first (DESCRIBE HISTORY)");
  history->add_option("NAME", tname, "catalog.schema.table")->required();
  history->add_option("--limit", limit, "at most this many commits");
  set(history, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    VESTA_ASSIGN_OR_RETURN(auto commits, store->History(name, limit));
    std::vector<std::vector<std::string>> rows;
    for (const CommitInfo& c : commits) {
      rows.push_back({std::to_string(c.version), FormatTimestamp(c.timestamp), c.principal, c.operation,
                      std::to_string(c.rows_added), std::to_string(c.rows_updated), std::to_string(c.rows_removed),
                      CommitParams(c)});
    }
    PrintTextTable(std::cout, {"version", "timestamp", "principal", "operation", "added", "updated", "removed",
                               "parameters"},
                   rows, 70);
    return Status::OK();
  });

  // table show
  VersionFlags show_at;
  std::string where, columns_flag;
  int64_t show_limit = 20;
  auto* show = table->add_subcommand("show", "read rows, optionally at an older version (time travel)");
  show->add_option("NAME", tname, "catalog.schema.table")->required();
  show_at.Add(show);
  show->add_option("--where", where, "filter, e.g. \"cohort = 'GBM' AND age_at_diagnosis >= 40\"");
  show->add_option("--columns", columns_flag, "comma-separated columns (default: all)");
  show->add_option("--limit", show_limit, "at most this many rows (default 20; -1 for all)");
  show->add_option("--format", out_format, "table, json or csv");
  set(show, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    VESTA_ASSIGN_OR_RETURN(OutputFormat fmt, output());
    governance::ReadOptions ro;
    VESTA_ASSIGN_OR_RETURN(ro.at, show_at.Spec());
    ro.predicate = where;
    for (const std::string& c : SplitTopLevel(columns_flag)) {
      std::string t = c;
      t.erase(0, t.find_first_not_of(' '));
      t.erase(t.find_last_not_of(' ') + 1);
      if (!t.empty()) ro.columns.push_back(t);
    }
    ro.limit = show_limit;
    ro.order_by_primary_key = true;
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    VESTA_ASSIGN_OR_RETURN(auto r, store->Read(name, ro));
    Grid grid;
    for (const Column& c : r.columns) grid.columns.push_back(c.name);
    grid.rows = std::move(r.rows);
    PrintGrid(std::cout, grid, fmt);
    if (fmt == OutputFormat::kTable) std::cout << "(" << grid.rows.size() << " rows, version " << r.version << ")\n";
    return Status::OK();
  });

  // table changes
  int64_t from_version = -1, to_version = -1;
  auto* changes = table->add_subcommand("changes", "the change data feed between two versions (inclusive)");
  changes->add_option("NAME", tname, "catalog.schema.table")->required();
  changes->add_option("--from", from_version, "first version")->required();
  changes->add_option("--to", to_version, "last version (default: current)");
  changes->add_option("--format", out_format, "table, json or csv");
  set(changes, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    VESTA_ASSIGN_OR_RETURN(OutputFormat fmt, output());
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    int64_t to = to_version;
    if (to < 0) {
      VESTA_ASSIGN_OR_RETURN(to, store->ResolveVersion(name, {}));
    }
    VESTA_ASSIGN_OR_RETURN(auto feed, store->Changes(name, from_version, to));
    Grid grid;
    grid.columns = {"_change_type", "_commit_version", "_commit_timestamp"};
    for (const Column& c : feed.columns) grid.columns.push_back(c.name);
    for (auto& ch : feed.changes) {
      Row r = {Value::Str(std::string(governance::ChangeTypeName(ch.type))), Value::Int(ch.version),
               Value::Ts(ch.timestamp)};
      for (auto& v : ch.row) r.push_back(std::move(v));
      grid.rows.push_back(std::move(r));
    }
    PrintGrid(std::cout, grid, fmt);
    if (fmt == OutputFormat::kTable) {
      std::cout << "(" << grid.rows.size() << " changes, versions " << feed.start_version << ".." << feed.end_version
                << ")\n";
    }
    return Status::OK();
  });

  // table delete
  std::vector<std::string> keys;
  auto* del = table->add_subcommand("delete", "delete rows by predicate or primary key, as one commit");
  del->add_option("NAME", tname, "catalog.schema.table")->required();
  auto* del_where = del->add_option("--where", where, "delete the rows matching this filter");
  auto* del_keys = del->add_option("--key", keys, "delete the row with this primary key (repeatable)");
  del_where->excludes(del_keys);
  set(del, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    if (where.empty() && keys.empty()) return Status::InvalidArgument("give --where PREDICATE or --key KEY");
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    auto txn = store->Begin(g.principal);
    if (!where.empty()) {
      VESTA_RETURN_IF_ERROR(txn->DeleteWhere(name, where));
    } else {
      std::vector<Value> kv;
      for (const std::string& k : keys) kv.push_back(Value::Str(k));
      VESTA_RETURN_IF_ERROR(txn->DeleteKeys(name, std::move(kv)));
    }
    VESTA_ASSIGN_OR_RETURN(auto commits, txn->Commit());
    if (commits.empty()) std::cout << "no rows matched: nothing committed\n";
    PrintCommits(commits);
    return Status::OK();
  });

  // table restore
  int64_t restore_version = -1;
  auto* restore = table->add_subcommand("restore", "make an old version current again (a new commit)");
  restore->add_option("NAME", tname, "catalog.schema.table")->required();
  restore->add_option("--version", restore_version, "the version to restore")->required();
  set(restore, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    auto txn = store->Begin(g.principal);
    VESTA_RETURN_IF_ERROR(txn->Restore(name, restore_version));
    VESTA_ASSIGN_OR_RETURN(auto commits, txn->Commit());
    if (commits.empty()) std::cout << "version " << restore_version << " is identical to the current one: nothing committed\n";
    PrintCommits(commits);
    return Status::OK();
  });

  // table vacuum
  double retain_hours = 168;
  bool dry_run = false;
  auto* vacuum = table->add_subcommand("vacuum", "drop history older than a retention window (time travel to it ends)");
  vacuum->add_option("NAME", tname, "catalog.schema.table")->required();
  vacuum->add_option("--retain-hours", retain_hours, "keep versions readable for this many hours (default 168)")
      ->check(CLI::NonNegativeNumber);
  vacuum->add_flag("--dry-run", dry_run, "report what would be removed, change nothing");
  set(vacuum, [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(tname));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    VESTA_ASSIGN_OR_RETURN(auto rep, store->Vacuum(name, std::chrono::seconds(static_cast<int64_t>(retain_hours * 3600)),
                                                   dry_run));
    std::cout << (dry_run ? "dry run: " : "") << name.ToString() << ": oldest readable version "
              << rep.oldest_version_before << " -> " << rep.oldest_version_after << ", " << rep.rows_purged
              << " row images " << (dry_run ? "would be " : "") << "purged (current version " << rep.current_version
              << ")\n";
    if (rep.oldest_version_after > rep.oldest_version_before) {
      std::cout << "versions " << rep.oldest_version_before << ".." << rep.oldest_version_after - 1
                << (dry_run ? " would" : "") << " no longer be readable by time travel; the change feed starts at version "
                << rep.oldest_version_after + 1 << "\n";
    } else {
      std::cout << "every version stays readable\n";
    }
    return Status::OK();
  });

  // --- demo ------------------------------------------------------------------
  auto* demo = app.add_subcommand("demo", "the demo TCGA glioma cohort");
  demo->require_subcommand(1);
  std::string data_dir;
#ifdef VESTA_SOURCE_DIR
  data_dir = std::string(VESTA_SOURCE_DIR) + "/data";
#endif
  if (data_dir.empty() || !std::filesystem::exists(data_dir)) data_dir = "data";
  auto* demo_load = demo->add_subcommand(
      "load", "load data/tcga-glioma into main.imaging, main.clinical and main.genomics (an upsert)");
  demo_load->add_option("--data", data_dir, "the data folder holding tcga-glioma/");
  set(demo_load, [&]() -> Status {
    if (!std::filesystem::exists(data_dir)) return Status::NotFound("no data folder at '" + data_dir + "'");
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g));
    ingest::DemoOptions o;
    o.data_dir = data_dir;
    o.principal = g.principal;
    o.progress = MakeProgress();
    auto t0 = std::chrono::steady_clock::now();
    VESTA_ASSIGN_OR_RETURN(auto rep, ingest::LoadDemoCohort(*store, o));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : rep.tables) {
      rows.push_back({t.table.ToString(), std::to_string(t.rows), std::to_string(t.version),
                      t.changed ? "committed" : "unchanged", t.note});
    }
    PrintTextTable(std::cout, {"table", "rows", "version", "this load", "note"}, rows, 70);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.2f", secs);
    std::cout << "loaded in " << buf << " s into " << g.store
              << "\nnext: vesta table history main.genomics.somatic_mutations\n";
    return Status::OK();
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  if (!action) return 2;
  Status st;
  try {
    st = action();
  } catch (const std::exception& e) {
    st = Status::Internal(e.what());
  }
  if (!st.ok()) {
    std::cerr << "vesta: " << StatusCodeName(st.code()) << ": " << st.message() << "\n";
    return ExitCode(st);
  }
  return 0;
}

}  // namespace vesta::tools

int main(int argc, char** argv) { return vesta::tools::Main(argc, argv); }
