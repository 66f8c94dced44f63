// A stateless verifier for the credit ledger that anyone can run: RFC 9162
// inclusion and consistency proof verification and C2SP signed-note
// checkpoints (Ed25519). No gRPC types; thread-safe (pure functions).
#ifndef MARKET_CLIENTS_LEDGER_VERIFIER_VERIFIER_H_
#define MARKET_CLIENTS_LEDGER_VERIFIER_VERIFIER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/crypto.h"

namespace market::ledger {

// RFC 9162 hashing (identical to the service's; duplicated here on purpose so
// the verifier depends on nothing of the service).
std::string LeafHash(absl::string_view leaf);
std::string NodeHash(absl::string_view left, absl::string_view right);
std::string EmptyRootHash();

// RFC 9162 §2.1.3.2. OK when `proof` proves `leaf_hash` at `index` in the tree
// of `size` leaves with root `root`; otherwise an error saying what failed
// (INVALID_ARGUMENT for impossible parameters or a proof of the wrong length,
// DATA_LOSS for a mismatching root).
absl::Status VerifyInclusion(int64_t index, int64_t size, absl::string_view leaf_hash,
                             const std::vector<std::string>& proof, absl::string_view root);

// RFC 9162 §2.1.4.2. OK when `proof` shows the tree of `size1` leaves (root1)
// is a prefix of the tree of `size2` leaves (root2). size1 == size2 needs an
// empty proof and equal roots; size1 == 0 is rejected (INVALID_ARGUMENT).
absl::Status VerifyConsistency(int64_t size1, int64_t size2, absl::string_view root1,
                               absl::string_view root2, const std::vector<std::string>& proof);

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

#endif  // MARKET_CLIENTS_LEDGER_VERIFIER_VERIFIER_H_
