#include "ledger/checkpoint.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"
#include "ledger/merkle_tree.h"

namespace market::ledger {
namespace {

// The signature-line prefix: U+2014 EM DASH, then a space.
constexpr absl::string_view kSignaturePrefix = "\xE2\x80\x94 ";
// C2SP signed-note signature type byte for Ed25519.
constexpr char kEd25519SignatureType = 0x01;
constexpr size_t kKeyIdSize = 4;

// ---- Text checks for signed notes ----

// Decodes the UTF-8 sequence at `text[*pos]` into `*rune`, advancing `*pos`.
// False for an invalid, overlong or surrogate sequence.
bool NextRune(absl::string_view text, size_t* pos, char32_t* rune) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(*pos);
  size_t len;
  char32_t min;
  if (b0 < 0x80) {
    *rune = b0;
    ++*pos;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *rune = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *rune = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *rune = b0 & 0x07;
  } else {
    return false;
  }
  if (*pos + len > text.size()) return false;
  for (size_t i = 1; i < len; ++i) {
    const unsigned char b = byte(*pos + i);
    if ((b & 0xC0) != 0x80) return false;
    *rune = (*rune << 6) | (b & 0x3F);
  }
  if (*rune < min || *rune > 0x10FFFF || (*rune >= 0xD800 && *rune <= 0xDFFF)) return false;
  *pos += len;
  return true;
}

// Unicode White_Space (as Go's unicode.IsSpace).
bool IsUnicodeSpace(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Valid UTF-8 with no control character below U+0020 other than newline.
bool IsNoteText(absl::string_view text) {
  size_t pos = 0;
  char32_t r;
  while (pos < text.size()) {
    if (!NextRune(text, &pos, &r)) return false;
    if (r < 0x20 && r != '\n') return false;
  }
  return true;
}

// A C2SP key name: non-empty UTF-8 without Unicode spaces, control characters
// or '+'.
bool IsKeyName(absl::string_view name) {
  if (name.empty()) return false;
  size_t pos = 0;
  char32_t r;
  while (pos < name.size()) {
    if (!NextRune(name, &pos, &r)) return false;
    if (r < 0x20 || r == '+' || IsUnicodeSpace(r)) return false;
  }
  return true;
}

// A checkpoint origin: non-empty UTF-8 without control characters and without
// leading or trailing spaces.
absl::Status CheckOrigin(absl::string_view origin) {
  if (origin.empty()) return absl::InvalidArgumentError("checkpoint origin is empty");
  size_t pos = 0;
  char32_t r;
  bool first = true;
  bool last_space = false;
  while (pos < origin.size()) {
    if (!NextRune(origin, &pos, &r) || r < 0x20) {
      return absl::InvalidArgumentError(
          "checkpoint origin is not UTF-8 text without control characters");
    }
    last_space = IsUnicodeSpace(r);
    if (first && last_space) {
      return absl::InvalidArgumentError("checkpoint origin starts with a space");
    }
    first = false;
  }
  if (last_space) return absl::InvalidArgumentError("checkpoint origin ends with a space");
  return absl::OkStatus();
}

// Strict decimal: digits only, no sign, no leading zero (except "0"), fits int64.
absl::StatusOr<int64_t> ParseTreeSize(absl::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint tree size \"", text, "\" is not a canonical decimal number"));
  };
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return bad();
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return bad();
  return static_cast<int64_t>(value);
}

absl::Status CheckCheckpoint(const Checkpoint& checkpoint) {
  MARKET_RETURN_IF_ERROR(CheckOrigin(checkpoint.origin));
  if (checkpoint.size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint size ", checkpoint.size, ", want >= 0"));
  }
  return CheckHashSize(checkpoint.root, "checkpoint root");
}

struct SignatureLine {
  absl::string_view name;
  uint32_t key_id;
  std::string signature;  // without the key id
};

// Parses "— <name> <base64(key id ‖ signature)>" (without the newline).
absl::StatusOr<SignatureLine> ParseSignatureLine(absl::string_view line) {
  if (!absl::StartsWith(line, kSignaturePrefix)) {
    return absl::InvalidArgumentError("note signature line does not start with \"— \"");
  }
  line.remove_prefix(kSignaturePrefix.size());
  const size_t space = line.find(' ');
  if (space == absl::string_view::npos) {
    return absl::InvalidArgumentError("note signature line has no signature");
  }
  SignatureLine parsed;
  parsed.name = line.substr(0, space);
  if (!IsKeyName(parsed.name)) {
    return absl::InvalidArgumentError("note signature line has an invalid key name");
  }
  absl::StatusOr<std::string> blob = Base64Decode(line.substr(space + 1));
  if (!blob.ok()) {
    return absl::InvalidArgumentError("note signature is not padded standard base64");
  }
  if (blob->size() <= kKeyIdSize) {
    return absl::InvalidArgumentError("note signature is too short");
  }
  parsed.key_id = 0;
  for (size_t i = 0; i < kKeyIdSize; ++i) {
    parsed.key_id = (parsed.key_id << 8) | static_cast<unsigned char>((*blob)[i]);
  }
  parsed.signature = blob->substr(kKeyIdSize);
  return parsed;
}

}  // namespace

// ---- Signed notes and checkpoints ----

uint32_t NoteKeyId(absl::string_view name, absl::string_view public_key_raw) {
  const std::string digest = Sha256(
      absl::StrCat(name, "\n", absl::string_view(&kEd25519SignatureType, 1), public_key_raw));
  uint32_t id = 0;
  for (size_t i = 0; i < kKeyIdSize; ++i) {
    id = (id << 8) | static_cast<unsigned char>(digest[i]);
  }
  return id;
}

