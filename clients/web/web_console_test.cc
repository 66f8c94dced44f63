#include "clients/web/web_console.h"

#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::web {
namespace {

using ::testing::Contains;
using ::testing::Pair;

std::string Header(const server::HttpReply& reply, const std::string& name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST(WebConsoleTest, RootIsTheIndexPageAsHtml) {
  server::HttpReply reply = ServeWebConsole("/");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(absl::StrContains(reply.body, "<html lang=\"zh-CN\""));
}

TEST(WebConsoleTest, EveryReplyCarriesTheStrictPolicyAndNosniff) {
  for (const std::string path : {"/", "/assets/js/app.js", "/assets/nope.js"}) {
    server::HttpReply reply = ServeWebConsole(path);
    EXPECT_THAT(reply.headers, Contains(Pair("Content-Security-Policy", kContentSecurityPolicy)))
        << path;
    EXPECT_THAT(reply.headers, Contains(Pair("X-Content-Type-Options", "nosniff"))) << path;
  }
}

TEST(WebConsoleTest, PolicyAllowsNoInlineScriptOrStyle) {
  EXPECT_FALSE(absl::StrContains(kContentSecurityPolicy, "unsafe-inline"));
  EXPECT_FALSE(absl::StrContains(kContentSecurityPolicy, "unsafe-eval"));
  EXPECT_TRUE(absl::StrContains(kContentSecurityPolicy, "default-src 'self'"));
}

TEST(WebConsoleTest, IndexHasNoInlineScriptOrStyle) {
  std::string body = ServeWebConsole("/").body;
  EXPECT_FALSE(absl::StrContains(body, "<script>"));
  EXPECT_FALSE(absl::StrContains(body, "<style"));
  EXPECT_FALSE(absl::StrContains(body, "style=\""));
  EXPECT_FALSE(absl::StrContains(body, "onclick"));
}

TEST(WebConsoleTest, ModulesAreJavaScriptAndStylesheetsCss) {
  EXPECT_EQ(ServeWebConsole("/assets/js/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(ServeWebConsole("/assets/css/console.css").content_type, "text/css; charset=utf-8");
}

TEST(WebConsoleTest, AssetsAreRevalidatedByAStrongEtag) {
  server::HttpReply reply = ServeWebConsole("/assets/js/app.js");
  EXPECT_EQ(reply.cache_control, "no-cache");
  std::string etag = Header(reply, "ETag");
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_NE(etag.substr(0, 2), "W/");
  EXPECT_EQ(Header(ServeWebConsole("/assets/js/app.js"), "ETag"), etag);
  EXPECT_NE(Header(ServeWebConsole("/assets/css/console.css"), "ETag"), etag);
}

TEST(WebConsoleTest, UnknownPathIsNotFound) {
  EXPECT_EQ(ServeWebConsole("/assets/js/missing.js").status, 404);
  EXPECT_EQ(ServeWebConsole("/assets/../CMakeLists.txt").status, 404);
}

}  // namespace
}  // namespace market::web
