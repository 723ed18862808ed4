// The Mosaic AI Vector Search routes (service/routes_indexes.cc) end to end:
// the real server on 127.0.0.1, a small imaging table, Delta Sync (TRIGGERED
// and CONTINUOUS) and Direct Access indexes, queries as the public Python
// client sends them (GET with a JSON body), paging, scans, writes, every bad
// input, and queries racing a CONTINUOUS sync.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "governance/privileges.h"
#include "tests/service/http_fixture.h"

namespace vesta::service::testing {
namespace {

using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;

constexpr int kDim = 8;
constexpr int kRows = 200;
constexpr char kIndexes[] = "/api/2.0/vector-search/indexes";
const std::string kIdx = std::string(kIndexes) + "/main.imaging.cases_idx";

// main.imaging.cases: case_id STRING, site STRING ('A'/'B'/'C'), cohort
// ('GBM'/'LGG'), age BIGINT, gen BIGINT, secret STRING, features VECTOR(8).
class IndexRoutesTest : public HttpFixture {
 protected:
  void SetUp() override {
    HttpFixture::SetUp();
    governance::Store& store = g_->store();
    ASSERT_TRUE(store.CreateCatalog("main", "admin").ok());
    ASSERT_TRUE(store.CreateSchema("main", "imaging", "admin").ok());
    Schema schema;
    schema.columns = {{"case_id", DataType::String(), false, ""}, {"site", DataType::String(), true, ""},
                      {"cohort", DataType::String(), true, ""},   {"age", DataType::Bigint(), true, ""},
                      {"gen", DataType::Bigint(), true, ""},      {"secret", DataType::String(), true, ""},
                      {"features", DataType::Vector(kDim), true, ""}};
    schema.primary_key = "case_id";
    ASSERT_TRUE(store.CreateTable(table_, schema, {}, "admin").ok());
    std::mt19937 rng(7);
    std::normal_distribution<float> nd;
    for (int i = 0; i < kRows; ++i) {
      std::vector<float> v(kDim);
      for (float& x : v) x = nd(rng);
      vectors_.push_back(v);
      rows_.push_back({Value::Str(Key(i)), Value::Str(std::string(1, "ABC"[i % 3])),
                       Value::Str(i % 2 ? "LGG" : "GBM"), Value::Int(20 + i % 60), Value::Int(0),
                       Value::Str("s" + std::to_string(i)), Value::Vec(v)});
    }
    Commit(rows_, /*upsert=*/false);
    StartServer();
  }

  static std::string Key(int i) {
    char b[16];
    std::snprintf(b, sizeof(b), "C%04d", i);
    return b;
  }

  int64_t Commit(std::vector<Row> rows, bool upsert) {
    auto t = g_->store().Begin("admin");
    Status st = upsert ? t->Upsert(table_, std::move(rows)) : t->Append(table_, std::move(rows));
    EXPECT_TRUE(st.ok()) << st.ToString();
    auto c = t->Commit();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return g_->store().ResolveVersion(table_, {}).value();
  }

  json CreateBody(const std::string& pipeline = "TRIGGERED",
                  std::vector<std::string> sync = {"site", "cohort", "age", "gen"}) {
    return {{"name", "main.imaging.cases_idx"},
            {"endpoint_name", "vesta"},
            {"primary_key", "case_id"},
            {"index_type", "DELTA_SYNC"},
            {"delta_sync_index_spec",
             {{"source_table", "main.imaging.cases"},
              {"pipeline_type", pipeline},
              {"embedding_vector_columns", json::array({{{"name", "features"}, {"embedding_dimension", kDim}}})},
              {"columns_to_sync", sync}}},
            {"vesta_index_spec", {{"kind", "HNSW"}, {"metric", "L2"}}}};
  }

  void CreateIndex(const std::string& pipeline = "TRIGGERED") {
    Reply r = Post(kIndexes, admin_token_, CreateBody(pipeline));
    ASSERT_EQ(r.status, 200) << r.raw;
  }

  // The exact top-k keys for `q` by squared L2 over `vectors_` (ties by index).
  std::vector<std::string> ExactTopK(const std::vector<float>& q, size_t k,
                                     const std::function<bool(int)>& pass = nullptr) const {
    std::vector<std::pair<float, int>> d;
    for (int i = 0; i < kRows; ++i) {
      if (pass && !pass(i)) continue;
      float s = 0;
      for (int j = 0; j < kDim; ++j) s += (q[j] - vectors_[i][j]) * (q[j] - vectors_[i][j]);
      d.push_back({s, i});
    }
    std::sort(d.begin(), d.end());
    std::vector<std::string> out;
    for (size_t i = 0; i < k && i < d.size(); ++i) out.push_back(Key(d[i].second));
    return out;
  }

