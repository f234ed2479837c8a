#include "domain/user.hpp"

#include <algorithm>

namespace almanac::domain {
namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_username_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' ||
         c == '.' || c == '+' || c == '-' || c == '_';
}

// A deliberately plain check: one '@', a non-empty local part without spaces or control
// characters, and a domain of dot-separated labels of letters, digits and hyphens. Deliverability
// is not our business; typos and injection are.
bool is_plausible_email(std::string_view email) {
  if (email.size() > kMaxEmailLength) return false;
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  if (local.size() > 64) return false;
  for (const unsigned char c : local) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
        c == ';' || c == '<' || c == '>' || c == '[' || c == '\\' || c == ']') {
      return false;
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  if (domain.find('.') == std::string_view::npos) return false;
  std::size_t label_start = 0;
  while (label_start <= domain.size()) {
    auto dot = domain.find('.', label_start);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(label_start, dot - label_start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    label_start = dot + 1;
  }
  return true;
}

}  // namespace

FieldErrors validate_registration(std::string_view username, std::string_view email,
                                  std::string_view password) {
  FieldErrors errors;
  if (username.empty()) {
    errors["username"].push_back("This field may not be blank.");
  } else if (username.size() > kMaxUsernameLength) {
    errors["username"].push_back("Ensure this field has no more than 150 characters.");
  } else if (!std::all_of(username.begin(), username.end(), is_username_char)) {
    errors["username"].push_back(
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ "
        "characters.");
  }
  if (email.empty()) {
    errors["email"].push_back("This field may not be blank.");
  } else if (!is_plausible_email(email)) {
    errors["email"].push_back("Enter a valid email address.");
  }
  if (password.size() < kMinPasswordBytes) {
    errors["password"].push_back(
        "This password is too short. It must contain at least 8 characters.");
  } else if (password.size() > kMaxPasswordBytes) {
    errors["password"].push_back("Ensure this field has no more than 1024 bytes.");
  } else if (ascii_lower(password) == ascii_lower(username) ||
             ascii_lower(password) == ascii_lower(email)) {
    errors["password"].push_back("The password is too similar to the username or email.");
  }
  return errors;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return ascii_lower(c); });
  return out;
}

std::string username_key(std::string_view username) { return ascii_lower(username); }

std::string email_key(std::string_view email) { return ascii_lower(email); }

}  // namespace almanac::domain
