// The HTTP service (service/server.h) end to end: the real server on
// 127.0.0.1 with an ephemeral port over a temporary store, driven with
// httplib::Client. Nothing but 127.0.0.1 is ever contacted.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "service/errors.h"
#include "service/openapi_spec.h"
#include "service/server.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/tls_cert.h"

extern "C" {
int omp_get_max_threads(void);
int openblas_get_num_threads(void);
}

namespace vesta::service {
namespace {

using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using json = nlohmann::json;
using ::vesta::testing::TempDir;
using ::vesta::testing::WriteSelfSignedCert;

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
      "vesta_http_request_duration_seconds_count{" + tables + ",status_class=\"2xx\"} 1",
      "vesta_http_request_duration_seconds_count{" + tables + ",status_class=\"4xx\"} 2",
      "vesta_http_request_duration_seconds_bucket{" + tables + ",status_class=\"4xx\",le=\"+Inf\"} 2",
      "vesta_http_request_duration_seconds_count{route=\"/healthz\",status_class=\"2xx\"} 1",
      "vesta_http_requests_rejected_total{reason=\"queue_full\"} 0",
      "vesta_http_requests_rejected_total{reason=\"deadline\"} 0",
      "vesta_http_requests_rejected_total{reason=\"headers\"} 0",
      "vesta_http_queue_depth 0",
      "vesta_http_workers 2",
      std::string("# TYPE vesta_http_request_duration_seconds histogram"),
      std::string("# TYPE vesta_index_rows gauge"),
      std::string("# TYPE vesta_index_memory_bytes gauge"),
      std::string("# TYPE vesta_index_version gauge"),
      std::string("# TYPE vesta_index_versions_behind gauge"),
      std::string("# TYPE vesta_index_ready gauge")};
  // Requests are counted before their response is written: one scrape after
  // the answers above must show every one of them (no waiting).
  httplib::Result r = Get("/metrics", admin_token_);
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
  // And the scrape itself shows in the next one.
  httplib::Result again = Get("/metrics", admin_token_);
  ASSERT_TRUE(again);
  EXPECT_NE(
      again->body.find("vesta_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"} 1\n"),
      std::string::npos)
      << again->body;
}

// A gate the test hook waits on: holds workers busy until Open().
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int entered = 0;
  void Enter() {
    std::unique_lock<std::mutex> lock(mu);
    ++entered;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  bool WaitEntered(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, timeout, [&] { return entered >= n; });
  }
};

// Opens the gate when the test ends, however it ends (the server's workers
// must not stay blocked).
struct GateOpener {
  std::shared_ptr<Gate> gate;
  ~GateOpener() { gate->Open(); }
};

