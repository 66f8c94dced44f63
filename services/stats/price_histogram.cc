#include "services/stats/price_histogram.h"

#include <algorithm>

namespace market::stats {

namespace {

constexpr int kExact = 1000;       // prices below this are their own bucket
constexpr int kPerDecade = 900;    // leading digits 100..999

void PutVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(absl::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    uint8_t b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

int BucketIndex(int64_t price_fen) {
  if (price_fen < kExact) return static_cast<int>(std::max<int64_t>(price_fen, 0));
  int dropped = 0;  // decimal digits dropped so that 100 <= lead <= 999
  int64_t lead = price_fen;
  while (lead >= 1000) {
    lead /= 10;
    ++dropped;
  }
  return kExact + (dropped - 1) * kPerDecade + static_cast<int>(lead - 100);
}

int64_t BucketOfIndex(int index) {
  if (index < kExact) return index;
  int64_t value = 100 + (index - kExact) % kPerDecade;
  for (int d = 0; d <= (index - kExact) / kPerDecade; ++d) value *= 10;
  return value;
}

int64_t PriceBucket(int64_t price_fen) { return BucketOfIndex(BucketIndex(price_fen)); }

std::string EncodeHistogram(const SparseHistogram& h) {
  std::string out;
  int previous = 0;
  for (const auto& [index, n] : h) {
    PutVarint(static_cast<uint64_t>(index - previous), out);
    PutVarint(static_cast<uint64_t>(n), out);
    previous = index;
  }
  return out;
}

bool DecodeHistogram(absl::string_view blob, SparseHistogram& out) {
  out.clear();
  uint64_t index = 0;
  while (!blob.empty()) {
    uint64_t delta = 0, n = 0;
    if (!GetVarint(blob, delta) || !GetVarint(blob, n)) return false;
    index += delta;
    if (index > static_cast<uint64_t>(BucketIndex(INT64_MAX))) return false;
    out.emplace_back(static_cast<int>(index), static_cast<int64_t>(n));
  }
  return true;
}

void AddToHistogram(SparseHistogram& h, int index, int64_t n) {
  auto it = std::lower_bound(h.begin(), h.end(), std::make_pair(index, INT64_MIN));
  if (it != h.end() && it->first == index) {
    it->second += n;
  } else {
    h.insert(it, {index, n});
  }
}

void MergedHistogram::Add(int index, int64_t n) {
  if (static_cast<size_t>(index) >= counts_.size()) counts_.resize(index + 1);
  counts_[index] += n;
}

bool MergedHistogram::AddEncoded(absl::string_view blob) {
  static const size_t kMaxIndex = static_cast<size_t>(BucketIndex(INT64_MAX));
  size_t index = 0;
  while (!blob.empty()) {
    uint64_t delta = 0, n = 0;
    // Most deltas and counts take one byte.
    const uint8_t d0 = static_cast<uint8_t>(blob[0]);
    if (d0 < 0x80 && blob.size() >= 2 && static_cast<uint8_t>(blob[1]) < 0x80) {
      delta = d0;
      n = static_cast<uint8_t>(blob[1]);
      blob.remove_prefix(2);
    } else if (!GetVarint(blob, delta) || !GetVarint(blob, n)) {
      return false;
    }
    index += delta;
    if (index > kMaxIndex) return false;
    if (index >= counts_.size()) counts_.resize(index + 1);
    counts_[index] += static_cast<int64_t>(n);
  }
  return true;
}

int64_t MergedHistogram::BucketOfRank(int64_t rank) const {
  if (rank <= 0) return 0;
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank && counts_[i] > 0) return BucketOfIndex(static_cast<int>(i));
  }
  return 0;
}

}  // namespace market::stats
