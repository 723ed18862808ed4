#include "governance/store.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/testing/temp_dir.h"

namespace vesta::governance {
namespace {

using ::vesta::testing::TempDir;

Schema PatientSchema() {
  Schema s;
  s.columns = {{"patient_id", DataType::String(), false, "TCGA barcode"},
               {"age", DataType::Bigint(), true, ""},
               {"subtype", DataType::String(), true, ""},
               {"embedding", DataType::Vector(3), true, ""}};
  s.primary_key = "patient_id";
  return s;
}

Row P(const std::string& id, int64_t age, const std::string& subtype, std::vector<float> e = {1, 2, 3}) {
  return {Value::Str(id), Value::Int(age), Value::Str(subtype), Value::Vec(std::move(e))};
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_.File("store.vesta"), {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->CreateCatalog("main", "admin").ok());
    ASSERT_TRUE(store_->CreateSchema("main", "clinical", "admin").ok());
    auto t = store_->CreateTable(name_, PatientSchema(), {.comment = "patients"}, "admin");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
  }

  // Commits one operation and returns its CommitInfo (or the error).
  template <typename F>
  Result<std::vector<CommitInfo>> Do(F f, const std::string& who = "alice") {
    auto txn = store_->Begin(who);
    Status st = f(*txn);
    if (!st.ok()) return st;
    return txn->Commit();
  }

  std::vector<std::string> Ids(const VersionSpec& at = {}) {
    auto r = store_->Read(name_, {.at = at, .columns = {"patient_id"}, .order_by_primary_key = true});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok())
      for (const Row& row : r->rows) out.push_back(row[0].as_string());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  TableName name_ = TableName::Parse("main.clinical.patients").value();
};

TEST(TableNameTest, ParsesThreePartsAndRejectsOthers) {
  auto n = TableName::Parse("main.imaging.radiomics");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->catalog, "main");
  EXPECT_EQ(n->table, "radiomics");
  auto two = TableName::Parse("imaging.radiomics");
  EXPECT_TRUE(two.status().IsInvalidArgument());
  EXPECT_NE(two.status().message().find("three parts"), std::string::npos);
  auto bad = TableName::Parse("main.imaging.radio-mics");
  EXPECT_NE(bad.status().message().find("table name 'radio-mics'"), std::string::npos);
}

TEST_F(StoreTest, CreateTableIsVersionZeroWithHistory) {
  auto info = store_->DescribeTable(name_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->current_version, 0);
  EXPECT_EQ(info->row_count, 0);
  EXPECT_EQ(info->schema.primary_key, "patient_id");
  EXPECT_EQ(info->schema.columns[3].type, DataType::Vector(3));
  EXPECT_EQ(info->schema.columns[0].comment, "TCGA barcode");
  auto h = store_->History(name_);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].operation, "CREATE TABLE");
  EXPECT_EQ((*h)[0].principal, "admin");
}

TEST_F(StoreTest, CreateTableErrors) {
  EXPECT_TRUE(store_->CreateTable(name_, PatientSchema(), {}, "a").status().IsAlreadyExists());
  EXPECT_TRUE(store_->CreateTable(name_, PatientSchema(), {.if_not_exists = true}, "a").ok());
  auto missing = store_->CreateTable(TableName::Parse("main.nope.t").value(), PatientSchema(), {}, "a");
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("schema main.nope does not exist"), std::string::npos);
  Schema no_pk = PatientSchema();
  no_pk.primary_key = "nope";
  auto bad = store_->CreateTable(TableName::Parse("main.clinical.t2").value(), no_pk, {}, "a");
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("primary key 'nope' is not a column"), std::string::npos);
  Schema vec_pk = PatientSchema();
  vec_pk.primary_key = "embedding";
  EXPECT_NE(store_->CreateTable(TableName::Parse("main.clinical.t3").value(), vec_pk, {}, "a")
                .status()
                .message()
                .find("must be BIGINT or STRING"),
            std::string::npos);
}

TEST_F(StoreTest, AppendMakesNextVersionAndRecordsMetrics) {
  auto c = Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("b", 60, "y")}, "file.csv"); });
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].version, 1);
  EXPECT_EQ((*c)[0].rows_added, 2);
  EXPECT_EQ((*c)[0].operation, "APPEND");
  EXPECT_NE((*c)[0].parameters_json.find("file.csv"), std::string::npos);
  auto r = store_->Read(name_);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->rows[0][3].as_vector(), (std::vector<float>{1, 2, 3}));
}

