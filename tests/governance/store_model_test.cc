// Model-based test: random sequences of commits against an in-memory model
// of every version. After the run, time travel to every readable version and
// the change feed of every commit must agree with the model.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "governance/store.h"
#include "tests/testing/temp_dir.h"

namespace vesta::governance {
namespace {

using State = std::map<int64_t, Row>;  // primary key -> row

Schema ModelSchema() {
  Schema s;
  s.columns = {{"id", DataType::Bigint(), false, ""},
               {"val", DataType::Bigint(), true, ""},
               {"tag", DataType::String(), true, ""},
               {"vec", DataType::Vector(2), true, ""}};
  s.primary_key = "id";
  return s;
}

State ReadState(Store& store, const TableName& name, int64_t version) {
  auto r = store.Read(name, {.at = {.version = version}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  State s;
  if (r.ok())
    for (Row& row : r->rows) s[row[0].as_int()] = row;
  return s;
}

void RunModel(uint32_t seed, int steps) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  testing::TempDir dir;
  auto store = Store::Open(dir.File("m.vesta"), {}).value();
  ASSERT_TRUE(store->CreateCatalog("main", "t").ok());
  ASSERT_TRUE(store->CreateSchema("main", "s", "t").ok());
  TableName name = TableName::Parse("main.s.t").value();
  ASSERT_TRUE(store->CreateTable(name, ModelSchema(), {}, "t").ok());
  std::mt19937 rng(seed);
  auto rnd = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  auto make_row = [&](int64_t id) {
    return Row{Value::Int(id), rnd(5) == 0 ? Value::Null() : Value::Int(rnd(100)),
               Value::Str(std::string(1, static_cast<char>('a' + rnd(3)))),
               rnd(4) == 0 ? Value::Null() : Value::Vec({static_cast<float>(rnd(10)), 0.5f})};
  };
  std::map<int64_t, State> versions = {{0, {}}};
  int64_t current = 0, oldest = 0;
  for (int step = 0; step < steps; ++step) {
    const State& cur = versions[current];
    State next = cur;
    auto txn = store->Begin("t");
    int kind = rnd(10);
    bool is_restore = false;
    if (kind < 3) {  // append new keys
      std::vector<Row> rows;
      for (int i = 0, n = rnd(4); i < n; ++i) {
        int64_t id = rnd(40);
        if (next.count(id)) continue;
        rows.push_back(make_row(id));
        next[id] = rows.back();
      }
      ASSERT_TRUE(txn->Append(name, rows).ok());
    } else if (kind < 6) {  // upsert: new, changed and identical rows
      std::vector<Row> rows;
      for (int i = 0, n = rnd(5); i < n; ++i) {
        int64_t id = rnd(40);
        Row r = (cur.count(id) && rnd(3) == 0) ? cur.at(id) : make_row(id);
        rows.push_back(r);
        next[id] = r;  // last one wins
      }
      ASSERT_TRUE(txn->Upsert(name, rows).ok());
    } else if (kind < 7) {  // delete by keys
      std::vector<Value> keys;
      for (int i = 0, n = rnd(3); i < n; ++i) {
        int64_t id = rnd(40);
        keys.push_back(Value::Int(id));
        next.erase(id);
      }
      ASSERT_TRUE(txn->DeleteKeys(name, keys).ok());
    } else if (kind < 8) {  // delete by predicate
      int64_t x = rnd(100);
      std::string tag(1, static_cast<char>('a' + rnd(3)));
      for (auto it = next.begin(); it != next.end();) {
        const Row& r = it->second;
        bool match = !r[1].is_null() && r[1].as_int() < x && r[2].as_string() == tag;
        it = match ? next.erase(it) : std::next(it);
      }
      ASSERT_TRUE(txn->DeleteWhere(name, "val < " + std::to_string(x) + " AND tag = '" + tag + "'").ok());
    } else if (kind < 9) {  // restore
      int64_t r = oldest + rnd(static_cast<int>(current - oldest + 1));
      next = versions[r];
      is_restore = true;
      ASSERT_TRUE(txn->Restore(name, r).ok());
    } else {  // vacuum everything but the current version, now and then
      if (rnd(3) == 0) {
        auto rep = store->Vacuum(name, std::chrono::seconds(0));
        ASSERT_TRUE(rep.ok());
        oldest = rep->oldest_version_after;
        ASSERT_EQ(oldest, current);
      }
      continue;
    }
    auto c = txn->Commit();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    if (next == cur && !is_restore) {
      ASSERT_TRUE(c->empty()) << "a commit that changes nothing must not make a version (step " << step << ")";
      continue;
    }
    if (is_restore && c->empty()) {
      ASSERT_EQ(next, cur);
      continue;
    }
    ASSERT_EQ(c->size(), 1u) << "step " << step;
    ASSERT_EQ((*c)[0].version, current + 1);
    current += 1;
    versions[current] = next;
  }
  // Time travel to every readable version.
  for (int64_t v = oldest; v <= current; ++v) {
    ASSERT_EQ(ReadState(*store, name, v), versions[v]) << "version " << v;
  }
  // The change feed of every commit turns version v-1 into version v.
  const int64_t first_cdf = oldest > 0 ? oldest + 1 : 1;
  if (first_cdf <= current) {
    auto feed = store->Changes(name, first_cdf, current);
    ASSERT_TRUE(feed.ok()) << feed.status().ToString();
    State s = versions[first_cdf - 1];
    int64_t at = first_cdf - 1;
    for (const ChangeRow& ch : feed->changes) {
      while (at < ch.version) {
        ASSERT_EQ(s, versions[at]) << "after applying the feed up to version " << at;
        ++at;
      }
      const int64_t id = ch.row[0].as_int();
      switch (ch.type) {
        case ChangeType::kInsert:
        case ChangeType::kUpdatePostimage: s[id] = ch.row; break;
        case ChangeType::kDelete:
        case ChangeType::kUpdatePreimage:
          ASSERT_EQ(s[id], ch.row) << "pre-image must be the row as it was";
          s.erase(id);
          break;
      }
    }
    ASSERT_EQ(s, versions[current]);
  }
}

TEST(StoreModel, RandomCommitsAgreeWithModelAtEveryVersion) {
  for (uint32_t seed = 1; seed <= 40; ++seed) RunModel(seed, 80);
}

}  // namespace
}  // namespace vesta::governance
