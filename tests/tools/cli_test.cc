// End-to-end tests of the vesta CLI: the built binary runs as a subprocess
// against a store in a temporary folder.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/testing/temp_dir.h"

namespace vesta::tools {
namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  // Runs `vesta --store <tmp> <args>`; args are passed through the shell
  // (quote them as in a terminal).
  CliRun Vesta(const std::string& args) {
    const std::string err_file = dir_.File("stderr.txt");
    const std::string cmd = std::string(VESTA_CLI) + " --store " + dir_.File("s/store.vesta") + " --as tester " +
                            args + " 2>" + err_file;
    CliRun r;
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_file);
    std::stringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    return r;
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = dir_.File(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  void SetUpTable() {
    ASSERT_EQ(Vesta("init").code, 0);
    ASSERT_EQ(Vesta("schema create main.clinical").code, 0);
    std::string csv = Write("p.csv", "patient_id,age,site\nTCGA-02-0001,50,02\nTCGA-06-0002,61,06\nTCGA-06-0003,70,06\n");
    CliRun r = Vesta("table ingest main.clinical.patients " + csv + " --primary-key patient_id --type site=STRING");
    ASSERT_EQ(r.code, 0) << r.err;
  }

  testing::TempDir dir_;
};

TEST_F(CliTest, InitIsIdempotent) {
  CliRun a = Vesta("init");
  EXPECT_EQ(a.code, 0) << a.err;
  EXPECT_NE(a.out.find("created store"), std::string::npos);
  CliRun b = Vesta("init");
  EXPECT_EQ(b.code, 0);
  EXPECT_NE(b.out.find("found store"), std::string::npos);
}

TEST_F(CliTest, IngestTwiceThenHistoryShowsOneCommit) {
  SetUpTable();
  CliRun again = Vesta("table ingest main.clinical.patients " + dir_.File("p.csv"));
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("no changes: main.clinical.patients stays at version 1"), std::string::npos) << again.out;
  CliRun h = Vesta("table history main.clinical.patients");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("UPSERT"), std::string::npos);
  EXPECT_NE(h.out.find("CREATE TABLE"), std::string::npos);
  EXPECT_NE(h.out.find("tester"), std::string::npos);
  EXPECT_EQ(h.out.find("\n2 "), std::string::npos) << "no version 2 expected:\n" << h.out;
}

TEST_F(CliTest, MalformedCsvExitsFourAndCommitsNothing) {
  SetUpTable();
  std::string bad = Write("bad.csv", "patient_id,age,site\nTCGA-06-0009,abc,06\n");
  CliRun r = Vesta("table ingest main.clinical.patients " + bad);
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("vesta: INVALID_ARGUMENT: bad.csv:2: column 'age': expected BIGINT, got 'abc'"),
            std::string::npos)
      << r.err;
  CliRun d = Vesta("table describe main.clinical.patients");
  EXPECT_NE(d.out.find("version 1 of 1"), std::string::npos) << d.out;
  // Quarantine commits the good rows and names the side table.
  std::string mixed = Write("mixed.csv", "patient_id,age,site\nTCGA-06-0010,1,06\nTCGA-06-0011,x,06\n");
  CliRun q = Vesta("table ingest main.clinical.patients " + mixed + " --quarantine");
  EXPECT_EQ(q.code, 0) << q.err;
  EXPECT_NE(q.out.find("rejected 1 records: see main.clinical.patients_quarantine"), std::string::npos) << q.out;
  CliRun qs = Vesta("table show main.clinical.patients_quarantine --format json");
  EXPECT_NE(qs.out.find("\"value\": \"x\""), std::string::npos) << qs.out;
}

