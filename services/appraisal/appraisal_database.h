// appraisal.db (SQLite, synchronous=FULL) with the grading schemes loaded at
// start. The service works on the tables through appraisal_tables.h inside
// db().Write()/Read(). Thread-safe.
#ifndef MARKET_SERVICES_APPRAISAL_APPRAISAL_DATABASE_H_
#define MARKET_SERVICES_APPRAISAL_APPRAISAL_DATABASE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sqlite/database.h"
#include "services/appraisal/grading_schemes.h"

namespace market::appraisal {

class AppraisalDatabase final {
 public:
  // Opens (creating and migrating) the database at `path` and stores every
  // scheme of `schemes` not stored yet. FAILED_PRECONDITION when a stored
  // scheme version differs from its definition; errors of Database::Open.
  static absl::StatusOr<std::unique_ptr<AppraisalDatabase>> Open(
      const std::string& path, const std::vector<SchemeDefinition>& schemes);

  AppraisalDatabase(const AppraisalDatabase&) = delete;
  AppraisalDatabase& operator=(const AppraisalDatabase&) = delete;

  sqlite::Database& db() { return *db_; }

 private:
  explicit AppraisalDatabase(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace market::appraisal

#endif  // MARKET_SERVICES_APPRAISAL_APPRAISAL_DATABASE_H_
