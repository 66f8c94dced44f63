// ItemService: the traceable history of one physical item and the
// observations (mileage, identity) other services record on it.
#include <algorithm>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/idempotency/idempotency.h"
#include "common/pagination/page.h"
#include "common/resource/names.h"
#include "common/resource/resource.h"
#include "common/server/log.h"
#include "common/status/status.h"
#include "services/listing/listing_events.h"
#include "services/listing/listing_service.h"
#include "services/listing/listing_tables.h"

namespace market::listing {
namespace {

using common::v1::Role;
using sqlite::Connection;

constexpr char kService[] = "market.listing.v1.ItemService";

}  // namespace

std::vector<auth::RpcPolicy> ItemPolicies() {
  return {
      {.method = "GetItemHistory", .public_access = true},
      {.method = "RecordObservation", .roles = {common::v1::SERVICE}},
  };
}

absl::StatusOr<std::unique_ptr<ItemServiceImpl>> ItemServiceImpl::Create(ListingDeps deps) {
  std::unique_ptr<ItemServiceImpl> s(new ItemServiceImpl(std::move(deps)));
  MARKET_RETURN_IF_ERROR(s->InitRpc(kService, ItemPolicies()));
  return s;
}

grpc::Status ItemServiceImpl::GetItemHistory(grpc::ServerContext* ctx,
                                             const v1::GetItemHistoryRequest* req,
                                             v1::ItemHistory* resp) {
  return server::HandleRpc(env_, ctx, "GetItemHistory", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(common::v1::Category category, ParseItemName(req->name(), "name"));
    MARKET_ASSIGN_OR_RETURN(Page page,
                            Page::Start(pages_, absl::StrCat("GetItemHistory|", req->name()),
                                        req->page_size(), req->page_token(), 100, 1000));
    MARKET_ASSIGN_OR_RETURN(int64_t first, page.Int(0));
    size_t offset = first;
    size_t page_size = page.size();
    return deps_.db->Read([&](Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(std::optional<ItemRow> item, LoadItem(c, req->name()));
      MARKET_ASSIGN_OR_RETURN(std::vector<v1::ItemEvent> events, ItemEvents(c, req->name()));
      if (!item.has_value() && events.empty()) {
        return absl::NotFoundError(absl::StrCat("no record of ", req->name()));
      }
      MARKET_ASSIGN_OR_RETURN(std::vector<std::string> parties, ItemParties(c, req->name()));
      bool full = caller.HasRole(Role::SUPERVISOR) || caller.HasRole(Role::OPERATOR) ||
                  (!caller.subject.empty() && absl::c_linear_search(parties, caller.subject));
      resp->set_name(req->name());
      resp->set_category(category);
      std::string id = req->name().substr(req->name().find(':') + 1);
      // Decode %XX escapes for display.
      std::string decoded;
      for (size_t i = 0; i < id.size(); ++i) {
        int hex = 0;
        if (id[i] == '%' && i + 2 < id.size() + 0 &&
            absl::SimpleHexAtoi(absl::string_view(id).substr(i + 1, 2), &hex)) {
          decoded.push_back(static_cast<char>(hex));
          i += 2;
        } else {
          decoded.push_back(id[i]);
        }
      }
      resp->set_identifier(decoded);
      if (item.has_value()) {
        for (auto f : item->flags) resp->add_flags(f);
        if (item->max_mileage_km.has_value()) resp->set_max_mileage_km(*item->max_mileage_km);
      }
      resp->set_reduced_view(!full);
      for (size_t i = offset; i < events.size() && i < offset + page_size; ++i) {
        v1::ItemEvent e = events[i];
        if (!full) {
          e.clear_price();
          e.clear_parties();
          e.clear_summary();
        }
        *resp->add_events() = std::move(e);
      }
      if (offset + page_size < events.size()) {
        resp->set_next_page_token(page.Next(absl::StrCat(offset + page_size)));
      }
      return absl::OkStatus();
    });
  });
}

