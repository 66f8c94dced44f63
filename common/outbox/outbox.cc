#include "common/outbox/outbox.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "common/server/log.h"
#include "common/sqlite/statement.h"
#include "common/status/status.h"

namespace market::outbox {
namespace {

// Longest last_error stored; longer messages are cut at a UTF-8 boundary.
constexpr size_t kMaxStoredError = 1024;

// A pending event as the relay reads it.
struct PendingEvent {
  int64_t id = 0;
  std::string event_id;
  std::string destination;
  std::string payload;
  int64_t attempts = 0;
  std::string ordering_key;  // "" for none
  // An earlier event of its key is pending and not due (only when the
  // table's times were changed by hand): not delivered by this pass.
  bool held = false;
};

RelayOptions Sanitize(RelayOptions options) {
  options.batch = std::max(options.batch, 1);
  options.concurrency = std::max(options.concurrency, 1);
  options.multiplier = std::max(options.multiplier, 1.0);
  options.jitter = std::clamp(options.jitter, 0.0, 1.0);
  return options;
}

// A value in [0, 1) that depends only on (event_id, attempts): FNV-1a over the
// bytes, finished with the splitmix64 mixer.
double UnitHash(const std::string& event_id, int attempts) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix_byte = [&h](unsigned char b) {
    h ^= b;
    h *= 0x100000001b3ULL;
  };
  for (char c : event_id) mix_byte(static_cast<unsigned char>(c));
  for (int shift = 0; shift < 32; shift += 8) {
    mix_byte(static_cast<unsigned char>((static_cast<uint32_t>(attempts) >> shift) & 0xff));
  }
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// Errors a retry alone will not fix: the receiver or our configuration needs
// a change, so they are logged at error level.
bool NeedsFix(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

bool IsPowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

std::string TruncateUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  // Step back over continuation bytes (10xxxxxx) to the start of a character.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) --end;
  s.resize(end);
  return s;
}

absl::StatusOr<std::vector<PendingEvent>> ReadDue(sqlite::Database& db, absl::Time now, int batch) {
  std::vector<PendingEvent> due;
  MARKET_RETURN_IF_ERROR(db.Read([&](sqlite::Connection& c) -> absl::Status {
    // The subquery sorts ids from the partial index only; the outer query
    // then reads just those rows. INDEXED BY keeps the planner from scanning
    // the whole table (delivered rows included) in id order instead. As
    // Enqueue and a failure's hold-back keep a key's later events due no
    // sooner than its earlier ones, the due events are whole prefixes of
    // their keys; `held` checks that for the batch only (one index seek per
    // keyed event), so hand-edited times cannot break the order either.
    MARKET_ASSIGN_OR_RETURN(
        sqlite::Statement select,
        c.Prepare("SELECT o.id, o.event_id, o.destination, o.payload, o.attempts, "
                  "o.ordering_key, o.ordering_key IS NOT NULL AND EXISTS ("
                  "  SELECT 1 FROM outbox p INDEXED BY outbox_pending_by_key "
                  "  WHERE p.destination = o.destination AND p.ordering_key = o.ordering_key "
                  "    AND p.delivered_time IS NULL AND p.next_attempt_time > ?1 "
                  "    AND p.id < o.id) "
                  "FROM outbox o WHERE o.id IN (SELECT id FROM outbox INDEXED BY outbox_pending "
                  "WHERE delivered_time IS NULL AND next_attempt_time <= ?1 "
                  "ORDER BY id LIMIT ?2) ORDER BY o.id"));
    MARKET_RETURN_IF_ERROR(select.Bind(1, absl::ToUnixMicros(now)));
    MARKET_RETURN_IF_ERROR(select.Bind(2, batch));
    while (true) {
      MARKET_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      due.push_back(PendingEvent{.id = select.ColumnInt64(0),
                                 .event_id = select.ColumnText(1),
                                 .destination = select.ColumnText(2),
                                 .payload = select.ColumnBlob(3),
                                 .attempts = select.ColumnInt64(4),
                                 .ordering_key = select.ColumnText(5),
                                 .held = select.ColumnInt64(6) != 0});
    }
    return absl::OkStatus();
  }));
  return due;
}

// Hands `e` to its deliverer; an unknown destination or a throwing deliverer
// is a failed attempt like any other (neither takes the relay down).
absl::Status Deliver(const std::map<std::string, Relay::Deliverer>& deliverers,
                     const PendingEvent& e) {
  auto it = deliverers.find(e.destination);
  if (it == deliverers.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("outbox: no deliverer for destination \"", e.destination, "\""));
  }
  try {
    return it->second(e.event_id, e.payload);
  } catch (const std::exception& ex) {
    return absl::InternalError(absl::StrCat("outbox deliverer threw: ", ex.what()));
  } catch (...) {
    return absl::InternalError("outbox deliverer threw a non-standard exception");
  }
}

// The outcome of one attempt, recorded after the pass's deliveries.
struct Attempt {
  absl::Status result;
  absl::Time finished;  // when the deliverer returned
};

absl::Status MarkDelivered(sqlite::Connection& c, int64_t id, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Statement update,
      c.Prepare("UPDATE outbox SET attempts = attempts + 1, "
                "delivered_time = ? WHERE id = ? AND delivered_time IS NULL"));
  MARKET_RETURN_IF_ERROR(update.Bind(1, absl::ToUnixMicros(now)));
  MARKET_RETURN_IF_ERROR(update.Bind(2, id));
  return update.Run();
}

