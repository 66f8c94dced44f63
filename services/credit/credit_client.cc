#include "services/credit/credit_client.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "market/credit/v1/credit.grpc.pb.h"

namespace market::credit {

outbox::Relay::Deliverer CreditDeliverer(std::shared_ptr<grpc::Channel> channel,
                                         client::TokenSource token) {
  auto stub = std::shared_ptr<v1::CreditService::Stub>(v1::CreditService::NewStub(channel));
  return [stub, token = std::move(token)](const std::string& event_id,
                                          const std::string& payload) -> absl::Status {
    v1::RecordEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    v1::RecordEventResponse resp;
    return client::CallAsService(
        token, [&](grpc::ClientContext* ctx) { return stub->RecordEvent(ctx, req, &resp); });
  };
}

CreditClient::CreditClient(std::shared_ptr<grpc::Channel> channel, client::TokenSource token)
    : token_(std::move(token)), stub_(v1::CreditService::NewStub(channel)) {}

absl::StatusOr<ledger::CreditStanding> CreditClient::Standing(const std::string& subject) const {
  v1::GetCreditProfileRequest req;
  req.set_name(absl::StrCat(subject, "/creditProfile"));
  v1::CreditProfile profile;
  absl::Status s = client::CallAsService(
      token_, [&](grpc::ClientContext* ctx) { return stub_->GetCreditProfile(ctx, req, &profile); });
  ledger::CreditStanding standing;
  standing.subject = subject;
  if (absl::IsNotFound(s)) return standing;
  if (!s.ok()) return client::PeerError("credit standing", s);
  standing.blacklisted = profile.blacklisted();
  standing.redlisted = profile.redlisted();
  standing.blacklist_record = profile.blacklist_record();
  return standing;
}

absl::StatusOr<std::vector<v1::CreditListEntry>> CreditClient::ListEntries(bool black) const {
  std::vector<v1::CreditListEntry> out;
  auto on_page = [&](const auto& page) {
    for (const v1::CreditListEntry& e : page.entries()) out.push_back(e);
  };
  absl::Status s;
  if (black) {
    v1::ListBlacklistRequest req;
    req.set_page_size(1000);
    s = client::ForEachPage<v1::ListBlacklistRequest, v1::ListBlacklistResponse>(
        token_, "credit black list", req,
        [&](grpc::ClientContext* ctx, const auto& r, auto* p) {
          return stub_->ListBlacklist(ctx, r, p);
        },
        on_page);
  } else {
    v1::ListRedlistRequest req;
    req.set_page_size(1000);
    s = client::ForEachPage<v1::ListRedlistRequest, v1::ListRedlistResponse>(
        token_, "credit red list", req,
        [&](grpc::ClientContext* ctx, const auto& r, auto* p) {
          return stub_->ListRedlist(ctx, r, p);
        },
        on_page);
  }
  if (!s.ok()) return s;
  return out;
}

}  // namespace market::credit
