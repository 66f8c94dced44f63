#include "common/crypto/crypto.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market {
namespace {

using ::market::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

// ---- Hashes, MACs, randomness ----

TEST(Sha256Test, EmptyStringMatchesFipsVector) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, AbcMatchesFipsVector) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HmacSha256Test, Rfc4231TestCase1) {
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, Rfc4231TestCase2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, EmptyKeyAndMessage) {
  // Well-known HMAC-SHA-256("", "").
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(RandomBytesTest, ReturnsRequestedLength) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(33).size(), 33u);
}

TEST(RandomBytesTest, TwoDrawsDiffer) { EXPECT_NE(RandomBytes(16), RandomBytes(16)); }

TEST(ConstantTimeEqualsTest, EqualStrings) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(ConstantTimeEqualsTest, DifferentContent) {
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
}

TEST(ConstantTimeEqualsTest, DifferentLength) {
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

// ---- Encodings ----

TEST(HexEncodeTest, LowerCase) { EXPECT_EQ(HexEncode(std::string("\x00\xab\xff", 3)), "00abff"); }

TEST(Base64UrlTest, RoundTripsAllByteValues) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t len : {0, 1, 2, 3, 4, 255, 256}) {
    const std::string input = bytes.substr(0, len);
    const std::string encoded = Base64UrlEncode(input);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos) << encoded;
    ASSERT_OK_AND_ASSIGN(std::string decoded, Base64UrlDecode(encoded));
    EXPECT_EQ(decoded, input);
  }
}

