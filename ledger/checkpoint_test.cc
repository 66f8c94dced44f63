#include "ledger/checkpoint.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "common/crypto/crypto.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::ledger {
namespace {

using ::market::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The roots of the RFC 6962 test tree's first 7 and 8 leaves.
std::string Root(int n) {
  return absl::HexStringToBytes(
      n == 8 ? "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
             : "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c");
}

// ---- Signed notes and checkpoints ----

constexpr absl::string_view kEmDashSpace = "\xE2\x80\x94 ";
constexpr absl::string_view kOrigin = "ledger.market.example.cn/main";

// golang.org/x/mod/sumdb/note's documented example (note.go, note_test.go).
constexpr absl::string_view kGoName = "PeterNeumann";
constexpr absl::string_view kGoPublicKey = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr absl::string_view kGoPrivateKey = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr absl::string_view kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr absl::string_view kGoSignature =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

Ed25519PrivateKey KeyFromSeed(char fill) {
  return *Ed25519PrivateKey::FromSeed(std::string(kEd25519KeySize, fill));
}

Checkpoint TestCheckpoint() { return {.origin = std::string(kOrigin), .size = 8, .root = Root(8)}; }

class CheckpointTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::string> Sign(const Checkpoint& c) { return SignCheckpoint(c, kOrigin, key_); }
  absl::StatusOr<Checkpoint> Verify(absl::string_view note) {
    return VerifyCheckpoint(note, kOrigin, key_.PublicKeyRaw());
  }
  // A note whose (possibly malformed) body carries a valid signature.
  std::string SignedBody(absl::string_view body) { return *SignNote(body, kOrigin, key_); }

  Ed25519PrivateKey key_ = KeyFromSeed('k');
};

TEST_F(CheckpointTest, SignThenVerifyRoundTrips) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  ASSERT_OK_AND_ASSIGN(const Checkpoint got, Verify(note));
  EXPECT_EQ(got.origin, kOrigin);
  EXPECT_EQ(got.size, 8);
  EXPECT_EQ(got.root, Root(8));
}

TEST_F(CheckpointTest, NoteTextHasExactFormat) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  const std::string body =
      absl::StrCat(kOrigin, "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
  EXPECT_EQ(CheckpointBody(TestCheckpoint()), body);
  const std::string prefix = absl::StrCat(body, "\n", kEmDashSpace, kOrigin, " ");
  ASSERT_THAT(note, StartsWith(prefix));
  EXPECT_EQ(prefix.substr(body.size() + 1, 4), "\xE2\x80\x94\x20");
  ASSERT_EQ(note.back(), '\n');
  const std::string encoded = note.substr(prefix.size(), note.size() - prefix.size() - 1);
  ASSERT_OK_AND_ASSIGN(const std::string blob, Base64Decode(encoded));
  ASSERT_EQ(blob.size(), 4 + kEd25519SignatureSize);
  const uint32_t id = NoteKeyId(kOrigin, key_.PublicKeyRaw());
  EXPECT_EQ(blob.substr(0, 4),
            (std::string{static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                         static_cast<char>(id >> 8), static_cast<char>(id)}));
  EXPECT_TRUE(key_.PublicKey().Verify(body, blob.substr(4)));
}

TEST_F(CheckpointTest, KeyIdIsTruncatedSha256OfNameNewlineTypeAndKey) {
  const std::string public_key = key_.PublicKeyRaw();
  std::string preimage(kOrigin);
  preimage += '\n';
  preimage += '\x01';
  preimage += public_key;
  const std::string digest = Sha256(preimage);
  const uint32_t want = (uint32_t{static_cast<unsigned char>(digest[0])} << 24) |
                        (uint32_t{static_cast<unsigned char>(digest[1])} << 16) |
                        (uint32_t{static_cast<unsigned char>(digest[2])} << 8) |
                        uint32_t{static_cast<unsigned char>(digest[3])};
  EXPECT_EQ(NoteKeyId(kOrigin, public_key), want);
}

