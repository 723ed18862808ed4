// Delta Sync (ingest/index_sync.h): an index built from a table at a version
// and moved forward by the change feed must equal, key for key and in its
// search results, a fresh build from the table at the same version; a
// persisted index is reused only when it is valid for the current table.
#include "ingest/index_sync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "filter/bind.h"
#include "filter/parser.h"
#include "tests/testing/temp_dir.h"

namespace vesta::ingest {
namespace {

using governance::Store;
using governance::TableName;
using governance::Transaction;
using index::IndexKind;
using index::IndexSnapshot;
using index::IndexSpec;
using index::Metric;
using index::SearchPlan;
using index::SearchRequest;
using index::SearchResult;
using index::VectorIndex;
using ::vesta::testing::TempDir;

constexpr int kDim = 8;
constexpr int64_t kRows = 300;
const char* const kSites[] = {"A", "B", "C"};

std::vector<float> VectorFor(int64_t key, int salt) {
  std::mt19937 rng(static_cast<uint32_t>(key * 7919 + salt * 104729 + 1));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(kDim);
  for (float& x : v) x = dist(rng);
  return v;
}

// id BIGINT (key), site STRING, age BIGINT (NULL for every tenth key),
// embedding VECTOR(8), alt VECTOR(8), note STRING (not synced). `salt`
// changes the vectors and the attribute values.
Schema ItemSchema() {
  Schema s;
  s.columns = {{"id", DataType::Bigint(), false, ""},     {"site", DataType::String(), true, ""},
               {"age", DataType::Bigint(), true, ""},     {"embedding", DataType::Vector(kDim), true, ""},
               {"alt", DataType::Vector(kDim), true, ""}, {"note", DataType::String(), true, ""}};
  s.primary_key = "id";
  return s;
}

Row MakeRow(int64_t key, int salt = 0, bool null_vector = false) {
  return {Value::Int(key),
          Value::Str(kSites[(key + salt) % 3]),
          key % 10 == 0 ? Value::Null() : Value::Int(20 + (key * 3 + salt) % 60),
          null_vector ? Value::Null() : Value::Vec(VectorFor(key, salt)),
          Value::Vec(VectorFor(key, salt + 1000)),
          Value::Str("note " + std::to_string(salt))};
}

std::vector<Row> MakeRows(int64_t begin, int64_t end, int salt = 0) {
  std::vector<Row> rows;
  for (int64_t k = begin; k < end; ++k) rows.push_back(MakeRow(k, salt));
  return rows;
}

std::vector<Value> Keys(int64_t begin, int64_t end) {
  std::vector<Value> keys;
  for (int64_t k = begin; k < end; ++k) keys.push_back(Value::Int(k));
  return keys;
}

class IndexSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_.File("store.vesta"), {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->CreateCatalog("main", "admin").ok());
    ASSERT_TRUE(store_->CreateSchema("main", "lab", "admin").ok());
    ASSERT_TRUE(store_->CreateTable(name_, ItemSchema(), {}, "admin").ok());
    Commit([&](Transaction& t) { return t.Append(name_, MakeRows(0, kRows)); });  // version 1
  }

  // Commits one operation on the table and returns the new version.
  template <typename F>
  int64_t Commit(F f) {
    auto txn = store_->Begin("alice");
    Status st = f(*txn);
    EXPECT_TRUE(st.ok()) << st.ToString();
    auto commits = txn->Commit();
    EXPECT_TRUE(commits.ok()) << commits.status().ToString();
    return CurrentVersion();
  }

  int64_t CurrentVersion() {
    auto info = store_->DescribeTable(name_);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->current_version : -1;
  }

  IndexSource Source(std::string vector_column = "embedding") const {
    return {name_, std::move(vector_column), {"site", "age"}};
  }

  IndexSpec Spec(IndexKind kind, const IndexSource& source) {
    auto spec = SpecForSource(*store_, source, kind, Metric::kL2);
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    return spec.ok() ? *spec : IndexSpec{};
  }

  std::unique_ptr<VectorIndex> NewIndex(IndexKind kind, const IndexSource& source) {
    auto index = VectorIndex::Create(Spec(kind, source));
    EXPECT_TRUE(index.ok()) << index.status().ToString();
    return index.ok() ? std::move(index).value() : nullptr;
  }

