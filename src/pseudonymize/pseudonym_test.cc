#include "pseudonymize/pseudonym.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <string>

namespace furrow::pseudonymize {
namespace {

std::string OpenSslHmacHex(std::string_view key, std::string_view value) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac, &len);
  std::string hex(2 * len, '\0');
  HexEncode(mac, len, hex.data());
  return hex;
}

TEST(PseudonymHasherTest, MatchesRfc4231TestCases) {
  // RFC 4231 test case 2.
  auto jefe = PseudonymHasher::Create("Jefe");
  ASSERT_TRUE(jefe.ok());
  EXPECT_EQ(jefe->Pseudonymize(ClearValue("what do ya want for nothing?")).hex(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 4231 test case 6: a key longer than the block size is hashed first.
  auto big = PseudonymHasher::Create(std::string(131, '\xaa'));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->Pseudonymize(ClearValue("Test Using Larger Than Block-Size Key - Hash Key First")).hex(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(PseudonymHasherTest, AgreesWithOpenSslHmacForEveryLength) {
  std::mt19937 rng(42);
  for (size_t key_len : {1u, 16u, 32u, 63u, 64u, 65u, 200u}) {
    std::string key(key_len, '\0');
    for (char& c : key) c = static_cast<char>(rng());
    auto hasher = PseudonymHasher::Create(key);
    ASSERT_TRUE(hasher.ok());
    for (size_t len = 0; len < 300; len += 7) {
      std::string value(len, '\0');
      for (char& c : value) c = static_cast<char>(rng());
      EXPECT_EQ(hasher->Pseudonymize(ClearValue(value)).hex(), OpenSslHmacHex(key, value))
          << "key " << key_len << " value " << len;
      std::string appended = "x";
      hasher->AppendHex(value, &appended);
      EXPECT_EQ(appended, "x" + OpenSslHmacHex(key, value));
    }
  }
}

TEST(PseudonymHasherTest, RejectsEmptyKey) {
  auto hasher = PseudonymHasher::Create("");
  ASSERT_FALSE(hasher.ok());
  EXPECT_EQ(hasher.status().code(), StatusCode::kInvalidArgument);
}

TEST(PseudonymHasherTest, IsDeterministicAndKeyDependent) {
  auto a = PseudonymHasher::Create("key-a");
  auto a2 = PseudonymHasher::Create("key-a");
  auto b = PseudonymHasher::Create("key-b");
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok());
  EXPECT_EQ(a->Pseudonymize(ClearValue("v")), a2->Pseudonymize(ClearValue("v")));
  EXPECT_FALSE(a->Pseudonymize(ClearValue("v")) == b->Pseudonymize(ClearValue("v")));
  PseudonymHasher moved = std::move(a).value();
  EXPECT_EQ(moved.Pseudonymize(ClearValue("v")), a2->Pseudonymize(ClearValue("v")));
}

}  // namespace
}  // namespace furrow::pseudonymize
