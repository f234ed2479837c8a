#include "http/router.hpp"

#include <algorithm>

namespace almanac::http {
namespace {

// The segments of a path; up to 8 kept inline, so that routing a request allocates nothing.
using Segments = boost::container::small_vector<std::string_view, 8>;

Segments split_path(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  Segments parts;
  if (path.empty() || path.front() != '/') return parts;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::int64_t parse_id(std::string_view text) {
  if (text.empty() || text.size() > 18 || text.front() == '0') return 0;
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + (c - '0');
  }
  return value;
}

void Router::add(Verb verb, std::string_view pattern, Handler handler, RouteOptions options) {
  Route route{verb, std::string(pattern), std::move(handler), options, {}};
  for (const std::string_view part : split_path(pattern)) route.segments.emplace_back(part);
  routes_.push_back(std::move(route));
}

Router::Match Router::match(Verb verb, std::string_view path) const {
  Match result;
  const Segments parts = split_path(path);
  if (parts.empty()) return result;
  for (const Route& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    PathParams params;
    bool matches = true;
    for (std::size_t i = 0; i < parts.size() && matches; ++i) {
      const std::string& segment = route.segments[i];
      if (is_parameter(segment)) {
        const std::int64_t id = parse_id(parts[i]);
        matches = id > 0;
        params.emplace_back(std::string_view(segment).substr(1, segment.size() - 2), id);
      } else {
        matches = segment == parts[i];
      }
    }
    if (!matches) continue;
    if (route.verb == verb && result.route == nullptr) {
      result.route = &route;
      result.params = std::move(params);
    }
    if (std::find(result.allowed.begin(), result.allowed.end(), route.verb) ==
        result.allowed.end()) {
      result.allowed.push_back(route.verb);
    }
  }
  return result;
}

}  // namespace almanac::http
