#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>  // the TCP_* option names, for socket_option()
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <utility>

// Sockets for tests of what a client does when the network misbehaves.
namespace almanac::test_support {

// A TCP listener on 127.0.0.1, on a port below 32768 this test chose (the bind proves it is
// ours), that never answers: the kernel completes the handshake and acknowledges what the client
// sends, and nothing ever replies, as with a server host whose server hangs.
class SilentListener {
 public:
  SilentListener() {
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> ports(20000, 32767);
    for (int attempt = 0; attempt < 50 && fd_ < 0; ++attempt) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return;
      port_ = ports(random);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<std::uint16_t>(port_));
      if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
          ::listen(fd, 8) == 0) {
        fd_ = fd;
      } else {
        ::close(fd);  // taken by someone else: try another port
      }
    }
  }
  ~SilentListener() { close(); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  bool listening() const { return fd_ >= 0; }
  int port() const { return port_; }
  // Closing the listener resets the connections queued on it, which ends any wait on them.
  void close() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// An option of the socket `fd` as the kernel has it; -1 when it cannot be read.
inline int socket_option(int fd, int level, int name) {
  int value = -1;
  socklen_t size = sizeof value;
  if (::getsockopt(fd, level, name, &value, &size) != 0) return -1;
  return value;
}

}  // namespace almanac::test_support