  // A fresh build from the table at `version`.
  std::unique_ptr<VectorIndex> Fresh(IndexKind kind, int64_t version, SyncReport* report = nullptr) {
    std::unique_ptr<VectorIndex> index = NewIndex(kind, Source());
    auto r = BuildFromTable(*store_, Source(), *index, version);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (report != nullptr && r.ok()) *report = *r;
    return index;
  }

  // OpenOrBuildIndex at path_, logging into log_.
  Result<OpenedIndex> Open(const IndexSpec& spec, const IndexSource& source) {
    return OpenOrBuildIndex(*store_, source, spec, path_, {},
                            [this](std::string_view line) { log_.emplace_back(line); });
  }
  Result<OpenedIndex> Open(IndexKind kind = IndexKind::kHnsw) { return Open(Spec(kind, Source()), Source()); }

  // The body of the Flat/Hnsw sync equivalence tests.
  void SyncMatchesAFreshBuildAfterEveryKindOfChange(IndexKind kind);

  TempDir dir_;
  std::unique_ptr<Store> store_;
  TableName name_ = TableName::Parse("main.lab.items").value();
  std::string path_ = dir_.File("items.vidx");
  std::vector<std::string> log_;
};

std::set<int64_t> LiveKeys(const IndexSnapshot& snap) {
  std::set<int64_t> keys;
  for (uint32_t id = 0; id < snap.size(); ++id) {
    if (!snap.deleted().contains(id)) keys.insert(snap.key(id).as_int());
  }
  return keys;
}

// Same version, same live keys, and for every live id of `a` the same
// vector and attribute values under the same key in `b`.
void ExpectSameContent(const VectorIndex& a, const VectorIndex& b) {
  auto sa = a.snapshot();
  auto sb = b.snapshot();
  EXPECT_EQ(sa->version(), sb->version());
  ASSERT_EQ(sa->live_count(), sb->live_count());
  EXPECT_EQ(LiveKeys(*sa), LiveKeys(*sb));
  const size_t d = sa->spec().dimension;
  for (uint32_t id = 0; id < sa->size(); ++id) {
    if (sa->deleted().contains(id)) continue;
    const Value& key = sa->key(id);
    std::optional<uint32_t> other = sb->Find(key);
    ASSERT_TRUE(other.has_value()) << "key " << key.ToString();
    EXPECT_EQ(0, std::memcmp(sa->vector(id), sb->vector(*other), d * sizeof(float)))
        << "key " << key.ToString();
    EXPECT_EQ(sa->attributes().GetRow(id), sb->attributes().GetRow(*other)) << "key " << key.ToString();
  }
}

SearchResult Search(const VectorIndex& index, const std::vector<float>& q, std::optional<SearchPlan> plan,
                    const filter::BoundExpr* filter = nullptr) {
  SearchRequest req;
  req.k = 10;
  req.force_plan = plan;
  req.filter = filter;
  auto r = index.Search(q.data(), q.size(), req);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : SearchResult{};
}

std::vector<int64_t> KeysOf(const SearchResult& r) {
  std::vector<int64_t> out;
  for (const Value& k : r.keys) out.push_back(k.as_int());
  return out;
}

// Exact top-10 keys (with and without a filter) agree between the synced
// index and the fresh build; for HNSW the planner's own plan and a forced
// graph walk return live keys with recall >= 0.9 against the exact answer.
void ExpectSameSearch(const VectorIndex& synced, const VectorIndex& fresh) {
  auto expr = filter::ParseFilterString("site = 'A' AND age >= 30");
  ASSERT_TRUE(expr.ok());
  auto bound_synced = filter::Bind(*expr, synced.spec().attributes);
  auto bound_fresh = filter::Bind(*expr, fresh.spec().attributes);
  ASSERT_TRUE(bound_synced.ok() && bound_fresh.ok());
  const std::set<int64_t> live = LiveKeys(*fresh.snapshot());
  size_t hits = 0;
  size_t total = 0;
  for (int q = 0; q < 20; ++q) {
    const std::vector<float> query = VectorFor(100000 + q, 7);
    const SearchResult exact = Search(fresh, query, SearchPlan::kExact);
    ASSERT_EQ(exact.keys.size(), 10u);
    EXPECT_EQ(KeysOf(Search(synced, query, SearchPlan::kExact)), KeysOf(exact)) << "query " << q;
    const SearchResult filtered = Search(fresh, query, SearchPlan::kExact, &*bound_fresh);
    EXPECT_FALSE(filtered.keys.empty());
    EXPECT_EQ(KeysOf(Search(synced, query, SearchPlan::kExact, &*bound_synced)), KeysOf(filtered))
        << "query " << q;
    if (synced.spec().kind == IndexKind::kHnsw) {
      for (std::optional<SearchPlan> plan :
           {std::optional<SearchPlan>(), std::optional<SearchPlan>(SearchPlan::kGraph)}) {
        const SearchResult approx = Search(synced, query, plan);
        const std::vector<int64_t> want = KeysOf(exact);
        for (int64_t k : KeysOf(approx)) {
          EXPECT_TRUE(live.count(k)) << "deleted or unknown key " << k << " returned";
          hits += std::count(want.begin(), want.end(), k);
        }
        total += want.size();
      }
    }
  }
  if (total > 0) {
    EXPECT_GE(static_cast<double>(hits) / static_cast<double>(total), 0.9);
  }
}

