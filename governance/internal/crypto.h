// Hashes, keyed hashes and random bytes for governance, from OpenSSL's
// libcrypto (Debian libssl-dev): SHA-256 (FIPS 180-4) for token hashes and
// the audit chain, HMAC-SHA256 (RFC 2104) for keyed-hash column masks,
// RAND_bytes for tokens and keys. Private to governance/.
//
// Thread-safety: every function is thread-safe (OpenSSL 3's one-shot APIs).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace vesta::governance::internal {

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);
// SHA-256 of `data` as 64 lowercase hex characters.
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`: 32 raw bytes. Any key length.
std::string HmacSha256(std::string_view key, std::string_view data);
// Lowercase hex of `bytes` (2 characters per byte).
std::string HexEncode(std::string_view bytes);
// `n` cryptographically random bytes (RAND_bytes). Errors: Internal if the
// generator fails (it has no entropy).
Result<std::string> RandomBytes(size_t n);
// Compares in time independent of where the inputs differ (CRYPTO_memcmp);
// false when the lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace vesta::governance::internal
