#include "auth/password.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>
#include <string>

namespace almanac::auth {
namespace {

// Starts libsodium once per process; throws std::runtime_error if it cannot.
void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;  // thread-safe: a function-local static
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

// Copies `stored_hash` into `out`, which libsodium reads as a NUL-terminated string. Returns false
// when it cannot be a hash: empty, too long, or with an embedded NUL that would truncate it.
bool to_c_string(std::string_view stored_hash, std::string& out) {
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (stored_hash.find('\0') != std::string_view::npos) return false;
  out.assign(stored_hash);
  return true;
}

}  // namespace

PasswordHasher::PasswordHasher(PasswordPolicy policy) : policy_(policy) {
  if (policy_.ops_limit < kMinOpsLimit || policy_.ops_limit > crypto_pwhash_OPSLIMIT_MAX) {
    throw std::invalid_argument("argon2id ops_limit must be at least 2");
  }
  if (policy_.mem_limit_bytes < kMinMemLimitBytes ||
      policy_.mem_limit_bytes > crypto_pwhash_MEMLIMIT_MAX) {
    throw std::invalid_argument("argon2id mem_limit_bytes must be at least 19 MiB");
  }
  ensure_sodium();
  std::array<unsigned char, 32> random_password{};
  randombytes_buf(random_password.data(), random_password.size());
  dummy_hash_ = hash(std::string_view(reinterpret_cast<const char*>(random_password.data()),
                                      random_password.size()));
  sodium_memzero(random_password.data(), random_password.size());
}

std::string PasswordHasher::hash(std::string_view password) const {
  if (password.size() > crypto_pwhash_PASSWD_MAX) {
    throw std::invalid_argument("password is too long to hash");
  }
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), policy_.ops_limit,
                            policy_.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id hashing ran out of memory");
  }
  return std::string(out.data());
}

bool PasswordHasher::verify(std::string_view stored_hash,
                            std::string_view password) const noexcept {
  try {
    std::string c_hash;
    if (!to_c_string(stored_hash, c_hash)) return false;
    return crypto_pwhash_str_verify(c_hash.c_str(), password.data(), password.size()) == 0;
  } catch (...) {
    return false;  // std::bad_alloc copying the hash
  }
}

bool PasswordHasher::needs_rehash(std::string_view stored_hash) const noexcept {
  try {
    std::string c_hash;
    if (!to_c_string(stored_hash, c_hash)) return true;
    // The argon2id-specific check also refuses argon2i hashes, which the generic one accepts.
    return crypto_pwhash_argon2id_str_needs_rehash(c_hash.c_str(), policy_.ops_limit,
                                                   policy_.mem_limit_bytes) != 0;
  } catch (...) {
    return true;
  }
}

const std::string& PasswordHasher::dummy_hash() const { return dummy_hash_; }

}  // namespace almanac::auth
