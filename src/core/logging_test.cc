#include "core/logging.h"

#include <gtest/gtest.h>

namespace furrow::log {
namespace {

TEST(LoggingTest, JsonLineHasFieldsWithTypes) {
  std::string line = FormatLine(Format::kJson, Level::kInfo, "2026-11-25T00:00:00.000Z", "listening",
                                {{"address", "127.0.0.1"}, {"port", 8080}, {"tls", false}});
  EXPECT_EQ(line,
            R"({"ts":"2026-11-25T00:00:00.000Z","level":"info","msg":"listening",)"
            R"("address":"127.0.0.1","port":8080,"tls":false})");
}

TEST(LoggingTest, JsonLineEscapesMessage) {
  std::string line = FormatLine(Format::kJson, Level::kError, "t", "bad \"quote\"\n", {});
  EXPECT_EQ(line, R"({"ts":"t","level":"error","msg":"bad \"quote\"\n"})");
}

TEST(LoggingTest, HumanLineQuotesValuesWithSpaces) {
  std::string line = FormatLine(Format::kHuman, Level::kWarn, "t", "retrying",
                                {{"error", "connection refused"}, {"attempt", 3}});
  EXPECT_EQ(line, "t warn retrying error=\"connection refused\" attempt=3");
}

TEST(LoggingTest, ParsesNames) {
  Format f;
  Level l;
  EXPECT_TRUE(ParseFormat("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(ParseFormat("xml", &f));
  EXPECT_TRUE(ParseLevel("warn", &l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(ParseLevel("loud", &l));
}

}  // namespace
}  // namespace furrow::log
