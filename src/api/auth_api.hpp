#pragma once

#include <boost/asio/awaitable.hpp>

#include "api/services.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

// POST /api/auth/{register,login,refresh,logout}/ with the original's shapes.
namespace almanac::api::auth_api {

boost::asio::awaitable<http::Response> register_user(http::Request& request, Services& services);
boost::asio::awaitable<http::Response> login(http::Request& request, Services& services);
boost::asio::awaitable<http::Response> refresh(http::Request& request, Services& services);
boost::asio::awaitable<http::Response> logout(http::Request& request, Services& services);

}  // namespace almanac::api::auth_api
