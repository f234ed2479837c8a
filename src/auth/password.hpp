#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace almanac::auth {

// The argon2id cost of new password hashes. The defaults are OWASP's minimum for argon2id
// (m=19 MiB, t=2, p=1), which is also the floor PasswordHasher accepts.
struct PasswordPolicy {
  unsigned long long ops_limit = 2;
  std::size_t mem_limit_bytes = std::size_t{19} * 1024 * 1024;
};

// Hashes and checks passwords with argon2id (libsodium's crypto_pwhash_str_alg, ARGON2ID13),
// storing the self-describing "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string. Each call costs
// tens of milliseconds of CPU and policy.mem_limit_bytes of memory: run it off the I/O threads.
// Immutable after construction, so one instance may be shared by any number of threads.
class PasswordHasher {
 public:
  // The smallest costs accepted, OWASP's argon2id minimum.
  static constexpr unsigned long long kMinOpsLimit = 2;
  static constexpr std::size_t kMinMemLimitBytes = std::size_t{19} * 1024 * 1024;

  // Starts libsodium and hashes a random password for dummy_hash(). Throws std::invalid_argument if
  // policy.ops_limit < kMinOpsLimit or policy.mem_limit_bytes < kMinMemLimitBytes (or either
  // exceeds what libsodium allows), and std::runtime_error if libsodium cannot start or run out of
  // memory.
  explicit PasswordHasher(PasswordPolicy policy = {});

  // Returns a fresh argon2id hash string of `password` (any bytes, NUL included, with a random
  // salt) under this hasher's policy. Throws std::runtime_error if libsodium runs out of memory.
  std::string hash(std::string_view password) const;

  // Returns true when `password` matches `stored_hash`, using the costs recorded in the hash.
  // Returns false for a wrong password and for a stored hash that is malformed. Never throws.
  bool verify(std::string_view stored_hash, std::string_view password) const noexcept;

  // Returns true when `stored_hash` is not an argon2id hash made with exactly this hasher's
  // policy (weaker, stronger, another algorithm or malformed), so that the caller should store a
  // new hash after the next successful login. Never throws.
  bool needs_rehash(std::string_view stored_hash) const noexcept;

  // A hash of a random password made once at construction: login verifies against it when the
  // user does not exist, so that unknown users cost the same time as wrong passwords.
  const std::string& dummy_hash() const;

 private:
  PasswordPolicy policy_;
  std::string dummy_hash_;
};

}  // namespace almanac::auth