TEST_F(StoreTest, AppendOfExistingKeyFailsAndCommitsNothing) {
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x")}); }).ok());
  auto c = Do([&](Transaction& t) { return t.Append(name_, {P("b", 1, "x"), P("a", 2, "y")}); });
  EXPECT_TRUE(c.status().IsAlreadyExists()) << c.status().ToString();
  EXPECT_NE(c.status().message().find("primary key 'a' already exists"), std::string::npos);
  EXPECT_EQ(Ids(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(store_->DescribeTable(name_)->current_version, 1);
}

TEST_F(StoreTest, AppendRejectsRowNotMatchingSchema) {
  auto c = Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("b", 1, "y", {1, 2})}); });
  EXPECT_TRUE(c.status().IsInvalidArgument());
  EXPECT_NE(c.status().message().find("row 1"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("expected VECTOR(3), got 2 values"), std::string::npos);
  EXPECT_TRUE(Ids().empty());
  auto dup = Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("a", 1, "y")}); });
  EXPECT_NE(dup.status().message().find("duplicate primary key 'a' in rows 0 and 1"), std::string::npos);
}

TEST_F(StoreTest, UpsertInsertsUpdatesAndSkipsIdenticalRows) {
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("b", 60, "y")}); }).ok());
  auto c = Do([&](Transaction& t) { return t.Upsert(name_, {P("a", 50, "x"), P("b", 61, "y"), P("c", 70, "z")}); });
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].rows_added, 1);
  EXPECT_EQ((*c)[0].rows_updated, 1);
  EXPECT_EQ((*c)[0].rows_removed, 0);
  // The same upsert again changes nothing and makes no commit.
  auto again = Do([&](Transaction& t) { return t.Upsert(name_, {P("a", 50, "x"), P("b", 61, "y"), P("c", 70, "z")}); });
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(store_->DescribeTable(name_)->current_version, 2);
}

TEST_F(StoreTest, TimeTravelReadsOldVersionsAfterDeletes) {
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("b", 60, "y"), P("c", 1, "z")}); }).ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.DeleteWhere(name_, "age >= 50 AND subtype = 'y'"); }).ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.DeleteKeys(name_, {Value::Str("c"), Value::Str("zz")}); }).ok());
  EXPECT_EQ(Ids(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Ids({.version = 1}), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Ids({.version = 2}), (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(Ids({.version = 0}).empty());
  auto h = store_->History(name_);
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].operation, "DELETE");
  EXPECT_EQ((*h)[0].rows_removed, 1);  // "zz" did not exist
  EXPECT_NE((*h)[1].parameters_json.find("age >= 50"), std::string::npos);
  // As of a timestamp: the latest version committed at or before it.
  EXPECT_EQ(Ids({.timestamp = (*h)[2].timestamp}), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Ids({.timestamp = Timestamp{(*h)[0].timestamp.micros + 1000000}}), (std::vector<std::string>{"a"}));
  auto before = store_->Read(name_, {.at = {.timestamp = Timestamp{0}}});
  EXPECT_TRUE(before.status().IsNotFound());
  auto future = store_->Read(name_, {.at = {.version = 9}});
  EXPECT_TRUE(future.status().IsNotFound());
  EXPECT_NE(future.status().message().find("current version is 3"), std::string::npos);
}

TEST_F(StoreTest, ReadWithPredicateColumnsLimitAndPaging) {
  std::vector<Row> rows;
  for (int i = 0; i < 20; ++i) rows.push_back(P("p" + std::to_string(100 + i), i, i % 2 ? "odd" : "even"));
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, rows); }).ok());
  auto r = store_->Read(name_, {.columns = {"AGE", "patient_id"}, .predicate = "subtype = 'odd' AND age < 10",
                                .order_by_primary_key = true});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 5u);
  EXPECT_EQ(r->columns[0].name, "age");
  EXPECT_EQ(r->rows[0][1].as_string(), "p101");
  auto page = store_->Read(name_, {.columns = {"patient_id"}, .limit = 3, .after_primary_key = Value::Str("p105")});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->rows.size(), 3u);
  EXPECT_EQ(page->rows[0][0].as_string(), "p106");
  auto bad_col = store_->Read(name_, {.columns = {"agee"}});
  EXPECT_TRUE(bad_col.status().IsNotFound());
  EXPECT_NE(bad_col.status().message().find("column 'agee' is not in main.clinical.patients"), std::string::npos);
  auto bad_pred = store_->Read(name_, {.predicate = "agee > 3"});
  EXPECT_TRUE(bad_pred.status().IsInvalidArgument());
  // User text in a predicate is bound, never spliced into SQL.
  auto inj = store_->Read(name_, {.predicate = "subtype = 'x''; DROP TABLE tables; --'"});
  ASSERT_TRUE(inj.ok()) << inj.status().ToString();
  EXPECT_TRUE(inj->rows.empty());
  EXPECT_EQ(store_->Read(name_)->rows.size(), 20u);
}

