#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/container/small_vector.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "http/response.hpp"

namespace almanac::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

struct RouteOptions {
  bool authenticated = true;  // a valid access token is required before the handler runs
};

struct Route {
  Verb verb;
  std::string pattern;  // e.g. "/api/events/{id}/permissions/{user_id}/"
  Handler handler;
  RouteOptions options;
  std::vector<std::string> segments;  // split pattern; "{name}" marks a parameter
};

// Verb + path pattern -> handler. Patterns are written with the trailing slash the original API
// uses; the same path without it matches too (no redirect). A {name} segment matches a positive
// decimal id of at most 18 digits (so it always fits in int64).
class Router {
 public:
  void add(Verb verb, std::string_view pattern, Handler handler, RouteOptions options = {});

  struct Match {
    const Route* route = nullptr;  // null: no route for this verb
    PathParams params;
    // Verbs the path accepts; empty when no pattern matches the path. Inline: no allocation.
    boost::container::small_vector<Verb, 8> allowed;
  };
  // Finds the route for `verb` and `path`. When the path matches but not the verb, `route` is
  // null and `allowed` lists the verbs that would (a 405 with an Allow header).
  Match match(Verb verb, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Parses a path parameter: a positive decimal integer of at most 18 digits, without sign or
// leading zeros. Returns 0 when the text is not one.
std::int64_t parse_id(std::string_view text);

}  // namespace almanac::http
