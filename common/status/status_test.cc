#include "common/status/status.h"

#include "common/status/grpc_status.h"
#include "common/status/status_matchers.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace market {
namespace {

using ::market::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidField("x", "odd, want even");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  MARKET_ASSIGN_OR_RETURN(int h, Half(x));
  MARKET_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

absl::Status CheckPositive(int x) {
  MARKET_RETURN_IF_ERROR(x > 0 ? absl::OkStatus() : InvalidField("x", "want > 0"));
  return absl::OkStatus();
}

TEST(StatusTest, AssignOrReturnPassesValues) {
  ASSERT_OK_AND_ASSIGN(int q, Quarter(12));
  EXPECT_EQ(q, 3);
}

TEST(StatusTest, AssignOrReturnPropagatesError) {
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("odd")));
}

TEST(StatusTest, ReturnIfErrorPropagatesError) {
  EXPECT_OK(CheckPositive(1));
  EXPECT_THAT(CheckPositive(0), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(StatusTest, InvalidFieldCarriesViolation) {
  absl::Status s = InvalidField("subject.credit_code", "bad check character");
  auto v = FieldViolationsOf(s);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "subject.credit_code");
  EXPECT_EQ(v[0].description, "bad check character");
  EXPECT_THAT(std::string(s.message()), HasSubstr("subject.credit_code"));
}

TEST(StatusTest, WithReasonCarriesReason) {
  absl::Status s =
      WithReason(absl::StatusCode::kFailedPrecondition, "SUBJECT_SUSPENDED", "suspended");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(s), "SUBJECT_SUSPENDED");
}

TEST(StatusTest, ViolationsCollectsAndMergesWithPrefix) {
  Violations v;
  EXPECT_OK(v.ToStatus());
  v.Add("a", "missing");
  EXPECT_TRUE(v.Merge(InvalidField("b", "bad"), "parent"));
  EXPECT_FALSE(v.Merge(absl::NotFoundError("x")));
  auto fields = FieldViolationsOf(v.ToStatus());
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[1].field, "parent.b");
}

TEST(GrpcStatusTest, ToGrpcStatusAttachesBadRequest) {
  grpc::Status g = ToGrpcStatus(InvalidField("page_size", "want <= 1000"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(g.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest br;
  ASSERT_TRUE(details.details(0).UnpackTo(&br));
  EXPECT_EQ(br.field_violations(0).field(), "page_size");
}

TEST(GrpcStatusTest, ToGrpcStatusAttachesErrorInfo) {
  grpc::Status g = ToGrpcStatus(WithReason(absl::StatusCode::kFailedPrecondition, "R", "m"));
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(g.error_details()));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "R");
  EXPECT_EQ(info.domain(), kErrorDomain);
}

TEST(GrpcStatusTest, RoundTripKeepsCodeAndDetails) {
  absl::Status back = FromGrpcStatus(ToGrpcStatus(InvalidField("f", "d")));
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolationsOf(back).size(), 1u);
  EXPECT_OK(FromGrpcStatus(ToGrpcStatus(absl::OkStatus())));
}

TEST(NotFoundTest, NamesTheMissingResource) {
  absl::Status s = NotFound("markets/m1");
  EXPECT_TRUE(absl::IsNotFound(s));
  EXPECT_EQ(s.message(), "markets/m1 not found");
}

TEST(FoundTest, ValueMissingOrLookupError) {
  absl::StatusOr<int> found = Found(absl::StatusOr<std::optional<int>>(7), "x/1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, 7);
  absl::StatusOr<int> missing = Found(absl::StatusOr<std::optional<int>>(std::nullopt), "x/1");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(missing.status().message(), "x/1 not found");
  absl::StatusOr<int> failed =
      Found(absl::StatusOr<std::optional<int>>(absl::UnavailableError("db")), "x/1");
  EXPECT_TRUE(absl::IsUnavailable(failed.status()));
}

}  // namespace
}  // namespace market
