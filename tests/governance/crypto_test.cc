// governance/internal/crypto.h against published test vectors.
#include "governance/internal/crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace vesta::governance::internal {
namespace {

TEST(Crypto, Sha256MatchesFips180Vectors) {
  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf"): "abc" and the empty string.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256("abc").size(), 32u);
}

TEST(Crypto, HmacSha256MatchesRfc4231) {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, RandomBytesDifferAndHaveTheLengthAsked) {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    auto r = RandomBytes(32);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 32u);
    seen.insert(*r);
  }
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_TRUE(RandomBytes(0).ok());
}

TEST(Crypto, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace vesta::governance::internal
