#include "domain/history.hpp"

#include <algorithm>
#include <charconv>

namespace almanac::domain {
namespace {

constexpr std::string_view kReasonField = "change_reason";

// The number of code points of `text`, or nullopt when it is not valid UTF-8 (overlong forms,
// surrogates and values above U+10FFFF included).
std::optional<std::size_t> utf8_length(std::string_view text) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    char32_t value = 0;
    if (byte < 0x80) {
      value = byte;
    } else if ((byte & 0xE0) == 0xC0) {
      extra = 1;
      value = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      extra = 2;
      value = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      extra = 3;
      value = byte & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + extra >= text.size()) return std::nullopt;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      value = (value << 6) | (next & 0x3F);
    }
    constexpr char32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (value < kMinimum[extra] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
      return std::nullopt;
    }
    i += extra + 1;
    ++count;
  }
  return count;
}

[[noreturn]] void invalid_reason(std::string message) {
  throw Error(ErrorCode::kInvalidArgument, "Invalid change reason.", "invalid",
              FieldErrors{{std::string(kReasonField), {std::move(message)}}});
}

// A strong entity tag "<digits>" as entity_tag() writes it; nullopt for anything else.
std::optional<std::int64_t> parse_strong_tag(std::string_view tag) {
  if (tag.size() < 3 || tag.front() != '"' || tag.back() != '"') return std::nullopt;
  const std::string_view digits = tag.substr(1, tag.size() - 2);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size() || value < 1)
    return std::nullopt;
  if (digits.front() == '0') return std::nullopt;  // one spelling per version
  return value;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Calls `each` with every comma-separated member of a header list, trimmed, empty ones skipped.
template <typename Each>
void for_each_member(std::string_view list, Each each) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view member = trim(list.substr(0, comma));
    if (!member.empty()) each(member);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string_view to_string(HistoryType type) {
  switch (type) {
    case HistoryType::kCreated:
      return "+";
    case HistoryType::kChanged:
      return "~";
    case HistoryType::kDeleted:
      return "-";
  }
  return "~";
}

std::optional<HistoryType> parse_history_type(std::string_view text) {
  if (text == "+") return HistoryType::kCreated;
  if (text == "~") return HistoryType::kChanged;
  if (text == "-") return HistoryType::kDeleted;
  return std::nullopt;
}

std::optional<std::string> checked_change_reason(std::optional<std::string_view> reason) {
  if (!reason || reason->empty()) return std::nullopt;
  const std::optional<std::size_t> length = utf8_length(*reason);
  if (!length) invalid_reason("Must be valid UTF-8 text.");
  const bool control = std::any_of(reason->begin(), reason->end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7F;
  });
  if (control) invalid_reason("Control characters are not allowed.");
  if (*length > kMaxChangeReasonLength) {
    invalid_reason("Ensure this field has no more than " + std::to_string(kMaxChangeReasonLength) +
                   " characters.");
  }
  return std::string(*reason);
}

std::string rollback_reason(HistoryId target) {
  return "Rollback to version " + std::to_string(target);
}

Precondition parse_if_match(std::string_view header) {
  Precondition precondition;
  precondition.present = true;
  for_each_member(header, [&](std::string_view member) {
    if (member == "*") {
      precondition.any = true;
    } else if (const auto version = parse_strong_tag(member)) {
      precondition.versions.push_back(*version);
    }
  });
  return precondition;
}

bool holds(const Precondition& precondition, std::int64_t version) {
  if (!precondition.present || precondition.any) return true;
  return std::find(precondition.versions.begin(), precondition.versions.end(), version) !=
         precondition.versions.end();
}

std::string entity_tag(std::int64_t version) { return '"' + std::to_string(version) + '"'; }

bool none_match_fails(std::string_view header, std::int64_t version) {
  bool matched = false;
  for_each_member(header, [&](std::string_view member) {
    if (member == "*") {
      matched = true;
      return;
    }
    if (member.starts_with("W/")) member.remove_prefix(2);
    if (parse_strong_tag(member) == version) matched = true;
  });
  return matched;
}

PositionRange history_positions(const VersionWindow& window, std::int64_t count) {
  // Newest first: page 1 ends at the newest version.
  const std::int64_t skipped = (window.page - 1) * window.page_size;
  if (skipped >= count) return {1, 0};
  const std::int64_t last = count - skipped;
  return {std::max<std::int64_t>(1, last - window.page_size + 1), last};
}

PositionRange changelog_positions(const VersionWindow& window, std::int64_t count) {
  // Oldest first: page 1 starts at the first version.
  const std::int64_t skipped = (window.page - 1) * window.page_size;
  if (skipped >= count) return {1, 0};
  return {skipped + 1, std::min(count, skipped + window.page_size)};
}

}  // namespace almanac::domain
