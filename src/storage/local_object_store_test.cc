#include "storage/local_object_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace furrow::storage {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "furrow-local-store-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<std::string> Keys(ObjectStore& store, std::string_view prefix) {
  Result<std::vector<ObjectInfo>> listed = store.List(prefix);
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> keys;
  if (listed.ok()) {
    for (const ObjectInfo& info : *listed) keys.push_back(info.key);
  }
  return keys;
}

std::unique_ptr<LocalObjectStore> OpenStore(const fs::path& root) {
  auto store = LocalObjectStore::Open(root);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(LocalObjectStoreTest, PutThenGetReturnsTheBytes) {
  TempDir dir;
  auto store = OpenStore(dir.path() / "lake");
  ASSERT_NE(store, nullptr);
  std::string bytes("line one\nline two\n\0binary", 25);
  ASSERT_TRUE(store->Put("output/2026/11/25/part-1.tsv", bytes, {}).ok());
  Result<std::string> got = store->Get("output/2026/11/25/part-1.tsv");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, bytes);
  // The object is a plain file under the root, readable by other tools.
  std::ifstream in(dir.path() / "lake/output/2026/11/25/part-1.tsv", std::ios::binary);
  std::string on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk, bytes);
}

TEST(LocalObjectStoreTest, HeadReturnsSizeAndMetadata) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ObjectMetadata metadata{{"key-id", "k2026-11"}, {"stream-range", "raw-good:0-41"}};
  ASSERT_TRUE(store->Put("a/b.gz", "12345", metadata).ok());
  Result<ObjectInfo> info = store->Head("a/b.gz");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->key, "a/b.gz");
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->metadata, metadata);
}

TEST(LocalObjectStoreTest, OverwriteWithoutMetadataDropsOldMetadata) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("k", "one", {{"a", "1"}}).ok());
  ASSERT_TRUE(store->Put("k", "two!", {}).ok());
  Result<ObjectInfo> info = store->Head("k");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 4u);
  EXPECT_TRUE(info->metadata.empty());
}

TEST(LocalObjectStoreTest, MissingObjectIsNotFound) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("nope/x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Head("nope/x").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->Put("dir/x", "1", {}).ok());
  // A directory is not an object.
  EXPECT_EQ(store->Get("dir").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Head("dir").status().code(), StatusCode::kNotFound);
}

TEST(LocalObjectStoreTest, DeleteRemovesObjectAndMetadataAndIgnoresMissing) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("p/k", "data", {{"a", "1"}}).ok());
  ASSERT_TRUE(store->Delete("p/k").ok());
  EXPECT_EQ(store->Get("p/k").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir.path() / "p/.meta.k"));
  EXPECT_TRUE(store->Delete("p/k").ok());
  EXPECT_TRUE(store->Delete("never/was").ok());
}

TEST(LocalObjectStoreTest, ListIsSortedFilteredByPrefixAndHidesInternalFiles) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  for (const char* key : {"output/b/2", "output/a/1", "output/a-x", "raw-bad/1", "outputs/9"}) {
    ASSERT_TRUE(store->Put(key, key, {{"m", "v"}}).ok());
  }
  WriteFile(dir.path() / "output/a/.tmp.1.partial", "half");
  EXPECT_EQ(Keys(*store, "output/"),
            (std::vector<std::string>{"output/a-x", "output/a/1", "output/b/2"}));
  EXPECT_EQ(Keys(*store, "output"),
            (std::vector<std::string>{"output/a-x", "output/a/1", "output/b/2", "outputs/9"}));
  EXPECT_EQ(Keys(*store, "output/a"), (std::vector<std::string>{"output/a-x", "output/a/1"}));
  EXPECT_EQ(Keys(*store, "nothing/"), std::vector<std::string>{});
  EXPECT_EQ(Keys(*store, "").size(), 5u);
  Result<std::vector<ObjectInfo>> listed = store->List("raw-bad/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].size, 9u);
}

TEST(LocalObjectStoreTest, ForEachStopsAtTheVisitorsError) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("a", "1", {}).ok());
  ASSERT_TRUE(store->Put("b", "2", {}).ok());
  int visited = 0;
  Status s = store->ForEach("", [&visited](const ObjectInfo&) {
    ++visited;
    return ResourceExhaustedError("enough");
  });
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(visited, 1);
}

