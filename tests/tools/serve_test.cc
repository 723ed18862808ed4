// `vesta serve` end to end: the built binary (VESTA_CLI) runs as a
// subprocess on 127.0.0.1 with an ephemeral port (--listen 127.0.0.1:0; the
// port is read from its "serving ... on http://HOST:PORT" line on stderr)
// against a store in a temporary folder. Nothing but 127.0.0.1 is contacted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "governance/audit.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/tls_cert.h"

namespace vesta::tools {
namespace {

using ::vesta::testing::WriteSelfSignedCert;

using Clock = std::chrono::steady_clock;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.File("store.vesta");
    ASSERT_EQ(Run({"init"}), 0) << err_;
    ASSERT_EQ(Run({"schema", "create", "main.lab"}), 0) << err_;
    ASSERT_EQ(Run({"table", "create", "main.lab.runs", "--primary-key", "id", "--column", "id BIGINT"}), 0)
        << err_;
    ASSERT_EQ(Run({"admin", "bootstrap", "admin"}), 0) << err_;
    // "token <id>: vst_..."
    const size_t at = out_.find("vst_");
    ASSERT_NE(at, std::string::npos) << out_;
    token_ = out_.substr(at, out_.find_first_of(" \n", at) - at);
  }

  void TearDown() override {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGKILL);
      waitpid(server_pid_, nullptr, 0);
    }
  }

  // Forks `vesta --store <store> --as tester <args...>` with stdout and
  // stderr in files; returns the pid.
  pid_t Spawn(const std::vector<std::string>& args, const std::string& out_path,
              const std::string& err_path) {
    std::vector<std::string> argv = {VESTA_CLI, "--store", store_, "--as", "tester"};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = ::vesta::testing::SpawnToFiles(argv, out_path, err_path);
    return pid;
  }

  // Runs a command to completion; returns its exit code (out_, err_ set).
  int Run(const std::vector<std::string>& args) {
    const std::string o = dir_.File("run.out"), e = dir_.File("run.err");
    const pid_t pid = Spawn(args, o, e);
    int status = 0;
    waitpid(pid, &status, 0);
    out_ = ReadAll(o);
    err_ = ReadAll(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Starts `vesta serve --listen 127.0.0.1:0 <extra...>` and waits (at most
  // 30 s) for its "serving ... on SCHEME://127.0.0.1:PORT" line; returns
  // the port, or 0 if the server exited or did not start.
  int StartServe(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    serve_err_ = dir_.File("serve.err");
    server_pid_ = Spawn(args, dir_.File("serve.out"), serve_err_);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      const std::string err = ReadAll(serve_err_);
      const size_t at = err.find("://127.0.0.1:");
      if (at != std::string::npos && err.find(" (SIGINT", at) != std::string::npos) {
        return std::stoi(err.substr(at + std::string("://127.0.0.1:").size()));
      }
      int status = 0;
      if (waitpid(server_pid_, &status, WNOHANG) == server_pid_) {
        server_pid_ = -1;
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }

  // Waits (at most `timeout`) for the server to exit; returns its exit code,
  // -1 if killed by a signal, -2 on timeout.
  int WaitExit(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(server_pid_, &status, WNOHANG) == server_pid_) {
        server_pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -2;
  }

  testing::TempDir dir_;
  std::string store_;
  std::string token_;
  std::string out_, err_;
  std::string serve_err_;
  pid_t server_pid_ = -1;
};

// Connects a TCP socket to 127.0.0.1:port (-1 on failure).
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string ReceiveUntilClosed(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST_F(ServeTest, SigtermFinishesTheInFlightRequestExitsZeroAndTheAuditIsInTheStoreFile) {
  const int port = StartServe({"--threads", "2"});
  ASSERT_GT(port, 0) << ReadAll(serve_err_);
  {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(5);
    auto h = c.Get("/healthz");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->status, 200);
  }
  // A request whose head is half sent: a worker is reading it when SIGTERM
  // arrives.
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /api/2.1/unity-catalog/tables/main.lab.runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(kill(server_pid_, SIGTERM), 0);
  // Wait until the server is stopping (it no longer accepts) ...
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (ReadAll(serve_err_).find("vesta: stopping") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(ReadAll(serve_err_).find("vesta: stopping"), std::string::npos) << ReadAll(serve_err_);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // ... then finish the request: it is still answered.
  ASSERT_TRUE(SendAll(fd, "Authorization: Bearer " + token_ + "\r\nConnection: close\r\n\r\n"));
  const std::string response = ReceiveUntilClosed(fd);
  close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find("\"full_name\":\"main.lab.runs\""), std::string::npos) << response;
  EXPECT_EQ(WaitExit(std::chrono::seconds(20)), 0) << ReadAll(serve_err_);
  const std::string err = ReadAll(serve_err_);
  EXPECT_NE(err.find("vesta: stopped"), std::string::npos) << err;
  EXPECT_EQ(err.find("audit_checkpoint"), std::string::npos) << err;  // logged only on failure
  // The WAL was checkpointed into the store file (and truncated).
  struct stat st {};
  if (stat((store_ + "-wal").c_str(), &st) == 0) {
    EXPECT_EQ(st.st_size, 0) << "WAL not checkpointed";
  }
  // The request's audit record is in the store.
  auto audit = governance::AuditLog::Open(store_);
  ASSERT_TRUE(audit.ok()) << audit.status().ToString();
  governance::AuditQuery q;
  q.action = "table.describe";
  q.securable = "main.lab.runs";
  auto records = (*audit)->Query(q);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].principal, "admin");
  EXPECT_EQ((*records)[0].outcome, "allowed");
  EXPECT_TRUE((*audit)->Verify().ok());
}

TEST_F(ServeTest, BadOptionValuesAreUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"serve", "--threads", "-1"},
                                             {"serve", "--threads", "many"},
                                             {"serve", "--queue", "-5"},
                                             {"serve", "--request-timeout-ms", "-1"},
                                             {"serve", "--max-body-bytes", "0"},
                                             {"serve", "--search-threads", "0"},
                                             {"serve", "--tls-cert", "cert.pem"},
                                             {"serve", "--tls-key", "key.pem"}}) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(Run(args), 2) << joined << "\n" << err_;
    EXPECT_NE(err_.find("USAGE"), std::string::npos) << joined << "\n" << err_;
  }
  EXPECT_EQ(Run({"serve", "--listen", "127.0.0.1:99999"}), 4) << err_;
  EXPECT_NE(err_.find("--listen"), std::string::npos) << err_;
}

