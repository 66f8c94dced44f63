// Chinese listing search over a real listing.db: SearchListings through the
// listing_grams posting index versus a brute-force scan of every listing's
// text (what 1-2 character queries cost before migration 3), for 1-, 2- and
// 3-character, mixed-script, "matches most" and no-match queries, and the
// query SearchListings ran before (over migration 2's trigram table, built in
// the same file). Prints CPU milliseconds per first page (50 hits) and the
// ratios, and checks that both sides return the same listings in the same
// order: the first page, and every page of every query. Exits 1 on a
// difference.
//
//   cjk_search_bench            10^5 listings
//   cjk_search_bench --smoke    2,000 listings, seconds (a ctest)
//   cjk_search_bench --listings N
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/chinese_listings.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "services/listing/listing_tables.h"
#include "services/listing/search_index.h"
#include "services/listing/sqlite_market_store.h"

namespace {

using market::bench::MakeListing;
using market::listing::SearchHit;
using market::listing::SearchQuery;
using market::sqlite::Connection;
namespace v1 = market::listing::v1;

constexpr int kPage = 50;

void Die(const std::string& what) {
  std::fprintf(stderr, "cjk_search_bench: %s\n", what.c_str());
  std::exit(1);
}
void Check(const absl::Status& s) {
  if (!s.ok()) Die(s.ToString());
}

double CpuMillis() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// CPU milliseconds per call of `fn`: at least 3 runs, more while under
// `budget_ms` in total (at most 50).
double CpuMillisPerRun(const std::function<void()>& fn, double budget_ms) {
  double start = CpuMillis();
  int runs = 0;
  do {
    fn();
    ++runs;
  } while (runs < 3 || (runs < 50 && CpuMillis() - start < budget_ms));
  return (CpuMillis() - start) / runs;
}

// The baseline: every published listing's text scanned with instr(), title
// matches first, newest first; `limit` < 0 for all.
std::vector<std::string> Scan(Connection& c, const std::string& text, int limit) {
  auto st = c.Prepare(
      "SELECT l.name FROM listings l JOIN listing_text t ON t.id = l.id WHERE l.state = ?3 AND "
      "(instr(lower(t.title), lower(?1)) > 0 OR instr(lower(t.description), lower(?1)) > 0) "
      "ORDER BY instr(lower(t.title), lower(?1)) > 0 DESC, l.publish_us DESC, l.name DESC "
      "LIMIT ?2");
  Check(st.status());
  Check(st->BindText(1, text));
  Check(st->Bind(2, static_cast<int64_t>(limit)));
  Check(st->Bind(3, static_cast<int64_t>(v1::Listing::PUBLISHED)));
  std::vector<std::string> names;
  while (true) {
    auto more = st->Step();
    Check(more.status());
    if (!*more) return names;
    names.push_back(st->ColumnText(0));
  }
}

// What SearchListings ran before migration 3 (first page, newest first): the
// trigram index for 3+ characters, instr() over every row of it otherwise.
size_t OldPage(Connection& c, const std::string& text, int limit) {
  bool trigram = market::Utf8CharCount(text) >= 3;
  auto st = c.Prepare(absl::StrCat(
      "SELECT l.version, l.data, m.operator, l.publish_us, l.name FROM listings l JOIN markets m "
      "ON m.name = l.market WHERE l.state = ?3 AND l.id IN (SELECT rowid FROM old_fts WHERE ",
      trigram ? "old_fts MATCH ?1"
              : "instr(lower(title), lower(?1)) > 0 OR instr(lower(description), lower(?1)) > 0",
      ") ORDER BY l.publish_us DESC, l.name DESC LIMIT ?2"));
  Check(st.status());
  Check(st->BindText(1, trigram ? absl::StrCat("\"", text, "\"") : text));
  Check(st->Bind(2, static_cast<int64_t>(limit)));
  Check(st->Bind(3, static_cast<int64_t>(v1::Listing::PUBLISHED)));
  size_t rows = 0;
  while (true) {
    auto more = st->Step();
    Check(more.status());
    if (!*more) return rows;
    ++rows;
  }
}

std::vector<std::string> IndexPage(Connection& c, const SearchQuery& q,
                                   const std::optional<market::SearchCursor>& after, int limit,
                                   absl::Time now, std::optional<market::SearchCursor>* next) {
  auto hits = market::listing::SearchListings(c, q, after, limit, now);
  Check(hits.status());
  std::vector<std::string> names;
  for (const SearchHit& h : *hits) names.push_back(h.row.listing.name());
  if (next != nullptr) *next = hits->empty() ? std::nullopt : std::optional(hits->back().cursor);
  return names;
}

int Run(int n) {
  std::string dir = absl::StrCat("/tmp/market_cjk_search_bench_", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = market::listing::SqliteMarketStore::Open(dir + "/listing.db");
  Check(store.status());
  market::sqlite::Database& db = (*store)->db();
  absl::Time now = absl::Now();
  auto fill_start = std::chrono::steady_clock::now();
  Check(db.Write([&](Connection& c) -> absl::Status {
    v1::Market m;
    m.set_name("markets/bench");
    m.set_region_code("350102");
    auto st = c.Prepare(
        "INSERT INTO markets(name, operator, kind, region_code, categories, version, data) "
        "VALUES('markets/bench', 'subjects/op', 1, '350102', '|', 1, ?)");
    if (!st.ok()) return st.status();
    if (auto b = st->BindBlob(1, m.SerializeAsString()); !b.ok()) return b;
    if (auto r = st->Run(); !r.ok()) return r;
    std::mt19937 rng(20261207);
    for (int i = 0; i < n; ++i) {
      auto saved = market::listing::SaveListing(c, MakeListing(i, rng, now), 1, true);
      if (!saved.ok()) return saved.status();
    }
    return absl::OkStatus();
  }));
  double fill_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_start).count();
  // Migration 2's trigram table, filled the same way, for the old query.
  Check(db.Write([&](Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(
        c.Exec("CREATE VIRTUAL TABLE old_fts USING fts5(title, description, tokenize = "
               "'trigram')"));
    MARKET_ASSIGN_OR_RETURN(market::sqlite::Statement st,
                            c.Prepare("SELECT id, data FROM listings"));
    MARKET_ASSIGN_OR_RETURN(
        market::sqlite::Statement ins,
        c.Prepare("INSERT INTO old_fts(rowid, title, description) VALUES(?, ?, ?)"));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return absl::OkStatus();
      v1::Listing l;
      if (!l.ParseFromString(st.ColumnBlob(1))) return absl::DataLossError("listing");
      ins.Reset();
      MARKET_RETURN_IF_ERROR(ins.Bind(1, st.ColumnInt64(0)));
      MARKET_RETURN_IF_ERROR(ins.BindText(2, l.title()));
      MARKET_RETURN_IF_ERROR(ins.BindText(3, l.description()));
      MARKET_RETURN_IF_ERROR(ins.Run());
    }
  }));
  int64_t postings = 0;
  Check(db.Write([&](Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(
        c.Exec("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, listing_grams, 'col')"));
    {
      MARKET_ASSIGN_OR_RETURN(market::sqlite::Statement st,
                              c.Prepare("SELECT sum(doc) FROM temp.vocab"));
      MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) postings = st.ColumnInt64(0);
    }
    return c.Exec("DROP TABLE temp.vocab");
  }));
  std::printf("n=%d listings: saved in %.1f s with the index (one transaction), %lld postings\n", n,
              fill_s, static_cast<long long>(postings));
  // Bytes of the new index tables and of the old trigram table.
  auto table_mb = [&](const std::string& like) {
    double mb = 0;
    Check(db.Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(market::sqlite::Statement st,
                              c.Prepare("SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?"));
      MARKET_RETURN_IF_ERROR(st.BindText(1, like));
      MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) mb = st.ColumnInt64(0) / 1e6;
      return absl::OkStatus();
    }));
    return mb;
  };
  std::printf("listing_grams %.1f MB, listing_text %.1f MB, old trigram table %.1f MB\n",
              table_mb("listing_grams%"), table_mb("listing_text"), table_mb("old_fts%"));
  std::printf(
      "CPU ms per first page of %d; scan = every listing_text row with instr(); old = "
      "the query before migration 3; all pages = pages of 200 x mean ms per page\n",
      kPage);
  std::printf("%-8s %-12s %7s %5s %9s %9s %8s %9s %8s %18s\n", "kind", "query", "matches", "page",
              "index", "scan", "scan/idx", "old", "old/idx", "all pages");

  struct Case {
    const char* kind;
    const char* text;
  };
  const Case cases[] = {
      {"1 char", "柜"},    {"1 char", "瓶"},      {"2 chars", "冰箱"},
      {"2 chars", "沙发"}, {"3 chars", "洗衣机"}, {"mixed", "iPhone13"},
      {"mixed", "1.5匹"},  {"most", "二手"},      {"none", "摩托艇"},
  };
  int failures = 0;
  for (const Case& k : cases) {
    auto q = market::listing::ParseSearch("markets/-", "", k.text, "");
    Check(q.status());
    std::vector<std::string> index_page, scan_page, scan_all, index_all;
    double index_ms = 0, scan_ms = 0, old_ms = 0, all_pages_ms = 0;
    int pages = 0;
    Check(db.Read([&](Connection& c) -> absl::Status {
      index_page = IndexPage(c, *q, std::nullopt, kPage, now, nullptr);
      scan_page = Scan(c, k.text, kPage);
      index_ms = CpuMillisPerRun([&] { IndexPage(c, *q, std::nullopt, kPage, now, nullptr); }, 300);
      scan_ms = CpuMillisPerRun([&] { Scan(c, k.text, kPage); }, 300);
      old_ms = CpuMillisPerRun([&] { OldPage(c, k.text, kPage); }, 300);
      // Every page, 200 at a time, against the whole scan.
      scan_all = Scan(c, k.text, -1);
      std::optional<market::SearchCursor> after;
      double walk_start = CpuMillis();
      while (true) {
        std::vector<std::string> page = IndexPage(c, *q, after, 200, now, &after);
        index_all.insert(index_all.end(), page.begin(), page.end());
        ++pages;
        if (page.size() < 200) break;
      }
      all_pages_ms = CpuMillis() - walk_start;
      return absl::OkStatus();
    }));
    bool same = index_page == scan_page && index_all == scan_all;
    if (!same) ++failures;
    std::printf(
        "%-8s %-12s %7zu %5zu %9.3f %9.3f %7.1fx %9.3f %7.1fx %4d x %7.3f%s\n", k.kind,
        absl::StrCat("\"", k.text, "\"").c_str(), scan_all.size(), index_page.size(), index_ms,
        scan_ms, scan_ms / index_ms, old_ms, old_ms / index_ms, pages, all_pages_ms / pages,
        same
            ? ""
            : absl::StrCat("  DIFFERENT: index ", index_all.size(), " hits, scan ", scan_all.size())
                  .c_str());
  }
  store->reset();  // checkpoints the WAL into listing.db
  std::printf("listing.db %.1f MB\n", std::filesystem::file_size(dir + "/listing.db") / 1e6);
  std::filesystem::remove_all(dir);
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--smoke") {
      n = 2000;
    } else if (arg == "--listings" && i + 1 < argc && absl::SimpleAtoi(argv[i + 1], &n) && n > 0) {
      ++i;
    } else {
      Die("usage: cjk_search_bench [--smoke | --listings N]");
    }
  }
  int failures = Run(n);
  if (failures > 0) {
    std::fprintf(stderr, "cjk_search_bench: %d queries differ between index and scan\n", failures);
    return 1;
  }
  return 0;
}
