#include "receiver/version_check.h"

#include <gtest/gtest.h>

namespace furrow::receiver {
namespace {

TEST(VersionCheckTest, ComparesNumerically) {
  EXPECT_LT(CompareVersions("16.9.7", "16.10.2"), 0);
  EXPECT_GT(CompareVersions("17.0.0", "16.11.9"), 0);
  EXPECT_EQ(CompareVersions("16.3", "16.3.0"), 0);
  EXPECT_LT(CompareVersions("12.10.0-pre", "12.10.0"), 0);
}

TEST(VersionCheckTest, DecodesGitlabInfo) {
  // base64 of {"version":"16.3.1"}
  Result<std::string> v = DecodeGitlabInfo("eyJ2ZXJzaW9uIjoiMTYuMy4xIn0=");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, "16.3.1");
  EXPECT_EQ(*DecodeGitlabInfo("eyJ2ZXJzaW9uIjoiMTYuMy4xIn0"), "16.3.1");     // unpadded
  EXPECT_EQ(*DecodeGitlabInfo("eyJ2ZXJzaW9uIjoiMTYuMy4xIn0%3D"), "16.3.1");  // percent-encoded
  EXPECT_FALSE(DecodeGitlabInfo("").ok());
  EXPECT_FALSE(DecodeGitlabInfo("!!!!").ok());
  EXPECT_FALSE(DecodeGitlabInfo("bm90IGpzb24=").ok());  // "not json"
}

std::vector<VersionRow> Versions() {
  return {{"16.1.0", false, false, ""}, {"16.1.5", false, false, ""}, {"16.2.0", true, true, ""},
          {"16.2.1", true, false, ""},  {"16.3.0", false, false, ""}, {"15.11.13", false, false, ""}};
}

TEST(VersionCheckTest, UpToDateIsSuccess) {
  VersionCheck c = CheckVersion("16.3.0", Versions());
  EXPECT_EQ(c.severity, "success");
  EXPECT_EQ(c.latest_version, "16.3.0");
  EXPECT_EQ(c.latest_stable_versions, (std::vector<std::string>{"16.3.0", "16.2.1", "16.1.5"}));
  EXPECT_FALSE(c.critical_vulnerability);
  EXPECT_NE(VersionBadgeSvg(c).find("up-to-date"), std::string::npos);
}

TEST(VersionCheckTest, OlderIsWarningAndCriticalIsDanger) {
  VersionCheck older = CheckVersion("16.1.5", Versions());
  EXPECT_EQ(older.severity, "warning");
  EXPECT_NE(VersionBadgeSvg(older).find("update available"), std::string::npos);
  VersionCheck vulnerable = CheckVersion("16.2.1", Versions());
  EXPECT_EQ(vulnerable.severity, "warning");
  VersionCheck critical = CheckVersion("16.2.0", Versions());
  EXPECT_EQ(critical.severity, "danger");
  EXPECT_TRUE(critical.critical_vulnerability);
  EXPECT_NE(VersionBadgeSvg(critical).find("update asap"), std::string::npos);
  EXPECT_NE(VersionCheckJson(critical).find("\"critical_vulnerability\":true"), std::string::npos);
}

}  // namespace
}  // namespace furrow::receiver
