// JsonTape: a JSON text parsed into a flat list of tokens, in document order, whose
// strings point into the (unescaped in place) text. Numbers keep their exact text,
// so a value that passes through unchanged is byte-identical. Every start token
// records the index of its matching end token, so a reader can look ahead at an
// object's members (e.g. find "schema" before walking "data") and skip subtrees.
//
//   JsonTape tape;
//   Status s = tape.Parse(text);   // copies `text`; invalid JSON is kInvalidArgument
//
// Parsing uses RapidJSON's SAX reader; nesting beyond kMaxDepth is refused by the
// handler before the reader recurses further, so hostile input cannot exhaust the
// stack. A tape is reused between parses to
// keep allocations off the hot path. Not safe for concurrent use.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace furrow::pseudonymize {

struct JsonToken {
  enum Type : uint8_t {
    kNull, kFalse, kTrue, kNumber, kString, kKey,
    kStartObject, kEndObject, kStartArray, kEndArray,
  };
  Type type;
  uint32_t end;  // for kStartObject/kStartArray: the index of the matching end token
  const char* data;
  uint32_t size;
  std::string_view text() const { return std::string_view(data, size); }
};

class JsonTape {
 public:
  static constexpr int kMaxDepth = 128;

  Status Parse(std::string_view text);
  std::span<const JsonToken> tokens() const { return std::span<const JsonToken>(tokens_.data(), size_); }
  const JsonToken& operator[](size_t i) const { return tokens_[i]; }
  // The index just past the value starting at `i`.
  size_t Skip(size_t i) const {
    const JsonToken& t = tokens_[i];
    return (t.type == JsonToken::kStartObject || t.type == JsonToken::kStartArray) ? t.end + 1 : i + 1;
  }

 private:
  friend struct TapeHandler;
  std::string buffer_;
  std::vector<JsonToken> tokens_;  // grown by hand; the first size_ are in use
  size_t size_ = 0;
  std::vector<uint32_t> open_;
};

}  // namespace furrow::pseudonymize