TEST_F(StoreTest, ChangeFeedShowsInsertsDeletesAndUpdateImages) {
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("b", 60, "y")}); }).ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Upsert(name_, {P("a", 51, "x"), P("c", 1, "z")}); }).ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.DeleteKeys(name_, {Value::Str("b")}); }).ok());
  auto feed = store_->Changes(name_, 1, 3);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  std::vector<std::string> got;
  for (const auto& c : feed->changes) {
    got.push_back(std::to_string(c.version) + ":" + std::string(ChangeTypeName(c.type)) + ":" + c.row[0].as_string() +
                  ":" + c.row[1].ToString());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"1:insert:a:50", "1:insert:b:60", "2:update_preimage:a:50",
                                           "2:update_postimage:a:51", "2:insert:c:1", "3:delete:b:60"}));
  auto h = store_->History(name_);
  EXPECT_EQ(feed->changes.back().timestamp, (*h)[0].timestamp);
  auto only2 = store_->Changes(name_, 2, 2);
  EXPECT_EQ(only2->changes.size(), 3u);
  EXPECT_TRUE(store_->Changes(name_, 3, 2).status().IsInvalidArgument());
  EXPECT_TRUE(store_->Changes(name_, 1, 7).status().IsNotFound());
}

TEST_F(StoreTest, AddColumnIsInvisibleAtOlderVersions) {
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x")}); }).ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.AddColumn(name_, {"site", DataType::String(), true, "TSS"}); }).ok());
  Row r = P("b", 60, "y");
  r.push_back(Value::Str("06"));
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {r}); }).ok());
  auto now = store_->Read(name_, {.order_by_primary_key = true});
  ASSERT_EQ(now->columns.size(), 5u);
  EXPECT_TRUE(now->rows[0][4].is_null());
  EXPECT_EQ(now->rows[1][4].as_string(), "06");
  auto old = store_->Read(name_, {.at = {.version = 1}});
  EXPECT_EQ(old->columns.size(), 4u);
  EXPECT_EQ(store_->DescribeTable(name_, {.version = 1})->schema.columns.size(), 4u);
  auto dup = Do([&](Transaction& t) { return t.AddColumn(name_, {"SITE", DataType::Bigint(), true, ""}); });
  EXPECT_NE(dup.status().message().find("duplicate column name 'SITE'"), std::string::npos);
  auto nn = Do([&](Transaction& t) { return t.AddColumn(name_, {"x", DataType::Bigint(), false, ""}); });
  EXPECT_NE(nn.status().message().find("must be nullable"), std::string::npos);
}

TEST_F(StoreTest, RestoreIsANewCommitWithTheOldRowsAndSchema) {
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("b", 60, "y")}); }).ok());  // v1
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Upsert(name_, {P("a", 99, "x")}); }).ok());                   // v2
  ASSERT_TRUE(Do([&](Transaction& t) { return t.DeleteKeys(name_, {Value::Str("b")}); }).ok());               // v3
  ASSERT_TRUE(Do([&](Transaction& t) { return t.AddColumn(name_, {"site", DataType::String(), true, ""}); }).ok());
  Row c = P("c", 1, "z");
  c.push_back(Value::Str("02"));
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {c}); }).ok());  // v5
  auto rc = Do([&](Transaction& t) { return t.Restore(name_, 1); });
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  ASSERT_EQ(rc->size(), 1u);
  EXPECT_EQ((*rc)[0].version, 6);
  EXPECT_EQ((*rc)[0].operation, "RESTORE");
  EXPECT_EQ((*rc)[0].rows_updated, 1);  // a: 99 -> 50
  EXPECT_EQ((*rc)[0].rows_added, 1);    // b back
  EXPECT_EQ((*rc)[0].rows_removed, 1);  // c gone
  auto now = store_->Read(name_, {.order_by_primary_key = true});
  auto v1 = store_->Read(name_, {.at = {.version = 1}, .order_by_primary_key = true});
  EXPECT_EQ(now->columns.size(), 4u);
  EXPECT_EQ(now->rows, v1->rows);
  // The versions in between are still readable.
  EXPECT_EQ(Ids({.version = 5}), (std::vector<std::string>{"a", "c"}));
  // Restoring to the schema with 'site' brings the column and values back.
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Restore(name_, 5); }).ok());
  auto back = store_->Read(name_, {.predicate = "patient_id = 'c'"});
  ASSERT_EQ(back->rows.size(), 1u);
  EXPECT_EQ(back->rows[0][4].as_string(), "02");
  EXPECT_TRUE(Do([&](Transaction& t) { return t.Restore(name_, 42); }).status().IsNotFound());
}

