#include "enrich/enrich_journal.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/durable_file.h"

namespace furrow::enrich {
namespace {

constexpr std::string_view kMagic = "furrow-enrich-journal 1";

// Splits `text` at `sep`, keeping empty pieces.
std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t at = text.find(sep);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

bool ParseNumber(std::string_view text, uint64_t* value) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

Status Corrupt(std::string_view what) {
  return DataLossError("enrich journal is corrupt: " + std::string(what));
}

void EncodeOutput(std::string_view name, const OutputJournal& output, std::string* out) {
  std::string indices;
  uint64_t count = 0;
  for (size_t i = 0; i < output.done.size(); ++i) {
    if (!output.done[i]) continue;
    indices += " " + std::to_string(i);
    ++count;
  }
  *out += std::string(name) + " " + std::to_string(output.start) + " " +
          std::to_string(output.done.size()) + " " + std::to_string(count) + indices + "\n";
}

Result<OutputJournal> ParseOutput(std::string_view line, std::string_view name) {
  std::vector<std::string_view> fields = Split(line, ' ');
  uint64_t start = 0, total = 0, count = 0;
  if (fields.size() < 4 || fields[0] != name || !ParseNumber(fields[1], &start) ||
      !ParseNumber(fields[2], &total) || !ParseNumber(fields[3], &count)) {
    return Corrupt("bad " + std::string(name) + " line");
  }
  if (total > kMaxJournalOutputs || count > total || fields.size() != 4 + count) {
    return Corrupt("bad " + std::string(name) + " counts");
  }
  OutputJournal output;
  output.start = start;
  output.done.assign(total, false);
  uint64_t previous = 0;
  for (uint64_t k = 0; k < count; ++k) {
    uint64_t index = 0;
    if (!ParseNumber(fields[4 + k], &index) || index >= total || (k > 0 && index <= previous)) {
      return Corrupt("bad " + std::string(name) + " index");
    }
    output.done[index] = true;
    previous = index;
  }
  return output;
}

}  // namespace

std::string EncodeEnrichJournal(const EnrichJournal& journal) {
  std::string out(kMagic);
  out += "\ninput ";
  bool first = true;
  for (const auto& [partition, offset] : journal.input_end.next_offsets) {
    if (!first) out += ',';
    first = false;
    out += std::to_string(partition) + ":" + std::to_string(offset);
  }
  out += "\n";
  EncodeOutput("good", journal.good, &out);
  EncodeOutput("bad", journal.bad, &out);
  return out;
}

Result<EnrichJournal> ParseEnrichJournal(std::string_view text) {
  std::vector<std::string_view> lines = Split(text, '\n');
  // Four lines, each ended by '\n': Split leaves an empty piece after the last one.
  if (lines.size() != 5 || !lines[4].empty()) return Corrupt("expected four lines");
  if (lines[0] != kMagic) return Corrupt("unknown magic or version");
  if (lines[1].substr(0, 6) != "input ") return Corrupt("bad input line");
  EnrichJournal journal;
  for (std::string_view item : Split(lines[1].substr(6), ',')) {
    size_t colon = item.find(':');
    uint64_t partition = 0, offset = 0;
    if (colon == std::string_view::npos || !ParseNumber(item.substr(0, colon), &partition) ||
        partition > INT32_MAX || !ParseNumber(item.substr(colon + 1), &offset)) {
      return Corrupt("bad input position");
    }
    journal.input_end.next_offsets.emplace_back(static_cast<int32_t>(partition), offset);
  }
  FURROW_ASSIGN_OR_RETURN(journal.good, ParseOutput(lines[2], "good"));
  FURROW_ASSIGN_OR_RETURN(journal.bad, ParseOutput(lines[3], "bad"));
  return journal;
}

Result<std::optional<EnrichJournal>> ReadEnrichJournal(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return IoError("stat " + path + ": " + ec.message());
    return std::optional<EnrichJournal>();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("read " + path);
  Result<EnrichJournal> journal = ParseEnrichJournal(text.str());
  if (!journal.ok()) return journal.status().WithContext(path);
  return std::optional<EnrichJournal>(std::move(*journal));
}

Status WriteEnrichJournal(const std::string& path, const EnrichJournal& journal) {
  return WriteFileAtomically(path, EncodeEnrichJournal(journal));
}

}  // namespace furrow::enrich
