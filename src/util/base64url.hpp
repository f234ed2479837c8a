#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace almanac::util {

// Encodes `bytes` as base64url (RFC 4648 section 5: '-' and '_' instead of '+' and '/') without
// '=' padding, the form JWTs use. Any byte sequence is accepted; never fails.
std::string base64url_encode(std::string_view bytes);

// Decodes unpadded base64url strictly: returns std::nullopt when `text` holds any character outside
// the base64url alphabet (including '=', '+', '/', whitespace and NUL), when its length leaves a
// single dangling character (length % 4 == 1), or when the unused low bits of the last character
// are not zero. The last rule makes the encoding canonical: every byte string has exactly one
// accepted spelling, so a token cannot be altered without changing what it decodes to.
// The empty string decodes to an empty string. Never throws except std::bad_alloc.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace almanac::util
