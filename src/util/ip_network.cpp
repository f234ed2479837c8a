#include "util/ip_network.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace almanac::util {
namespace {

struct Parsed {
  bool v4 = true;
  std::array<std::uint8_t, 16> bytes{};
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<Parsed> parse_address(std::string_view text) {
  boost::system::error_code ec;
  const boost::asio::ip::address address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  Parsed parsed;
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::copy(bytes.begin(), bytes.end(), parsed.bytes.begin());
    return parsed;
  }
  const boost::asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    const auto bytes = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_bytes();
    std::copy(bytes.begin(), bytes.end(), parsed.bytes.begin());
    return parsed;
  }
  if (v6.scope_id() != 0) return std::nullopt;
  parsed.v4 = false;
  const auto bytes = v6.to_bytes();
  std::copy(bytes.begin(), bytes.end(), parsed.bytes.begin());
  return parsed;
}

// True when the first `prefix` bits of `a` and `b` agree.
bool same_prefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
                 unsigned prefix) {
  unsigned i = 0;
  for (; prefix >= 8; prefix -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (prefix == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - prefix));
  return (a[i] & mask) == (b[i] & mask);
}

}  // namespace

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = parse_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  const unsigned bits = address->v4 ? 32 : 128;
  unsigned prefix = bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        prefix > bits) {
      return std::nullopt;
    }
  }
  // Host bits below the prefix must be zero.
  for (unsigned bit = prefix; bit < bits; ++bit) {
    if ((address->bytes[bit / 8] >> (7 - bit % 8)) & 1) return std::nullopt;
  }
  IpNetwork network;
  network.v4_ = address->v4;
  network.bytes_ = address->bytes;
  network.prefix_ = prefix;
  return network;
}

bool IpNetwork::contains(std::string_view text) const {
  const auto address = parse_address(trim(text));
  if (!address || address->v4 != v4_) return false;
  return same_prefix(address->bytes, bytes_, prefix_);
}

std::string client_key(std::string_view text) {
  auto address = parse_address(trim(text));
  if (!address) return std::string(text);
  if (address->v4) {
    boost::asio::ip::address_v4::bytes_type bytes;
    std::copy_n(address->bytes.begin(), 4, bytes.begin());
    return boost::asio::ip::address_v4(bytes).to_string();
  }
  std::fill(address->bytes.begin() + 8, address->bytes.end(), std::uint8_t{0});
  boost::asio::ip::address_v6::bytes_type bytes;
  std::copy(address->bytes.begin(), address->bytes.end(), bytes.begin());
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::string client_address(std::string_view peer,
                           const std::vector<std::string_view>& forwarded_for,
                           const std::vector<IpNetwork>& trusted) {
  const auto is_trusted = [&trusted](std::string_view address) {
    for (const IpNetwork& network : trusted) {
      if (network.contains(address)) return true;
    }
    return false;
  };
  std::string_view client = peer;
  if (!is_trusted(client)) return std::string(client);
  // Every hop of every header, left to right, then walked from the right.
  std::vector<std::string_view> hops;
  for (std::string_view value : forwarded_for) {
    while (true) {
      const auto comma = value.find(',');
      hops.push_back(trim(value.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  // Reverse iterators rather than std::ranges::reverse_view, which clang 14 (the fuzz build)
  // cannot compile with libstdc++ 12's <ranges>.
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    const std::string_view hop = *it;
    if (!parse_address(hop)) break;
    client = hop;
    if (!is_trusted(client)) break;
  }
  return std::string(client);
}

}  // namespace almanac::util
