// Crash atomicity: a child process commits multi-table transactions in a
// loop and is killed with SIGKILL at random moments. After each kill the
// store is reopened and every table must be at a committed version holding
// exactly that version's rows, and the two tables (always written together)
// at the same version.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "governance/store.h"
#include "tests/testing/temp_dir.h"

namespace vesta::governance {
namespace {

constexpr int kDim = 256;
constexpr int kHot = 40;   // keys 0..39 are rewritten by every commit
constexpr int kNew = 60;   // each commit appends keys v*1000 + 0..59

Schema CrashSchema() {
  Schema s;
  s.columns = {{"id", DataType::Bigint(), false, ""},
               {"val", DataType::Bigint(), true, ""},
               {"vec", DataType::Vector(kDim), true, ""}};
  s.primary_key = "id";
  return s;
}

Row MakeRow(int64_t id, int64_t val) {
  std::vector<float> v(kDim);
  for (int j = 0; j < kDim; ++j) v[static_cast<size_t>(j)] = static_cast<float>(val * 31 + id + j);
  return {Value::Int(id), Value::Int(val), Value::Vec(std::move(v))};
}

const TableName kA = TableName::Parse("main.s.a").value();
const TableName kB = TableName::Parse("main.s.b").value();

// Runs in the child: commits forever (until killed).
[[noreturn]] void Writer(const std::string& path) {
  auto store = Store::Open(path, {});
  if (!store.ok()) _exit(3);
  while (true) {
    auto info = (*store)->DescribeTable(kA);
    if (!info.ok()) _exit(4);
    const int64_t v = info->current_version + 1;
    std::vector<Row> rows;
    for (int k = 0; k < kHot; ++k) rows.push_back(MakeRow(k, v));
    for (int j = 0; j < kNew; ++j) rows.push_back(MakeRow(v * 1000 + j, v));
    auto txn = (*store)->Begin("writer");
    if (!txn->Upsert(kA, rows).ok()) _exit(5);
    if (!txn->Append(kB, {MakeRow(v, v)}).ok()) _exit(6);
    if (!txn->Commit().ok()) _exit(8);
  }
}

// The rows table A must hold at version v.
std::map<int64_t, int64_t> ExpectedA(int64_t v) {
  std::map<int64_t, int64_t> m;
  if (v == 0) return m;
  for (int k = 0; k < kHot; ++k) m[k] = v;
  for (int64_t c = 1; c <= v; ++c)
    for (int j = 0; j < kNew; ++j) m[c * 1000 + j] = c;
  return m;
}

TEST(CrashAtomicity, KilledWriterLeavesEveryTableAtACommittedVersion) {
  testing::TempDir dir;
  const std::string path = dir.File("crash.vesta");
  {
    auto store = Store::Open(path, {}).value();
    ASSERT_TRUE(store->CreateCatalog("main", "t").ok());
    ASSERT_TRUE(store->CreateSchema("main", "s", "t").ok());
    ASSERT_TRUE(store->CreateTable(kA, CrashSchema(), {}, "t").ok());
    ASSERT_TRUE(store->CreateTable(kB, CrashSchema(), {}, "t").ok());
  }
  std::mt19937 rng(20261121);
  int64_t last_version = 0;
  int progressed = 0;
  for (int round = 0; round < 12; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) Writer(path);
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 200));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself with " << WEXITSTATUS(status);

    auto store = Store::Open(path, {.create_if_missing = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto a = (*store)->DescribeTable(kA);
    auto b = (*store)->DescribeTable(kB);
    ASSERT_TRUE(a.ok() && b.ok());
    const int64_t v = a->current_version;
    EXPECT_EQ(b->current_version, v) << "a multi-table commit was torn";
    EXPECT_GE(v, last_version) << "a committed version was lost";
    if (v > last_version) ++progressed;
    last_version = v;
    auto rows = (*store)->Read(kA);
    ASSERT_TRUE(rows.ok());
    std::map<int64_t, int64_t> got;
    for (const Row& r : rows->rows) {
      got[r[0].as_int()] = r[1].as_int();
      ASSERT_EQ(r, MakeRow(r[0].as_int(), r[1].as_int())) << "a row image was torn";
    }
    ASSERT_EQ(got, ExpectedA(v)) << "table A does not hold exactly version " << v << "'s rows";
    auto brows = (*store)->Read(kB);
    EXPECT_EQ(static_cast<int64_t>(brows->rows.size()), v);
    auto hist = (*store)->History(kA);
    EXPECT_EQ(static_cast<int64_t>(hist->size()), v + 1);
  }
  EXPECT_GT(progressed, 3) << "the writer should have committed between most kills";
}

}  // namespace
}  // namespace vesta::governance