// ------------------------------------------------------------------ specs

TEST_F(IndexSyncTest, SpecForSourceTakesKeyDimensionAndAttributesFromTheTable) {
  IndexSource source{name_, "EMBEDDING", {"id", "site", "embedding", "age"}};
  auto spec =
      SpecForSource(*store_, source, IndexKind::kHnsw, Metric::kCosine, {.m = 8, .ef_construction = 40});
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->primary_key.name, "id");
  EXPECT_EQ(spec->primary_key.type, DataType::Bigint());
  EXPECT_EQ(spec->dimension, static_cast<uint32_t>(kDim));
  EXPECT_EQ(spec->metric, Metric::kCosine);
  EXPECT_EQ(spec->hnsw.m, 8);
  ASSERT_EQ(spec->attributes.columns.size(), 2u);  // the key and the vector are not attributes
  EXPECT_EQ(spec->attributes.columns[0].name, "site");
  EXPECT_EQ(spec->attributes.columns[1].name, "age");
  EXPECT_EQ(spec->attributes.columns[1].type, DataType::Bigint());
}

TEST_F(IndexSyncTest, SpecForSourceErrorsNameTheField) {
  auto not_vector = SpecForSource(*store_, {name_, "age", {}}, IndexKind::kFlat, Metric::kL2);
  EXPECT_TRUE(not_vector.status().IsInvalidArgument());
  EXPECT_NE(not_vector.status().message().find("vector_column: column 'age'"), std::string::npos)
      << not_vector.status().message();
  EXPECT_NE(not_vector.status().message().find("BIGINT"), std::string::npos);

  auto unknown = SpecForSource(*store_, {name_, "nope", {}}, IndexKind::kFlat, Metric::kL2);
  EXPECT_TRUE(unknown.status().IsInvalidArgument());
  EXPECT_NE(unknown.status().message().find("'nope'"), std::string::npos) << unknown.status().message();

  auto bad_sync =
      SpecForSource(*store_, {name_, "embedding", {"site", "missing"}}, IndexKind::kFlat, Metric::kL2);
  EXPECT_TRUE(bad_sync.status().IsInvalidArgument());
  EXPECT_NE(bad_sync.status().message().find("columns_to_sync"), std::string::npos)
      << bad_sync.status().message();
  EXPECT_NE(bad_sync.status().message().find("missing"), std::string::npos);

  auto vector_attr = SpecForSource(*store_, {name_, "embedding", {"alt"}}, IndexKind::kFlat, Metric::kL2);
  EXPECT_TRUE(vector_attr.status().IsInvalidArgument());
  EXPECT_NE(vector_attr.status().message().find("alt"), std::string::npos) << vector_attr.status().message();

  auto no_table = SpecForSource(*store_, {TableName::Parse("main.lab.nothing").value(), "embedding", {}},
                                IndexKind::kFlat, Metric::kL2);
  EXPECT_TRUE(no_table.status().IsNotFound()) << no_table.status().ToString();
}

// ------------------------------------------------------------------ builds

