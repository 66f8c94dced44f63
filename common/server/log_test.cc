// LogRpc writes its line without a JSON tree; it must stay the object LogJson
// writes for the same fields (tests and log readers parse it).
#include "common/server/log.h"

#include <stdio.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace market::server {
namespace {

// The lines written to stderr while `fn` runs.
template <typename Fn>
std::string CaptureStderr(Fn fn) {
  FILE* tmp = tmpfile();
  int saved = dup(STDERR_FILENO);
  dup2(fileno(tmp), STDERR_FILENO);
  fn();
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string out;
  rewind(tmp);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, tmp)) > 0) out.append(buf, n);
  fclose(tmp);
  return out;
}

TEST(LogRpcTest, LineIsTheObjectLogJsonWrites) {
  std::string subject = "subjects/\xe5\xbc\xa0\"q\"";  // non-ASCII and quotes
  std::string error = "bad \x01 input\n\xff";          // control and invalid UTF-8
  std::string text = CaptureStderr([&] {
    LogRpc("/pkg.S/M", "INVALID_ARGUMENT", absl::Microseconds(1234), subject, error);
    LogJson("info", "rpc",
            {{"method", "/pkg.S/M"},
             {"code", "INVALID_ARGUMENT"},
             {"latency_ms", 1.234},
             {"subject", subject},
             {"error", error}});
  });
  auto newline = text.find('\n');
  ASSERT_NE(newline, std::string::npos);
  nlohmann::json fast = nlohmann::json::parse(text.substr(0, newline));
  nlohmann::json tree = nlohmann::json::parse(text.substr(newline + 1));
  ASSERT_TRUE(fast["ts"].is_string());
  absl::Time ts;
  std::string why;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, fast["ts"].get<std::string>(), &ts, &why))
      << fast["ts"] << why;
  EXPECT_LT(absl::AbsDuration(absl::Now() - ts), absl::Minutes(1));
  fast.erase("ts");
  tree.erase("ts");
  EXPECT_EQ(fast, tree);
}

// The latency is written as nlohmann's dump() writes the double, and the
// timestamp's fraction without trailing zeros, as RFC3339_full formats it.
TEST(LogRpcTest, LatencyAndTimestampAreWrittenAsLogJsonWritesThem) {
  for (absl::Duration latency : {absl::Milliseconds(2), absl::Microseconds(1234),
                                 absl::Nanoseconds(1), absl::Seconds(90), absl::ZeroDuration()}) {
    std::string text = CaptureStderr([&] { LogRpc("/pkg.S/M", "OK", latency, "", ""); });
    std::string want = "\"latency_ms\":" +
                       nlohmann::json(absl::ToDoubleMilliseconds(latency)).dump() + ",";
    EXPECT_NE(text.find(want), std::string::npos) << text << " wants " << want;
    nlohmann::json line = nlohmann::json::parse(text);
    std::string ts = line["ts"].get<std::string>();
    absl::Time parsed;
    std::string why;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, ts, &parsed, &why)) << ts << why;
    EXPECT_EQ(ts, absl::FormatTime(absl::RFC3339_full, parsed, absl::UTCTimeZone()));
  }
}

TEST(LogRpcTest, InternalIsLoggedAsError) {
  std::string text =
      CaptureStderr([] { LogRpc("/pkg.S/M", "INTERNAL", absl::Milliseconds(2), "", "boom"); });
  nlohmann::json line = nlohmann::json::parse(text);
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["subject"], "");
}

}  // namespace
}  // namespace market::server
