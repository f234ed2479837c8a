#include "api/routes.hpp"

#include <optional>
#include <utility>

#include "api/auth_api.hpp"
#include "api/docs_api.hpp"
#include "api/error_details.hpp"
#include "api/events_api.hpp"
#include "api/history_api.hpp"
#include "api/sharing_api.hpp"
#include "api/system_api.hpp"
#include "domain/error.hpp"
#include "http/error_response.hpp"

namespace almanac::api {

using domain::Error;
using domain::ErrorCode;
using http::Verb;

namespace {

using ApiHandler = boost::asio::awaitable<http::Response> (*)(http::Request&, Services&);

http::Handler bind(ApiHandler handler, Services& services) {
  return [handler, &services](http::Request& request) { return handler(request, services); };
}

constexpr http::RouteOptions kPublic{.authenticated = false};

// Routes whose callers are limited per client address (before anyone is authenticated).
constexpr std::string_view kLoginRoute = "/api/auth/login/";
constexpr std::string_view kRegisterRoute = "/api/auth/register/";

// The access token of `Authorization: Bearer <token>`; empty when the header is malformed or
// repeated, which authentication then refuses as an invalid token.
std::string_view bearer_token(const http::Request& request) {
  if (request.count_header("Authorization") != 1) return {};
  const std::string_view value = request.header("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (!value.starts_with(kScheme)) return {};
  const std::string_view token = value.substr(kScheme.size());
  if (token.find(' ') != std::string_view::npos) return {};
  return token;
}

boost::asio::awaitable<http::Response> handle(const http::Router& router,
                                              service::AuthService& auth, RateLimits* limits,
                                              util::RecentActivity* activity,
                                              http::Request& request) {
  http::Router::Match match = router.match(request.method(), request.path());
  if (match.route == nullptr) {
    if (match.allowed.empty()) throw Error(ErrorCode::kNotFound, "Not found.", "not_found");
    std::string allow;
    for (const Verb verb : match.allowed) {
      if (!allow.empty()) allow += ", ";
      allow += boost::beast::http::to_string(verb);
    }
    Error error(ErrorCode::kMethodNotAllowed,
                "Method \"" + std::string(request.method_string()) + "\" not allowed.",
                "method_not_allowed");
    error.headers.emplace_back("Allow", allow);
    throw error;
  }
  request.set_route(match.route->pattern, std::move(match.params));
  if (activity != nullptr && !hashes_a_password(request.method(), request.route())) {
    activity->note();
  }
  if (match.route->options.authenticated) {
    if (request.count_header("Authorization") == 0) {
      throw Error(ErrorCode::kUnauthenticated, "Authentication credentials were not provided.",
                  "not_authenticated");
    }
    request.set_user(auth.authenticate(bearer_token(request)));
  }
  // Throttling after authentication (the per-user limit needs the user), before the handler.
  std::vector<std::pair<std::string, std::string>> limit_headers;
  if (limits != nullptr) {
    const Verb verb = request.method();
    const std::string_view route = request.route();
    limit_headers = limits->admit(request, verb == Verb::post && route == kLoginRoute,
                                  verb == Verb::post && route == kRegisterRoute);
  }
  // An error carrying domain details (the overlapping events of a 409, the items of a batch) is
  // rendered here, where the api's JSON shapes are known; every other error goes on to the
  // transport's single handler (which also logs internal errors). No co_await in a catch block: the
  // error is kept and rendered after.
  std::optional<Error> detailed;
  try {
    http::Response response = co_await match.route->handler(request);
    for (auto& header : limit_headers) response.headers.push_back(std::move(header));
    co_return response;
  } catch (Error& error) {
    if (!error.details.has_value() || error.code() == ErrorCode::kInternal) throw;
    detailed = std::move(error);
  }
  boost::json::object body = http::error_body(*detailed);
  append_error_details(detailed->details, body);
  co_return http::error_response(*detailed, std::move(body));
}

}  // namespace

void add_routes(http::Router& routes, Services& services) {
  routes.add(Verb::post, kRegisterRoute, bind(auth_api::register_user, services), kPublic);
  routes.add(Verb::post, kLoginRoute, bind(auth_api::login, services), kPublic);
  routes.add(Verb::post, "/api/auth/refresh/", bind(auth_api::refresh, services), kPublic);
  routes.add(Verb::post, "/api/auth/logout/", bind(auth_api::logout, services), kPublic);

  // The literal batch/ before {id}/, which would not match it anyway ({id} is digits only).
  routes.add(Verb::get, "/api/events/", bind(events_api::list, services));
  routes.add(Verb::post, "/api/events/", bind(events_api::create, services));
  routes.add(Verb::post, "/api/events/batch/", bind(events_api::batch, services));
  routes.add(Verb::get, "/api/events/{id}/", bind(events_api::get, services));
  routes.add(Verb::put, "/api/events/{id}/", bind(events_api::update, services));
  routes.add(Verb::patch, "/api/events/{id}/", bind(events_api::update, services));
  routes.add(Verb::delete_, "/api/events/{id}/", bind(events_api::remove, services));

  routes.add(Verb::get, "/api/events/{id}/history/", bind(history_api::list, services));
  routes.add(Verb::get, "/api/events/{id}/history/{history_id}/",
             bind(history_api::version, services));
  routes.add(Verb::get, "/api/events/{id}/changelog/", bind(history_api::changelog, services));
  routes.add(Verb::get, "/api/events/{id}/diff/{old_version_id}/{new_version_id}/",
             bind(history_api::diff, services));
  routes.add(Verb::post, "/api/events/{id}/rollback/{history_id}/",
             bind(history_api::rollback, services));

  routes.add(Verb::post, "/api/events/{id}/share/", bind(sharing_api::share, services));
  routes.add(Verb::get, "/api/events/{id}/permissions/", bind(sharing_api::list, services));
  routes.add(Verb::put, "/api/events/{id}/permissions/{user_id}/",
             bind(sharing_api::change_role, services));
  routes.add(Verb::delete_, "/api/events/{id}/permissions/{user_id}/",
             bind(sharing_api::remove, services));

  routes.add(Verb::get, "/healthz", bind(system_api::health, services), kPublic);
  routes.add(Verb::get, "/api/schema/", bind(system_api::schema, services), kPublic);
  if (services.metrics != nullptr) {
    routes.add(Verb::get, "/metrics", bind(system_api::metrics, services), kPublic);
  }

  // Swagger UI on /api/schema/: the page and the fixed list of files it loads, nothing else.
  routes.add(Verb::get, "/api/docs/", bind(docs_api::file, services), kPublic);
  routes.add(Verb::get, "/api/docs/swagger-initializer.js", bind(docs_api::file, services),
             kPublic);
  routes.add(Verb::get, "/api/docs/swagger-ui.css", bind(docs_api::file, services), kPublic);
  routes.add(Verb::get, "/api/docs/swagger-ui-bundle.js", bind(docs_api::file, services), kPublic);
}

http::App make_app(const http::Router& router, service::AuthService& auth, RateLimits* limits,
                   util::RecentActivity* activity) {
  return [&router, &auth, limits, activity](http::Request& request) {
    return handle(router, auth, limits, activity, request);
  };
}

bool hashes_a_password(Verb verb, std::string_view route) {
  return verb == Verb::post && (route == kLoginRoute || route == kRegisterRoute);
}

}  // namespace almanac::api
