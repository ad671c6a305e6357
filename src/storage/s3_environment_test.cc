#include "storage/s3_environment.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace furrow::storage {
namespace {

namespace fs = std::filesystem;

EnvironmentLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class TempHome {
 public:
  TempHome() {
    std::string pattern = (fs::temp_directory_path() / "furrow-s3env-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  ~TempHome() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path Write(const std::string& relative, const std::string& text) {
    fs::path p = path_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(S3EnvironmentTest, ParsesS3Urls) {
  Result<S3Location> a = ParseS3Url("s3://bucket");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->bucket, "bucket");
  EXPECT_EQ(a->prefix, "");
  Result<S3Location> b = ParseS3Url("s3://my.bucket/events/prod/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->bucket, "my.bucket");
  EXPECT_EQ(b->prefix, "events/prod");
  for (const char* bad : {"s3://", "s3:///x", "http://b/x", "s3://b/../x", "s3://b/a//c",
                          "s3://b u/x"}) {
    EXPECT_EQ(ParseS3Url(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(S3EnvironmentTest, EnvironmentCredentialsRegionAndEndpoint) {
  Result<S3Options> options = ResolveS3Options(
      {"b", "p"}, {},
      FakeEnv({{"AWS_ACCESS_KEY_ID", "AKID"},
               {"AWS_SECRET_ACCESS_KEY", "SECRET"},
               {"AWS_SESSION_TOKEN", "TOKEN"},
               {"AWS_DEFAULT_REGION", "eu-west-3"},
               {"AWS_ENDPOINT_URL", "http://generic:1"},
               {"AWS_ENDPOINT_URL_S3", "http://s3-specific:2"}}));
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->bucket, "b");
  EXPECT_EQ(options->key_prefix, "p");
  EXPECT_EQ(options->credentials.access_key_id, "AKID");
  EXPECT_EQ(options->credentials.secret_access_key, "SECRET");
  EXPECT_EQ(options->credentials.session_token, "TOKEN");
  EXPECT_EQ(options->region, "eu-west-3");
  EXPECT_EQ(options->endpoint, "http://s3-specific:2");
}

TEST(S3EnvironmentTest, SettingsWinOverEnvironment) {
  Result<S3Options> options = ResolveS3Options(
      {"b", ""}, {"ap-south-1", "http://configured:9", S3AddressingStyle::kPath},
      FakeEnv({{"AWS_ACCESS_KEY_ID", "A"},
               {"AWS_SECRET_ACCESS_KEY", "S"},
               {"AWS_REGION", "us-west-2"},
               {"AWS_ENDPOINT_URL", "http://env:1"}}));
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->region, "ap-south-1");
  EXPECT_EQ(options->endpoint, "http://configured:9");
  EXPECT_EQ(options->addressing_style, S3AddressingStyle::kPath);
}

TEST(S3EnvironmentTest, DefaultsToUsEast1AndAws) {
  Result<S3Options> options = ResolveS3Options(
      {"b", ""}, {}, FakeEnv({{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}}));
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->region, "us-east-1");
  EXPECT_EQ(options->endpoint, "");
}

TEST(S3EnvironmentTest, HalfSetEnvironmentCredentialsAreRejected) {
  Result<S3Options> options =
      ResolveS3Options({"b", ""}, {}, FakeEnv({{"AWS_ACCESS_KEY_ID", "A"}}));
  EXPECT_EQ(options.status().code(), StatusCode::kInvalidArgument);
}

TEST(S3EnvironmentTest, ReadsTheSharedCredentialsFileProfile) {
  TempHome home;
  home.Write(".aws/credentials",
             "# comment\n[default]\naws_access_key_id = DEFAULTID\n"
             "aws_secret_access_key = DEFAULTSECRET\n\n"
             "[ci]\naws_access_key_id=CIID\naws_secret_access_key=CISECRET\n"
             "aws_session_token=CITOKEN\n");
  Result<S3Options> by_default =
      ResolveS3Options({"b", ""}, {}, FakeEnv({{"HOME", home.path().string()}}));
  ASSERT_TRUE(by_default.ok()) << by_default.status().ToString();
  EXPECT_EQ(by_default->credentials.access_key_id, "DEFAULTID");
  EXPECT_EQ(by_default->credentials.secret_access_key, "DEFAULTSECRET");
  EXPECT_EQ(by_default->credentials.session_token, "");
  Result<S3Options> ci = ResolveS3Options(
      {"b", ""}, {}, FakeEnv({{"HOME", home.path().string()}, {"AWS_PROFILE", "ci"}}));
  ASSERT_TRUE(ci.ok());
  EXPECT_EQ(ci->credentials.access_key_id, "CIID");
  EXPECT_EQ(ci->credentials.session_token, "CITOKEN");
  Result<S3Options> missing = ResolveS3Options(
      {"b", ""}, {}, FakeEnv({{"HOME", home.path().string()}, {"AWS_PROFILE", "nope"}}));
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("[nope]"), std::string::npos);
}

TEST(S3EnvironmentTest, ExplicitCredentialsFileWinsOverHome) {
  TempHome home;
  home.Write(".aws/credentials", "[default]\naws_access_key_id=HOME\naws_secret_access_key=S\n");
  fs::path other =
      home.Write("elsewhere.ini", "[default]\naws_access_key_id=OTHER\naws_secret_access_key=S\n");
  Result<S3Options> options = ResolveS3Options(
      {"b", ""}, {},
      FakeEnv({{"HOME", home.path().string()}, {"AWS_SHARED_CREDENTIALS_FILE", other.string()}}));
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->credentials.access_key_id, "OTHER");
}

TEST(S3EnvironmentTest, NoCredentialsAnywhereIsAFailedPreconditionWithoutSecrets) {
  TempHome home;
  Result<S3Options> options =
      ResolveS3Options({"b", ""}, {}, FakeEnv({{"HOME", home.path().string()}}));
  EXPECT_EQ(options.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(options.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  home.Write(".aws/credentials", "[default]\naws_access_key_id=ONLYID\n");
  Result<S3Options> partial =
      ResolveS3Options({"b", ""}, {}, FakeEnv({{"HOME", home.path().string()}}));
  EXPECT_EQ(partial.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(partial.status().message().find("ONLYID"), std::string::npos);
}

}  // namespace
}  // namespace furrow::storage
