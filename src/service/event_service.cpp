#include "service/event_service.hpp"

#include <functional>
#include <variant>

#include "service/access.hpp"
#include "service/async.hpp"

namespace almanac::service {

using domain::Error;
using domain::ErrorCode;

namespace {

domain::EventFields validated(const domain::EventDraft& draft, const domain::EventFields* base) {
  auto result = domain::validate_event(draft, base);
  if (auto* errors = std::get_if<domain::FieldErrors>(&result)) {
    throw Error(ErrorCode::kInvalidArgument, "Invalid event.", "invalid", std::move(*errors));
  }
  return std::get<domain::EventFields>(std::move(result));
}

}  // namespace

EventService::EventService(store::Store& store, std::size_t max_batch)
    : store_(store), max_batch_(max_batch) {}

boost::asio::awaitable<domain::EventView> EventService::create(const domain::User& user,
                                                               const domain::EventDraft& draft,
                                                               const WriteOptions& options) {
  domain::EventFields fields = validated(draft, nullptr);
  std::function<domain::EventView(store::StoreWriter&)> work =
      [owner = user.id, fields = std::move(fields),
       change = domain::ChangeMeta{user.id, options.change_reason},
       allow_conflicts = options.allow_conflicts](store::StoreWriter& writer) {
        if (!allow_conflicts) {
          const domain::UserId users[] = {owner};
          domain::Conflicts conflicts =
              writer.find_conflicts(users, fields.start_time, fields.end_time, 0, owner);
          if (conflicts.total > 0) throw conflict_error(std::move(conflicts));
        }
        return domain::EventView{writer.insert_event(owner, fields, change), domain::Role::kOwner};
      };
  co_return co_await write(store_, std::move(work));
}

boost::asio::awaitable<domain::EventView> EventService::get(const domain::User& user,
                                                            domain::EventId id) {
  std::optional<domain::EventView> view;
  std::function<void(store::StoreReader&)> work = [&view, user_id = user.id,
                                                   id](store::StoreReader& reader) {
    view = reader.find_event_for(user_id, id);
  };
  co_await read(store_, std::move(work));
  if (!view) throw event_not_found();
  co_return std::move(*view);
}

boost::asio::awaitable<domain::EventView> EventService::update(const domain::User& user,
                                                               domain::EventId id,
                                                               const domain::EventDraft& draft,
                                                               const WriteOptions& options) {
  // Validation needs the stored event, so load, check and write happen in one transaction: no
  // other write can slip between the precondition or conflict check and the update.
  std::function<domain::EventView(store::StoreWriter&)> work =
      [&user, id, &draft, &options](store::StoreWriter& writer) {
        domain::EventView current = require_access(writer, user, id, domain::Action::kEdit);
        require_precondition(options, current);
        domain::EventFields fields = validated(draft, &current.event.fields);
        return store_change(writer, user, std::move(current), std::move(fields), options);
      };
  co_return co_await write(store_, std::move(work));
}

boost::asio::awaitable<void> EventService::remove(const domain::User& user, domain::EventId id,
                                                  const WriteOptions& options) {
  std::function<void(store::StoreWriter&)> work = [&user, id,
                                                   &options](store::StoreWriter& writer) {
    const domain::EventView current = require_access(writer, user, id, domain::Action::kDelete);
    require_precondition(options, current);
    writer.delete_event(id, domain::ChangeMeta{user.id, options.change_reason});
  };
  co_await write(store_, std::move(work));
}

boost::asio::awaitable<domain::EventPage> EventService::list(const domain::User& user,
                                                             const domain::EventListQuery& query) {
  domain::EventPage page;
  std::function<void(store::StoreReader&)> work = [&page, user_id = user.id,
                                                   &query](store::StoreReader& reader) {
    page = reader.list_events(user_id, query);
  };
  co_await read(store_, std::move(work));
  co_return page;
}

boost::asio::awaitable<BatchResult> EventService::create_batch(
    const domain::User& user, const std::vector<domain::EventDraft>& drafts,
    const BatchOptions& options) {
  if (drafts.size() > max_batch_) {
    throw Error(ErrorCode::kPayloadTooLarge,
                "A batch holds at most " + std::to_string(max_batch_) + " events.",
                "payload_too_large");
  }
  // Validation is pure: done here, on the I/O thread, so the writer only writes.
  struct Item {
    std::size_t index;
    domain::EventFields fields;
  };
  std::vector<Item> valid;
  BatchResult result;
  valid.reserve(drafts.size());
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    auto checked = domain::validate_event(drafts[i], nullptr);
    if (auto* errors = std::get_if<domain::FieldErrors>(&checked)) {
      result.errors.push_back({i, "Invalid event.", std::move(*errors), {}});
    } else {
      valid.push_back({i, std::get<domain::EventFields>(std::move(checked))});
    }
  }
  const auto refuse = [](std::vector<domain::BatchItemError> errors, const char* message) {
    const bool all_conflicts = std::all_of(errors.begin(), errors.end(),
                                           [](const auto& e) { return !e.conflicts.empty(); });
    Error error(all_conflicts ? ErrorCode::kConflict : ErrorCode::kInvalidArgument, message,
                all_conflicts ? "conflict" : "invalid");
    error.details = domain::BatchErrors{std::move(errors)};
    return error;
  };
  if (valid.empty()) throw refuse(std::move(result.errors), "No valid events in the batch.");
  if (options.atomic && !result.errors.empty() && !options.reject_conflicts) {
    throw refuse(std::move(result.errors), "The batch was not stored: some events are invalid.");
  }

  // One transaction for every valid item. Items stored earlier in it are visible to the conflict
  // check of later ones, so overlaps inside the batch are found too.
  std::function<BatchResult(store::StoreWriter&)> work = [owner = user.id, &valid, &options,
                                                          errors = std::move(result.errors),
                                                          &refuse](
                                                             store::StoreWriter& writer) mutable {
    BatchResult stored;
    stored.errors = std::move(errors);
    stored.created.reserve(valid.size());
    const domain::ChangeMeta change{owner, options.change_reason};
    if (!options.reject_conflicts) {
      // Nothing to check between items: every valid one is stored, in bulk.
      std::vector<domain::EventFields> fields;
      fields.reserve(valid.size());
      for (const Item& item : valid) fields.push_back(item.fields);
      stored.created = writer.insert_events(owner, fields, change);
    } else {
      for (const Item& item : valid) {
        const domain::UserId users[] = {owner};
        domain::Conflicts conflicts =
            writer.find_conflicts(users, item.fields.start_time, item.fields.end_time, 0, owner);
        if (conflicts.total > 0) {
          stored.errors.push_back(
              {item.index, "Event overlaps existing event(s)", {}, std::move(conflicts.visible)});
          continue;
        }
        stored.created.push_back(writer.insert_event(owner, item.fields, change));
      }
    }
    std::sort(stored.errors.begin(), stored.errors.end(),
              [](const auto& a, const auto& b) { return a.index < b.index; });
    if (stored.created.empty()) {
      throw refuse(std::move(stored.errors), "No valid events in the batch.");
    }
    if (options.atomic && !stored.errors.empty()) {
      // Thrown inside the job: its savepoint undoes every insert above.
      throw refuse(std::move(stored.errors),
                   "The batch was not stored: some events are "
                   "invalid or overlap existing events.");
    }
    return stored;
  };
  co_return co_await write(store_, std::move(work));
}

}  // namespace almanac::service