  json Query(const json& extra, const std::string& token = "", const std::string& method = "POST") {
    json body = {{"columns", {"case_id", "age"}}, {"query_vector", vectors_[7]}, {"num_results", 5}};
    for (auto it = extra.begin(); it != extra.end(); ++it) body[it.key()] = it.value();
    Reply r = Send(method, kIdx + "/query", token.empty() ? admin_token_ : token, body);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body;
  }

  static std::vector<std::string> KeysOf(const json& answer) {
    std::vector<std::string> keys;
    for (const json& row : answer["result"]["data_array"]) keys.push_back(row[0].get<std::string>());
    return keys;
  }

  void GrantIndexRead(const std::string& user) {
    governance::Privileges& p = g_->privileges();
    ASSERT_TRUE(p.Grant(Securable::Parse(SecurableType::kCatalog, "main").value(), user, {Privilege::kUseCatalog},
                        "admin")
                    .ok());
    ASSERT_TRUE(p.Grant(Securable::Parse(SecurableType::kSchema, "main.imaging").value(), user,
                        {Privilege::kUseSchema}, "admin")
                    .ok());
    ASSERT_TRUE(p.Grant(Securable::Index(TableName{"main", "imaging", "cases_idx"}), user, {Privilege::kSelect},
                        "admin")
                    .ok());
  }

  int64_t IndexVersion() {
    Reply r = Get(kIdx, admin_token_);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body["vesta"].value("index_version", int64_t{-9});
  }

