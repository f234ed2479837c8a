#include "config/config.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace almanac::config {
namespace {

using std::chrono::seconds;
using Args = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

const std::string kSecret32(32, 'k');

// The ConfigError message of load_config(args, env); fails the test when nothing is thrown.
std::string config_error(const Args& args, const Env& env = {}) {
  try {
    load_config(args, env);
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "load_config did not throw ConfigError";
  return {};
}

// --- parse_duration -----------------------------------------------------------------------------

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parse_duration("30s"), seconds(30));
  EXPECT_EQ(parse_duration("15m"), seconds(15 * 60));
  EXPECT_EQ(parse_duration("1h"), seconds(3600));
  EXPECT_EQ(parse_duration("7d"), seconds(7 * 86400));
  EXPECT_EQ(parse_duration("1s"), seconds(1));
}

TEST(ParseDuration, AcceptsUpToTenYears) {
  EXPECT_EQ(parse_duration("3650d"), seconds(3650LL * 86400));
  EXPECT_EQ(parse_duration("315360000s"), seconds(315360000));
  EXPECT_EQ(parse_duration("3651d"), std::nullopt);
  EXPECT_EQ(parse_duration("315360001s"), std::nullopt);
}

class ParseDurationRejects : public testing::TestWithParam<std::string_view> {};

TEST_P(ParseDurationRejects, WithNullopt) {
  EXPECT_EQ(parse_duration(GetParam()), std::nullopt) << "'" << GetParam() << "'";
}

INSTANTIATE_TEST_SUITE_P(Malformed, ParseDurationRejects,
                         testing::Values("", "s", "m", "0s", "0d", "5x", "5S", "1.5h", "-1s", "+1s",
                                         "10", " 1s", "1s ", "1 s", "s1", "1ms", "1hh", "0x10s",
                                         "18446744073709551616s",  // 2^64
                                         "99999999999999999999999999d",
                                         "9223372036854775807s",  // fits int64, not ten years
                                         "5124095576030431d"),    // d * 86400 wraps uint64
                         [](const testing::TestParamInfo<std::string_view>& info) {
                           return "Case" + std::to_string(info.index);
                         });

// --- parse_byte_size ----------------------------------------------------------------------------

TEST(ParseByteSize, PlainNumberIsBytes) {
  EXPECT_EQ(parse_byte_size("8192"), 8192u);
  EXPECT_EQ(parse_byte_size("0"), 0u);
  EXPECT_EQ(parse_byte_size("1B"), 1u);
}

TEST(ParseByteSize, BinaryUnitsInEverySpelling) {
  EXPECT_EQ(parse_byte_size("8K"), 8u * 1024);
  EXPECT_EQ(parse_byte_size("8KB"), 8u * 1024);
  EXPECT_EQ(parse_byte_size("8KiB"), 8u * 1024);
  EXPECT_EQ(parse_byte_size("1M"), 1024u * 1024);
  EXPECT_EQ(parse_byte_size("1MB"), 1024u * 1024);
  EXPECT_EQ(parse_byte_size("19MiB"), 19u * 1024 * 1024);
  EXPECT_EQ(parse_byte_size("2G"), 2ULL * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_byte_size("2GB"), 2ULL * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_byte_size("2GiB"), 2ULL * 1024 * 1024 * 1024);
}

class ParseByteSizeRejects : public testing::TestWithParam<std::string_view> {};

TEST_P(ParseByteSizeRejects, WithNullopt) {
  EXPECT_EQ(parse_byte_size(GetParam()), std::nullopt) << "'" << GetParam() << "'";
}

INSTANTIATE_TEST_SUITE_P(Malformed, ParseByteSizeRejects,
                         testing::Values("", "KiB", "B", "8 KiB", " 8", "8kib", "8kb", "8TiB",
                                         "8iB", "1.5MiB", "-1", "+1", "8KiBs", "0x10",
                                         "99999999999999999999999",  // beyond uint64
                                         "1000000GiB", "18014398509481984KiB"),
                         [](const testing::TestParamInfo<std::string_view>& info) {
                           return "Case" + std::to_string(info.index);
                         });

// --- load_config: defaults ----------------------------------------------------------------------

