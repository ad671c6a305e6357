#include "pseudonymize/key_ring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>

namespace furrow::pseudonymize {
namespace {

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/furrow-keyring-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path Write(const std::string& name, const std::string& content) {
    std::filesystem::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  std::filesystem::path dir_;
};

EnvLookup NoEnv() {
  return [](const char*) { return std::optional<std::string>(); };
}

TEST_F(KeyRingTest, KeyFileDropsExactlyOneTrailingNewline) {
  auto one = KeyRing::FromKeyFile(Write("one", "secret\n"));
  auto bare = KeyRing::FromKeyBytes("secret");
  auto two = KeyRing::FromKeyFile(Write("two", "secret\n\n"));
  ASSERT_TRUE(one.ok() && bare.ok() && two.ok());
  EXPECT_EQ(one->active().Pseudonymize(ClearValue("v")), bare->active().Pseudonymize(ClearValue("v")));
  EXPECT_FALSE(two->active().Pseudonymize(ClearValue("v")) == bare->active().Pseudonymize(ClearValue("v")));
  EXPECT_EQ(one->active_id(), bare->active_id());
  EXPECT_EQ(one->active_id().size(), 12u);
  EXPECT_NE(one->active_id(), two->active_id());
}

TEST_F(KeyRingTest, MissingOrEmptyKeyIsAClearErrorWithoutContent) {
  auto missing = KeyRing::FromKeyFile(dir_ / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  for (const char* content : {"", "\n"}) {
    auto empty = KeyRing::FromKeyFile(Write("empty", content));
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(KeyRingTest, RingFileHasIdsAndOneActiveKey) {
  Write("old.key", "old-secret\n");
  Write("new.key", "new-secret\n");
  auto ring = KeyRing::FromRingFile(Write("ring.yaml",
      "active: 2026-01\nkeys:\n  - id: 2025-07\n    file: old.key\n  - id: 2026-01\n    file: new.key\n"));
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ(ring->active_id(), "2026-01");
  EXPECT_EQ(ring->ids(), (std::vector<std::string>{"2025-07", "2026-01"}));
  auto fresh = KeyRing::FromKeyBytes("new-secret");
  auto old = KeyRing::FromKeyBytes("old-secret");
  EXPECT_EQ(ring->active().Pseudonymize(ClearValue("v")), fresh->active().Pseudonymize(ClearValue("v")));
  ASSERT_NE(ring->Find("2025-07"), nullptr);
  EXPECT_EQ(ring->Find("2025-07")->Pseudonymize(ClearValue("v")), old->active().Pseudonymize(ClearValue("v")));
  EXPECT_EQ(ring->Find("nope"), nullptr);
}

TEST_F(KeyRingTest, RejectsMalformedRings) {
  Write("k.key", "k\n");
  const char* bad[] = {
      "active: x\nkeys:\n  - id: y\n    file: k.key\n",                   // active not in keys
      "active: x\nkeys: []\n",                                           // no keys
      "active: x\nkeys:\n  - id: 'bad id'\n    file: k.key\n",            // bad id
      "active: x\nkeys:\n  - id: x\n    file: k.key\n  - id: x\n    file: k.key\n",  // dup
      "active: x\nkeys:\n  - id: x\n    file: missing.key\n",             // missing file
      "active: x\nkeys:\n  - id: x\n    file: k.key\n    secret: 1\n",    // unknown key
      "actve: x\nkeys:\n  - id: x\n    file: k.key\n",                   // typo
      "[unclosed",
  };
  for (const char* text : bad) {
    auto ring = KeyRing::FromRingFile(Write("ring.yaml", text));
    EXPECT_FALSE(ring.ok()) << text;
  }
}

TEST_F(KeyRingTest, AKeyFileGivenAsARingIsNotEchoed) {
  auto path = Write("looks-like-yaml.key", "s3cr3t-material: more-s3cr3t\n");
  auto ring = KeyRing::FromRingFile(path);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().message().find("s3cr3t"), std::string::npos) << ring.status().message();
  auto scalar = KeyRing::FromRingFile(Write("plain.key", "s3cr3t-plain\n"));
  ASSERT_FALSE(scalar.ok());
  EXPECT_EQ(scalar.status().message().find("s3cr3t"), std::string::npos);
}

TEST_F(KeyRingTest, PipelineKeyIsCreatedOnceWithMode0600AndThenReused) {
  auto first = LoadOrCreatePipelineKey(dir_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat(PipelineKeyPath(dir_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto bytes = ReadKeyFile(PipelineKeyPath(dir_));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 64u);
  auto second = LoadOrCreatePipelineKey(dir_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->active_id(), second->active_id());
  EXPECT_EQ(first->active().Pseudonymize(ClearValue("v")), second->active().Pseudonymize(ClearValue("v")));
  // Two data directories get different keys.
  auto other = LoadOrCreatePipelineKey(dir_ / "other");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->active_id(), first->active_id());
}

TEST_F(KeyRingTest, LoadKeyRingFollowsPrecedence) {
  auto flag_file = Write("flag.key", "from-flag\n");
  auto env_file = Write("env.key", "from-env\n");
  std::map<std::string, std::string> env = {{kKeyFileEnv, env_file.string()}};
  EnvLookup lookup = [&](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto flag = LoadKeyRing(KeySource{flag_file.string(), "", ""}, lookup);
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->active_id(), KeyRing::FromKeyBytes("from-flag")->active_id());
  auto from_env = LoadKeyRing(KeySource{}, lookup);
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->active_id(), KeyRing::FromKeyBytes("from-env")->active_id());

  auto none = LoadKeyRing(KeySource{}, NoEnv());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("--key-file"), std::string::npos);

  // --data-dir only loads the pipeline's key; it never creates one.
  auto absent = LoadKeyRing(KeySource{"", "", dir_.string()}, NoEnv());
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(PipelineKeyPath(dir_)));
  auto created = LoadOrCreatePipelineKey(dir_);
  ASSERT_TRUE(created.ok());
  auto loaded = LoadKeyRing(KeySource{"", "", dir_.string()}, NoEnv());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->active_id(), created->active_id());
}

}  // namespace
}  // namespace furrow::pseudonymize