  TableName table_{"main", "imaging", "cases"};
  std::vector<std::vector<float>> vectors_;
  std::vector<Row> rows_;
};

TEST_F(IndexRoutesTest, CreateDescribeListAndQueryMatchExactSearch) {
  CreateIndex();
  Reply d = Get(kIdx, admin_token_);
  ASSERT_EQ(d.status, 200) << d.raw;
  EXPECT_EQ(d.body["name"], "main.imaging.cases_idx");
  EXPECT_EQ(d.body["index_type"], "DELTA_SYNC");
  EXPECT_EQ(d.body["primary_key"], "case_id");
  EXPECT_EQ(d.body["creator"], "admin");
  EXPECT_TRUE(d.body["status"]["ready"].get<bool>());
  EXPECT_NE(d.body["status"]["detailed_state"].get<std::string>().find("ONLINE"), std::string::npos);
  EXPECT_EQ(d.body["status"]["indexed_row_count"], kRows);
  EXPECT_EQ(d.body["delta_sync_index_spec"]["source_table"], "main.imaging.cases");
  EXPECT_EQ(d.body["vesta"]["versions_behind"], 0);
  // The build is in the lineage: table@1 -> index@1, synced_from.
  auto up = g_->lineage().Upstream({"index", "main.imaging.cases_idx", -1});
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_EQ(up->size(), 1u);
  EXPECT_EQ((*up)[0].from.ToString(), "table main.imaging.cases@1");
  EXPECT_EQ((*up)[0].relation, "synced_from");

  Reply l = Get(kIndexes, admin_token_);
  ASSERT_EQ(l.status, 200) << l.raw;
  ASSERT_EQ(l.body["vector_indexes"].size(), 1u);
  EXPECT_EQ(l.body["vector_indexes"][0]["name"], "main.imaging.cases_idx");
  EXPECT_EQ(l.body["next_page_token"], "");

  json a = Query({});
  EXPECT_EQ(a["manifest"]["column_count"], 3);
  EXPECT_EQ(a["manifest"]["columns"], json::parse(R"([{"name":"case_id"},{"name":"age"},{"name":"score"}])"));
  EXPECT_EQ(a["result"]["row_count"], 5);
  EXPECT_EQ(KeysOf(a), ExactTopK(vectors_[7], 5));
  EXPECT_DOUBLE_EQ(a["result"]["data_array"][0][2].get<double>(), 1.0);  // 1 / (1 + 0)
  EXPECT_EQ(a["result"]["data_array"][0][1], 20 + 7 % 60);
  EXPECT_EQ(a["next_page_token"], "");
  EXPECT_EQ(a["vesta"]["index_version"], 1);
  EXPECT_EQ(a["vesta"]["source_current_version"], 1);
  EXPECT_EQ(a["vesta"]["versions_behind"], 0);
  EXPECT_TRUE(a["vesta"]["query_id"].get<std::string>().rfind("q-", 0) == 0);
}

TEST_F(IndexRoutesTest, ClientStyleGetWithBodyAndBothFilterForms) {
  CreateIndex();
  // What databricks-vectorsearch sends: GET, filters_json as a string, the
  // other filter null, debug_level.
  json a = Query({{"filters_json", R"({"cohort": "GBM", "age >=": 50})"},
                  {"filter_string", nullptr},
                  {"debug_level", 1},
                  {"num_results", 10},
                  {"columns", {"case_id", "cohort", "age"}}},
                 "", "GET");
  auto pass = [](int i) { return i % 2 == 0 && 20 + i % 60 >= 50; };
  EXPECT_EQ(KeysOf(a), ExactTopK(vectors_[7], 10, pass));
  for (const json& row : a["result"]["data_array"]) {
    EXPECT_EQ(row[1], "GBM");
    EXPECT_GE(row[2].get<int>(), 50);
  }
  json b = Query({{"filter_string", "cohort = 'GBM' AND age >= 50"},
                  {"filters_json", nullptr},
                  {"num_results", 10},
                  {"columns", {"case_id", "cohort", "age"}}});
  EXPECT_EQ(KeysOf(a), KeysOf(b));
  // Both forms together are ANDed.
  json c = Query({{"filter_string", "site = 'A'"}, {"filters_json", R"({"cohort": "GBM"})"}, {"num_results", 10}});
  EXPECT_EQ(KeysOf(c), ExactTopK(vectors_[7], 10, [](int i) { return i % 3 == 0 && i % 2 == 0; }));
  // score_threshold drops lower scores.
  json t = Query({{"score_threshold", 0.99}});
  EXPECT_EQ(t["result"]["row_count"], 1);
}

// GET bodies on one keep-alive connection: httplib 0.11 leaves a GET body
// unread; the server reads it (service/internal/http_stream.h), so the next
// request on the connection parses cleanly.
TEST_F(IndexRoutesTest, GetBodiesKeepTheKeepAliveConnectionInStep) {
  CreateIndex();
  httplib::Client c = Client();
  c.set_keep_alive(true);
  for (int i = 0; i < 5; ++i) {
    json body = {{"columns", {"case_id"}}, {"query_vector", vectors_[i]}, {"num_results", 3}};
    httplib::Request req;
    req.method = "GET";
    req.path = kIdx + "/query";
    req.headers = {{"Authorization", "Bearer " + admin_token_}, {"Content-Type", "application/json"}};
    req.body = body.dump();
    auto r = c.send(req);
    ASSERT_TRUE(r) << "request " << i;
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["result"]["data_array"][0][0], Key(i));
    // A plain GET between them on the same connection.
    auto d = c.Get(kIdx.c_str(), {{"Authorization", "Bearer " + admin_token_}});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->status, 200) << d->body;
  }
}

TEST_F(IndexRoutesTest, QueryNextPageWalksTheAnswerForItsPrincipalOnly) {
  CreateIndex();
  json first = Query({{"num_results", 20}, {"page_size", 8}});
  ASSERT_EQ(first["result"]["row_count"], 8);
  std::string token = first["next_page_token"];
  ASSERT_FALSE(token.empty());
  std::vector<std::string> keys = KeysOf(first);
  // Another principal cannot take the page.
  std::string other = NewUser("eve");
  GrantIndexRead("eve");
  ExpectError(Post(kIdx + "/query-next-page", other, {{"page_token", token}}), 404, "NOT_FOUND", "page_token");
  while (!token.empty()) {
    Reply r = Get(kIdx + "/query-next-page", admin_token_, json{{"page_token", token}, {"endpoint_name", "vesta"}});
    ASSERT_EQ(r.status, 200) << r.raw;
    for (const std::string& k : KeysOf(r.body)) keys.push_back(k);
    token = r.body["next_page_token"];
  }
  EXPECT_EQ(keys, ExactTopK(vectors_[7], 20));
}

