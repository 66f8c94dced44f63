#include "services/credit/case_events.h"

#include <string>
#include <utility>

#include "common/outbox/outbox.h"

namespace market::credit {

namespace {

// The first `max_chars` UTF-8 characters of `text`.
std::string FirstChars(const std::string& text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool starts_char = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (starts_char && ++chars > max_chars) return text.substr(0, i);
  }
  return text;
}

}  // namespace

absl::Status EnqueueCaseEvent(sqlite::Connection& connection, const std::string& event_id,
                              supervision::v1::Case c, absl::Time now) {
  c.set_summary(FirstChars(c.summary(), 500));
  supervision::v1::RecordCaseEventRequest req;
  req.set_event_id(event_id);
  *req.mutable_case_() = std::move(c);
  absl::Status s = outbox::Enqueue(
      connection,
      outbox::Event{event_id, kCaseDestination, req.SerializeAsString(), req.case_().resource()},
      now);
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

}  // namespace market::credit
