#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "auth/password.hpp"
#include "store/store.hpp"

// The operator's commands that work on the database directly, without a running server
// (`almanac user ...`, `almanac export`). Each returns the process's exit status: 0 on success, 1
// when the command could not do what was asked (the reason is written to `err`).
namespace almanac::cli {

// `user create USERNAME EMAIL` (the password is the first line of `in`; prompted for without echo
// when `in` is a terminal), `user list`, `user disable USERNAME`, `user enable USERNAME`. `args`
// are Config::command_args, already checked by load_config. USERNAME may also be an e-mail.
int user_command(const std::vector<std::string>& args, store::Store& store,
                 const auth::PasswordHasher& hasher, std::istream& in, std::ostream& out,
                 std::ostream& err);

// `export --format json`: every user (without password hashes) and every event that has a
// history, deleted ones included, with its participants and all its versions, as indented JSON on
// `out`, read in one consistent snapshot. Progress goes to `err`: a bar redrawn in place when
// `err_is_terminal`, else a plain line now and then.
int export_json(store::Store& store, int schema_version, std::ostream& out, std::ostream& err,
                bool err_is_terminal);

}  // namespace almanac::cli
