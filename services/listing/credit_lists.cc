#include "services/listing/credit_lists.h"

#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"

namespace market::listing {

using sqlite::Connection;
using sqlite::Statement;

const std::string& CreditListsMigration() {
  static const auto* sql = new std::string(R"sql(
CREATE TABLE credit_lists (
  subject TEXT NOT NULL,
  list INTEGER NOT NULL,
  record TEXT NOT NULL,
  until_us INTEGER NOT NULL,
  PRIMARY KEY (subject, list)
) WITHOUT ROWID;
)sql");
  return *sql;
}

absl::Status ReplaceCreditLists(sqlite::Database& db, const std::vector<CreditListRow>& rows) {
  return db.Write([&](Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(c.Exec("DELETE FROM credit_lists"));
    MARKET_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("INSERT OR REPLACE INTO credit_lists (subject, list, record, "
                                "until_us) VALUES (:subject, :list, :record, :until)"));
    for (const CreditListRow& r : rows) {
      st.Reset();
      MARKET_RETURN_IF_ERROR(st.BindText(":subject", r.subject));
      MARKET_RETURN_IF_ERROR(st.Bind(":list", static_cast<int64_t>(r.list)));
      MARKET_RETURN_IF_ERROR(st.BindText(":record", r.record));
      MARKET_RETURN_IF_ERROR(st.Bind(":until", absl::ToUnixMicros(r.until)));
      MARKET_RETURN_IF_ERROR(st.Step().status());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> OnRedList(Connection& c, const std::string& seller, absl::Time now) {
  MARKET_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("SELECT 1 FROM credit_lists WHERE subject = :subject AND list = 2 "
                              "AND until_us > :now"));
  MARKET_RETURN_IF_ERROR(st.BindText(":subject", seller));
  MARKET_RETURN_IF_ERROR(st.Bind(":now", absl::ToUnixMicros(now)));
  return st.Step();
}

absl::StatusOr<int> CreditListMirror::RefreshOnce() {
  std::vector<CreditListRow> rows;
  for (CreditList list : {CreditList::kBlack, CreditList::kRed}) {
    MARKET_ASSIGN_OR_RETURN(std::vector<credit::v1::CreditListEntry> entries,
                            lists_(list == CreditList::kBlack));
    for (const credit::v1::CreditListEntry& e : entries) {
      rows.push_back(CreditListRow{
          .subject = e.subject(),
          .list = list,
          .record = e.record(),
          .until = absl::FromUnixMicros(
              google::protobuf::util::TimeUtil::TimestampToMicroseconds(e.until()))});
    }
  }
  MARKET_RETURN_IF_ERROR(ReplaceCreditLists(*db_, rows));
  return static_cast<int>(rows.size());
}

}  // namespace market::listing
