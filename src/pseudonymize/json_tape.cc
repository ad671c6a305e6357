// RapidJSON scans strings and whitespace 16 bytes at a time when told the CPU has
// SSE2 (every x86-64 CPU does).
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include "pseudonymize/json_tape.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

namespace furrow::pseudonymize {

struct TapeHandler {
  JsonTape* tape;

  bool Add(JsonToken::Type type, const char* data = nullptr, size_t size = 0) {
    if (tape->size_ == tape->tokens_.size()) tape->tokens_.resize(tape->tokens_.size() * 2 + 256);
    tape->tokens_[tape->size_++] = JsonToken{type, 0, data, static_cast<uint32_t>(size)};
    return true;
  }
  bool Start(JsonToken::Type type) {
    if (tape->open_.size() >= static_cast<size_t>(JsonTape::kMaxDepth)) return false;
    tape->open_.push_back(static_cast<uint32_t>(tape->size_));
    return Add(type);
  }
  bool End(JsonToken::Type type) {
    uint32_t start = tape->open_.back();
    tape->open_.pop_back();
    tape->tokens_[start].end = static_cast<uint32_t>(tape->size_);
    return Add(type);
  }

  bool Null() { return Add(JsonToken::kNull); }
  bool Bool(bool b) { return Add(b ? JsonToken::kTrue : JsonToken::kFalse); }
  // Unreachable with kParseNumbersAsStringsFlag; present for the handler concept.
  bool Int(int) { return false; }
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return Add(JsonToken::kNumber, s, n); }
  bool String(const char* s, rapidjson::SizeType n, bool) { return Add(JsonToken::kString, s, n); }
  bool Key(const char* s, rapidjson::SizeType n, bool) { return Add(JsonToken::kKey, s, n); }
  bool StartObject() { return Start(JsonToken::kStartObject); }
  bool EndObject(rapidjson::SizeType) { return End(JsonToken::kEndObject); }
  bool StartArray() { return Start(JsonToken::kStartArray); }
  bool EndArray(rapidjson::SizeType) { return End(JsonToken::kEndArray); }
};

Status JsonTape::Parse(std::string_view text) {
  if (text.size() >= UINT32_MAX) return InvalidArgumentError("JSON text larger than 4 GiB");
  buffer_.assign(text.data(), text.size());
  // RapidJSON's SSE2 scanning reads aligned 16-byte blocks, possibly past the
  // terminating NUL; the padding keeps those reads inside the buffer.
  buffer_.append(16, '\0');
  size_ = 0;
  open_.clear();
  TapeHandler handler{this};
  rapidjson::InsituStringStream stream(buffer_.data());
  rapidjson::Reader reader;
  // The recursive parser is faster than the iterative one, and its recursion is
  // bounded: StartObject/StartArray refuse to go deeper than kMaxDepth.
  constexpr unsigned kFlags = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult r = reader.Parse<kFlags>(stream, handler);
  if (r.IsError()) {
    size_ = 0;
    if (r.Code() == rapidjson::kParseErrorTermination) {
      return InvalidArgumentError("JSON nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    return InvalidArgumentError(std::string("invalid JSON: ") + rapidjson::GetParseError_En(r.Code()) +
                                " at offset " + std::to_string(r.Offset()));
  }
  // The in-situ stream stops at the first NUL; anything after it is not JSON.
  if (stream.Tell() < text.size()) {
    size_t rest = stream.Tell();
    while (rest < text.size() && (text[rest] == ' ' || text[rest] == '\t' || text[rest] == '\r' ||
                                  text[rest] == '\n')) {
      ++rest;
    }
    if (rest < text.size()) {
      size_ = 0;
      return InvalidArgumentError("invalid JSON: content after the root value at offset " +
                                  std::to_string(rest));
    }
  }
  return Status::Ok();
}

}  // namespace furrow::pseudonymize
