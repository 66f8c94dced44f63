#include "services/credit/credit_outbox.h"

#include <algorithm>
#include <map>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "common/status/status.h"
#include "ledger/credit_policy.h"
#include "market/stats/v1/stats.pb.h"
#include "market/webhook/v1/webhook.pb.h"
#include "services/stats/stats_events.h"
#include "services/webhook/webhook_events.h"

namespace market::credit {
namespace {

using ledger::Evaluation;
using sqlite::Connection;
using sqlite::Statement;
using v1::Record;

constexpr char kRecordPrefix[] = "ledgers/main/records/";

absl::Time RecordedTime(const Record& r) {
  return FromTimestamp(r.has_recorded_time() ? r.recorded_time() : r.occurred_time());
}

absl::StatusOr<Record> ReadLeaf(Connection& c, int64_t index) {
  MARKET_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT leaf FROM records WHERE idx = ?"));
  MARKET_RETURN_IF_ERROR(st.Bind(1, index));
  MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
  Record r;
  if (!row || !r.ParseFromString(st.ColumnBlob(0))) {
    return absl::DataLossError(absl::StrCat("corrupt record ", index));
  }
  r.set_index(index);
  return r;
}

// The subject's records that can affect its standing at `now` or later (see
// ledger::LongestEffect) plus every meta record that concludes another, in
// index order; records of this transaction included. Each holds only what
// the policy reads (index, subject, type, tier, occurred_time, counterparty,
// refers_to), from the records_standing index (kStandingInputsSchema); a row
// from before migration 5 is read from its leaf.
absl::StatusOr<std::vector<Record>> RelevantRecords(Connection& c, const std::string& subject,
                                                    absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT idx, type, tier, occurred, occurred_nanos, concludes, counterparty "
                "FROM records INDEXED BY records_standing WHERE subject = ?1 AND "
                "(occurred > ?2 OR concludes IS NOT NULL) ORDER BY idx"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, subject));
  MARKET_RETURN_IF_ERROR(st.Bind(2, absl::ToUnixMicros(now - ledger::LongestEffect())));
  std::vector<Record> records;
  std::vector<size_t> from_leaf;  // positions of rows written before migration 5
  for (;;) {
    MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    Record& r = records.emplace_back();
    r.set_index(st.ColumnInt64(0));
    if (st.ColumnIsNull(6)) {
      from_leaf.push_back(records.size() - 1);
      continue;
    }
    r.set_subject(subject);
    r.set_type(static_cast<Record::Type>(st.ColumnInt64(1)));
    r.set_tier(static_cast<Record::Tier>(st.ColumnInt64(2)));
    if (!st.ColumnIsNull(4)) {
      // `occurred` is seconds * 10^6 + nanos / 1000 (InsertRecord).
      const int64_t nanos = st.ColumnInt64(4);
      r.mutable_occurred_time()->set_seconds((st.ColumnInt64(3) - nanos / 1000) / 1'000'000);
      r.mutable_occurred_time()->set_nanos(static_cast<int32_t>(nanos));
    }
    if (!st.ColumnIsNull(5)) r.set_refers_to(st.ColumnInt64(5));
    r.set_counterparty(st.ColumnText(6));
  }
  for (size_t i : from_leaf) {
    MARKET_ASSIGN_OR_RETURN(records[i], ReadLeaf(c, records[i].index()));
  }
  return records;
}

absl::Status EnqueueRecordSnapshot(Connection& c, const Record& r) {
  stats::v1::FigureSnapshot s;
  s.set_entity(absl::StrCat(kRecordPrefix, r.index()));
  s.set_version(1);
  const absl::Time recorded = RecordedTime(r);
  *s.mutable_time() = ToTimestamp(recorded);
  stats::v1::CreditRecordSnapshot& cr = *s.mutable_credit_record();
  cr.set_type(r.type());
  cr.set_tier(ledger::EffectiveTier(r));
  cr.set_subject(r.subject());
  cr.set_subject_role(r.subject_role());
  *cr.mutable_recorded_time() = ToTimestamp(recorded);
  return stats::EnqueueFigureEvent(c, s, recorded);
}

