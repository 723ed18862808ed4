// The HTTP service (service/server.h) end to end: the real server on
// 127.0.0.1 with an ephemeral port over a temporary store, driven with
// httplib::Client. Nothing but 127.0.0.1 is ever contacted.
#include <httplib.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "service/errors.h"
#include "service/server.h"
#include "tests/testing/temp_dir.h"

namespace vesta::service {
namespace {

using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using json = nlohmann::json;
using ::vesta::testing::TempDir;

constexpr char kTablePath[] = "/api/2.1/unity-catalog/tables/main.clinical.patients";

// A store with main.clinical.patients (3 rows); admin (metastore admin, with
// a token) and bob (USE CATALOG + USE SCHEMA, no SELECT, with a token).
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("store.vesta");
    {
      auto s = governance::Store::Open(path_, {});
      ASSERT_TRUE(s.ok()) << s.status().ToString();
    }
    auto g = access::Governed::Open(path_);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    g_ = std::move(g).value();
    governance::Store& store = g_->store();
    ASSERT_TRUE(store.CreateCatalog("main", "admin").ok());
    ASSERT_TRUE(store.CreateSchema("main", "clinical", "admin").ok());
    Schema schema;
    schema.columns = {{"patient_id", DataType::String(), false, "study id"},
                      {"age", DataType::Bigint(), true, ""},
                      {"embedding", DataType::Vector(4), true, ""}};
    schema.primary_key = "patient_id";
    governance::CreateTableOptions topts;
    topts.comment = "patients";
    topts.properties = {{"source", "test"}};
    ASSERT_TRUE(store.CreateTable(table_, schema, topts, "admin").ok());
    {
      auto t = store.Begin("admin");
      std::vector<Row> rows;
      for (int i = 0; i < 3; ++i) {
        rows.push_back({Value::Str("P" + std::to_string(i)), Value::Int(40 + i),
                        Value::Vec({1.0f, 0.0f, 0.0f, static_cast<float>(i)})});
      }
      ASSERT_TRUE(t->Append(table_, rows).ok());
      ASSERT_TRUE(t->Commit().ok());
    }
    governance::Principals& p = g_->principals();
    auto admin = p.Bootstrap("admin");
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_token_ = admin->token;
    ASSERT_TRUE(p.CreateUser("bob", "admin").ok());
    auto bob = p.IssueToken("bob", std::nullopt, "test", "admin");
    ASSERT_TRUE(bob.ok()) << bob.status().ToString();
    bob_token_ = bob->token;
    auto cat = Securable::Parse(SecurableType::kCatalog, "main").value();
    auto sch = Securable::Parse(SecurableType::kSchema, "main.clinical").value();
    ASSERT_TRUE(g_->privileges().Grant(cat, "bob", {Privilege::kUseCatalog}, "admin").ok());
    ASSERT_TRUE(g_->privileges().Grant(sch, "bob", {Privilege::kUseSchema}, "admin").ok());

    StartServer({});
  }

  void StartServer(ServerOptions o) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.worker_threads = o.worker_threads ? o.worker_threads : 2;
    o.access_log = false;
    server_ = std::make_unique<Server>(*g_, o);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_GT(server_->port(), 0);
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    return c;
  }
  httplib::Result Get(const std::string& path, const std::string& token = "") {
    httplib::Client c = Client();
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Get(path, h);
  }
  // Asserts the error shape and returns the body.
  static json ErrorOf(const httplib::Result& r, int status, const std::string& code) {
    EXPECT_TRUE(r) << "no response";
    if (!r) return {};
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    json j = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    EXPECT_EQ(j.value("error_code", ""), code) << r->body;
    EXPECT_TRUE(j.contains("message") && j["message"].is_string()) << r->body;
    EXPECT_EQ(j.size(), 2u) << r->body;
    return j;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<access::Governed> g_;
  TableName table_{"main", "clinical", "patients"};
  std::string admin_token_, bob_token_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, HealthAndReadinessNeedNoToken) {
  auto h = Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(json::parse(h->body), json({{"status", "ok"}}));
  auto r = Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["status"], "ready");
}

TEST_F(ServerTest, DescribeWithoutTokenIsUnauthenticated) {
  auto r = Get(kTablePath);
  json j = ErrorOf(r, 401, "UNAUTHENTICATED");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
}