TEST_F(ServerTest, FullQueueAnswers503QuicklyAndRecovers) {
  server_->Stop();
  auto gate = std::make_shared<Gate>();
  GateOpener opener{gate};
  ServerOptions o;
  o.worker_threads = 1;
  o.max_queued_requests = 1;
  o.on_request_start_for_test = [gate] { gate->Enter(); };
  StartServer(o);
  // A occupies the only worker; B waits in the queue (its one place).
  auto a = std::async(std::launch::async, [this] { return Get("/healthz"); });
  ASSERT_TRUE(gate->WaitEntered(1, std::chrono::seconds(10)));
  auto b = std::async(std::launch::async, [this] { return Get("/healthz"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // B accepted and queued
  // Every further connection is refused at once, with the error shape.
  for (int i = 0; i < 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = Get(kTablePath, admin_token_);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    json j = ErrorOf(r, 503, "UNAVAILABLE");
    EXPECT_NE(j.value("message", "").find("overloaded"), std::string::npos) << j.dump();
    EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  }
  EXPECT_EQ(gate->entered, 1);  // no refused request reached the hook (or a handler)
  gate->Open();
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_TRUE(ra);
  ASSERT_TRUE(rb);
  EXPECT_EQ(ra->status, 200);
  EXPECT_EQ(rb->status, 200);
  for (int i = 0; i < 5; ++i) {
    auto r = Get(kTablePath, admin_token_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
  }
  auto m = Get("/metrics", admin_token_);
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("vesta_http_requests_rejected_total{reason=\"queue_full\"} 3\n"), std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("vesta_http_requests_total{route=\"rejected\",method=\"GET\",status=\"503\"} 3\n"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("vesta_http_queue_depth 0\n"), std::string::npos) << m->body;
  // Refused requests are not audited (they ran nothing).
  governance::AuditQuery q;
  q.action = "http.request";
  auto records = g_->audit().Query(q);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  for (const auto& rec : *records) EXPECT_EQ(rec.parameters_json.find("\"status\":503"), std::string::npos);
}

TEST_F(ServerTest, RequestThatWaitedPastTheTimeLimitIs503WithoutRunning) {
  server_->Stop();
  auto gate = std::make_shared<Gate>();
  GateOpener opener{gate};
  ServerOptions o;
  o.worker_threads = 1;
  o.max_queued_requests = 4;
  o.request_time_limit = std::chrono::milliseconds(200);
  o.on_request_start_for_test = [gate] { gate->Enter(); };
  StartServer(o);
  auto a = std::async(std::launch::async, [this] { return Get("/healthz"); });
  ASSERT_TRUE(gate->WaitEntered(1, std::chrono::seconds(10)));
  auto b = std::async(std::launch::async, [this] { return Get(kTablePath, admin_token_); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // B waits past its 200 ms
  gate->Open();
  auto ra = a.get();
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->status, 200);  // A ran (a handler is not interrupted)
  json j = ErrorOf(b.get(), 503, "UNAVAILABLE");
  EXPECT_NE(j.value("message", "").find("time limit of 200 ms"), std::string::npos) << j.dump();
  EXPECT_EQ(gate->entered, 1);  // B never reached the hook
  auto c = Get(kTablePath, admin_token_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 200);
  auto m = Get("/metrics", admin_token_);
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("vesta_http_requests_rejected_total{reason=\"deadline\"} 1\n"), std::string::npos)
      << m->body;
  // Refused on a worker: audited once, as a refused request (not on the
  // overload path).
  governance::AuditQuery q;
  q.action = "http.request";
  auto records = g_->audit().Query(q);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  int refused = 0;
  for (const auto& rec : *records) refused += rec.parameters_json.find("\"status\":503") != std::string::npos;
  EXPECT_EQ(refused, 1);
}

TEST_F(ServerTest, HeaderLineOverTheLimitIsRefusedAndTheServerGoesOn) {
  httplib::Client c = Client();
  auto r = c.Get("/healthz", {{"X-Big", std::string(9000, 'a')}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_GE(r->status, 400);
  EXPECT_LT(r->status, 500);
  json j = json::parse(r->body, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("error_code")) << r->body;
  EXPECT_EQ(r->get_header_value("Connection"), "close");
  // Just under the line limit is fine.
  auto ok = c.Get("/healthz", {{"X-Big", std::string(8000, 'a')}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto h = Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST_F(ServerTest, TooManyOrTooLargeHeadersAre431) {
  httplib::Headers many;
  for (size_t i = 0; i < kMaxHeaderCount + 10; ++i) many.emplace("X-H" + std::to_string(i), "v");
  httplib::Client c = Client();
  json j = ErrorOf(c.Get("/healthz", many), 431, "RESOURCE_EXHAUSTED");
  EXPECT_NE(j.value("message", "").find(std::to_string(kMaxHeaderCount)), std::string::npos) << j.dump();
  // Within the count but over the total size (8 lines of 8000 bytes).
  httplib::Headers large;
  for (int i = 0; i < 9; ++i) large.emplace("X-L" + std::to_string(i), std::string(8000, 'b'));
  ErrorOf(c.Get("/healthz", large), 431, "RESOURCE_EXHAUSTED");
  httplib::Headers fine;
  for (int i = 0; i < 50; ++i) fine.emplace("X-F" + std::to_string(i), "v");
  auto ok = c.Get("/healthz", fine);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto m = Get("/metrics", admin_token_);
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("vesta_http_requests_rejected_total{reason=\"headers\"} 2\n"), std::string::npos)
      << m->body;
}

TEST_F(ServerTest, SearchThreadsAreSetOnEveryWorker) {
  server_->Stop();
  auto seen_omp = std::make_shared<std::atomic<int>>(0);
  ServerOptions o;
  o.search_threads = 3;
  o.on_request_start_for_test = [seen_omp] { seen_omp->store(omp_get_max_threads()); };
  StartServer(o);
  auto r = Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(seen_omp->load(), 3);
  EXPECT_EQ(openblas_get_num_threads(), 3);
  EXPECT_EQ(omp_get_max_threads(), 3);  // the thread that called Start
}

TEST_F(ServerTest, ServesHttpsWithTheConfiguredCertificate) {
  server_->Stop();
  const std::string cert = dir_.File("cert.pem"), key = dir_.File("key.pem");
  WriteSelfSignedCert(cert, key);
  ServerOptions o;
  o.tls_cert_file = cert;
  o.tls_key_file = key;
  StartServer(o);
  httplib::SSLClient tls("127.0.0.1", server_->port());
  tls.set_ca_cert_path(cert.c_str());
  tls.enable_server_certificate_verification(false);  // CN only, no subjectAltName
  tls.set_connection_timeout(5);
  tls.set_read_timeout(10);
  auto r = tls.Get("/healthz");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  auto d = tls.Get(kTablePath, {{"Authorization", "Bearer " + admin_token_}});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 200) << d->body;
  // Plain HTTP to the TLS port gets no HTTP answer.
  httplib::Client plain("127.0.0.1", server_->port());
  plain.set_connection_timeout(5);
  plain.set_read_timeout(5);
  auto p = plain.Get("/healthz");
  EXPECT_FALSE(p && p->status == 200);
  // And the TLS listener is still fine afterwards.
  auto again = tls.Get("/healthz");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(ServerTest, BadTlsFilesAreNamedInTheError) {
  server_->Stop();
  const std::string cert = dir_.File("cert.pem"), key = dir_.File("key.pem");
  WriteSelfSignedCert(cert, key);
  const std::string other_cert = dir_.File("other.pem"), other_key = dir_.File("other.key");
  WriteSelfSignedCert(other_cert, other_key);
  const std::string garbage = dir_.File("garbage.pem");
  std::ofstream(garbage) << "not a certificate\n";
  auto start = [&](const std::string& c, const std::string& k) {
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.access_log = false;
    o.tls_cert_file = c;
    o.tls_key_file = k;
    Server s(*g_, o);
    return s.Start();
  };
  Status missing = start(dir_.File("nope.pem"), key);
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
  EXPECT_NE(missing.message().find("nope.pem"), std::string::npos) << missing.ToString();
  Status bad_cert = start(garbage, key);
  EXPECT_TRUE(bad_cert.IsInvalidArgument()) << bad_cert.ToString();
  EXPECT_NE(bad_cert.message().find("garbage.pem"), std::string::npos) << bad_cert.ToString();
  Status bad_key = start(cert, garbage);
  EXPECT_TRUE(bad_key.IsInvalidArgument()) << bad_key.ToString();
  EXPECT_NE(bad_key.message().find("garbage.pem"), std::string::npos) << bad_key.ToString();
  Status mismatch = start(cert, other_key);
  EXPECT_TRUE(mismatch.IsInvalidArgument()) << mismatch.ToString();
  EXPECT_NE(mismatch.message().find("does not match"), std::string::npos) << mismatch.ToString();
  Status only_cert = start(cert, "");
  EXPECT_TRUE(only_cert.IsInvalidArgument()) << only_cert.ToString();
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

TEST_F(ServerTest, MetricsShowIndexGauges) {
  httplib::Client c = Client();
  json create = {
      {"name", "main.clinical.patients_idx"},
      {"endpoint_name", "vesta"},
      {"primary_key", "patient_id"},
      {"index_type", "DELTA_SYNC"},
      {"delta_sync_index_spec",
       {{"source_table", "main.clinical.patients"},
        {"pipeline_type", "TRIGGERED"},
        {"embedding_vector_columns", json::array({{{"name", "embedding"}, {"embedding_dimension", 4}}})}}}};
  auto r = c.Post("/api/2.0/vector-search/indexes", {{"Authorization", "Bearer " + admin_token_}},
                  create.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  // One more commit to the table: the TRIGGERED index is one version behind.
  {
    auto t = g_->store().Begin("admin");
    ASSERT_TRUE(t->Append(table_, {{Value::Str("P9"), Value::Int(50), Value::Vec({0, 1, 0, 0})}}).ok());
    ASSERT_TRUE(t->Commit().ok());
  }
  auto m = Get("/metrics", admin_token_);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  const std::string idx = "{index=\"main.clinical.patients_idx\"}";
  for (const std::string& line :
       {"vesta_index_rows" + idx + " 3", "vesta_index_version" + idx + " 1",
        "vesta_index_versions_behind" + idx + " 1", "vesta_index_ready" + idx + " 1"}) {
    EXPECT_NE(m->body.find(line + "\n"), std::string::npos) << "missing: " << line << "\n" << m->body;
  }
  const size_t mem = m->body.find("vesta_index_memory_bytes" + idx + " ");
  ASSERT_NE(mem, std::string::npos) << m->body;
  EXPECT_GT(std::stod(m->body.substr(mem + std::string("vesta_index_memory_bytes").size() + idx.size() + 1)),
            0.0);
}

TEST_F(ServerTest, StopCheckpointsTheAuditIntoTheStoreFile) {
  // Audited requests (a governed describe each) go to the WAL first.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Get(kTablePath, admin_token_));
  const std::string wal = path_ + "-wal";
  std::error_code ec;
  ASSERT_GT(std::filesystem::file_size(wal, ec), 0u) << ec.message();
  // The store stays open in this process (no checkpoint on close): only
  // Stop's checkpoint moves the records into the store file.
  server_->Stop();
  EXPECT_EQ(std::filesystem::file_size(wal, ec), 0u) << ec.message();
  governance::AuditQuery q;
  q.action = "table.describe";
  auto records = g_->audit().Query(q);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  EXPECT_EQ(records->size(), 3u);
  EXPECT_TRUE(g_->audit().Verify().ok());
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
  // The request time limit (Call::CheckDeadline) is the server's, not the
  // client's rate: 503 DEADLINE_EXCEEDED; other RESOURCE_EXHAUSTED stay 429.
  HttpError deadline = ErrorFromStatus(Status::ResourceExhausted(std::string(kRequestTimeLimitPrefix) +
                                                                 "200 ms exceeded during reading the table"));
  EXPECT_EQ(deadline.http_status, 503);
  EXPECT_EQ(deadline.error_code, "DEADLINE_EXCEEDED");
  EXPECT_EQ(ErrorFromStatus(Status::ResourceExhausted("disk full")).http_status, 429);
  // Invalid UTF-8 in a message still yields valid JSON.
  EXPECT_FALSE(
      json::parse(ErrorBody({400, "INVALID_ARGUMENT", "bad \xff name"}), nullptr, false).is_discarded());
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
  o = {};
  o.max_queued_requests = -1;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
  o = {};
  o.search_threads = 0;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
  o = {};
  o.request_time_limit = std::chrono::milliseconds(-1);
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
  o = {};
  o.tls_key_file = "key.pem";
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
}


// Responses are buffered per connection and sent in one piece
// (service/internal/http_stream.h): a response far over the 64 KiB buffer
// (the OpenAPI description, ~150 KB) arrives whole, twice on one keep-alive
// connection, and small ones after it still arrive.
TEST_F(ServerTest, LargeAndSmallResponsesArriveWholeOnOneConnection) {
  httplib::Client c = Client();
  c.set_keep_alive(true);
  const std::string spec(OpenApiSpec());
  ASSERT_GT(spec.size(), 64u * 1024);
  for (int i = 0; i < 2; ++i) {
    auto r = c.Get("/openapi.json");
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, spec);
    auto h = c.Get("/healthz");
    ASSERT_TRUE(h) << httplib::to_string(h.error());
    EXPECT_EQ(h->body, R"({"status":"ok"})");
  }
}

// A client sending `Expect: 100-continue` waits for the interim response
// before it sends the body: the buffered stream must send it before
// reading on (a raw socket, since httplib's client never asks).
TEST_F(ServerTest, ExpectContinueGetsTheInterimResponseBeforeTheBody) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const std::string body = R"({"name": "continued"})";
  const std::string head =
      "POST /api/2.1/unity-catalog/catalogs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer " +
      admin_token_ +
      "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  auto read_some = [&] {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  const std::string interim = read_some();  // times out (empty) if the server kept it buffered
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << interim;
  ASSERT_EQ(::send(fd, body.data(), body.size(), MSG_NOSIGNAL), static_cast<ssize_t>(body.size()));
  std::string response;
  for (std::string part = read_some(); !part.empty(); part = read_some()) response += part;
  ::close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find(R"("name":"continued")"), std::string::npos) << response;
  auto described = g_->store().ListCatalogs();
  ASSERT_TRUE(described.ok());
  EXPECT_NE(std::find(described->begin(), described->end(), "continued"), described->end());
}

}  // namespace
}  // namespace vesta::service
