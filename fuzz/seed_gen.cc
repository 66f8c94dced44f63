// Writes the seed corpus files that need real signatures, MACs, hashes or
// protobuf encodings: `fuzz_seed_gen DIR` writes DIR/<target>/<seed> for
// jwt_fuzz, checkpoint_fuzz, proof_fuzz, page_token_fuzz,
// appraisal_content_fuzz, listing_request_fuzz, credit_request_fuzz,
// identity_request_fuzz and eligibility_fuzz, using the fixed keys and clock
// of fuzz_support.h. The text seeds of the other targets are written by hand.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth/jwt.h"
#include "common/pagination/cursor.h"
#include "common/pagination/page_token.h"
#include "common/resource/resource.h"
#include "fuzz/fuzz_listing.h"
#include "fuzz/fuzz_support.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle_tree.h"
#include "market/appraisal/v1/appraisal.pb.h"
#include "market/credit/v1/credit.pb.h"
#include "market/identity/v1/identity.pb.h"
#include "market/listing/v1/listing.pb.h"

namespace market::fuzz {
namespace {

std::string g_root;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(g_root + "/" + target);
  std::ofstream(g_root + "/" + target + "/" + name, std::ios::binary) << bytes;
}

template <typename T>
T Must(absl::StatusOr<T> v) {
  FUZZ_CHECK(v.ok(), v.status().ToString());
  return std::move(*v);
}

std::string BigEndian(int64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v = static_cast<int64_t>(static_cast<uint64_t>(v) >> 8)) {
    out[i] = static_cast<char>(v & 0xff);
  }
  return out;
}

void Jwt() {
  absl::Time now = FuzzNow();
  auth::TokenSigner signer(kJwtKeyId, Must(Ed25519PrivateKey::FromSeed(kJwtKeySeed)));
  Write("jwt_fuzz", "valid", Must(signer.Issue("subjects/alice", {common::v1::BUYER},
                                               now - absl::Minutes(5), absl::Hours(1))));
  Write("jwt_fuzz", "valid_roles",
        Must(signer.Issue("subjects/op", {common::v1::OPERATOR, common::v1::SELLER},
                          now - absl::Minutes(5), absl::Hours(1))));
  Write("jwt_fuzz", "expired", Must(signer.Issue("subjects/alice", {common::v1::BUYER},
                                                 now - absl::Hours(3), absl::Hours(1))));
  auth::TokenSigner other("other-key", Must(Ed25519PrivateKey::FromSeed(kNoteKeySeed)));
  Write("jwt_fuzz", "unknown_key", Must(other.Issue("subjects/alice", {common::v1::BUYER},
                                                    now - absl::Minutes(5), absl::Hours(1))));
}

void Checkpoints() {
  Ed25519PrivateKey key = Must(Ed25519PrivateKey::FromSeed(kNoteKeySeed));
  ledger::MemoryNodeSource tree;
  for (int i = 0; i < 5; ++i) Must(tree.Append(absl::StrCat("leaf-", i)));
  ledger::Checkpoint cp{.origin = kNoteKeyName, .size = 5, .root = Must(ledger::RootHash(5, tree))};
  std::string note = Must(ledger::SignCheckpoint(cp, kNoteKeyName, key));
  Write("checkpoint_fuzz", "signed", note);
  Write("checkpoint_fuzz", "body", ledger::CheckpointBody(cp));
  ledger::Checkpoint empty{.origin = kNoteKeyName, .size = 0, .root = ledger::EmptyRootHash()};
  Write("checkpoint_fuzz", "signed_empty", Must(ledger::SignCheckpoint(empty, kNoteKeyName, key)));
  // A second signature line, by another key, after ours.
  Ed25519PrivateKey witness = Must(Ed25519PrivateKey::FromSeed(kJwtKeySeed));
  std::string cosigned = Must(ledger::SignCheckpoint(cp, "witness.example", witness));
  Write("checkpoint_fuzz", "cosigned",
        note + cosigned.substr(cosigned.find("\n\n") + 2));
  Write("checkpoint_fuzz", "other_key", cosigned);
}

void Proofs() {
  ledger::MemoryNodeSource tree;
  for (int i = 0; i < 7; ++i) Must(tree.Append(absl::StrCat("record-", i)));
  std::string root7 = Must(ledger::RootHash(7, tree));
  for (int64_t index : {0, 3, 6}) {
    std::string input = BigEndian(index) + BigEndian(7) +
                        ledger::LeafHash(absl::StrCat("record-", index)) + root7;
    for (const std::string& h : Must(ledger::InclusionProof(index, 7, tree))) input += h;
    Write("proof_fuzz", absl::StrCat("inclusion_", index, "_of_7"), input);
  }
  for (int64_t size1 : {1, 3, 4, 7}) {
    std::string input = BigEndian(size1) + BigEndian(7) + Must(ledger::RootHash(size1, tree)) +
                        root7;
    for (const std::string& h : Must(ledger::ConsistencyProof(size1, 7, tree))) input += h;
    Write("proof_fuzz", absl::StrCat("consistency_", size1, "_to_7"), input);
  }
}