TEST(LoadConfig, DefaultsWithoutFlagsOrEnvironment) {
  const Config config = load_config({}, {});
  EXPECT_EQ(config.command, "serve");
  EXPECT_EQ(config.listen_host, "127.0.0.1");
  EXPECT_EQ(config.listen_port, 8000);
  EXPECT_EQ(config.database, "sqlite:data/almanac.db");
  EXPECT_EQ(config.sqlite_path, "data/almanac.db");
  EXPECT_EQ(config.access_token_lifetime, seconds(900));
  EXPECT_EQ(config.refresh_token_lifetime, seconds(7 * 24 * 3600));
  EXPECT_EQ(config.jwt_secret, std::nullopt);
  EXPECT_EQ(config.log_format, util::LogFormat::kText);
  EXPECT_EQ(config.log_level, util::LogLevel::kInfo);
  EXPECT_EQ(config.durability, Durability::kFull);
  EXPECT_EQ(config.max_header_bytes, 8u * 1024);
  EXPECT_EQ(config.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(config.header_timeout, seconds(10));
  EXPECT_EQ(config.body_timeout, seconds(30));
  EXPECT_EQ(config.idle_timeout, seconds(60));
  EXPECT_EQ(config.shutdown_grace, seconds(30));
  EXPECT_EQ(config.hash_queue, 64u);
  EXPECT_EQ(config.hash_priority, HashPriority::kIdle);
  EXPECT_EQ(config.argon2_iterations, 2u);
  EXPECT_EQ(config.argon2_memory_bytes, 19u * 1024 * 1024);
}

TEST(LoadConfig, ThreadCountsDefaultToTheNumberOfCores) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const Config config = load_config({}, {});
  EXPECT_EQ(config.threads, cores);
  EXPECT_EQ(config.hash_threads, cores);
}

// --- load_config: commands ----------------------------------------------------------------------

TEST(LoadConfig, ServeCommandIsAccepted) { EXPECT_EQ(load_config({"serve"}, {}).command, "serve"); }

TEST(LoadConfig, MigrateCommandIsAccepted) {
  EXPECT_EQ(load_config({"migrate"}, {}).command, "migrate");
}

TEST(LoadConfig, CommandMayBeFollowedByFlags) {
  const Config config = load_config({"migrate", "--database", "sqlite:/tmp/a.db"}, {});
  EXPECT_EQ(config.command, "migrate");
  EXPECT_EQ(config.sqlite_path, "/tmp/a.db");
}

TEST(LoadConfig, UnknownCommandIsRejected) {
  const std::string message = config_error({"frobnicate"});
  EXPECT_NE(message.find("frobnicate"), std::string::npos) << message;
}

TEST(LoadConfig, CommandAfterFlagsIsRejected) {
  const std::string message = config_error({"--threads", "2", "migrate"});
  EXPECT_NE(message.find("migrate"), std::string::npos) << message;
}

TEST(LoadConfig, SecondPositionalArgumentIsRejected) {
  EXPECT_NE(config_error({"serve", "migrate"}).find("migrate"), std::string::npos);
}

// --- load_config: flags -------------------------------------------------------------------------

TEST(LoadConfig, FlagWithSeparateValue) {
  const Config config = load_config({"--listen", "0.0.0.0:9000"}, {});
  EXPECT_EQ(config.listen_host, "0.0.0.0");
  EXPECT_EQ(config.listen_port, 9000);
}

TEST(LoadConfig, FlagWithEqualsValue) {
  const Config config = load_config({"--listen=0.0.0.0:9001"}, {});
  EXPECT_EQ(config.listen_host, "0.0.0.0");
  EXPECT_EQ(config.listen_port, 9001);
}

TEST(LoadConfig, EqualsValueKeepsLaterEqualsSigns) {
  const std::string secret = "abc=def=" + std::string(30, 'x');
  EXPECT_EQ(load_config({"--jwt-secret=" + secret}, {}).jwt_secret, secret);
}

TEST(LoadConfig, LaterFlagWinsOverEarlierOne) {
  EXPECT_EQ(load_config({"--threads", "2", "--threads=3"}, {}).threads, 3u);
}

