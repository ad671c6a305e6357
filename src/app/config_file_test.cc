#include "app/config_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace furrow::app {
namespace {

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("furrow_config_test_" + std::to_string(::getpid()) + ".yaml");
    cmd_ = app_.add_subcommand("collector");
    cmd_->add_option("--port", port_);
    cmd_->add_option("--data-dir", data_dir_);
    cmd_->add_option("--cookie-domain", domains_);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  void Write(const std::string& text) { std::ofstream(path_) << text; }
  void Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "collector");
    std::reverse(args.begin(), args.end());
    app_.parse(args);
  }

  std::filesystem::path path_;
  CLI::App app_;
  CLI::App* cmd_ = nullptr;
  int port_ = 8080;
  std::string data_dir_ = "./var";
  std::vector<std::string> domains_;
};

TEST_F(ConfigFileTest, SectionWinsOverTopLevel) {
  Write("data_dir: /top\nport: 1\ncollector:\n  port: 9000\n  cookie_domain: [a.com, b.com]\n");
  Parse({});
  ASSERT_TRUE(ApplyConfigFile(path_.string(), "collector", cmd_).ok());
  EXPECT_EQ(port_, 9000);
  EXPECT_EQ(data_dir_, "/top");
  EXPECT_EQ(domains_, (std::vector<std::string>{"a.com", "b.com"}));
}

TEST_F(ConfigFileTest, CommandLineWins) {
  Write("collector:\n  port: 9000\n");
  Parse({"--port", "7000"});
  ASSERT_TRUE(ApplyConfigFile(path_.string(), "collector", cmd_).ok());
  EXPECT_EQ(port_, 7000);
}

TEST_F(ConfigFileTest, UnknownKeyInSectionIsAnError) {
  Write("collector:\n  prot: 9000\n");
  Parse({});
  Status s = ApplyConfigFile(path_.string(), "collector", cmd_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("collector.prot"), std::string::npos);
}

TEST_F(ConfigFileTest, BadValueNamesTheKey) {
  Write("collector:\n  port: not-a-number\n");
  Parse({});
  Status s = ApplyConfigFile(path_.string(), "collector", cmd_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("collector.port"), std::string::npos);
}

TEST_F(ConfigFileTest, MissingFileIsNotFound) {
  Parse({});
  EXPECT_EQ(ApplyConfigFile("/nonexistent/furrow.yaml", "collector", cmd_).code(), StatusCode::kNotFound);
}

TEST_F(ConfigFileTest, MalformedYamlIsInvalid) {
  Write("collector: [unclosed\n");
  Parse({});
  EXPECT_EQ(ApplyConfigFile(path_.string(), "collector", cmd_).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace furrow::app