TEST_F(IndexSyncTest, TimeTravelBuildEqualsTheBuildMadeAtThatVersion) {
  SyncReport at1;
  std::unique_ptr<VectorIndex> built_then = Fresh(IndexKind::kFlat, 1, &at1);
  EXPECT_EQ(at1.to_version, 1);
  EXPECT_EQ(at1.inserted, kRows);
  EXPECT_TRUE(at1.rebuilt);
  Commit([&](Transaction& t) { return t.Upsert(name_, MakeRows(0, 40, 1)); });
  Commit([&](Transaction& t) { return t.DeleteKeys(name_, Keys(200, 260)); });

  // Small pages: the key order paging must neither drop nor repeat rows.
  std::unique_ptr<VectorIndex> travelled = NewIndex(IndexKind::kFlat, Source());
  auto r = BuildFromTable(*store_, Source(), *travelled, 1, {.page_rows = 7});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inserted, kRows);
  ExpectSameContent(*travelled, *built_then);
  ExpectSameSearch(*travelled, *built_then);

  std::unique_ptr<VectorIndex> now = Fresh(IndexKind::kFlat, 3);
  EXPECT_EQ(static_cast<int64_t>(now->snapshot()->live_count()), kRows - 60);
  EXPECT_NE(0, std::memcmp(now->snapshot()->vector(*now->snapshot()->Find(Value::Int(5))),
                           travelled->snapshot()->vector(*travelled->snapshot()->Find(Value::Int(5))),
                           kDim * sizeof(float)));
}

TEST_F(IndexSyncTest, BuildOfAVacuumedVersionFails) {
  Commit([&](Transaction& t) { return t.DeleteKeys(name_, Keys(0, 10)); });
  ASSERT_TRUE(store_->Vacuum(name_, std::chrono::seconds(0)).ok());
  std::unique_ptr<VectorIndex> index = NewIndex(IndexKind::kFlat, Source());
  auto r = BuildFromTable(*store_, Source(), *index, 1);
  EXPECT_TRUE(r.status().IsFailedPrecondition()) << r.status().ToString();
  EXPECT_EQ(index->snapshot()->version(), -1);  // unchanged
}

// ------------------------------------------------------------------ sync

void IndexSyncTest::SyncMatchesAFreshBuildAfterEveryKindOfChange(IndexKind kind) {
  std::unique_ptr<VectorIndex> step = Fresh(kind, 1);     // synced after every commit
  std::unique_ptr<VectorIndex> lagging = Fresh(kind, 1);  // synced once at the end
  auto sync_step = [&](int64_t v) {
    auto r = SyncIndex(*store_, Source(), *step);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return SyncReport{};
    EXPECT_FALSE(r->rebuilt) << r->reason;
    EXPECT_EQ(r->from_version, v - 1);
    EXPECT_EQ(r->to_version, v);
    ExpectSameContent(*step, *Fresh(kind, v));
    ExpectSameSearch(*step, *Fresh(kind, v));
    return *r;
  };

  // Inserts.
  SyncReport r =
      sync_step(Commit([&](Transaction& t) { return t.Append(name_, MakeRows(kRows, kRows + 50)); }));
  EXPECT_EQ(r.inserted, 50);
  EXPECT_EQ(r.updated + r.deleted, 0);
  // Updates: new vectors (and attributes) for 0..49; new attributes only
  // for 50..59 (same vectors).
  std::vector<Row> updates = MakeRows(0, 50, 1);
  for (int64_t k = 50; k < 60; ++k) {
    Row row = MakeRow(k, 0);
    row[1] = Value::Str("Z");
    row[2] = Value::Int(99);
    updates.push_back(row);
  }
  r = sync_step(Commit([&](Transaction& t) { return t.Upsert(name_, updates); }));
  EXPECT_EQ(r.updated, 60);
  EXPECT_EQ(r.inserted + r.deleted, 0);
  auto snap = step->snapshot();
  EXPECT_EQ(snap->attributes().GetRow(*snap->Find(Value::Int(55))), (Row{Value::Str("Z"), Value::Int(99)}));
  // Deletes.
  r = sync_step(Commit([&](Transaction& t) { return t.DeleteKeys(name_, Keys(100, 130)); }));
  EXPECT_EQ(r.deleted, 30);
  EXPECT_EQ(r.inserted + r.updated, 0);
  EXPECT_FALSE(step->snapshot()->Find(Value::Int(110)).has_value());
  // Inserts and updates in one commit (one operation per table per commit).
  std::vector<Row> mix = MakeRows(kRows + 50, kRows + 60, 2);
  for (Row& row : MakeRows(60, 70, 2)) mix.push_back(row);
  r = sync_step(Commit([&](Transaction& t) { return t.Upsert(name_, mix); }));
  EXPECT_EQ(r.inserted, 10);
  EXPECT_EQ(r.updated, 10);
  EXPECT_EQ(r.deleted, 0);
  // Deleted, then re-inserted in a later commit; and inserted, then deleted.
  Commit([&](Transaction& t) { return t.DeleteKeys(name_, Keys(0, 10)); });
  Commit([&](Transaction& t) { return t.Append(name_, MakeRows(0, 10, 5)); });
  Commit([&](Transaction& t) { return t.Append(name_, MakeRows(1000, 1010, 5)); });
  const int64_t last = Commit([&](Transaction& t) { return t.DeleteKeys(name_, Keys(1000, 1005)); });
  auto multi = SyncIndex(*store_, Source(), *step);
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  EXPECT_EQ(multi->from_version, 5);
  EXPECT_EQ(multi->to_version, last);
  EXPECT_EQ(multi->updated, 10);  // 0..9: net upserts of keys the index had
  EXPECT_EQ(multi->inserted, 5);  // 1005..1009; 1000..1004 net to nothing
  EXPECT_EQ(multi->deleted, 0);
  ExpectSameContent(*step, *Fresh(kind, last));
  ExpectSameSearch(*step, *Fresh(kind, last));

  // One sync across every commit since version 1.
  auto once = SyncIndex(*store_, Source(), *lagging);
  ASSERT_TRUE(once.ok()) << once.status().ToString();
  EXPECT_FALSE(once->rebuilt);
  EXPECT_EQ(once->from_version, 1);
  EXPECT_EQ(once->inserted, 50 + 10 + 5);
  EXPECT_EQ(once->updated, 70);  // 0..69 (0..9 twice, counted once)
  EXPECT_EQ(once->deleted, 30);
  ExpectSameContent(*lagging, *Fresh(kind, last));
  ExpectSameSearch(*lagging, *Fresh(kind, last));
  ExpectSameContent(*lagging, *step);

  // Up to date: nothing to do.
  auto again = SyncIndex(*store_, Source(), *lagging);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->from_version, again->to_version);
  EXPECT_EQ(again->inserted + again->updated + again->deleted, 0);
}

