// Lineage edges between versioned tables, indexes and query results:
// transitive upstream / downstream walks, version matching and cycles.
#include "governance/lineage.h"

#include <gtest/gtest.h>

#include <set>

#include "governance/store.h"
#include "tests/testing/temp_dir.h"

namespace vesta::governance {
namespace {

using ::vesta::testing::TempDir;

const LineageNode kTable3{"table", "main.imaging.radiomics", 3};
const LineageNode kTable4{"table", "main.imaging.radiomics", 4};
const LineageNode kIndex5{"index", "main.imaging.radiomics_idx", 5};
const LineageNode kIndex6{"index", "main.imaging.radiomics_idx", 6};
const LineageNode kQuery1{"query", "q-0001", -1};
const LineageNode kQuery2{"query", "q-0002", -1};

// "from->to" with versions, for compact expectations.
std::string Str(const LineageEdge& e) {
  return e.from.ToString() + " -> " + e.to.ToString();
}

std::vector<std::string> Strs(const Result<std::vector<LineageEdge>>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out;
  if (r.ok())
    for (const auto& e : *r) out.push_back(Str(e));
  return out;
}

class LineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("store.vesta");
    ASSERT_TRUE(Store::Open(path_, {}).ok());
    Reopen();
  }
  void Reopen() {
    lineage_.reset();
    auto l = Lineage::Open(path_);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    lineage_ = std::move(l).value();
  }
  void Edge(const LineageNode& from, const LineageNode& to, const std::string& relation,
            const std::string& details = "") {
    Status st = lineage_->Record(
        {.from = from, .to = to, .relation = relation, .principal = "alice", .details_json = details});
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  // index@5 <- table@3; query 1 <- index@5 and table@3.
  void RecordQueryOne() {
    Edge(kTable3, kIndex5, "synced_from", R"({"rows": 167})");
    Edge(kIndex5, kQuery1, "read_by", R"({"k": 10})");
    Edge(kTable3, kQuery1, "read_by");
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Lineage> lineage_;
};

using V = std::vector<std::string>;

TEST_F(LineageTest, UpstreamIsTransitiveAndBreadthFirst) {
  RecordQueryOne();
  auto up = lineage_->Upstream(kQuery1);
  EXPECT_EQ(Strs(up), (V{"index main.imaging.radiomics_idx@5 -> query q-0001",
                         "table main.imaging.radiomics@3 -> query q-0001",
                         "table main.imaging.radiomics@3 -> index main.imaging.radiomics_idx@5"}));
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)[0].depth, 1);
  EXPECT_EQ((*up)[1].depth, 1);
  EXPECT_EQ((*up)[2].depth, 2);
  EXPECT_EQ((*up)[0].relation, "read_by");
  EXPECT_EQ((*up)[2].relation, "synced_from");
  EXPECT_EQ((*up)[2].principal, "alice");
  EXPECT_EQ((*up)[2].details_json, R"({"rows":167})");
  EXPECT_GT((*up)[2].time.micros, 0);

  // Depth 1: only the direct inputs.
  EXPECT_EQ(Strs(lineage_->Upstream(kQuery1, 1)), (V{"index main.imaging.radiomics_idx@5 -> query q-0001",
                                                     "table main.imaging.radiomics@3 -> query q-0001"}));
  EXPECT_EQ(Strs(lineage_->Upstream(kTable3)), V{});  // nothing upstream of a source table
  EXPECT_EQ(Strs(lineage_->Upstream({"query", "unknown", -1})), V{});
}

TEST_F(LineageTest, DownstreamIsTransitiveAndEachEdgeAppearsOnce) {
  RecordQueryOne();
  auto down = lineage_->Downstream(kTable3);
  EXPECT_EQ(Strs(down), (V{"table main.imaging.radiomics@3 -> index main.imaging.radiomics_idx@5",
                           "table main.imaging.radiomics@3 -> query q-0001",
                           "index main.imaging.radiomics_idx@5 -> query q-0001"}));
  ASSERT_TRUE(down.ok());
  std::set<int64_t> ids;
  for (const auto& e : *down) ids.insert(e.edge_id);
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ((*down)[2].depth, 2);
  EXPECT_EQ(Strs(lineage_->Downstream(kTable3, 1)).size(), 2u);
}

