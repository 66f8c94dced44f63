#include "common/resource/names.h"

#include <string>
#include <vector>

#include "common/status/status.h"
#include "gtest/gtest.h"

namespace market {
namespace {

std::vector<FieldViolation> Violated(const Violations& v) {
  return FieldViolationsOf(v.ToStatus());
}

TEST(NamesTest, EmptyOrValidResourceIdPasses) {
  Violations v;
  CheckResourceId(v, "market_id", "");
  CheckResourceId(v, "market_id", "fuzhou-2");
  EXPECT_TRUE(v.empty());
}

TEST(NamesTest, BadResourceIdNamesTheField) {
  Violations v;
  CheckResourceId(v, "market_id", "2-bad");
  std::vector<FieldViolation> got = Violated(v);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].field, "market_id");
  EXPECT_EQ(got[0].description, "want 4-63 characters of [a-z0-9-] starting with a letter");
}

TEST(NamesTest, RequestIdUpTo64CharactersPasses) {
  Violations v;
  CheckRequestId(v, "");
  CheckRequestId(v, std::string(64, 'r'));
  EXPECT_TRUE(v.empty());
  CheckRequestId(v, std::string(65, 'r'));
  std::vector<FieldViolation> got = Violated(v);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].field, "request_id");
  EXPECT_EQ(got[0].description, "longer than 64 characters");
}

}  // namespace
}  // namespace market