std::string CheckpointBody(const Checkpoint& checkpoint) {
  return absl::StrCat(checkpoint.origin, "\n", checkpoint.size, "\n", Base64Encode(checkpoint.root),
                      "\n");
}

absl::StatusOr<Checkpoint> ParseCheckpointBody(absl::string_view body) {
  if (body.empty() || body.back() != '\n') {
    return absl::InvalidArgumentError("checkpoint body does not end with a newline");
  }
  body.remove_suffix(1);
  const std::vector<absl::string_view> lines = absl::StrSplit(body, '\n');
  for (absl::string_view line : lines) {
    if (line.empty()) return absl::InvalidArgumentError("checkpoint body has an empty line");
  }
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint body has ", lines.size(), " lines, want 3"));
  }
  if (lines.size() > 3) {
    return absl::InvalidArgumentError("checkpoint body has extension lines, want none");
  }
  Checkpoint checkpoint;
  MARKET_RETURN_IF_ERROR(CheckOrigin(lines[0]));
  checkpoint.origin = std::string(lines[0]);
  MARKET_ASSIGN_OR_RETURN(checkpoint.size, ParseTreeSize(lines[1]));
  absl::StatusOr<std::string> root = Base64Decode(lines[2]);
  if (!root.ok()) {
    return absl::InvalidArgumentError("checkpoint root is not padded standard base64");
  }
  checkpoint.root = *std::move(root);
  MARKET_RETURN_IF_ERROR(CheckHashSize(checkpoint.root, "checkpoint root"));
  return checkpoint;
}

absl::StatusOr<std::string> SignNote(absl::string_view text, absl::string_view name,
                                     const Ed25519PrivateKey& key) {
  if (text.empty() || text.back() != '\n' || !IsNoteText(text)) {
    return absl::InvalidArgumentError(
        "note text must be non-empty UTF-8 ending in a newline, without control characters");
  }
  if (!IsKeyName(name)) {
    return absl::InvalidArgumentError("note key name must be non-empty, without spaces or '+'");
  }
  const uint32_t id = NoteKeyId(name, key.PublicKeyRaw());
  MARKET_ASSIGN_OR_RETURN(std::string signature, key.Sign(text));
  std::string blob;
  for (int shift = 24; shift >= 0; shift -= 8) blob.push_back(static_cast<char>(id >> shift));
  blob += signature;
  return absl::StrCat(text, "\n", kSignaturePrefix, name, " ", Base64Encode(blob), "\n");
}

absl::StatusOr<std::string> OpenNote(absl::string_view note, absl::string_view name,
                                     absl::string_view public_key_raw) {
  if (!IsKeyName(name)) return absl::InvalidArgumentError("invalid note key name");
  MARKET_ASSIGN_OR_RETURN(const Ed25519PublicKey public_key,
                          Ed25519PublicKey::FromRaw(public_key_raw));
  if (!IsNoteText(note)) {
    return absl::InvalidArgumentError("note is not UTF-8 without control characters");
  }
  // The text ends at the last blank line; the signature lines follow it.
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError("note has no blank line before its signatures");
  }
  const absl::string_view text = note.substr(0, split + 1);
  absl::string_view signatures = note.substr(split + 2);
  if (signatures.empty() || signatures.back() != '\n') {
    return absl::InvalidArgumentError("note has no newline-terminated signature lines");
  }
  signatures.remove_suffix(1);
  const std::vector<absl::string_view> lines = absl::StrSplit(signatures, '\n');
  if (lines.size() > static_cast<size_t>(kMaxNoteSignatures)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "note has ", lines.size(), " signature lines, want at most ", kMaxNoteSignatures));
  }
  std::vector<SignatureLine> parsed;
  parsed.reserve(lines.size());
  for (absl::string_view line : lines) {
    MARKET_ASSIGN_OR_RETURN(SignatureLine sig, ParseSignatureLine(line));
    parsed.push_back(std::move(sig));
  }
  const uint32_t want_id = NoteKeyId(name, public_key_raw);
  for (const SignatureLine& sig : parsed) {
    if (sig.name != name || sig.key_id != want_id) continue;  // another key: ignored
    // The first line by the key decides (a failing known key rejects the note).
    if (!public_key.Verify(text, sig.signature)) {
      return absl::UnauthenticatedError(
          absl::StrCat("note signature by ", name, " does not verify"));
    }
    return std::string(text);
  }
  return absl::UnauthenticatedError(absl::StrCat("note has no signature by key ", name));
}

absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint, absl::string_view name,
                                           const Ed25519PrivateKey& key) {
  MARKET_RETURN_IF_ERROR(CheckCheckpoint(checkpoint));
  return SignNote(CheckpointBody(checkpoint), name, key);
}

absl::StatusOr<Checkpoint> VerifyCheckpoint(absl::string_view note, absl::string_view name,
                                            absl::string_view public_key_raw) {
  // Parse everything first so a malformed note is INVALID_ARGUMENT whatever its
  // signatures; only then check the signature.
  if (!IsKeyName(name)) return absl::InvalidArgumentError("invalid note key name");
  if (public_key_raw.size() != kEd25519KeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("public key has ", public_key_raw.size(), " bytes, want ", kEd25519KeySize));
  }
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError("note has no blank line before its signatures");
  }
  MARKET_ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpointBody(note.substr(0, split + 1)));
  MARKET_RETURN_IF_ERROR(OpenNote(note, name, public_key_raw).status());
  return checkpoint;
}

}  // namespace market::ledger
