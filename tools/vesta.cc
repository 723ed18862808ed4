// vesta: the command-line tool for Vesta stores.
//
//   vesta init
//   vesta table ingest main.clinical.patients patients.csv --primary-key patient_id
//   vesta table show main.clinical.patients --where "age > 60" --version 1
//   vesta serve --listen 127.0.0.1:8080
//
// Every command takes the global options --store PATH (default $VESTA_STORE,
// else ./vesta-data/store.vesta) and --as PRINCIPAL (default $USER, else
// "vesta"), before or after the command words.
//
// Exit codes (also in `vesta --help`):
//   0 success
//   1 internal or other error (I/O, a locked or corrupt store)
//   2 usage error: unknown command or flag, missing argument, bad flag value
//     (an unknown --format or --mode, a malformed --timestamp or number,
//     --type without '=')
//   3 not found: store, catalog, schema, table, version, column, input file
//   4 invalid argument: bad input data, table name, column definition, type,
//     primary key or predicate
//   5 conflict: a concurrent commit got in first (ABORTED: retry), or the
//     catalog / schema / table / key already exists
//   6 failed precondition: e.g. reading a vacuumed version, bootstrapping twice
//   7 data loss: `vesta audit verify` found the audit chain broken (edited,
//     deleted, reordered or truncated records)
// Errors print one line on stderr, "vesta: <CODE>: <message>", where CODE is
// the status code name (NOT_FOUND, ...) or USAGE for exit code 2.
#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/demo_principals.h"
#include "access/governed.h"
#include "common/status.h"
#include "common/types.h"
#include "governance/audit.h"
#include "governance/principals.h"
#include "governance/store.h"
#include "ingest/demo_cohort.h"
#include "ingest/ingest.h"
#include "service/server.h"
#include "tools/column_spec.h"
#include "tools/output.h"
#include "tools/progress.h"
#include "tools/similar.h"

namespace vesta::tools {
namespace {

namespace fs = std::filesystem;
using governance::CommitInfo;
using governance::Store;
using governance::TableName;
using governance::VersionSpec;

// --- Exit codes -----------------------------------------------------------------

constexpr int kExitOk = 0;
constexpr int kExitOther = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotFound = 3;
constexpr int kExitInvalidArgument = 4;
constexpr int kExitConflict = 5;
constexpr int kExitFailedPrecondition = 6;
constexpr int kExitDataLoss = 7;

constexpr const char* kTopFooter =
    "Global options --store and --as may also follow the command words.\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  internal or other error (I/O, a locked or corrupt store)\n"
    "  2  usage error: unknown command or flag, missing argument, bad flag value\n"
    "  3  not found: store, catalog, schema, table, version, column, input file\n"
    "  4  invalid argument: bad input data, table name, column definition, type or predicate\n"
    "  5  conflict: a concurrent commit got in first (ABORTED: retry), or it already exists\n"
    "  6  failed precondition: e.g. reading a vacuumed version, bootstrapping twice\n"
    "  7  data loss: the audit chain is broken (vesta audit verify)\n"
    "Errors print one line on stderr: \"vesta: <CODE>: <message>\" (CODE is USAGE for exit code 2).\n"
    "\n"
    "Environment: VESTA_STORE (default store path), USER (default principal).\n"
    "Start with: vesta init && vesta demo load && vesta table list";

constexpr const char* kCommandFooter =
    "Global options (before or after the command): --store PATH (default $VESTA_STORE, else "
    "./vesta-data/store.vesta), --as PRINCIPAL (default $USER). Exit codes: see vesta --help.";

int ExitCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kInvalidArgument:
      return kExitInvalidArgument;
    case StatusCode::kAborted:
    case StatusCode::kAlreadyExists:
      return kExitConflict;
    case StatusCode::kFailedPrecondition:
      return kExitFailedPrecondition;
    case StatusCode::kDataLoss:
      return kExitDataLoss;
    default:
      return kExitOther;
  }
}

// --- Shared helpers -------------------------------------------------------------

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

struct GlobalFlags {
  std::string store = EnvOr("VESTA_STORE", "./vesta-data/store.vesta");
  std::string principal = EnvOr("USER", "vesta");
};

// Opens an existing store (only `init` creates one).
Result<std::unique_ptr<Store>> OpenStore(const GlobalFlags& g) {
  return Store::Open(g.store, {.create_if_missing = false});
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Splits "a.b" into its two identifiers. Errors: InvalidArgument.
Result<std::pair<std::string, std::string>> ParseSchemaName(const std::string& text) {
  const size_t dot = text.find('.');
  if (dot == std::string::npos || text.find('.', dot + 1) != std::string::npos ||
      !IsValidIdentifier(text.substr(0, dot)) || !IsValidIdentifier(text.substr(dot + 1))) {
    return Status::InvalidArgument("expected CATALOG.SCHEMA (two identifiers), got '" + text + "'");
  }
  return std::make_pair(text.substr(0, dot), text.substr(dot + 1));
}

bool ContainsIgnoreCase(const std::vector<std::string>& names, const std::string& name) {
  for (const std::string& n : names) {
    if (EqualsIgnoreCase(n, name)) return true;
  }
  return false;
}

// "KEY=VALUE" -> {KEY, VALUE}; throws a usage error naming `flag` otherwise.
std::pair<std::string, std::string> SplitAssignment(const std::string& text, const std::string& flag,
                                                    const std::string& shape) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw CLI::ValidationError(flag, "expected " + shape + ", got '" + text + "'");
  }
  return {Trim(text.substr(0, eq)), Trim(text.substr(eq + 1))};
}

// CLI11 validator for --timestamp values.
const CLI::Validator& TimestampValidator() {
  static const CLI::Validator v(
      [](std::string& text) -> std::string {
        auto ts = ParseTimestamp(text);
        return ts.ok() ? std::string() : ts.status().message();
      },
      "ISO-8601", "TIMESTAMP");
  return v;
}

// CLI11 validator for counts and versions: a whole number >= 0.
const CLI::Validator& NonNegative() {
  static const CLI::Validator v(
      [](std::string& text) -> std::string {
        return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos
                   ? std::string()
                   : "expected a whole number >= 0, got '" + text + "'";
      },
      "N >= 0", "NON_NEGATIVE");
  return v;
}

// --version V | --timestamp TS, shared by the read commands.
struct VersionFlags {
  int64_t version = -1;
  std::string timestamp;

  void Add(CLI::App* cmd, const std::string& what) {
    auto* v = cmd->add_option("--version", version, what + " as of this version (time travel)")
                  ->type_name("V")
                  ->check(NonNegative());
    auto* t = cmd->add_option("--timestamp", timestamp,
                              what +
                                  " as of the latest version committed at or before this time, ISO-8601 UTC: "
                                  "YYYY-MM-DD[THH:MM:SS[.ffffff]][Z]")
                  ->type_name("TS")
                  ->check(TimestampValidator());
    v->excludes(t);
  }
  VersionSpec Spec() const {
    VersionSpec at;
    if (version >= 0) at.version = version;
    if (!timestamp.empty()) at.timestamp = ParseTimestamp(timestamp).value();  // checked by the validator
    return at;
  }
};

void AddFormatOption(CLI::App* cmd, std::string* format) {
  cmd->add_option("--format", *format, "output format: table (aligned text, the default), json or csv")
      ->type_name("FORMAT")
      ->check(CLI::IsMember(
          std::vector<std::string>(std::begin(kOutputFormatNames), std::end(kOutputFormatNames))));
}

