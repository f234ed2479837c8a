#pragma once

#include <string>
#include <string_view>

namespace almanac::util {

// Appends `value` as a JSON string (quotes included), escaped as boost::json::serialize does:
// `"` and `\`, the short escapes \b \f \n \r \t, and \u00XX (lower-case hex) for the other control
// characters; everything else, UTF-8 included, as it is. The response writer (api/json_writer)
// and the JSON log lines (util/log) both use it.
void append_json_string(std::string& out, std::string_view value);

}  // namespace almanac::util
