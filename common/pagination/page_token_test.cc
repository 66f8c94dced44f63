#include "common/pagination/page_token.h"

#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market {
namespace {

using ::market::testing::StatusIs;

TEST(PageTokenTest, RoundTripsPosition) {
  PageTokenCodec codec("0123456789abcdef0123");
  std::string token = codec.Encode("ListSubjects|role=SELLER", "subjects/k\x01z");
  ASSERT_OK_AND_ASSIGN(std::string pos, codec.Decode("ListSubjects|role=SELLER", token));
  EXPECT_EQ(pos, "subjects/k\x01z");
}

TEST(PageTokenTest, AlteredTokenIsInvalidArgumentNamingField) {
  PageTokenCodec codec("0123456789abcdef0123");
  std::string token = codec.Encode("q", "subjects/abc");
  token[2] = token[2] == 'A' ? 'B' : 'A';
  auto decoded = codec.Decode("q", token);
  EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldViolationsOf(decoded.status()).size(), 1u);
  EXPECT_EQ(FieldViolationsOf(decoded.status())[0].field, "page_token");
}

TEST(PageTokenTest, TokenForOtherQueryIsRejected) {
  PageTokenCodec codec("0123456789abcdef0123");
  std::string token = codec.Encode("ListSubjects|role=SELLER", "subjects/a");
  EXPECT_THAT(codec.Decode("ListSubjects|role=BUYER", token),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PageTokenTest, TokenFromOtherSecretIsRejected) {
  PageTokenCodec a("secret-a-secret-a"), b("secret-b-secret-b");
  EXPECT_THAT(b.Decode("q", a.Encode("q", "x")), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PageTokenTest, GarbageIsRejected) {
  PageTokenCodec codec("0123456789abcdef0123");
  EXPECT_THAT(codec.Decode("q", "!!!"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(codec.Decode("q", "abc"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PageSizeTest, DefaultsAndBounds) {
  EXPECT_EQ(*EffectivePageSize(0), 50);
  EXPECT_EQ(*EffectivePageSize(7), 7);
  EXPECT_THAT(EffectivePageSize(-1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EffectivePageSize(1001), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace market