absl::Status MarkFailed(sqlite::Connection& c, int64_t id, const std::string& error,
                        absl::Time next_attempt) {
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Statement update,
      c.Prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                "next_attempt_time = ? WHERE id = ? AND delivered_time IS NULL"));
  MARKET_RETURN_IF_ERROR(update.BindText(1, TruncateUtf8(error, kMaxStoredError)));
  MARKET_RETURN_IF_ERROR(update.Bind(2, absl::ToUnixMicros(next_attempt)));
  MARKET_RETURN_IF_ERROR(update.Bind(3, id));
  return update.Run();
}

// Keeps the pending events of `e`'s key after it from becoming due before
// `next_attempt`, when `e` will be tried again.
absl::Status HoldSuccessors(sqlite::Connection& c, const PendingEvent& e,
                            absl::Time next_attempt) {
  if (e.ordering_key.empty()) return absl::OkStatus();
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Statement update,
      c.Prepare("UPDATE outbox INDEXED BY outbox_pending_by_key "
                "SET next_attempt_time = max(next_attempt_time, ?1) "
                "WHERE destination = ?2 AND ordering_key = ?3 AND delivered_time IS NULL "
                "AND id > ?4"));
  MARKET_RETURN_IF_ERROR(update.Bind(1, absl::ToUnixMicros(next_attempt)));
  MARKET_RETURN_IF_ERROR(update.BindText(2, e.destination));
  MARKET_RETURN_IF_ERROR(update.BindText(3, e.ordering_key));
  MARKET_RETURN_IF_ERROR(update.Bind(4, e.id));
  return update.Run();
}

// The due events of a pass as chains of indexes into `due`: each key's
// events in id order, each event without a key alone. Held events are left
// out. The longest chains come first (then by their first event), so that
// one started last does not keep the pass waiting.
std::vector<std::vector<size_t>> Chains(const std::vector<PendingEvent>& due) {
  std::vector<std::vector<size_t>> chains;
  std::map<std::pair<std::string_view, std::string_view>, size_t> by_key;
  for (size_t i = 0; i < due.size(); ++i) {
    const PendingEvent& e = due[i];
    if (e.held) continue;
    if (e.ordering_key.empty()) {
      chains.push_back({i});
      continue;
    }
    auto [it, added] = by_key.try_emplace({e.destination, e.ordering_key}, chains.size());
    if (added) chains.emplace_back();
    chains[it->second].push_back(i);
  }
  std::stable_sort(chains.begin(), chains.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return chains;
}

}  // namespace

