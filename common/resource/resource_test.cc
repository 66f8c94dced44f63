#include "common/resource/resource.h"

#include "gtest/gtest.h"

namespace market {
namespace {

TEST(ResourceTest, TimestampRoundTrips) {
  absl::Time t = absl::FromUnixNanos(1'790'000'000'123'456'789);
  EXPECT_EQ(FromTimestamp(ToTimestamp(t)), t);
}

TEST(ResourceTest, FarFutureTimestampDoesNotOverflow) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(10'000'000'000);  // year 2286
  EXPECT_EQ(FromTimestamp(ts), absl::FromUnixSeconds(10'000'000'000));
}

TEST(ResourceTest, VersionEtagIsQuoted) { EXPECT_EQ(VersionEtag(3), "\"v3\""); }

TEST(ResourceTest, CountsCodePointsNotBytes) {
  EXPECT_EQ(Utf8CharCount("abc"), 3u);
  EXPECT_EQ(Utf8CharCount("东城跳蚤市场"), 6u);
  EXPECT_EQ(Utf8CharCount(""), 0u);
}

}  // namespace
}  // namespace market
