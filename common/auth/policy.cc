#include "common/auth/policy.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status/status.h"

namespace market::auth {

bool Caller::HasRole(Role role) const {
  for (Role r : roles) {
    if (r == role) return true;
  }
  return false;
}

bool Caller::Owns(absl::string_view resource) const {
  if (subject.empty() || resource.empty()) return false;
  return resource == subject || absl::StartsWith(resource, absl::StrCat(subject, "/"));
}

std::string StringFieldByPath(const google::protobuf::Message& message, absl::string_view path) {
  const google::protobuf::Message* current = &message;
  std::vector<absl::string_view> steps = absl::StrSplit(path, '.');
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto* field = current->GetDescriptor()->FindFieldByName(std::string(steps[i]));
    if (field == nullptr || field->is_repeated()) return "";
    const auto* reflection = current->GetReflection();
    if (i + 1 == steps.size()) {
      if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) return "";
      return reflection->GetString(*current, field);
    }
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) return "";
    current = &reflection->GetMessage(*current, field);
  }
  return "";
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(
    const google::protobuf::ServiceDescriptor* service, std::vector<RpcPolicy> policies,
    std::shared_ptr<const TokenVerifier> verifier, std::shared_ptr<SuspensionChecker> suspension,
    const Clock* clock) {
  std::map<std::string, RpcPolicy, std::less<>> table;
  for (auto& p : policies) {
    if (service->FindMethodByName(p.method) == nullptr) {
      return absl::InternalError(
          absl::StrCat("policy names unknown method ", service->full_name(), ".", p.method));
    }
    std::string method = p.method;
    if (!table.emplace(method, std::move(p)).second) {
      return absl::InternalError(absl::StrCat("duplicate policy for ", method));
    }
  }
  for (int i = 0; i < service->method_count(); ++i) {
    if (!table.contains(service->method(i)->name())) {
      return absl::InternalError(
          absl::StrCat("no policy for ", service->full_name(), ".", service->method(i)->name()));
    }
  }
  return std::unique_ptr<Authorizer>(
      new Authorizer(std::move(table), std::move(verifier), std::move(suspension), clock));
}

const RpcPolicy* Authorizer::Find(absl::string_view method) const {
  auto it = table_.find(method);
  return it == table_.end() ? nullptr : &it->second;
}

absl::StatusOr<Caller> Authorizer::Authenticate(absl::string_view authorization) const {
  return AuthenticateFor(authorization, /*password_change_exempt=*/false);
}

absl::StatusOr<Caller> Authorizer::AuthenticateFor(absl::string_view authorization,
                                                   bool password_change_exempt) const {
  Caller caller;
  if (authorization.empty()) return caller;
  absl::string_view token = authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ") && !absl::ConsumePrefix(&token, "bearer ")) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  MARKET_ASSIGN_OR_RETURN(Claims claims, verifier_->Verify(token, clock_->Now()));
  caller.subject = claims.subject;
  caller.roles = claims.roles;
  if (suspension_ != nullptr) {
    MARKET_ASSIGN_OR_RETURN(SubjectStatus status, suspension_->Lookup(claims.subject));
    if (status.blocked) return absl::UnauthenticatedError("subject is suspended or unknown");
    if (claims.issue_time < status.tokens_valid_after) {
      return absl::UnauthenticatedError(
          "token issued before the subject's credentials changed; log in again");
    }
    if (status.password_change_required && !password_change_exempt) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "PASSWORD_CHANGE_REQUIRED",
                        absl::StrCat(claims.subject,
                                     " must change its password first (ChangePassword)"));
    }
    // A role taken away stops counting before the token expires.
    std::erase_if(caller.roles, [&](Role r) {
      return std::find(status.roles.begin(), status.roles.end(), r) == status.roles.end();
    });
  }
  caller.token_expire_time = claims.expire_time;
  return caller;
}

absl::StatusOr<Caller> Authorizer::Authorize(absl::string_view method,
                                             absl::string_view authorization,
                                             const google::protobuf::Message& request) const {
  const RpcPolicy* policy = Find(method);
  if (policy == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat("no policy allows ", method));
  }
  MARKET_ASSIGN_OR_RETURN(
      Caller caller,
      AuthenticateFor(authorization, method == "ChangePassword" || method == "WhoAmI"));
  if (policy->public_access) return caller;
  if (!caller.authenticated()) {
    return absl::UnauthenticatedError(absl::StrCat(method, " needs an access token"));
  }
  if (policy->any_authenticated) return caller;
  for (Role r : caller.roles) {
    if (policy->roles.contains(r)) return caller;
  }
  if (!policy->owner_field.empty() &&
      caller.Owns(StringFieldByPath(request, policy->owner_field))) {
    return caller;
  }
  return absl::PermissionDeniedError(
      absl::StrCat("caller ", caller.subject, " may not call ", method));
}

}  // namespace market::auth