TEST_F(ServerTest, DescribeWithBadTokenIsUnauthenticated) {
  ErrorOf(Get(kTablePath, "vst_not-a-real-token"), 401, "UNAUTHENTICATED");
  // A malformed Authorization header (not Bearer) is the same.
  httplib::Client c = Client();
  ErrorOf(c.Get(kTablePath, {{"Authorization", "Basic " + admin_token_}}), 401, "UNAUTHENTICATED");
}

TEST_F(ServerTest, DescribeWithoutSelectIsPermissionDenied) {
  json j = ErrorOf(Get(kTablePath, bob_token_), 403, "PERMISSION_DENIED");
  std::string m = j.value("message", "");
  EXPECT_NE(m.find("SELECT"), std::string::npos) << m;
  EXPECT_NE(m.find("bob"), std::string::npos) << m;
}

TEST_F(ServerTest, DescribeAnswersUnityCatalogShape) {
  auto r = Get(kTablePath, admin_token_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["name"], "patients");
  EXPECT_EQ(j["catalog_name"], "main");
  EXPECT_EQ(j["schema_name"], "clinical");
  EXPECT_EQ(j["full_name"], "main.clinical.patients");
  EXPECT_EQ(j["table_type"], "MANAGED");
  EXPECT_EQ(j["owner"], "admin");
  EXPECT_EQ(j["comment"], "patients");
  EXPECT_EQ(j["properties"], json({{"source", "test"}}));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["row_count"], 3);
  EXPECT_EQ(j["primary_key"], "patient_id");
  ASSERT_EQ(j["columns"].size(), 3u);
  EXPECT_EQ(j["columns"][0], json({{"name", "patient_id"},
                                   {"type_text", "string"},
                                   {"type_name", "STRING"},
                                   {"nullable", false},
                                   {"position", 0},
                                   {"comment", "study id"}}));
  EXPECT_EQ(j["columns"][1]["type_text"], "bigint");
  EXPECT_EQ(j["columns"][1]["type_name"], "LONG");
  EXPECT_EQ(j["columns"][2]["type_text"], "vector(4)");
  EXPECT_EQ(j["columns"][2]["position"], 2);
}

TEST_F(ServerTest, UnknownTableAndBadNameAndUnknownRoute) {
  json j = ErrorOf(Get("/api/2.1/unity-catalog/tables/main.clinical.nope", admin_token_), 404, "NOT_FOUND");
  EXPECT_NE(j.value("message", "").find("nope"), std::string::npos) << j.dump();
  ErrorOf(Get("/api/2.1/unity-catalog/tables/not_three_parts", admin_token_), 400, "INVALID_ARGUMENT");
  json r = ErrorOf(Get("/no/such/route", admin_token_), 404, "NOT_FOUND");
  EXPECT_NE(r.value("message", "").find("/no/such/route"), std::string::npos) << r.dump();
  // Without a token too: 404, same shape.
  ErrorOf(Get("/no/such/route"), 404, "NOT_FOUND");
}

TEST_F(ServerTest, BodyOverTheLimitIs413WithTheErrorShape) {
  server_->Stop();
  ServerOptions o;
  o.max_body_bytes = 1024;
  StartServer(o);
  httplib::Client c = Client();
  std::string body = "{\"x\":\"" + std::string(4096, 'a') + "\"}";
  auto r = c.Post(kTablePath, {{"Authorization", "Bearer " + admin_token_}}, body, "application/json");
  json j = ErrorOf(r, 413, "RESOURCE_EXHAUSTED");
  EXPECT_NE(j.value("message", "").find("1024"), std::string::npos) << j.dump();
}

