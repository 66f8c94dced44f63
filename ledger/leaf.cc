#include "ledger/leaf.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "ledger/credit_policy.h"

namespace market::ledger {
namespace {

constexpr absl::string_view kCommitmentDomain("market-credit-record/v2\0", 24);

std::string Deterministic(const Record& record) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    record.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace

std::string CanonicalRecordBytes(const Record& record) {
  Record copy = record;
  copy.clear_name();
  return Deterministic(copy);
}

std::string RecordCommitment(absl::string_view salt, absl::string_view content) {
  return Sha256(absl::StrCat(kCommitmentDomain, salt, content));
}

Record PublicView(const Record& record) {
  Record view;
  view.set_index(record.index());
  view.set_subject(record.subject());
  view.set_tier(EffectiveTier(record));
  if (record.has_occurred_time()) *view.mutable_occurred_time() = record.occurred_time();
  if (IsMetaType(record.type())) {
    view.set_type(record.type());
    if (record.has_refers_to()) view.set_refers_to(record.refers_to());
  }
  return view;
}

std::string CommittedLeaf(const Record& record, absl::string_view salt) {
  return absl::StrCat(RecordCommitment(salt, CanonicalRecordBytes(record)),
                      Deterministic(PublicView(record)));
}

absl::StatusOr<ParsedLeaf> ParseLeaf(absl::string_view leaf) {
  if (leaf.size() < kCommitmentSize) {
    return absl::DataLossError(absl::StrCat("leaf has ", leaf.size(), " bytes, want at least ",
                                            kCommitmentSize));
  }
  ParsedLeaf parsed;
  parsed.commitment = std::string(leaf.substr(0, kCommitmentSize));
  if (!parsed.public_view.ParseFromString(std::string(leaf.substr(kCommitmentSize)))) {
    return absl::DataLossError("leaf's public view does not decode");
  }
  return parsed;
}

absl::Status CheckOpening(int64_t index, absl::string_view leaf, absl::string_view content,
                          absl::string_view salt) {
  if (salt.size() != kSaltSize) {
    return absl::DataLossError(
        absl::StrCat("record ", index, ": salt has ", salt.size(), " bytes, want ", kSaltSize));
  }
  Record record;
  if (!record.ParseFromString(std::string(content)) || record.index() != index) {
    return absl::DataLossError(
        absl::StrCat("record ", index, " does not decode to its own index"));
  }
  if (leaf.size() < kCommitmentSize ||
      leaf.substr(0, kCommitmentSize) != RecordCommitment(salt, content)) {
    return absl::DataLossError(
        absl::StrCat("record ", index, ": content and salt do not match the leaf's commitment"));
  }
  if (leaf.substr(kCommitmentSize) != Deterministic(PublicView(record))) {
    return absl::DataLossError(
        absl::StrCat("record ", index, ": the leaf's public view differs from the record"));
  }
  return absl::OkStatus();
}

bool PubliclyDisplayed(const Record& record, bool concluded, absl::Time now) {
  if (concluded || IsMetaType(record.type()) || !record.has_occurred_time()) return false;
  const Record::Tier tier = EffectiveTier(record);
  if (tier != Record::POSITIVE && tier != Record::GENERAL && tier != Record::SERIOUS) return false;
  const absl::Time occurred = absl::FromUnixSeconds(record.occurred_time().seconds()) +
                              absl::Nanoseconds(record.occurred_time().nanos());
  return occurred <= now && now < occurred + MaxDisplay(tier);
}

}  // namespace market::ledger