void PageTokens() {
  PageTokenCodec codec(kPageTokenSecret);
  std::string q = "SearchListings|category=PHONE";
  Write("page_token_fuzz", "search",
        q + "\n" + codec.Encode(q, EncodeCursor({.key = 1780000000000000, .name = "listings/l1"})));
  std::string q2 = "ListAppraisals|item=items/PHONE:355383063760236";
  Write("page_token_fuzz", "appraisals", q2 + "\n" + codec.Encode(q2, "-5|firms/f/appraisals/a"));
  Write("page_token_fuzz", "names", "ListSubjects|\n" + codec.Encode("ListSubjects|", "subjects/bob"));
  Write("page_token_fuzz", "raw_position", "ListOrders|\n42|orders/o1");
}

appraisal::v1::AppraisalContent BaseContent() {
  appraisal::v1::AppraisalContent c;
  c.set_report_number("R-1");
  c.set_firm("firms/acme");
  c.set_firm_credit_code("91350100M000100Y43");
  c.set_appraiser("subjects/zhang");
  c.set_appraiser_qualification_number("Q-1");
  *c.mutable_inspected_time() = ToTimestamp(FuzzNow() - absl::Hours(1));
  return c;
}

common::v1::GradeRef Grade(const std::string& scheme, const std::string& level) {
  common::v1::GradeRef g;
  g.set_scheme(scheme);
  g.set_version(1);
  g.set_level(level);
  return g;
}

void Appraisals() {
  appraisal::v1::AppraisalContent phone = BaseContent();
  phone.set_category(common::v1::PHONE);
  phone.mutable_identifiers()->set_imei("355383063760236");
  *phone.add_grades() = Grade("phone-cosmetic-v1", "95新");
  *phone.add_grades() = Grade("phone-function-v1", "0");
  *phone.mutable_valid_until() = ToTimestamp(FuzzNow() + absl::Hours(24 * 30));
  Write("appraisal_content_fuzz", "phone", phone.SerializeAsString());

  appraisal::v1::AppraisalContent car = BaseContent();
  car.set_report_number("V-1");
  car.set_category(common::v1::VEHICLE);
  car.mutable_identifiers()->set_vin("1M8GDM9AXKP042788");
  car.mutable_identifiers()->set_engine_number("E1");
  car.set_mileage_km(1000);
  car.mutable_tradability_checks();
  *car.add_grades() = Grade("vehicle-gbt30323", "一级");
  car.set_score(92);
  for (int p = 1; p <= 13; ++p) {
    car.add_structural_points()->set_point(static_cast<appraisal::v1::StructuralPoint::Point>(p));
  }
  Write("appraisal_content_fuzz", "vehicle", car.SerializeAsString());
  car.mutable_structural_points(2)->add_defect_codes("GH");
  car.set_accident_found(true);
  car.mutable_grades(0)->set_level("五级");
  Write("appraisal_content_fuzz", "vehicle_accident", car.SerializeAsString());
  car.mutable_tradability_checks()->set_stolen(true);
  Write("appraisal_content_fuzz", "vehicle_stolen", car.SerializeAsString());
}

void ListingRequests() {
  listing::v1::CreateListingRequest create;
  create.set_parent("markets/m1");
  *create.mutable_listing() = ValidPhoneListing();
  create.set_request_id("0b6b7f3a-5f43-4b8e-9f3e-2b8a2c0f6d11");
  Write("listing_request_fuzz", "create_phone", std::string(1, '\0') + create.SerializeAsString());
  listing::v1::Listing vehicle;
  vehicle.set_category(common::v1::VEHICLE);
  vehicle.set_title("家用轿车");
  auto* v = vehicle.mutable_vehicle();
  v->set_vin("1M8GDM9AXKP042788");
  v->set_engine_number("E1");
  v->set_mileage_km(52000);
  *create.mutable_listing() = vehicle;
  Write("listing_request_fuzz", "create_vehicle",
        std::string(1, '\0') + create.SerializeAsString());

  listing::v1::UpdateListingRequest update;
  update.mutable_listing()->set_name("listings/l1");
  update.mutable_listing()->set_title("九成新手机");
  update.mutable_update_mask()->add_paths("title");
  Write("listing_request_fuzz", "update_title_draft",
        std::string(1, '\1') + update.SerializeAsString());
  update.mutable_listing()->mutable_price()->set_amount_fen(90000);
  update.mutable_listing()->mutable_price()->set_currency("CNY");
  update.mutable_update_mask()->add_paths("price");
  Write("listing_request_fuzz", "update_price_published",
        std::string(1, '\3') + update.SerializeAsString());
  update.mutable_listing()->mutable_phone()->set_imei("490154203237518");
  update.mutable_update_mask()->add_paths("phone.imei");
  Write("listing_request_fuzz", "update_imei_published",
        std::string(1, '\3') + update.SerializeAsString());
  listing::v1::UpdateListingRequest appliance;
  appliance.mutable_listing()->mutable_appliance()->set_working_hours(1500);
  appliance.mutable_update_mask()->add_paths("appliance.working_hours");
  Write("listing_request_fuzz", "update_appliance",
        std::string(1, '\5') + appliance.SerializeAsString());
}