TEST_F(ServeTest, MissingTlsFileIsNamed) {
  const std::string cert = dir_.File("missing-cert.pem");
  const std::string key = dir_.File("missing-key.pem");
  EXPECT_EQ(Run({"serve", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key}), 3) << err_;
  EXPECT_NE(err_.find("missing-cert.pem"), std::string::npos) << err_;
}

TEST_F(ServeTest, ServesHttpsWithTlsCertAndKey) {
  const std::string cert = dir_.File("cert.pem"), key = dir_.File("key.pem");
  WriteSelfSignedCert(cert, key);
  const int port = StartServe({"--tls-cert", cert, "--tls-key", key, "--search-threads", "1", "--queue", "8",
                               "--request-timeout-ms", "5000", "--max-body-bytes", "4096"});
  ASSERT_GT(port, 0) << ReadAll(serve_err_);
  EXPECT_NE(ReadAll(serve_err_).find("on https://127.0.0.1:"), std::string::npos) << ReadAll(serve_err_);
  httplib::SSLClient tls("127.0.0.1", port);
  tls.enable_server_certificate_verification(false);
  tls.set_connection_timeout(5);
  auto r = tls.Get("/healthz");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  // The settings are logged at start.
  const std::string err = ReadAll(serve_err_);
  EXPECT_NE(err.find("\"event\":\"server_start\""), std::string::npos) << err;
  EXPECT_NE(err.find("\"max_queued_requests\":8"), std::string::npos) << err;
  EXPECT_NE(err.find("\"search_threads\":1"), std::string::npos) << err;
  EXPECT_NE(err.find("\"openmp_threads\":1"), std::string::npos) << err;
  ASSERT_EQ(kill(server_pid_, SIGTERM), 0);
  EXPECT_EQ(WaitExit(std::chrono::seconds(20)), 0) << ReadAll(serve_err_);
}

