// Price buckets and histogram blobs: the documented precision, monotonicity,
// and the median rank over merged histograms.
#include "services/stats/price_histogram.h"

#include <algorithm>
#include <random>

#include "gtest/gtest.h"

namespace market::stats {
namespace {

TEST(PriceBucketTest, KeepsThreeSignificantDigitsRoundedDown) {
  EXPECT_EQ(PriceBucket(0), 0);
  EXPECT_EQ(PriceBucket(999), 999);
  EXPECT_EQ(PriceBucket(1000), 1000);
  EXPECT_EQ(PriceBucket(1009), 1000);
  EXPECT_EQ(PriceBucket(1010), 1010);
  EXPECT_EQ(PriceBucket(123456), 123000);
  EXPECT_EQ(PriceBucket(999999), 999000);
  EXPECT_EQ(PriceBucket(1000000), 1000000);
  EXPECT_EQ(PriceBucket(INT64_MAX), 9220000000000000000);
}

TEST(PriceBucketTest, IsMonotoneWithinOnePercentAndIndexedDensely) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    int64_t a = static_cast<int64_t>(rng() >> (1 + rng() % 62));
    int64_t b = a + static_cast<int64_t>(rng() % 5000);
    ASSERT_LE(PriceBucket(a), PriceBucket(b)) << a << " " << b;
    ASSERT_LE(PriceBucket(a), a);
    ASSERT_GE(PriceBucket(a) * 1.01, static_cast<double>(a)) << a;
    ASSERT_EQ(BucketOfIndex(BucketIndex(a)), PriceBucket(a));
    ASSERT_LE(BucketIndex(a), BucketIndex(b));
  }
  EXPECT_EQ(BucketIndex(1000) - BucketIndex(999), 1);
  EXPECT_EQ(BucketIndex(10000) - BucketIndex(9990), 1);
}

TEST(HistogramBlobTest, RoundTripsAndRejectsATruncatedBlob) {
  SparseHistogram h;
  AddToHistogram(h, BucketIndex(123456), 2);
  AddToHistogram(h, BucketIndex(5), 1);
  AddToHistogram(h, BucketIndex(123999), 300);
  AddToHistogram(h, BucketIndex(INT64_MAX), 1);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0], std::make_pair(5, int64_t{1}));
  EXPECT_EQ(h[1].second, 302);
  SparseHistogram back;
  std::string blob = EncodeHistogram(h);
  ASSERT_TRUE(DecodeHistogram(blob, back));
  EXPECT_EQ(back, h);
  EXPECT_FALSE(DecodeHistogram(blob.substr(0, blob.size() - 1) + "\x80", back));
}

TEST(MergedHistogramTest, RankGivesTheBucketOfTheExactOrderStatistic) {
  std::mt19937_64 rng(9);
  std::vector<int64_t> prices;
  MergedHistogram merged;
  SparseHistogram part;
  for (int i = 0; i < 2001; ++i) {
    int64_t p = static_cast<int64_t>(rng() % 2'000'000);
    prices.push_back(p);
    if (i % 2) {
      AddToHistogram(part, BucketIndex(p), 1);
    } else {
      merged.Add(BucketIndex(p), 1);
    }
  }
  ASSERT_TRUE(merged.AddEncoded(EncodeHistogram(part)));
  std::sort(prices.begin(), prices.end());
  for (int64_t rank : {1, 2, 1000, 1001, 2001}) {
    EXPECT_EQ(merged.BucketOfRank(rank), PriceBucket(prices[rank - 1])) << rank;
  }
  EXPECT_EQ(merged.BucketOfRank(2002), 0);
}

TEST(MergedHistogramTest, AMalformedBlobIsRefused) {
  MergedHistogram merged;
  EXPECT_FALSE(merged.AddEncoded("\x01\x80"));                   // count cut short
  EXPECT_FALSE(merged.AddEncoded(EncodeHistogram({{20000, 1}})));  // past the last bucket
}

}  // namespace
}  // namespace market::stats