void CreditRequests() {
  credit::v1::RecordEventRequest req;
  credit::v1::Record* r = req.mutable_record();
  r->set_subject("subjects/alice");
  r->set_subject_role(common::v1::SELLER);
  r->set_type(credit::v1::Record::TRADE_COMPLETED);
  r->set_counterparty("subjects/bob");
  r->set_reference("orders/o1");
  *r->mutable_occurred_time() = ToTimestamp(FuzzNow() - absl::Hours(2));
  r->set_event_id("order-o1-completed");
  req.set_request_id("2f1d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b");
  Write("credit_request_fuzz", "trade_completed", req.SerializeAsString());
  r->set_type(credit::v1::Record::SANCTION_OTHER);
  r->set_tier(credit::v1::Record::GENERAL);
  r->set_decision_document_number("市监罚字〔2026〕12号");
  r->set_reason("虚假宣传");
  r->clear_counterparty();
  Write("credit_request_fuzz", "sanction", req.SerializeAsString());
  r->set_type(credit::v1::Record::RECORD_WITHDRAWN);
  r->set_refers_to(3);
  Write("credit_request_fuzz", "withdrawn", req.SerializeAsString());
}

void IdentityRequests() {
  identity::v1::CreateSubjectRequest req;
  identity::v1::Subject* s = req.mutable_subject();
  s->set_kind(identity::v1::Subject::PERSON);
  s->add_roles(common::v1::SELLER);
  s->set_display_name("张三");
  s->set_id_number("11010519491231002X");
  s->set_phone("+8613800138000");
  req.set_subject_id("zhang-san");
  req.set_password("correct horse battery staple");
  req.set_request_id("6a0c1e2f-3b4d-4c5e-8f70-8192a3b4c5d6");
  Write("identity_request_fuzz", "person_seller", req.SerializeAsString());
  s->Clear();
  s->set_kind(identity::v1::Subject::ORGANIZATION);
  s->add_roles(common::v1::APPRAISAL_FIRM);
  s->set_display_name("福州鉴定有限公司");
  s->set_credit_code("91350100M000100Y43");
  req.set_subject_id("acme");
  Write("identity_request_fuzz", "organization", req.SerializeAsString());
  s->Clear();
  s->set_kind(identity::v1::Subject::PERSON);
  s->add_roles(common::v1::APPRAISER);
  s->set_display_name("李四");
  s->set_id_number("11010519491231002X");
  s->set_affiliation("subjects/acme");
  req.set_subject_id("li-si");
  Write("identity_request_fuzz", "appraiser", req.SerializeAsString());
}

// Eligibility inputs follow eligibility_fuzz.cc's ReadInput field order.
void Eligibility() {
  auto seconds = [](int64_t s) { return BigEndian(s + 4 * 366 * 86400); };
  auto u8 = [](int v) { return std::string(1, static_cast<char>(v)); };
  // A phone delivered 3 days ago, default terms, no history, price 1000 yuan.
  Write("eligibility_fuzz", "phone_3_days",
        BigEndian(0) + u8(0) + u8(1) + seconds(-3 * 86400) + BigEndian(0) + BigEndian(0) + u8(0) +
            u8(0) + std::string(1, '\0') + BigEndian(100000));
  // A vehicle delivered 40 days ago with one failed ENGINE repair, mileages.
  Write("eligibility_fuzz", "vehicle_engine_repair",
        BigEndian(3) + u8(0) + u8(1) + seconds(-40 * 86400) + BigEndian(0) + BigEndian(1) +
            "ENGINE" + std::string(1, '\0') + seconds(-20 * 86400) + u8(1) +
            BigEndian(6 * 86400) + BigEndian(2) + BigEndian(0) + u8(0) + u8(0) + u8(1) +
            BigEndian(12000) + u8(1) + BigEndian(13500) + "ENGINE" + std::string(1, '\0') +
            BigEndian(8000000));
}

}  // namespace
}  // namespace market::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_gen CORPUS_DIR\n");
    return 2;
  }
  market::fuzz::g_root = argv[1];
  market::fuzz::Jwt();
  market::fuzz::Checkpoints();
  market::fuzz::Proofs();
  market::fuzz::PageTokens();
  market::fuzz::Appraisals();
  market::fuzz::ListingRequests();
  market::fuzz::CreditRequests();
  market::fuzz::IdentityRequests();
  market::fuzz::Eligibility();
  return 0;
}
