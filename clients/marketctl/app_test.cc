#include "clients/marketctl/app.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class AppTest : public ::testing::Test {
 protected:
  AppTest() { BuildApp(app_, &flags_, client_, &run_); }

  // Parses `args` (argv without the program name) and runs the command.
  int Run(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());
    app_.parse(std::move(args));
    return run_ ? run_() : -1;
  }

  CLI::App app_{"marketctl"};
  GlobalFlags flags_;
  std::ostringstream out_, err_;
  Client client_{flags_, out_, err_};
  std::function<int()> run_;
};

// Appends to `missing` the path of every leaf command under `cmd` whose own
// --help footer has no "Example:" with a command line of that leaf.
void FindLeavesWithoutExample(const CLI::App& cmd, const std::string& path,
                              std::vector<std::string>* missing, int* leaves) {
  const auto subcommands = cmd.get_subcommands({});
  if (subcommands.empty()) {
    ++*leaves;
    const std::string footer = cmd.get_footer();
    bool example = false;
    for (absl::string_view line : absl::StrSplit(footer, '\n')) {
      if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), path + " ") ||
          absl::StripLeadingAsciiWhitespace(line) == path) {
        example = true;
      }
    }
    if (!absl::StrContains(footer, "Example") || !example) missing->push_back(path);
    return;
  }
  for (const CLI::App* sub : subcommands) {
    FindLeavesWithoutExample(*sub, absl::StrCat(path, " ", sub->get_name()), missing, leaves);
  }
}

TEST_F(AppTest, EveryLeafCommandHasAnExampleOfItself) {
  std::vector<std::string> missing;
  int leaves = 0;
  FindLeavesWithoutExample(app_, "marketctl", &missing, &leaves);
  EXPECT_GT(leaves, 60);  // the walk reached the whole tree
  EXPECT_THAT(missing, IsEmpty()) << "leaf commands whose --help footer lacks an \"Example:\" "
                                     "line starting with the command itself:\n  "
                                  << absl::StrJoin(missing, "\n  ");
}