TEST(LocalObjectStoreTest, PutFileCopiesTheFile) {
  TempDir dir;
  auto store = OpenStore(dir.path() / "lake");
  ASSERT_NE(store, nullptr);
  std::string big(3 * 1024 * 1024 + 17, 'z');
  big[12345] = 'q';
  WriteFile(dir.path() / "upload.bin", big);
  ASSERT_TRUE(store->PutFile("pings/x.bin", dir.path() / "upload.bin", {{"rows", "3"}}).ok());
  Result<std::string> got = store->Get("pings/x.bin");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, big);
  EXPECT_TRUE(fs::exists(dir.path() / "upload.bin"));
  EXPECT_EQ(store->PutFile("pings/y", dir.path() / "missing", {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Head("pings/y").status().code(), StatusCode::kNotFound);
}

TEST(LocalObjectStoreTest, RejectsInvalidKeysAndMetadata) {
  TempDir dir;
  auto store = OpenStore(dir.path() / "lake");
  ASSERT_NE(store, nullptr);
  for (const char* key : {"", "/abs", "a//b", "a/", "../escape", "a/../b", ".hidden", "a/.b"}) {
    EXPECT_EQ(store->Put(key, "x", {}).code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store->Get(key).status().code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(store->Put("ok", "x", {{"Upper", "v"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Put("ok", "x", {{"a", "line\nbreak"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Put(std::string(kMaxLocalSegmentBytes + 1, 'a'), "x", {}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir.path() / "escape"));
  EXPECT_EQ(Keys(*store, ""), std::vector<std::string>{});
}

TEST(LocalObjectStoreTest, KeyThatIsBothObjectAndDirectoryFailsCleanly) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("a", "file", {}).ok());
  EXPECT_EQ(store->Put("a/b", "x", {}).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Put("c/d", "x", {}).ok());
  EXPECT_EQ(store->Put("c", "x", {}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Keys(*store, ""), (std::vector<std::string>{"a", "c/d"}));
}

TEST(LocalObjectStoreTest, CorruptMetadataIsDataLoss) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("d/k", "x", {{"a", "1"}}).ok());
  WriteFile(dir.path() / "d/.meta.k", "{not json");
  EXPECT_EQ(store->Head("d/k").status().code(), StatusCode::kDataLoss);
}

TEST(LocalObjectStoreTest, OpenRemovesTemporariesOfDeadProcessesOnly) {
  TempDir dir;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  fs::create_directories(dir.path() / "output/x");
  fs::path dead = dir.path() / "output/x" / (".tmp." + std::to_string(child) + ".0123");
  fs::path mine = dir.path() / (".tmp." + std::to_string(::getpid()) + ".4567");
  fs::path live = dir.path() / (".tmp." + std::to_string(::getppid()) + ".89ab");
  WriteFile(dead, "partial");
  WriteFile(mine, "partial");
  WriteFile(live, "in progress elsewhere");
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(mine));
  EXPECT_TRUE(fs::exists(live));
}

// A reader racing a writer sees the previous object or the whole new one: every
// object written here names its own length and fill byte, so a torn read shows.
TEST(LocalObjectStoreTest, ConcurrentReadersNeverSeePartialObjects) {
  TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  auto make = [](int i) {
    size_t size = 64 * 1024 + static_cast<size_t>(i) * 997;
    std::string header = std::to_string(size) + ":";
    std::string body(size - header.size(), static_cast<char>('a' + i % 26));
    return header + body;
  };
  constexpr int kWrites = 60;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        Result<std::string> got = store->Get("hot/object");
        if (got.ok()) {
          ++reads;
          const std::string& s = *got;
          size_t colon = s.find(':');
          bool whole = colon != std::string::npos && std::to_string(s.size()) == s.substr(0, colon);
          for (size_t i = colon + 1; whole && i < s.size(); ++i) whole = s[i] == s[colon + 1];
          if (!whole) ++bad;
        } else if (got.status().code() != StatusCode::kNotFound) {
          ++bad;
        }
        Result<std::vector<ObjectInfo>> listed = store->List("hot/");
        if (!listed.ok()) {
          ++bad;
        } else {
          for (const ObjectInfo& info : *listed) {
            if (info.key != "hot/object") ++bad;
          }
        }
      }
    });
  }
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(store->Put("hot/object", make(i), {{"n", std::to_string(i)}}).ok());
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  Result<std::string> last = store->Get("hot/object");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, make(kWrites - 1));
  // No temporary file is left behind.
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir.path() / "hot")) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 2);  // the object and its metadata sidecar
}

}  // namespace
}  // namespace furrow::storage
