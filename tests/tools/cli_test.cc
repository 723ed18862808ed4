// End-to-end tests of the vesta CLI: the built binary (VESTA_CLI) runs as a
// subprocess, without a shell, against a store in a temporary folder.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "governance/audit.h"
#include "governance/principals.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace vesta::tools {
namespace {

using Json = nlohmann::json;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t CountLines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class CliTest : public ::testing::Test {
 protected:
  // Runs `vesta <args...>` with stdout and stderr captured in files. Unless
  // `with_store` is false, "--store <tmp>/s/store.vesta --as tester" comes
  // first. `env` entries are added to the child's environment.
  CliRun Exec(const std::vector<std::string>& args, bool with_store = true,
              const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> argv = {VESTA_CLI};
    if (with_store) argv.insert(argv.end(), {"--store", Store(), "--as", "tester"});
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out_path = dir_.File("stdout.txt");
    const std::string err_path = dir_.File("stderr.txt");
    const pid_t pid = ::vesta::testing::SpawnToFiles(argv, out_path, err_path, env, dir_.path().string());
    int status = 0;
    waitpid(pid, &status, 0);
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadAll(out_path);
    r.err = ReadAll(err_path);
    return r;
  }
  CliRun Vesta(const std::vector<std::string>& args) { return Exec(args); }

  std::string Store() const { return dir_.File("s/store.vesta"); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string p = dir_.File(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  // init, schema main.clinical, and main.clinical.patients from a 3-row CSV
  // (version 0: CREATE TABLE, version 1: UPSERT).
  void SetUpPatients() {
    CliRun init = Vesta({"init"});
    ASSERT_EQ(init.code, 0) << init.err;
    CliRun schema = Vesta({"schema", "create", "main.clinical"});
    ASSERT_EQ(schema.code, 0) << schema.err;
    const std::string csv = Write("patients.csv",
                                  "patient_id,age,site\n"
                                  "TCGA-02-0001,50,02\n"
                                  "TCGA-06-0002,61,06\n"
                                  "TCGA-06-0003,70,06\n");
    CliRun r = Vesta({"table", "ingest", "main.clinical.patients", csv, "--primary-key", "patient_id",
                      "--type", "site=STRING"});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  // The table's commits (newest first) from `table history --format json`.
  Json History(const std::string& table) {
    CliRun h = Vesta({"table", "history", table, "--format", "json"});
    EXPECT_EQ(h.code, 0) << h.err;
    return Json::parse(h.out, nullptr, false);
  }

  // Rows from `table show --format json` with extra flags.
  Json ShowJson(const std::string& table, std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"table", "show", table, "--format", "json"};
    args.insert(args.end(), flags.begin(), flags.end());
    CliRun r = Vesta(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return Json::parse(r.out, nullptr, false);
  }

  static std::vector<std::string> Keys(const Json& rows, const std::string& column) {
    std::vector<std::string> keys;
    for (const Json& row : rows) keys.push_back(row[column].get<std::string>());
    return keys;
  }

  // Checks the error contract: exit code, one stderr line "vesta: CODE: ...".
  static void ExpectError(const CliRun& r, int code, const std::string& code_name) {
    EXPECT_EQ(r.code, code) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.rfind("vesta: " + code_name + ": ", 0), 0u) << r.err;
    EXPECT_EQ(CountLines(r.err), 1u) << r.err;
  }

  testing::TempDir dir_;
};

TEST_F(CliTest, InitCreatesStoreFolderAndCatalogThenFindsThem) {
  CliRun a = Vesta({"init"});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_TRUE(Contains(a.out, "created store ")) << a.out;
  EXPECT_TRUE(Contains(a.out, "created catalog main")) << a.out;
  EXPECT_TRUE(std::filesystem::exists(Store()));
  CliRun b = Vesta({"init"});
  EXPECT_EQ(b.code, 0) << b.err;
  EXPECT_TRUE(Contains(b.out, "found store ")) << b.out;
  EXPECT_TRUE(Contains(b.out, "found catalog main")) << b.out;
  CliRun catalogs = Vesta({"catalog", "list"});
  EXPECT_EQ(catalogs.out, "main\n");
}

TEST_F(CliTest, StoreComesFromEnvironmentOrDefaultPath) {
  const std::string env_store = dir_.File("env/x.vesta");
  CliRun a = Exec({"init"}, /*with_store=*/false, {{"VESTA_STORE", env_store}});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_TRUE(std::filesystem::exists(env_store));
  // The principal defaults to $USER.
  const std::map<std::string, std::string> env = {{"VESTA_STORE", env_store}, {"USER", "carol"}};
  ASSERT_EQ(Exec({"schema", "create", "main.lab"}, /*with_store=*/false, env).code, 0);
  CliRun create = Exec({"table", "create", "main.lab.runs", "--primary-key", "id", "--column", "id BIGINT"},
                       /*with_store=*/false, env);
  ASSERT_EQ(create.code, 0) << create.err;
  CliRun history = Exec({"table", "history", "main.lab.runs", "--format", "csv"}, /*with_store=*/false, env);
  EXPECT_TRUE(Contains(history.out, ",carol,CREATE TABLE,")) << history.out;
  CliRun b = Exec({"init"}, /*with_store=*/false);  // cwd is the temp folder
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("vesta-data/store.vesta")));
}

TEST_F(CliTest, GlobalOptionsMayFollowTheCommand) {
  SetUpPatients();
  CliRun del = Exec({"table", "delete", "main.clinical.patients", "--key", "TCGA-02-0001", "--store", Store(),
                     "--as", "alice"},
                    /*with_store=*/false);
  ASSERT_EQ(del.code, 0) << del.err;
  Json history = History("main.clinical.patients");
  ASSERT_TRUE(history.is_array());
  EXPECT_EQ(history[0]["principal"], "alice");
  EXPECT_EQ(history[1]["principal"], "tester");
}

TEST_F(CliTest, CatalogSchemaAndTableCreateThenDescribe) {
  ASSERT_EQ(Vesta({"init"}).code, 0);
  ASSERT_EQ(Vesta({"catalog", "create", "research"}).code, 0);
  ExpectError(Vesta({"catalog", "create", "research"}), 5, "ALREADY_EXISTS");
  EXPECT_EQ(Vesta({"catalog", "create", "research", "--if-not-exists"}).code, 0);
  ASSERT_EQ(Vesta({"schema", "create", "research.imaging"}).code, 0);
  ExpectError(Vesta({"schema", "create", "nope.imaging"}), 3, "NOT_FOUND");
  ExpectError(Vesta({"schema", "create", "research"}), 4, "INVALID_ARGUMENT");
  EXPECT_EQ(Vesta({"schema", "list"}).out, "research.imaging\n");
  EXPECT_EQ(Vesta({"catalog", "list"}).out, "main\nresearch\n");
}

TEST_F(CliTest, TableCreateParsesColumnDefinitions) {
  ASSERT_EQ(Vesta({"init"}).code, 0);
  ASSERT_EQ(Vesta({"schema", "create", "main.imaging"}).code, 0);
  CliRun c = Vesta({"table", "create", "main.imaging.studies", "--primary-key", "study_id", "--schema",
                    "study_id STRING, scan_date DATE COMMENT 'MRI, pre-op', emb VECTOR( 3 )", "--column",
                    "reader STRING NOT NULL COMMENT 'the radiologist''s id'", "--comment",
                    "one row per study", "--property", "modality=MRI"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_TRUE(
      Contains(c.out, "created table main.imaging.studies at version 0 (4 columns, primary key study_id)"))
      << c.out;
  CliRun d = Vesta({"table", "describe", "main.imaging.studies"});
  ASSERT_EQ(d.code, 0) << d.err;
  for (const char* expected :
       {"VECTOR(3)", "MRI, pre-op", "the radiologist's id", "primary key:        study_id",
        "one row per study", "modality=MRI", "rows:               0", "NOT NULL"}) {
    EXPECT_TRUE(Contains(d.out, expected)) << expected << " in\n" << d.out;
  }
  // Same definition again: AlreadyExists, unless --if-not-exists.
  const std::vector<std::string> again = {
      "table",
      "create",
      "main.imaging.studies",
      "--primary-key",
      "study_id",
      "--schema",
      "study_id STRING, scan_date DATE COMMENT 'MRI, pre-op', emb VECTOR(3), "
      "reader STRING NOT NULL COMMENT 'the radiologist''s id'"};
  ExpectError(Vesta(again), 5, "ALREADY_EXISTS");
  std::vector<std::string> if_not_exists = again;
  if_not_exists.push_back("--if-not-exists");
  CliRun found = Vesta(if_not_exists);
  EXPECT_EQ(found.code, 0) << found.err;
  EXPECT_TRUE(Contains(found.out, "found table main.imaging.studies")) << found.out;

  CliRun bad_type =
      Vesta({"table", "create", "main.imaging.x", "--primary-key", "id", "--column", "id BIGNUM"});
  ExpectError(bad_type, 4, "INVALID_ARGUMENT");
  EXPECT_TRUE(Contains(bad_type.err, "column 'id BIGNUM'")) << bad_type.err;
  EXPECT_TRUE(Contains(bad_type.err, "BIGNUM")) << bad_type.err;
  ExpectError(
      Vesta({"table", "create", "main.imaging.x", "--primary-key", "id", "--column", "id BIGINT PRIMARY"}), 4,
      "INVALID_ARGUMENT");
  ExpectError(Vesta({"table", "create", "main.imaging.x", "--primary-key", "nope", "--column", "id BIGINT"}),
              4, "INVALID_ARGUMENT");
  ExpectError(Vesta({"table", "create", "main.imaging.x", "--primary-key", "id"}), 2, "USAGE");
  ExpectError(Vesta({"table", "create", "main.missing.x", "--primary-key", "id", "--column", "id BIGINT"}), 3,
              "NOT_FOUND");
  CliRun with_schema = Vesta({"table", "create", "lab.assays.runs", "--create-schema", "--primary-key",
                              "run_id", "--column", "run_id BIGINT", "--column", "started TIMESTAMP"});
  EXPECT_EQ(with_schema.code, 0) << with_schema.err;
  CliRun list = Vesta({"table", "list", "lab"});
  EXPECT_TRUE(Contains(list.out, "lab.assays.runs")) << list.out;
  EXPECT_FALSE(Contains(list.out, "main.imaging.studies")) << list.out;
  EXPECT_TRUE(Contains(list.out, "(1 table)")) << list.out;
}

TEST_F(CliTest, IngestUpsertsAndReingestCommitsNothing) {
  ASSERT_EQ(Vesta({"init"}).code, 0);
  ASSERT_EQ(Vesta({"schema", "create", "main.clinical"}).code, 0);
  const std::string csv = Write("patients.csv", "patient_id,age,site\nP1,50,02\nP2,61,06\nP3,70,06\n");
  CliRun first = Vesta({"table", "ingest", "main.clinical.patients", csv, "--primary-key", "patient_id",
                        "--type", "site=STRING"});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_TRUE(Contains(first.out, "read 3 rows from patients.csv")) << first.out;
  EXPECT_TRUE(Contains(first.out, "created table main.clinical.patients")) << first.out;
  EXPECT_TRUE(Contains(first.out,
                       "committed main.clinical.patients version 1 (UPSERT): 3 added, 0 updated, 0 removed"))
      << first.out;
  EXPECT_EQ(first.err, "") << "a short ingest prints no progress when stderr is not a terminal";

  CliRun again = Vesta({"table", "ingest", "main.clinical.patients", csv});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(Contains(again.out, "no changes: main.clinical.patients stays at version 1")) << again.out;
  EXPECT_FALSE(Contains(again.out, "committed")) << again.out;
  EXPECT_EQ(History("main.clinical.patients").size(), 2u);

  const std::string changed = Write("patients2.csv", "patient_id,age,site\nP1,50,02\nP2,62,06\nP4,44,01\n");
  CliRun upsert = Vesta({"table", "ingest", "main.clinical.patients", changed});
  ASSERT_EQ(upsert.code, 0) << upsert.err;
  EXPECT_TRUE(Contains(upsert.out, "version 2 (UPSERT): 1 added, 1 updated, 0 removed")) << upsert.out;
  // Site stayed STRING (the leading zero survives).
  Json rows = ShowJson("main.clinical.patients");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["site"], "02");
  EXPECT_EQ(rows[1]["age"], 62);

  CliRun append = Vesta({"table", "ingest", "main.clinical.patients", changed, "--mode", "append"});
  ExpectError(append, 5, "ALREADY_EXISTS");
  CliRun no_create = Vesta({"table", "ingest", "main.clinical.other", csv, "--no-create"});
  ExpectError(no_create, 3, "NOT_FOUND");
  ExpectError(Vesta({"table", "ingest", "main.clinical.patients", dir_.File("missing.csv")}), 3, "NOT_FOUND");
  ExpectError(Vesta({"table", "ingest", "main.clinical.patients", csv, "--mode", "merge"}), 2, "USAGE");
  ExpectError(Vesta({"table", "ingest", "main.clinical.patients", csv, "--type", "site"}), 2, "USAGE");
}

TEST_F(CliTest, MalformedCsvExitsFourNamesThePositionAndCommitsNothing) {
  SetUpPatients();
  const std::string bad = Write("bad.csv", "patient_id,age,site\nTCGA-06-0009,41,06\nTCGA-06-0010,abc,06\n");
  CliRun r = Vesta({"table", "ingest", "main.clinical.patients", bad});
  ExpectError(r, 4, "INVALID_ARGUMENT");
  // file:line, column, value and expected type.
  EXPECT_TRUE(Contains(r.err, "bad.csv:3")) << r.err;
  EXPECT_TRUE(Contains(r.err, "'age'")) << r.err;
  EXPECT_TRUE(Contains(r.err, "'abc'")) << r.err;
  EXPECT_TRUE(Contains(r.err, "expected BIGINT")) << r.err;
  EXPECT_EQ(r.out, "");
  Json history = History("main.clinical.patients");
  ASSERT_EQ(history.size(), 2u) << history.dump();
  EXPECT_EQ(history[0]["version"], 1);
  EXPECT_EQ(ShowJson("main.clinical.patients").size(), 3u);
  ExpectError(Vesta({"table", "describe", "main.clinical.patients_quarantine"}), 3, "NOT_FOUND");
}

TEST_F(CliTest, QuarantineCommitsGoodRowsAndReportsRejected) {
  SetUpPatients();
  const std::string mixed = Write("mixed.csv",
                                  "patient_id,age,site\n"
                                  "TCGA-06-0010,1,06\n"
                                  "TCGA-06-0011,x,06\n"
                                  "TCGA-06-0012,2,06\n"
                                  "TCGA-06-0013,,06,extra\n");
  CliRun q = Vesta({"table", "ingest", "main.clinical.patients", mixed, "--quarantine"});
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_TRUE(Contains(q.out, "quarantine: 2 records rejected, see main.clinical.patients_quarantine"))
      << q.out;
  EXPECT_TRUE(Contains(q.out, "committed main.clinical.patients version 2 (UPSERT): 2 added")) << q.out;
  Json rows = ShowJson("main.clinical.patients");
  EXPECT_EQ(rows.size(), 5u);
  Json rejected = ShowJson("main.clinical.patients_quarantine");
  ASSERT_EQ(rejected.size(), 2u) << rejected.dump();
  EXPECT_TRUE(Contains(rejected.dump(), "\"x\"")) << rejected.dump();

  const std::string clean = Write("clean.csv", "patient_id,age,site\nTCGA-06-0014,3,06\n");
  CliRun c = Vesta({"table", "ingest", "main.clinical.patients", clean, "--quarantine"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_TRUE(Contains(c.out, "quarantine: no records rejected")) << c.out;
}

TEST_F(CliTest, HistoryListsEveryCommitAsAnAlignedTable) {
  SetUpPatients();
  ASSERT_EQ(Vesta({"table", "delete", "main.clinical.patients", "--where", "age > 65"}).code, 0);
  CliRun h = Vesta({"table", "history", "main.clinical.patients"});
  ASSERT_EQ(h.code, 0) << h.err;
  std::istringstream lines(h.out);
  std::string header, rule, v2, v1, v0;
  std::getline(lines, header);
  std::getline(lines, rule);
  std::getline(lines, v2);
  std::getline(lines, v1);
  std::getline(lines, v0);
  for (const char* col :
       {"version", "timestamp", "principal", "operation", "added", "updated", "removed", "parameters"}) {
    EXPECT_TRUE(Contains(header, col)) << header;
  }
  EXPECT_EQ(rule.find_first_not_of("- "), std::string::npos) << rule;
  EXPECT_EQ(v2.rfind("      2  ", 0), 0u) << "versions are right-aligned under 'version':\n" << h.out;
  EXPECT_TRUE(Contains(v2, "DELETE")) << v2;
  EXPECT_TRUE(Contains(v2, "predicate=age > 65")) << v2;
  EXPECT_TRUE(Contains(v1, "UPSERT")) << v1;
  EXPECT_TRUE(Contains(v1, "tester")) << v1;
  EXPECT_TRUE(Contains(v0, "CREATE TABLE")) << v0;
  EXPECT_TRUE(Contains(v2, "Z  tester")) << "ISO-8601 UTC timestamps:\n" << v2;
  EXPECT_EQ(header.find("operation"), v2.find("DELETE")) << "columns line up:\n" << h.out;
  EXPECT_EQ(header.find("operation"), v0.find("CREATE TABLE")) << "columns line up:\n" << h.out;

  CliRun limited = Vesta({"table", "history", "main.clinical.patients", "--limit", "1"});
  EXPECT_EQ(CountLines(limited.out), 3u) << limited.out;
}

TEST_F(CliTest, DeleteThenTimeTravelChangeFeedRestoreAndVacuum) {
  SetUpPatients();
  CliRun del = Vesta({"table", "delete", "main.clinical.patients", "--where", "site = '06' AND age > 65"});
  ASSERT_EQ(del.code, 0) << del.err;
  EXPECT_TRUE(Contains(del.out, "deleted 1 row from main.clinical.patients: version 2")) << del.out;

  EXPECT_EQ(Keys(ShowJson("main.clinical.patients"), "patient_id"),
            (std::vector<std::string>{"TCGA-02-0001", "TCGA-06-0002"}));
  // The earlier version still has the deleted row, by version and by time.
  CliRun old = Vesta({"table", "show", "main.clinical.patients", "--version", "1", "--format", "csv",
                      "--columns", "patient_id,age"});
  ASSERT_EQ(old.code, 0) << old.err;
  EXPECT_EQ(old.out, "patient_id,age\nTCGA-02-0001,50\nTCGA-06-0002,61\nTCGA-06-0003,70\n");
  const std::string v1_time = History("main.clinical.patients")[1]["timestamp"].get<std::string>();
  EXPECT_EQ(ShowJson("main.clinical.patients", {"--timestamp", v1_time}).size(), 3u);
  CliRun table = Vesta({"table", "show", "main.clinical.patients", "--version", "1"});
  EXPECT_TRUE(Contains(table.out, "(3 rows, version 1)")) << table.out;

  // The change feed shows the deleted row.
  CliRun feed = Vesta({"table", "changes", "main.clinical.patients", "--from", "2", "--format", "json"});
  ASSERT_EQ(feed.code, 0) << feed.err;
  Json changes = Json::parse(feed.out);
  ASSERT_EQ(changes.size(), 1u) << feed.out;
  EXPECT_EQ(changes[0]["_change_type"], "delete");
  EXPECT_EQ(changes[0]["_commit_version"], 2);
  EXPECT_EQ(changes[0]["patient_id"], "TCGA-06-0003");
  EXPECT_EQ(changes[0]["age"], 70);
  EXPECT_EQ(changes[0]["_commit_timestamp"].get<std::string>().back(), 'Z');
  CliRun feed_csv =
      Vesta({"table", "changes", "main.clinical.patients", "--from", "2", "--to", "2", "--format", "csv"});
  EXPECT_TRUE(Contains(feed_csv.out, "_change_type,_commit_version,_commit_timestamp,patient_id,age,site\n"))
      << feed_csv.out;
  EXPECT_TRUE(Contains(feed_csv.out, "delete,2,")) << feed_csv.out;

  CliRun res = Vesta({"table", "restore", "main.clinical.patients", "--version", "1"});
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_TRUE(Contains(res.out, "restored main.clinical.patients to version 1 as version 3: 1 added"))
      << res.out;
  EXPECT_EQ(ShowJson("main.clinical.patients").size(), 3u);

  CliRun dry = Vesta({"table", "vacuum", "main.clinical.patients", "--retain-hours", "0", "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_TRUE(Contains(dry.out, "versions 0..2 would no longer be readable")) << dry.out;
  EXPECT_EQ(ShowJson("main.clinical.patients", {"--version", "1"}).size(), 3u) << "a dry run changes nothing";

  CliRun vac = Vesta({"table", "vacuum", "main.clinical.patients", "--retain-hours", "0"});
  ASSERT_EQ(vac.code, 0) << vac.err;
  EXPECT_TRUE(Contains(vac.out, "oldest readable version: 0 -> 3")) << vac.out;
  EXPECT_TRUE(Contains(vac.out, "row images purged:       1")) << vac.out;
  EXPECT_TRUE(Contains(vac.out, "versions 0..2 can no longer be read")) << vac.out;

  CliRun gone = Vesta({"table", "show", "main.clinical.patients", "--version", "1"});
  ExpectError(gone, 6, "FAILED_PRECONDITION");
  EXPECT_TRUE(Contains(gone.err, "vacuumed")) << gone.err;
  ExpectError(Vesta({"table", "changes", "main.clinical.patients", "--from", "2"}), 6, "FAILED_PRECONDITION");
  ExpectError(Vesta({"table", "restore", "main.clinical.patients", "--version", "1"}), 6,
              "FAILED_PRECONDITION");
  EXPECT_EQ(ShowJson("main.clinical.patients").size(), 3u);
}

TEST_F(CliTest, DeleteByKeyUsesThePrimaryKeyType) {
  ASSERT_EQ(Vesta({"init"}).code, 0);
  ASSERT_EQ(Vesta({"schema", "create", "main.lab"}).code, 0);
  const std::string csv = Write("runs.csv", "run_id,value\n1,0.5\n2,1.5\n3,2.5\n");
  ASSERT_EQ(Vesta({"table", "ingest", "main.lab.runs", csv, "--primary-key", "run_id"}).code, 0);
  CliRun del = Vesta({"table", "delete", "main.lab.runs", "--key", "1", "3", "--key", "9"});
  ASSERT_EQ(del.code, 0) << del.err;
  EXPECT_TRUE(Contains(del.out, "deleted 2 rows from main.lab.runs: version 2 (2 of 3 keys found)"))
      << del.out;
  Json rows = ShowJson("main.lab.runs");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["run_id"], 2);

  CliRun none = Vesta({"table", "delete", "main.lab.runs", "--where", "value > 100"});
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_TRUE(Contains(none.out, "no rows matched: nothing committed; main.lab.runs stays at version 2"))
      << none.out;
  ExpectError(Vesta({"table", "delete", "main.lab.runs", "--key", "abc"}), 4, "INVALID_ARGUMENT");
  ExpectError(Vesta({"table", "delete", "main.lab.runs"}), 2, "USAGE");
  ExpectError(Vesta({"table", "delete", "main.lab.runs", "--where", "value > 1", "--key", "2"}), 2, "USAGE");
  ExpectError(Vesta({"table", "delete", "main.lab.runs", "--where", "value >"}), 4, "INVALID_ARGUMENT");
  EXPECT_EQ(History("main.lab.runs").size(), 3u);
}

TEST_F(CliTest, ShowFormatsVectorsDatesNullsAndLimits) {
  ASSERT_EQ(Vesta({"init"}).code, 0);
  ASSERT_EQ(Vesta({"schema", "create", "main.imaging"}).code, 0);
  const std::string csv =
      Write("studies.csv",
            "id,scan_date,note,emb\n"
            "s1,2024-01-31,\"comma, and \"\"quote\"\"\",\"[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,"
            "1.0,1.1,1.2]\"\n"
            "s2,2024-02-29,,\"[1,2,3,4,5,6,7,8,9,10,11,12]\"\n"
            "s3,,\"two\nlines\",\n");
  CliRun ingest = Vesta(
      {"table", "ingest", "main.imaging.studies", csv, "--primary-key", "id", "--type", "emb=VECTOR(12)"});
  ASSERT_EQ(ingest.code, 0) << ingest.err;

  CliRun table = Vesta({"table", "show", "main.imaging.studies"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_TRUE(Contains(table.out, "(12 values)]")) << "vectors abbreviated, dimension kept:\n" << table.out;
  EXPECT_TRUE(Contains(table.out, "2024-02-29")) << table.out;
  EXPECT_TRUE(Contains(table.out, "two\\nlines")) << "newlines escaped, one line per row:\n" << table.out;
  EXPECT_TRUE(Contains(table.out, "NULL")) << table.out;
  EXPECT_TRUE(Contains(table.out, "(3 rows, version 1)")) << table.out;
  EXPECT_EQ(CountLines(table.out), 6u) << table.out;

  Json rows = ShowJson("main.imaging.studies");
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(rows[0]["emb"].size(), 12u) << "json vectors are full";
  EXPECT_EQ(rows[0]["emb"][0].dump(), "0.1") << "float32 in shortest form";
  EXPECT_EQ(rows[0]["scan_date"], "2024-01-31");
  EXPECT_EQ(rows[0]["note"], "comma, and \"quote\"");
  EXPECT_TRUE(rows[2]["emb"].is_null());
  EXPECT_TRUE(rows[2]["scan_date"].is_null());
  EXPECT_TRUE(rows[1]["note"].is_null()) << "an empty cell is NULL (default NA tokens)";

  CliRun csv_out =
      Vesta({"table", "show", "main.imaging.studies", "--format", "csv", "--columns", "id,note"});
  ASSERT_EQ(csv_out.code, 0) << csv_out.err;
  EXPECT_EQ(csv_out.out, "id,note\ns1,\"comma, and \"\"quote\"\"\"\ns2,\ns3,\"two\nlines\"\n");

  CliRun limited = Vesta({"table", "show", "main.imaging.studies", "--limit", "2", "--columns", "id"});
  EXPECT_TRUE(Contains(limited.out, "(2 rows, version 1; more rows match")) << limited.out;
  EXPECT_EQ(ShowJson("main.imaging.studies", {"--limit", "0"}).size(), 3u);
  Json filtered = ShowJson("main.imaging.studies", {"--where", "scan_date >= '2024-02-01'"});
  EXPECT_EQ(Keys(filtered, "id"), std::vector<std::string>{"s2"});
  ExpectError(Vesta({"table", "show", "main.imaging.studies", "--where", "id = "}), 4, "INVALID_ARGUMENT");
  ExpectError(Vesta({"table", "show", "main.imaging.studies", "--columns", "id,nope"}), 3, "NOT_FOUND");
}

TEST_F(CliTest, AdminBootstrapPrintsATokenOnceThenRefuses) {
  ASSERT_EQ(Vesta({"init"}).code, 0);
  CliRun r = Vesta({"admin", "bootstrap", "alice"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "created user alice in group admins")) << r.out;
  const size_t at = r.out.find("vst_");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string token = r.out.substr(at, 4 + 64);
  // Stored only as a hash: the plaintext is nowhere in the store file.
  EXPECT_FALSE(Contains(ReadAll(Store()), token));
  ExpectError(Vesta({"admin", "bootstrap", "bob"}), 6, "FAILED_PRECONDITION");
  ExpectError(Vesta({"admin", "bootstrap"}), 2, "USAGE");
}

// `vesta demo principals` on the real demo cohort: run as the admin, it
// writes each new user's token to DIR/<user>.token (mode 0600) and says what
// each principal sees; a second run changes nothing and rewrites no token.
TEST_F(CliTest, DemoPrincipalsWritesNewTokensOnceAndRunsAgainUnchanged) {
  ASSERT_EQ(Vesta({"init"}).code, 0);
  CliRun load = Vesta({"demo", "load"});
  ASSERT_EQ(load.code, 0) << load.err;
  CliRun unknown = Vesta({"demo", "principals"});  // as "tester": no such principal
  ExpectError(unknown, 3, "NOT_FOUND");
  EXPECT_TRUE(Contains(unknown.err, "--as")) << unknown.err;
  ASSERT_EQ(Vesta({"admin", "bootstrap", "admin"}).code, 0);
  const std::string tokens = dir_.File("tokens");
  auto as_admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", Store(), "--as", "admin"});
    return Exec(args, /*with_store=*/false);
  };

  CliRun first = as_admin({"demo", "principals", "--token-dir", tokens});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_TRUE(Contains(first.out, "oncologist  oncology")) << first.out;
  EXPECT_TRUE(Contains(first.out, "tissue source sites 19, 76, CS, HT")) << first.out;
  EXPECT_TRUE(Contains(first.out, "keyed hashes")) << first.out;
  EXPECT_TRUE(Contains(first.out, tokens + "/oncologist.token (new)")) << first.out;
  EXPECT_TRUE(Contains(first.out, "index main.imaging.radiomics_idx does not exist yet")) << first.out;
  EXPECT_FALSE(Contains(first.out, "vst_")) << first.out;  // written to files, not printed
  auto principals = governance::Principals::Open(Store());
  ASSERT_TRUE(principals.ok()) << principals.status().ToString();
  std::map<std::string, std::string> saved;
  for (const char* user : {"oncologist", "researcher"}) {
    const std::string file = tokens + "/" + user + ".token";
    struct stat st {};
    ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
    saved[user] = ReadAll(file);
    ASSERT_EQ(saved[user].size(), 4u + 64u + 1u) << saved[user];
    auto who = (*principals)->Authenticate(saved[user].substr(0, 68));
    ASSERT_TRUE(who.ok()) << who.status().ToString();
    EXPECT_EQ(who->user, user);
  }

  CliRun second = as_admin({"demo", "principals", "--token-dir", tokens});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_TRUE(Contains(second.out, "nothing changed (already set up)")) << second.out;
  EXPECT_FALSE(Contains(second.out, "(new)")) << second.out;
  EXPECT_TRUE(Contains(second.out, tokens + "/researcher.token")) << second.out;
  for (const auto& [user, token] : saved) EXPECT_EQ(ReadAll(tokens + "/" + user + ".token"), token) << user;
  // Without --token-dir nothing new is issued, so nothing is printed.
  CliRun third = as_admin({"demo", "principals"});
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_FALSE(Contains(third.out, "vst_")) << third.out;
  EXPECT_TRUE(Contains(third.out, "issued earlier")) << third.out;
}

TEST_F(CliTest, AuditVerifyReportsAnIntactChainAndExits7OnTampering) {
  ASSERT_EQ(Vesta({"init"}).code, 0);
  CliRun empty = Vesta({"audit", "verify"});
  ASSERT_EQ(empty.code, 0) << empty.err;
  EXPECT_EQ(empty.out, "audit log intact: 0 records verified\n");
  {
    auto log = governance::AuditLog::Open(Store());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 5; ++i) {
      governance::AuditRecord rec;
      rec.principal = "alice";
      rec.action = "table.read";
      rec.securable = "main.clinical.patients";
      rec.outcome = "allowed";
      rec.row_count = i;
      ASSERT_TRUE((*log)->Append(rec).ok());
    }
  }
  CliRun ok = Vesta({"audit", "verify"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, "audit log intact: 5 records verified\n");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Store().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "UPDATE gov_audit SET principal = 'mallory' WHERE seq = 3", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  CliRun bad = Vesta({"audit", "verify"});
  ExpectError(bad, 7, "DATA_LOSS");
  EXPECT_TRUE(Contains(bad.err, "audit record 3: hash mismatch")) << bad.err;
}

TEST_F(CliTest, ErrorsMapToExitCodesWithOneLine) {
  CliRun no_store = Vesta({"table", "list"});
  ExpectError(no_store, 3, "NOT_FOUND");
  EXPECT_TRUE(Contains(no_store.err, "vesta init")) << no_store.err;
  ASSERT_EQ(Vesta({"init"}).code, 0);
  CliRun nf = Vesta({"table", "history", "main.nope.nope"});
  ExpectError(nf, 3, "NOT_FOUND");
  EXPECT_TRUE(Contains(nf.err, "main.nope.nope")) << nf.err;
  ExpectError(Vesta({"table", "show", "main.nope.nope"}), 3, "NOT_FOUND");
  ExpectError(Vesta({"table", "history", "not-a-name"}), 4, "INVALID_ARGUMENT");
  ExpectError(Vesta({"table", "frobnicate"}), 2, "USAGE");
  ExpectError(Vesta({"frobnicate"}), 2, "USAGE");
  ExpectError(Vesta({}), 2, "USAGE");
  ExpectError(Vesta({"table", "show", "main.a.b", "--bogus"}), 2, "USAGE");
  ExpectError(Vesta({"table", "show", "main.a.b", "--limit", "notanumber"}), 2, "USAGE");
  ExpectError(Vesta({"table", "show", "main.a.b", "--limit", "-1"}), 2, "USAGE");
  ExpectError(Vesta({"table", "show", "main.a.b", "--format", "xml"}), 2, "USAGE");
  ExpectError(Vesta({"table", "show", "main.a.b", "--timestamp", "yesterday"}), 2, "USAGE");
  ExpectError(Vesta({"table", "show", "main.a.b", "--version", "1", "--timestamp", "2024-01-01"}), 2,
              "USAGE");
  ExpectError(Vesta({"table", "show"}), 2, "USAGE");
  CliRun usage = Vesta({"table", "show", "main.a.b", "--bogus"});
  EXPECT_TRUE(Contains(usage.err, "vesta table show --help")) << usage.err;
  CliRun nodata = Vesta({"demo", "load", "--data", "/nonexistent"});
  ExpectError(nodata, 3, "NOT_FOUND");
  EXPECT_TRUE(Contains(nodata.err, "demo data folder '/nonexistent' does not exist")) << nodata.err;
}

TEST_F(CliTest, EveryCommandHasHelpThatSaysWhatItDoes) {
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"", "versioned tables"},
      {"init", "create the store file"},
      {"catalog", "catalogs"},
      {"catalog create", "create a catalog"},
      {"catalog list", "list the catalogs"},
      {"schema", "schemas"},
      {"schema create", "create a schema"},
      {"schema list", "list the schemas"},
      {"table", "versioned tables"},
      {"table create", "create an empty table"},
      {"table list", "list tables"},
      {"table describe", "columns"},
      {"table ingest", "read a file"},
      {"table history", "commits"},
      {"table show", "read rows"},
      {"table changes", "change data feed"},
      {"table delete", "delete the rows"},
      {"table restore", "older version"},
      {"table vacuum", "purge"},
      {"demo", "demo cohort"},
      {"demo load", "load the TCGA glioma demo cohort"},
      {"demo principals", "set up the demo principals"},
  };
  for (const auto& [command, purpose] : commands) {
    std::vector<std::string> args;
    std::istringstream words(command);
    for (std::string w; words >> w;) args.push_back(w);
    args.push_back("--help");
    CliRun r = Exec(args, /*with_store=*/false);
    EXPECT_EQ(r.code, 0) << command;
    EXPECT_TRUE(Contains(r.out, "Usage: vesta")) << command << ":\n" << r.out;
    EXPECT_TRUE(Contains(r.out, purpose)) << command << " should say '" << purpose << "':\n" << r.out;
  }
  CliRun top = Exec({"--help"}, /*with_store=*/false);
  for (const char* code : {"0  success", "2  usage error", "3  not found", "4  invalid argument",
                           "5  conflict", "6  failed precondition"}) {
    EXPECT_TRUE(Contains(top.out, code)) << code << " in\n" << top.out;
  }
}

}  // namespace
}  // namespace vesta::tools
