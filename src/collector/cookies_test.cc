#include "collector/cookies.h"

#include <gtest/gtest.h>

namespace furrow::collector {
namespace {

TEST(CookiesTest, FindsNamedCookie) {
  EXPECT_EQ(FindCookie("a=1; sp=abc; b=2", "sp"), "abc");
  EXPECT_EQ(FindCookie("sp=\"quoted\"", "sp"), "quoted");
  EXPECT_EQ(FindCookie("xsp=1; sp=2", "sp"), "2");
  EXPECT_EQ(FindCookie("a=1", "sp"), std::nullopt);
  EXPECT_EQ(FindCookie(";;; =; sp", "sp"), std::nullopt);
  EXPECT_EQ(FindCookie("", "sp"), std::nullopt);
}

TEST(CookiesTest, ExtractsOriginHosts) {
  EXPECT_EQ(OriginHosts("https://www.Example.com:8443"), std::vector<std::string>{"www.example.com"});
  EXPECT_EQ(OriginHosts("http://a.com https://b.org"), (std::vector<std::string>{"a.com", "b.org"}));
  EXPECT_EQ(OriginHosts("https://[::1]:80"), std::vector<std::string>{"::1"});
  EXPECT_TRUE(OriginHosts("null").empty());
  EXPECT_TRUE(OriginHosts("https://").empty());
}

TEST(CookiesTest, SelectsFirstMatchingConfiguredDomain) {
  CookieOptions o;
  o.domains = {"shop.example.com", ".example.com", "acme.org"};
  EXPECT_EQ(SelectCookieDomain(o, "https://shop.example.com"), "shop.example.com");
  EXPECT_EQ(SelectCookieDomain(o, "https://www.example.com"), "example.com");
  EXPECT_EQ(SelectCookieDomain(o, "https://a.b.acme.org"), "acme.org");
  // A suffix that is not a parent domain does not match.
  EXPECT_EQ(SelectCookieDomain(o, "https://badexample.com"), "");
}

TEST(CookiesTest, FallsBackWhenNoDomainMatchesOrNoOrigin) {
  CookieOptions o;
  o.domains = {"example.com"};
  o.fallback_domain = "fallback.net";
  EXPECT_EQ(SelectCookieDomain(o, "https://other.org"), "fallback.net");
  EXPECT_EQ(SelectCookieDomain(o, std::nullopt), "fallback.net");
  CookieOptions none;
  EXPECT_EQ(SelectCookieDomain(none, "https://x.com"), "");
}

TEST(CookiesTest, MatchesAnyOfSeveralOrigins) {
  CookieOptions o;
  o.domains = {"b.org"};
  EXPECT_EQ(SelectCookieDomain(o, "https://a.com https://x.b.org"), "b.org");
}

TEST(CookiesTest, FormatsHttpDate) {
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(1700000000000), "Tue, 14 Nov 2023 22:13:20 GMT");
}

TEST(CookiesTest, BuildsCookieWithAllAttributes) {
  CookieOptions o;
  EXPECT_EQ(BuildSetCookie(o, "id", "example.com", 0),
            "sp=id; Expires=Fri, 01 Jan 1971 00:00:00 GMT; Max-Age=31536000; Path=/; "
            "Domain=example.com; Secure; HttpOnly; SameSite=None");
  o.secure = false;
  o.http_only = false;
  o.same_site.clear();
  o.expiration = std::chrono::seconds(60);
  EXPECT_EQ(BuildSetCookie(o, "id", "", 0),
            "sp=id; Expires=Thu, 01 Jan 1970 00:01:00 GMT; Max-Age=60; Path=/");
}

TEST(CookiesTest, BuildsExpiredCookie) {
  CookieOptions o;
  EXPECT_EQ(BuildExpiredCookie(o, ""),
            "sp=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure; HttpOnly; "
            "SameSite=None");
}

}  // namespace
}  // namespace furrow::collector
