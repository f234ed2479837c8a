#pragma once

#include <filesystem>
#include <string>

namespace almanac::config {

// The JWT signing key kept in `directory/jwt-secret` (mode 0600): read when it exists, else
// generated once from the system's random source and written there, so that restarts keep
// issued tokens valid. Throws ConfigError when the file cannot be read or written, or holds fewer
// than 32 bytes.
std::string load_or_create_secret(const std::filesystem::path& directory);

}  // namespace almanac::config