TEST_F(LineageTest, VersionsMatchExactlyUnlessMinusOne) {
  RecordQueryOne();
  Edge(kTable4, kIndex6, "synced_from");
  Edge(kIndex6, kQuery2, "read_by");

  EXPECT_EQ(Strs(lineage_->Upstream(kIndex5)),
            (V{"table main.imaging.radiomics@3 -> index main.imaging.radiomics_idx@5"}));
  EXPECT_EQ(Strs(lineage_->Upstream({"index", "main.imaging.radiomics_idx", -1})),
            (V{"table main.imaging.radiomics@3 -> index main.imaging.radiomics_idx@5",
               "table main.imaging.radiomics@4 -> index main.imaging.radiomics_idx@6"}));
  EXPECT_EQ(Strs(lineage_->Downstream(kTable4)),
            (V{"table main.imaging.radiomics@4 -> index main.imaging.radiomics_idx@6",
               "index main.imaging.radiomics_idx@6 -> query q-0002"}));
  EXPECT_EQ(Strs(lineage_->Downstream({"table", "main.imaging.radiomics", 2})), V{});
  EXPECT_EQ(Strs(lineage_->Downstream({"table", "main.imaging.radiomics", -1})).size(), 5u);
  // Kind is part of the node; names ignore case like catalog names.
  EXPECT_EQ(Strs(lineage_->Downstream({"index", "main.imaging.radiomics", -1})), V{});
  EXPECT_EQ(Strs(lineage_->Upstream({"index", "MAIN.Imaging.Radiomics_IDX", 5})).size(), 1u);

  // An endpoint recorded without a version matches every version asked for.
  Edge({"table", "main.clinical.patients", -1}, {"job", "cohort-export", -1}, "derived_from");
  EXPECT_EQ(Strs(lineage_->Downstream({"table", "main.clinical.patients", 7})),
            (V{"table main.clinical.patients -> job cohort-export"}));
}

TEST_F(LineageTest, CyclesEndAndEdgesAreNotRepeated) {
  const LineageNode a{"table", "main.s.a", 1}, b{"table", "main.s.b", 1}, c{"table", "main.s.c", 1};
  Edge(a, b, "derived_from");
  Edge(b, c, "derived_from");
  Edge(c, a, "derived_from");
  Edge(a, a, "derived_from");  // a self-loop
  auto up = lineage_->Upstream(a, 1000);
  EXPECT_EQ(Strs(up), (V{"table main.s.c@1 -> table main.s.a@1", "table main.s.a@1 -> table main.s.a@1",
                         "table main.s.b@1 -> table main.s.c@1", "table main.s.a@1 -> table main.s.b@1"}));
  EXPECT_EQ(Strs(lineage_->Downstream(b, 1000)).size(), 4u);
  EXPECT_EQ(Strs(lineage_->Downstream(b, 2)),
            (V{"table main.s.b@1 -> table main.s.c@1", "table main.s.c@1 -> table main.s.a@1"}));
}

TEST_F(LineageTest, RejectsInvalidEdgesAndQueries) {
  EXPECT_TRUE(
      lineage_->Record({.from = {"", "x", 1}, .to = kIndex5, .relation = "synced_from"}).IsInvalidArgument());
  EXPECT_TRUE(lineage_->Record({.from = kTable3, .to = {"index", "", 1}, .relation = "synced_from"})
                  .IsInvalidArgument());
  EXPECT_TRUE(
      lineage_->Record({.from = kTable3, .to = {"index", "i", -2}, .relation = "x"}).IsInvalidArgument());
  EXPECT_TRUE(lineage_->Record({.from = kTable3, .to = kIndex5, .relation = ""}).IsInvalidArgument());
  EXPECT_TRUE(
      lineage_->Record({.from = kTable3, .to = kIndex5, .relation = "synced_from", .details_json = "[1]"})
          .IsInvalidArgument());
  EXPECT_TRUE(
      lineage_->Record({.from = kTable3, .to = kIndex5, .relation = "synced_from", .details_json = "{oops"})
          .IsInvalidArgument());
  EXPECT_EQ(Strs(lineage_->Downstream(kTable3)), V{});  // nothing was recorded
  EXPECT_TRUE(lineage_->Upstream(kQuery1, 0).status().IsInvalidArgument());
  EXPECT_TRUE(lineage_->Upstream({"query", "", -1}).status().IsInvalidArgument());
}

TEST_F(LineageTest, TooManyEdgesIsResourceExhausted) {
  RecordQueryOne();
  EXPECT_EQ(lineage_->Downstream(kTable3, 8, 2).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(lineage_->Downstream(kTable3, 8, 3).ok());
}

TEST_F(LineageTest, EdgesPersistAcrossReopen) {
  RecordQueryOne();
  Reopen();
  EXPECT_EQ(Strs(lineage_->Upstream(kQuery1)).size(), 3u);
  EXPECT_TRUE(Lineage::Open(dir_.File("absent.vesta")).status().IsNotFound());
}

}  // namespace
}  // namespace vesta::governance
