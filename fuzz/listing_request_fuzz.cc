// Listing request validation fed with arbitrary protobuf messages: the bytes
// after the first are parsed as CreateListingRequest (ValidateListingForCreate
// and CheckPublishable) or UpdateListingRequest (ApplyListingUpdate on a
// stored, valid listing). Input: a mode byte (bit 0: update; bit 1: the
// stored listing is PUBLISHED; bit 2: it is an appliance, else a phone), then
// the serialized request. An update that is accepted must yield a listing
// that ValidateListingForCreate accepts.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_listing.h"
#include "fuzz/fuzz_support.h"
#include "market/listing/v1/listing.pb.h"
#include "services/listing/listing_rules.h"

namespace {

using market::listing::v1::Listing;

Listing Stored(uint8_t mode) {
  Listing l = market::fuzz::ValidPhoneListing();
  l.set_name("listings/l1");
  l.set_state((mode & 2) ? Listing::PUBLISHED : Listing::DRAFT);
  if (mode & 4) {
    l.set_category(market::common::v1::APPLIANCE);
    auto* a = l.mutable_appliance();  // replaces the phone details (oneof)
    a->set_brand("Haier");
    a->set_model("BCD-216");
    a->set_serial_number("SN0001");
    a->set_kind("refrigerator");
    a->set_manufacture_year(2019);
  }
  return l;
}

void CheckCode(const absl::Status& s, absl::StatusCode other) {
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument || s.code() == other,
             s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  market::fuzz::QuietProtobufLogs();
  if (size == 0) return 0;
  uint8_t mode = data[0];
  const uint8_t* body = data + 1;
  int body_size = static_cast<int>(size - 1);
  absl::Time now = market::fuzz::FuzzNow();
  if ((mode & 1) == 0) {
    market::listing::v1::CreateListingRequest req;
    if (!req.ParseFromArray(body, body_size)) return 0;
    absl::Status s = market::listing::ValidateListingForCreate(req.listing(), now);
    market::fuzz::Trace("create", s);
    CheckCode(s, absl::StatusCode::kInvalidArgument);
    if (s.ok()) {
      CheckCode(market::listing::CheckPublishable(req.listing()),
                absl::StatusCode::kFailedPrecondition);
    }
    return 0;
  }
  static const Listing* stored[8] = {};
  if (stored[mode & 7] == nullptr) {
    stored[mode & 7] = new Listing(Stored(mode));
    absl::Status ok = market::listing::ValidateListingForCreate(*stored[mode & 7], now);
    FUZZ_CHECK(ok.ok(), ok.ToString());
  }
  market::listing::v1::UpdateListingRequest req;
  if (!req.ParseFromArray(body, body_size)) return 0;
  absl::StatusOr<Listing> updated =
      market::listing::ApplyListingUpdate(*stored[mode & 7], req.listing(), req.update_mask(), now);
  market::fuzz::Trace("update", updated.status());
  CheckCode(updated.status(), absl::StatusCode::kFailedPrecondition);
  if (updated.ok()) {
    absl::Status again = market::listing::ValidateListingForCreate(*updated, now);
    FUZZ_CHECK(again.ok(), "accepted update yields an invalid listing: " + again.ToString());
  }
  return 0;
}