TEST_F(IndexSyncTest, FlatSyncMatchesAFreshBuildAfterEveryKindOfChange) {
  SyncMatchesAFreshBuildAfterEveryKindOfChange(IndexKind::kFlat);
}

TEST_F(IndexSyncTest, HnswSyncMatchesAFreshBuildAfterEveryKindOfChange) {
  SyncMatchesAFreshBuildAfterEveryKindOfChange(IndexKind::kHnsw);
}

TEST_F(IndexSyncTest, SyncToAnExplicitTargetStopsThere) {
  std::unique_ptr<VectorIndex> index = Fresh(IndexKind::kFlat, 1);
  const int64_t v2 = Commit([&](Transaction& t) { return t.Append(name_, MakeRows(kRows, kRows + 5)); });
  Commit([&](Transaction& t) { return t.DeleteKeys(name_, Keys(0, 5)); });
  auto r = SyncIndex(*store_, Source(), *index, v2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->to_version, v2);
  EXPECT_EQ(r->inserted, 5);
  ExpectSameContent(*index, *Fresh(IndexKind::kFlat, v2));

  auto beyond = SyncIndex(*store_, Source(), *index, 99);
  EXPECT_TRUE(beyond.status().IsNotFound()) << beyond.status().ToString();
  EXPECT_EQ(index->snapshot()->version(), v2);

  // An older target than the index's version: rebuilt at the target.
  auto back = SyncIndex(*store_, Source(), *index, 1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->rebuilt);
  EXPECT_NE(back->reason.find("after the target version 1"), std::string::npos) << back->reason;
  ExpectSameContent(*index, *Fresh(IndexKind::kFlat, 1));
}