TEST_F(ServerTest, MetricsNeedATokenAndCountRequestsByRoutePattern) {
  ErrorOf(Get("/metrics"), 401, "UNAUTHENTICATED");
  ASSERT_TRUE(Get("/healthz"));
  ASSERT_TRUE(Get(kTablePath, admin_token_));
  ASSERT_TRUE(Get(kTablePath, bob_token_));
  ASSERT_TRUE(Get("/api/2.1/unity-catalog/tables/main.clinical.other", admin_token_));
  ASSERT_TRUE(Get("/nope"));
  const std::string tables = "route=\"/api/2.1/unity-catalog/tables/{full_name}\"";
  const std::vector<std::string> expected = {
       std::string("vesta_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"),
        "vesta_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"401\"} 1",
        "vesta_http_requests_total{" + tables + ",method=\"GET\",status=\"200\"} 1",
        "vesta_http_requests_total{" + tables + ",method=\"GET\",status=\"403\"} 1",
        "vesta_http_requests_total{" + tables + ",method=\"GET\",status=\"404\"} 1",
        "vesta_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "vesta_http_request_duration_seconds_count{" + tables + "} 3",
        "vesta_http_request_duration_seconds_bucket{" + tables + ",le=\"+Inf\"} 3",
        std::string("# TYPE vesta_http_request_duration_seconds histogram")};
  // A request is counted by httplib's logger, after its response is sent: a
  // client may see a response before that worker has counted it. Read the
  // metrics until every request above shows (at most 5 s).
  auto complete = [&](const httplib::Result& res) {
    if (!res) return false;
    for (const std::string& line : expected) {
      if (res->body.find(line + "\n") == std::string::npos) return false;
    }
    return true;
  };
  httplib::Result r = Get("/metrics", admin_token_);
  for (int attempt = 0; attempt < 100 && r && !complete(r); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r = Get("/metrics", admin_token_);
  }
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
  const std::string& m = r->body;
  for (const std::string& line : expected) {
    EXPECT_NE(m.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << m;
  }
  // Raw paths never become labels.
  EXPECT_EQ(m.find("main.clinical.patients"), std::string::npos) << m;
  EXPECT_EQ(m.find("/nope"), std::string::npos) << m;
}

TEST_F(ServerTest, StopLetsAnInFlightRequestFinish) {
  // A client that sends its headers and then dribbles the body: the request
  // is in flight (read by a worker) when Stop() is called.
  server_->Stop();
  ServerOptions o;
  o.read_timeout = std::chrono::milliseconds(5000);
  StartServer(o);
  int port = server_->port();
  auto in_flight = std::async(std::launch::async, [port, this] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(10);
    // A content provider that stalls 500 ms before the body.
    return c.Post(
        kTablePath, {{"Authorization", "Bearer " + admin_token_}}, 2,
        [](size_t offset, size_t, httplib::DataSink& sink) {
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
          sink.write("{}", 2);
          return true;
        },
        "application/json");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  auto r = in_flight.get();
  ASSERT_TRUE(r) << "in-flight request dropped: " << httplib::to_string(r.error());
  // No POST route yet: the request was routed and answered, not cut off.
  ErrorOf(r, 404, "NOT_FOUND");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // After Stop nothing is accepted.
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  EXPECT_FALSE(c.Get("/healthz"));
}

TEST(ServiceErrors, StatusCodesMapToOneHttpStatusEach) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDataLoss), 500);
  HttpError e = ErrorFromStatus(Status::PermissionDenied("alice lacks SELECT on table t"));
  EXPECT_EQ(e.http_status, 403);
  EXPECT_EQ(json::parse(ErrorBody(e)),
            json({{"error_code", "PERMISSION_DENIED"}, {"message", "alice lacks SELECT on table t"}}));
  // Invalid UTF-8 in a message still yields valid JSON.
  EXPECT_FALSE(json::parse(ErrorBody({400, "INVALID_ARGUMENT", "bad \xff name"}), nullptr, false).is_discarded());
}

TEST(ServiceErrors, JsonBodiesMustSayApplicationJson) {
  EXPECT_FALSE(CheckJsonBody("application/json", 10));
  EXPECT_FALSE(CheckJsonBody("Application/JSON; charset=utf-8", 10));
  EXPECT_FALSE(CheckJsonBody("text/plain", 0));  // no body: nothing to check
  auto e = CheckJsonBody("text/plain", 10);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->http_status, 415);
  EXPECT_EQ(e->error_code, "UNSUPPORTED_MEDIA_TYPE");
  EXPECT_NE(e->message.find("text/plain"), std::string::npos);
  ASSERT_TRUE(CheckJsonBody("", 10));
}

TEST(ServiceOptions, ValidateRejectsBadValues) {
  EXPECT_TRUE(ServerOptions{}.Validate().ok());
  ServerOptions o;
  o.port = 70000;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
  o = {};
  o.max_body_bytes = 0;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
  o = {};
  o.read_timeout = std::chrono::milliseconds(0);
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
}

}  // namespace
}  // namespace vesta::service