OutputFormat FormatOf(const std::string& name) {
  auto f = ParseOutputFormat(name);
  return f.ok() ? *f : OutputFormat::kTable;  // checked by IsMember
}

std::string CommitLine(const CommitInfo& c) {
  return "committed " + c.table.ToString() + " version " + std::to_string(c.version) + " (" + c.operation +
         "): " + std::to_string(c.rows_added) + " added, " + std::to_string(c.rows_updated) + " updated, " +
         std::to_string(c.rows_removed) + " removed";
}

// Commit parameters as "key=value, ..." for the text table.
std::string CompactParameters(const std::string& parameters_json) {
  if (parameters_json.empty()) return "";
  nlohmann::json j = nlohmann::json::parse(parameters_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return parameters_json;
  std::string s;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!s.empty()) s += ", ";
    s += it.key() + "=" +
         (it.value().is_string() ? it.value().get<std::string>()
                                 : it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return s;
}

Result<int64_t> CurrentVersion(Store& store, const TableName& name) {
  return store.ResolveVersion(name, {});
}

// --- The command line -------------------------------------------------------------

// The command tree: CLI11 parses argv into per-command argument structs, the
// chosen command's callback records what to run, and Run() runs it and maps
// its Status to an exit code. Not thread-safe; one per process.
class Cli {
 public:
  Cli();
  int Run(int argc, char** argv);

 private:
  // Sets what `cmd` does once parsing succeeded. `check` runs during parsing
  // and may throw CLI::ParseError subclasses for flag combinations (exit 2).
  void OnRun(CLI::App* cmd, std::function<Status()> run, std::function<void()> check = nullptr);
  CLI::App* AddCommand(CLI::App* parent, const std::string& name, const std::string& description);

  void AddInit();
  void AddCatalog();
  void AddSchema();
  void AddTableCreate(CLI::App* table);
  void AddTableList(CLI::App* table);
  void AddTableDescribe(CLI::App* table);
  void AddTableIngest(CLI::App* table);
  void AddTableHistory(CLI::App* table);
  void AddTableShow(CLI::App* table);
  void AddTableChanges(CLI::App* table);
  void AddTableDelete(CLI::App* table);
  void AddTableRestore(CLI::App* table);
  void AddTableVacuum(CLI::App* table);
  void AddDemo();
  void AddDemoPrincipals(CLI::App* demo);
  void AddAdmin();
  void AddAudit();
  void AddServe();
  void AddSimilar();

  // "vesta table show": the deepest command the parser got to.
  std::string CommandPath() const;

  CLI::App app_;
  GlobalFlags g_;
  std::function<Status()> action_;
};

Cli::Cli()
    : app_(
          "vesta: governed, versioned tables for multimodal clinical data. Tables are named "
          "catalog.schema.table; every write is a commit with a version you can read back (time travel), "
          "diff (change feed) and restore.",
          "vesta") {
  app_.footer(kTopFooter);
  app_.require_subcommand(1);
  app_.fallthrough();  // inherited: global options may follow the command words
  app_.add_option("--store", g_.store,
                  "the store file (default: $VESTA_STORE, else ./vesta-data/store.vesta)")
      ->type_name("PATH");
  app_.add_option("--as", g_.principal, "the principal recorded in commits (default: $USER, else vesta)")
      ->type_name("PRINCIPAL");
  AddInit();
  AddAdmin();
  AddAudit();
  AddServe();
  AddSimilar();
  AddCatalog();
  AddSchema();
  CLI::App* table =
      AddCommand(&app_, "table", "create, ingest into, read, time-travel and maintain versioned tables");
  table->require_subcommand(1);
  AddTableCreate(table);
  AddTableList(table);
  AddTableDescribe(table);
  AddTableIngest(table);
  AddTableHistory(table);
  AddTableShow(table);
  AddTableChanges(table);
  AddTableDelete(table);
  AddTableRestore(table);
  AddTableVacuum(table);
  AddDemo();
}

CLI::App* Cli::AddCommand(CLI::App* parent, const std::string& name, const std::string& description) {
  CLI::App* cmd = parent->add_subcommand(name, description);
  cmd->footer(kCommandFooter);
  return cmd;
}

void Cli::OnRun(CLI::App* cmd, std::function<Status()> run, std::function<void()> check) {
  cmd->callback([this, run = std::move(run), check = std::move(check)]() {
    if (check) check();
    action_ = run;
  });
}

std::string Cli::CommandPath() const {
  std::string path = "vesta";
  const CLI::App* cur = &app_;
  while (!cur->get_subcommands().empty()) {
    cur = cur->get_subcommands().front();
    path += " " + cur->get_name();
  }
  return path;
}

int Cli::Run(int argc, char** argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app_.exit(e);  // --help
    std::string message = e.what();
    for (char& c : message) {
      if (c == '\n') c = ' ';
    }
    std::cerr << "vesta: USAGE: " << message << " (see `" << CommandPath() << " --help`)\n";
    return kExitUsage;
  }
  if (!action_) {
    std::cerr << "vesta: USAGE: no command given (see `vesta --help`)\n";
    return kExitUsage;
  }
  Status st;
  try {
    st = action_();
  } catch (const CLI::ParseError& e) {  // a flag combination checked while running
    std::cerr << "vesta: USAGE: " << e.what() << " (see `" << CommandPath() << " --help`)\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    st = Status::Internal(std::string("unexpected error: ") + e.what());
  }
  std::cout.flush();
  if (!st.ok()) {
    std::cerr << "vesta: " << StatusCodeName(st.code()) << ": " << st.message() << "\n";
    return ExitCodeFor(st.code());
  }
  return kExitOk;
}

// --- serve ------------------------------------------------------------------------

// Set by SIGINT / SIGTERM (from any thread); `vesta serve` polls it.
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "signal handler needs a lock-free flag");
extern "C" void OnStopSignal(int) {
  g_stop_requested.store(true);
}

// "HOST:PORT" -> host, port. Errors: InvalidArgument naming the text.
Status ParseListen(const std::string& text, std::string* host, int* port) {
  const size_t colon = text.rfind(':');
  const std::string bad = "--listen must be HOST:PORT (e.g. 127.0.0.1:8080), got '" + text + "'";
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return Status::InvalidArgument(bad);
  const std::string p = text.substr(colon + 1);
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument(bad);
  *port = std::stoi(p);
  if (*port > 65535) return Status::InvalidArgument(bad);
  *host = text.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  return Status::OK();
}

