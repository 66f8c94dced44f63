#include "services/appraisal/verify_http.h"

#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "market/appraisal/v1/appraisal.grpc.pb.h"
#include "services/appraisal/certificate.h"

namespace market::appraisal {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(10);

// The stub, created from the channel factory on first use.
class LazyStub {
 public:
  explicit LazyStub(std::function<std::shared_ptr<grpc::Channel>()> channel)
      : channel_(std::move(channel)) {}
  v1::AppraisalService::Stub& Get() {
    std::call_once(once_, [this] { stub_ = v1::AppraisalService::NewStub(channel_()); });
    return *stub_;
  }

 private:
  std::function<std::shared_ptr<grpc::Channel>()> channel_;
  std::once_flag once_;
  std::unique_ptr<v1::AppraisalService::Stub> stub_;
};

std::unique_ptr<grpc::ClientContext> Context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + kDeadline));
  return ctx;
}

server::HttpReply Page(int status, std::string body) {
  server::HttpReply reply;
  reply.status = status;
  reply.content_type = "text/html; charset=utf-8";
  reply.cache_control = "no-store";  // the verdict changes with the report's state
  reply.body = std::move(body);
  return reply;
}

server::HttpReply ErrorPage(const grpc::Status& s) {
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return Page(404, RenderVerifyErrorPage("未找到该鉴定报告（NOT_FOUND）", s.error_message()));
  }
  return Page(503, RenderVerifyErrorPage("暂时无法核验（UNAVAILABLE）", s.error_message()));
}

}  // namespace

void AddVerifyHttpRoute(server::ServerRunner& runner,
                        std::function<std::shared_ptr<grpc::Channel>()> channel) {
  auto stub = std::make_shared<LazyStub>(std::move(channel));
  runner.AddHttpQueryRoute("/verify", [stub](const std::string&, const server::HttpQuery& query) {
    auto param = [&](const char* name) {
      auto it = query.find(name);
      return it == query.end() ? std::string() : it->second;
    };
    absl::StatusOr<VerifyTarget> target = CheckVerifyTarget(param("report"), param("sha256"));
    if (!target.ok()) {
      return Page(400, RenderVerifyErrorPage("核验链接无效（INVALID_ARGUMENT）",
                                             target.status().message()));
    }
    v1::GetAppraisalRequest get;
    get.set_name(target->report);
    v1::Appraisal appraisal;
    if (grpc::Status s = stub->Get().GetAppraisal(Context().get(), get, &appraisal); !s.ok()) {
      return ErrorPage(s);
    }
    v1::VerifyAppraisalRequest verify;
    verify.set_name(target->report);
    v1::VerifyAppraisalResponse verification;
    if (grpc::Status s = stub->Get().VerifyAppraisal(Context().get(), verify, &verification);
        !s.ok()) {
      return ErrorPage(s);
    }
    Verdict verdict = Judge(target->sha256, appraisal, verification);
    return Page(200, RenderVerifyPage(*target, verdict, appraisal, verification));
  });
}

}  // namespace market::appraisal
