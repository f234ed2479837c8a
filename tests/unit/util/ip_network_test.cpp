#include "util/ip_network.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace almanac::util {
namespace {

IpNetwork network(std::string_view text) {
  const auto parsed = IpNetwork::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(*IpNetwork::parse("0.0.0.0/32"));
}

TEST(IpNetwork, SingleAddressContainsOnlyItself) {
  const IpNetwork proxy = network("10.0.0.1");
  EXPECT_TRUE(proxy.contains("10.0.0.1"));
  EXPECT_FALSE(proxy.contains("10.0.0.2"));
}

TEST(IpNetwork, CidrContainsItsRange) {
  const IpNetwork net = network("10.1.0.0/16");
  EXPECT_TRUE(net.contains("10.1.255.3"));
  EXPECT_FALSE(net.contains("10.2.0.1"));
  const IpNetwork odd = network("192.168.0.128/25");
  EXPECT_TRUE(odd.contains("192.168.0.200"));
  EXPECT_FALSE(odd.contains("192.168.0.127"));
  EXPECT_TRUE(network("0.0.0.0/0").contains("8.8.8.8"));
}

TEST(IpNetwork, Ipv6AndMappedIpv4) {
  const IpNetwork net = network("2001:db8::/32");
  EXPECT_TRUE(net.contains("2001:db8:1::5"));
  EXPECT_FALSE(net.contains("2001:db9::1"));
  EXPECT_FALSE(net.contains("10.0.0.1"));
  EXPECT_TRUE(network("127.0.0.1").contains("::ffff:127.0.0.1"));
  EXPECT_TRUE(network("::1").contains("::1"));
}

TEST(IpNetwork, RejectsMalformedText) {
  for (const std::string_view text :
       {"", "10.0.0", "10.0.0.1/33", "::1/129", "10.0.0.1/", "10.0.0.1/x", "10.0.0.1/8",
        "example.com", "10.0.0.0/-1", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(IpNetwork::parse(text).has_value()) << text;
  }
}

TEST(IpNetwork, ContainsNothingThatDoesNotParse) {
  EXPECT_FALSE(network("0.0.0.0/0").contains("not an address"));
  EXPECT_FALSE(network("0.0.0.0/0").contains(""));
}

TEST(ClientAddress, UntrustedPeerIsTheClientWhateverTheHeaderSays) {
  const std::vector<IpNetwork> trusted{network("10.0.0.1")};
  EXPECT_EQ(client_address("127.0.0.1", {"1.2.3.4"}, trusted), "127.0.0.1");
  EXPECT_EQ(client_address("127.0.0.1", {"1.2.3.4"}, {}), "127.0.0.1");
}

TEST(ClientAddress, TrustedProxyNamesTheClient) {
  const std::vector<IpNetwork> trusted{network("10.0.0.0/8")};
  EXPECT_EQ(client_address("10.0.0.1", {"203.0.113.7"}, trusted), "203.0.113.7");
  EXPECT_EQ(client_address("10.0.0.1", {}, trusted), "10.0.0.1");
}

TEST(ClientAddress, ForgedLeftmostEntriesAreIgnored) {
  // The client sent "X-Forwarded-For: 6.6.6.6"; the trusted proxy appended what it saw.
  const std::vector<IpNetwork> trusted{network("10.0.0.0/8")};
  EXPECT_EQ(client_address("10.0.0.1", {"6.6.6.6, 203.0.113.7"}, trusted), "203.0.113.7");
  EXPECT_EQ(client_address("10.0.0.1", {"6.6.6.6", "203.0.113.7"}, trusted), "203.0.113.7");
}

TEST(ClientAddress, ChainsOfTrustedProxiesAreWalked) {
  const std::vector<IpNetwork> trusted{network("10.0.0.0/8")};
  EXPECT_EQ(client_address("10.0.0.1", {"203.0.113.7, 10.0.0.9"}, trusted), "203.0.113.7");
  EXPECT_EQ(client_address("10.0.0.1", {"10.0.0.8,10.0.0.9"}, trusted), "10.0.0.8");
}

TEST(ClientAddress, GarbageStopsTheWalkAtTheLastTrustedHop) {
  const std::vector<IpNetwork> trusted{network("10.0.0.0/8")};
  EXPECT_EQ(client_address("10.0.0.1", {"203.0.113.7, unknown"}, trusted), "10.0.0.1");
  EXPECT_EQ(client_address("10.0.0.1", {""}, trusted), "10.0.0.1");
}

TEST(ClientKey, Ipv4IsItselfAndIpv6IsItsSlash64) {
  EXPECT_EQ(client_key("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(client_key("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("garbage"), "garbage");
}

}  // namespace
}  // namespace almanac::util