void Cli::AddServe() {
  CLI::App* cmd =
      AddCommand(&app_, "serve",
                 "serve the store over HTTP or HTTPS (health, metrics, Unity-Catalog-shaped and "
                 "vector-search routes; bearer tokens from `vesta admin`) until SIGINT or SIGTERM, "
                 "then stop gracefully: in-flight requests finish, the audit log is checkpointed "
                 "into the store file");
  struct Args {
    std::string listen = "127.0.0.1:8080";
    int threads = 0;
    int queue = 0;
    int64_t request_timeout_ms = 30000;
    int64_t max_body_bytes = 16 << 20;
    std::string index_dir;
    std::string tls_cert;
    std::string tls_key;
    int search_threads = 1;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--listen", a->listen, "address to listen on, HOST:PORT (port 0: any free port)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "HTTP worker threads (0: one per core, at least 2)")
      ->type_name("N")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  cmd->add_option("--queue", a->queue,
                  "connections that may wait for a worker; beyond, requests get 503 + Retry-After "
                  "(0: 64 per worker thread)")
      ->type_name("N")
      ->check(CLI::Range(0, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--request-timeout-ms", a->request_timeout_ms,
                  "per-request time limit, ms: a request still queued when it passes gets 503; handlers stop "
                  "between phases once it passed (0: no limit)")
      ->type_name("MS")
      ->check(CLI::Range(int64_t{0}, int64_t{24} * 3600 * 1000))
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", a->max_body_bytes, "largest request body accepted, bytes (larger: 413)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 34))
      ->capture_default_str();
  cmd->add_option("--index-dir", a->index_dir,
                  "directory of the vector index files (default: <store>.indexes)")
      ->type_name("DIR");
  auto* cert = cmd->add_option("--tls-cert", a->tls_cert, "serve HTTPS with this PEM certificate (chain)")
                   ->type_name("PATH");
  auto* key = cmd->add_option("--tls-key", a->tls_key, "the PEM private key of --tls-cert (unencrypted)")
                  ->type_name("PATH");
  cert->needs(key);
  key->needs(cert);
  cmd->add_option("--search-threads", a->search_threads,
                  "OpenMP / OpenBLAS threads per search (requests already run in parallel on the workers)")
      ->type_name("N")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  OnRun(cmd, [this, a]() -> Status {
    service::ServerOptions options;
    VESTA_RETURN_IF_ERROR(ParseListen(a->listen, &options.host, &options.port));
    options.worker_threads = a->threads;
    options.max_queued_requests = a->queue;
    options.request_time_limit = std::chrono::milliseconds(a->request_timeout_ms);
    options.max_body_bytes = static_cast<size_t>(a->max_body_bytes);
    options.index_dir = a->index_dir;
    options.tls_cert_file = a->tls_cert;
    options.tls_key_file = a->tls_key;
    options.search_threads = a->search_threads;
    VESTA_RETURN_IF_ERROR(options.Validate());
    if (!fs::exists(g_.store)) {
      return Status::NotFound("store '" + g_.store + "' does not exist (create it with `vesta init`)");
    }
    VESTA_ASSIGN_OR_RETURN(auto governed, access::Governed::Open(g_.store));
    service::Server server(*governed, options);
    struct sigaction sa {};
    sa.sa_handler = OnStopSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    VESTA_RETURN_IF_ERROR(server.Start());
    // Scripts and tests parse this line for the port (e.g. with --listen
    // 127.0.0.1:0): "... on http[s]://HOST:PORT (...".
    std::cerr << "vesta: serving " << g_.store << " on " << (options.tls_cert_file.empty() ? "http" : "https")
              << "://" << options.host << ":" << server.port() << " (SIGINT or SIGTERM to stop)" << std::endl;
    while (!g_stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::cerr << "vesta: stopping: finishing in-flight requests" << std::endl;
    server.Stop();
    std::cerr << "vesta: stopped" << std::endl;
    return Status::OK();
  });
}

// --- similar -------------------------------------------------------------------------

void Cli::AddSimilar() {
  CLI::App* cmd = AddCommand(
      &app_, "similar",
      "find the cases most similar to a patient on a running `vesta serve` (the demo's radiomics index), "
      "joined to their clinical rows and mutations, with an evidence summary and the versions read");
  auto o = std::make_shared<SimilarOptions>();
  auto token_file = std::make_shared<std::string>();
  auto joins = std::make_shared<std::string>("clinical,mutations");
  auto genes = std::make_shared<std::string>("IDH1,EGFR,TP53,PTEN,ATRX");
  auto no_summary = std::make_shared<bool>(false);
  o->server = EnvOr("VESTA_URL", o->server);
  cmd->add_option("--like", o->like, "the example case (its patient_id; see --like-column)")->required();
  cmd->add_option("--like-column", o->like_column, "the index column --like names")->capture_default_str();
  cmd->add_option("--k", o->k, "how many similar cases")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--filter", o->filter, "filter over the index's columns, e.g. \"cohort = 'GBM'\"");
  cmd->add_option("--clinical-filter", o->clinical_filter,
                  "only cases whose main.clinical.patients row passes this filter, e.g. "
                  "\"age_at_diagnosis BETWEEN 40 AND 70\" (inside the search)");
  cmd->add_option("--join", *joins, "tables joined to each case: clinical, mutations (comma-separated)")
      ->capture_default_str();
  cmd->add_option("--genes", *genes, "the gene panel: joined mutations and their status in the summary")
      ->capture_default_str();
  cmd->add_flag("--no-summary", *no_summary, "skip the evidence summary");
  cmd->add_flag("--json", o->json_output, "print the server's JSON answer");
  cmd->add_option("--index", o->index, "the vector index")->capture_default_str();
  cmd->add_option("--server", o->server, "the server (default $VESTA_URL, else http://127.0.0.1:8080)");
  cmd->add_option("--token-file", *token_file, "file holding the bearer token (default: $VESTA_TOKEN)")
      ->type_name("PATH");
  OnRun(cmd, [o, token_file, joins, genes, no_summary]() -> Status {
    auto split = [](const std::string& text) {
      std::vector<std::string> out;
      std::stringstream in(text);
      for (std::string item; std::getline(in, item, ',');) {
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) out.push_back(item);
      }
      return out;
    };
    o->joins = split(*joins);
    o->genes = split(*genes);
    o->summary = !*no_summary;
    if (!token_file->empty()) {
      std::ifstream in(*token_file);
      if (!in) return Status::NotFound("--token-file: cannot read '" + *token_file + "'");
      in >> o->token;
    } else {
      o->token = EnvOr("VESTA_TOKEN", "");
    }
    return RunSimilar(*o, std::cout);
  });
}

// --- admin, audit -------------------------------------------------------------------

void Cli::AddAdmin() {
  CLI::App* admin = AddCommand(&app_, "admin", "set up principals (users, groups, tokens)");
  admin->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  CLI::App* bootstrap =
      AddCommand(admin, "bootstrap",
                 "create the first user, the group 'admins' (metastore admins) holding it, and its bearer "
                 "token, printed once; fails once any principal exists");
  bootstrap->add_option("NAME", *name, "the admin user's name")->required();
  OnRun(bootstrap, [this, name]() -> Status {
    VESTA_ASSIGN_OR_RETURN(auto principals, governance::Principals::Open(g_.store));
    VESTA_ASSIGN_OR_RETURN(governance::IssuedToken t, principals->Bootstrap(*name));
    std::cout << "created user " << t.user << " in group " << governance::Principals::kAdminsGroup
              << " (metastore admins)\n"
              << "token " << t.token_id << ": " << t.token << "\n"
              << "this token is shown once and stored only as a hash: keep it now\n";
    return Status::OK();
  });
}

void Cli::AddAudit() {
  CLI::App* audit = AddCommand(&app_, "audit", "check the audit log");
  audit->require_subcommand(1);
  CLI::App* verify = AddCommand(audit, "verify",
                                "recompute the audit log's hash chain; exit 7 (DATA_LOSS) naming the first "
                                "edited, deleted, reordered or truncated record");
  OnRun(verify, [this]() -> Status {
    VESTA_ASSIGN_OR_RETURN(auto log, governance::AuditLog::Open(g_.store));
    int64_t checked = 0;
    VESTA_RETURN_IF_ERROR(log->Verify(&checked));
    std::cout << "audit log intact: " << checked << " record" << (checked == 1 ? "" : "s") << " verified\n";
    return Status::OK();
  });
}

// --- init, catalog, schema --------------------------------------------------------