absl::Status Enqueue(sqlite::Connection& connection, const Event& event, absl::Time now) {
  if (event.event_id.empty()) {
    return absl::InvalidArgumentError("outbox event.event_id: empty, want a unique id");
  }
  if (event.destination.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("outbox event.destination: empty for event ",
                                                   event.event_id, ", want a deliverer name"));
  }
  // Due no sooner than the latest retry among its key's pending events (none
  // without a key: NULL matches nothing).
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Statement insert,
      connection.Prepare(
          "INSERT INTO outbox(event_id, destination, payload, create_time, next_attempt_time, "
          "ordering_key) VALUES (?1, ?2, ?3, ?4, max(?4, coalesce((SELECT max(next_attempt_time) "
          "FROM outbox INDEXED BY outbox_pending_by_key WHERE destination = ?2 "
          "AND ordering_key = ?5 AND delivered_time IS NULL), ?4)), ?5)"));
  MARKET_RETURN_IF_ERROR(insert.BindText(1, event.event_id));
  MARKET_RETURN_IF_ERROR(insert.BindText(2, event.destination));
  MARKET_RETURN_IF_ERROR(insert.BindBlob(3, event.payload));
  MARKET_RETURN_IF_ERROR(insert.Bind(4, absl::ToUnixMicros(now)));
  if (event.ordering_key.empty()) {
    MARKET_RETURN_IF_ERROR(insert.BindNull(5));
  } else {
    MARKET_RETURN_IF_ERROR(insert.BindText(5, event.ordering_key));
  }
  absl::Status status = insert.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat("outbox event ", event.event_id, " is already enqueued"));
  }
  return status;
}

absl::StatusOr<int64_t> PurgeDelivered(sqlite::Database& db, absl::Time older_than) {
  int64_t deleted = 0;
  MARKET_RETURN_IF_ERROR(db.Write([&](sqlite::Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        sqlite::Statement purge,
        c.Prepare("DELETE FROM outbox WHERE delivered_time IS NOT NULL AND delivered_time < ?"));
    MARKET_RETURN_IF_ERROR(purge.Bind(1, absl::ToUnixMicros(older_than)));
    MARKET_RETURN_IF_ERROR(purge.Run());
    deleted = c.Changes();
    return absl::OkStatus();
  }));
  return deleted;
}

absl::Duration RetryDelay(const RelayOptions& options, int attempts, const std::string& event_id) {
  RelayOptions o = Sanitize(options);
  // >= 1, possibly infinite; compared before multiplying so nothing overflows.
  double factor = std::pow(o.multiplier, std::max(attempts, 1) - 1);
  absl::Duration delay = o.max_backoff;
  if (factor < absl::FDivDuration(o.max_backoff, o.initial_backoff)) {
    delay = o.initial_backoff * factor;
  }
  if (o.jitter > 0) delay += delay * (o.jitter * UnitHash(event_id, attempts));
  return delay;
}

Relay::Relay(sqlite::Database* db, const Clock* clock, std::map<std::string, Deliverer> deliverers,
             RelayOptions options)
    : db_(db), clock_(clock), deliverers_(std::move(deliverers)), options_(Sanitize(options)) {}

// Threads that run the lanes of a pass beside the calling thread. They are
// started when a pass first needs them and wait for work until destruction,
// so a busy relay creates no thread per pass.
class Relay::Workers {
 public:
  Workers() = default;
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers() {
    {
      absl::MutexLock lock(&mu_);
      quit_ = true;
    }
    for (std::thread& t : threads_) t.join();
  }

  // Runs `lane` on `n` threads at once (the caller's and n - 1 workers') and
  // returns when every one has returned. Not reentrant: one call at a time.
  void Run(int n, const std::function<void()>& lane) {
    absl::BlockingCounter returned(n - 1);
    {
      absl::MutexLock lock(&mu_);
      for (int i = 1; i < n; ++i) {
        tasks_.push_back([&lane, &returned] {
          lane();
          returned.DecrementCount();
        });
      }
      while (static_cast<int>(threads_.size()) < n - 1) threads_.emplace_back([this] { Work(); });
    }
    lane();
    returned.Wait();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &Workers::HasWorkOrQuit));
        if (tasks_.empty()) return;  // quit_ and nothing left to run
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  bool HasWorkOrQuit() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return quit_ || !tasks_.empty();
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // changed only by Run() and the destructor
};

