// A valid phone listing (it passes ValidateListingForCreate at FuzzNow()),
// shared by listing_request_fuzz (the stored listing an update applies to)
// and the seed generator (CreateListingRequest seeds). Header-only.
#ifndef MARKET_FUZZ_FUZZ_LISTING_H_
#define MARKET_FUZZ_FUZZ_LISTING_H_

#include <string>

#include "market/listing/v1/listing.pb.h"

namespace market::fuzz {

inline listing::v1::Listing ValidPhoneListing() {
  listing::v1::Listing l;
  l.set_seller("subjects/alice");
  l.set_category(common::v1::PHONE);
  l.set_title("二手好物");
  l.set_description("成色不错");
  l.mutable_price()->set_amount_fen(100000);
  l.mutable_price()->set_currency("CNY");
  l.mutable_declared_condition()->set_scheme("general-condition-v1");
  l.mutable_declared_condition()->set_version(1);
  l.mutable_declared_condition()->set_level("9成新");
  l.add_disclosed_defects("屏幕右上角划痕");
  l.add_photos()->set_sha256(std::string(64, 'a'));
  auto* p = l.mutable_phone();
  p->set_imei("355383063760236");
  p->set_imei2("490154203237518");
  p->set_brand("Huawei");
  p->set_model("Mate 60 Pro");
  p->set_storage_gb(256);
  p->set_battery_health_pct(88);
  p->set_data_wiped(true);
  return l;
}

}  // namespace market::fuzz

#endif  // MARKET_FUZZ_FUZZ_LISTING_H_