absl::Status EnqueueStandingSnapshot(Connection& c, const std::string& subject,
                                     common::v1::Role role, absl::Time now, int64_t size,
                                     const std::vector<ledger::StandingSegment>& segments) {
  stats::v1::FigureSnapshot s;
  s.set_entity(absl::StrCat(subject, "/creditProfile"));
  s.set_version(size);
  *s.mutable_time() = ToTimestamp(now);
  stats::v1::CreditStandingSnapshot& cs = *s.mutable_credit_standing();
  cs.set_subject(subject);
  cs.set_subject_role(role);
  for (const ledger::StandingSegment& seg : segments) {
    auto* out = cs.add_segments();
    *out->mutable_start_time() = ToTimestamp(seg.start);
    out->set_level(seg.evaluation.level);
    out->set_blacklisted(seg.evaluation.blacklisted);
    out->set_redlisted(seg.evaluation.redlisted);
  }
  return stats::EnqueueFigureEvent(c, s, now);
}

// Enqueues the list-entry event `kind` of `subject` starting at `start`; an
// event already enqueued (same id) is fine.
absl::Status EnqueueListEntry(Connection& c, webhook::v1::EventKind kind,
                              const std::string& subject, common::v1::Role role, absl::Time start,
                              v1::CreditProfile::Level level, int64_t blacklist_record,
                              int64_t version, absl::Time now) {
  webhook::v1::Event e;
  const bool black = kind == webhook::v1::SUBJECT_BLACKLISTED;
  e.set_event_id(absl::StrCat(black ? "subject-blacklisted:" : "subject-redlisted:", subject, "@",
                              absl::ToUnixMicros(start)));
  e.set_kind(kind);
  *e.mutable_time() = ToTimestamp(start);
  e.set_resource(subject);
  auto& a = *e.mutable_attributes();
  a["subject_role"] = common::v1::Role_Name(role);
  a["level"] = v1::CreditProfile::Level_Name(level);
  a["ledger_size"] = absl::StrCat(version);
  if (black && blacklist_record >= 0) {
    a["blacklist_record"] = absl::StrCat(kRecordPrefix, blacklist_record);
  }
  absl::Status s = webhook::EnqueueWebhookEvent(c, e, now);
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

absl::Status ReplaceSegments(Connection& c, const std::string& subject, common::v1::Role role,
                             int64_t version, const std::vector<ledger::StandingSegment>& segs) {
  MARKET_ASSIGN_OR_RETURN(Statement del,
                          c.Prepare("DELETE FROM standing_segments WHERE subject = ?"));
  MARKET_RETURN_IF_ERROR(del.BindText(1, subject));
  MARKET_RETURN_IF_ERROR(del.Run());
  MARKET_ASSIGN_OR_RETURN(
      Statement ins,
      c.Prepare("INSERT INTO standing_segments(subject, start_time, level, blacklisted, "
                "redlisted, blacklist_record, subject_role, version, enters_blacklist, "
                "enters_redlist, published) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (size_t i = 0; i < segs.size(); ++i) {
    const Evaluation& ev = segs[i].evaluation;
    // The first segment starts now: the append itself announced its entries.
    const bool enters_black = i > 0 && ev.blacklisted && !segs[i - 1].evaluation.blacklisted;
    const bool enters_red = i > 0 && ev.redlisted && !segs[i - 1].evaluation.redlisted;
    ins.Reset();
    MARKET_RETURN_IF_ERROR(ins.BindText(1, subject));
    MARKET_RETURN_IF_ERROR(ins.Bind(2, absl::ToUnixMicros(segs[i].start)));
    MARKET_RETURN_IF_ERROR(ins.Bind(3, static_cast<int64_t>(ev.level)));
    MARKET_RETURN_IF_ERROR(ins.Bind(4, int64_t{ev.blacklisted}));
    MARKET_RETURN_IF_ERROR(ins.Bind(5, int64_t{ev.redlisted}));
    MARKET_RETURN_IF_ERROR(ev.blacklist_record >= 0 ? ins.Bind(6, ev.blacklist_record)
                                                    : ins.BindNull(6));
    MARKET_RETURN_IF_ERROR(ins.Bind(7, static_cast<int64_t>(role)));
    MARKET_RETURN_IF_ERROR(ins.Bind(8, version));
    MARKET_RETURN_IF_ERROR(ins.Bind(9, int64_t{enters_black}));
    MARKET_RETURN_IF_ERROR(ins.Bind(10, int64_t{enters_red}));
    MARKET_RETURN_IF_ERROR(ins.Bind(11, int64_t{!enters_black && !enters_red}));
    MARKET_RETURN_IF_ERROR(ins.Run());
  }
  return absl::OkStatus();
}

// Replaces the standing of one subject after an append (see the header).
absl::Status UpdateSubject(Connection& c, const std::string& subject,
                           const std::vector<const Record*>& appended, int64_t size) {
  absl::Time now = absl::InfinitePast();
  int64_t first_new = appended.front()->index();
  for (const Record* r : appended) {
    now = std::max(now, RecordedTime(*r));
    first_new = std::min(first_new, r->index());
  }
  // Entries that came due before this append are announced first, as they
  // happened (the rows are replaced below).
  MARKET_RETURN_IF_ERROR(PublishDueListEntries(c, now, subject).status());
  MARKET_ASSIGN_OR_RETURN(std::vector<Record> records, RelevantRecords(c, subject, now));
  // The records before this append: a prefix (index order), not a copy.
  const auto appended_from = std::find_if(
      records.begin(), records.end(), [first_new](const Record& r) { return r.index() >= first_new; });
  const Evaluation prev = ledger::Evaluate(
      subject, std::span<const Record>(records.begin(), appended_from), now);
  const std::vector<ledger::StandingSegment> segs = ledger::StandingFrom(subject, records, now);
  const common::v1::Role role = appended.back()->subject_role();
  MARKET_RETURN_IF_ERROR(EnqueueStandingSnapshot(c, subject, role, now, size, segs));
  const Evaluation& cur = segs.front().evaluation;
  if (cur.blacklisted && !prev.blacklisted) {
    MARKET_RETURN_IF_ERROR(EnqueueListEntry(c, webhook::v1::SUBJECT_BLACKLISTED, subject, role,
                                            now, cur.level, cur.blacklist_record, size, now));
  }
  if (cur.redlisted && !prev.redlisted) {
    MARKET_RETURN_IF_ERROR(EnqueueListEntry(c, webhook::v1::SUBJECT_REDLISTED, subject, role, now,
                                            cur.level, cur.blacklist_record, size, now));
  }
  return ReplaceSegments(c, subject, role, size, segs);
}

}  // namespace

absl::Status EnqueueAppendEvents(Connection& c, const std::vector<const Record*>& appended,
                                 int64_t size) {
  // Subjects in order of their first appended record.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Record*>> by_subject;
  for (const Record* r : appended) {
    MARKET_RETURN_IF_ERROR(EnqueueRecordSnapshot(c, *r));
    auto [it, added] = by_subject.try_emplace(r->subject());
    if (added) order.push_back(r->subject());
    it->second.push_back(r);
  }
  for (const std::string& subject : order) {
    MARKET_RETURN_IF_ERROR(UpdateSubject(c, subject, by_subject[subject], size));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PublishDueListEntries(Connection& c, absl::Time now,
                                          const std::optional<std::string>& subject) {
  MARKET_ASSIGN_OR_RETURN(
      Statement due,
      c.Prepare("SELECT subject, start_time, level, blacklist_record, subject_role, version, "
                "enters_blacklist, enters_redlist FROM standing_segments WHERE published = 0 "
                "AND start_time <= ?1 AND (?2 IS NULL OR subject = ?2) ORDER BY start_time"));
  MARKET_RETURN_IF_ERROR(due.Bind(1, absl::ToUnixMicros(now)));
  MARKET_RETURN_IF_ERROR(subject ? due.BindText(2, *subject) : due.BindNull(2));
  struct Due {
    std::string subject;
    int64_t start;
    v1::CreditProfile::Level level;
    int64_t blacklist_record;
    common::v1::Role role;
    int64_t version;
    bool black, red;
  };
  MARKET_ASSIGN_OR_RETURN(
      std::vector<Due> rows, sqlite::ReadAll<Due>(due, [](Statement& row) -> absl::StatusOr<Due> {
        return Due{row.ColumnText(0),
                   row.ColumnInt64(1),
                   static_cast<v1::CreditProfile::Level>(row.ColumnInt64(2)),
                   row.ColumnIsNull(3) ? -1 : row.ColumnInt64(3),
                   static_cast<common::v1::Role>(row.ColumnInt64(4)),
                   row.ColumnInt64(5),
                   row.ColumnInt64(6) != 0,
                   row.ColumnInt64(7) != 0};
      }));
  MARKET_ASSIGN_OR_RETURN(
      Statement mark, c.Prepare("UPDATE standing_segments SET published = 1 WHERE subject = ? "
                                "AND start_time = ?"));
  for (const Due& d : rows) {
    const absl::Time start = absl::FromUnixMicros(d.start);
    if (d.black) {
      MARKET_RETURN_IF_ERROR(EnqueueListEntry(c, webhook::v1::SUBJECT_BLACKLISTED, d.subject,
                                              d.role, start, d.level, d.blacklist_record,
                                              d.version, now));
    }
    if (d.red) {
      MARKET_RETURN_IF_ERROR(EnqueueListEntry(c, webhook::v1::SUBJECT_REDLISTED, d.subject, d.role,
                                              start, d.level, d.blacklist_record, d.version, now));
    }
    mark.Reset();
    MARKET_RETURN_IF_ERROR(mark.BindText(1, d.subject));
    MARKET_RETURN_IF_ERROR(mark.Bind(2, d.start));
    MARKET_RETURN_IF_ERROR(mark.Run());
  }
  return static_cast<int>(rows.size());
}

absl::StatusOr<std::vector<StoredSegment>> ReadStandingSegments(Connection& c,
                                                                const std::string& subject) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT start_time, level, blacklisted, redlisted, blacklist_record, "
                "enters_blacklist, enters_redlist, published FROM standing_segments "
                "WHERE subject = ? ORDER BY start_time"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, subject));
  return sqlite::ReadAll<StoredSegment>(st, [](Statement& row) -> absl::StatusOr<StoredSegment> {
    return StoredSegment{.start = absl::FromUnixMicros(row.ColumnInt64(0)),
                         .level = static_cast<v1::CreditProfile::Level>(row.ColumnInt64(1)),
                         .blacklisted = row.ColumnInt64(2) != 0,
                         .redlisted = row.ColumnInt64(3) != 0,
                         .blacklist_record = row.ColumnIsNull(4) ? -1 : row.ColumnInt64(4),
                         .enters_blacklist = row.ColumnInt64(5) != 0,
                         .enters_redlist = row.ColumnInt64(6) != 0,
                         .published = row.ColumnInt64(7) != 0};
  });
}