grpc::Status ItemServiceImpl::RecordObservation(grpc::ServerContext* ctx,
                                                const v1::RecordObservationRequest* req,
                                                v1::Observation* resp) {
  return server::HandleRpc(env_, ctx, "RecordObservation", *req, [&](const auth::Caller& caller) {
    MARKET_ASSIGN_OR_RETURN(common::v1::Category category, ParseItemName(req->parent(), "parent"));
    const v1::Observation& in = req->observation();
    Violations v;
    if (req->request_id().empty() || req->request_id().size() > 128) {
      v.Add("request_id", "required (the outbox event id), up to 128 characters");
    }
    if (in.kind() != v1::Observation::MILEAGE && in.kind() != v1::Observation::IDENTITY) {
      v.Add("observation.kind", "want MILEAGE or IDENTITY");
    }
    if (in.source().empty() || in.source().size() > 200) {
      v.Add("observation.source", "required, e.g. appraisals/{appraisal}");
    }
    if (!in.has_observed_time()) v.Add("observation.observed_time", "required");
    if (in.has_mileage_km() && in.mileage_km() < 0) v.Add("observation.mileage_km", "must be >= 0");
    if (in.has_mileage_km() && category != common::v1::VEHICLE) {
      v.Add("observation.mileage_km", "only vehicles have a mileage");
    }
    if (in.kind() == v1::Observation::MILEAGE && !in.has_mileage_km()) {
      v.Add("observation.mileage_km", "required for a MILEAGE observation");
    }
    for (const auto& [k, val] : in.identifiers()) {
      if (k != "imei" && k != "imei2" && k != "vin" && k != "engine_number" &&
          k != "serial_number") {
        v.Add("observation.identifiers", absl::StrCat("unknown key \"", k, "\""));
      }
      if (val.size() > 100) v.Add("observation.identifiers", "value longer than 100 bytes");
    }
    if (!req->listing().empty() && !ValidMarketChildName(req->listing(), "listings", nullptr)) {
      v.Add("listing", "want markets/{market}/listings/{listing}");
    }
    if (req->has_latest_appraisal() && req->listing().empty()) {
      v.Add("listing", "required with latest_appraisal");
    }
    if (req->has_latest_appraisal() && req->latest_appraisal().name() != in.source()) {
      v.Add("latest_appraisal.name", "must equal observation.source");
    }
    MARKET_RETURN_IF_ERROR(v.ToStatus());
    absl::Time now = deps_.clock->Now();
    auto run = [&](Connection& c) -> absl::StatusOr<v1::Observation> {
      MARKET_ASSIGN_OR_RETURN(ItemRow item, EnsureItem(c, req->parent(), category, now));
      v1::Observation o = in;
      o.set_name(absl::StrCat(req->parent(), "/observations/", GeneratedId('b')));
      o.set_recorded_by(caller.subject);
      MARKET_ASSIGN_OR_RETURN(v1::Observation stored, AddObservation(c, item, o, now));
      if (req->listing().empty()) return stored;
      MARKET_ASSIGN_OR_RETURN(ListingRow row,
                              Found(LoadListing(c, req->listing()), req->listing()));
      v1::Listing& l = row.listing;
      if (l.item() != req->parent()) {
        // The observation is true of the item; the listing sells
        // something else, so it is left alone (an error here would
        // make the sender's outbox retry forever).
        server::LogJson(
            "warn", "observation names a listing of another item",
            {{"listing", req->listing()}, {"item", req->parent()}, {"source", in.source()}});
        return stored;
      }
      if (req->has_latest_appraisal()) {
        *l.mutable_latest_appraisal() = req->latest_appraisal();
      } else if (l.latest_appraisal().name() == in.source()) {
        l.clear_latest_appraisal();
      } else {
        return stored;
      }
      *l.mutable_update_time() = ToTimestamp(now);
      MARKET_RETURN_IF_ERROR(SaveListing(c, l, row.version + 1, false).status());
      return stored;
    };
    MARKET_ASSIGN_OR_RETURN(
        *resp, RunIdempotent<v1::Observation>(*deps_.db, "RecordObservation", caller.subject,
                                              req->request_id(), now, run));
    return absl::OkStatus();
  });
}

}  // namespace market::listing
