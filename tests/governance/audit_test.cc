// The hash-chained audit log: append, query, export, and Verify against
// records edited, deleted, reordered or truncated with raw SQL on the file.
#include "governance/audit.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "governance/internal/crypto.h"
#include "governance/store.h"
#include "tests/testing/temp_dir.h"

namespace vesta::governance {
namespace {

using ::vesta::testing::TempDir;
using json = nlohmann::json;

const std::string kZeros(64, '0');

// Runs `sql` on the store file through its own connection, as an attacker
// with write access to the file would.
void RawSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// The chain formula of audit.h, written out independently.
std::string ExpectedHash(const AuditRecord& r) {
  json c = {{"seq", r.seq},
            {"time", r.time.micros},
            {"principal", r.principal},
            {"action", r.action},
            {"securable", r.securable},
            {"parameters", json::parse(r.parameters_json.empty() ? "{}" : r.parameters_json)},
            {"outcome", r.outcome},
            {"message", r.message},
            {"row_count", r.row_count},
            {"keys", r.keys}};
  return internal::Sha256Hex(r.prev_hash + "\n" + c.dump());
}

AuditRecord Rec(std::string principal, std::string action, std::string securable = "main.clinical.patients",
                std::string outcome = "allowed", std::vector<std::string> keys = {"TCGA-01", "TCGA-02"}) {
  AuditRecord r;
  r.principal = std::move(principal);
  r.action = std::move(action);
  r.securable = std::move(securable);
  r.parameters_json = R"({"k": 10, "filter": "age >= 40"})";
  r.outcome = std::move(outcome);
  r.row_count = static_cast<int64_t>(keys.size());
  r.keys = std::move(keys);
  return r;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("store.vesta");
    auto store = Store::Open(path_, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    Reopen();
  }

  void Reopen() {
    log_.reset();
    auto log = AuditLog::Open(path_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }

  void AppendN(int n, const std::string& principal = "alice") {
    for (int i = 0; i < n; ++i) {
      auto r = log_->Append(Rec(principal, "table.read"));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }

  std::vector<int64_t> Seqs(const AuditQuery& q) {
    auto r = log_->Query(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<int64_t> out;
    if (r.ok())
      for (const auto& rec : *r) out.push_back(rec.seq);
    return out;
  }

  // Verify's status, with the out-parameters.
  Status VerifyLog(int64_t* checked = nullptr, int64_t* bad = nullptr) { return log_->Verify(checked, bad); }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditTest, AppendFillsSeqTimeAndTheDocumentedChainHash) {
  AuditRecord in = Rec("alice", "index.query", "main.imaging.radiomics_idx");
  in.parameters_json = R"({ "k" : 10,  "filter": "a = 1" })";
  in.time = Timestamp{1000};
  in.seq = 99;         // ignored
  in.hash = "forged";  // ignored
  auto first = log_->Append(in);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->seq, 1);
  EXPECT_EQ(first->time.micros, 1000);
  EXPECT_EQ(first->prev_hash, kZeros);
  EXPECT_EQ(first->parameters_json, R"({"filter":"a = 1","k":10})");
  const std::string canonical =
      R"({"action":"index.query","keys":["TCGA-01","TCGA-02"],"message":"","outcome":"allowed",)"
      R"("parameters":{"filter":"a = 1","k":10},"principal":"alice","row_count":2,)"
      R"("securable":"main.imaging.radiomics_idx","seq":1,"time":1000})";
  EXPECT_EQ(first->hash, internal::Sha256Hex(kZeros + "\n" + canonical));

  auto second = log_->Append(Rec("bob", "auth.login", ""));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->seq, 2);
  EXPECT_EQ(second->prev_hash, first->hash);
  EXPECT_GT(second->time.micros, 0);  // unset: now
  EXPECT_EQ(second->hash, ExpectedHash(*second));

  auto head = log_->GetHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 2);
  EXPECT_EQ(head->hash, second->hash);
}

TEST_F(AuditTest, ParameterWhitespaceAndKeyOrderDoNotChangeTheHash) {
  TempDir other_dir;
  std::string other_path = other_dir.File("other.vesta");
  ASSERT_TRUE(Store::Open(other_path, {}).ok());
  auto other = AuditLog::Open(other_path);
  ASSERT_TRUE(other.ok());
  AuditRecord a = Rec("alice", "table.read");
  a.time = Timestamp{42};
  AuditRecord b = a;
  a.parameters_json = R"({"k":10,"versions":{"main.t":3}})";
  b.parameters_json = "{\n  \"versions\" : { \"main.t\" : 3 },\n  \"k\" : 10\n}";
  auto ra = log_->Append(a);
  auto rb = (*other)->Append(b);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(ra->hash, rb->hash);
  EXPECT_EQ(ra->parameters_json, rb->parameters_json);
}

TEST_F(AuditTest, InvalidRecordIsRejectedAndNothingAppended) {
  for (const char* params : {"{not json", "[1, 2]", "\"text\"", "{\"a\": 1} trailing"}) {
    AuditRecord r = Rec("alice", "table.read");
    r.parameters_json = params;
    auto res = log_->Append(r);
    EXPECT_TRUE(res.status().IsInvalidArgument()) << params << ": " << res.status().ToString();
  }
  AuditRecord bad_outcome = Rec("alice", "table.read", "", "maybe");
  EXPECT_TRUE(log_->Append(bad_outcome).status().IsInvalidArgument());
  EXPECT_TRUE(log_->Append(Rec("alice", "")).status().IsInvalidArgument());
  AuditRecord bad_utf8 = Rec("alice", "table.read");
  bad_utf8.keys = {"ok", std::string("\xff\xfe", 2)};
  EXPECT_TRUE(log_->Append(bad_utf8).status().IsInvalidArgument());

  EXPECT_TRUE(Seqs({}).empty());
  EXPECT_EQ(log_->GetHead()->seq, 0);
  AuditRecord empty_params = Rec("alice", "auth.login", "");
  empty_params.parameters_json = "";
  auto ok = log_->Append(empty_params);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->seq, 1);
  EXPECT_EQ(ok->parameters_json, "{}");
  EXPECT_TRUE(VerifyLog().ok());
}

TEST_F(AuditTest, QueryFiltersByPrincipalActionSecurableOutcomeAndTime) {
  struct Spec {
    const char* principal;
    const char* action;
    const char* securable;
    const char* outcome;
    int64_t time;
  };
  const Spec rows[] = {
      {"alice", "table.read", "main.clinical.patients", "allowed", 100},
      {"alice", "index.query", "main.imaging.idx", "allowed", 200},
      {"bob", "index.query", "main.imaging.idx", "denied", 300},
      {"bob", "index.scan", "main.imaging.idx", "allowed", 400},
      {"carol", "indexes.list", "", "allowed", 500},
      {"alice", "grant.update", "main.clinical", "error", 600},
      {"bob", "table.read", "main.clinical.patients", "denied", 700},
  };
  for (const Spec& row : rows) {
    AuditRecord r = Rec(row.principal, row.action, row.securable, row.outcome);
    r.time = Timestamp{row.time};
    ASSERT_TRUE(log_->Append(r).ok());
  }
  using V = std::vector<int64_t>;
  EXPECT_EQ(Seqs({.principal = "alice"}), (V{6, 2, 1}));
  EXPECT_EQ(Seqs({.action = "index.query"}), (V{3, 2}));
  EXPECT_EQ(Seqs({.action_prefix = "index."}), (V{4, 3, 2}));  // not "indexes.list"
  EXPECT_EQ(Seqs({.action_prefix = "index%"}), V{});           // a literal prefix, not a LIKE pattern
  EXPECT_EQ(Seqs({.action_prefix = "ind_x."}), V{});
  EXPECT_EQ(Seqs({.securable = "main.clinical.patients"}), (V{7, 1}));
  EXPECT_EQ(Seqs({.outcome = "denied"}), (V{7, 3}));
  EXPECT_EQ(Seqs({.principal = "bob", .action_prefix = "index.", .outcome = "allowed"}), (V{4}));
  EXPECT_EQ(Seqs({.from_time = Timestamp{200}, .to_time = Timestamp{500}}), (V{4, 3, 2}));  // [from, to)
  EXPECT_EQ(Seqs({.principal = "nobody"}), V{});

  auto recs = log_->Query({.securable = "main.imaging.idx", .outcome = "denied"});
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  const AuditRecord& r = (*recs)[0];
  EXPECT_EQ(r.principal, "bob");
  EXPECT_EQ(r.time.micros, 300);
  EXPECT_EQ(r.keys, (std::vector<std::string>{"TCGA-01", "TCGA-02"}));
  EXPECT_EQ(r.row_count, 2);
  EXPECT_EQ(r.parameters_json, R"({"filter":"age >= 40","k":10})");
  EXPECT_EQ(r.hash, ExpectedHash(r));
}

TEST_F(AuditTest, QueryPagesNewestAndOldestFirstWithinTheLimit) {
  AppendN(25);
  using V = std::vector<int64_t>;
  EXPECT_EQ(Seqs({.limit = 10}), (V{25, 24, 23, 22, 21, 20, 19, 18, 17, 16}));
  EXPECT_EQ(Seqs({.to_seq = 16, .limit = 10}), (V{15, 14, 13, 12, 11, 10, 9, 8, 7, 6}));
  EXPECT_EQ(Seqs({.to_seq = 6, .limit = 10}), (V{5, 4, 3, 2, 1}));
  EXPECT_EQ(Seqs({.limit = 3, .newest_first = false}), (V{1, 2, 3}));
  EXPECT_EQ(Seqs({.from_seq = 4, .limit = 3, .newest_first = false}), (V{4, 5, 6}));
  EXPECT_EQ(Seqs({.from_seq = 10, .to_seq = 13, .newest_first = false}), (V{10, 11, 12}));
  EXPECT_EQ(Seqs({}).size(), 25u);  // default limit 1000

  EXPECT_TRUE(log_->Query({.limit = 0}).status().IsInvalidArgument());
  EXPECT_TRUE(log_->Query({.limit = AuditQuery::kMaxLimit + 1}).status().IsInvalidArgument());
  EXPECT_TRUE(log_->Query({.limit = AuditQuery::kMaxLimit}).ok());
  EXPECT_TRUE(log_->Query({.from_seq = 5, .to_seq = 4}).status().IsInvalidArgument());
  EXPECT_TRUE(log_->Query({.from_time = Timestamp{5}, .to_time = Timestamp{4}}).status().IsInvalidArgument());
}

TEST_F(AuditTest, VerifyAcceptsAThousandRecords) {
  for (int i = 0; i < 1000; ++i) {
    AuditRecord r = Rec("user" + std::to_string(i % 7), i % 2 ? "index.query" : "table.read");
    r.keys = {std::to_string(i), "k" + std::to_string(i * 31)};
    r.message = i % 5 == 0 ? "row filter applied: site = 'A'" : "";
    ASSERT_TRUE(log_->Append(r).ok());
  }
  int64_t checked = -1, bad = 0;
  Status st = VerifyLog(&checked, &bad);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(checked, 1000);
  EXPECT_EQ(bad, -1);
}

TEST_F(AuditTest, VerifyOfAnEmptyLogIsOk) {
  int64_t checked = -1;
  EXPECT_TRUE(VerifyLog(&checked).ok());
  EXPECT_EQ(checked, 0);
}

TEST_F(AuditTest, VerifyDetectsAnEditedField) {
  AppendN(30);
  RawSql(path_, "UPDATE gov_audit SET principal = 'mallory' WHERE seq = 17");
  int64_t checked = 0, bad = 0;
  Status st = VerifyLog(&checked, &bad);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_EQ(st.message(), "audit record 17: hash mismatch: the record was edited");
  EXPECT_EQ(bad, 17);
  EXPECT_EQ(checked, 16);
}

TEST_F(AuditTest, VerifyDetectsAnEditedTimeOrRowCount) {
  AppendN(10);
  RawSql(path_, "UPDATE gov_audit SET row_count = 0 WHERE seq = 4");
  EXPECT_EQ(VerifyLog().message(), "audit record 4: hash mismatch: the record was edited");
  RawSql(path_, "UPDATE gov_audit SET ts_us = ts_us + 1 WHERE seq = 2");
  EXPECT_EQ(VerifyLog().message(), "audit record 2: hash mismatch: the record was edited");
}

TEST_F(AuditTest, VerifyDetectsAnEditedKeysList) {
  AppendN(10);
  RawSql(path_, R"(UPDATE gov_audit SET keys = '["TCGA-01"]' WHERE seq = 3)");
  int64_t bad = 0;
  EXPECT_EQ(VerifyLog(nullptr, &bad).message(), "audit record 3: hash mismatch: the record was edited");
  EXPECT_EQ(bad, 3);
  RawSql(path_, R"(UPDATE gov_audit SET keys = 'not json' WHERE seq = 2)");
  EXPECT_EQ(VerifyLog().message(),
            "audit record 2: stored keys are not a JSON array of strings: the record was edited");
}

TEST_F(AuditTest, VerifyDetectsADeletedRecord) {
  AppendN(10);
  RawSql(path_, "DELETE FROM gov_audit WHERE seq = 5");
  int64_t checked = 0, bad = 0;
  Status st = VerifyLog(&checked, &bad);
  EXPECT_EQ(st.message(), "audit record 5 is missing (records 4 and 6 are adjacent): a record was deleted");
  EXPECT_EQ(bad, 5);
  EXPECT_EQ(checked, 4);
  RawSql(path_, "DELETE FROM gov_audit WHERE seq IN (6, 7)");
  EXPECT_EQ(VerifyLog().message(),
            "audit records 5 to 7 are missing (records 4 and 8 are adjacent): records were deleted");
  RawSql(path_, "DELETE FROM gov_audit WHERE seq = 1");
  EXPECT_EQ(VerifyLog().message(),
            "audit record 1 is missing (the log starts at record 2): a record was deleted");
}

TEST_F(AuditTest, VerifyDetectsSwappedRecords) {
  AppendN(12);
  RawSql(path_,
         "UPDATE gov_audit SET seq = -9 WHERE seq = 9;"
         "UPDATE gov_audit SET seq = 9 WHERE seq = 8;"
         "UPDATE gov_audit SET seq = 8 WHERE seq = -9;");
  int64_t bad = 0;
  Status st = VerifyLog(nullptr, &bad);
  EXPECT_EQ(st.message(),
            "audit record 8: prev_hash does not match record 7: records were reordered or replaced");
  EXPECT_EQ(bad, 8);
}

TEST_F(AuditTest, VerifyDetectsATruncatedTailAndKeepsTheGapAfterNewAppends) {
  AppendN(40);
  RawSql(path_, "DELETE FROM gov_audit WHERE seq > 37");
  int64_t checked = 0, bad = 0;
  Status st = VerifyLog(&checked, &bad);
  EXPECT_EQ(
      st.message(),
      "audit log truncated: the head is record 40 but the last record is 37: records 38 to 40 were deleted");
  EXPECT_EQ(checked, 37);
  EXPECT_EQ(bad, 38);

  // Appending after the truncation continues from the head: the gap stays.
  auto next = log_->Append(Rec("alice", "table.read"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 41);
  EXPECT_EQ(VerifyLog().message(),
            "audit records 38 to 40 are missing (records 37 and 41 are adjacent): records were deleted");
}

TEST_F(AuditTest, VerifyDetectsADeletedOrReplacedHead) {
  AppendN(5);
  RawSql(path_, "UPDATE gov_audit_head SET hash = '" + kZeros + "'");
  EXPECT_EQ(VerifyLog().message(),
            "audit head hash does not match record 5: the head or the last record was replaced");
  RawSql(path_, "DELETE FROM gov_audit_head");
  EXPECT_EQ(VerifyLog().message(),
            "audit head is missing although the log has records up to 5: the head row was deleted");
}

// The documented limit: rewriting the chain from an edited record on, with
// the head, verifies; an anchor kept outside the store catches it.
TEST_F(AuditTest, AFullyRewrittenChainNeedsAnExternalAnchor) {
  AppendN(8);
  auto anchor = log_->GetHead();
  ASSERT_TRUE(anchor.ok());
  EXPECT_TRUE(log_->CheckAnchor(*anchor).ok());

  auto all = log_->Query({.newest_first = false});
  ASSERT_TRUE(all.ok());
  std::string prev = kZeros;
  std::string sql;
  for (AuditRecord r : *all) {
    if (r.seq == 3) r.principal = "mallory";
    r.prev_hash = prev;
    r.hash = ExpectedHash(r);
    prev = r.hash;
    sql += "UPDATE gov_audit SET principal = '" + r.principal + "', prev_hash = '" + r.prev_hash +
           "', hash = '" + r.hash + "' WHERE seq = " + std::to_string(r.seq) + ";";
  }
  sql += "UPDATE gov_audit_head SET hash = '" + prev + "';";
  RawSql(path_, sql);

  EXPECT_TRUE(VerifyLog().ok());  // undetectable from inside the store
  Status st = log_->CheckAnchor(*anchor);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_EQ(st.message(),
            "audit record 8: hash differs from the anchor: the log was rewritten since the anchor was taken");
  RawSql(path_, "DELETE FROM gov_audit WHERE seq = 8");
  EXPECT_EQ(log_->CheckAnchor(*anchor).message(),
            "audit record 8 (anchored) is missing: the log was truncated or rewritten");
}

TEST_F(AuditTest, ConcurrentAppendsFromFourThreadsNeverFork) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        AuditRecord r = Rec("thread" + std::to_string(t), "index.query");
        r.keys = {std::to_string(t * 1000 + i)};
        if (!log_->Append(r).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  int64_t checked = 0;
  Status st = VerifyLog(&checked);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(checked, 400);
  EXPECT_EQ(Seqs({.principal = "thread2"}).size(), 100u);
  EXPECT_EQ(log_->GetHead()->seq, 400);
}

// Two AuditLog objects stand in for two processes: their appends are
// serialised by SQLite's write lock, not by the in-process mutex.
TEST_F(AuditTest, ConcurrentAppendsThroughTwoConnectionsNeverFork) {
  auto other = AuditLog::Open(path_);
  ASSERT_TRUE(other.ok());
  std::atomic<int> failures{0};
  auto work = [&](AuditLog* log, const std::string& who) {
    for (int i = 0; i < 50; ++i) {
      auto r = log->Append(Rec(who, "table.read"));
      if (!r.ok()) ++failures;
    }
  };
  std::thread a(work, log_.get(), "a");
  std::thread b(work, other->get(), "b");
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  int64_t checked = 0;
  Status st = VerifyLog(&checked);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(checked, 100);
}

TEST_F(AuditTest, ExportedJsonLinesParseBackAndMatch) {
  for (int i = 0; i < 10; ++i) {
    AuditRecord r =
        Rec(i % 2 ? "alice" : "bob", "index.query", "main.imaging.idx", i == 3 ? "denied" : "allowed",
            {"TCGA-" + std::to_string(i), "line\nbreak \"quoted\""});
    r.message = i == 3 ? "no SELECT on main.imaging.idx" : "";
    r.parameters_json =
        R"({"k": )" + std::to_string(i + 1) + R"(, "filter": "site = 'A'", "versions": {"t": 3}})";
    ASSERT_TRUE(log_->Append(r).ok());
  }
  auto records = log_->Query({.newest_first = false});
  ASSERT_TRUE(records.ok());

  std::ostringstream out;
  ASSERT_TRUE(log_->ExportJsonLines({.limit = 1, .newest_first = false}, out).ok());  // the limit is ignored
  std::istringstream in(out.str());
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(n, records->size());
    const AuditRecord& r = (*records)[n++];
    json j = json::parse(line);
    EXPECT_EQ(j.size(), 13u);
    EXPECT_EQ(j["seq"], r.seq);
    EXPECT_EQ(j["time_us"], r.time.micros);
    EXPECT_EQ(j["time"], FormatTimestamp(r.time));
    EXPECT_EQ(j["principal"], r.principal);
    EXPECT_EQ(j["action"], r.action);
    EXPECT_EQ(j["securable"], r.securable);
    EXPECT_EQ(j["parameters"], json::parse(r.parameters_json));
    EXPECT_EQ(j["outcome"], r.outcome);
    EXPECT_EQ(j["message"], r.message);
    EXPECT_EQ(j["row_count"], r.row_count);
    EXPECT_EQ(j["keys"].get<std::vector<std::string>>(), r.keys);
    EXPECT_EQ(j["prev_hash"], r.prev_hash);
    EXPECT_EQ(j["hash"], r.hash);
    // The export carries everything needed to recompute the chain.
    AuditRecord back = r;
    back.parameters_json = j["parameters"].dump();
    EXPECT_EQ(ExpectedHash(back), j["hash"].get<std::string>());
  }
  EXPECT_EQ(n, 10u);

  std::ostringstream denied;
  ASSERT_TRUE(log_->ExportJsonLines({.outcome = "denied"}, denied).ok());
  json d = json::parse(denied.str());
  EXPECT_EQ(d["seq"], 4);
  EXPECT_EQ(d["message"], "no SELECT on main.imaging.idx");
}

TEST_F(AuditTest, RecordsPersistAcrossReopen) {
  AppendN(5);
  auto before = log_->GetHead();
  ASSERT_TRUE(before.ok());
  store_.reset();
  Reopen();
  EXPECT_TRUE(VerifyLog().ok());
  auto next = log_->Append(Rec("alice", "table.read"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 6);
  EXPECT_EQ(next->prev_hash, before->hash);
  int64_t checked = 0;
  EXPECT_TRUE(VerifyLog(&checked).ok());
  EXPECT_EQ(checked, 6);
}

TEST_F(AuditTest, OpenRefusesAMissingFileOrANonStore) {
  EXPECT_TRUE(AuditLog::Open(dir_.File("absent.vesta")).status().IsNotFound());
  std::string other = dir_.File("other.db");
  RawSql(other, "CREATE TABLE t(x)");
  EXPECT_TRUE(AuditLog::Open(other).status().IsFailedPrecondition());
}

}  // namespace
}  // namespace vesta::governance
