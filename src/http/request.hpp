#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/user.hpp"

namespace almanac::http {

using Verb = boost::beast::http::verb;
using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Typed path parameters of the matched route: every {name} in our routes is a positive id. Our
// routes have at most two; kept inline, routing a request allocates nothing.
using PathParams = boost::container::small_vector<std::pair<std::string_view, std::int64_t>, 4>;

// One parsed request as handlers see it. Routing fills params() and route(); authentication fills
// user(), so inside an authenticated handler user() always exists.
class Request {
 public:
  Request(BeastRequest raw, std::string request_id, std::string_view remote_address);

  Verb method() const { return raw_.method(); }
  std::string_view method_string() const { return raw_.method_string(); }
  // The target's path, without the query string.
  std::string_view path() const { return path_; }
  // The decoded value of query parameter `name` (its first occurrence), or nullopt.
  std::optional<std::string_view> query(std::string_view name) const;
  // The value of header `name`, empty when absent; count_header tells absent from empty.
  std::string_view header(std::string_view name) const;
  std::size_t count_header(std::string_view name) const;
  // Every value of header `name`, in the order received.
  std::vector<std::string_view> header_values(std::string_view name) const;
  const std::string& body() const { return raw_.body(); }
  const std::string& request_id() const { return request_id_; }
  std::string_view remote_address() const { return remote_address_; }

  // Routing.
  void set_route(std::string_view route_template, PathParams params);
  std::string_view route() const { return route_; }
  // The path parameter `name` of the matched route; the router guarantees it exists.
  std::int64_t id(std::string_view name) const;

  // Authentication.
  void set_user(domain::User user) { user_ = std::move(user); }
  const domain::User& user() const;  // raises Error{kUnauthenticated} when absent
  bool has_user() const { return user_.has_value(); }

 private:
  BeastRequest raw_;
  std::string request_id_;
  std::string_view remote_address_;
  std::string_view path_;
  std::vector<std::pair<std::string, std::string>> query_;
  std::string_view route_;
  PathParams params_;
  std::optional<domain::User> user_;
};

}  // namespace almanac::http