TEST_F(CliTest, DeleteThenTimeTravelChangeFeedRestoreAndVacuum) {
  SetUpTable();
  CliRun del = Vesta("table delete main.clinical.patients --where \"site = '06' AND age > 65\"");
  ASSERT_EQ(del.code, 0) << del.err;
  EXPECT_NE(del.out.find("version 2 (DELETE): 0 added, 0 updated, 1 removed"), std::string::npos) << del.out;
  CliRun now = Vesta("table show main.clinical.patients --format csv");
  EXPECT_EQ(now.out.find("TCGA-06-0003"), std::string::npos);
  CliRun old = Vesta("table show main.clinical.patients --version 1 --format csv --columns patient_id,age");
  EXPECT_EQ(old.code, 0) << old.err;
  EXPECT_NE(old.out.find("TCGA-06-0003,70"), std::string::npos) << old.out;
  CliRun feed = Vesta("table changes main.clinical.patients --from 2 --format csv");
  EXPECT_NE(feed.out.find("delete,2,"), std::string::npos) << feed.out;
  EXPECT_NE(feed.out.find("TCGA-06-0003"), std::string::npos);
  CliRun res = Vesta("table restore main.clinical.patients --version 1");
  EXPECT_EQ(res.code, 0) << res.err;
  EXPECT_NE(res.out.find("version 3 (RESTORE): 1 added"), std::string::npos) << res.out;
  CliRun vac = Vesta("table vacuum main.clinical.patients --retain-hours 0");
  EXPECT_EQ(vac.code, 0) << vac.err;
  EXPECT_NE(vac.out.find("versions 0..2 no longer be readable"), std::string::npos) << vac.out;
  CliRun gone = Vesta("table show main.clinical.patients --version 1");
  EXPECT_EQ(gone.code, 6) << gone.out;
  EXPECT_NE(gone.err.find("FAILED_PRECONDITION"), std::string::npos);
}

TEST_F(CliTest, CreateTableWithColumnsAndDescribe) {
  ASSERT_EQ(Vesta("init").code, 0);
  CliRun c = Vesta("table create main.imaging.studies --create-schema --primary-key study_id "
                "--schema \"study_id STRING, scan_date DATE COMMENT 'MRI, pre-op', emb VECTOR(3)\"");
  ASSERT_EQ(c.code, 0) << c.err;
  CliRun d = Vesta("table describe main.imaging.studies");
  EXPECT_NE(d.out.find("VECTOR(3)"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("MRI, pre-op"), std::string::npos);
  EXPECT_NE(d.out.find("primary key"), std::string::npos);
  CliRun dup = Vesta("table create main.imaging.studies --primary-key id --column \"id BIGINT\"");
  EXPECT_EQ(dup.code, 5);
  CliRun bad = Vesta("table create main.imaging.x --primary-key id --column \"id BIGNUM\"");
  EXPECT_EQ(bad.code, 4);
  EXPECT_NE(bad.err.find("unknown type 'BIGNUM'"), std::string::npos) << bad.err;
}

TEST_F(CliTest, ErrorsMapToExitCodes) {
  EXPECT_EQ(Vesta("table list").code, 3);  // no store yet
  ASSERT_EQ(Vesta("init").code, 0);
  CliRun nf = Vesta("table history main.nope.nope");
  EXPECT_EQ(nf.code, 3);
  EXPECT_NE(nf.err.find("vesta: NOT_FOUND: table main.nope.nope does not exist"), std::string::npos) << nf.err;
  EXPECT_EQ(Vesta("table history not-a-name").code, 4);
  EXPECT_EQ(Vesta("table frobnicate").code, 2);
  EXPECT_EQ(Vesta("table show main.a.b --limit notanumber").code, 2);
  CliRun nodata = Vesta("demo load --data /nonexistent");
  EXPECT_EQ(nodata.code, 3);
  EXPECT_NE(nodata.err.find("/nonexistent"), std::string::npos);
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* cmd : {"", "init", "catalog create", "schema create", "table create", "table list",
                          "table describe", "table ingest", "table history", "table show", "table changes",
                          "table delete", "table restore", "table vacuum", "demo load"}) {
    CliRun r = Vesta(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd << ":\n" << r.out;
  }
  EXPECT_NE(Vesta("--help").out.find("Exit codes"), std::string::npos);
}

}  // namespace
}  // namespace vesta::tools
