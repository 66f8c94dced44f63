// Ledger checkpoints as the outside verifier reads them (ledger/checkpoint.h):
// ParseCheckpointBody, OpenNote and VerifyCheckpoint against one known
// Ed25519 key. Input: the signed note (or a bare body). A body that parses
// is canonical: CheckpointBody of the result gives the same bytes back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.h"
#include "ledger/checkpoint.h"

namespace {

const std::string& PublicKeyRaw() {
  static const std::string* raw = [] {
    absl::StatusOr<market::Ed25519PrivateKey> key =
        market::Ed25519PrivateKey::FromSeed(market::fuzz::kNoteKeySeed);
    FUZZ_CHECK(key.ok(), key.status().ToString());
    return new std::string(key->PublicKeyRaw());
  }();
  return *raw;
}

void CheckCode(const absl::Status& s) {
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument ||
                 s.code() == absl::StatusCode::kUnauthenticated,
             s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view note(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<market::ledger::Checkpoint> body = market::ledger::ParseCheckpointBody(note);
  market::fuzz::Trace("body", body.status());
  CheckCode(body.status());
  if (body.ok()) {
    FUZZ_CHECK(market::ledger::CheckpointBody(*body) == note, "body not canonical");
    FUZZ_CHECK(body->size >= 0 && body->root.size() == 32, "bad checkpoint fields");
  }

  absl::StatusOr<std::string> text =
      market::ledger::OpenNote(note, market::fuzz::kNoteKeyName, PublicKeyRaw());
  CheckCode(text.status());
  if (text.ok()) FUZZ_CHECK(note.substr(0, text->size()) == *text, "text is not the note's prefix");

  absl::StatusOr<market::ledger::Checkpoint> cp =
      market::ledger::VerifyCheckpoint(note, market::fuzz::kNoteKeyName, PublicKeyRaw());
  market::fuzz::Trace("verify", cp.status());
  CheckCode(cp.status());
  if (cp.ok()) {
    FUZZ_CHECK(text.ok(), "checkpoint verified but the note does not open");
    FUZZ_CHECK(market::ledger::CheckpointBody(*cp) == *text, "verified body differs");
  }
  return 0;
}