Relay::~Relay() {
  Stop();
  absl::MutexLock lock(&run_mu_);
  workers_.reset();
}

absl::StatusOr<int> Relay::RunOnce() {
  MARKET_ASSIGN_OR_RETURN(Pass pass, RunPass(/*background=*/false));
  return pass.delivered;
}

absl::StatusOr<Relay::Pass> Relay::RunPass(bool background) {
  absl::MutexLock lock(&run_mu_);
  MARKET_ASSIGN_OR_RETURN(std::vector<PendingEvent> due,
                          ReadDue(*db_, clock_->Now(), options_.batch));
  Pass pass;
  pass.full = due.size() == static_cast<size_t>(options_.batch);
  // attempts[i] is written only by the lane that took event i; a chain ends
  // at its first failure (its key's later events wait), and a background
  // pass stops taking events when Stop() is called, leaving the rest empty.
  const std::vector<std::vector<size_t>> chains = Chains(due);
  std::vector<std::optional<Attempt>> attempts(due.size());
  // Events ready to go, as (chain, position): at first each chain's head;
  // an event delivered puts its chain's next one at the front (the longest
  // chains' continuations first), so lanes stay busy while chains wait for
  // their predecessors. A lane waits while others' deliveries may still
  // make events ready.
  absl::Mutex ready_mu;
  std::deque<std::pair<size_t, size_t>> ready;
  int in_flight = 0;
  for (size_t k = 0; k < chains.size(); ++k) ready.emplace_back(k, 0);
  auto lane = [&] {
    while (true) {
      std::pair<size_t, size_t> job;
      {
        absl::MutexLock lock(&ready_mu);
        auto more = [&] { return !ready.empty() || in_flight == 0; };
        ready_mu.Await(absl::Condition(&more));
        if (ready.empty() || (background && StopRequested())) return;
        job = ready.front();
        ready.pop_front();
        ++in_flight;
      }
      const auto [k, pos] = job;
      const size_t i = chains[k][pos];
      absl::Status result = Deliver(deliverers_, due[i]);
      const bool ok = result.ok();
      attempts[i] = Attempt{std::move(result), clock_->Now()};
      absl::MutexLock lock(&ready_mu);
      --in_flight;
      if (ok && pos + 1 < chains[k].size()) ready.emplace_front(k, pos + 1);
    }
  };
  const int lanes = static_cast<int>(std::min<size_t>(chains.size(), options_.concurrency));
  if (lanes <= 1) {
    lane();
  } else {
    if (workers_ == nullptr) workers_ = std::make_unique<Workers>();
    workers_->Run(lanes, lane);
  }

  // Every outcome in one transaction, then the log lines of what it stored.
  std::vector<absl::Time> next_attempt(due.size());
  MARKET_RETURN_IF_ERROR(db_->Write([&](sqlite::Connection& c) -> absl::Status {
    for (size_t i = 0; i < due.size(); ++i) {
      if (!attempts[i].has_value()) continue;
      const Attempt& a = *attempts[i];
      if (a.result.ok()) {
        MARKET_RETURN_IF_ERROR(MarkDelivered(c, due[i].id, a.finished));
        continue;
      }
      const int64_t n = due[i].attempts + 1;
      next_attempt[i] =
          a.finished +
          RetryDelay(options_, static_cast<int>(std::min<int64_t>(n, 1 << 30)), due[i].event_id);
      MARKET_RETURN_IF_ERROR(MarkFailed(c, due[i].id, a.result.ToString(), next_attempt[i]));
      MARKET_RETURN_IF_ERROR(HoldSuccessors(c, due[i], next_attempt[i]));
    }
    return absl::OkStatus();
  }));
  for (size_t i = 0; i < due.size(); ++i) {
    if (!attempts[i].has_value()) continue;
    const PendingEvent& e = due[i];
    const absl::Status& result = attempts[i]->result;
    const int64_t n = e.attempts + 1;
    if (result.ok()) {
      ++pass.delivered;
      if (n > 1) {
        server::LogJson("info", "outbox event delivered after retries",
                        {{"event_id", e.event_id}, {"destination", e.destination}, {"attempts", n}});
      }
    } else if (IsPowerOfTwo(n)) {
      server::LogJson(NeedsFix(result.code()) ? "error" : "warn", "outbox delivery failed",
                      {{"event_id", e.event_id},
                       {"destination", e.destination},
                       {"attempts", n},
                       {"error", result.ToString()},
                       {"next_attempt", absl::FormatTime(absl::RFC3339_full, next_attempt[i],
                                                         absl::UTCTimeZone())}});
    }
  }
  return pass;
}