TEST_F(IndexSyncTest, VersionsBehindCountsCommitsSinceTheIndexVersion) {
  std::unique_ptr<VectorIndex> index = NewIndex(IndexKind::kFlat, Source());
  EXPECT_EQ(*VersionsBehind(*store_, Source(), *index), 2);  // never built: versions 0 and 1
  ASSERT_TRUE(BuildFromTable(*store_, Source(), *index).ok());
  EXPECT_EQ(*VersionsBehind(*store_, Source(), *index), 0);
  for (int i = 0; i < 3; ++i) {
    Commit([&](Transaction& t) { return t.Upsert(name_, MakeRows(i * 10, i * 10 + 5, i + 1)); });
  }
  EXPECT_EQ(*VersionsBehind(*store_, Source(), *index), 3);
  ASSERT_TRUE(SyncIndex(*store_, Source(), *index, 2).ok());
  EXPECT_EQ(*VersionsBehind(*store_, Source(), *index), 2);
  ASSERT_TRUE(SyncIndex(*store_, Source(), *index).ok());
  EXPECT_EQ(*VersionsBehind(*store_, Source(), *index), 0);
  auto missing =
      VersionsBehind(*store_, {TableName::Parse("main.lab.gone").value(), "embedding", {}}, *index);
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST_F(IndexSyncTest, NullVectorsAreSkippedAndCounted) {
  std::vector<Row> nulls;
  for (int64_t k = 500; k < 505; ++k) nulls.push_back(MakeRow(k, 0, /*null_vector=*/true));
  std::unique_ptr<VectorIndex> index = Fresh(IndexKind::kFlat, 1);
  Commit([&](Transaction& t) { return t.Append(name_, nulls); });
  auto r = SyncIndex(*store_, Source(), *index);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->skipped_null_vectors, 5);
  EXPECT_EQ(r->inserted, 0);
  EXPECT_FALSE(index->snapshot()->Find(Value::Int(500)).has_value());

  SyncReport fresh_report;
  std::unique_ptr<VectorIndex> fresh = Fresh(IndexKind::kFlat, CurrentVersion(), &fresh_report);
  EXPECT_EQ(fresh_report.skipped_null_vectors, 5);
  EXPECT_EQ(fresh_report.inserted, kRows);
  ExpectSameContent(*index, *fresh);

  // A vector that becomes NULL leaves the index; one that comes back returns.
  Commit([&](Transaction& t) { return t.Upsert(name_, {MakeRow(7, 0, true)}); });
  r = SyncIndex(*store_, Source(), *index);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted, 1);
  EXPECT_EQ(r->skipped_null_vectors, 1);
  EXPECT_FALSE(index->snapshot()->Find(Value::Int(7)).has_value());
  Commit([&](Transaction& t) { return t.Upsert(name_, {MakeRow(7, 3), MakeRow(500, 3)}); });
  r = SyncIndex(*store_, Source(), *index);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inserted, 2);
  ExpectSameContent(*index, *Fresh(IndexKind::kFlat, CurrentVersion()));
}

TEST_F(IndexSyncTest, VacuumedChangeFeedRebuildsWithTheReason) {
  std::unique_ptr<VectorIndex> index = Fresh(IndexKind::kHnsw, 1);
  Commit([&](Transaction& t) { return t.Upsert(name_, MakeRows(0, 20, 1)); });
  const int64_t v3 = Commit([&](Transaction& t) { return t.DeleteKeys(name_, Keys(20, 40)); });
  auto vac = store_->Vacuum(name_, std::chrono::seconds(0));
  ASSERT_TRUE(vac.ok()) << vac.status().ToString();
  ASSERT_EQ(vac->oldest_version_after, v3);
  auto r = SyncIndex(*store_, Source(), *index);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->rebuilt);
  EXPECT_EQ(r->from_version, 1);
  EXPECT_EQ(r->to_version, v3);
  EXPECT_NE(r->reason.find("vacuumed"), std::string::npos) << r->reason;
  ExpectSameContent(*index, *Fresh(IndexKind::kHnsw, v3));
}

