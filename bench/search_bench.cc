// Listing search over a real listing.db: free-text substring queries through
// the gram posting index (what SearchListings runs) versus the same match as
// a scan of every listing's folded text (listing_text, the baseline), and
// keyset pages versus OFFSET pages deep into the result. Prints milliseconds per query and the ratios, at 10^4 and 10^5
// listings. Both sides of each comparison must return the same listings (the
// same names in the same order); a difference is printed and the benchmark
// exits 1. `search_bench --smoke` runs 2,000 listings only (seconds; ctest
// runs it).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "services/listing/listing_tables.h"
#include "services/listing/search_index.h"
#include "services/listing/sqlite_market_store.h"

namespace {

using market::listing::SearchQuery;
namespace v1 = market::listing::v1;

const char* kWords[] = {"海尔", "美的", "格力", "双门冰箱", "滚筒洗衣机", "空调", "电饭煲",
                        "沙发", "衣柜", "华为", "小米", "苹果", "电动车", "微波炉", "书桌"};

void Die(const absl::Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  std::exit(1);
}

double MillisPerRun(const std::function<void()>& fn, int runs) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) fn();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
             .count() /
         runs;
}

// Returns false when the two sides of a comparison disagree.
bool Run(int n, int runs) {
  std::string dir = "/tmp/market_search_bench_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = market::listing::SqliteMarketStore::Open(dir + "/listing.db");
  if (!store.ok()) Die(store.status());
  market::sqlite::Database& db = (*store)->db();
  absl::Time now = absl::Now();
  absl::Status s = db.Write([&](market::sqlite::Connection& c) -> absl::Status {
    auto st = c.Prepare(
        "INSERT INTO markets(name, operator, kind, region_code, categories, version, data) "
        "VALUES('markets/bench', 'subjects/op', 1, '350102', '|', 1, ?)");
    if (!st.ok()) return st.status();
    v1::Market m;
    m.set_name("markets/bench");
    m.set_region_code("350102");
    if (auto b = st->BindBlob(1, m.SerializeAsString()); !b.ok()) return b;
    if (auto r = st->Run(); !r.ok()) return r;
    for (int i = 0; i < n; ++i) {
      v1::Listing l;
      l.set_name(absl::StrCat("markets/bench/listings/l", i));
      l.set_seller(absl::StrCat("subjects/s", i % 50));
      l.set_category(market::common::v1::APPLIANCE);
      l.set_title(absl::StrCat(kWords[i % 15], " ", kWords[(i / 15) % 15], " 型号 ", i));
      l.set_description(absl::StrCat("成色良好，功能正常，编号 ", i * 7919 % 100003));
      l.mutable_price()->set_amount_fen(1000 + (i * 37) % 500000);
      l.set_state(v1::Listing::PUBLISHED);
      *l.mutable_publish_time() = market::ToTimestamp(now - absl::Seconds(i));
      *l.mutable_create_time() = l.publish_time();
      auto saved = market::listing::SaveListing(c, l, 1, true);
      if (!saved.ok()) return saved.status();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) Die(s);

  // Names of the listings found, in result order.
  auto search = [&](const std::string& text, int limit) {
    SearchQuery q;
    q.text = text;
    std::vector<std::string> names;
    absl::Status r = db.Read([&](market::sqlite::Connection& c) -> absl::Status {
      auto found = market::listing::SearchListings(c, q, std::nullopt, limit, now);
      if (!found.ok()) return found.status();
      for (const auto& hit : *found) names.push_back(hit.row.listing.name());
      return absl::OkStatus();
    });
    if (!r.ok()) Die(r);
    return names;
  };
  auto scan = [&](const std::string& text, int limit) {
    std::vector<std::string> names;
    absl::Status r = db.Read([&](market::sqlite::Connection& c) -> absl::Status {
      auto st = c.Prepare(
          "SELECT name FROM listings WHERE state = 2 AND id IN (SELECT id FROM listing_text "
          "WHERE instr(title, ?1) > 0 OR instr(description, ?1) > 0) "
          "ORDER BY publish_us DESC, name DESC LIMIT ?2");
      if (!st.ok()) return st.status();
      if (auto b = st->BindText(1, market::listing::FoldForSearch(text)); !b.ok()) return b;
      if (auto b = st->Bind(2, static_cast<int64_t>(limit)); !b.ok()) return b;
      while (true) {
        auto more = st->Step();
        if (!more.ok()) return more.status();
        if (!*more) break;
        names.push_back(st->ColumnText(0));
      }
      return absl::OkStatus();
    });
    if (!r.ok()) Die(r);
    return names;
  };
  // A rare needle (one listing) and a common one (1/15 of the listings).
  bool same = true;
  for (const std::string& needle : {absl::StrCat("型号 ", n / 2), std::string("双门冰箱")}) {
    std::vector<std::string> a = search(needle, 50), b = scan(needle, 50);
    double fts = MillisPerRun([&] { search(needle, 50); }, runs);
    double base = MillisPerRun([&] { scan(needle, 50); }, runs);
    std::printf("n=%-7d query %-16s hits %zu/%zu  index %.3f ms  scan %.3f ms  speed-up %.1fx\n",
                n, ("\"" + needle + "\"").c_str(), a.size(), b.size(), fts, base, base / fts);
    if (a.empty() || a != b) {
      same = false;
      std::fprintf(stderr,
                   "search_bench: n=%d query \"%s\": the gram index found %zu listings, the "
                   "scan %zu%s\n",
                   n, needle.c_str(), a.size(), b.size(),
                   a.size() == b.size() ? (a.empty() ? " (none)" : ", not the same ones") : "");
    }
  }
  // Page 100 (page size 50): keyset cursor versus OFFSET (which reads and
  // drops the 4,950 rows before the page; deeper pages cost more).
  std::optional<market::SearchCursor> cursor;
  SearchQuery all;
  absl::Status r = db.Read([&](market::sqlite::Connection& c) -> absl::Status {
    auto page = market::listing::SearchListings(c, all, std::nullopt, 50 * 99, now);
    if (!page.ok()) return page.status();
    cursor = page->back().cursor;
    return absl::OkStatus();
  });
  if (!r.ok()) Die(r);
  double keyset = MillisPerRun([&] {
    absl::Status k = db.Read([&](market::sqlite::Connection& c) -> absl::Status {
      return market::listing::SearchListings(c, all, cursor, 50, now).status();
    });
    if (!k.ok()) Die(k);
  }, runs);
  double offset = MillisPerRun([&] {
    absl::Status o = db.Read([&](market::sqlite::Connection& c) -> absl::Status {
      auto st = c.Prepare(
          "SELECT l.data FROM listings l JOIN markets m ON m.name = l.market WHERE l.state = 2 "
          "ORDER BY l.publish_us DESC, l.name DESC LIMIT 50 OFFSET 4950");
      if (!st.ok()) return st.status();
      while (true) {
        auto more = st->Step();
        if (!more.ok()) return more.status();
        if (!*more) break;
      }
      return absl::OkStatus();
    });
    if (!o.ok()) Die(o);
  }, runs);
  std::printf("n=%-7d page 100 of 50: keyset %.3f ms  offset %.3f ms  speed-up %.1fx\n", n, keyset,
              offset, offset / keyset);
  store->reset();
  std::filesystem::remove_all(dir);
  return same;
}

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  if (argc > 1 && !smoke) {
    std::fprintf(stderr, "usage: search_bench [--smoke]\n");
    return 2;
  }
  bool same = true;
  if (smoke) {
    same = Run(2000, 3);
  } else {
    for (int n : {10000, 100000}) same = Run(n, 20) && same;
  }
  return same ? 0 : 1;
}
