// What the outbox costs a write path, and what the relay costs per event, on
// a real listing.db (the store's own schema and SaveListing):
//
//  1. Write transactions as CreateListing / PlaceOrder / a claim make them: a
//     listing saved (row, search index, its statistics snapshot event), then
//     with the events the newer paths add beside it (PlaceOrder's trade event;
//     a case event and a webhook event as claims and disputes add), and the
//     bare write (no listing) for scale, from 16 writers (group commit, as
//     under load): wall and process CPU microseconds per transaction and the
//     CPU ratio to the listing save with its one event. (A single writer
//     measures the disk's fsync, not the outbox.)
//  2. The relay's own bookkeeping per event (receivers answering at once):
//     a relay pass records all its outcomes in one transaction, against a
//     Write() per event (the relay before), measured in the same run; events
//     without an ordering key, each with its own, and ten keys' events.
//  3. Relay throughput with a receiver taking 1 ms a call: events per second
//     without keys, with a key each, 3 consecutive events a key, and with 10
//     or 2 keys (a key's events go one at a time, so ordering costs what the
//     keys serialize).
//
//   outbox_bench            1,000 transactions a case, 1,000 relay events (~30 s)
//   outbox_bench --smoke    a few hundred of each (a ctest): fails if any write fails
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/chinese_listings.h"
#include "common/clock/clock.h"
#include "common/outbox/outbox.h"
#include "common/sqlite/statement.h"
#include "services/credit/case_events.h"
#include "services/listing/listing_tables.h"
#include "services/listing/sqlite_market_store.h"
#include "services/stats/stats_events.h"
#include "services/webhook/webhook_events.h"

namespace {

namespace lv1 = ::market::listing::v1;
using Clock = std::chrono::steady_clock;
using market::sqlite::Connection;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "outbox_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s) {
  if (!s.ok()) Die(s.ToString());
}

// What one transaction writes besides the listing, given its number.
using Extra = std::function<absl::Status(Connection&, int64_t i, absl::Time now)>;

absl::Status TradeEvent(Connection& c, int64_t i, absl::Time now) {
  market::stats::v1::TradeEvent e;
  e.set_kind(market::stats::v1::TradeEvent::PLACED);
  e.set_order(absl::StrCat("markets/bench/orders/o", i));
  e.set_region_code("350102");
  e.set_market_operator("subjects/bench-op");
  e.set_category(market::common::v1::APPLIANCE);
  e.set_buyer("subjects/bench-buyer");
  e.set_seller("subjects/bench-seller");
  e.set_price_fen(129900);
  *e.mutable_time() = market::ToTimestamp(now);
  return market::stats::EnqueueTradeEvent(c, e, now);
}

absl::Status CaseAndWebhookEvents(Connection& c, int64_t i, absl::Time now) {
  market::supervision::v1::Case k;
  k.set_kind(market::supervision::v1::Case::CLAIM_ESCALATED);
  k.set_market("markets/bench");
  k.set_region_code("350102");
  k.set_summary("质保申请被拒：屏幕有划痕，卖家称出售时已披露");
  market::supervision::v1::Party* party = k.add_subjects();
  party->set_subject("subjects/bench-seller");
  party->set_role(market::common::v1::SELLER);
  k.set_resource(absl::StrCat("claims/c", i));
  MARKET_RETURN_IF_ERROR(market::credit::EnqueueCaseEvent(c, absl::StrCat("case-", i), k, now));
  market::webhook::v1::Event w;
  w.set_event_id(absl::StrCat("webhook-", i));
  w.set_kind(market::webhook::v1::CLAIM_ESCALATED);
  w.set_resource(absl::StrCat("claims/c", i));
  w.set_market("markets/bench");
  *w.mutable_time() = market::ToTimestamp(now);
  return market::webhook::EnqueueWebhookEvent(c, w, now);
}

// User + system CPU of this process, in microseconds.
double CpuMicros() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

struct Cost {
  double wall_us = 0;  // per transaction (or event)
  double cpu_us = 0;
};

