#include "util/base64url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace almanac::util {
namespace {

// RFC 4648 section 10 test vectors, without their '=' padding.
TEST(Base64urlEncode, MatchesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64urlEncode, UsesDashAndUnderscoreInsteadOfPlusAndSlash) {
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
}

TEST(Base64urlDecode, MatchesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_decode("Zg"), "f");
  EXPECT_EQ(base64url_decode("Zm8"), "fo");
  EXPECT_EQ(base64url_decode("Zm9v"), "foo");
  EXPECT_EQ(base64url_decode("Zm9vYg"), "foob");
  EXPECT_EQ(base64url_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64url_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64url_decode("-_-_"), "\xfb\xff\xbf");
}

TEST(Base64urlDecode, EmptyInputDecodesToEmptyString) {
  const std::optional<std::string> decoded = base64url_decode("");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, "");
}

TEST(Base64urlDecode, RoundTripsEveryByteValueAtEveryLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    const std::string input = bytes.substr(bytes.size() - length);
    EXPECT_EQ(base64url_decode(base64url_encode(input)), input) << "length " << length;
  }
}

TEST(Base64urlDecode, RejectsPadding) {
  EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm8="), std::nullopt);
}

TEST(Base64urlDecode, RejectsStandardAlphabetPlusAndSlash) {
  EXPECT_EQ(base64url_decode("+/+/"), std::nullopt);
}

TEST(Base64urlDecode, RejectsWhitespaceAndControlCharacters) {
  EXPECT_EQ(base64url_decode("Zm9v YmFy"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9v\nYmFy"), std::nullopt);
  EXPECT_EQ(base64url_decode(" Zm9v"), std::nullopt);
  EXPECT_EQ(base64url_decode(std::string("Zm9v\0Zm9v", 9)), std::nullopt);
}

TEST(Base64urlDecode, RejectsNonAsciiBytes) {
  EXPECT_EQ(base64url_decode("Zm9v\xc3\xa9"), std::nullopt);
}

TEST(Base64urlDecode, RejectsASingleDanglingCharacter) {
  EXPECT_EQ(base64url_decode("Z"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9vY"), std::nullopt);
}

// "Zg" and "Zh" would both decode to "f" if the unused low bits were ignored.
TEST(Base64urlDecode, RejectsNonZeroUnusedBits) {
  EXPECT_EQ(base64url_decode("Zh"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm8"), "fo");
}

}  // namespace
}  // namespace almanac::util
