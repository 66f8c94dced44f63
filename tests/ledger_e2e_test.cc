// `marketctl ledger verify` against a real marketd: an untouched ledger
// verifies from its tlog tiles (and per record), later growth is checked for
// consistency, the tiles carry their cache headers, and changing any byte of
// any stored leaf, record content, salt, subtree hash or checkpoint in a copy
// of credit.db makes verification fail. A kill -9 while concurrent appends
// are being group-committed loses no acknowledged record and leaves a ledger
// that verifies.
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/process_helpers.h"

namespace market {
namespace {

using ::market::testing::Child;
using ::market::testing::ReadWholeFile;
using ::market::testing::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

class LedgerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = market::testing::MakeTempDir("ledger"); }
  void TearDown() override {
    if (marketd_) marketd_->Stop(SIGKILL, 5);
    std::filesystem::remove_all(dir_);
  }
  // Starts marketd on a kernel-chosen port and reads it from its log.
  void Start(const std::string& data_dir) {
    marketd_ = std::make_unique<Child>(
        std::vector<std::string>{MARKETD_BIN, "--data-dir", data_dir, "--listen",
                                 market::testing::kAnyLoopbackPort, "--http-listen",
                                 market::testing::kAnyLoopbackPort},
        dir_ + "/marketd.out", dir_ + "/marketd.err");
    auto ports = market::testing::WaitForServing(*marketd_, dir_ + "/marketd.err", 60);
    ASSERT_TRUE(ports.has_value()) << ReadWholeFile(dir_ + "/marketd.err");
    port_ = ports->grpc;
    http_port_ = ports->http;
  }
  void Stop() {
    ASSERT_EQ(marketd_->Stop(SIGTERM, 20), 0);
    marketd_.reset();
  }
  // The first login of the bootstrap supervisor, which must change its password.
  void LoginBootstrapSupervisor() {
    RunResult r = Ctl({"login", "--bootstrap", dir_ + "/var/bootstrap-admin.json",
                       "--new-password-stdin"},
                      "supervisor-password-1\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult Ctl(std::vector<std::string> args, const std::string& stdin_text = "") {
    std::vector<std::string> argv = {MARKETCTL_BIN, "--server",
                                     absl::StrCat("127.0.0.1:", port_), "--credentials",
                                     dir_ + "/credentials.json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return market::testing::Run(argv, stdin_text);
  }
  void RecordCommendations(int from, int to) {
    for (int i = from; i < to; ++i) {
      RunResult r = Ctl({"credit", "record", "--subject", absl::StrCat("seller-", i % 3),
                         "--type", "COMMENDATION", "--reason", "prompt after-sales service",
                         "--event-id", absl::StrCat("commend-", i)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  // Verifies with a state file of its own (first verification: trust on first use).
  RunResult Verify(const std::string& state, bool per_record = false) {
    std::vector<std::string> args = {"ledger", "verify", "--state", dir_ + "/" + state,
                                     "--http-server", absl::StrCat("127.0.0.1:", http_port_)};
    if (per_record) args.push_back("--per-record");
    return Ctl(args);
  }

  std::string dir_;
  int port_ = 0;
  int http_port_ = 0;
  std::unique_ptr<Child> marketd_;
};

// Flips one bit of one column of the row whose `key_expr` equals `key` in a
// copy of credit.db (the value keeps its type and length).
void FlipByte(const std::string& db_path, const std::string& table, const std::string& column,
              int64_t key, const std::string& key_expr = "rowid") {
  const int64_t rowid = key;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::string select =
      absl::StrCat("SELECT ", column, " FROM ", table, " WHERE ", key_expr, " = ", rowid);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, select.c_str(), -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  std::string value(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                    sqlite3_column_bytes(st, 0));
  sqlite3_finalize(st);
  ASSERT_FALSE(value.empty());
  value[value.size() / 2] ^= 0x01;
  std::string update =
      absl::StrCat("UPDATE ", table, " SET ", column, " = ? WHERE ", key_expr, " = ", rowid);
  ASSERT_EQ(sqlite3_prepare_v2(db, update.c_str(), -1, &st, nullptr), SQLITE_OK);
  if (column == "note") {
    sqlite3_bind_text(st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  } else {
    sqlite3_bind_blob(st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
}

// Calls `row` for each row of `query` on the database at `db_path`.
void ForEachRow(const std::string& db_path, const std::string& query,
                const std::function<void(sqlite3_stmt*)>& row) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) row(st);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

std::vector<int64_t> RowIds(const std::string& db_path, const std::string& query) {
  std::vector<int64_t> out;
  ForEachRow(db_path, query, [&](sqlite3_stmt* st) { out.push_back(sqlite3_column_int64(st, 0)); });
  return out;
}

TEST_F(LedgerE2eTest, UntouchedLedgerVerifiesAndGrowthIsConsistent) {
  Start(dir_ + "/var");
  ASSERT_NO_FATAL_FAILURE(LoginBootstrapSupervisor());
  RecordCommendations(0, 5);
  RunResult first = Verify("state.json");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("ledger verified: 5 records"));
  RecordCommendations(5, 12);
  RunResult second = Verify("state.json");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("12 records"));
  EXPECT_THAT(second.out, HasSubstr("previous verification (5 records)"));
  EXPECT_THAT(second.out, HasSubstr("tile hashes checked"));
  RunResult per_record = Verify("state-per-record.json", /*per_record=*/true);
  EXPECT_EQ(per_record.exit_code, 0) << per_record.err;
  RunResult proof = Ctl({"ledger", "proof", "--index", "3"});
  EXPECT_EQ(proof.exit_code, 0) << proof.err;
  EXPECT_THAT(proof.out, HasSubstr("verified with 4 hashes"));
}

TEST_F(LedgerE2eTest, ServesTilesWithCacheHeaders) {
  Start(dir_ + "/var");
  ASSERT_NO_FATAL_FAILURE(LoginBootstrapSupervisor());
  RecordCommendations(0, 3);
  httplib::Client http("127.0.0.1", http_port_);
  auto checkpoint = http.Get("/checkpoint");
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->status, 200);
  EXPECT_THAT(checkpoint->body, HasSubstr("second-hand-market/ledgers/main/v2\n3\n"));
  auto partial = http.Get("/tile/0/000.p/3");
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->status, 200);
  EXPECT_EQ(partial->body.size(), 3u * 32);
  EXPECT_EQ(partial->get_header_value("Cache-Control"), "public, max-age=10");
  auto entries = http.Get("/tile/entries/000.p/3");
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->status, 200);
  EXPECT_THAT(entries->body, Not(HasSubstr("prompt after-sales service")));  // reasons stay private
  auto full = http.Get("/tile/0/000");  // not full yet
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 404);
  auto bad = http.Get("/tile/0/0");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(LedgerE2eTest, ChangingAnyStoredByteMakesVerifyFail) {
  Start(dir_ + "/var");
  ASSERT_NO_FATAL_FAILURE(LoginBootstrapSupervisor());
  RecordCommendations(0, 3);
  ASSERT_EQ(Verify("state-at-3.json").exit_code, 0);
  RecordCommendations(3, 7);
  ASSERT_EQ(Verify("pristine.json").exit_code, 0);
  Stop();
  std::string db = dir_ + "/var/credit.db";
  struct Target {
    std::string table, column;
    int64_t rowid;
    // The record content and its salt are not in the tree: they are checked
    // where they are served, GetRecords (--per-record) opening each leaf.
    bool per_record = false;
  };
  std::vector<Target> targets;
  for (int64_t id : RowIds(db, "SELECT rowid FROM records")) {
    targets.push_back({"records", "leaf", id, true});
  }
  for (int64_t id : RowIds(db, "SELECT idx FROM leaves")) {
    targets.push_back({"leaves", "leaf", id});
    targets.push_back({"leaves", "salt", id, true});
  }
  std::vector<int64_t> node_keys = RowIds(db, "SELECT level * 1000000 + idx FROM nodes");
  for (int64_t key : node_keys) targets.push_back({"nodes", "hash", key});
  int64_t latest = RowIds(db, "SELECT max(size) FROM checkpoints")[0];
  targets.push_back({"checkpoints", "root", latest});
  targets.push_back({"checkpoints", "note", latest});
  ASSERT_GE(targets.size(), 7u * 3 + 7u + 2u);
  for (const Target& t : targets) {
    std::string copy = absl::StrCat(dir_, "/copy-", t.table, "-", t.rowid);
    std::filesystem::copy(dir_ + "/var", copy, std::filesystem::copy_options::recursive);
    std::string copy_db = copy + "/credit.db";
    // `nodes` is WITHOUT ROWID: its rows are addressed by level * 1000000 + idx.
    FlipByte(copy_db, t.table, t.column, t.rowid,
             t.table == "nodes" ? "level * 1000000 + idx" : "rowid");
    Start(copy);
    std::filesystem::copy_file(dir_ + "/state-at-3.json", dir_ + "/tamper-state.json",
                               std::filesystem::copy_options::overwrite_existing);
    RunResult r = Verify("tamper-state.json", t.per_record);
    // Detected by the verifier itself (exit 66 and the line naming what
    // failed), not merely refused by the server.
    EXPECT_EQ(r.exit_code, 66) << "tampering " << t.table << "." << t.column << " row "
                               << t.rowid << ": " << r.out << r.err;
    EXPECT_THAT(r.err, ::testing::HasSubstr("LEDGER VERIFICATION FAILED: "))
        << t.table << "." << t.column << " row " << t.rowid;
    Stop();
    std::filesystem::remove_all(copy);
  }
  Start(dir_ + "/var");
  RunResult clean = Verify("pristine.json");
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
}

std::set<std::string> EventIds(const std::string& db_path) {
  std::set<std::string> out;
  ForEachRow(db_path, "SELECT event_id FROM records", [&](sqlite3_stmt* st) {
    out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  });
  return out;
}

TEST_F(LedgerE2eTest, KillNineDuringConcurrentAppendsLosesNoAcknowledgedRecord) {
  Start(dir_ + "/var");
  ASSERT_NO_FATAL_FAILURE(LoginBootstrapSupervisor());
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        std::string event = absl::StrCat("kill-", w, "-", i);
        RunResult r = Ctl({"credit", "record", "--subject", absl::StrCat("seller-", w), "--type",
                           "COMMENDATION", "--reason", "prompt after-sales service",
                           "--event-id", event});
        if (r.exit_code == 0) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(event);
        }
      }
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acknowledged.size() >= 40) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  marketd_->Stop(SIGKILL, 5);  // while the writers keep appending
  marketd_.reset();
  stop = true;
  for (std::thread& t : writers) t.join();
  ASSERT_GE(acknowledged.size(), 40u);
  std::set<std::string> stored = EventIds(dir_ + "/var/credit.db");
  for (const std::string& event : acknowledged) EXPECT_TRUE(stored.contains(event)) << event;
  Start(dir_ + "/var");
  RunResult verified = Verify("after-kill.json");
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_THAT(verified.out, HasSubstr(absl::StrCat("ledger verified: ", stored.size(), " records")));
}

}  // namespace
}  // namespace market