TEST_F(IndexRoutesTest, TriggeredSyncAndStaleness) {
  CreateIndex();
  std::vector<float> v(kDim, 9.0f);
  Commit({{Value::Str("NEW1"), Value::Str("A"), Value::Str("GBM"), Value::Int(50), Value::Int(0), Value::Str("x"),
           Value::Vec(v)}},
         false);
  Reply d = Get(kIdx, admin_token_);
  EXPECT_EQ(d.body["vesta"]["versions_behind"], 1);
  EXPECT_EQ(d.body["status"]["detailed_state"], "ONLINE_TRIGGERED_UPDATE");
  json stale = Query({{"query_vector", v}, {"num_results", 1}});
  EXPECT_NE(KeysOf(stale)[0], "NEW1");
  EXPECT_EQ(stale["vesta"]["versions_behind"], 1);
  Reply s = Post(kIdx + "/sync", admin_token_);
  ASSERT_EQ(s.status, 200) << s.raw;
  EXPECT_EQ(s.body["to_version"], 2);
  EXPECT_EQ(s.body["inserted"], 1);
  json fresh = Query({{"query_vector", v}, {"num_results", 1}});
  EXPECT_EQ(KeysOf(fresh)[0], "NEW1");
  EXPECT_EQ(fresh["vesta"]["versions_behind"], 0);
}

