#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace almanac::domain {

using UserId = std::int64_t;

struct User {
  UserId id = 0;
  std::string username;
  std::string email;
  bool is_active = true;
};

// A user with the stored argon2id hash; only the authentication service sees this.
struct UserCredentials {
  User user;
  std::string password_hash;
};

struct NewUser {
  std::string username;
  std::string email;
  std::string password_hash;
};

inline constexpr std::size_t kMaxUsernameLength = 150;
inline constexpr std::size_t kMaxEmailLength = 254;
inline constexpr std::size_t kMinPasswordBytes = 8;
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// Checks a registration: username 1-150 ASCII letters, digits and @.+-_; a plausible e-mail
// address; a password of 8-1024 bytes equal to neither the username nor the e-mail (compared
// case-insensitively). Returns one entry per bad field, empty when all is well.
FieldErrors validate_registration(std::string_view username, std::string_view email,
                                  std::string_view password);

// `text` with ASCII letters lower-cased and every other byte kept: the case folding shared by the
// unique keys below and the event search filters (it matches SQLite's lower()).
std::string ascii_lower(std::string_view text);

// The key under which uniqueness is enforced: usernames and e-mails are unique regardless of
// case. Usernames are ASCII, so ASCII lower-casing is exact for them.
std::string username_key(std::string_view username);
std::string email_key(std::string_view email);

}  // namespace almanac::domain