TEST_F(IndexSyncTest, RecreatedTableRebuilds) {
  std::unique_ptr<VectorIndex> index = NewIndex(IndexKind::kFlat, Source());
  Commit([&](Transaction& t) { return t.Append(name_, MakeRows(kRows, kRows + 10)); });
  auto built = BuildFromTable(*store_, Source(), *index);  // version 2
  ASSERT_TRUE(built.ok());
  const TableIdentity old_table = built->table;

  // Re-created and behind the index: caught by the versions alone.
  ASSERT_TRUE(store_->DropTable(name_).ok());
  ASSERT_TRUE(store_->CreateTable(name_, ItemSchema(), {}, "admin").ok());
  Commit([&](Transaction& t) { return t.Append(name_, MakeRows(0, 30, 4)); });  // version 1
  EXPECT_EQ(*VersionsBehind(*store_, Source(), *index), -1);
  auto r = SyncIndex(*store_, Source(), *index);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->rebuilt);
  EXPECT_NE(r->reason.find("dropped and re-created"), std::string::npos) << r->reason;
  EXPECT_EQ(index->snapshot()->live_count(), 30u);

  // Re-created and past the index's version: caught by the identity.
  ASSERT_TRUE(BuildFromTable(*store_, Source(), *index).ok());  // new table, version 1
  const TableIdentity second = r->table;
  EXPECT_FALSE(second == old_table);
  ASSERT_TRUE(store_->DropTable(name_).ok());
  ASSERT_TRUE(store_->CreateTable(name_, ItemSchema(), {}, "admin").ok());
  Commit([&](Transaction& t) { return t.Append(name_, MakeRows(0, 5, 6)); });
  Commit([&](Transaction& t) { return t.Append(name_, MakeRows(5, 8, 6)); });
  r = SyncIndex(*store_, Source(), *index, std::nullopt, {.expected_table = second});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->rebuilt);
  EXPECT_NE(r->reason.find("dropped and re-created"), std::string::npos) << r->reason;
  ExpectSameContent(*index, *Fresh(IndexKind::kFlat, 2));
  EXPECT_EQ(index->snapshot()->live_count(), 8u);
}

TEST_F(IndexSyncTest, SyncFailsWhenTheTableNoLongerFitsTheSpec) {
  // A spec whose attribute the table does not have (e.g. a stale spec).
  IndexSpec spec = Spec(IndexKind::kFlat, Source());
  spec.attributes.columns.push_back({"weight", DataType::Double(), true, ""});
  auto index = VectorIndex::Create(spec);
  ASSERT_TRUE(index.ok());
  auto r = BuildFromTable(*store_, Source(), **index);
  EXPECT_TRUE(r.status().IsFailedPrecondition()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("weight"), std::string::npos) << r.status().message();
}

// ------------------------------------------------------------------ files

TEST_F(IndexSyncTest, PersistedIndexReloadsWithoutRebuildAndSyncsWhenBehind) {
  auto first = Open();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->loaded);
  EXPECT_TRUE(first->report.rebuilt);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("index main.lab.items.embedding: rebuilding: "), std::string::npos) << log_[0];
  EXPECT_NE(log_[0].find("does not exist"), std::string::npos) << log_[0];
  EXPECT_TRUE(std::filesystem::exists(path_));

  log_.clear();
  auto second = Open();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->loaded);
  EXPECT_FALSE(second->report.rebuilt);
  EXPECT_EQ(second->report.from_version, 1);
  EXPECT_EQ(second->report.to_version, 1);
  EXPECT_TRUE(log_.empty());
  ExpectSameContent(*second->index, *first->index);

  const int64_t v = Commit([&](Transaction& t) { return t.Upsert(name_, MakeRows(250, 320, 2)); });
  auto third = Open();
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE(third->loaded);
  EXPECT_FALSE(third->report.rebuilt);
  EXPECT_EQ(third->report.from_version, 1);
  EXPECT_EQ(third->report.to_version, v);
  EXPECT_EQ(third->report.inserted, 20);
  EXPECT_EQ(third->report.updated, 50);
  EXPECT_TRUE(log_.empty());
  ExpectSameContent(*third->index, *Fresh(IndexKind::kHnsw, v));

  auto fourth = Open();  // the synced index was saved
  ASSERT_TRUE(fourth.ok());
  EXPECT_TRUE(fourth->loaded);
  EXPECT_EQ(fourth->report.from_version, v);
  ExpectSameSearch(*fourth->index, *Fresh(IndexKind::kHnsw, v));
}

