// Identity CreateSubject validation fed with arbitrary protobuf messages: the
// input is parsed as CreateSubjectRequest and checked with
// ValidateCreateSubject (services/identity/identity_service.h), which runs the
// identifier validators of common/validate (USCC mod 31, resident ID number
// with its birth date and check digit). Input: the serialized request.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.h"
#include "services/identity/identity_service.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  market::fuzz::QuietProtobufLogs();
  market::identity::v1::CreateSubjectRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::Status s = market::identity::ValidateCreateSubject(req, market::fuzz::FuzzNow());
  market::fuzz::Trace("validate", s);
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
  return 0;
}
