#include "common/config/files.h"

#include <sys/stat.h>

#include <filesystem>

#include "common/status/status_matchers.h"
#include "gtest/gtest.h"

namespace market::config {
namespace {

using ::market::testing::StatusIs;

std::string TempPath(const std::string& leaf) {
  std::string dir = ::testing::TempDir() + "files_test_" + std::to_string(::getpid());
  EXPECT_OK(EnsureDir(dir));
  return dir + "/" + leaf;
}

TEST(FilesTest, OwnerOnlyFileHasMode0600) {
  std::string path = TempPath("secret.json");
  ASSERT_OK(WriteOwnerOnlyFile(path, "{}"));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_OK_AND_ASSIGN(std::string back, ReadFile(path));
  EXPECT_EQ(back, "{}");
}

TEST(FilesTest, SecretIsCreatedOnceThenReused) {
  std::string path = TempPath("hmac.key");
  ::unlink(path.c_str());
  ASSERT_OK_AND_ASSIGN(std::string first, LoadOrCreateSecret(path, 32));
  ASSERT_OK_AND_ASSIGN(std::string second, LoadOrCreateSecret(path, 32));
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(first, second);
}

TEST(FilesTest, ShortSecretIsFailedPrecondition) {
  std::string path = TempPath("short.key");
  ASSERT_OK(WriteOwnerOnlyFile(path, "abc"));
  EXPECT_THAT(LoadOrCreateSecret(path, 32), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(FilesTest, NewFolderIsOwnerOnly) {
  std::string dir = TempPath("") + "new-data-dir";
  std::filesystem::remove_all(dir);
  ASSERT_OK(EnsureDir(dir));
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
}

TEST(FilesTest, OwnerOnlyFileCreatesMissingFoldersOwnerOnly) {
  std::string dir = TempPath("") + "fresh-home";
  std::filesystem::remove_all(dir);
  ASSERT_OK(WriteOwnerOnlyFile(dir + "/.config/marketctl/ledger-state.json", "{}"));
  struct stat st;
  ASSERT_EQ(::stat((dir + "/.config/marketctl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  ASSERT_OK_AND_ASSIGN(std::string back, ReadFile(dir + "/.config/marketctl/ledger-state.json"));
  EXPECT_EQ(back, "{}");
}

TEST(FilesTest, MissingFileIsNotFound) {
  EXPECT_THAT(ReadFile("/nonexistent/dir/file"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace market::config
