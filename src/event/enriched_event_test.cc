#include "event/enriched_event.h"

#include <gtest/gtest.h>

#include <set>

#include "event/tracker_parameters.h"

namespace furrow::event {
namespace {

TEST(EnrichedEventTest, NamesAndIndicesAgree) {
  EXPECT_EQ(kFieldNames[kAppId], "app_id");
  EXPECT_EQ(kFieldNames[kContexts], "contexts");
  EXPECT_EQ(kFieldNames[kUnstructEvent], "unstruct_event");
  EXPECT_EQ(kFieldNames[kUseragent], "useragent");
  EXPECT_EQ(kFieldNames[kDerivedContexts], "derived_contexts");
  EXPECT_EQ(kFieldNames[kTrueTstamp], "true_tstamp");
  EXPECT_EQ(kContexts, 52u);
  EXPECT_EQ(kUnstructEvent, 58u);
  EXPECT_EQ(kDerivedContexts, 122u);
  std::set<std::string_view> unique(kFieldNames.begin(), kFieldNames.end());
  EXPECT_EQ(unique.size(), kFieldCount);
  for (size_t i = 0; i < kFieldCount; ++i) EXPECT_EQ(FieldIndexByName(kFieldNames[i]), i);
  EXPECT_EQ(FieldIndexByName("no_such_field"), std::nullopt);
}

TEST(EnrichedEventTest, OnlyTheThreeJsonColumnsAreJson) {
  size_t json = 0;
  for (size_t i = 0; i < kFieldCount; ++i) json += IsJsonField(i) ? 1 : 0;
  EXPECT_EQ(json, 3u);
  EXPECT_TRUE(IsJsonField(kContexts));
  EXPECT_FALSE(IsJsonField(kPageUrl));
}

TEST(EnrichedEventTest, SplitAndJoinRoundTrip) {
  EnrichedEvent e;
  e[kAppId] = "shop";
  e[kEvent] = "page_view";
  e[kTrueTstamp] = "2026-01-01 00:00:00.000";
  std::string line = e.ToTsv();
  auto fields = SplitTsv(line);
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  EXPECT_EQ((*fields)[kAppId], "shop");
  EXPECT_EQ((*fields)[kEvent], "page_view");
  EXPECT_EQ((*fields)[kPlatform], "");
  EXPECT_EQ((*fields)[kTrueTstamp], "2026-01-01 00:00:00.000");
  EXPECT_EQ(JoinTsv(*fields), line);
}

TEST(EnrichedEventTest, SplitFindsTabsAtEveryPosition) {
  // Field lengths 0..40 put tabs at every offset of the 16-byte scanning blocks.
  for (size_t shift = 0; shift < 17; ++shift) {
    EnrichedEvent e;
    for (size_t i = 0; i < kFieldCount; ++i) e[i] = std::string((i * 7 + shift) % 41, 'a' + i % 26);
    std::string line = e.ToTsv();
    auto fields = SplitTsv(line);
    ASSERT_TRUE(fields.ok()) << shift;
    for (size_t i = 0; i < kFieldCount; ++i) ASSERT_EQ((*fields)[i], e[i]) << shift << " " << i;
    EXPECT_FALSE(SplitTsv(line + "\t").ok());
    EXPECT_FALSE(SplitTsv(line.substr(0, line.rfind('\t'))).ok());
  }
}

TEST(EnrichedEventTest, RejectsWrongFieldCountWithoutQuotingContent) {
  std::string line(129, '\t');  // 130 fields
  line.insert(0, "secret-value");
  auto r = SplitTsv(line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("130"), std::string::npos);
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos);
  EXPECT_FALSE(SplitTsv(std::string(131, '\t')).ok());  // 132 fields
  EXPECT_FALSE(SplitTsv("").ok());
}

TEST(EnrichedEventTest, MakeTsvSafeReplacesTabsAndDropsControls) {
  EXPECT_EQ(MakeTsvSafe("a\tb\nc\r\x01" "d"), "a    bcd");
  EXPECT_EQ(MakeTsvSafe("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(TrackerParametersTest, MapsProtocolParametersToFields) {
  EXPECT_EQ(FindParameter("aid")->field, kAppId);
  EXPECT_EQ(FindParameter("e")->field, kEvent);
  const ParameterMapping* res = FindParameter("res");
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(res->kind, ParameterKind::kSize);
  EXPECT_EQ(res->field, kDvceScreenwidth);
  EXPECT_EQ(res->second_field, kDvceScreenheight);
  EXPECT_EQ(FindParameter("vp")->second_field, kBrViewheight);
  EXPECT_EQ(FindParameter("ds")->field, kDocWidth);
  EXPECT_EQ(FindParameter("f_ag")->field, kBrFeaturesSilverlight);
  EXPECT_EQ(FindParameter("cookie")->field, kBrCookies);
  EXPECT_EQ(FindParameter("ue_px")->kind, ParameterKind::kJsonBase64Url);
  EXPECT_EQ(FindParameter("ue_pr")->field, kUnstructEvent);
  EXPECT_EQ(FindParameter("cx")->field, kContexts);
  EXPECT_EQ(FindParameter("dtm")->field, kDvceCreatedTstamp);
  EXPECT_EQ(FindParameter("stm")->field, kDvceSentTstamp);
  EXPECT_EQ(FindParameter("ttm")->field, kTrueTstamp);
  EXPECT_EQ(FindParameter("tnuid")->field, kNetworkUserid);
  EXPECT_EQ(FindParameter("se_va")->field, kSeValue);
  EXPECT_EQ(FindParameter("ti_qu")->field, kTiQuantity);
  EXPECT_EQ(FindParameter("pp_may")->field, kPpYoffsetMax);
  EXPECT_EQ(FindParameter("tr_cu")->field, kTrCurrency);
  EXPECT_EQ(FindParameter("unknown"), nullptr);
  for (const auto& p : AllParameters()) EXPECT_EQ(FindParameter(p.parameter), &p);
}

}  // namespace
}  // namespace furrow::event
