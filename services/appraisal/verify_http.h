// GET /verify?report=NAME&sha256=HEX on a server's HTTP port: the page a
// certificate's QR code opens. It asks the AppraisalService (GetAppraisal and
// VerifyAppraisal, both public, sent without credentials) and shows Judge's
// verdict: valid, superseded, overturned, revoked, disputed, expired, bad
// signature or hash mismatch.
#ifndef MARKET_SERVICES_APPRAISAL_VERIFY_HTTP_H_
#define MARKET_SERVICES_APPRAISAL_VERIFY_HTTP_H_

#include <functional>
#include <memory>

#include "common/server/runner.h"
#include "grpcpp/grpcpp.h"

namespace market::appraisal {

// Adds the /verify route to `runner` (before Start). `channel` gives the
// channel to the AppraisalService; it is called once, on the first request
// (so it may be runner.InProcessChannel(), which exists only once the server
// runs). Replies: 200 with the verdict page, 400 for bad parameters, 404 for
// an unknown report, 503 when the service cannot be asked.
void AddVerifyHttpRoute(server::ServerRunner& runner,
                        std::function<std::shared_ptr<grpc::Channel>()> channel);

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_VERIFY_HTTP_H_
