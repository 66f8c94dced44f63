#include "services/identity/identity_testing.h"

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market::identity::testing {

std::string AddTestSubject(IdentityModule& identity, absl::Time now, const std::string& id,
                           const std::vector<common::v1::Role>& roles,
                           const std::string& affiliation, Subject::Kind kind) {
  SubjectRow row;
  row.subject.set_name("subjects/" + id);
  row.subject.set_kind(kind);
  for (common::v1::Role r : roles) row.subject.add_roles(r);
  row.subject.set_display_name(id);
  row.subject.set_affiliation(affiliation);
  row.subject.set_state(Subject::ACTIVE);
  EXPECT_OK(identity.store->CreateSubject(row, std::nullopt, RequestKey{}, now, nullptr));
  return row.subject.name();
}

std::string TestToken(IdentityModule& identity, const std::string& subject,
                      const std::vector<common::v1::Role>& roles) {
  std::vector<common::v1::Role> granted = roles;
  if (granted.empty()) {
    absl::StatusOr<SubjectRow> row = identity.store->GetSubject(subject);
    EXPECT_OK(row);
    if (row.ok()) {
      for (int r : row->subject.roles()) granted.push_back(static_cast<common::v1::Role>(r));
    }
  }
  auto issued = identity.service->token_authority()->Issue(subject, granted);
  EXPECT_OK(issued);
  return issued.ok() ? issued->first : "";
}

absl::StatusOr<std::optional<v1::Subject>> LookupTestSubject(IdentityModule& identity,
                                                             const std::string& subject) {
  absl::StatusOr<SubjectRow> row = identity.store->GetSubject(subject);
  if (absl::IsNotFound(row.status())) return std::nullopt;
  if (!row.ok()) return row.status();
  return row->subject;
}

}  // namespace market::identity::testing