TEST_F(StoreTest, StaleCommitThatConflictsIsAbortedAndChangesNothing) {
  ASSERT_TRUE(store_->CreateTable(TableName::Parse("main.clinical.other").value(), PatientSchema(), {}, "a").ok());
  auto other = TableName::Parse("main.clinical.other").value();
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("b", 60, "y")}); }).ok());
  // Writer 1 reads version 1 and prepares a two-table commit.
  auto w1 = store_->Begin("w1");
  ASSERT_TRUE(w1->Upsert(name_, {P("a", 1, "w1")}).ok());
  ASSERT_TRUE(w1->Append(other, {P("z", 1, "w1")}).ok());
  // Writer 2 commits a change to the same key first.
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Upsert(name_, {P("a", 2, "w2")}); }, "w2").ok());
  auto c = w1->Commit();
  ASSERT_TRUE(c.status().IsAborted()) << c.status().ToString();
  EXPECT_NE(c.status().message().find("read version 1"), std::string::npos);
  EXPECT_NE(c.status().message().find("primary key 'a'"), std::string::npos);
  EXPECT_NE(c.status().message().find("retry"), std::string::npos);
  EXPECT_EQ(store_->Read(name_, {.predicate = "patient_id = 'a'"})->rows[0][2].as_string(), "w2");
  EXPECT_TRUE(store_->Read(other)->rows.empty());
  EXPECT_EQ(store_->DescribeTable(other)->current_version, 0);
  // A stale commit on a different key does not conflict.
  auto w3 = store_->Begin("w3");
  ASSERT_TRUE(w3->SetReadVersion(name_, 1).ok());
  ASSERT_TRUE(w3->Upsert(name_, {P("b", 3, "w3")}).ok());
  auto ok = w3->Commit();
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].read_version, 1);
  // A stale delete-by-predicate conflicts with any concurrent commit.
  auto w4 = store_->Begin("w4");
  ASSERT_TRUE(w4->SetReadVersion(name_, 2).ok());
  ASSERT_TRUE(w4->DeleteWhere(name_, "age > 0").ok());
  EXPECT_TRUE(w4->Commit().status().IsAborted());
}

TEST_F(StoreTest, MultiTableCommitIsAtomic) {
  auto other = TableName::Parse("main.clinical.other").value();
  ASSERT_TRUE(store_->CreateTable(other, PatientSchema(), {}, "a").ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(other, {P("dup", 1, "x")}); }).ok());
  auto txn = store_->Begin("a");
  ASSERT_TRUE(txn->Append(name_, {P("a", 50, "x")}).ok());
  ASSERT_TRUE(txn->Append(other, {P("dup", 2, "y")}).ok());  // fails at commit
  EXPECT_TRUE(txn->Commit().status().IsAlreadyExists());
  EXPECT_TRUE(Ids().empty());
  EXPECT_EQ(store_->DescribeTable(name_)->current_version, 0);
  auto good = store_->Begin("a");
  ASSERT_TRUE(good->Append(name_, {P("a", 50, "x")}).ok());
  ASSERT_TRUE(good->Append(other, {P("new", 2, "y")}).ok());
  auto c = good->Commit();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 2u);
  EXPECT_TRUE(good->Commit().status().IsFailedPrecondition());
  auto twice = store_->Begin("a");
  ASSERT_TRUE(twice->Append(name_, {P("q", 1, "x")}).ok());
  EXPECT_TRUE(twice->DeleteKeys(name_, {Value::Str("a")}).IsFailedPrecondition());
}

