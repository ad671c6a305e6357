// The enrich journal's file format: round trip, atomic replacement, a missing file,
// and every kind of corrupt file rejected as kDataLoss (never asserted, never guessed).
#include "enrich/enrich_journal.h"

#include <fstream>

#include <gtest/gtest.h>

#include "enrich/enrich_test_util.h"

namespace furrow::enrich::testing {
namespace {

EnrichJournal Sample() {
  EnrichJournal j;
  j.input_end.next_offsets = {{0, 1200}};
  j.good.start = 51234;
  j.good.done = {true, false, true, false};
  j.bad.start = 310;
  j.bad.done = {false, false};
  return j;
}

TEST(EnrichJournalTest, EncodesTheDocumentedFormat) {
  EXPECT_EQ(EncodeEnrichJournal(Sample()),
            "furrow-enrich-journal 1\n"
            "input 0:1200\n"
            "good 51234 4 2 0 2\n"
            "bad 310 2 0\n");
}

TEST(EnrichJournalTest, RoundTripsThroughTheFile) {
  TempDir dir;
  std::string path = (dir.path() / "enrich.journal").string();
  auto missing = ReadEnrichJournal(path);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());

  EnrichJournal j = Sample();
  j.input_end.next_offsets.push_back({3, 7});
  ASSERT_TRUE(WriteEnrichJournal(path, j).ok());
  j.good.done = {true, true, true, true};  // replaced, not appended
  ASSERT_TRUE(WriteEnrichJournal(path, j).ok());
  auto read = ReadEnrichJournal(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_TRUE(read->has_value());
  const EnrichJournal& got = **read;
  EXPECT_EQ(got.input_end.next_offsets, j.input_end.next_offsets);
  EXPECT_EQ(got.good, j.good);
  EXPECT_EQ(got.bad, j.bad);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(EnrichJournalTest, RejectsCorruptJournalsAsDataLoss) {
  const std::string good_tail = "good 5 2 0\nbad 6 1 0\n";
  const std::vector<std::string> corrupt = {
      "",
      "furrow-enrich-journal 1\n",                                   // truncated
      "furrow-enrich-journal 2\ninput 0:1\n" + good_tail,            // unknown version
      "furrow-enrich-journal 1\ninput 0:1\ngood 5 2 0\n",            // bad line missing
      "furrow-enrich-journal 1\ninput 0:1\n" + good_tail + "x\n",    // trailing line
      "furrow-enrich-journal 1\ninput 0:1\ngood 5 2 0\nbad 6 1 0",   // no final newline
      "furrow-enrich-journal 1\ninput 0-1\n" + good_tail,            // bad position
      "furrow-enrich-journal 1\ninput 0:x\n" + good_tail,
      "furrow-enrich-journal 1\ninput 9999999999:1\n" + good_tail,   // partition overflow
      "furrow-enrich-journal 1\ninput 0:1\ngood 5 2 1 2\nbad 6 1 0\n",    // index >= total
      "furrow-enrich-journal 1\ninput 0:1\ngood 5 3 2 1 0\nbad 6 1 0\n",  // not ascending
      "furrow-enrich-journal 1\ninput 0:1\ngood 5 3 2 1\nbad 6 1 0\n",    // fewer than D
      "furrow-enrich-journal 1\ninput 0:1\ngood 5 2 3 0 1 1\nbad 6 1 0\n",  // D > TOTAL
      "furrow-enrich-journal 1\ninput 0:1\ngood 5 99999999999 0\nbad 6 1 0\n",  // huge
      "furrow-enrich-journal 1\ninput 0:1\ngood -5 2 0\nbad 6 1 0\n",
      "furrow-enrich-journal 1\ninput 0:1\nbad 6 1 0\ngood 5 2 0\n",  // swapped lines
      "furrow-enrich-journal 1\ninput 0:1\ngood 5  2 0\nbad 6 1 0\n",  // double space
  };
  for (const std::string& text : corrupt) {
    Result<EnrichJournal> parsed = ParseEnrichJournal(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss) << text;
  }
  EXPECT_TRUE(ParseEnrichJournal("furrow-enrich-journal 1\ninput 0:1\n" + good_tail).ok());
}

TEST(EnrichJournalTest, ACorruptFileNamesItsPath) {
  TempDir dir;
  std::string path = (dir.path() / "enrich.journal").string();
  std::ofstream(path) << "furrow-enrich-journal 1\ninput 0:";
  auto read = ReadEnrichJournal(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(read.status().message().find(path), std::string::npos);
}

}  // namespace
}  // namespace furrow::enrich::testing