// Runs `total` Write() transactions from `writers` threads; wall and CPU
// microseconds per transaction.
Cost TimeWrites(market::sqlite::Database& db, int writers, int total,
                  const std::function<absl::Status(Connection&, int64_t)>& fn) {
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  auto t0 = Clock::now();
  double cpu0 = CpuMicros();
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      for (int64_t i; (i = next.fetch_add(1)) < total;) {
        absl::Status s = db.Write([&](Connection& c) { return fn(c, i); });
        if (!s.ok() && !failed.exchange(true)) std::fprintf(stderr, "%s\n", s.ToString().c_str());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (failed) Die("a write failed");
  return {std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / total,
          (CpuMicros() - cpu0) / total};
}

void WritePaths(market::sqlite::Database& db, int total) {
  std::atomic<int64_t> listing_no{0};
  // Each transaction saves a fresh listing (as CreateListing does), then `extra`.
  auto with_listing = [&](const Extra& extra) {
    return [&, extra](Connection& c, int64_t) -> absl::Status {
      int64_t n = listing_no.fetch_add(1);
      std::mt19937 rng(static_cast<unsigned>(n));
      lv1::Listing l = market::bench::MakeListing(static_cast<int>(n), rng, absl::Now());
      MARKET_RETURN_IF_ERROR(market::listing::SaveListing(c, l, 1, true).status());
      return extra ? extra(c, n, absl::Now()) : absl::OkStatus();
    };
  };
  struct Case {
    const char* name;
    std::function<absl::Status(Connection&, int64_t)> fn;
  };
  const std::vector<Case> cases = {
      {"listing saved + its snapshot event", with_listing(nullptr)},
      {"  + a trade event (PlaceOrder)", with_listing(TradeEvent)},
      {"  + trade, case and webhook events",
       with_listing([](Connection& c, int64_t i, absl::Time now) -> absl::Status {
         MARKET_RETURN_IF_ERROR(TradeEvent(c, i, now));
         return CaseAndWebhookEvents(c, i, now);
       })},
      {"bare write (one small row)",
       [](Connection& c, int64_t i) -> absl::Status {
         MARKET_ASSIGN_OR_RETURN(market::sqlite::Statement st,
                                 c.Prepare("INSERT INTO bench_rows(n) VALUES (?)"));
         MARKET_RETURN_IF_ERROR(st.Bind(1, i));
         return st.Run();
       }},
  };
  std::printf("%-38s %7s %10s %10s %10s\n", "write transaction (16 writers)", "events",
              "wall µs", "CPU µs", "CPU ratio");
  const int events[] = {1, 2, 4, 0};
  TimeWrites(db, 16, total / 2, cases[0].fn);  // warm-up: page cache, statement caches
  double base = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    Cost c = TimeWrites(db, 16, total, cases[k].fn);
    if (k == 0) base = c.cpu_us;
    std::printf("%-38s %7d %10.1f %10.1f %10.2f\n", cases[k].name, events[k], c.wall_us, c.cpu_us,
                c.cpu_us / base);
    std::fflush(stdout);
  }
}

// Fills the outbox with `n` pending events of figure-snapshot size; with
// `keys` > 0 event i has ordering key i % keys, with -1 a key of its own,
// with -g < -1 the key of its group of g consecutive events.
void Fill(market::sqlite::Database& db, int n, const std::string& prefix, int keys = 0) {
  const std::string payload(180, 'x');
  for (int done = 0; done < n;) {
    int batch = std::min(1000, n - done);
    Check(db.Write([&](Connection& c) -> absl::Status {
      for (int i = 0; i < batch; ++i) {
        const int k = done + i;
        std::string key = keys == 0   ? ""
                          : keys == -1 ? absl::StrCat("claims/", prefix, k)
                          : keys < 0   ? absl::StrCat("claims/", prefix, k / -keys)
                                       : absl::StrCat("claims/", prefix, k % keys);
        MARKET_RETURN_IF_ERROR(market::outbox::Enqueue(
            c, {absl::StrCat(prefix, k), "bench.Receive", payload, std::move(key)}, absl::Now()));
      }
      return absl::OkStatus();
    }));
    done += batch;
  }
}

// Delivers the `n` pending events with a relay of `concurrency` whose
// receiver takes `receive` a call; wall and CPU microseconds per event.
Cost DrainRelay(market::sqlite::Database& db, int n, int concurrency, absl::Duration receive) {
  market::outbox::RelayOptions options;
  options.concurrency = concurrency;
  market::outbox::Relay relay(&db, market::RealClock(),
                              {{"bench.Receive",
                                [receive](const std::string&, const std::string&) {
                                  if (receive > absl::ZeroDuration()) absl::SleepFor(receive);
                                  return absl::OkStatus();
                                }}},
                              options);
  auto t0 = Clock::now();
  double cpu0 = CpuMicros();
  int delivered = 0;
  while (true) {
    absl::StatusOr<int> pass = relay.RunOnce();
    Check(pass.status());
    if (*pass == 0) break;
    delivered += *pass;
  }
  if (delivered != n) Die(absl::StrCat("relay delivered ", delivered, " of ", n));
  return {std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n,
          (CpuMicros() - cpu0) / n};
}

