#include "app/lake.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

namespace furrow::app {
namespace {

namespace fs = std::filesystem;

storage::EnvironmentLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "furrow-lake-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(LakeTest, EmptyLakeIsTheDataDirectorysLake) {
  auto lake = OpenLake("", dir_.string(), {}, Env({}));
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  EXPECT_EQ((*lake)->Describe(), (dir_ / "lake").lexically_normal().string());
  ASSERT_TRUE((*lake)->Put("output/x", "1", {}).ok());
  EXPECT_TRUE(fs::exists(dir_ / "lake/output/x"));
}

TEST_F(LakeTest, APathIsALocalLake) {
  auto lake = OpenLake((dir_ / "elsewhere").string(), "/unused", {}, Env({}));
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  ASSERT_TRUE((*lake)->Put("pings/p", "1", {}).ok());
  EXPECT_TRUE(fs::exists(dir_ / "elsewhere/pings/p"));
}

TEST_F(LakeTest, AnS3UrlIsAnS3LakeBelowThePrefix) {
  LakeOptions options;
  options.s3_endpoint = "http://127.0.0.1:9";
  auto lake = OpenLake("s3://bucket/events/prod/", dir_.string(), options,
                       Env({{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}}));
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  EXPECT_EQ((*lake)->Describe(), "s3://bucket/events/prod");
  EXPECT_FALSE(fs::exists(dir_ / "lake"));
}

TEST_F(LakeTest, S3WithoutCredentialsFailsBeforeAnyWrite) {
  auto lake = OpenLake("s3://bucket", dir_.string(), {}, Env({{"HOME", dir_.string()}}));
  EXPECT_EQ(lake.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(LakeTest, RejectsUnknownSchemesAndStyles) {
  EXPECT_EQ(OpenLake("gs://bucket/x", dir_.string(), {}, Env({})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenLake("s3://", dir_.string(), {}, Env({})).status().code(),
            StatusCode::kInvalidArgument);
  LakeOptions options;
  options.s3_addressing_style = "sideways";
  EXPECT_EQ(OpenLake("s3://b", dir_.string(), options,
                     Env({{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}}))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace furrow::app
