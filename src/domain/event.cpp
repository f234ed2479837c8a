#include "domain/event.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "domain/recurrence.hpp"

namespace almanac::domain {
namespace {

constexpr std::string_view kRequired = "This field is required.";
constexpr std::string_view kMayNotBeNull = "This field may not be null.";
constexpr std::string_view kBlank = "This field may not be blank.";
constexpr std::string_view kNullCharacter = "Null characters are not allowed.";
constexpr std::string_view kInvalidTime =
    "Enter a valid date/time: use YYYY-MM-DD HH:MM[:SS] or ISO 8601.";
constexpr std::string_view kEndNotAfterStart = "must be after start_time";
constexpr std::string_view kStartNotBeforeEnd = "must be before end_time";
constexpr std::string_view kNeedsPattern =
    "A recurring event needs a recurrence_pattern: daily, weekly, monthly, yearly or an RRULE.";
constexpr std::string_view kOnlyRecurring = "Only a recurring event has a recurrence_pattern.";

std::string too_long(std::size_t max_length) {
  return "Ensure this field has no more than " + std::to_string(max_length) + " characters.";
}

// Characters of valid UTF-8: every byte except continuation bytes (10xxxxxx) starts one.
std::size_t count_code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim_ascii_space(std::string_view text) {
  while (!text.empty() && is_ascii_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ascii_space(text.back())) text.remove_suffix(1);
  return text;
}

bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

class EventValidator {
 public:
  EventValidator(const EventDraft& draft, const EventFields* base)
      : draft_(draft), base_(base), fields_(base ? *base : EventFields{}) {}

  std::variant<EventFields, FieldErrors> run() {
    errors_ = draft_.type_errors;
    for (const std::string& name : draft_.null_members) {
      // recurrence_pattern may be null; a reader that lists it here means just that.
      if (name != "recurrence_pattern") add_error(name, kMayNotBeNull);
    }
    check_title();
    check_text("description", draft_.description, kMaxDescriptionLength, fields_.description);
    check_text("location", draft_.location, kMaxLocationLength, fields_.location);
    check_times();
    check_recurrence();
    if (!errors_.empty()) return std::move(errors_);
    return std::move(fields_);
  }

 private:
  bool is_create() const { return base_ == nullptr; }

  // A member the reader already reported (null or of the wrong type) is not examined further.
  bool is_reported(const std::string& name) const {
    return draft_.type_errors.contains(name) ||
           std::find(draft_.null_members.begin(), draft_.null_members.end(), name) !=
               draft_.null_members.end();
  }

  void add_error(const std::string& name, std::string_view message) {
    errors_[name].emplace_back(message);
  }

  void check_title() {
    if (is_reported("title")) return;
    if (!draft_.title) {
      if (is_create()) add_error("title", kRequired);
      return;
    }
    if (has_nul(*draft_.title)) return add_error("title", kNullCharacter);
    const std::string_view title = trim_ascii_space(*draft_.title);
    if (title.empty()) return add_error("title", kBlank);
    if (count_code_points(title) > kMaxTitleLength) {
      return add_error("title", too_long(kMaxTitleLength));
    }
    fields_.title = title;
  }

  // An optional free-text member, kept as sent (empty allowed).
  void check_text(const std::string& name, const std::optional<std::string>& value,
                  std::size_t max_length, std::string& target) {
    if (is_reported(name) || !value) return;
    if (has_nul(*value)) return add_error(name, kNullCharacter);
    if (count_code_points(*value) > max_length) return add_error(name, too_long(max_length));
    target = *value;
  }

  // Reads one time member into `target`. Returns whether `target` now holds a usable value; `sent`
  // says whether the draft changed it.
  bool read_time(const std::string& name, const std::optional<std::string>& value,
                 Timestamp& target, bool& sent) {
    sent = false;
    if (is_reported(name)) return false;
    if (!value) {
      if (!is_create()) return true;
      add_error(name, kRequired);
      return false;
    }
    const std::optional<Timestamp> parsed = parse_time(*value);
    if (!parsed) {
      add_error(name, kInvalidTime);
      return false;
    }
    target = *parsed;
    sent = true;
    return true;
  }