TEST(SignedNoteTest, KeyIdMatchesGoSumdbVector) {
  ASSERT_OK_AND_ASSIGN(const std::string typed_key, Base64Decode(kGoPublicKey));
  EXPECT_EQ(NoteKeyId(kGoName, typed_key.substr(1)), 0xc74f20a3u);
}

TEST(SignedNoteTest, SignReproducesGoSumdbNote) {
  ASSERT_OK_AND_ASSIGN(const std::string typed_seed, Base64Decode(kGoPrivateKey));
  ASSERT_OK_AND_ASSIGN(const Ed25519PrivateKey key,
                       Ed25519PrivateKey::FromSeed(typed_seed.substr(1)));
  ASSERT_OK_AND_ASSIGN(const std::string note, SignNote(kGoText, kGoName, key));
  EXPECT_EQ(note, absl::StrCat(kGoText, "\n", kEmDashSpace, kGoName, " ", kGoSignature, "\n"));
}

TEST(SignedNoteTest, OpenAcceptsGoSumdbNote) {
  ASSERT_OK_AND_ASSIGN(const std::string typed_key, Base64Decode(kGoPublicKey));
  const std::string note =
      absl::StrCat(kGoText, "\n", kEmDashSpace, kGoName, " ", kGoSignature, "\n");
  ASSERT_OK_AND_ASSIGN(const std::string text, OpenNote(note, kGoName, typed_key.substr(1)));
  EXPECT_EQ(text, kGoText);
}