TEST_F(StoreTest, VacuumDropsOldVersionsAndSaysSo) {
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x"), P("b", 60, "y")}); }).ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Upsert(name_, {P("a", 51, "x")}); }).ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.DeleteKeys(name_, {Value::Str("b")}); }).ok());
  auto dry = store_->Vacuum(name_, std::chrono::seconds(0), true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->oldest_version_after, 3);
  EXPECT_EQ(dry->rows_purged, 2);  // a@50 and b
  EXPECT_TRUE(Ids({.version = 1}).size() == 2);  // dry run changed nothing
  auto keep_all = store_->Vacuum(name_, std::chrono::hours(24 * 7));
  ASSERT_TRUE(keep_all.ok());
  EXPECT_EQ(keep_all->oldest_version_after, 0);
  EXPECT_EQ(keep_all->rows_purged, 0);
  auto rep = store_->Vacuum(name_, std::chrono::seconds(0));
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->oldest_version_before, 0);
  EXPECT_EQ(rep->oldest_version_after, 3);
  auto old = store_->Read(name_, {.at = {.version = 1}});
  EXPECT_TRUE(old.status().IsFailedPrecondition());
  EXPECT_NE(old.status().message().find("oldest readable version is 3"), std::string::npos);
  EXPECT_EQ(Ids(), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(store_->Changes(name_, 2, 3).status().IsFailedPrecondition());
  EXPECT_TRUE(Do([&](Transaction& t) { return t.Restore(name_, 1); }).status().IsFailedPrecondition());
  // History is kept.
  EXPECT_EQ(store_->History(name_)->size(), 4u);
  // Later versions' feed still works.
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("n", 1, "x")}); }).ok());
  EXPECT_EQ(store_->Changes(name_, 4, 4)->changes.size(), 1u);
}

TEST_F(StoreTest, ReopenedStoreHasEverything) {
  ASSERT_TRUE(Do([&](Transaction& t) { return t.Append(name_, {P("a", 50, "x")}); }).ok());
  ASSERT_TRUE(Do([&](Transaction& t) { return t.DeleteKeys(name_, {Value::Str("a")}); }).ok());
  store_.reset();
  auto s = Store::Open(dir_.File("store.vesta"), {.create_if_missing = false});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store_ = std::move(s).value();
  EXPECT_TRUE(Ids().empty());
  EXPECT_EQ(Ids({.version = 1}), (std::vector<std::string>{"a"}));
  EXPECT_EQ(store_->History(name_)->size(), 3u);
  auto missing = Store::Open(dir_.File("nope.vesta"), {.create_if_missing = false});
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST_F(StoreTest, RefusesAFileThatIsNotAVestaStore) {
  std::string path = dir_.File("garbage.vesta");
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("this is not a database, just some text that is long enough to look like a header.....", f);
  std::fclose(f);
  auto s = Store::Open(path, {});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("corrupt"), std::string::npos) << s.status().ToString();
}

TEST_F(StoreTest, DropTableAndListTables) {
  auto list = store_->ListTables("main");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].ToString(), "main.clinical.patients");
  EXPECT_EQ(store_->ListSchemas("main")->size(), 1u);
  ASSERT_TRUE(store_->DropTable(name_).ok());
  EXPECT_TRUE(store_->DescribeTable(name_).status().IsNotFound());
  EXPECT_TRUE(store_->DropTable(name_).IsNotFound());
}

TEST_F(StoreTest, ConcurrentWritersFromTwoStoresAllCommitOrRetry) {
  // Two Store objects on one file behave like two processes.
  auto second = Store::Open(dir_.File("store.vesta"), {});
  ASSERT_TRUE(second.ok());
  Store* stores[2] = {store_.get(), second->get()};
  std::vector<std::thread> threads;
  std::atomic<int> aborted{0};
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w]() {
      for (int i = 0; i < 50; ++i) {
        while (true) {
          auto txn = stores[w]->Begin("w" + std::to_string(w));
          // Both writers update the shared key "hot" and append their own.
          if (!txn->Upsert(name_, {P("hot", w * 1000 + i, "w"), P("k" + std::to_string(w) + "_" + std::to_string(i), i, "w")})
                   .ok())
            continue;
          auto c = txn->Commit();
          if (c.ok()) break;
          ASSERT_TRUE(c.status().IsAborted() || c.status().code() == StatusCode::kUnavailable) << c.status().ToString();
          ++aborted;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto info = store_->DescribeTable(name_);
  EXPECT_EQ(info->row_count, 101);
  EXPECT_EQ(info->current_version, 100);
}

}  // namespace
}  // namespace vesta::governance
