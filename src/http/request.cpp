#include "http/request.hpp"

#include <boost/json/serialize.hpp>

#include "domain/error.hpp"
#include "http/response.hpp"

namespace almanac::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding; a malformed escape is kept verbatim.
std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Request::Request(BeastRequest raw, std::string request_id, std::string_view remote_address)
    : raw_(std::move(raw)), request_id_(std::move(request_id)), remote_address_(remote_address) {
  const std::string_view target = raw_.target();
  const auto question = target.find('?');
  path_ = target.substr(0, question);
  if (question == std::string_view::npos) return;
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    query_.emplace_back(url_decode(pair.substr(0, eq)), eq == std::string_view::npos
                                                            ? std::string()
                                                            : url_decode(pair.substr(eq + 1)));
  }
}

std::optional<std::string_view> Request::query(std::string_view name) const {
  for (const auto& [key, value] : query_) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view Request::header(std::string_view name) const {
  const auto it = raw_.find(name);
  return it == raw_.end() ? std::string_view() : std::string_view(it->value());
}

std::size_t Request::count_header(std::string_view name) const { return raw_.count(name); }

std::vector<std::string_view> Request::header_values(std::string_view name) const {
  std::vector<std::string_view> values;
  const auto [first, last] = raw_.equal_range(name);
  for (auto it = first; it != last; ++it) values.emplace_back(it->value());
  return values;
}

void Request::set_route(std::string_view route_template, PathParams params) {
  route_ = route_template;
  params_ = std::move(params);
}

std::int64_t Request::id(std::string_view name) const {
  for (const auto& [key, value] : params_) {
    if (key == name) return value;
  }
  throw domain::Error(domain::ErrorCode::kInternal, "route has no parameter " + std::string(name));
}

const domain::User& Request::user() const {
  if (!user_) {
    throw domain::Error(domain::ErrorCode::kUnauthenticated,
                        "Authentication credentials were not provided.", "not_authenticated");
  }
  return *user_;
}

Response json_response(Status status, const boost::json::value& value) {
  Response response;
  response.status = status;
  response.body = boost::json::serialize(value);
  return response;
}

Response empty_response(Status status) {
  Response response;
  response.status = status;
  response.content_type.clear();
  return response;
}

}  // namespace almanac::http
