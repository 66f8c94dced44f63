// Price histograms whose size does not grow with the number of orders, for
// the trade median: a price counts in its bucket, the price rounded down to
// 3 significant decimal digits (prices under 1,000 fen are their own bucket),
// so a bucket's lower bound is within 1% of every price in it and there are
// at most 900 buckets per power of ten. A median taken over buckets is the
// bucket of the exact median (the bucket function is monotone), i.e. the
// exact lower median rounded down to 3 significant digits.
// Stored as a blob of varint pairs (bucket index delta, count), ascending.
// Pure functions and a value type; not thread-safe.
#ifndef MARKET_SERVICES_STATS_PRICE_HISTOGRAM_H_
#define MARKET_SERVICES_STATS_PRICE_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace market::stats {

// The lower bound of `price_fen`'s bucket (price_fen >= 0).
int64_t PriceBucket(int64_t price_fen);
// Dense bucket numbers: ascending with the bucket, 0..15399 for any int64.
int BucketIndex(int64_t price_fen);
int64_t BucketOfIndex(int index);

// A sparse histogram: (bucket index, count) ascending by index.
using SparseHistogram = std::vector<std::pair<int, int64_t>>;
std::string EncodeHistogram(const SparseHistogram& h);
// False when `blob` is not a well-formed histogram (then `out` is partial).
bool DecodeHistogram(absl::string_view blob, SparseHistogram& out);
// Adds `n` prices of bucket index `index` to `h`, keeping it sorted.
void AddToHistogram(SparseHistogram& h, int index, int64_t n);

// Histograms of one group merged (dense by bucket index), for the median.
class MergedHistogram {
 public:
  void Add(int index, int64_t n);
  // Adds an encoded histogram without materializing it (the query's hot
  // path); false when `blob` is malformed (what precedes the fault is added).
  bool AddEncoded(absl::string_view blob);
  // The bucket holding the 1-based `rank`-th smallest price; 0 when the
  // histogram holds fewer than `rank` prices.
  int64_t BucketOfRank(int64_t rank) const;

 private:
  std::vector<int64_t> counts_;
};

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_PRICE_HISTOGRAM_H_