TEST_F(IndexRoutesTest, ContinuousIndexFollowsCommits) {
  CreateIndex("CONTINUOUS");
  std::vector<float> v(kDim, -7.0f);
  int64_t version = Commit({{Value::Str("NEW2"), Value::Str("B"), Value::Str("LGG"), Value::Int(33), Value::Int(0),
                             Value::Str("x"), Value::Vec(v)}},
                           false);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (IndexVersion() != version && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(IndexVersion(), version);
  EXPECT_EQ(KeysOf(Query({{"query_vector", v}, {"num_results", 1}}))[0], "NEW2");
}

TEST_F(IndexRoutesTest, RowFilterOfTheSourceTableAppliesInsideTheSearch) {
  CreateIndex();
  ASSERT_TRUE(g_->policies().SetRowFilter(table_, "is_member('admins') OR site = 'A'", "admin").ok());
  std::string token = NewUser("onc");
  GrantIndexRead("onc");
  json a = Query({{"num_results", 10}, {"columns", {"case_id", "site"}}}, token);
  ASSERT_EQ(a["result"]["row_count"], 10);
  for (const json& row : a["result"]["data_array"]) EXPECT_EQ(row[1], "A");
  EXPECT_EQ(KeysOf(a), ExactTopK(vectors_[7], 10, [](int i) { return i % 3 == 0; }));
  // The admin (metastore admin, not in group 'admins') sees site A too: the
  // row filter binds everyone but its exempt group; with the group all rows.
  // A user without SELECT on the index is refused, naming the privilege.
  std::string nobody = NewUser("nobody");
  ExpectError(Send("POST", kIdx + "/query", nobody, json{{"columns", {"case_id"}}, {"query_vector", vectors_[0]}}),
              403, "PERMISSION_DENIED", "nobody");
  // ... and does not see the index in the list, nor can describe it.
  Reply l = Get(kIndexes, nobody);
  ASSERT_EQ(l.status, 200) << l.raw;
  EXPECT_TRUE(l.body["vector_indexes"].empty());
  ExpectError(Get(kIdx, nobody), 403, "PERMISSION_DENIED");
}

TEST_F(IndexRoutesTest, DirectAccessUpsertQueryScanDelete) {
  json body = {{"name", "main.imaging.notes_idx"},
               {"endpoint_name", "vesta"},
               {"primary_key", "id"},
               {"index_type", "DIRECT_ACCESS"},
               {"direct_access_index_spec",
                {{"schema_json", R"({"id": "long", "text": "string", "vec": "array<float>"})"},
                 {"embedding_vector_columns", json::array({{{"name", "vec"}, {"embedding_dimension", 3}}})}}},
               {"vesta_index_spec", {{"kind", "FLAT"}, {"metric", "COSINE"}}}};
  Reply c = Post(kIndexes, admin_token_, body);
  ASSERT_EQ(c.status, 200) << c.raw;
  EXPECT_EQ(c.body["index_type"], "DIRECT_ACCESS");
  const std::string idx = std::string(kIndexes) + "/main.imaging.notes_idx";
  json rows = json::array({{{"id", 1}, {"text", "glioma"}, {"vec", {1, 0, 0}}},
                           {{"id", 2}, {"text", "edema"}, {"vec", {0, 1, 0}}},
                           {{"id", 3}, {"text", "necrosis"}, {"vec", {0, 0, 1}}},
                           {{"id", 4}, {"text", "bad"}, {"vec", {1, 2}}}});
  Reply u = Post(idx + "/upsert-data", admin_token_, {{"inputs_json", rows.dump()}});
  ASSERT_EQ(u.status, 200) << u.raw;
  EXPECT_EQ(u.body["status"], "PARTIAL_SUCCESS");
  EXPECT_EQ(u.body["result"]["success_row_count"], 3);
  EXPECT_EQ(u.body["result"]["failed_primary_keys"], json::array({"4"}));
  EXPECT_NE(u.body["vesta"]["errors"][0].get<std::string>().find("vec"), std::string::npos) << u.raw;
  Reply q = Post(idx + "/query", admin_token_,
                 {{"columns", {"id", "text"}}, {"query_vector", {0.1, 0.9, 0}}, {"num_results", 2}});
  ASSERT_EQ(q.status, 200) << q.raw;
  EXPECT_EQ(q.body["result"]["data_array"][0][0], 2);
  EXPECT_EQ(q.body["result"]["data_array"][0][1], "edema");
  // The rows live in a governed, versioned backing table.
  auto info = g_->store().DescribeTable(TableName{"main", "imaging", "notes_idx__direct"});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->row_count, 3);

  Reply del = Delete(idx + "/delete-data", admin_token_, json{{"primary_keys", {1, 3}}});
  ASSERT_EQ(del.status, 200) << del.raw;
  EXPECT_EQ(del.body["status"], "SUCCESS");
  EXPECT_EQ(del.body["result"]["success_row_count"], 2);
  Reply s = Post(idx + "/scan", admin_token_, {{"num_results", 10}});
  ASSERT_EQ(s.status, 200) << s.raw;
  ASSERT_EQ(s.body["data"].size(), 1u);
  json fields = s.body["data"][0]["fields"];
  EXPECT_EQ(fields[0]["key"], "id");
  EXPECT_EQ(fields[0]["value"]["number_value"], 2);
  // A Delta Sync index refuses direct writes.
  CreateIndex();
  ExpectError(Post(kIdx + "/upsert-data", admin_token_, {{"inputs_json", "[]"}}), 400, "FAILED_PRECONDITION",
              "DELTA_SYNC");
  // Dropping the Direct Access index drops its backing table.
  ASSERT_EQ(Delete(idx, admin_token_).status, 200);
  EXPECT_EQ(g_->store().DescribeTable(TableName{"main", "imaging", "notes_idx__direct"}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(IndexRoutesTest, ScanPagesCoverEveryRowOnce) {
  CreateIndex();
  std::vector<std::string> seen;
  json last = nullptr;
  for (int page = 0; page < 100; ++page) {
    Reply r = Post(kIdx + "/scan", admin_token_, {{"num_results", 64}, {"last_primary_key", last}});
    ASSERT_EQ(r.status, 200) << r.raw;
    if (r.body["data"].empty()) break;
    for (const json& row : r.body["data"]) seen.push_back(row["fields"][0]["value"]["string_value"]);
    last = r.body["last_primary_key"];
  }
  std::vector<std::string> want;
  for (int i = 0; i < kRows; ++i) want.push_back(Key(i));
  EXPECT_EQ(seen, want);
}

TEST_F(IndexRoutesTest, DropRemovesTheIndexAndItsFile) {
  CreateIndex();
  ASSERT_EQ(Delete(kIdx, admin_token_).status, 200);
  ExpectError(Get(kIdx, admin_token_), 404, "NOT_FOUND", "cases_idx");
  ExpectError(Post(kIdx + "/query", admin_token_, {{"columns", {"case_id"}}, {"query_vector", vectors_[0]}}), 404,
              "NOT_FOUND");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("indexes") + "/main.imaging.cases_idx.vidx"));
  // The name is free again.
  CreateIndex();
}

TEST_F(IndexRoutesTest, IndexesSurviveARestart) {
  CreateIndex("CONTINUOUS");
  json before = Query({});
  server_->Stop();
  server_.reset();
  // A commit while the server is down is picked up on start.
  std::vector<float> v(kDim, 5.0f);
  Commit({{Value::Str("NEW3"), Value::Str("C"), Value::Str("GBM"), Value::Int(60), Value::Int(0), Value::Str("x"),
           Value::Vec(v)}},
         false);
  StartServer();
  json after = Query({});
  EXPECT_EQ(KeysOf(before), KeysOf(after));
  EXPECT_EQ(after["vesta"]["index_version"], 2);
  EXPECT_EQ(KeysOf(Query({{"query_vector", v}, {"num_results", 1}}))[0], "NEW3");
}

TEST_F(IndexRoutesTest, CreateRejectsBadDefinitions) {
  auto bad = [&](json body, int status, const std::string& code, const std::string& mentions) {
    int64_t audit = AuditCount();
    ExpectError(Post(kIndexes, admin_token_, body), status, code, mentions);
    EXPECT_EQ(AuditCount(), audit + 1) << "refused create not audited once: " << mentions;
    Reply l = Get(kIndexes, admin_token_);
    EXPECT_TRUE(l.body["vector_indexes"].empty()) << l.raw;
  };
  json b = CreateBody();
  b["delta_sync_index_spec"]["embedding_vector_columns"][0]["embedding_dimension"] = 7;
  bad(b, 400, "INVALID_ARGUMENT", "embedding_dimension");
  b = CreateBody();
  b["delta_sync_index_spec"]["embedding_vector_columns"][0]["name"] = "age";
  bad(b, 400, "INVALID_ARGUMENT", "age");
  b = CreateBody();
  b["delta_sync_index_spec"]["source_table"] = "main.imaging.nope";
  bad(b, 404, "NOT_FOUND", "nope");
  b = CreateBody();
  b["delta_sync_index_spec"]["pipeline_type"] = "SOMETIMES";
  bad(b, 400, "INVALID_ARGUMENT", "pipeline_type");
  b = CreateBody();
  b["primary_key"] = "site";
  bad(b, 400, "INVALID_ARGUMENT", "primary_key");
  b = CreateBody();
  b["index_type"] = "MAGIC";
  bad(b, 400, "INVALID_ARGUMENT", "index_type");
  b = CreateBody();
  b["name"] = "main.imaging.x'; DROP TABLE cases; --";
  bad(b, 400, "INVALID_ARGUMENT", "name");
  b = CreateBody();
  b["delta_sync_index_spec"]["columns_to_sync"] = {"no_such_column"};
  bad(b, 400, "INVALID_ARGUMENT", "no_such_column");
  b = CreateBody();
  b["vesta_index_spec"]["metric"] = "MANHATTAN";
  bad(b, 400, "INVALID_ARGUMENT", "metric");
  // A user without CREATE INDEX is refused.
  std::string t = NewUser("mallory");
  int64_t audit = AuditCount();
  ExpectError(Post(kIndexes, t, CreateBody()), 403, "PERMISSION_DENIED", "mallory");
  EXPECT_EQ(AuditCount(), audit + 1);
  // The name taken: 409.
  CreateIndex();
  ExpectError(Post(kIndexes, admin_token_, CreateBody()), 409, "ALREADY_EXISTS", "cases_idx");
}

// Each bad query: a 4xx naming the problem, nothing changed, audited once.
TEST_F(IndexRoutesTest, BadQueriesAreRefusedNamingTheProblemAndAudited) {
  CreateIndex();
  const int64_t version = IndexVersion();
  struct Case {
    std::string what;
    std::string raw;  // the request body as sent
    std::string content_type;
    int status;
    std::string code;
    std::string mentions;
    std::string path = "/query";
    std::string token = "admin";
  };
  auto q = [&](json extra) {
    json body = {{"columns", {"case_id"}}, {"query_vector", vectors_[0]}, {"num_results", 5}};
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      if (it.value().is_null() && it.key() != "filters_json") {
        body.erase(it.key());
      } else {
        body[it.key()] = it.value();
      }
    }
    return body.dump();
  };
  const std::string json_type = "application/json";
  std::vector<Case> cases = {
      {"wrong vector length", q({{"query_vector", {1, 2, 3}}}), json_type, 400, "INVALID_ARGUMENT", "expected 8"},
      {"NaN literal", R"({"columns": ["case_id"], "query_vector": [NaN, 0, 0, 0, 0, 0, 0, 0]})", json_type, 400,
       "INVALID_ARGUMENT", "JSON"},
      // JSON has no infinity: 1e999 overflows the parser.
      {"infinite value", R"({"columns": ["case_id"], "query_vector": [1e999, 0, 0, 0, 0, 0, 0, 0]})", json_type,
       400, "INVALID_ARGUMENT", "JSON"},
      {"float32 overflow", q({{"query_vector", {1e300, 0, 0, 0, 0, 0, 0, 0}}}), json_type, 400, "INVALID_ARGUMENT",
       "query_vector[0]"},
      {"string in vector", q({{"query_vector", {"a", 0, 0, 0, 0, 0, 0, 0}}}), json_type, 400, "INVALID_ARGUMENT",
       "query_vector[0]"},
      {"k = 0", q({{"num_results", 0}}), json_type, 400, "INVALID_ARGUMENT", "num_results"},
      {"k negative", q({{"num_results", -3}}), json_type, 400, "INVALID_ARGUMENT", "num_results"},
      {"k over the limit", q({{"num_results", 1001}}), json_type, 400, "INVALID_ARGUMENT", "num_results"},
      {"unknown column", q({{"columns", {"case_id", "nope"}}}), json_type, 400, "INVALID_ARGUMENT", "nope"},
      {"column not synced", q({{"columns", {"case_id", "secret"}}}), json_type, 400, "INVALID_ARGUMENT", "secret"},
      {"missing columns", q({{"columns", nullptr}}), json_type, 400, "INVALID_ARGUMENT", "columns"},
      {"missing vector", q({{"query_vector", nullptr}}), json_type, 400, "INVALID_ARGUMENT", "query_vector"},
      {"query_text without model", q({{"query_vector", nullptr}, {"query_text", "glioma"}}), json_type, 400,
       "INVALID_ARGUMENT", "query_text"},
      {"query alias", q({{"query_vector", nullptr}, {"query", "glioma"}}), json_type, 400, "INVALID_ARGUMENT",
       "query"},
      {"HYBRID", q({{"query_type", "HYBRID"}}), json_type, 400, "INVALID_ARGUMENT", "not supported yet"},
      {"FULL_TEXT", q({{"query_type", "FULL_TEXT"}}), json_type, 400, "INVALID_ARGUMENT", "not supported yet"},
      {"malformed filter_string", q({{"filter_string", "age >>= 3"}}), json_type, 400, "INVALID_ARGUMENT",
       "filter_string"},
      {"malformed filters_json", q({{"filters_json", R"({"age <": [1, 2]})"}}), json_type, 400, "INVALID_ARGUMENT",
       "filters_json"},
      {"filters_json not a string", q({{"filters_json", json{{"age", 3}}}}), json_type, 400, "INVALID_ARGUMENT",
       "filters_json"},
      {"filter on a column not synced", q({{"filter_string", "secret = 's1'"}}), json_type, 400,
       "INVALID_ARGUMENT", "secret"},
      {"filters_json on a column not synced", q({{"filters_json", R"({"secret": "s1"})"}}), json_type, 400,
       "INVALID_ARGUMENT", "secret"},
      {"SQL injection in filter", q({{"filter_string", "site = 'A'; DROP TABLE cases; --"}}), json_type, 400,
       "INVALID_ARGUMENT", ""},
      {"SQL injection in filter 2", q({{"filter_string", "site = '' OR 1=1 --'"}}), json_type, 400,
       "INVALID_ARGUMENT", ""},
      {"invalid JSON", "{\"columns\": [", json_type, 400, "INVALID_ARGUMENT", "JSON"},
      {"not an object", "[1, 2]", json_type, 400, "INVALID_ARGUMENT", "object"},
      {"wrong content type", q({}), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE", "text/plain"},
      {"unknown index", q({}), json_type, 404, "NOT_FOUND", "nope_idx", "/query", "admin"},
      {"injection in index name", q({}), json_type, 400, "INVALID_ARGUMENT", "index_name", "/query", "admin"},
      {"path traversal in index name", q({}), json_type, 400, "INVALID_ARGUMENT", "index_name", "/query", "admin"},
      {"missing token", q({}), json_type, 401, "UNAUTHENTICATED", "bearer", "/query", ""},
      {"unknown token", q({}), json_type, 401, "UNAUTHENTICATED", "", "/query", "vst_0000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::string path = kIdx + c.path;
    if (c.what == "unknown index") path = std::string(kIndexes) + "/main.imaging.nope_idx/query";
    if (c.what == "injection in index name") path = std::string(kIndexes) + "/main.imaging.x%27%3B%20DROP/query";
    if (c.what == "path traversal in index name") path = std::string(kIndexes) + "/main.imaging.%2E%2E/query";
    std::string token = c.token == "admin" ? admin_token_ : c.token;
    int64_t audit = AuditCount();
    Reply r = SendRaw("POST", path, token, c.raw, c.content_type);
    ExpectError(r, c.status, c.code, c.mentions);
    EXPECT_EQ(AuditCount(), audit + 1) << "not audited exactly once";
  }
  // Nothing changed.
  EXPECT_EQ(IndexVersion(), version);
  EXPECT_EQ(g_->store().ResolveVersion(table_, {}).value(), 1);
  // A body over the limit: 413, audited.
  server_->Stop();
  ServerOptions o;
  o.max_body_bytes = 1024;
  StartServer(o);
  int64_t audit = AuditCount();
  json big = {{"columns", {"case_id"}}, {"query_vector", std::vector<float>(500, 0.5f)}};
  ExpectError(Post(kIdx + "/query", admin_token_, big), 413, "RESOURCE_EXHAUSTED", "1024");
  EXPECT_EQ(AuditCount(), audit + 1);
}

// Queries racing a CONTINUOUS sync and table commits never fail and never
// see a half-synced index: each commit rewrites `gen` of every row to the
// commit's ordinal, so one answer's rows must all carry the gen of the
// version it reports.
TEST_F(IndexRoutesTest, QueriesDuringContinuousSyncNeverFailNorSeeHalfSyncedAnswers) {
  CreateIndex("CONTINUOUS");
  constexpr int kCommits = 12;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, mixed{0}, answers{0};
  std::set<int64_t> versions_seen;
  std::mutex seen_mu;
  auto reader = [&] {
    std::mt19937 rng(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    while (!done) {
      json body = {{"columns", {"case_id", "gen"}},
                   {"query_vector", vectors_[rng() % kRows]},
                   {"num_results", 50},
                   {"filter_string", "age >= 30"}};
      Reply r = Post(kIdx + "/query", admin_token_, body);
      if (r.status != 200) {
        ++failures;
        ADD_FAILURE() << r.status << " " << r.raw;
        continue;
      }
      int64_t v = r.body["vesta"]["index_version"];
      std::set<int64_t> gens;
      for (const json& row : r.body["result"]["data_array"]) gens.insert(row[1].get<int64_t>());
      // Version 1 is the initial load (gen 0); commit i makes version 1 + i with gen i.
      if (gens.size() != 1 || *gens.begin() != v - 1) ++mixed;
      ++answers;
      std::lock_guard<std::mutex> lock(seen_mu);
      versions_seen.insert(v);
    }
  };
  std::thread r1(reader), r2(reader);
  // Half the commits through the HTTP table route (which wakes the
  // CONTINUOUS thread at once), half straight to the store (found by its poll).
  const std::vector<std::string> names = {"case_id", "site", "cohort", "age", "gen", "secret", "features"};
  for (int i = 1; i <= kCommits; ++i) {
    std::vector<Row> rows = rows_;
    for (Row& row : rows) row[4] = Value::Int(i);
    if (i % 2 == 0) {
      json body_rows = json::array();
      for (const Row& row : rows) {
        json o;
        for (size_t c = 0; c < names.size(); ++c) {
          if (row[c].is_vector()) {
            o[names[c]] = row[c].as_vector();
          } else if (row[c].is_int()) {
            o[names[c]] = row[c].as_int();
          } else {
            o[names[c]] = row[c].as_string();
          }
        }
        body_rows.push_back(o);
      }
      Reply w = Post("/api/2.0/vesta/tables/main.imaging.cases/rows", admin_token_,
                     {{"rows", body_rows}, {"mode", "upsert"}});
      ASSERT_EQ(w.status, 200) << w.raw;
      ASSERT_EQ(w.body["version"], 1 + i) << w.raw;
    } else {
      Commit(std::move(rows), /*upsert=*/true);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (IndexVersion() != 1 + kCommits && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(IndexVersion(), 1 + kCommits);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mixed.load(), 0);
  EXPECT_GT(answers.load(), 20);
  EXPECT_GE(versions_seen.size(), 3u) << "the readers should have seen several versions";
}

}  // namespace
}  // namespace vesta::service::testing
