#include "api/system_api.hpp"

#include <boost/json/object.hpp>
#include <exception>
#include <functional>

#include "api/metrics.hpp"
#include "service/async.hpp"
#include "util/embedded.hpp"

namespace almanac::api::system_api {

boost::asio::awaitable<http::Response> health(http::Request&, Services& services) {
  bool ok = false;
  if (services.store.reads_off_thread()) {
    // ping() off the I/O thread: an empty read transaction.
    std::function<void(store::StoreReader&)> work = [](store::StoreReader&) {};
    try {
      co_await service::read(services.store, std::move(work));
      ok = true;
    } catch (const std::exception&) {
      ok = false;
    }
  } else {
    ok = services.store.ping();
  }
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
