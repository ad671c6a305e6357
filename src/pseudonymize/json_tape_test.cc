#include "pseudonymize/json_tape.h"

#include <gtest/gtest.h>

namespace furrow::pseudonymize {
namespace {

TEST(JsonTapeTest, KeepsNumbersAsWrittenAndLinksContainers) {
  JsonTape tape;
  ASSERT_TRUE(tape.Parse(R"({"a":1.50,"b":[1e3,true,null],"c":"x\ty"})").ok());
  const auto& t = tape.tokens();
  ASSERT_EQ(t.size(), 12u);
  EXPECT_EQ(t[0].type, JsonToken::kStartObject);
  EXPECT_EQ(t[0].end, 11u);
  EXPECT_EQ(t[2].text(), "1.50");
  EXPECT_EQ(t[4].type, JsonToken::kStartArray);
  EXPECT_EQ(t[4].end, 8u);
  EXPECT_EQ(t[5].text(), "1e3");
  EXPECT_EQ(t[10].text(), "x\ty");
  EXPECT_EQ(tape.Skip(4), 9u);
}

TEST(JsonTapeTest, RejectsBrokenJsonAndTrailingContent) {
  JsonTape tape;
  EXPECT_FALSE(tape.Parse(R"({"a":)").ok());
  EXPECT_FALSE(tape.Parse(R"({"a":1} x)").ok());
  EXPECT_FALSE(tape.Parse(std::string("{\"a\":1}\0{", 9)).ok());
  EXPECT_FALSE(tape.Parse("").ok());
  EXPECT_TRUE(tape.Parse("{\"a\":1}  \n").ok());
}

TEST(JsonTapeTest, RejectsNestingBeyondTheLimitWithoutRecursing) {
  JsonTape tape;
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  Status s = tape.Parse(deep);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nested"), std::string::npos);
  std::string ok(JsonTape::kMaxDepth, '[');
  ok += std::string(JsonTape::kMaxDepth, ']');
  EXPECT_TRUE(tape.Parse(ok).ok());
}

TEST(JsonTapeTest, StringsMayHoldNul) {
  JsonTape tape;
  ASSERT_TRUE(tape.Parse(R"(["a\u0000b"])").ok());
  EXPECT_EQ(tape[1].text(), std::string_view("a\0b", 3));
}

}  // namespace
}  // namespace furrow::pseudonymize
