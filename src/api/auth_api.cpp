#include "api/auth_api.hpp"

#include "api/json_input.hpp"

namespace almanac::api::auth_api {
namespace {

// {"refresh", "access", "user": {"id", "username"}}, never cached by anyone on the way.
http::Response token_pair_response(http::Status status, const service::TokenPair& pair) {
  const boost::json::object body{
      {"refresh", pair.refresh},
      {"access", pair.access},
      {"user", {{"id", pair.user.id}, {"username", pair.user.username}}}};
  return http::json_response(status, body).with_header("Cache-Control", "no-store");
}

std::string read_refresh_token(const http::Request& request) {
  const boost::json::object body = parse_json_object(request.body());
  FieldReader fields(body);
  auto token = fields.string("refresh");
  fields.finish();
  return std::move(*token);
}

}  // namespace

boost::asio::awaitable<http::Response> register_user(http::Request& request, Services& services) {
  const boost::json::object body = parse_json_object(request.body());
  FieldReader fields(body);
  auto username = fields.string("username");
  auto email = fields.string("email");
  auto password = fields.string("password");
  fields.finish();
  const service::TokenPair pair =
      co_await services.auth.register_user(*username, *email, *password);
  co_return token_pair_response(http::Status::created, pair);
}

boost::asio::awaitable<http::Response> login(http::Request& request, Services& services) {
  const boost::json::object body = parse_json_object(request.body());
  FieldReader fields(body);
  auto username = fields.string("username");
  auto password = fields.string("password");
  fields.finish();
  const service::TokenPair pair = co_await services.auth.login(*username, *password);
  co_return token_pair_response(http::Status::ok, pair);
}

boost::asio::awaitable<http::Response> refresh(http::Request& request, Services& services) {
  const std::string token = read_refresh_token(request);
  const std::string access = co_await services.auth.refresh(token);
  co_return http::json_response(http::Status::ok, boost::json::object{{"access", access}})
      .with_header("Cache-Control", "no-store");
}

boost::asio::awaitable<http::Response> logout(http::Request& request, Services& services) {
  const std::string token = read_refresh_token(request);
  co_await services.auth.logout(token);
  co_return http::empty_response(http::Status::reset_content);
}

}  // namespace almanac::api::auth_api