void Cli::AddInit() {
  CLI::App* cmd = AddCommand(&app_, "init",
                             "create the store file (and its folder) and the catalog 'main'; "
                             "safe to run again (says what it created or found)");
  OnRun(cmd, [this]() -> Status {
    const fs::path path(g_.store);
    std::error_code ec;
    if (path.has_parent_path()) {
      fs::create_directories(path.parent_path(), ec);
      if (ec) {
        return Status::Unavailable("cannot create folder '" + path.parent_path().string() +
                                   "': " + ec.message());
      }
    }
    const bool existed = fs::exists(path, ec);
    VESTA_ASSIGN_OR_RETURN(auto store, Store::Open(g_.store, {.create_if_missing = true}));
    VESTA_ASSIGN_OR_RETURN(auto catalogs, store->ListCatalogs());
    const bool had_main = ContainsIgnoreCase(catalogs, "main");
    if (!had_main) VESTA_RETURN_IF_ERROR(store->CreateCatalog("main", g_.principal, /*if_not_exists=*/true));
    const std::string shown = fs::absolute(path, ec).lexically_normal().string();
    std::cout << (existed ? "found store " : "created store ") << (ec ? g_.store : shown) << "\n"
              << (had_main ? "found catalog main" : "created catalog main") << "\n";
    if (!existed) std::cout << "next: vesta demo load, or vesta schema create main.<schema>\n";
    return Status::OK();
  });
}

void Cli::AddCatalog() {
  CLI::App* catalog =
      AddCommand(&app_, "catalog", "create and list catalogs (the first part of catalog.schema.table)");
  catalog->require_subcommand(1);

  struct CreateArgs {
    std::string name;
    bool if_not_exists = false;
  };
  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = AddCommand(catalog, "create", "create a catalog");
  create->add_option("NAME", create_args->name, "catalog name (an identifier)")->required();
  create->add_flag("--if-not-exists", create_args->if_not_exists, "succeed if it already exists");
  OnRun(create, [this, a = create_args]() -> Status {
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    VESTA_ASSIGN_OR_RETURN(auto catalogs, store->ListCatalogs());
    if (a->if_not_exists && ContainsIgnoreCase(catalogs, a->name)) {
      std::cout << "found catalog " << a->name << "\n";
      return Status::OK();
    }
    VESTA_RETURN_IF_ERROR(store->CreateCatalog(a->name, g_.principal));
    std::cout << "created catalog " << a->name << "\n";
    return Status::OK();
  });

  CLI::App* list = AddCommand(catalog, "list", "list the catalogs");
  OnRun(list, [this]() -> Status {
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    VESTA_ASSIGN_OR_RETURN(auto catalogs, store->ListCatalogs());
    for (const std::string& c : catalogs) std::cout << c << "\n";
    return Status::OK();
  });
}

void Cli::AddSchema() {
  CLI::App* schema = AddCommand(&app_, "schema", "create and list schemas (catalog.schema)");
  schema->require_subcommand(1);

  struct CreateArgs {
    std::string name;
    bool if_not_exists = false;
  };
  auto create_args = std::make_shared<CreateArgs>();
  CLI::App* create = AddCommand(schema, "create", "create a schema CATALOG.SCHEMA in an existing catalog");
  create->add_option("NAME", create_args->name, "CATALOG.SCHEMA, e.g. main.clinical")->required();
  create->add_flag("--if-not-exists", create_args->if_not_exists, "succeed if it already exists");
  OnRun(create, [this, a = create_args]() -> Status {
    VESTA_ASSIGN_OR_RETURN(auto parts, ParseSchemaName(a->name));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    if (a->if_not_exists) {
      auto schemas = store->ListSchemas(parts.first);
      if (schemas.ok() && ContainsIgnoreCase(*schemas, parts.second)) {
        std::cout << "found schema " << a->name << "\n";
        return Status::OK();
      }
    }
    VESTA_RETURN_IF_ERROR(store->CreateSchema(parts.first, parts.second, g_.principal));
    std::cout << "created schema " << a->name << "\n";
    return Status::OK();
  });

  auto list_catalog = std::make_shared<std::string>();
  CLI::App* list = AddCommand(schema, "list", "list the schemas, of every catalog or of one");
  list->add_option("CATALOG", *list_catalog, "only this catalog");
  OnRun(list, [this, catalog = list_catalog]() -> Status {
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    std::vector<std::string> catalogs = {*catalog};
    if (catalog->empty()) {
      VESTA_ASSIGN_OR_RETURN(catalogs, store->ListCatalogs());
    }
    for (const std::string& c : catalogs) {
      VESTA_ASSIGN_OR_RETURN(auto schemas, store->ListSchemas(c));
      for (const std::string& s : schemas) std::cout << c << "." << s << "\n";
    }
    return Status::OK();
  });
}

// --- table create / list / describe ---------------------------------------------

