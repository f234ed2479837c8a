#include "config/secret.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "config/config.hpp"
#include "support/temp_dir.hpp"

namespace almanac::config {
namespace {

namespace fs = std::filesystem;

using almanac::test_support::TempDir;

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(LoadOrCreateSecret, CreatesAPrivateFileWithAtLeast32Bytes) {
  const TempDir dir;
  const std::string secret = load_or_create_secret(dir.path());
  EXPECT_GE(secret.size(), 32u);

  const fs::path file = dir.path() / "jwt-secret";
  ASSERT_TRUE(fs::is_regular_file(file));
  EXPECT_EQ(fs::status(file).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  const std::string stored = read_file(file);
  EXPECT_GE(stored.size(), 32u);
  EXPECT_EQ(stored.substr(0, secret.size()), secret);
}

TEST(LoadOrCreateSecret, SecondCallReturnsTheSameSecret) {
  const TempDir dir;
  const std::string first = load_or_create_secret(dir.path());
  const std::string stored = read_file(dir.path() / "jwt-secret");
  const std::string second = load_or_create_secret(dir.path());
  EXPECT_EQ(second, first);
  EXPECT_EQ(read_file(dir.path() / "jwt-secret"), stored) << "the file was rewritten";
}

TEST(LoadOrCreateSecret, FreshDirectoriesGetDifferentSecrets) {
  const TempDir a;
  const TempDir b;
  EXPECT_NE(load_or_create_secret(a.path()), load_or_create_secret(b.path()));
}

TEST(LoadOrCreateSecret, ExistingSecretIsReadWithoutItsLineEnding) {
  const TempDir dir;
  const std::string secret = "an-operator-chosen-secret-of-40-bytes!!!";
  ASSERT_EQ(secret.size(), 40u);
  write_file(dir.path() / "jwt-secret", secret + "\r\n");
  EXPECT_EQ(load_or_create_secret(dir.path()), secret);
}

TEST(LoadOrCreateSecret, FileOfExactly32BytesIsAccepted) {
  const TempDir dir;
  const std::string secret(32, 's');
  write_file(dir.path() / "jwt-secret", secret);
  EXPECT_EQ(load_or_create_secret(dir.path()), secret);
}

TEST(LoadOrCreateSecret, FileWithTenBytesIsRejected) {
  const TempDir dir;
  write_file(dir.path() / "jwt-secret", "0123456789");
  EXPECT_THROW(load_or_create_secret(dir.path()), ConfigError);
  EXPECT_EQ(read_file(dir.path() / "jwt-secret"), "0123456789") << "the short file was replaced";
}

TEST(LoadOrCreateSecret, LineEndingsDoNotCountTowardsTheMinimum) {
  const TempDir dir;
  write_file(dir.path() / "jwt-secret", std::string(31, 's') + "\n\n\r\n");
  EXPECT_THROW(load_or_create_secret(dir.path()), ConfigError);
}

TEST(LoadOrCreateSecret, EmptyFileIsRejected) {
  const TempDir dir;
  write_file(dir.path() / "jwt-secret", "");
  EXPECT_THROW(load_or_create_secret(dir.path()), ConfigError);
}

TEST(LoadOrCreateSecret, MissingDirectoryIsRejected) {
  const TempDir dir;
  EXPECT_THROW(load_or_create_secret(dir.path() / "does-not-exist"), ConfigError);
  EXPECT_FALSE(fs::exists(dir.path() / "does-not-exist"));
}

}  // namespace
}  // namespace almanac::config
