#include "domain/user.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace almanac::domain {
namespace {

constexpr std::string_view kUsername = "alice";
constexpr std::string_view kEmail = "alice@example.com";
constexpr std::string_view kPassword = "correct horse battery";

// The names of the fields that carry errors, in order.
std::vector<std::string> bad_fields(const FieldErrors& errors) {
  std::vector<std::string> names;
  for (const auto& [field, messages] : errors) {
    EXPECT_FALSE(messages.empty()) << field << " is listed without a message";
    names.push_back(field);
  }
  return names;
}

std::vector<std::string> bad_fields_of_username(std::string_view username) {
  return bad_fields(validate_registration(username, kEmail, kPassword));
}

std::vector<std::string> bad_fields_of_email(std::string_view email) {
  return bad_fields(validate_registration(kUsername, email, kPassword));
}

std::vector<std::string> bad_fields_of_password(std::string_view password) {
  return bad_fields(validate_registration(kUsername, kEmail, password));
}

const std::vector<std::string> kNone;
const std::vector<std::string> kUsernameOnly{"username"};
const std::vector<std::string> kEmailOnly{"email"};
const std::vector<std::string> kPasswordOnly{"password"};

// --- valid registrations ------------------------------------------------------------------------

TEST(ValidateRegistration, ValidRegistrationHasNoErrors) {
  EXPECT_TRUE(validate_registration(kUsername, kEmail, kPassword).empty());
}

TEST(ValidateRegistration, UsernameOf150CharactersIsAccepted) {
  EXPECT_EQ(bad_fields_of_username(std::string(150, 'a')), kNone);
}

TEST(ValidateRegistration, UsernameMayUseLettersDigitsAndAtDotPlusMinusUnderscore) {
  EXPECT_EQ(bad_fields_of_username("Jo.Smith+tag-1_x@home"), kNone);
  EXPECT_EQ(bad_fields_of_username("@.+-_"), kNone);
  EXPECT_EQ(bad_fields_of_username("ABCxyz0189"), kNone);
  EXPECT_EQ(bad_fields_of_username("a"), kNone);
}

// --- usernames ----------------------------------------------------------------------------------

TEST(ValidateRegistration, EmptyUsernameIsBlank) {
  const FieldErrors errors = validate_registration("", kEmail, kPassword);
  EXPECT_EQ(bad_fields(errors), kUsernameOnly);
  EXPECT_EQ(errors.at("username"), std::vector<std::string>{"This field may not be blank."});
}

TEST(ValidateRegistration, UsernameOf151CharactersIsTooLong) {
  const FieldErrors errors = validate_registration(std::string(151, 'a'), kEmail, kPassword);
  EXPECT_EQ(bad_fields(errors), kUsernameOnly);
  EXPECT_EQ(errors.at("username"),
            std::vector<std::string>{"Ensure this field has no more than 150 characters."});
}

class ValidateRegistrationRejectsUsername : public testing::TestWithParam<std::string_view> {};

TEST_P(ValidateRegistrationRejectsUsername, WithOneMessage) {
  const FieldErrors errors = validate_registration(GetParam(), kEmail, kPassword);
  EXPECT_EQ(bad_fields(errors), kUsernameOnly) << "'" << GetParam() << "'";
  ASSERT_TRUE(errors.contains("username"));
  EXPECT_EQ(errors.at("username").size(), 1u);
  EXPECT_NE(errors.at("username")[0].find("Enter a valid username"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(BadCharacters, ValidateRegistrationRejectsUsername,
                         testing::Values("john smith", " alice", "alice ", "al#ice", "al/ice",
                                         "al*ice", "al'ice", "al\"ice", "al\tice", "al\nice",
                                         "jos\xc3\xa9",               // josé in UTF-8
                                         "\xe5\xbc\xa0\xe4\xb8\x89",  // 张三
                                         "\xd0\xb0lice",              // Cyrillic а
                                         "al\x7fice", std::string_view("al\0ice", 6)),
                         [](const testing::TestParamInfo<std::string_view>& info) {
                           return "Case" + std::to_string(info.index);
                         });

// --- e-mail addresses ---------------------------------------------------------------------------

TEST(ValidateRegistration, EmptyEmailIsBlank) {
  const FieldErrors errors = validate_registration(kUsername, "", kPassword);
  EXPECT_EQ(bad_fields(errors), kEmailOnly);
  EXPECT_EQ(errors.at("email"), std::vector<std::string>{"This field may not be blank."});
}

TEST(ValidateRegistration, PlausibleEmailsAreAccepted) {
  EXPECT_EQ(bad_fields_of_email("a@b.co"), kNone);
  EXPECT_EQ(bad_fields_of_email("First.Last+tag@mail.example.org"), kNone);
  EXPECT_EQ(bad_fields_of_email("o'brien_99@sub-domain.example.com"), kNone);
}

TEST(ValidateRegistration, EmailOf254CharactersIsAccepted) {
  // 64-character local part, '@', and three labels of 63, 63 and 61 characters.
  const std::string email = std::string(64, 'l') + "@" + std::string(63, 'a') + "." +
                            std::string(63, 'b') + "." + std::string(61, 'c');
  ASSERT_EQ(email.size(), 254u);
  EXPECT_EQ(bad_fields_of_email(email), kNone);
}

TEST(ValidateRegistration, EmailOf255CharactersIsRejected) {
  // Every part is within its own limit; only the total is one too many.
  const std::string email = std::string(64, 'l') + "@" + std::string(63, 'a') + "." +
                            std::string(63, 'b') + "." + std::string(62, 'c');
  ASSERT_EQ(email.size(), 255u);
  EXPECT_EQ(bad_fields_of_email(email), kEmailOnly);
}

TEST(ValidateRegistration, LocalPartOf65CharactersIsRejected) {
  EXPECT_EQ(bad_fields_of_email(std::string(64, 'l') + "@example.com"), kNone);
  EXPECT_EQ(bad_fields_of_email(std::string(65, 'l') + "@example.com"), kEmailOnly);
}

TEST(ValidateRegistration, DomainLabelOf64CharactersIsRejected) {
  EXPECT_EQ(bad_fields_of_email("a@" + std::string(63, 'd') + ".com"), kNone);
  EXPECT_EQ(bad_fields_of_email("a@" + std::string(64, 'd') + ".com"), kEmailOnly);
}

class ValidateRegistrationRejectsEmail : public testing::TestWithParam<std::string_view> {};

TEST_P(ValidateRegistrationRejectsEmail, WithOneMessage) {
  const FieldErrors errors = validate_registration(kUsername, GetParam(), kPassword);
  EXPECT_EQ(bad_fields(errors), kEmailOnly) << "'" << GetParam() << "'";
  ASSERT_TRUE(errors.contains("email"));
  EXPECT_EQ(errors.at("email"), std::vector<std::string>{"Enter a valid email address."});
}

INSTANTIATE_TEST_SUITE_P(Implausible, ValidateRegistrationRejectsEmail,
                         testing::Values("alice.example.com",    // no @
                                         "alice@@example.com",   // two @ together
                                         "al@ice@example.com",   // two @ apart
                                         "alice@example",        // no dot in the domain
                                         "@example.com",         // empty local part
                                         "alice@",               // empty domain
                                         "alice@.",              // empty labels
                                         "alice@.example.com",   // empty first label
                                         "alice@example.com.",   // empty last label
                                         "alice@example..com",   // empty middle label
                                         "alice @example.com",   // space in local part
                                         "alice@exa mple.com",   // space in domain
                                         " alice@example.com",   // leading space
                                         "alice@example.com ",   // trailing space
                                         "al\tice@example.com",  // control character
                                         ".alice@example.com",   // leading dot
                                         "alice.@example.com",   // trailing dot
                                         "al..ice@example.com",  // two dots
                                         "al<ice@example.com", "al\"ice@example.com",
                                         "al(ice)@example.com", "al,ice@example.com",
                                         "al:ice@example.com", "al;ice@example.com",
                                         "al[ice]@example.com", "al\\ice@example.com",
                                         "alice@-example.com",  // label starts with '-'
                                         "alice@example-.com",  // label ends with '-'
                                         "alice@exa_mple.com",  // '_' in the domain
                                         "alice@ex\xc3\xa4mple.com", "j\xc3\xb6rg@example.com",
                                         "alice@example.com\n"),
                         [](const testing::TestParamInfo<std::string_view>& info) {
                           return "Case" + std::to_string(info.index);
                         });

// --- passwords ----------------------------------------------------------------------------------

TEST(ValidateRegistration, PasswordOf7BytesIsTooShort) {
  const FieldErrors errors = validate_registration(kUsername, kEmail, "1234567");
  EXPECT_EQ(bad_fields(errors), kPasswordOnly);
  EXPECT_EQ(errors.at("password"),
            std::vector<std::string>{
                "This password is too short. It must contain at least 8 characters."});
}

TEST(ValidateRegistration, EmptyPasswordIsTooShort) {
  EXPECT_EQ(bad_fields_of_password(""), kPasswordOnly);
}

TEST(ValidateRegistration, PasswordOf8BytesIsAccepted) {
  EXPECT_EQ(bad_fields_of_password("12345678"), kNone);
}

TEST(ValidateRegistration, PasswordLengthIsCountedInBytes) {
  // Four two-byte characters: 8 bytes, 4 characters.
  EXPECT_EQ(bad_fields_of_password("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), kNone);
}

TEST(ValidateRegistration, PasswordOf1024BytesIsAccepted) {
  EXPECT_EQ(bad_fields_of_password(std::string(1024, 'p')), kNone);
}

TEST(ValidateRegistration, PasswordOf1025BytesIsTooLong) {
  const FieldErrors errors = validate_registration(kUsername, kEmail, std::string(1025, 'p'));
  EXPECT_EQ(bad_fields(errors), kPasswordOnly);
  EXPECT_EQ(errors.at("password"),
            std::vector<std::string>{"Ensure this field has no more than 1024 bytes."});
}

TEST(ValidateRegistration, PasswordEqualToUsernameIsTooSimilar) {
  const FieldErrors errors = validate_registration("alice_1990", kEmail, "alice_1990");
  EXPECT_EQ(bad_fields(errors), kPasswordOnly);
  EXPECT_EQ(errors.at("password"),
            std::vector<std::string>{"The password is too similar to the username or email."});
}

TEST(ValidateRegistration, PasswordEqualToUsernameInAnotherCaseIsTooSimilar) {
  EXPECT_EQ(bad_fields(validate_registration("Alice_1990", kEmail, "aLICE_1990")), kPasswordOnly);
}

TEST(ValidateRegistration, PasswordEqualToEmailIsTooSimilar) {
  EXPECT_EQ(bad_fields(validate_registration(kUsername, "alice@example.com", "alice@example.com")),
            kPasswordOnly);
  EXPECT_EQ(bad_fields(validate_registration(kUsername, "Alice@Example.com", "aLiCe@eXaMpLe.CoM")),
            kPasswordOnly);
}

TEST(ValidateRegistration, PasswordMerelyContainingUsernameIsAccepted) {
  EXPECT_EQ(bad_fields(validate_registration("alice_1990", kEmail, "alice_1990!")), kNone);
}

TEST(ValidateRegistration, EveryBadFieldIsReported) {
  const FieldErrors errors = validate_registration("", "nope", "short");
  EXPECT_EQ(bad_fields(errors), (std::vector<std::string>{"email", "password", "username"}));
  for (const auto& [field, messages] : errors) EXPECT_EQ(messages.size(), 1u) << field;
}

// --- keys ---------------------------------------------------------------------------------------

TEST(UsernameKey, LowerCasesAsciiLetters) {
  EXPECT_EQ(username_key("Alice.Smith+Tag_01@X-Y"), "alice.smith+tag_01@x-y");
  EXPECT_EQ(username_key("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(username_key("already-lower"), "already-lower");
  EXPECT_EQ(username_key(""), "");
}

TEST(UsernameKey, DifferentCasesShareOneKey) {
  EXPECT_EQ(username_key("ALICE"), username_key("alice"));
  EXPECT_EQ(username_key("aLiCe"), username_key("AlIcE"));
  EXPECT_NE(username_key("alice"), username_key("alicf"));
}

TEST(EmailKey, LowerCasesLocalPartAndDomain) {
  EXPECT_EQ(email_key("Alice.Smith@Example.COM"), "alice.smith@example.com");
  EXPECT_EQ(email_key("x@y.z"), "x@y.z");
  EXPECT_EQ(email_key(""), "");
}

TEST(EmailKey, LeavesNonAsciiBytesUntouched) {
  EXPECT_EQ(email_key("J\xc3\x96RG@EXAMPLE.COM"), "j\xc3\x96rg@example.com");
  EXPECT_EQ(username_key("\xc3\x89Z"), "\xc3\x89z");
}

}  // namespace
}  // namespace almanac::domain
