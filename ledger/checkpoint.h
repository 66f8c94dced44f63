// The credit ledger's checkpoints (signed tree heads) as C2SP signed notes
// with Ed25519: signing by the service, verification by anyone. No gRPC
// types; thread-safe (pure functions).
#ifndef MARKET_LEDGER_CHECKPOINT_H_
#define MARKET_LEDGER_CHECKPOINT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/crypto.h"

namespace market::ledger {

// A checkpoint (signed tree head) body.
struct Checkpoint {
  std::string origin;
  int64_t size = 0;
  std::string root;  // 32 bytes
};

// C2SP signed-note key id for an Ed25519 key:
// first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public_key), big-endian.
uint32_t NoteKeyId(absl::string_view name, absl::string_view public_key_raw);

// The checkpoint body: "<origin>\n<size>\n<base64 root>\n".
std::string CheckpointBody(const Checkpoint& checkpoint);

// Parses a checkpoint body strictly: exactly three lines, each ending "\n";
// origin non-empty, valid UTF-8 without control characters or leading/trailing
// spaces; size in decimal without sign or leading zeros; root standard padded
// base64 of 32 bytes. Extension lines are rejected (this ledger writes none).
// INVALID_ARGUMENT otherwise.
absl::StatusOr<Checkpoint> ParseCheckpointBody(absl::string_view body);

// Signs `text` (non-empty, ending "\n", valid UTF-8 without control
// characters other than "\n") as a C2SP signed note by key `name` (non-empty,
// no Unicode spaces or '+'). INVALID_ARGUMENT for a bad text or name; INTERNAL
// if signing fails.
absl::StatusOr<std::string> SignNote(absl::string_view text, absl::string_view name,
                                     const Ed25519PrivateKey& key);

// Parses the signed note `note` and returns its text once the first signature
// line by (`name`, NoteKeyId(name, public_key_raw)) verifies; lines of other
// keys are ignored. INVALID_ARGUMENT for a malformed note (including any
// malformed signature line, more than kMaxNoteSignatures lines), bad name or
// key; UNAUTHENTICATED when no line is by that key or its signature fails.
absl::StatusOr<std::string> OpenNote(absl::string_view note, absl::string_view name,
                                     absl::string_view public_key_raw);

// Most signature lines OpenNote accepts in one note (as Go's sumdb/note).
inline constexpr int kMaxNoteSignatures = 100;

// Signs `checkpoint` as a C2SP signed note: body, blank line, and
// "— <name> base64(keyID ‖ signature)\n". INVALID_ARGUMENT for a checkpoint
// ParseCheckpointBody would reject (e.g. negative size, root not 32 bytes).
absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& checkpoint, absl::string_view name,
                                           const Ed25519PrivateKey& key);

// Parses `note` and checks its signature line by `name` with `public_key_raw`.
// INVALID_ARGUMENT for a malformed note, UNAUTHENTICATED when no line by that
// key verifies. The note and body are parsed (OpenNote, ParseCheckpointBody)
// before the signature is checked, so format errors win over bad signatures.
absl::StatusOr<Checkpoint> VerifyCheckpoint(absl::string_view note, absl::string_view name,
                                            absl::string_view public_key_raw);

}  // namespace market::ledger

#endif  // MARKET_LEDGER_CHECKPOINT_H_
