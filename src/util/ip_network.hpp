#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace almanac::util {

// An IPv4 or IPv6 network such as 10.0.0.0/8, 2001:db8::/32 or a single address (a /32 or /128).
// IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are compared as the IPv4 address they carry.
class IpNetwork {
 public:
  // Parses "ADDRESS" or "ADDRESS/PREFIX". Returns nullopt when it is neither, the prefix is out of
  // range, or host bits are set below the prefix (10.0.0.1/8 is refused as likely a typo).
  static std::optional<IpNetwork> parse(std::string_view text);

  // True when `address` (a textual IPv4 or IPv6 address) lies in this network; false for
  // anything that does not parse.
  bool contains(std::string_view address) const;

 private:
  bool v4_ = true;
  std::array<std::uint8_t, 16> bytes_{};
  unsigned prefix_ = 0;
};

// The address of the client that sent a request, for keying limits by client. `peer` is the
// address of the TCP peer; `forwarded_for` the X-Forwarded-For values in the order received. The
// header is believed only as far as it was written by trusted proxies: unless `peer` is in
// `trusted`, the answer is `peer`. Otherwise the list is read from the right, skipping addresses
// of trusted proxies, and the first other address is the client. A value that does not parse
// stops the walk (the last trusted hop is then the answer), so a forged header never names
// someone else unless a trusted proxy passed it on as its own.
std::string client_address(std::string_view peer,
                           const std::vector<std::string_view>& forwarded_for,
                           const std::vector<IpNetwork>& trusted);

// The key under which limits count `address`: an IPv4 address as itself (IPv4-mapped IPv6 as
// IPv4), an IPv6 address as its /64 network ("2001:db8:1:2::/64"), since one subscriber usually
// holds a whole /64 and could otherwise rotate through it. Text that does not parse is returned
// as it is.
std::string client_key(std::string_view address);

}  // namespace almanac::util