void Relay::Start() {
  absl::MutexLock lock(&thread_mu_);
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Relay::Stop() {
  absl::MutexLock lock(&thread_mu_);
  if (!thread_.joinable()) return;
  {
    absl::MutexLock stop_lock(&stop_mu_);
    stop_ = true;
  }
  thread_.join();
  absl::MutexLock stop_lock(&stop_mu_);
  stop_ = false;
}

bool Relay::StopRequested() const {
  absl::MutexLock lock(&stop_mu_);
  return stop_;
}

void Relay::Loop() {
  while (!StopRequested()) {
    absl::StatusOr<Pass> pass = RunPass(/*background=*/true);
    if (!pass.ok()) {
      server::LogJson("error", "outbox relay pass failed", {{"error", pass.status().ToString()}});
    } else if (pass->full && pass->delivered > 0) {
      continue;  // more may be due right now
    }
    absl::MutexLock lock(&stop_mu_);
    stop_mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.poll);
  }
}

int64_t Relay::Depth() const {
  int64_t depth = -1;
  absl::Status status = db_->Read([&](sqlite::Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(sqlite::Statement select,
                            c.Prepare("SELECT count(*) FROM outbox WHERE delivered_time IS NULL"));
    MARKET_RETURN_IF_ERROR(select.Step().status());
    depth = select.ColumnInt64(0);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    server::LogJson("error", "outbox depth unreadable", {{"error", status.ToString()}});
    return -1;
  }
  return depth;
}

absl::Duration Relay::OldestAge() const {
  std::optional<int64_t> oldest;
  absl::Status status = db_->Read([&](sqlite::Connection& c) -> absl::Status {
    MARKET_ASSIGN_OR_RETURN(
        sqlite::Statement select,
        c.Prepare("SELECT min(create_time) FROM outbox WHERE delivered_time IS NULL"));
    MARKET_RETURN_IF_ERROR(select.Step().status());
    if (!select.ColumnIsNull(0)) oldest = select.ColumnInt64(0);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    server::LogJson("error", "outbox age unreadable", {{"error", status.ToString()}});
    return absl::InfiniteDuration();
  }
  if (!oldest.has_value()) return absl::ZeroDuration();
  return std::max(clock_->Now() - absl::FromUnixMicros(*oldest), absl::ZeroDuration());
}

void Relay::ExportMetrics(server::Metrics* metrics, const std::string& prefix) const {
  metrics->AddGauge(absl::StrCat("market_", prefix, "_outbox_depth"),
                    "Outbox events not yet delivered (-1: database unreadable).",
                    [this] { return static_cast<double>(Depth()); });
  metrics->AddGauge(absl::StrCat("market_", prefix, "_outbox_oldest_age_seconds"),
                    "Age of the oldest undelivered outbox event (0: none, -1: database "
                    "unreadable).",
                    [this] {
                      absl::Duration age = OldestAge();
                      return age == absl::InfiniteDuration() ? -1.0 : absl::ToDoubleSeconds(age);
                    });
}

}  // namespace market::outbox