  void check_times() {
    bool start_sent = false;
    bool end_sent = false;
    const bool start_ok =
        read_time("start_time", draft_.start_time, fields_.start_time, start_sent);
    const bool end_ok = read_time("end_time", draft_.end_time, fields_.end_time, end_sent);
    // Stored times that this request leaves alone are not judged again (the original let
    // end_time equal start_time, and such rows may be migrated).
    if (!start_ok || !end_ok || (!start_sent && !end_sent)) return;
    if (fields_.end_time > fields_.start_time) return;
    if (end_sent) {
      add_error("end_time", kEndNotAfterStart);
    } else {
      add_error("start_time", kStartNotBeforeEnd);
    }
  }

  void check_recurrence() {
    const std::string name = "recurrence_pattern";
    if (draft_.type_errors.contains(name)) return;
    const bool flag_usable = !is_reported("is_recurring");
    const bool flag_sent = flag_usable && draft_.is_recurring.has_value();
    const bool pattern_sent = draft_.recurrence_pattern_present ||
                              std::find(draft_.null_members.begin(), draft_.null_members.end(),
                                        name) != draft_.null_members.end();
    // An update that touches neither keeps what is stored, unexamined.
    if (!is_create() && !flag_sent && !pattern_sent) return;

    if (flag_sent) fields_.is_recurring = *draft_.is_recurring;
    const std::optional<std::string> pattern =
        pattern_sent ? draft_.recurrence_pattern : fields_.recurrence_pattern;
    const bool has_pattern = pattern.has_value() && !pattern->empty();

    if (!flag_usable) {
      // Whether the event recurs is unknown; still say what is wrong with a pattern sent.
      if (pattern_sent && has_pattern) check_pattern(*pattern);
      return;
    }
    if (!fields_.is_recurring) {
      if (pattern_sent && has_pattern) return add_error(name, kOnlyRecurring);
      fields_.recurrence_pattern.reset();
      return;
    }
    if (!has_pattern) return add_error(name, kNeedsPattern);
    check_pattern(*pattern);
  }

  void check_pattern(const std::string& pattern) {
    RecurrenceCheck check = check_recurrence_pattern(pattern);
    if (!check.ok()) return add_error("recurrence_pattern", check.error);
    fields_.recurrence_pattern = std::move(check.normalized);
  }

  const EventDraft& draft_;
  const EventFields* base_;
  EventFields fields_;
  FieldErrors errors_;
};

}  // namespace

std::variant<EventFields, FieldErrors> validate_event(const EventDraft& draft,
                                                      const EventFields* base) {
  return EventValidator(draft, base).run();
}

bool overlaps(Timestamp a_start, Timestamp a_end, Timestamp b_start, Timestamp b_end) {
  const bool both_non_empty = a_start < a_end && b_start < b_end;
  return both_non_empty && a_start < b_end && b_start < a_end;
}

std::vector<EventId> find_conflicts(Timestamp start, Timestamp end,
                                    std::span<const ConflictCandidate> existing, EventId exclude) {
  std::vector<EventId> conflicts;
  for (const ConflictCandidate& candidate : existing) {
    if (candidate.id == exclude && exclude != 0) continue;
    if (overlaps(start, end, candidate.start_time, candidate.end_time)) {
      conflicts.push_back(candidate.id);
    }
  }
  return conflicts;
}

std::vector<std::string> changed_fields(const EventFields& a, const EventFields& b) {
  std::vector<std::string> names;
  if (a.title != b.title) names.emplace_back("title");
  if (a.description != b.description) names.emplace_back("description");
  if (a.start_time != b.start_time) names.emplace_back("start_time");
  if (a.end_time != b.end_time) names.emplace_back("end_time");
  if (a.location != b.location) names.emplace_back("location");
  if (a.is_recurring != b.is_recurring) names.emplace_back("is_recurring");
  if (a.recurrence_pattern != b.recurrence_pattern) names.emplace_back("recurrence_pattern");
  return names;
}

}  // namespace almanac::domain
