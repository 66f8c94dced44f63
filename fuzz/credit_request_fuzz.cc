// Credit RecordEvent validation fed with arbitrary protobuf messages: the
// input is parsed as RecordEventRequest and its record checked with
// ValidateRecord (services/credit/credit_service.h), as the handler does
// before anything is appended to the ledger. Input: the serialized request.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.h"
#include "services/credit/credit_service.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  market::fuzz::QuietProtobufLogs();
  market::credit::v1::RecordEventRequest req;
  if (!req.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::Status s = market::credit::ValidateRecord(req.record(), market::fuzz::FuzzNow());
  market::fuzz::Trace("validate", s);
  FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
  if (s.ok()) FUZZ_CHECK(req.record().has_occurred_time(), "record without occurred_time");
  return 0;
}