void Cli::AddTableCreate(CLI::App* table) {
  struct Args {
    std::string name;
    std::vector<std::string> columns;
    std::string schema;
    std::string primary_key;
    std::string comment;
    std::vector<std::string> properties;
    bool if_not_exists = false;
    bool create_schema = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = AddCommand(table, "create", "create an empty table at version 0 from column definitions");
  cmd->add_option("NAME", a->name, "catalog.schema.table")->required();
  auto* columns_opt =
      cmd->add_option("--column", a->columns,
                      "a column: \"name TYPE [NOT NULL] [COMMENT 'text']\"; repeat for each column. "
                      "Types: BIGINT, DOUBLE, STRING, BOOLEAN, DATE, TIMESTAMP, VECTOR(dim)")
          ->type_name("DEF")
          ->allow_extra_args(false);
  auto* schema_opt =
      cmd->add_option("--schema", a->schema,
                      "all columns in one comma-separated list: \"id BIGINT NOT NULL, name STRING, "
                      "emb VECTOR(3)\" (comes before any --column)")
          ->type_name("DEFS");
  cmd->add_option("--primary-key", a->primary_key, "the primary-key column: BIGINT or STRING, made NOT NULL")
      ->type_name("COL")
      ->required();
  cmd->add_option("--comment", a->comment, "the table's comment")->type_name("TEXT");
  cmd->add_option("--property", a->properties, "a table property KEY=VALUE (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->add_flag("--if-not-exists", a->if_not_exists, "succeed if the table exists with the same schema");
  cmd->add_flag("--create-schema", a->create_schema,
                "create the catalog and schema too if they do not exist");
  OnRun(
      cmd,
      [this, a]() -> Status {
        VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
        Schema schema;
        VESTA_ASSIGN_OR_RETURN(schema.columns, ParseColumnList(a->schema));
        for (const std::string& spec : a->columns) {
          VESTA_ASSIGN_OR_RETURN(Column c, ParseColumnSpec(spec));
          schema.columns.push_back(std::move(c));
        }
        schema.primary_key = a->primary_key;
        if (const int pk = schema.primary_key_index(); pk >= 0) {
          schema.columns[static_cast<size_t>(pk)].nullable = false;  // a key is never NULL
        }
        governance::CreateTableOptions options{.comment = a->comment, .if_not_exists = a->if_not_exists};
        for (const std::string& p : a->properties) {
          auto [key, value] = SplitAssignment(p, "--property", "KEY=VALUE");
          options.properties[key] = value;
        }
        VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
        if (a->create_schema) {
          VESTA_RETURN_IF_ERROR(store->CreateCatalog(name.catalog, g_.principal, /*if_not_exists=*/true));
          VESTA_RETURN_IF_ERROR(
              store->CreateSchema(name.catalog, name.schema, g_.principal, /*if_not_exists=*/true));
        }
        const bool existed = a->if_not_exists && store->DescribeTable(name).ok();
        VESTA_ASSIGN_OR_RETURN(auto info, store->CreateTable(name, schema, options, g_.principal));
        std::cout << (existed ? "found table " : "created table ") << info.name.ToString() << " at version "
                  << info.current_version << " ("
                  << Plural(static_cast<int64_t>(info.schema.columns.size()), "column", "columns")
                  << ", primary key " << info.schema.primary_key << ")\n";
        return Status::OK();
      },
      [a, columns_opt, schema_opt]() {
        if (columns_opt->count() == 0 && schema_opt->count() == 0) {
          throw CLI::RequiredError("--column or --schema");
        }
        for (const std::string& p : a->properties) SplitAssignment(p, "--property", "KEY=VALUE");
      });
}

void Cli::AddTableList(CLI::App* table) {
  struct Args {
    std::string prefix;
    std::string format = "table";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = AddCommand(table, "list", "list tables with their current version and row count");
  cmd->add_option("PREFIX", a->prefix, "only tables of CATALOG or CATALOG.SCHEMA");
  AddFormatOption(cmd, &a->format);
  OnRun(cmd, [this, a]() -> Status {
    std::string catalog = a->prefix, schema;
    if (const size_t dot = a->prefix.find('.'); dot != std::string::npos) {
      VESTA_ASSIGN_OR_RETURN(auto parts, ParseSchemaName(a->prefix));
      catalog = parts.first;
      schema = parts.second;
    }
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    VESTA_ASSIGN_OR_RETURN(auto names, store->ListTables(catalog, schema));
    Grid grid;
    grid.columns = {"table", "version", "rows", "columns", "owner", "comment"};
    for (const TableName& n : names) {
      VESTA_ASSIGN_OR_RETURN(auto info, store->DescribeTable(n));
      grid.rows.push_back({Value::Str(n.ToString()), Value::Int(info.current_version),
                           Value::Int(info.row_count),
                           Value::Int(static_cast<int64_t>(info.schema.columns.size())),
                           Value::Str(info.owner), Value::Str(info.comment)});
    }
    const OutputFormat format = FormatOf(a->format);
    PrintGrid(std::cout, grid, format);
    if (format == OutputFormat::kTable) {
      std::cout << "(" << Plural(static_cast<int64_t>(grid.rows.size()), "table", "tables") << ")\n";
    }
    return Status::OK();
  });
}

void Cli::AddTableDescribe(CLI::App* table) {
  struct Args {
    std::string name;
    VersionFlags at;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = AddCommand(table, "describe",
                             "show a table's columns (types, comments, primary key), versions, row count and "
                             "properties, now or at an older version");
  cmd->add_option("NAME", a->name, "catalog.schema.table")->required();
  a->at.Add(cmd, "describe the table");
  OnRun(cmd, [this, a]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    VESTA_ASSIGN_OR_RETURN(auto info, store->DescribeTable(name, a->at.Spec()));
    std::string properties;
    for (const auto& [key, value] : info.properties) {
      properties += (properties.empty() ? "" : ", ") + key + "=" + value;
    }
    std::string version = std::to_string(info.version);
    if (info.version != info.current_version) {
      version += " (current version: " + std::to_string(info.current_version) + ")";
    }
    const std::vector<std::pair<std::string, std::string>> facts = {
        {"table", info.name.ToString()},
        {"comment", info.comment},
        {"owner", info.owner},
        {"created", FormatTimestamp(info.created_at)},
        {"version", version},
        {"readable versions",
         std::to_string(info.oldest_version) + ".." + std::to_string(info.current_version)},
        {"rows", std::to_string(info.row_count)},
        {"primary key", info.schema.primary_key},
        {"properties", properties.empty() ? "(none)" : properties},
    };
    for (const auto& [label, value] : facts) {
      std::cout << label << ":" << std::string(19 - label.size(), ' ') << value << "\n";
    }
    std::cout << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const Column& c : info.schema.columns) {
      rows.push_back({c.name, c.type.ToString(), c.nullable ? "" : "NOT NULL",
                      EqualsIgnoreCase(c.name, info.schema.primary_key) ? "primary key" : "", c.comment});
    }
    PrintTextTable(std::cout, {{"column"}, {"type"}, {"null"}, {"key"}, {"comment", Align::kLeft, 80}}, rows);
    return Status::OK();
  });
}

// --- table ingest -----------------------------------------------------------------

void Cli::AddTableIngest(CLI::App* table) {
  struct Args {
    std::string name;
    std::string file;
    std::string format = "auto";
    std::string mode = "upsert";
    std::string primary_key;
    std::vector<std::string> types;
    std::vector<std::string> renames;
    bool cbioportal = false;
    bool quarantine = false;
    bool no_create = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd =
      AddCommand(table, "ingest",
                 "read a file (CSV, TSV, MAF, VCF, fvecs, npz) and commit its rows to a table in one "
                 "commit, all or nothing; creates the table from the file's columns if missing");
  cmd->add_option("NAME", a->name, "catalog.schema.table (its catalog and schema must exist)")->required();
  cmd->add_option("FILE", a->file, "the input file (.gz accepted for text formats)")->required();
  cmd->add_option("--format", a->format, "auto (from the file name), csv, tsv, maf, vcf, fvecs or npz")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"auto", "csv", "tsv", "maf", "vcf", "fvecs", "npz"}, CLI::ignore_case));
  cmd->add_option("--mode", a->mode,
                  "upsert: insert new keys, replace changed rows, leave identical rows (default); "
                  "append: every key must be new")
      ->type_name("MODE")
      ->check(CLI::IsMember({"upsert", "append"}));
  auto* pk_opt = cmd->add_option("--primary-key", a->primary_key,
                                 "CSV/TSV: the column identifying a row (needed to create the table)")
                     ->type_name("COL");
  auto* types_opt =
      cmd->add_option("--type", a->types,
                      "CSV/TSV: override an inferred column type, COL=TYPE, e.g. site=STRING (repeatable)")
          ->type_name("COL=TYPE")
          ->allow_extra_args(false);
  auto* renames_opt =
      cmd->add_option("--rename", a->renames, "CSV/TSV: rename a file column, FROM=TO (repeatable)")
          ->type_name("FROM=TO")
          ->allow_extra_args(false);
  auto* cbio_opt =
      cmd->add_flag("--cbioportal", a->cbioportal,
                    "CSV/TSV: a cBioPortal clinical file (tab-separated, '#' header lines with types)");
  cmd->add_flag(
      "--quarantine", a->quarantine,
      "commit the good rows and record each rejected record, with its reason, in <table>_quarantine "
      "(default: the first bad record fails the ingest and nothing is committed)");
  cmd->add_flag("--no-create", a->no_create, "fail if the table does not exist instead of creating it");

  auto check = [a, pk_opt, types_opt, renames_opt, cbio_opt]() {
    for (const std::string& t : a->types) SplitAssignment(t, "--type", "COL=TYPE");
    for (const std::string& r : a->renames) SplitAssignment(r, "--rename", "FROM=TO");
    auto format = ingest::ParseFileFormat(a->format);
    if (format.ok() && *format == ingest::FileFormat::kAuto) format = ingest::FormatForPath(a->file);
    if (!format.ok() || *format == ingest::FileFormat::kCsv || *format == ingest::FileFormat::kTsv) return;
    for (const CLI::Option* opt : {pk_opt, types_opt, renames_opt, cbio_opt}) {
      if (opt->count() > 0) {
        throw CLI::ValidationError(opt->get_name(), "applies to CSV/TSV input only, not to " + a->file);
      }
    }
  };
  OnRun(
      cmd,
      [this, a]() -> Status {
        VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
        ingest::IngestOptions o;
        VESTA_ASSIGN_OR_RETURN(o.format, ingest::ParseFileFormat(a->format));
        o.mode = a->mode == "append" ? ingest::WriteMode::kAppend : ingest::WriteMode::kUpsert;
        if (a->cbioportal) o.delimited = ingest::DelimitedOptions::CbioportalClinical();
        o.delimited.primary_key = a->primary_key;
        for (const std::string& t : a->types) {
          auto [column, type_text] = SplitAssignment(t, "--type", "COL=TYPE");
          auto type = DataType::Parse(type_text);
          if (!type.ok()) return type.status().WithContext("--type " + t);
          o.delimited.type_overrides[column] = *type;
        }
        for (const std::string& r : a->renames) {
          auto [from, to] = SplitAssignment(r, "--rename", "FROM=TO");
          o.delimited.renames[from] = to;
        }
        o.quarantine = a->quarantine;
        o.create_table = !a->no_create;
        o.principal = g_.principal;
        std::error_code ec;
        if (!fs::exists(a->file, ec)) return Status::NotFound("input file '" + a->file + "' does not exist");
        if (fs::is_directory(a->file, ec)) {
          return Status::InvalidArgument("input '" + a->file + "' is a folder");
        }
        VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));

        ProgressDisplay progress(std::cerr, ProgressDisplay::StderrIsTerminal());
        o.progress = progress.Callback();
        auto report = ingest::IngestFile(*store, name, a->file, o);
        progress.Finish();
        if (!report.ok()) return report.status();

        std::cout << "read " << Plural(report->rows_read, "row", "rows") << " from " << report->source
                  << "\n";
        if (report->created_table) {
          std::cout << "created table " << name.ToString() << " from the file's columns\n";
        }
        if (a->quarantine) {
          if (report->rows_rejected == 0) {
            std::cout << "quarantine: no records rejected\n";
          } else {
            std::cout << "quarantine: " << Plural(report->rows_rejected, "record", "records")
                      << " rejected, see " << report->quarantine_table << "\n";
          }
        }
        bool main_committed = false;
        for (const CommitInfo& c : report->commits) {
          std::cout << CommitLine(c) << "\n";
          if (EqualsIgnoreCase(c.table.ToString(), name.ToString())) main_committed = true;
        }
        if (!main_committed) {
          VESTA_ASSIGN_OR_RETURN(int64_t version, CurrentVersion(*store, name));
          std::cout << "no changes: " << name.ToString() << " stays at version " << version << "\n";
        }
        return Status::OK();
      },
      check);
}

