// Shared fixture of the service tests: a temporary store with an admin
// (metastore admin, token admin_token_), the real server on 127.0.0.1 with
// an ephemeral port, and a small JSON client. Nothing but 127.0.0.1 is ever
// contacted.
#pragma once

#include <httplib.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "service/server.h"
#include "tests/testing/temp_dir.h"

namespace vesta::service::testing {

using json = nlohmann::json;

// A response: status, parsed JSON body (discarded if not JSON), raw body.
struct Reply {
  int status = 0;  // 0: no response (connection failed)
  json body;
  std::string raw;
  httplib::Headers headers;
};

class HttpFixture : public ::testing::Test {
 protected:
  // Creates the store and the admin; does not start the server (call
  // StartServer() after seeding data, or use it as is).
  void SetUp() override {
    path_ = dir_.File("store.vesta");
    {
      auto s = governance::Store::Open(path_, {});
      ASSERT_TRUE(s.ok()) << s.status().ToString();
    }
    auto g = access::Governed::Open(path_);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    g_ = std::move(g).value();
    auto admin = g_->principals().Bootstrap("admin");
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_token_ = admin->token;
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Starts the server (worker_threads 2 unless set, no access log, index
  // files under the temp dir).
  void StartServer(ServerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.worker_threads = o.worker_threads ? o.worker_threads : 2;
    o.access_log = false;
    if (o.index_dir.empty()) o.index_dir = dir_.File("indexes");
    server_ = std::make_unique<Server>(*g_, o);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_GT(server_->port(), 0);
  }

  // A user with a token (no grants).
  std::string NewUser(const std::string& name) {
    EXPECT_TRUE(g_->principals().CreateUser(name, "admin").ok());
    auto t = g_->principals().IssueToken(name, std::nullopt, "test", "admin");
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? t->token : "";
  }

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_connection_timeout(5);
    c.set_read_timeout(30);
    return c;
  }

  // METHOD path with an optional JSON body (sent as application/json) and
  // bearer token. GET and DELETE bodies are sent too (Mosaic's client does).
  Reply Send(const std::string& method, const std::string& path, const std::string& token,
             const std::optional<json>& body = std::nullopt,
             const std::string& content_type = "application/json") const {
    return SendRaw(method, path, token, body ? body->dump() : "", body ? content_type : "");
  }
  Reply SendRaw(const std::string& method, const std::string& path, const std::string& token,
                const std::string& raw_body, const std::string& content_type) const {
    httplib::Client c = Client();
    httplib::Request req;
    req.method = method;
    req.path = path;
    if (!token.empty()) req.headers.emplace("Authorization", "Bearer " + token);
    if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
    req.body = raw_body;
    Reply out;
    auto r = c.send(req);
    if (!r) return out;
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    out.body = json::parse(r->body, nullptr, false);
    return out;
  }
  Reply Get(const std::string& path, const std::string& token, const std::optional<json>& body = std::nullopt) const {
    return Send("GET", path, token, body);
  }
  Reply Post(const std::string& path, const std::string& token, const json& body = json::object()) const {
    return Send("POST", path, token, body);
  }
  Reply Delete(const std::string& path, const std::string& token,
               const std::optional<json>& body = std::nullopt) const {
    return Send("DELETE", path, token, body);
  }
  Reply Patch(const std::string& path, const std::string& token, const json& body) const {
    return Send("PATCH", path, token, body);
  }
  Reply Put(const std::string& path, const std::string& token, const json& body) const {
    return Send("PUT", path, token, body);
  }

  // Asserts the error shape {"error_code", "message"} with `status` and
  // `code`, and that the message contains `mentions` (if not empty).
  static json ExpectError(const Reply& r, int status, const std::string& code, const std::string& mentions = "") {
    EXPECT_EQ(r.status, status) << r.raw;
    EXPECT_TRUE(r.body.is_object()) << r.raw;
    if (!r.body.is_object()) return {};
    EXPECT_EQ(r.body.value("error_code", ""), code) << r.raw;
    EXPECT_TRUE(r.body.contains("message") && r.body["message"].is_string()) << r.raw;
    EXPECT_EQ(r.body.size(), 2u) << r.raw;
    if (!mentions.empty()) {
      EXPECT_NE(r.body.value("message", "").find(mentions), std::string::npos)
          << "message should mention '" << mentions << "': " << r.raw;
    }
    return r.body;
  }

  // The number of audit records (to check that a refused request was
  // audited: one more record after it).
  int64_t AuditCount() const {
    auto head = g_->audit().GetHead();
    return head.ok() ? head->seq : -1;
  }

  ::vesta::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<access::Governed> g_;
  std::string admin_token_;
  std::unique_ptr<Server> server_;
};

}  // namespace vesta::service::testing