TEST_F(CheckpointTest, AlteredSizeIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  EXPECT_THAT(Verify(absl::StrReplaceAll(note, {{"\n8\n", "\n9\n"}})),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, AlteredRootIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  const std::string altered =
      absl::StrReplaceAll(note, {{Base64Encode(Root(8)), Base64Encode(Root(7))}});
  ASSERT_NE(altered, note);
  EXPECT_THAT(Verify(altered), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, AlteredOriginIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  ASSERT_TRUE(absl::StartsWith(note, kOrigin));
  EXPECT_THAT(Verify(absl::StrCat("x", note)), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, AlteredSignatureIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  const size_t start = note.rfind(' ') + 1;
  ASSERT_OK_AND_ASSIGN(std::string blob, Base64Decode(note.substr(start, note.size() - start - 1)));
  blob[40] ^= 0x01;
  EXPECT_THAT(Verify(absl::StrCat(note.substr(0, start), Base64Encode(blob), "\n")),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, SignatureByAnotherKeyOnlyIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(TestCheckpoint(), kOrigin, KeyFromSeed('x')));
  EXPECT_THAT(Verify(note), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(CheckpointTest, ExtraSignatureLinesByOtherKeysAreIgnored) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  // A witness with another name, and another key using the log's own name.
  const std::string witness_line =
      SignNote(CheckpointBody(TestCheckpoint()), "witness.example/w1", KeyFromSeed('w'))
          ->substr(CheckpointBody(TestCheckpoint()).size() + 1);
  const std::string same_name_line =
      SignNote(CheckpointBody(TestCheckpoint()), kOrigin, KeyFromSeed('x'))
          ->substr(CheckpointBody(TestCheckpoint()).size() + 1);
  const std::string own_line = note.substr(CheckpointBody(TestCheckpoint()).size() + 1);
  const std::string cosigned =
      absl::StrCat(CheckpointBody(TestCheckpoint()), "\n", witness_line, same_name_line, own_line);
  ASSERT_OK_AND_ASSIGN(const Checkpoint got, Verify(cosigned));
  EXPECT_EQ(got.size, 8);
  EXPECT_OK(VerifyCheckpoint(cosigned, "witness.example/w1", KeyFromSeed('w').PublicKeyRaw()));
}

TEST_F(CheckpointTest, NonDecimalSizeIsInvalidArgument) {
  for (absl::string_view size : {"08", "-8", "+8", "8x", "0x8", "", "99999999999999999999"}) {
    const std::string body = absl::StrCat(kOrigin, "\n", size, "\n", Base64Encode(Root(8)), "\n");
    EXPECT_THAT(Verify(SignedBody(body)), StatusIs(absl::StatusCode::kInvalidArgument))
        << "size \"" << size << "\"";
  }
}

TEST_F(CheckpointTest, RootNot32BytesIsInvalidArgument) {
  for (const std::string& root : {Base64Encode(Root(8).substr(1)), Base64Encode(Root(8) + "x"),
                                  std::string("not base64"), std::string("")}) {
    const std::string body = absl::StrCat(kOrigin, "\n8\n", root, "\n");
    EXPECT_THAT(Verify(SignedBody(body)), StatusIs(absl::StatusCode::kInvalidArgument))
        << "root \"" << root << "\"";
  }
}

TEST_F(CheckpointTest, LinesWithExtraWhitespaceAreInvalidArgument) {
  const std::string root = Base64Encode(Root(8));
  for (const std::string& body :
       {absl::StrCat(" ", kOrigin, "\n8\n", root, "\n"),
        absl::StrCat(kOrigin, " \n8\n", root, "\n"), absl::StrCat(kOrigin, "\n 8\n", root, "\n"),
        absl::StrCat(kOrigin, "\n8 \n", root, "\n"), absl::StrCat(kOrigin, "\n8\n", root, " \n"),
        absl::StrCat(kOrigin, "\n8\n ", root, "\n")}) {
    EXPECT_THAT(Verify(SignedBody(body)), StatusIs(absl::StatusCode::kInvalidArgument)) << body;
  }
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  EXPECT_THAT(Verify(absl::StrReplaceAll(note, {{kEmDashSpace, "\xE2\x80\x94  "}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Verify(absl::StrCat(note.substr(0, note.size() - 1), " \n")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CheckpointTest, ExtensionLinesAreInvalidArgument) {
  const std::string body = absl::StrCat(CheckpointBody(TestCheckpoint()), "extension\n");
  EXPECT_THAT(Verify(SignedBody(body)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CheckpointTest, MalformedNoteIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(const std::string note, Sign(TestCheckpoint()));
  const std::string body = CheckpointBody(TestCheckpoint());
  const std::string line = note.substr(body.size() + 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no signature lines", absl::StrCat(body, "\n")},
      {"no blank line", absl::StrCat(body, line)},
      {"no final newline", note.substr(0, note.size() - 1)},
      {"ASCII dash", absl::StrReplaceAll(note, {{kEmDashSpace, "-- "}})},
      {"no name", absl::StrReplaceAll(note, {{absl::StrCat(kEmDashSpace, kOrigin, " "),
                                              absl::StrCat(kEmDashSpace, " ")}})},
      {"signature too short", absl::StrCat(note, kEmDashSpace, "other AAAA\n")},
      {"bad base64 in another line", absl::StrCat(note, kEmDashSpace, "other !!!!\n")},
      {"carriage return", absl::StrReplaceAll(note, {{"\n8\n", "\n8\r\n"}})},
      {"invalid UTF-8", absl::StrReplaceAll(note, {{"ledger",
                                                    "l\xFF"
                                                    "dger"}})},
      {"blank line in body", absl::StrReplaceAll(note, {{"\n8\n", "\n\n8\n"}})},
      {"body only", body},
  };
  for (const auto& [what, text] : cases) {
    EXPECT_THAT(Verify(text), StatusIs(absl::StatusCode::kInvalidArgument)) << what;
  }
}

TEST_F(CheckpointTest, TooManySignatureLinesIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(std::string note, Sign(TestCheckpoint()));
  const std::string line = note.substr(CheckpointBody(TestCheckpoint()).size() + 1);
  for (int i = 0; i < kMaxNoteSignatures; ++i) note += line;
  EXPECT_THAT(Verify(note), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("signature")));
}

TEST_F(CheckpointTest, SignRejectsInvalidCheckpoint) {
  Checkpoint bad_root = TestCheckpoint();
  bad_root.root.pop_back();
  EXPECT_THAT(Sign(bad_root), StatusIs(absl::StatusCode::kInvalidArgument));
  Checkpoint negative = TestCheckpoint();
  negative.size = -1;
  EXPECT_THAT(Sign(negative), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SignCheckpoint(TestCheckpoint(), "has space", key_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace market::ledger
