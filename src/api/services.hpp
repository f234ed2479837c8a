#pragma once

#include "service/auth_service.hpp"
#include "service/event_service.hpp"
#include "service/history_service.hpp"
#include "service/sharing_service.hpp"
#include "store/store.hpp"

namespace almanac::api {

class Metrics;

// What the handlers call: one service per resource.
struct Services {
  service::AuthService& auth;
  service::EventService& events;
  service::HistoryService& history;
  service::SharingService& sharing;
  store::Store& store;  // health checks only; use cases go through services
  // GET /metrics; null: the endpoint is off (--metrics off).
  const Metrics* metrics = nullptr;
};

}  // namespace almanac::api
