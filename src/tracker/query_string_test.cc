#include "tracker/query_string.h"

#include <gtest/gtest.h>

namespace furrow::tracker {
namespace {

TEST(QueryStringTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(PercentDecode("a%20b+c%2Fd"), "a b c/d");
  EXPECT_EQ(PercentDecode("%e2%82%ac"), "\xe2\x82\xac");
  EXPECT_EQ(PercentDecode("plain-id_1"), "plain-id_1");
  EXPECT_EQ(PercentDecode("ab%41"), "abA");
  EXPECT_EQ(PercentDecode(std::string_view("a\0b+", 4)), std::string("a\0b ", 4));
}

TEST(QueryStringTest, KeepsMalformedEscapesLiterally) {
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("%"), "%");
}

TEST(QueryStringTest, EncodesReservedCharacters) {
  EXPECT_EQ(PercentEncode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(PercentDecode(PercentEncode("x y+z%")), "x y+z%");
}

TEST(QueryStringTest, SplitsPairsKeepingOrderAndDuplicates) {
  QueryParams p = ParseQueryString("e=pv&&url=a%3Db&flag&e=se&=v");
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>("e", "pv")));
  EXPECT_EQ(p[1], (std::pair<std::string, std::string>("url", "a=b")));
  EXPECT_EQ(p[2], (std::pair<std::string, std::string>("flag", "")));
  EXPECT_EQ(p[3], (std::pair<std::string, std::string>("e", "se")));
  EXPECT_EQ(p[4], (std::pair<std::string, std::string>("", "v")));
}

TEST(QueryStringTest, FindsFirstParameter) {
  EXPECT_EQ(FindQueryParam("a=1&nuid=abc&nuid=def", "nuid"), "abc");
  EXPECT_EQ(FindQueryParam("n%75id=x", "nuid"), "x");
  EXPECT_EQ(FindQueryParam("a=1", "nuid"), std::nullopt);
  EXPECT_EQ(FindQueryParam("", "nuid"), std::nullopt);
}

}  // namespace
}  // namespace furrow::tracker
