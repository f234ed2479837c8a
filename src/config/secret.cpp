#include "config/secret.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/config.hpp"

namespace almanac::config {

std::string load_or_create_secret(const std::filesystem::path& directory) {
  const std::filesystem::path path = directory / "jwt-secret";
  if (std::filesystem::exists(path)) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    std::string secret = content.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (!in && !in.eof()) throw ConfigError("cannot read " + path.string());
    if (secret.size() < 32) {
      throw ConfigError(path.string() + " holds fewer than 32 bytes; delete it to make a new one");
    }
    return secret;
  }
  if (sodium_init() < 0) throw ConfigError("libsodium failed to initialise");
  std::array<unsigned char, 32> random{};
  randombytes_buf(random.data(), random.size());
  std::array<char, 65> hex{};
  sodium_bin2hex(hex.data(), hex.size(), random.data(), random.size());
  std::string secret(hex.data(), 64);

  // O_EXCL: if another process created it meanwhile, we fail rather than overwrite its key.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw ConfigError("cannot create " + path.string() + ": " + std::strerror(errno));
  const std::string line = secret + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) throw ConfigError("cannot write " + path.string());
  return secret;
}

}  // namespace almanac::config
