#include "services/webhook/webhook_secret_box.h"

#include "gtest/gtest.h"

namespace market::webhook {
namespace {

SecretBox Box(char fill) { return *SecretBox::FromKey(std::string(SecretBox::kKeySize, fill)); }

TEST(SecretBoxTest, SealedSecretOpensWithTheSameKeyAndName) {
  SecretBox box = Box('a');
  auto sealed = box.Seal("whsec_abc", "webhooks/1");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_TRUE(SecretBox::IsSealed(*sealed));
  EXPECT_EQ(sealed->find("whsec_abc"), std::string::npos);
  auto opened = box.Open(*sealed, "webhooks/1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "whsec_abc");
}

TEST(SecretBoxTest, EachSealUsesAFreshNonce) {
  SecretBox box = Box('a');
  EXPECT_NE(*box.Seal("whsec_abc", "webhooks/1"), *box.Seal("whsec_abc", "webhooks/1"));
}

TEST(SecretBoxTest, AnotherKeyOrAnotherWebhookDoesNotOpenIt) {
  std::string sealed = *Box('a').Seal("whsec_abc", "webhooks/1");
  EXPECT_EQ(Box('b').Open(sealed, "webhooks/1").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Box('a').Open(sealed, "webhooks/2").status().code(), absl::StatusCode::kDataLoss);
}

TEST(SecretBoxTest, AlteredOrMalformedValueIsDataLoss) {
  SecretBox box = Box('a');
  std::string sealed = *box.Seal("whsec_abc", "webhooks/1");
  sealed[sealed.size() / 2] = sealed[sealed.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(box.Open(sealed, "webhooks/1").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(box.Open("v1.", "webhooks/1").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(box.Open("whsec_abc", "webhooks/1").status().code(), absl::StatusCode::kDataLoss);
}

TEST(SecretBoxTest, KeyMustBe32Bytes) {
  EXPECT_EQ(SecretBox::FromKey("short").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace market::webhook
