#include "services/webhook/webhook_signature.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "gtest/gtest.h"

namespace market::webhook {
namespace {

const absl::Time kT = absl::FromUnixSeconds(1796000000);
constexpr char kSecret[] = "whsec_0123";
constexpr char kBody[] = R"({"id":"e1","type":"claim.filed"})";

TEST(WebhookSignatureTest, HeaderIsTimestampAndHmacOfTimestampDotBody) {
  EXPECT_EQ(SignatureHeader(kSecret, kT, kBody),
            absl::StrCat("t=1796000000,v1=",
                         HexEncode(HmacSha256(kSecret, absl::StrCat("1796000000.", kBody)))));
}

TEST(WebhookSignatureTest, VerifiesItsOwnSignatureWithinTolerance) {
  EXPECT_TRUE(VerifySignature(kSecret, SignatureHeader(kSecret, kT, kBody), kBody,
                              kT + absl::Minutes(4))
                  .ok());
}

TEST(WebhookSignatureTest, RejectsAnotherSecret) {
  EXPECT_EQ(VerifySignature("whsec_other", SignatureHeader(kSecret, kT, kBody), kBody, kT).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(WebhookSignatureTest, RejectsAChangedBody) {
  EXPECT_EQ(VerifySignature(kSecret, SignatureHeader(kSecret, kT, kBody), "{}", kT).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(WebhookSignatureTest, RejectsAChangedTimestamp) {
  std::string header = SignatureHeader(kSecret, kT, kBody);
  header.replace(2, 10, "1796000001");
  EXPECT_EQ(VerifySignature(kSecret, header, kBody, kT).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(WebhookSignatureTest, RejectsATimestampOlderThanFiveMinutes) {
  EXPECT_EQ(VerifySignature(kSecret, SignatureHeader(kSecret, kT, kBody), kBody,
                            kT + absl::Minutes(5) + absl::Seconds(1))
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(WebhookSignatureTest, RejectsATimestampFromTheFuture) {
  EXPECT_EQ(VerifySignature(kSecret, SignatureHeader(kSecret, kT, kBody), kBody,
                            kT - absl::Minutes(6))
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(WebhookSignatureTest, AcceptsAnyMatchingV1AmongSeveral) {
  std::string header = SignatureHeader(kSecret, kT, kBody);
  header.insert(header.find(",v1="), ",v1=00ff");
  EXPECT_TRUE(VerifySignature(kSecret, header, kBody, kT).ok());
}

TEST(WebhookSignatureTest, MalformedHeaderIsInvalidArgument) {
  for (const char* header : {"", "v1=abcd", "t=12", "t=x,v1=ab", "garbage"}) {
    EXPECT_EQ(VerifySignature(kSecret, header, kBody, kT).code(),
              absl::StatusCode::kInvalidArgument)
        << header;
  }
}

}  // namespace
}  // namespace market::webhook