TEST_F(IndexSyncTest, CorruptOrTruncatedFileIsRebuiltWithTheCauseLogged) {
  ASSERT_TRUE(Open().ok());
  const auto size = std::filesystem::file_size(path_);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(size / 2));
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  log_.clear();
  auto flipped = Open();
  ASSERT_TRUE(flipped.ok()) << flipped.status().ToString();
  EXPECT_FALSE(flipped->loaded);
  EXPECT_TRUE(flipped->report.rebuilt);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("checksum mismatch"), std::string::npos) << log_[0];
  EXPECT_NE(flipped->report.reason.find("checksum mismatch"), std::string::npos);
  ExpectSameContent(*flipped->index, *Fresh(IndexKind::kHnsw, 1));

  // The rebuilt file was saved and is valid again; then truncate it.
  log_.clear();
  auto reloaded = Open();
  ASSERT_TRUE(reloaded.ok());
  EXPECT_TRUE(reloaded->loaded);
  std::filesystem::resize_file(path_, std::filesystem::file_size(path_) - 100);
  auto truncated = Open();
  ASSERT_TRUE(truncated.ok()) << truncated.status().ToString();
  EXPECT_FALSE(truncated->loaded);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("truncated"), std::string::npos) << log_[0];
  ExpectSameContent(*truncated->index, *Fresh(IndexKind::kHnsw, 1));
}

TEST_F(IndexSyncTest, SpecOrSourceMismatchIsRebuilt) {
  ASSERT_TRUE(Open(IndexKind::kHnsw).ok());
  log_.clear();
  // Another kind: the file's spec fingerprint differs.
  auto flat = Open(IndexKind::kFlat);
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  EXPECT_FALSE(flat->loaded);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("was built for spec"), std::string::npos) << log_[0];
  EXPECT_EQ(flat->index->spec().kind, IndexKind::kFlat);

  // Same spec (same dimension and attributes), another vector column: only
  // the source identity in the file's fingerprint tells them apart.
  log_.clear();
  IndexSource alt = Source("alt");
  auto other = Open(Spec(IndexKind::kFlat, alt), alt);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_FALSE(other->loaded);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("was built for spec"), std::string::npos) << log_[0];
  auto snap = other->index->snapshot();
  const std::vector<float> want = VectorFor(3, 1000);
  EXPECT_EQ(0, std::memcmp(snap->vector(*snap->Find(Value::Int(3))), want.data(), kDim * sizeof(float)));

  // And back: the file now holds the "alt" index, so the original is rebuilt.
  log_.clear();
  auto back = Open(IndexKind::kFlat);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->loaded);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("items.alt"), std::string::npos) << log_[0];
}

TEST_F(IndexSyncTest, VacuumedOrRecreatedTableRebuildsTheFile) {
  ASSERT_TRUE(Open(IndexKind::kFlat).ok());
  Commit([&](Transaction& t) { return t.DeleteKeys(name_, Keys(0, 50)); });
  const int64_t v = Commit([&](Transaction& t) { return t.Append(name_, MakeRows(kRows, kRows + 10)); });
  ASSERT_TRUE(store_->Vacuum(name_, std::chrono::seconds(0)).ok());
  log_.clear();
  auto vacuumed = Open(IndexKind::kFlat);
  ASSERT_TRUE(vacuumed.ok()) << vacuumed.status().ToString();
  EXPECT_FALSE(vacuumed->loaded);
  EXPECT_TRUE(vacuumed->report.rebuilt);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("vacuumed"), std::string::npos) << log_[0];
  ExpectSameContent(*vacuumed->index, *Fresh(IndexKind::kFlat, v));

  // Dropped and re-created, with more versions than the file's index.
  ASSERT_TRUE(store_->DropTable(name_).ok());
  ASSERT_TRUE(store_->CreateTable(name_, ItemSchema(), {}, "admin").ok());
  for (int i = 0; i < 4; ++i)
    Commit([&](Transaction& t) { return t.Append(name_, MakeRows(i * 10, i * 10 + 10)); });
  log_.clear();
  auto recreated = Open(IndexKind::kFlat);
  ASSERT_TRUE(recreated.ok()) << recreated.status().ToString();
  EXPECT_FALSE(recreated->loaded);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("was built for spec"), std::string::npos) << log_[0];
  EXPECT_EQ(recreated->index->snapshot()->live_count(), 40u);
}

TEST_F(IndexSyncTest, DefaultLogWritesTheRebuildLineToStderr) {
  ::testing::internal::CaptureStderr();
  auto opened = OpenOrBuildIndex(*store_, Source(), Spec(IndexKind::kFlat, Source()), path_);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_NE(err.find("vesta: index main.lab.items.embedding: rebuilding: "), std::string::npos) << err;
  EXPECT_NE(err.find("does not exist"), std::string::npos) << err;
}

}  // namespace
}  // namespace vesta::ingest