// --- table history / show / changes ------------------------------------------------

void Cli::AddTableHistory(CLI::App* table) {
  struct Args {
    std::string name;
    int64_t limit = 0;
    std::string format = "table";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd =
      AddCommand(table, "history",
                 "list the table's commits, newest first (DESCRIBE HISTORY): version, time, principal, "
                 "operation, rows added / updated / removed, parameters");
  cmd->add_option("NAME", a->name, "catalog.schema.table")->required();
  cmd->add_option("--limit", a->limit, "at most this many commits (default 0: all)")
      ->type_name("N")
      ->check(NonNegative());
  AddFormatOption(cmd, &a->format);
  OnRun(cmd, [this, a]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    VESTA_ASSIGN_OR_RETURN(auto commits, store->History(name, a->limit > 0 ? a->limit : -1));
    const OutputFormat format = FormatOf(a->format);
    Grid grid;
    grid.columns = {"version", "timestamp", "principal", "operation",
                    "added",   "updated",   "removed",   "parameters"};
    grid.json_text_columns = {7};
    grid.max_widths = {0, 0, 0, 0, 0, 0, 0, 80};  // predicates and sources are worth reading
    for (const CommitInfo& c : commits) {
      grid.rows.push_back({Value::Int(c.version), Value::Ts(c.timestamp), Value::Str(c.principal),
                           Value::Str(c.operation), Value::Int(c.rows_added), Value::Int(c.rows_updated),
                           Value::Int(c.rows_removed),
                           Value::Str(format == OutputFormat::kTable ? CompactParameters(c.parameters_json)
                                                                     : c.parameters_json)});
    }
    PrintGrid(std::cout, grid, format);
    return Status::OK();
  });
}

void Cli::AddTableShow(CLI::App* table) {
  struct Args {
    std::string name;
    VersionFlags at;
    std::string where;
    std::string columns;
    int64_t limit = 20;
    std::string format = "table";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = AddCommand(table, "show",
                             "read rows in primary-key order, now or at an older version (time travel), "
                             "optionally filtered");
  cmd->add_option("NAME", a->name, "catalog.schema.table")->required();
  a->at.Add(cmd, "read the table");
  cmd->add_option("--where", a->where, "a filter, e.g. \"cohort = 'GBM' AND age_at_diagnosis >= 40\"")
      ->type_name("PREDICATE");
  cmd->add_option("--columns", a->columns, "comma-separated columns to show (default: all)")
      ->type_name("COLS");
  cmd->add_option("--limit", a->limit, "at most this many rows (default 20; 0 for all)")
      ->type_name("N")
      ->check(NonNegative());
  AddFormatOption(cmd, &a->format);
  OnRun(cmd, [this, a]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
    governance::ReadOptions ro;
    ro.at = a->at.Spec();
    ro.predicate = a->where;
    VESTA_ASSIGN_OR_RETURN(std::vector<std::string> columns, SplitTopLevel(a->columns));
    ro.columns = std::move(columns);
    ro.limit = a->limit > 0 ? a->limit + 1 : -1;  // one more, to tell whether more rows match
    ro.order_by_primary_key = true;
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    VESTA_ASSIGN_OR_RETURN(auto result, store->Read(name, ro));
    const bool more = a->limit > 0 && static_cast<int64_t>(result.rows.size()) > a->limit;
    if (more) result.rows.resize(static_cast<size_t>(a->limit));
    Grid grid;
    for (const Column& c : result.columns) grid.columns.push_back(c.name);
    grid.rows = std::move(result.rows);
    const OutputFormat format = FormatOf(a->format);
    PrintGrid(std::cout, grid, format);
    if (format == OutputFormat::kTable) {
      std::cout << "(" << Plural(static_cast<int64_t>(grid.rows.size()), "row", "rows") << ", version "
                << result.version << (more ? "; more rows match: raise --limit, 0 for all" : "") << ")\n";
    } else if (more) {
      std::cerr << "vesta: note: output stops at --limit " << a->limit << " rows; --limit 0 for all\n";
    }
    return Status::OK();
  });
}

void Cli::AddTableChanges(CLI::App* table) {
  struct Args {
    std::string name;
    int64_t from = 0;
    int64_t to = -1;
    std::string format = "table";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = AddCommand(table, "changes",
                             "the change data feed from --from to --to: rows inserted, deleted and updated "
                             "(pre- and post-image), with _change_type, _commit_version, _commit_timestamp");
  cmd->add_option("NAME", a->name, "catalog.schema.table")->required();
  cmd->add_option("--from", a->from, "the first version (inclusive)")
      ->type_name("V")
      ->required()
      ->check(NonNegative());
  cmd->add_option("--to", a->to, "the last version (inclusive; default: the current one)")
      ->type_name("V")
      ->check(NonNegative());
  AddFormatOption(cmd, &a->format);
  OnRun(cmd, [this, a]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    int64_t to = a->to;
    if (to < 0) {
      VESTA_ASSIGN_OR_RETURN(to, CurrentVersion(*store, name));
    }
    VESTA_ASSIGN_OR_RETURN(auto feed, store->Changes(name, a->from, to));
    Grid grid;
    grid.columns = {"_change_type", "_commit_version", "_commit_timestamp"};
    for (const Column& c : feed.columns) grid.columns.push_back(c.name);
    for (auto& change : feed.changes) {
      Row row = {Value::Str(std::string(governance::ChangeTypeName(change.type))), Value::Int(change.version),
                 Value::Ts(change.timestamp)};
      for (Value& v : change.row) row.push_back(std::move(v));
      grid.rows.push_back(std::move(row));
    }
    const OutputFormat format = FormatOf(a->format);
    PrintGrid(std::cout, grid, format);
    if (format == OutputFormat::kTable) {
      std::cout << "(" << Plural(static_cast<int64_t>(grid.rows.size()), "change", "changes") << ", versions "
                << feed.start_version << ".." << feed.end_version << ")\n";
    }
    return Status::OK();
  });
}

