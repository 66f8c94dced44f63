#include "services/appraisal/appraisal_database.h"

#include "common/status/status.h"
#include "services/appraisal/appraisal_tables.h"

namespace market::appraisal {

absl::StatusOr<std::unique_ptr<AppraisalDatabase>> AppraisalDatabase::Open(
    const std::string& path, const std::vector<SchemeDefinition>& schemes) {
  sqlite::Options options;
  options.synchronous = sqlite::Options::Synchronous::kFull;
  MARKET_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db,
                          sqlite::Database::Open(path, options, AppraisalMigrations()));
  MARKET_RETURN_IF_ERROR(db->Write([&](sqlite::Connection& c) -> absl::Status {
    for (const SchemeDefinition& def : schemes) MARKET_RETURN_IF_ERROR(PutScheme(c, def));
    return absl::OkStatus();
  }));
  return std::unique_ptr<AppraisalDatabase>(new AppraisalDatabase(std::move(db)));
}

}  // namespace market::appraisal