// The example command lines of a footer: lines starting with "marketctl",
// joined with their "\\" continuations.
std::vector<std::string> ExampleLines(const std::string& footer) {
  std::vector<std::string> examples;
  bool continued = false;
  for (absl::string_view line : absl::StrSplit(footer, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (continued) {
      absl::StrAppend(&examples.back(), " ", line);
    } else if (absl::StartsWith(line, "marketctl ")) {
      examples.emplace_back(line);
    } else {
      continue;
    }
    continued = absl::EndsWith(examples.back(), "\\");
    if (continued) examples.back().pop_back();
  }
  return examples;
}

// Splits a shell command line into words: '…' and "…" quote, $(…) is kept
// as one word, an unquoted # starts a comment and an unquoted < or > a
// redirection (both end the command).
std::vector<std::string> ShellWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  int substitution = 0;  // depth of $( … )
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (substitution > 0) {
      word.push_back(c);
      if (c == '(') ++substitution;
      if (c == ')') --substitution;
    } else if (c == '$' && i + 1 < line.size() && line[i + 1] == '(') {
      word.append("$(");
      ++i;
      substitution = 1;
      in_word = true;
    } else if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word.push_back(c);
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else if ((c == '#' || c == '<' || c == '>') && !in_word) {
      break;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

void CollectExamples(const CLI::App& cmd, std::vector<std::string>* examples) {
  const auto subcommands = cmd.get_subcommands({});
  if (subcommands.empty()) {
    for (auto& e : ExampleLines(cmd.get_footer())) examples->push_back(std::move(e));
  }
  for (const CLI::App* sub : subcommands) CollectExamples(*sub, examples);
}

TEST(ShellWordsTest, QuotesCommentsAndRedirections) {
  EXPECT_THAT(
      ShellWords("marketctl order place x --listing-etag '\"v4\"'   # swap"),
      ::testing::ElementsAre("marketctl", "order", "place", "x", "--listing-etag", "\"v4\""));
  EXPECT_THAT(ShellWords("marketctl a --filter 'b=\"c d\"' -o json > x.json"),
              ::testing::ElementsAre("marketctl", "a", "--filter", "b=\"c d\"", "-o", "json"));
  EXPECT_THAT(ShellWords("marketctl a --photo $(sha256sum a.jpg | cut -c1-64) --x < in"),
              ::testing::ElementsAre("marketctl", "a", "--photo", "$(sha256sum a.jpg | cut -c1-64)",
                                     "--x"));
}

TEST_F(AppTest, EveryLeafExampleParses) {
  std::vector<std::string> examples;
  CollectExamples(app_, &examples);
  EXPECT_GT(examples.size(), 60u);
  for (const std::string& example : examples) {
    std::vector<std::string> words = ShellWords(example);
    words.erase(words.begin());  // "marketctl"
    std::reverse(words.begin(), words.end());
    CLI::App app{"marketctl"};
    GlobalFlags flags;
    Client client{flags, out_, err_};
    std::function<int()> run;
    BuildApp(app, &flags, client, &run);
    try {
      app.parse(std::move(words));
      EXPECT_TRUE(run) << example;
    } catch (const CLI::ParseError& e) {
      ADD_FAILURE() << example << "\n  " << e.what();
    }
  }
}

TEST_F(AppTest, LogoutForgetsTheStoredToken) {
  const std::string path = ::testing::TempDir() + "/logout-credentials.json";
  {
    std::ofstream f(path);
    f << R"({"server": "127.0.0.1:7400", "access_token": "x"})";
  }
  EXPECT_EQ(Run({"--credentials", path, "logout"}), 0);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_THAT(out_.str(), HasSubstr("logged out"));
}

TEST_F(AppTest, LogoutWithoutATokenSaysSo) {
  const std::string path = ::testing::TempDir() + "/never-written-credentials.json";
  EXPECT_EQ(Run({"--credentials", path, "logout"}), 0);
  EXPECT_THAT(out_.str(), HasSubstr("not logged in"));
}

TEST_F(AppTest, TopLevelHelpDocumentsExitCodesAndMoney) {
  const std::string help = app_.help();
  EXPECT_THAT(help, HasSubstr("Exit codes: 0 ok; 1-16 the gRPC status code"));
  EXPECT_THAT(help, HasSubstr("64 usage; 65 local error"));
  EXPECT_THAT(help, HasSubstr("66 verification failed"));
  EXPECT_THAT(help, HasSubstr("1299.50元"));
}

TEST_F(AppTest, SearchFilterInYuanIsSentInFen) {
  try {
    app_.parse(std::vector<std::string>{"category=PHONE AND price<=4000元", "--filter", "search",
                                        "listing"});
  } catch (const CLI::ParseError& e) {
    FAIL() << e.what();
  }
  const CLI::Option* filter =
      app_.get_subcommand("listing")->get_subcommand("search")->get_option("--filter");
  EXPECT_EQ(filter->as<std::string>(), "category=PHONE AND price<=400000");
}

TEST_F(AppTest, SearchFilterWithBadYuanIsAUsageErrorNamingTheFlag) {
  try {
    Run({"listing", "search", "--filter", "price>=1.234元"});
    FAIL() << "parsed";
  } catch (const CLI::ValidationError& e) {
    EXPECT_THAT(std::string(e.what()),
                HasSubstr("--filter: \"price>=1.234元\": more than two decimals"));
    EXPECT_EQ(app_.exit(e, out_, err_), static_cast<int>(CLI::ExitCodes::ValidationError));
  }
}

TEST_F(AppTest, ListingCreatePriceWithTooManyDecimalsNamesTheFlag) {
  EXPECT_EQ(Run({"listing", "create", "--market", "east-flea", "--category", "PHONE", "--price",
                 "1.234元"}),
            kExitUsage);
  EXPECT_EQ(err_.str(), "error: --price \"1.234元\": more than two decimals (1 fen = 0.01 yuan)\n");
}

TEST_F(AppTest, ClaimRefundWithBadYuanNamesTheFlag) {
  EXPECT_EQ(Run({"claim", "resolve", "c-31", "--outcome", "refunded", "--refund-yuan", "2999.999"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("error: --refund-yuan \"2999.999\": more than two decimals"));
}

}  // namespace
}  // namespace market::ctl
