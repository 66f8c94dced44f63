// Leader/follower batching of concurrent requests: each caller queues an item
// and either becomes the leader, which runs queued items in batches of at most
// `max_batch` until its own item is settled, or waits until a leader settled
// it. No timer: a caller waits for at most the batch in progress plus the one
// that holds its item (more only when over max_batch callers queue at once).
// Thread-safe. The run function is called by one thread at a time.
#ifndef MARKET_COMMON_SQLITE_COALESCER_H_
#define MARKET_COMMON_SQLITE_COALESCER_H_

#include <cstddef>
#include <deque>
#include <span>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace market::sqlite {

template <typename Item>
class Coalescer {
 public:
  explicit Coalescer(size_t max_batch) : max_batch_(max_batch < 1 ? 1 : max_batch) {}

  // Queues `item` and returns once `run` (of this or another caller; every
  // caller must pass an equivalent function) has been given it in a batch and
  // returned. `run` must settle every item it is given (store its result in
  // the item); it runs without the queue lock held.
  template <typename Run>
  void Submit(Item* item, Run&& run) ABSL_LOCKS_EXCLUDED(mu_) {
    Entry entry{item, false};
    absl::MutexLock lock(&mu_);
    queue_.push_back(&entry);
    auto ready = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return entry.done || !leader_active_; };
    mu_.Await(absl::Condition(&ready));
    if (entry.done) return;
    leader_active_ = true;
    while (!entry.done) {
      std::vector<Entry*> taken;
      std::vector<Item*> batch;
      while (!queue_.empty() && taken.size() < max_batch_) {
        taken.push_back(queue_.front());
        batch.push_back(queue_.front()->item);
        queue_.pop_front();
      }
      mu_.Unlock();
      run(std::span<Item* const>(batch));
      mu_.Lock();
      for (Entry* e : taken) e->done = true;
    }
    leader_active_ = false;
  }

  // Items queued and not yet taken into a batch.
  size_t Queued() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

 private:
  struct Entry {
    Item* item;
    bool done;
  };

  const size_t max_batch_;
  mutable absl::Mutex mu_;
  std::deque<Entry*> queue_ ABSL_GUARDED_BY(mu_);
  bool leader_active_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace market::sqlite

#endif  // MARKET_COMMON_SQLITE_COALESCER_H_