TEST(LoadConfig, EveryFlagIsApplied) {
  const Config config = load_config({"--database",
                                     "sqlite:/var/lib/almanac/db.sqlite",
                                     "--threads",
                                     "4",
                                     "--log-format",
                                     "json",
                                     "--log-level",
                                     "debug",
                                     "--jwt-secret",
                                     kSecret32,
                                     "--access-token-lifetime",
                                     "5m",
                                     "--refresh-token-lifetime",
                                     "2d",
                                     "--max-header-bytes",
                                     "16KiB",
                                     "--max-body-bytes",
                                     "2MiB",
                                     "--header-timeout",
                                     "5s",
                                     "--body-timeout",
                                     "1m",
                                     "--idle-timeout",
                                     "2m",
                                     "--shutdown-grace",
                                     "10s",
                                     "--hash-threads",
                                     "3",
                                     "--hash-queue",
                                     "128",
                                     "--hash-priority",
                                     "low",
                                     "--argon2-iterations",
                                     "3",
                                     "--argon2-memory",
                                     "64MiB",
                                     "--durability",
                                     "normal"},
                                    {});
  EXPECT_EQ(config.database, "sqlite:/var/lib/almanac/db.sqlite");
  EXPECT_EQ(config.sqlite_path, "/var/lib/almanac/db.sqlite");
  EXPECT_EQ(config.threads, 4u);
  EXPECT_EQ(config.log_format, util::LogFormat::kJson);
  EXPECT_EQ(config.log_level, util::LogLevel::kDebug);
  EXPECT_EQ(config.jwt_secret, kSecret32);
  EXPECT_EQ(config.access_token_lifetime, seconds(300));
  EXPECT_EQ(config.refresh_token_lifetime, seconds(2 * 86400));
  EXPECT_EQ(config.max_header_bytes, 16u * 1024);
  EXPECT_EQ(config.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(config.header_timeout, seconds(5));
  EXPECT_EQ(config.body_timeout, seconds(60));
  EXPECT_EQ(config.idle_timeout, seconds(120));
  EXPECT_EQ(config.shutdown_grace, seconds(10));
  EXPECT_EQ(config.hash_threads, 3u);
  EXPECT_EQ(config.hash_queue, 128u);
  EXPECT_EQ(config.hash_priority, HashPriority::kLow);
  EXPECT_EQ(config.argon2_iterations, 3u);
  EXPECT_EQ(config.argon2_memory_bytes, 64u * 1024 * 1024);
  EXPECT_EQ(config.durability, Durability::kNormal);
}

TEST(LoadConfig, EveryLogLevelIsAccepted) {
  EXPECT_EQ(load_config({"--log-level", "debug"}, {}).log_level, util::LogLevel::kDebug);
  EXPECT_EQ(load_config({"--log-level", "info"}, {}).log_level, util::LogLevel::kInfo);
  EXPECT_EQ(load_config({"--log-level", "warn"}, {}).log_level, util::LogLevel::kWarn);
  EXPECT_EQ(load_config({"--log-level", "error"}, {}).log_level, util::LogLevel::kError);
}

TEST(LoadConfig, TextLogFormatAndFullDurabilityAreAccepted) {
  const Config config = load_config({"--log-format", "text", "--durability", "full"},
                                    {{"ALMANAC_LOG_FORMAT", "json"}});
  EXPECT_EQ(config.log_format, util::LogFormat::kText);
  EXPECT_EQ(config.durability, Durability::kFull);
}

TEST(LoadConfig, JwtSecretOfExactly32BytesIsAccepted) {
  EXPECT_EQ(load_config({"--jwt-secret", kSecret32}, {}).jwt_secret, kSecret32);
}

TEST(LoadConfig, BracketedIpv6ListenAddressLosesItsBrackets) {
  const Config config = load_config({"--listen", "[::1]:8080"}, {});
  EXPECT_EQ(config.listen_host, "::1");
  EXPECT_EQ(config.listen_port, 8080);
}

TEST(LoadConfig, HostNameAndExtremePortsAreAccepted) {
  const Config low = load_config({"--listen", "localhost:1"}, {});
  EXPECT_EQ(low.listen_host, "localhost");
  EXPECT_EQ(low.listen_port, 1);
  const Config high = load_config({"--listen", "my-host.example:65535"}, {});
  EXPECT_EQ(high.listen_host, "my-host.example");
  EXPECT_EQ(high.listen_port, 65535);
}

// --- load_config: environment -------------------------------------------------------------------

TEST(LoadConfig, EnvironmentVariablesAreRead) {
  const Config config = load_config({}, {{"ALMANAC_LISTEN", "10.0.0.1:7000"},
                                         {"ALMANAC_DATABASE", "sqlite:/srv/a.db"},
                                         {"ALMANAC_JWT_SECRET", kSecret32},
                                         {"ALMANAC_ACCESS_TOKEN_LIFETIME", "1h"},
                                         {"ALMANAC_LOG_LEVEL", "warn"}});
  EXPECT_EQ(config.listen_host, "10.0.0.1");
  EXPECT_EQ(config.listen_port, 7000);
  EXPECT_EQ(config.sqlite_path, "/srv/a.db");
  EXPECT_EQ(config.jwt_secret, kSecret32);
  EXPECT_EQ(config.access_token_lifetime, seconds(3600));
  EXPECT_EQ(config.log_level, util::LogLevel::kWarn);
}

TEST(LoadConfig, FlagsWinOverEnvironment) {
  const Config config =
      load_config({"--listen", "127.0.0.1:9999", "--threads=2"},
                  {{"ALMANAC_LISTEN", "10.0.0.1:7000"}, {"ALMANAC_THREADS", "8"}});
  EXPECT_EQ(config.listen_host, "127.0.0.1");
  EXPECT_EQ(config.listen_port, 9999);
  EXPECT_EQ(config.threads, 2u);
}

TEST(LoadConfig, EnvironmentAppliesWhereNoFlagOverrides) {
  const Config config = load_config({"--threads", "2"}, {{"ALMANAC_LISTEN", "10.0.0.1:7000"}});
  EXPECT_EQ(config.listen_port, 7000);
  EXPECT_EQ(config.threads, 2u);
}

TEST(LoadConfig, UnrelatedOrMisspelledVariablesAreIgnored) {
  const Config config = load_config(
      {}, {{"almanac_listen", "10.0.0.1:7000"}, {"LISTEN", "10.0.0.1:7000"}, {"ALMANAC_X", "1"}});
  EXPECT_EQ(config.listen_port, 8000);
}

TEST(LoadConfig, BadEnvironmentValueIsRejectedNamingTheVariable) {
  const std::string message = config_error({}, {{"ALMANAC_LISTEN", "nonsense"}});
  EXPECT_NE(message.find("ALMANAC_LISTEN"), std::string::npos) << message;
}

TEST(LoadConfig, PostgresqlUrlIsTakenFromTheEnvironment) {
  const Config config = load_config({}, {{"ALMANAC_DATABASE", "postgresql://db/almanac"},
                                         {"ALMANAC_JWT_SECRET", std::string(32, 'k')}});
  EXPECT_EQ(config.database, "postgresql://db/almanac");
  EXPECT_TRUE(config.sqlite_path.empty());
  EXPECT_EQ(config.jwt_secret, std::string(32, 'k'));
}

TEST(LoadConfig, ServingPostgresqlWithoutAJwtSecretIsRejectedNamingTheFlag) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--database", "postgresql://db/almanac"},
        std::vector<std::string>{"serve", "--database", "postgres://db/almanac"}}) {
    const std::string message = config_error(args);
    EXPECT_NE(message.find("--jwt-secret"), std::string::npos) << message;
    EXPECT_NE(message.find("ALMANAC_JWT_SECRET"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // The operator commands sign no tokens; SQLite keeps a generated secret in its data directory.
  for (const std::string command : {"migrate", "export"}) {
    EXPECT_NO_THROW(load_config({command, "--database", "postgresql://db/almanac"}, {}));
  }
  EXPECT_NO_THROW(load_config({"--database", "sqlite:data/almanac.db"}, {}));
}

// --- load_config: errors ------------------------------------------------------------------------

TEST(LoadConfig, UnknownFlagIsRejected) {
  const std::string message = config_error({"--no-such-flag", "1"});
  EXPECT_NE(message.find("--no-such-flag"), std::string::npos) << message;
}

TEST(LoadConfig, UnknownFlagWithEqualsIsRejectedByName) {
  const std::string message = config_error({"--colour=red"});
  EXPECT_NE(message.find("--colour"), std::string::npos) << message;
  EXPECT_EQ(message.find("red"), std::string::npos) << message;
}

TEST(LoadConfig, BareDoubleDashIsRejected) { config_error({"--"}); }

TEST(LoadConfig, SingleDashFlagIsRejected) {
  EXPECT_NE(config_error({"-t", "2"}).find("-t"), std::string::npos);
}

TEST(LoadConfig, MissingValueIsRejected) {
  const std::string message = config_error({"--listen"});
  EXPECT_NE(message.find("--listen"), std::string::npos) << message;
  EXPECT_NE(message.find("needs a value"), std::string::npos) << message;
}

TEST(LoadConfig, EmptyEqualsValueIsRejected) { config_error({"--threads="}); }

TEST(LoadConfig, ShortJwtSecretIsRejected) {
  const std::string message = config_error({"--jwt-secret", std::string(31, 'k')});
  EXPECT_NE(message.find("--jwt-secret"), std::string::npos) << message;
  EXPECT_NE(message.find("32"), std::string::npos) << message;
  EXPECT_EQ(message.find(std::string(31, 'k')), std::string::npos) << "secret leaked: " << message;
}

TEST(LoadConfig, PostgresqlUrlSelectsPostgresql) {
  for (const std::string url : {"postgresql://user:pw@localhost:5432/almanac", "postgres://h/a"}) {
    const Config config = load_config(
        {"--database", url, "--database-pool", "4", "--jwt-secret", std::string(32, 'k')}, {});
    EXPECT_EQ(config.database, url);
    EXPECT_TRUE(config.sqlite_path.empty());
    EXPECT_EQ(config.database_pool, 4u);
  }
}

TEST(LoadConfig, PostgresqlUrlWithoutHostIsRejectedWithoutEchoingIt) {
  const std::string message = config_error({"--database", "postgresql:///secret"});
  EXPECT_NE(message.find("--database"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

TEST(LoadConfig, DatabasePoolNeedsTwoConnections) {
  EXPECT_NE(config_error({"--database-pool", "1"}).find("--database-pool"), std::string::npos);
}

TEST(LoadConfig, DatabaseReadsArePooledUnlessInlineIsAsked) {
  EXPECT_TRUE(load_config({}, {}).database_read_pool);
  EXPECT_TRUE(load_config({"--database-reads", "pool"}, {}).database_read_pool);
  EXPECT_FALSE(load_config({"--database-reads", "inline"}, {}).database_read_pool);
  EXPECT_FALSE(load_config({}, {{"ALMANAC_DATABASE_READS", "inline"}}).database_read_pool);
  EXPECT_NE(config_error({"--database-reads", "threads"}).find("--database-reads"),
            std::string::npos);
}

TEST(RedactedDatabase, HidesOnlyThePassword) {
  EXPECT_EQ(redacted_database("postgresql://alice:s3cret@db:5432/almanac"),
            "postgresql://alice:***@db:5432/almanac");
  EXPECT_EQ(redacted_database("postgresql://alice@db/almanac"), "postgresql://alice@db/almanac");
  EXPECT_EQ(redacted_database("postgresql://db:5432/almanac"), "postgresql://db:5432/almanac");
  EXPECT_EQ(redacted_database("sqlite:data/almanac.db"), "sqlite:data/almanac.db");
}

TEST(LoadConfig, DatabaseWithoutSqlitePrefixOrPathIsRejected) {
  EXPECT_NE(config_error({"--database", "mysql://x"}).find("sqlite:PATH"), std::string::npos);
  EXPECT_NE(config_error({"--database", "data/almanac.db"}).find("sqlite:PATH"), std::string::npos);
  EXPECT_NE(config_error({"--database", "sqlite:"}).find("sqlite:PATH"), std::string::npos);
}

TEST(LoadConfig, ThreadsOutOfRangeOrNotANumberAreRejected) {
  for (const std::string value : {"0", "257", "-1", "abc", "2.5", "", " 2"}) {
    const std::string message = config_error({"--threads", value});
    EXPECT_NE(message.find("--threads"), std::string::npos) << "'" << value << "': " << message;
  }
  EXPECT_EQ(load_config({"--threads", "256"}, {}).threads, 256u);
  EXPECT_EQ(load_config({"--threads", "1"}, {}).threads, 1u);
}

TEST(LoadConfig, BadLogFormatIsRejected) {
  const std::string message = config_error({"--log-format", "xml"});
  EXPECT_NE(message.find("--log-format"), std::string::npos) << message;
  EXPECT_NE(message.find("xml"), std::string::npos) << message;
  config_error({"--log-format", "JSON"});
}

TEST(LoadConfig, BadLogLevelIsRejected) { config_error({"--log-level", "verbose"}); }

TEST(LoadConfig, BadDurabilityIsRejected) { config_error({"--durability", "off"}); }

TEST(LoadConfig, HashPriorityIsLowOrIdle) {
  EXPECT_EQ(load_config({"--hash-priority", "idle"}, {}).hash_priority, HashPriority::kIdle);
  EXPECT_EQ(load_config({"--hash-priority", "low"}, {}).hash_priority, HashPriority::kLow);
  config_error({"--hash-priority", "normal"});
}

TEST(LoadConfig, HashThreadsBusyLeavesACoreUnlessSet) {
  EXPECT_FALSE(load_config({}, {}).hash_threads_busy.has_value());
  EXPECT_EQ(hash_threads_while_busy(load_config({"--hash-threads", "4"}, {})), 3u);
  EXPECT_EQ(hash_threads_while_busy(load_config({"--hash-threads", "2"}, {})), 1u);
  EXPECT_EQ(hash_threads_while_busy(load_config({"--hash-threads", "1"}, {})), 1u);
  const Config set = load_config({"--hash-threads", "4", "--hash-threads-busy", "4"}, {});
  EXPECT_EQ(set.hash_threads_busy, 4u);
  EXPECT_EQ(hash_threads_while_busy(set), 4u);
  EXPECT_EQ(
      load_config({"--hash-threads", "4"}, {{"ALMANAC_HASH_THREADS_BUSY", "2"}}).hash_threads_busy,
      2u);
}

TEST(LoadConfig, HashThreadsBusyIsAtMostTheHashThreads) {
  const std::string message = config_error({"--hash-threads", "2", "--hash-threads-busy", "3"});
  EXPECT_NE(message.find("--hash-threads-busy 3"), std::string::npos) << message;
  EXPECT_NE(message.find("--hash-threads 2"), std::string::npos) << message;
  config_error({"--hash-threads-busy", "0"});
  config_error({"--hash-threads-busy", "many"});
}

class LoadConfigRejectsListen : public testing::TestWithParam<std::string_view> {};

TEST_P(LoadConfigRejectsListen, NamingTheFlag) {
  const std::string message = config_error({"--listen", std::string(GetParam())});
  EXPECT_NE(message.find("--listen"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(BadHostPort, LoadConfigRejectsListen,
                         testing::Values("127.0.0.1",        // no port
                                         "127.0.0.1:",       // empty port
                                         ":8000",            // no host
                                         "127.0.0.1:0",      // port 0
                                         "127.0.0.1:65536",  // just too big
                                         "127.0.0.1:70000",  // port 70000
                                         "127.0.0.1:-1", "127.0.0.1:80a", "127.0.0.1:+80",
                                         "bad host:80", "evil/host:80", ""),
                         [](const testing::TestParamInfo<std::string_view>& info) {
                           return "Case" + std::to_string(info.index);
                         });

TEST(LoadConfig, BadDurationsAreRejected) {
  EXPECT_NE(config_error({"--access-token-lifetime", "15"}).find("--access-token-lifetime"),
            std::string::npos);
  EXPECT_NE(config_error({"--refresh-token-lifetime=0d"}).find("--refresh-token-lifetime"),
            std::string::npos);
  config_error({"--header-timeout", "1.5s"});
  config_error({"--body-timeout", "-1s"});
  config_error({"--idle-timeout", "1w"});
  config_error({"--shutdown-grace", ""});
}

TEST(LoadConfig, ByteSizesBelowTheMinimumAreRejected) {
  EXPECT_NE(config_error({"--max-header-bytes", "1023"}).find("--max-header-bytes"),
            std::string::npos);
  EXPECT_EQ(load_config({"--max-header-bytes", "1KiB"}, {}).max_header_bytes, 1024u);
  config_error({"--max-body-bytes", "1000"});
  config_error({"--max-body-bytes", "lots"});
  config_error({"--argon2-memory", "18MiB"});
  EXPECT_EQ(load_config({"--argon2-memory", "19MiB"}, {}).argon2_memory_bytes, 19u * 1024 * 1024);
}

TEST(LoadConfig, CountsOutsideTheirRangesAreRejected) {
  config_error({"--hash-threads", "0"});
  config_error({"--hash-threads", "65"});
  config_error({"--hash-queue", "0"});
  config_error({"--hash-queue", "100001"});
  config_error({"--argon2-iterations", "1"});
  config_error({"--argon2-iterations", "101"});
  EXPECT_EQ(load_config({"--hash-threads", "64"}, {}).hash_threads, 64u);
  EXPECT_EQ(load_config({"--hash-queue", "100000"}, {}).hash_queue, 100000u);
  EXPECT_EQ(load_config({"--argon2-iterations", "100"}, {}).argon2_iterations, 100u);
}

// --- rate limits --------------------------------------------------------------------------------

TEST(ParseRateLimit, CountSlashDuration) {
  const auto limit = parse_rate_limit("5/1m");
  ASSERT_TRUE(limit.has_value());
  EXPECT_EQ(limit->limit, 5u);
  EXPECT_EQ(limit->window, seconds(60));
  EXPECT_EQ(parse_rate_limit("20/1h")->window, seconds(3600));
}

TEST(ParseRateLimit, RejectsMalformedText) {
  for (const std::string_view text :
       {"", "5", "/1m", "5/", "0/1m", "5/0m", "5/1", "-5/1m", "5/1m/", "x/1m", "2000000000/1m"}) {
    EXPECT_FALSE(parse_rate_limit(text).has_value()) << text;
  }
}

TEST(LoadConfig, RateLimitsAreOnByDefault) {
  const Config config = load_config({}, {});
  EXPECT_TRUE(config.rate_limits);
  EXPECT_EQ(config.login_account_limit.limit, 5u);
  EXPECT_EQ(config.login_account_limit.window, seconds(60));
  EXPECT_EQ(config.register_address_limit.limit, 20u);
  EXPECT_EQ(config.register_address_limit.window, seconds(3600));
  EXPECT_EQ(config.user_limit.limit, 600u);
  EXPECT_TRUE(config.trusted_proxies.empty());
}

TEST(LoadConfig, RateLimitsOffByFlagOrEnvironment) {
  EXPECT_FALSE(load_config({"--rate-limits", "off"}, {}).rate_limits);
  EXPECT_FALSE(load_config({}, {{"ALMANAC_RATE_LIMITS", "off"}}).rate_limits);
  EXPECT_TRUE(load_config({"--rate-limits=on"}, {{"ALMANAC_RATE_LIMITS", "off"}}).rate_limits);
  EXPECT_NE(config_error({"--rate-limits", "no"}).find("rate-limits"), std::string::npos);
}

TEST(LoadConfig, EveryRateLimitIsConfigurable) {
  const Config config =
      load_config({"--rate-limit-login-account", "3/1h", "--rate-limit-login-address", "7/2m",
                   "--rate-limit-register-address", "4/1d", "--rate-limit-user", "9/30s",
                   "--rate-limit-max-keys", "64"},
                  {});
  EXPECT_EQ(config.login_account_limit.limit, 3u);
  EXPECT_EQ(config.login_account_limit.window, seconds(3600));
  EXPECT_EQ(config.login_address_limit.limit, 7u);
  EXPECT_EQ(config.login_address_limit.window, seconds(120));
  EXPECT_EQ(config.register_address_limit.limit, 4u);
  EXPECT_EQ(config.register_address_limit.window, seconds(86400));
  EXPECT_EQ(config.user_limit.limit, 9u);
  EXPECT_EQ(config.user_limit.window, seconds(30));
  EXPECT_EQ(config.rate_limit_max_keys, 64u);
  EXPECT_EQ(load_config({}, {{"ALMANAC_RATE_LIMIT_USER", "100/1m"}}).user_limit.limit, 100u);
}

TEST(LoadConfig, BadRateLimitsAreRejectedByName) {
  EXPECT_NE(config_error({"--rate-limit-user", "600"}).find("rate-limit-user"), std::string::npos);
  EXPECT_NE(config_error({"--rate-limit-login-account", "0/1m"}).find("rate-limit-login-account"),
            std::string::npos);
  config_error({"--rate-limit-max-keys", "0"});
}

TEST(LoadConfig, MetricsAreOnUnlessTurnedOff) {
  EXPECT_TRUE(load_config({}, {}).metrics);
  EXPECT_FALSE(load_config({"--metrics", "off"}, {}).metrics);
  EXPECT_FALSE(load_config({}, {{"ALMANAC_METRICS", "off"}}).metrics);
  EXPECT_NE(config_error({"--metrics", "maybe"}).find("--metrics"), std::string::npos);
}

TEST(LoadConfig, UserCommandsTakeAnActionAndItsOperands) {
  const Config create = load_config({"user", "create", "alice", "a@example.com"}, {});
  EXPECT_EQ(create.command, "user");
  EXPECT_EQ(create.command_args, (Args{"create", "alice", "a@example.com"}));
  EXPECT_EQ(load_config({"user", "list", "--database", "sqlite:x.db"}, {}).sqlite_path, "x.db");
  EXPECT_EQ(load_config({"user", "disable", "alice"}, {}).command_args, (Args{"disable", "alice"}));
  EXPECT_NE(config_error({"user"}).find("user create USERNAME EMAIL"), std::string::npos);
  EXPECT_NE(config_error({"user", "create", "alice"}).find("user create:"), std::string::npos);
  EXPECT_NE(config_error({"user", "list", "extra"}).find("user list:"), std::string::npos);
  EXPECT_NE(config_error({"user", "drop", "alice"}).find("user drop:"), std::string::npos);
  EXPECT_NE(config_error({"serve", "extra"}).find("unexpected argument"), std::string::npos);
}

TEST(LoadConfig, ExportTakesTheJsonFormatOnly) {
  EXPECT_EQ(load_config({"export", "--format", "json"}, {}).command, "export");
  EXPECT_EQ(load_config({"export", "--format=json"}, {}).export_format, "json");
  EXPECT_NE(config_error({"export", "--format", "csv"}).find("expected json"), std::string::npos);
  EXPECT_NE(config_error({"serve", "--format", "json"}).find("unknown flag"), std::string::npos);
}

TEST(LoadConfig, TrustedProxiesAreAListOfAddressesAndNetworks) {
  const Config config = load_config({"--trusted-proxies", "10.0.0.1, 192.168.0.0/16,::1"}, {});
  ASSERT_EQ(config.trusted_proxies.size(), 3u);
  EXPECT_TRUE(config.trusted_proxies[1].contains("192.168.4.5"));
  EXPECT_TRUE(load_config({"--trusted-proxies="}, {}).trusted_proxies.empty());
  EXPECT_NE(config_error({"--trusted-proxies", "10.0.0.1,proxy.local"}).find("proxy.local"),
            std::string::npos);
  EXPECT_NE(config_error({"--trusted-proxies", "10.0.0.0/33"}).find("trusted-proxies"),
            std::string::npos);
}

// --- usage --------------------------------------------------------------------------------------

TEST(Usage, ListsCommandsAndEveryFlag) {
  const std::string text = usage();
  for (const std::string_view word : {"serve",
                                      "migrate",
                                      "ALMANAC_",
                                      "--listen",
                                      "--database",
                                      "--threads",
                                      "--log-format",
                                      "--log-level",
                                      "--jwt-secret",
                                      "--access-token-lifetime",
                                      "--refresh-token-lifetime",
                                      "--max-header-bytes",
                                      "--max-body-bytes",
                                      "--header-timeout",
                                      "--body-timeout",
                                      "--idle-timeout",
                                      "--shutdown-grace",
                                      "--hash-threads",
                                      "--hash-queue",
                                      "--hash-priority",
                                      "--argon2-iterations",
                                      "--argon2-memory",
                                      "--durability",
                                      "--rate-limits",
                                      "--rate-limit-login-account",
                                      "--rate-limit-login-address",
                                      "--rate-limit-register-address",
                                      "--rate-limit-user",
                                      "--rate-limit-max-keys",
                                      "--trusted-proxies"}) {
    EXPECT_NE(text.find(word), std::string::npos) << word;
  }
}

TEST(Usage, EveryListedFlagIsAccepted) {
  // Each "  --name" line of the usage text names a flag load_config knows: an unknown one would
  // be rejected as "unknown flag", a known one with a bad value as "invalid value".
  const std::string text = usage();
  std::size_t flags = 0;
  for (std::size_t at = text.find("\n  --"); at != std::string::npos;
       at = text.find("\n  --", at + 1)) {
    const std::size_t start = at + 5;
    const std::size_t end = text.find(' ', start);
    const std::string name = text.substr(start, end - start);
    const std::string message = config_error({"--" + name + "=\x01"});
    EXPECT_EQ(message.find("unknown flag"), std::string::npos) << message;
    ++flags;
  }
  EXPECT_GE(flags, 19u);
}

}  // namespace
}  // namespace almanac::config
