#include "stream/record_format.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "stream/crc32c.h"

namespace furrow::stream {
namespace {

// A temporary file holding `bytes`, removed on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& bytes) {
    char name[] = "/tmp/furrow-record-format-XXXXXX";
    fd_ = ::mkstemp(name);
    path_ = name;
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  ~TempFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string path_;
};

std::string Segment(const std::vector<std::string>& payloads, uint64_t first_offset = 0) {
  std::string bytes(kSegmentMagic, kSegmentHeaderBytes);
  for (size_t i = 0; i < payloads.size(); ++i) {
    AppendFramedRecord(&bytes, first_offset + i, 1700000000000 + static_cast<int64_t>(i), payloads[i]);
  }
  return bytes;
}

TEST(RecordFormatTest, HeaderLayoutIsLittleEndianAndCrcCoversHeaderTailAndPayload) {
  std::string framed;
  AppendFramedRecord(&framed, 0x0102030405060708ull, 0x1112131415161718ll, "abc");
  ASSERT_EQ(framed.size(), kRecordHeaderBytes + 3);
  EXPECT_EQ(framed.substr(4, 4), std::string("\x03\x00\x00\x00", 4));
  EXPECT_EQ(framed.substr(8, 8), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(framed.substr(16, 8), std::string("\x18\x17\x16\x15\x14\x13\x12\x11", 8));
  EXPECT_EQ(framed.substr(24), "abc");
  RecordHeader h = DecodeRecordHeader(framed.data());
  EXPECT_EQ(h.length, 3u);
  EXPECT_EQ(h.offset, 0x0102030405060708ull);
  EXPECT_EQ(h.timestamp_ms, 0x1112131415161718ll);
  EXPECT_EQ(h.crc, Crc32c(framed.data() + 4, framed.size() - 4));
}

TEST(RecordFormatTest, ScannerRoundTripsRecordsOfManySizes) {
  std::vector<std::string> payloads;
  for (size_t size : {0, 1, 23, 24, 25, 4096, 70000, 3 << 20}) {
    payloads.push_back(std::string(size, static_cast<char>('a' + size % 26)));
  }
  std::string bytes = Segment(payloads, 100);
  TempFile file(bytes);
  ASSERT_TRUE(CheckSegmentMagic(file.fd()).ok());
  // A small chunk forces refills and records larger than the chunk.
  SegmentScanner scanner(file.fd(), kSegmentHeaderBytes, bytes.size(), 100, 4 << 20, 4096);
  RecordHeader header;
  std::string_view payload;
  for (size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_TRUE(scanner.Next(&header, &payload)) << i << " " << ScanStopName(scanner.stop());
    EXPECT_EQ(header.offset, 100 + i);
    EXPECT_EQ(header.timestamp_ms, 1700000000000 + static_cast<int64_t>(i));
    EXPECT_EQ(payload, payloads[i]);
  }
  EXPECT_FALSE(scanner.Next(&header, &payload));
  EXPECT_EQ(scanner.stop(), ScanStop::kEnd);
  EXPECT_EQ(scanner.position(), bytes.size());
  EXPECT_EQ(scanner.next_offset(), 100 + payloads.size());
}


TEST(RecordFormatTest, ScannerStopsAtTornOrCorruptTail) {
  std::string good = Segment({"first", "second"});
  std::string all = Segment({"first", "second", "third record"});
  const size_t last_start = good.size();
  struct Case {
    std::string bytes;
    ScanStop stop;
  };
  std::vector<Case> cases;
  cases.push_back({all.substr(0, last_start + 10), ScanStop::kPartialHeader});
  cases.push_back({all.substr(0, last_start + kRecordHeaderBytes + 4), ScanStop::kPartialPayload});
  std::string flipped_crc = all;
  flipped_crc[last_start] ^= 0x01;
  cases.push_back({flipped_crc, ScanStop::kBadCrc});
  std::string flipped_payload = all;
  flipped_payload[all.size() - 1] ^= 0x40;
  cases.push_back({flipped_payload, ScanStop::kBadCrc});
  std::string zeros = good + std::string(100, '\0');
  cases.push_back({zeros, ScanStop::kBadCrc});
  std::string huge = all;
  huge[last_start + 7] = '\x7f';  // length ~2 GB
  cases.push_back({huge, ScanStop::kTooLarge});

  for (const Case& c : cases) {
    TempFile file(c.bytes);
    SegmentScanner scanner(file.fd(), kSegmentHeaderBytes, c.bytes.size(), 0, 1 << 20);
    RecordHeader header;
    std::string_view payload;
    int records = 0;
    while (scanner.Next(&header, &payload)) ++records;
    EXPECT_EQ(records, 2);
    EXPECT_EQ(scanner.stop(), c.stop) << ScanStopName(scanner.stop());
    EXPECT_EQ(scanner.position(), last_start);
    EXPECT_EQ(scanner.next_offset(), 2u);
  }
}

TEST(RecordFormatTest, ScannerRejectsUnexpectedOffset) {
  std::string bytes = Segment({"a", "b"}, 5);
  TempFile file(bytes);
  SegmentScanner scanner(file.fd(), kSegmentHeaderBytes, bytes.size(), 4, 1 << 20);
  RecordHeader header;
  std::string_view payload;
  EXPECT_FALSE(scanner.Next(&header, &payload));
  EXPECT_EQ(scanner.stop(), ScanStop::kBadOffset);
  EXPECT_EQ(scanner.position(), kSegmentHeaderBytes);
}

TEST(RecordFormatTest, MagicCheckRejectsShortAndForeignFiles) {
  TempFile empty("");
  EXPECT_EQ(CheckSegmentMagic(empty.fd()).code(), StatusCode::kDataLoss);
  TempFile short_file("FURR");
  EXPECT_EQ(CheckSegmentMagic(short_file.fd()).code(), StatusCode::kDataLoss);
  TempFile foreign("NOTFURROW");
  EXPECT_EQ(CheckSegmentMagic(foreign.fd()).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace furrow::stream