void RelayBookkeeping(market::sqlite::Database& db, int n) {
  std::printf("\n%-56s %9s %9s %9s\n", "relay bookkeeping (receiver answers at once)",
              "wall µs", "CPU µs", "CPU ratio");
  // Before: each outcome in its own Write() (the UPDATE the relay ran per event).
  Fill(db, n, "before-");
  std::vector<int64_t> ids;
  Check(db.Read([&](Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        market::sqlite::Statement st,
        c.Prepare("SELECT id FROM outbox WHERE delivered_time IS NULL ORDER BY id"));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      ids.push_back(st.ColumnInt64(0));
    }
    return absl::OkStatus();
  }));
  Cost per_event = TimeWrites(db, 1, static_cast<int>(ids.size()), [&](Connection& c, int64_t i) {
    MARKET_ASSIGN_OR_RETURN(
        market::sqlite::Statement st,
        c.Prepare("UPDATE outbox SET attempts = attempts + 1, delivered_time = ? "
                  "WHERE id = ? AND delivered_time IS NULL"));
    MARKET_RETURN_IF_ERROR(st.Bind(1, absl::ToUnixMicros(absl::Now())));
    MARKET_RETURN_IF_ERROR(st.Bind(2, ids[static_cast<size_t>(i)]));
    return st.Run();
  });
  std::printf("%-56s %9.1f %9.1f %9.2f\n", "a Write() per event (the relay before)",
              per_event.wall_us, per_event.cpu_us, 1.0);
  struct Case {
    int concurrency;
    int keys;  // as Fill()
    const char* label;
  };
  for (const Case& k : {Case{1, 0, ""}, Case{32, 0, ""}, Case{32, -1, ", a key each"},
                        Case{32, 10, ", 10 keys"}}) {
    const std::string prefix = absl::StrCat("c", k.concurrency, "k", k.keys, "-");
    Fill(db, n, prefix, k.keys);
    Cost c = DrainRelay(db, n, k.concurrency, absl::ZeroDuration());
    std::printf("%-56s %9.1f %9.1f %9.2f\n",
                absl::StrCat("passes of 100, one Write() each, concurrency ", k.concurrency,
                             k.label)
                    .c_str(),
                c.wall_us, c.cpu_us, c.cpu_us / per_event.cpu_us);
  }
}

// Relay throughput against a receiver taking `receive` a call, concurrency 32.
void RelayThroughput(market::sqlite::Database& db, int n) {
  std::printf("\n%-56s %9s %9s\n", "relay, receiver taking 1 ms a call, concurrency 32",
              "events/s", "ratio");
  double base = 0;
  for (int keys : {0, -1, -3, 10, 2}) {
    const std::string prefix = absl::StrCat("t", keys, "-");
    Fill(db, n, prefix, keys);
    Cost c = DrainRelay(db, n, 32, absl::Milliseconds(1));
    const double per_s = 1e6 / c.wall_us;
    if (keys == 0) base = per_s;
    std::printf("%-56s %9.0f %9.2f\n",
                keys == 0    ? "no ordering keys"
                : keys == -1 ? "a key each (every event about another resource)"
                : keys < 0   ? "3 events a key, enqueued together (as an order flow's)"
                             : absl::StrCat(keys, " keys (", n / keys, " events each)").c_str(),
                per_s, per_s / base);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int transactions = 1000, relay_events = 1000;
  bool smoke = false;
  CLI::App app("What outbox events cost a write path, and the relay's bookkeeping per event");
  app.add_option("--transactions", transactions, "write transactions per case and writer count");
  app.add_option("--relay-events", relay_events, "events the relay cases deliver");
  app.add_flag("--smoke", smoke, "a few hundred of each (ctest)");
  CLI11_PARSE(app, argc, argv);
  if (smoke) transactions = 200, relay_events = 500;
  const std::string dir = absl::StrCat("/tmp/market_outbox_bench_", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto store = market::listing::SqliteMarketStore::Open(dir + "/listing.db");
    if (!store.ok()) Die(store.status().ToString());
    market::sqlite::Database& db = (*store)->db();
    Check(db.Write([](Connection& c) -> absl::Status {
      MARKET_RETURN_IF_ERROR(market::bench::InsertBenchMarket(c, "markets/bench"));
      return c.Exec("CREATE TABLE bench_rows(n INTEGER NOT NULL)");
    }));
    WritePaths(db, transactions);
    RelayBookkeeping(db, relay_events);
    RelayThroughput(db, relay_events);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