TEST(Base64UrlTest, EncodesWithoutPadding) { EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8"); }

TEST(Base64UrlTest, DecodeRejectsPaddingAndStandardAlphabet) {
  EXPECT_THAT(Base64UrlDecode("-_8="), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64UrlDecode("+/8"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Base64UrlTest, DecodeRejectsGarbage) {
  EXPECT_THAT(Base64UrlDecode("a b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64UrlDecode("a"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Base64UrlTest, DecodeRejectsNonCanonicalTrailingBits) {
  // "-_8" is canonical for 0xfb 0xff; "-_9" differs only in unused low bits.
  EXPECT_THAT(Base64UrlDecode("-_9"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Base64Test, RoundTripWithPadding) {
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  ASSERT_OK_AND_ASSIGN(std::string decoded, Base64Decode("+/8="));
  EXPECT_EQ(decoded, "\xfb\xff");
}

TEST(Base64Test, DecodeRejectsMissingPaddingAndUrlAlphabet) {
  EXPECT_THAT(Base64Decode("+/8"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64Decode("-_8="), StatusIs(absl::StatusCode::kInvalidArgument));
}

// ---- Ed25519 ----

constexpr char kRfc8032Secret[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kRfc8032Public[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr char kRfc8032Signature[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b";

TEST(Ed25519Test, Rfc8032Vector1PublicKey) {
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key, Ed25519PrivateKey::FromSeed(Hex(kRfc8032Secret)));
  EXPECT_EQ(HexEncode(key.PublicKeyRaw()), kRfc8032Public);
}

TEST(Ed25519Test, Rfc8032Vector1Signature) {
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key, Ed25519PrivateKey::FromSeed(Hex(kRfc8032Secret)));
  ASSERT_OK_AND_ASSIGN(std::string signature, key.Sign(""));
  EXPECT_EQ(HexEncode(signature), kRfc8032Signature);
}

TEST(Ed25519Test, Rfc8032Vector1Verifies) {
  ASSERT_OK_AND_ASSIGN(Ed25519PublicKey key, Ed25519PublicKey::FromRaw(Hex(kRfc8032Public)));
  EXPECT_TRUE(key.Verify("", Hex(kRfc8032Signature)));
}

TEST(Ed25519Test, FromSeedRejectsWrongSize) {
  EXPECT_THAT(Ed25519PrivateKey::FromSeed(std::string(31, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("31 bytes, want 32")));
}

TEST(Ed25519Test, PublicFromRawRejectsWrongSize) {
  EXPECT_THAT(Ed25519PublicKey::FromRaw(std::string(33, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

class Ed25519KeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
    key_ = std::make_unique<Ed25519PrivateKey>(std::move(key));
  }

  std::unique_ptr<Ed25519PrivateKey> key_;
};

TEST_F(Ed25519KeyTest, SignVerifyRoundTrip) {
  ASSERT_OK_AND_ASSIGN(std::string signature, key_->Sign("listing 42 sold"));
  EXPECT_EQ(signature.size(), kEd25519SignatureSize);
  EXPECT_TRUE(key_->PublicKey().Verify("listing 42 sold", signature));
}

TEST_F(Ed25519KeyTest, VerifyFailsOnAlteredMessage) {
  ASSERT_OK_AND_ASSIGN(std::string signature, key_->Sign("listing 42 sold"));
  EXPECT_FALSE(key_->PublicKey().Verify("listing 43 sold", signature));
}

TEST_F(Ed25519KeyTest, VerifyFailsOnAlteredSignature) {
  ASSERT_OK_AND_ASSIGN(std::string signature, key_->Sign("listing 42 sold"));
  signature[10] ^= 0x01;
  EXPECT_FALSE(key_->PublicKey().Verify("listing 42 sold", signature));
}

TEST_F(Ed25519KeyTest, VerifyFailsOnWrongSignatureLength) {
  ASSERT_OK_AND_ASSIGN(std::string signature, key_->Sign("m"));
  EXPECT_FALSE(key_->PublicKey().Verify("m", signature.substr(0, 63)));
  EXPECT_FALSE(key_->PublicKey().Verify("m", signature + "x"));
}

TEST_F(Ed25519KeyTest, VerifyFailsUnderOtherKey) {
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey other, Ed25519PrivateKey::Generate());
  ASSERT_OK_AND_ASSIGN(std::string signature, key_->Sign("m"));
  EXPECT_FALSE(other.PublicKey().Verify("m", signature));
}

TEST_F(Ed25519KeyTest, TwoGeneratedKeysDiffer) {
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey other, Ed25519PrivateKey::Generate());
  EXPECT_NE(key_->PublicKeyRaw(), other.PublicKeyRaw());
}

TEST_F(Ed25519KeyTest, PrivatePemRoundTrip) {
  const std::string pem = key_->ToPem();
  EXPECT_THAT(pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey loaded, Ed25519PrivateKey::FromPem(pem));
  EXPECT_EQ(loaded.PublicKeyRaw(), key_->PublicKeyRaw());
  ASSERT_OK_AND_ASSIGN(std::string signature, loaded.Sign("m"));
  EXPECT_TRUE(key_->PublicKey().Verify("m", signature));
}

TEST_F(Ed25519KeyTest, PublicPemRoundTrip) {
  const std::string pem = key_->PublicKeyPem();
  EXPECT_THAT(pem, StartsWith("-----BEGIN PUBLIC KEY-----\n"));
  ASSERT_OK_AND_ASSIGN(Ed25519PublicKey loaded, Ed25519PublicKey::FromPem(pem));
  EXPECT_EQ(loaded.Raw(), key_->PublicKeyRaw());
  EXPECT_EQ(loaded.Pem(), pem);
}

TEST_F(Ed25519KeyTest, PublicKeyCopiesShareKey) {
  const Ed25519PublicKey original = key_->PublicKey();
  Ed25519PublicKey copy = original;
  ASSERT_OK_AND_ASSIGN(std::string signature, key_->Sign("m"));
  EXPECT_EQ(copy.Raw(), original.Raw());
  EXPECT_TRUE(copy.Verify("m", signature));
}

TEST_F(Ed25519KeyTest, PrivateFromPemRejectsPublicPem) {
  EXPECT_THAT(Ed25519PrivateKey::FromPem(key_->PublicKeyPem()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(Ed25519KeyTest, PublicFromPemRejectsPrivatePem) {
  EXPECT_THAT(Ed25519PublicKey::FromPem(key_->ToPem()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Ed25519PemTest, FromPemRejectsGarbage) {
  EXPECT_THAT(Ed25519PrivateKey::FromPem("not a pem"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Ed25519PublicKey::FromPem(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Ed25519PemTest, FromPemRejectsOtherAlgorithm) {
  // An EC P-256 PKCS#8 key (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256).
  constexpr char kEcPem[] =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgW8xpiLN0sDC12oEw\n"
      "SkwyFsxzrJfpMJQ8+X/7k+wy8FOhRANCAAQISE81xpnHhGrsX5fveWS+Tp+bIWCR\n"
      "QUTJOGa3Cu1PI/YG9pm08P/qE4F9mkKM+vbbbwBlkxtv6nkAbpU+4+ZX\n"
      "-----END PRIVATE KEY-----\n";
  EXPECT_THAT(Ed25519PrivateKey::FromPem(kEcPem),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("want ED25519")));
}

// ---- Key files ----

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "/crypto_test_key_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".pem");
    std::remove(path_.c_str());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  mode_t ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  std::string path_;
};

TEST_F(KeyFileTest, WriteCreatesFileWithMode0600) {
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  ASSERT_OK(WritePrivateKeyFile(path_, key));
  EXPECT_EQ(ModeOf(path_), 0600u);
}

TEST_F(KeyFileTest, WriteResetsModeOfExistingFile) {
  { std::ofstream(path_) << "old contents that are longer than nothing"; }
  ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  ASSERT_OK(WritePrivateKeyFile(path_, key));
  EXPECT_EQ(ModeOf(path_), 0600u);
}

TEST_F(KeyFileTest, ReadReturnsWrittenKey) {
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  ASSERT_OK(WritePrivateKeyFile(path_, key));
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey loaded, ReadPrivateKeyFile(path_));
  EXPECT_EQ(loaded.PublicKeyRaw(), key.PublicKeyRaw());
}

TEST_F(KeyFileTest, ReadMissingFileIsNotFound) {
  EXPECT_THAT(ReadPrivateKeyFile(path_), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KeyFileTest, ReadNonPemIsInvalidArgument) {
  { std::ofstream(path_) << "garbage"; }
  EXPECT_THAT(ReadPrivateKeyFile(path_), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(KeyFileTest, WriteIntoMissingDirectoryIsNotFound) {
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  EXPECT_THAT(WritePrivateKeyFile(path_ + ".d/key.pem", key),
              StatusIs(absl::StatusCode::kNotFound));
}

// ---- Password hashing ----

constexpr int kFastLog2N = 10;

TEST(PasswordTest, DefaultHashHasDocumentedFormatAndVerifies) {
  ASSERT_OK_AND_ASSIGN(std::string encoded, HashPassword("correct horse"));
  // 16-byte salt -> 22 chars, 32-byte hash -> 43 chars of unpadded base64.
  EXPECT_THAT(encoded, MatchesRegex("\\$scrypt\\$ln=15,r=8,p=1\\$[A-Za-z0-9+/]{22}\\$"
                                    "[A-Za-z0-9+/]{43}"));
  ASSERT_OK_AND_ASSIGN(bool ok, VerifyPassword("correct horse", encoded));
  EXPECT_TRUE(ok);
}

TEST(PasswordTest, CorrectPasswordVerifies) {
  ASSERT_OK_AND_ASSIGN(std::string encoded, HashPasswordWithCost("hunter2", kFastLog2N));
  EXPECT_THAT(encoded, StartsWith("$scrypt$ln=10,r=8,p=1$"));
  ASSERT_OK_AND_ASSIGN(bool ok, VerifyPassword("hunter2", encoded));
  EXPECT_TRUE(ok);
}

TEST(PasswordTest, WrongPasswordFails) {
  ASSERT_OK_AND_ASSIGN(std::string encoded, HashPasswordWithCost("hunter2", kFastLog2N));
  ASSERT_OK_AND_ASSIGN(bool ok, VerifyPassword("hunter3", encoded));
  EXPECT_FALSE(ok);
}

TEST(PasswordTest, EmptyPasswordHashesAndVerifies) {
  ASSERT_OK_AND_ASSIGN(std::string encoded, HashPasswordWithCost("", kFastLog2N));
  ASSERT_OK_AND_ASSIGN(bool ok, VerifyPassword("", encoded));
  EXPECT_TRUE(ok);
}

TEST(PasswordTest, TwoHashesOfOnePasswordDiffer) {
  ASSERT_OK_AND_ASSIGN(std::string a, HashPasswordWithCost("hunter2", kFastLog2N));
  ASSERT_OK_AND_ASSIGN(std::string b, HashPasswordWithCost("hunter2", kFastLog2N));
  EXPECT_NE(a, b);
}

TEST(PasswordTest, VerifiesRfc7914Vector) {
  // RFC 7914 §12: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1, 64).
  const std::string hash =
      Hex("7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
          "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
  std::string salt_b64 = absl::Base64Escape("SodiumChloride");
  std::string hash_b64 = absl::Base64Escape(hash);
  while (salt_b64.back() == '=') salt_b64.pop_back();
  while (hash_b64.back() == '=') hash_b64.pop_back();
  const std::string encoded = absl::StrCat("$scrypt$ln=14,r=8,p=1$", salt_b64, "$", hash_b64);
  ASSERT_OK_AND_ASSIGN(bool ok, VerifyPassword("pleaseletmein", encoded));
  EXPECT_TRUE(ok);
}

TEST(PasswordTest, CostOutOfRangeIsInvalidArgument) {
  EXPECT_THAT(HashPasswordWithCost("x", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HashPasswordWithCost("x", kMaxPasswordLog2N + 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PasswordTest, MalformedEncodedIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(std::string good, HashPasswordWithCost("pw", kFastLog2N));
  const std::string salt_and_hash = good.substr(good.find("$", 8));  // "$<salt>$<hash>"
  for (const std::string& bad : {
           std::string(""), std::string("plaintext"),
           std::string("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"),
           "$scrypt$ln=10,r=8" + salt_and_hash, "$scrypt$ln=10,p=1,r=8" + salt_and_hash,
           "$scrypt$ln=+10,r=8,p=1" + salt_and_hash, "$scrypt$ln=010,r=8,p=1" + salt_and_hash,
           "$scrypt$ln=0,r=8,p=1" + salt_and_hash, "$scrypt$ln=64,r=8,p=1" + salt_and_hash,
           "$scrypt$ln=20,r=32,p=1" + salt_and_hash,  // 4 GiB
           "$scrypt$ln=10,r=8,p=0" + salt_and_hash, good + "$extra", good + "=",
           good.substr(0, good.size() - 1) + "!", good.substr(0, good.rfind('$')),
           "$scrypt$ln=10,r=8,p=1$c2FsdA$" + good.substr(good.rfind('$') + 1),  // 4-byte salt
       }) {
    EXPECT_THAT(VerifyPassword("pw", bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(EncodingTest, IsSha256HexWantsSixtyFourLowerCaseHexCharacters) {
  EXPECT_TRUE(IsSha256Hex(HexEncode(Sha256("x"))));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a')));
  EXPECT_FALSE(IsSha256Hex(std::string(65, 'a')));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'A')));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a') + "g"));
}

}  // namespace
}  // namespace market
