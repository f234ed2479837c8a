#include "api/docs_api.hpp"

#include <array>
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "util/embedded.hpp"

namespace almanac::api::docs_api {
namespace {

using domain::Error;
using domain::ErrorCode;

// Swagger UI needs inline styles (React sets style attributes) and data: images (its icons); its
// scripts come from this origin only (our page has no inline script), and "Try it out" fetches this
// origin only. Nothing may frame the page, post a form or change its base URL.
constexpr std::string_view kPagePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

// Our own files change with Almanac, so browsers revalidate them; the vendored Swagger UI files
// change only when the pinned version does, so a day in a cache is fine.
constexpr std::string_view kRevalidate = "no-cache";
constexpr std::string_view kCacheForADay = "public, max-age=86400";

struct DocsFile {
  std::string_view route;  // the route pattern, as added in routes.cpp
  std::string_view name;   // the embedded file (util/embedded.hpp)
  std::string_view content_type;
  std::string_view cache_control;
};

constexpr std::array kFiles = {
    DocsFile{"/api/docs/", "index.html", "text/html; charset=utf-8", kRevalidate},
    DocsFile{"/api/docs/swagger-initializer.js", "swagger-initializer.js",
             "application/javascript; charset=utf-8", kRevalidate},
    DocsFile{"/api/docs/swagger-ui.css", "swagger-ui.css", "text/css; charset=utf-8",
             kCacheForADay},
    DocsFile{"/api/docs/swagger-ui-bundle.js", "swagger-ui-bundle.js",
             "application/javascript; charset=utf-8", kCacheForADay},
};

// The embedded content of file `name`; raises Error{kInternal} when it was not embedded.
std::string_view embedded_content(std::string_view name) {
  for (const embedded::File& file : embedded::docs_files()) {
    if (file.name == name) return file.content;
  }
  throw Error(ErrorCode::kInternal, "Documentation file " + std::string(name) + " missing.");
}

}  // namespace

boost::asio::awaitable<http::Response> file(http::Request& request, Services&) {
  for (const DocsFile& docs_file : kFiles) {
    if (docs_file.route != request.route()) continue;
    http::Response response;
    response.body = std::string(embedded_content(docs_file.name));
    response.content_type = std::string(docs_file.content_type);
    response.with_header("Cache-Control", std::string(docs_file.cache_control))
        .with_header("X-Content-Type-Options", "nosniff");
    if (docs_file.content_type.starts_with("text/html")) {
      response.with_header("Content-Security-Policy", std::string(kPagePolicy))
          .with_header("Referrer-Policy", "no-referrer");
    }
    co_return response;
  }
  throw Error(ErrorCode::kInternal, "No documentation file for " + std::string(request.route()));
}

}  // namespace almanac::api::docs_api
