#include "common/client/peer.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market::client {
namespace {

TEST(PeerErrorTest, OkStaysOk) { EXPECT_OK(PeerError("listing GetOrder", absl::OkStatus())); }

TEST(PeerErrorTest, NotFoundStaysNotFound) {
  absl::Status s = PeerError("listing GetOrder", absl::NotFoundError("no such order"));
  EXPECT_TRUE(absl::IsNotFound(s));
  EXPECT_EQ(s.message(), "no such order");
}

TEST(PeerErrorTest, EveryOtherCodeBecomesUnavailableNamingThePeer) {
  for (absl::Status in : {absl::InternalError("boom"), absl::PermissionDeniedError("role"),
                          absl::InvalidArgumentError("bad"), absl::DeadlineExceededError("slow"),
                          absl::UnauthenticatedError("token")}) {
    absl::Status s = PeerError("listing GetOrder", in);
    EXPECT_TRUE(absl::IsUnavailable(s)) << in;
    EXPECT_EQ(s.message(), absl::StrCat("listing GetOrder: ", in.message()));
  }
}

TEST(CallAsServiceTest, TokenFailureIsReturnedWithoutCalling) {
  bool called = false;
  absl::Status s =
      CallAsService([] { return absl::StatusOr<std::string>(absl::UnavailableError("login")); },
                    [&](grpc::ClientContext*) {
                      called = true;
                      return grpc::Status::OK;
                    });
  EXPECT_TRUE(absl::IsUnavailable(s));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace market::client