outbox::Relay::Deliverer WithSellerOperators(
    outbox::Relay::Deliverer inner,
    std::function<absl::StatusOr<std::vector<std::string>>(const std::string& seller)> operators) {
  return [inner = std::move(inner), operators = std::move(operators)](
             const std::string& event_id, const std::string& payload) -> absl::Status {
    webhook::v1::PublishEventRequest req;
    if (!req.ParseFromString(payload)) {
      return absl::DataLossError(absl::StrCat("outbox event ", event_id, " does not parse"));
    }
    const webhook::v1::Event& e = req.event();
    const bool list_entry = e.kind() == webhook::v1::SUBJECT_BLACKLISTED ||
                            e.kind() == webhook::v1::SUBJECT_REDLISTED;
    auto role = e.attributes().find("subject_role");
    if (!list_entry || role == e.attributes().end() ||
        role->second != common::v1::Role_Name(common::v1::SELLER) || e.audience_size() > 0) {
      return inner(event_id, payload);
    }
    MARKET_ASSIGN_OR_RETURN(std::vector<std::string> ops, operators(e.resource()));
    std::sort(ops.begin(), ops.end());
    ops.erase(std::unique(ops.begin(), ops.end()), ops.end());
    for (size_t i = 0; i < ops.size() && i < 16; ++i) req.mutable_event()->add_audience(ops[i]);
    return inner(event_id, req.SerializeAsString());
  };
}

}  // namespace market::credit