// --- table delete / restore / vacuum ------------------------------------------------

void Cli::AddTableDelete(CLI::App* table) {
  struct Args {
    std::string name;
    std::string where;
    std::vector<std::string> keys;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = AddCommand(table, "delete",
                             "delete the rows matching a filter, or with given primary keys, as one commit "
                             "(older versions keep them: see table show --version)");
  cmd->add_option("NAME", a->name, "catalog.schema.table")->required();
  auto* where_opt =
      cmd->add_option("--where", a->where, "delete the rows matching this filter, e.g. \"age > 90\"")
          ->type_name("PREDICATE");
  auto* keys_opt = cmd->add_option("--key", a->keys,
                                   "delete the rows with these primary keys: --key A B or --key A --key B")
                       ->type_name("KEY");
  where_opt->excludes(keys_opt);
  OnRun(
      cmd,
      [this, a]() -> Status {
        VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
        VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
        VESTA_ASSIGN_OR_RETURN(auto info, store->DescribeTable(name));
        auto txn = store->Begin(g_.principal);
        VESTA_RETURN_IF_ERROR(txn->SetReadVersion(name, info.current_version));
        if (!a->keys.empty()) {
          const int pk = info.schema.primary_key_index();
          if (pk < 0) return Status::Internal(name.ToString() + " has no primary key");
          const DataType& pk_type = info.schema.columns[static_cast<size_t>(pk)].type;
          std::vector<Value> keys;
          for (const std::string& k : a->keys) {
            auto v = ParseValue(k, pk_type);
            if (!v.ok() || v->is_null()) {
              return Status::InvalidArgument("--key '" + k + "': primary key " + info.schema.primary_key +
                                             " is " + pk_type.ToString());
            }
            keys.push_back(std::move(v).value());
          }
          VESTA_RETURN_IF_ERROR(txn->DeleteKeys(name, std::move(keys)));
        } else {
          VESTA_RETURN_IF_ERROR(txn->DeleteWhere(name, a->where));
        }
        VESTA_ASSIGN_OR_RETURN(auto commits, txn->Commit());
        if (commits.empty()) {
          std::cout << "no rows matched: nothing committed; " << name.ToString() << " stays at version "
                    << info.current_version << "\n";
          return Status::OK();
        }
        const CommitInfo& c = commits.front();
        std::cout << "deleted " << Plural(c.rows_removed, "row", "rows") << " from " << name.ToString()
                  << ": version " << c.version;
        if (!a->keys.empty()) {
          std::cout << " (" << c.rows_removed << " of "
                    << Plural(static_cast<int64_t>(a->keys.size()), "key", "keys") << " found)";
        }
        std::cout << "\n";
        return Status::OK();
      },
      [where_opt, keys_opt, a]() {
        if (where_opt->count() == 0 && keys_opt->count() == 0) throw CLI::RequiredError("--where or --key");
        if (where_opt->count() > 0 && Trim(a->where).empty()) {
          throw CLI::ValidationError("--where", "the filter is empty");
        }
      });
}

void Cli::AddTableRestore(CLI::App* table) {
  struct Args {
    std::string name;
    int64_t version = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = AddCommand(table, "restore",
                             "make an older version's rows and schema current again, as a new commit "
                             "(history is kept)");
  cmd->add_option("NAME", a->name, "catalog.schema.table")->required();
  cmd->add_option("--version", a->version, "the version to restore")
      ->type_name("V")
      ->required()
      ->check(NonNegative());
  OnRun(cmd, [this, a]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    auto txn = store->Begin(g_.principal);
    VESTA_RETURN_IF_ERROR(txn->Restore(name, a->version));
    VESTA_ASSIGN_OR_RETURN(auto commits, txn->Commit());
    if (commits.empty()) {
      VESTA_ASSIGN_OR_RETURN(int64_t current, CurrentVersion(*store, name));
      std::cout << "no changes: version " << a->version << " matches the current version " << current
                << "; nothing committed\n";
      return Status::OK();
    }
    const CommitInfo& c = commits.front();
    std::cout << "restored " << name.ToString() << " to version " << a->version << " as version " << c.version
              << ": " << c.rows_added << " added, " << c.rows_updated << " updated, " << c.rows_removed
              << " removed\n";
    return Status::OK();
  });
}

void Cli::AddTableVacuum(CLI::App* table) {
  struct Args {
    std::string name;
    double retain_hours = 168;
    bool dry_run = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = AddCommand(table, "vacuum",
                             "purge the row images only needed to read versions older than the retention "
                             "window; those versions can no longer be read, restored or diffed");
  cmd->add_option("NAME", a->name, "catalog.schema.table")->required();
  cmd->add_option("--retain-hours", a->retain_hours,
                  "keep every version committed within this many hours readable, and the last one before "
                  "(default 168 = 7 days)")
      ->type_name("H")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_flag("--dry-run", a->dry_run, "report what would be purged; change nothing");
  OnRun(cmd, [this, a]() -> Status {
    VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(a->name));
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    const auto retention = std::chrono::seconds(static_cast<int64_t>(a->retain_hours * 3600.0));
    VESTA_ASSIGN_OR_RETURN(auto rep, store->Vacuum(name, retention, a->dry_run));
    const bool dry = a->dry_run;
    if (dry) std::cout << "dry run: nothing changed\n";
    std::cout << "table:                   " << name.ToString() << " (current version " << rep.current_version
              << ")\n"
              << "oldest readable version: " << rep.oldest_version_before << " -> "
              << rep.oldest_version_after << "\n"
              << "row images purged:       " << rep.rows_purged << (dry ? " (would be)" : "") << "\n";
    if (rep.oldest_version_after > rep.oldest_version_before) {
      const int64_t last_lost = rep.oldest_version_after - 1;
      const std::string lost =
          rep.oldest_version_before == last_lost
              ? "version " + std::to_string(last_lost)
              : "versions " + std::to_string(rep.oldest_version_before) + ".." + std::to_string(last_lost);
      const int64_t feed_start = rep.oldest_version_after + 1;
      std::cout << lost << (dry ? " would no longer be readable" : " can no longer be read")
                << " (table show/describe --version, restore); the change feed "
                << (dry ? "would start" : "now starts") << " at version " << feed_start
                << (feed_start > rep.current_version ? " (the next commit)" : "") << "\n";
    } else {
      std::cout << "every version from " << rep.oldest_version_before << " stays readable\n";
    }
    return Status::OK();
  });
}

// --- demo ---------------------------------------------------------------------------

std::string DefaultDataDir() {
#ifdef VESTA_SOURCE_DIR
  const fs::path source_data = fs::path(VESTA_SOURCE_DIR) / "data";
  std::error_code ec;
  if (fs::is_directory(source_data, ec)) return source_data.string();
#endif
  return "./data";
}

void Cli::AddDemo() {
  CLI::App* demo =
      AddCommand(&app_, "demo", "the demo cohort: TCGA glioma (GBM + LGG) imaging, clinical, genomics");
  demo->require_subcommand(1);
  auto data_dir = std::make_shared<std::string>(DefaultDataDir());
  CLI::App* load =
      AddCommand(demo, "load",
                 "load the TCGA glioma demo cohort into main.imaging, main.clinical and main.genomics "
                 "(an upsert: loading again commits nothing)");
  load->add_option("--data", *data_dir, "the data folder holding tcga-glioma/ (default: " + *data_dir + ")")
      ->type_name("DIR");
  OnRun(load, [this, data_dir]() -> Status {
    std::error_code ec;
    if (!fs::is_directory(*data_dir, ec)) {
      return Status::NotFound("demo data folder '" + *data_dir +
                              "' does not exist (give --data DIR, the folder holding tcga-glioma/)");
    }
    VESTA_ASSIGN_OR_RETURN(auto store, OpenStore(g_));
    ingest::DemoOptions options;
    options.data_dir = *data_dir;
    options.principal = g_.principal;
    ProgressDisplay progress(std::cerr, ProgressDisplay::StderrIsTerminal());
    options.progress = progress.Callback();
    const auto start = std::chrono::steady_clock::now();
    auto report = ingest::LoadDemoCohort(*store, options);
    progress.Finish();
    if (!report.ok()) return report.status();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<std::vector<std::string>> rows;
    bool any_changed = false;
    for (const auto& t : report->tables) {
      rows.push_back({t.table.ToString(), std::to_string(t.rows), std::to_string(t.version),
                      t.changed ? "yes" : "no", t.note});
      any_changed = any_changed || t.changed;
    }
    PrintTextTable(std::cout,
                   {{"table"},
                    {"rows", Align::kRight},
                    {"version", Align::kRight},
                    {"changed"},
                    {"note", Align::kLeft, 100}},
                   rows);
    char elapsed[32];
    std::snprintf(elapsed, sizeof(elapsed), "%.2f", seconds);
    std::cout << (any_changed ? "loaded in " : "nothing changed (already loaded); checked in ") << elapsed
              << " s\nnext: vesta table history main.genomics.somatic_mutations\n";
    return Status::OK();
  });
  AddDemoPrincipals(demo);
}

// Writes `secret` and a newline to `path` with mode 0600 (through a temporary
// file renamed over it, so a reader never sees half a token). Errors:
// Unavailable naming the file and the system error.
Status WriteSecretFile(const fs::path& path, const std::string& secret) {
  const std::string tmp = path.string() + ".tmp";
  auto fail = [&](const std::string& what) {
    return Status::Unavailable("cannot " + what + " '" + tmp + "': " + std::strerror(errno));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("create");
  // An existing file keeps its mode through O_CREAT: set it.
  if (::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return fail("chmod");
  }
  const std::string text = secret + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("sync");
  }
  if (::close(fd) != 0) return fail("close");
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    return Status::Unavailable("cannot rename '" + tmp + "' to '" + path.string() + "': " + ec.message());
  return Status::OK();
}

void Cli::AddDemoPrincipals(CLI::App* demo) {
  CLI::App* cmd = AddCommand(demo, "principals",
                             "set up the demo principals on the loaded demo cohort, as a metastore admin "
                             "(--as): group oncology (user "
                             "oncologist) sees only tissue source sites 19, 76, CS, HT; group researchers "
                             "(user researcher) sees every "
                             "row with identifiers masked (keyed hashes, scan_date NULL); each new user gets "
                             "a token. Safe to run again: "
                             "changes nothing once set up; run again after creating "
                             "main.imaging.radiomics_idx to grant SELECT on it");
  auto token_dir = std::make_shared<std::string>();
  cmd->add_option("--token-dir", *token_dir,
                  "write each new token to DIR/<user>.token (mode 0600) instead of printing it")
      ->type_name("DIR");
  OnRun(cmd, [this, token_dir]() -> Status {
    if (!fs::exists(g_.store)) {
      return Status::NotFound("store '" + g_.store + "' does not exist (create it with `vesta init`)");
    }
    std::error_code ec;
    if (!token_dir->empty()) {
      fs::create_directories(*token_dir, ec);
      if (ec || ::access(token_dir->c_str(), W_OK) != 0) {
        return Status::Unavailable("cannot write tokens to folder '" + *token_dir + "'" +
                                   (ec ? ": " + ec.message() : ""));
      }
    }
    VESTA_ASSIGN_OR_RETURN(auto governed, access::Governed::Open(g_.store));
    Result<access::Caller> admin = governed->CallerFor(g_.principal);
    if (!admin.ok()) {
      return Status(admin.status().code(), admin.status().message() +
                                               " (run as a metastore admin: --as NAME, e.g. the user of "
                                               "`vesta admin bootstrap`)");
    }
    VESTA_ASSIGN_OR_RETURN(access::DemoPrincipalsReport report,
                           access::SetUpDemoPrincipals(*governed, *admin, access::DemoPrincipalsOptions{}));
    // New tokens first: they are the only copies.
    std::map<std::string, std::string> token_of;  // user -> where its token is
    for (const access::DemoPrincipal& p : report.principals) {
      const fs::path file = token_dir->empty() ? fs::path() : fs::path(*token_dir) / (p.user + ".token");
      if (!p.token.empty()) {
        if (token_dir->empty()) {
          std::cout << "token for " << p.user << " (" << p.token_id << "): " << p.token << "\n";
          token_of[p.user] = "new, printed above";
          continue;
        }
        const Status st = WriteSecretFile(file, p.token);
        if (!st.ok()) {
          std::cout << "token for " << p.user << " (" << p.token_id << "): " << p.token << "\n";
          return Status(st.code(), st.message() + " (the token of " + p.user + " is printed above instead)");
        }
        token_of[p.user] = file.string() + " (new)";
      } else if (!file.empty() && fs::exists(file, ec)) {
        token_of[p.user] = file.string();
      } else if (EqualsIgnoreCase(p.user, admin->user)) {
        token_of[p.user] = "its own (not issued here)";
      } else {
        token_of[p.user] = "issued earlier (not re-issued)";
      }
    }
    std::vector<std::vector<std::string>> rows;
    for (const access::DemoPrincipal& p : report.principals) {
      rows.push_back({p.user, p.group, p.sees, token_of[p.user]});
    }
    PrintTextTable(std::cout,
                   {{"user"}, {"group"}, {"sees", Align::kLeft, 100}, {"token", Align::kLeft, 1000}}, rows);
    if (report.changes.empty()) {
      std::cout << "nothing changed (already set up)\n";
    } else {
      std::cout << report.changes.size() << (report.changes.size() == 1 ? " change" : " changes") << ":\n";
      for (const std::string& c : report.changes) std::cout << "  " << c << "\n";
    }
    if (!report.index_granted) {
      std::cout << "note: index " << access::DemoPrincipalsOptions{}.index
                << " does not exist yet: run this again after creating it to grant SELECT on it\n";
    }
    if (!token_dir->empty()) {
      std::cout << "use a token: curl -H \"Authorization: Bearer $(cat " << *token_dir
                << "/oncologist.token)\" ...\n";
    }
    return Status::OK();
  });
}

}  // namespace
}  // namespace vesta::tools

int main(int argc, char** argv) {
  vesta::tools::Cli cli;
  return cli.Run(argc, argv);
}
