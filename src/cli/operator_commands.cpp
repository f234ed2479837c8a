#include "cli/operator_commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <future>
#include <iostream>
#include <optional>

#include "api/history_json.hpp"
#include "domain/error.hpp"
#include "domain/role.hpp"
#include "domain/time.hpp"

namespace almanac::cli {
namespace {

namespace json = boost::json;
using domain::Error;

// Runs `work` through the store's single writer and waits until it is committed; rethrows its
// exception or the commit's.
void write_and_wait(store::Store& store, const std::function<void(store::StoreWriter&)>& work) {
  std::promise<void> committed;
  std::future<void> outcome = committed.get_future();
  store.write([&work](store::StoreWriter& writer) { work(writer); },
              [&committed](std::exception_ptr error) {
                if (error) {
                  committed.set_exception(error);
                } else {
                  committed.set_value();
                }
              });
  outcome.get();
}

// The password for `user create`: typed without echo on a terminal, else the first line of `in`.
std::string read_password(std::istream& in, std::ostream& err) {
  const bool terminal = &in == &std::cin && ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (terminal) {
    err << "Password: " << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  std::getline(in, password);
  if (terminal) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    err << "\n";
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

void print_error(const Error& error, std::ostream& err) {
  err << "almanac: " << error.message() << "\n";
  for (const auto& [field, messages] : error.fields()) {
    for (const std::string& message : messages) err << "  " << field << ": " << message << "\n";
  }
}

std::optional<domain::User> find_user(store::Store& store, const std::string& login) {
  std::optional<domain::UserCredentials> found;
  store.read([&](store::StoreReader& reader) { found = reader.find_credentials(login); });
  if (!found) return std::nullopt;
  return found->user;
}

int create_user(const std::string& username, const std::string& email, store::Store& store,
                const auth::PasswordHasher& hasher, std::istream& in, std::ostream& out,
                std::ostream& err) {
  const std::string password = read_password(in, err);
  domain::throw_if_invalid(domain::validate_registration(username, email, password));
  domain::NewUser new_user{username, email, hasher.hash(password)};
  domain::User user;
  write_and_wait(store, [&](store::StoreWriter& writer) { user = writer.insert_user(new_user); });
  out << "created user " << user.id << " " << user.username << " <" << user.email << ">\n";
  return 0;
}

int list_users(store::Store& store, std::ostream& out) {
  std::vector<domain::User> users;
  store.read([&](store::StoreReader& reader) { users = reader.list_users(); });
  std::vector<std::vector<std::string>> rows = {{"ID", "USERNAME", "EMAIL", "STATUS"}};
  for (const domain::User& user : users) {
    rows.push_back({std::to_string(user.id), user.username, user.email,
                    user.is_active ? "active" : "disabled"});
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  return 0;
}

int set_active(const std::string& login, bool active, store::Store& store, std::ostream& out,
               std::ostream& err) {
  const std::optional<domain::User> user = find_user(store, login);
  if (!user) {
    err << "almanac: no user named '" << login << "'\n";
    return 1;
  }
  bool changed = false;
  write_and_wait(store, [&](store::StoreWriter& writer) {
    changed = writer.set_user_active(user->id, active);
  });
  if (!changed) {
    err << "almanac: no user named '" << login << "'\n";
    return 1;
  }
  out << (active ? "enabled" : "disabled") << " user " << user->id << " " << user->username << "\n";
  return 0;
}

// Indented JSON, two spaces a level, members in their stored order: a backup a person can read.
void write_pretty(std::ostream& out, const json::value& value, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (value.is_object() && !value.get_object().empty()) {
    out << "{\n";
    bool first = true;
    for (const auto& member : value.get_object()) {
      if (!first) out << ",\n";
      first = false;
      out << inner << json::serialize(json::string_view(member.key())) << ": ";
      write_pretty(out, member.value(), indent + 1);
    }
    out << "\n" << pad << "}";
  } else if (value.is_array() && !value.get_array().empty()) {
    out << "[\n";
    bool first = true;
    for (const json::value& element : value.get_array()) {
      if (!first) out << ",\n";
      first = false;
      out << inner;
      write_pretty(out, element, indent + 1);
    }
    out << "\n" << pad << "]";
  } else {
    out << json::serialize(value);
  }
}

// Progress on stderr: a bar redrawn in place on a terminal, else a line at every tenth.
class Progress {
 public:
  Progress(std::ostream& err, bool terminal, std::size_t total)
      : err_(err), terminal_(terminal), total_(total) {}

  void update(std::size_t done) {
    const std::size_t percent = total_ == 0 ? 100 : done * 100 / total_;
    if (terminal_) {
      if (percent == last_percent_ && done != total_) return;
      constexpr std::size_t kWidth = 30;
      const std::size_t filled = percent * kWidth / 100;
      err_ << "\rexporting events [" << std::string(filled, '#')
           << std::string(kWidth - filled, ' ') << "] " << done << "/" << total_ << std::flush;
    } else {
      if (percent / 10 == last_percent_ / 10 && done != total_) return;
      err_ << "exported " << done << "/" << total_ << " events\n" << std::flush;
    }
    last_percent_ = percent;
  }

  void finish() {
    if (terminal_) err_ << "\n";
  }

 private:
  std::ostream& err_;
  bool terminal_;
  std::size_t total_;
  std::size_t last_percent_ = 1000;  // nothing shown yet
};

json::object user_json(const domain::User& user) {
  return {{"id", user.id},
          {"username", user.username},
          {"email", user.email},
          {"is_active", user.is_active}};
}

json::object event_json(store::StoreReader& reader, domain::EventId id) {
  const std::int64_t count = reader.count_versions(id);
  const std::vector<domain::EventVersion> versions = reader.versions_at(id, 1, count);
  json::array participants;
  for (const domain::Participant& p : reader.list_participants(id)) {
    participants.push_back(json::object{
        {"user_id", p.user_id}, {"username", p.username}, {"role", domain::to_string(p.role)}});
  }
  json::array history;
  for (const domain::EventVersion& version : versions) {
    json::object entry = api::version_json(version);
    entry["version"] = version.version;
    entry["owner_id"] = version.owner_id;
    history.push_back(std::move(entry));
  }
  const bool deleted = !versions.empty() && versions.back().type == domain::HistoryType::kDeleted;
  return {{"event_id", id},
          {"deleted", deleted},
          {"participants", std::move(participants)},
          {"versions", std::move(history)}};
}

}  // namespace

int user_command(const std::vector<std::string>& args, store::Store& store,
                 const auth::PasswordHasher& hasher, std::istream& in, std::ostream& out,
                 std::ostream& err) {
  try {
    const std::string& action = args.at(0);
    if (action == "create") return create_user(args.at(1), args.at(2), store, hasher, in, out, err);
    if (action == "list") return list_users(store, out);
    if (action == "disable") return set_active(args.at(1), false, store, out, err);
    if (action == "enable") return set_active(args.at(1), true, store, out, err);
  } catch (const Error& error) {
    print_error(error, err);
    return 1;
  }
  err << "almanac: unknown user command\n";
  return 1;
}

int export_json(store::Store& store, int schema_version, std::ostream& out, std::ostream& err,
                bool err_is_terminal) {
  std::size_t exported = 0;
  std::size_t versions = 0;
  // One read transaction: the export is one consistent snapshot, however long it takes.
  store.read([&](store::StoreReader& reader) {
    const std::vector<domain::User> users = reader.list_users();
    const std::vector<domain::EventId> ids = reader.event_ids_with_history();
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    out << "{\n  \"format\": \"almanac-export\",\n  \"format_version\": 1,\n"
        << "  \"schema_version\": " << schema_version << ",\n  \"exported_at\": "
        << json::serialize(json::value(domain::format_time_iso_micro(now))) << ",\n"
        << "  \"users\": ";
    json::array user_list;
    for (const domain::User& user : users) user_list.push_back(user_json(user));
    write_pretty(out, user_list, 1);
    out << ",\n  \"events\": [";
    Progress progress(err, err_is_terminal, ids.size());
    progress.update(0);
    for (const domain::EventId id : ids) {
      const json::object event = event_json(reader, id);
      versions += event.at("versions").as_array().size();
      out << (exported == 0 ? "\n    " : ",\n    ");
      write_pretty(out, event, 2);
      progress.update(++exported);
    }
    out << (exported == 0 ? "]\n}\n" : "\n  ]\n}\n");
    progress.finish();
  });
  out.flush();
  if (!out) {
    err << "almanac: writing the export failed\n";
    return 1;
  }
  err << "exported " << exported << " events with " << versions << " versions\n";
  return 0;
}

}  // namespace almanac::cli
