#include "services/credit/credit_client.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/completion_queue.h"
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

namespace {

// A GetCreditProfile answer (`s`, `profile`) as `subject`'s standing.
absl::StatusOr<ledger::CreditStanding> ToStanding(const std::string& subject,
                                                  const absl::Status& s,
                                                  const v1::CreditProfile& profile) {
  ledger::CreditStanding standing;
  standing.subject = subject;
  if (absl::IsNotFound(s)) return standing;
  if (!s.ok()) return client::PeerError("credit standing", s);
  standing.blacklisted = profile.blacklisted();
  standing.redlisted = profile.redlisted();
  standing.blacklist_record = profile.blacklist_record();
  return standing;
}

v1::GetCreditProfileRequest ProfileRequest(const std::string& subject) {
  v1::GetCreditProfileRequest req;
  req.set_name(absl::StrCat(subject, "/creditProfile"));
  return req;
}

}  // namespace

CreditClient::CreditClient(std::shared_ptr<grpc::Channel> channel, client::TokenSource token)
    : token_(std::move(token)), stub_(v1::CreditService::NewStub(channel)) {}

absl::StatusOr<ledger::CreditStanding> CreditClient::Standing(const std::string& subject) const {
  v1::GetCreditProfileRequest req = ProfileRequest(subject);
  v1::CreditProfile profile;
  absl::Status s = client::CallAsService(
      token_, [&](grpc::ClientContext* ctx) { return stub_->GetCreditProfile(ctx, req, &profile); });
  return ToStanding(subject, s, profile);
}

std::vector<absl::StatusOr<ledger::CreditStanding>> CreditClient::Standings(
    const std::vector<std::string>& subjects) const {
  absl::StatusOr<std::string> bearer = token_();
  if (!bearer.ok()) {
    return std::vector<absl::StatusOr<ledger::CreditStanding>>(
        subjects.size(), client::PeerError("credit standing", bearer.status()));
  }
  // All in flight on one completion queue drained by this thread: no
  // callback threads.
  struct Ask {
    grpc::ClientContext ctx;
    v1::CreditProfile profile;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::CreditProfile>> reader;
  };
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Ask>> asks;
  for (size_t i = 0; i < subjects.size(); ++i) {
    auto ask = std::make_unique<Ask>();
    ask->ctx.AddMetadata("authorization", absl::StrCat("Bearer ", *bearer));
    ask->ctx.set_deadline(std::chrono::system_clock::now() + client::kPeerDeadline);
    ask->reader = stub_->AsyncGetCreditProfile(&ask->ctx, ProfileRequest(subjects[i]), &cq);
    ask->reader->Finish(&ask->profile, &ask->status, reinterpret_cast<void*>(i));
    asks.push_back(std::move(ask));
  }
  void* tag = nullptr;
  bool ok = false;
  for (size_t done = 0; done < asks.size() && cq.Next(&tag, &ok); ++done) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  std::vector<absl::StatusOr<ledger::CreditStanding>> out;
  out.reserve(subjects.size());
  for (size_t i = 0; i < subjects.size(); ++i) {
    out.push_back(
        ToStanding(subjects[i], FromGrpcStatus(asks[i]->status), asks[i]->profile));
  }
  return out;
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