// `vesta similar` end to end: the demo cohort, `vesta serve`, the quickstart's
// index, then the CLI as a client of the server.
TEST_F(ServeTest, SimilarPrintsCasesJoinsSummaryAndVersionsFromTheRunningServer) {
  ASSERT_EQ(Run({"demo", "load", "--data", std::string(VESTA_SOURCE_DIR) + "/data"}), 0) << err_;
  const int port = StartServe({});
  ASSERT_GT(port, 0) << ReadAll(serve_err_);
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60);
  const std::string create = R"({"name": "main.imaging.radiomics_idx", "endpoint_name": "vesta",
      "primary_key": "study_id", "index_type": "DELTA_SYNC", "delta_sync_index_spec": {
      "source_table": "main.imaging.radiomics", "pipeline_type": "TRIGGERED",
      "embedding_vector_columns": [{"name": "features", "embedding_dimension": 724}],
      "columns_to_sync": ["patient_id", "cohort", "tissue_source_site"]}})";
  auto r = c.Post("/api/2.0/vector-search/indexes", {{"Authorization", "Bearer " + token_}}, create,
                  "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string token_file = dir_.File("token");
  {
    std::ofstream t(token_file);
    t << token_ << "\n";
  }
  const std::string server = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_EQ(Run({"similar", "--like", "TCGA-06-0139", "--filter", "cohort = 'GBM'", "--clinical-filter",
                 "age_at_diagnosis BETWEEN 40 AND 70", "--join", "clinical,mutations", "--genes",
                 "IDH1,EGFR,TP53", "--server", server, "--token-file", token_file}),
            0)
      << err_;
  EXPECT_NE(out_.find("Similar cases (10):"), std::string::npos) << out_;
  EXPECT_EQ(out_.find("TCGA-06-0139"), std::string::npos) << "the example itself is excluded\n" << out_;
  EXPECT_NE(out_.find("age_at_diagnosis"), std::string::npos) << out_;
  EXPECT_NE(out_.find("IDH1 mutated"), std::string::npos) << out_;
  EXPECT_NE(out_.find("log-rank p"), std::string::npos) << out_;
  EXPECT_NE(out_.find("main.clinical.patients @"), std::string::npos) << out_;
  // --json: the server's answer.
  ASSERT_EQ(Run({"similar", "--like", "TCGA-06-0139", "--json", "--no-summary", "--server", server,
                 "--token-file", token_file}),
            0)
      << err_;
  auto j = nlohmann::json::parse(out_, nullptr, false);
  ASSERT_TRUE(j.is_object()) << out_;
  EXPECT_EQ(j["result"]["row_count"], 10);
  EXPECT_TRUE(j["summary"].is_null());
  // Errors: an unknown patient (3, not found), a server that is not local (4), no token (4).
  EXPECT_EQ(Run({"similar", "--like", "TCGA-XX-0000", "--server", server, "--token-file", token_file}), 3)
      << err_;
  EXPECT_EQ(Run({"similar", "--like", "TCGA-06-0139", "--server", "http://example.com:80", "--token-file",
                 token_file}),
            4)
      << err_;
  EXPECT_NE(err_.find("--server"), std::string::npos) << err_;
}

}  // namespace
}  // namespace vesta::tools
