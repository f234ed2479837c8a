#include "api/system_api.hpp"

#include <boost/json/object.hpp>

#include "api/metrics.hpp"
#include "util/embedded.hpp"

namespace almanac::api::system_api {

boost::asio::awaitable<http::Response> health(http::Request&, Services& services) {
  const bool ok = services.store.ping();
  co_return http::json_response(ok ? http::Status::ok : http::Status::service_unavailable,
                                boost::json::object{{"status", ok ? "ok" : "unavailable"}})
      .with_header("Cache-Control", "no-store");
}

boost::asio::awaitable<http::Response> schema(http::Request&, Services&) {
  http::Response response;
  response.body = std::string(embedded::openapi_yaml());
  response.content_type = "application/yaml";
  co_return response;
}

boost::asio::awaitable<http::Response> metrics(http::Request&, Services& services) {
  http::Response response;
  response.body = services.metrics->render();
  response.content_type = std::string(Metrics::kContentType);
  response.headers.emplace_back("Cache-Control", "no-store");
  co_return response;
}

}  // namespace almanac::api::system_api
