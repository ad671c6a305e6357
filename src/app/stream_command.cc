// `furrow stream list`: every embedded stream with its records, bytes, offsets and
// readers' committed positions.
// `furrow stream dump NAME`: every record of one stream, without moving any reader.
//
// Both read DATA_DIR/streams read-only (stream/file_log_inspect.h), so they are
// safe while a pipeline has the streams open. See docs/stream-log.md.
#include <algorithm>
#include <cstdio>
#include <string>

#include "app/commands.h"
#include "core/json_escape.h"
#include "enrich/tsv_json.h"
#include "core/time_format.h"
#include "stream/file_log.h"
#include "stream/file_log_inspect.h"
#include "stream/log_layout.h"
#include "stream/stream.h"
#include "tracker/collector_payload.h"

namespace furrow::app {
namespace {

struct ListOptions {
  std::string data_dir = "./var";
};

struct DumpOptions {
  std::string data_dir = "./var";
  std::string stream;
  std::string format = "auto";
  std::string reader;
  uint64_t from = 0;
  uint64_t limit = 0;
};

std::string StreamsRoot(const std::string& data_dir) { return data_dir + "/streams"; }

int Fail(const char* command, const Status& s) {
  std::fprintf(stderr, "furrow stream %s: %s\n", command, s.message().c_str());
  return kExitFailure;
}

int RunList(const ListOptions& o) {
  const std::string root = StreamsRoot(o.data_dir);
  auto names = stream::ListStreamNames(root);
  if (!names.ok()) return Fail("list", names.status());
  for (const std::string& name : *names) {
    auto info = stream::InspectStream(root, name);
    if (!info.ok()) return Fail("list", info.status());
    std::printf("%s records=%llu bytes=%llu first_offset=%llu end_offset=%llu\n", name.c_str(),
                static_cast<unsigned long long>(info->records),
                static_cast<unsigned long long>(info->bytes_on_disk),
                static_cast<unsigned long long>(info->first_offset),
                static_cast<unsigned long long>(info->end_offset));
    for (const auto& [reader, position] : info->readers) {
      uint64_t lag = info->end_offset > position ? info->end_offset - position : 0;
      std::printf("  reader=%s committed=%llu lag=%llu\n", reader.c_str(),
                  static_cast<unsigned long long>(position), static_cast<unsigned long long>(lag));
    }
  }
  if (names->empty()) std::fprintf(stderr, "furrow stream list: no streams in %s\n", root.c_str());
  return kExitOk;
}

// The line `--format json` prints for one record, or an error if it cannot be
// decoded.
Result<std::string> JsonLine(const std::string& stream_name, const stream::Record& record) {
  if (stream_name == stream::kRawGood) {
    FURROW_ASSIGN_OR_RETURN(tracker::CollectorPayload payload,
                            tracker::DecodeCollectorPayload(record.payload));
    return tracker::CollectorPayloadToJson(payload);
  }
  if (stream_name == stream::kEnrichedGood) {
    // As the analytics SDKs shape it: field names, contexts expanded.
    return enrich::EnrichedTsvToJsonChecked(record.payload);
  }
  if (stream_name == stream::kRawBad || stream_name == stream::kEnrichedBad) {
    return record.payload;  // bad rows are JSON already
  }
  std::string line = "{\"offset\":" + std::to_string(record.offset) + ",\"timestamp\":";
  AppendJsonString(&line, FormatIso8601Millis(record.timestamp_ms));
  line += ",\"payload\":";
  AppendJsonString(&line, record.payload);
  line += '}';
  return line;
}

int RunDump(const DumpOptions& o) {
  const std::string root = StreamsRoot(o.data_dir);
  uint64_t from = o.from;
  if (!stream::IsValidStreamName(o.stream)) {
    return Fail("dump", InvalidArgumentError("invalid stream name '" + o.stream + "'"));
  }
  if (!o.reader.empty()) {
    if (!stream::IsValidStreamName(o.reader)) {
      return Fail("dump", InvalidArgumentError("invalid reader name '" + o.reader + "'"));
    }
    auto position = stream::ReadReaderPosition(root + "/" + o.stream, o.reader);
    if (!position.ok()) return Fail("dump", position.status());
    from = std::max(from, *position);
  }
  uint64_t printed = 0;
  uint64_t failed = 0;
  bool write_error = false;
  // auto: raw-good as JSON (its records are binary Thrift), everything else as stored
  // (enriched-good as its TSV line, bad rows as their JSON).
  const bool raw = o.format == "raw" || (o.format == "auto" && o.stream != stream::kRawGood);
  Status s = stream::ReadStream(
      root, o.stream, from,
      [&](const stream::Record& record) {
        std::string line;
        if (raw) {
          line = record.payload;
        } else {
          auto json = JsonLine(o.stream, record);
          if (!json.ok()) {
            ++failed;
            std::fprintf(stderr, "furrow stream dump: %s offset %llu: cannot decode: %s\n",
                         o.stream.c_str(), static_cast<unsigned long long>(record.offset),
                         json.status().message().c_str());
            return true;
          }
          line = std::move(json).value();
        }
        line += '\n';
        if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
          write_error = true;
          return false;
        }
        ++printed;
        return o.limit == 0 || printed < o.limit;
      },
      [&](const Status& damage) {
        ++failed;
        std::fprintf(stderr, "furrow stream dump: %s\n", damage.message().c_str());
      });
  if (std::fflush(stdout) != 0) write_error = true;
  if (!s.ok()) return Fail("dump", s);
  if (write_error) return Fail("dump", IoError("cannot write to stdout"));
  if (failed > 0) {
    std::fprintf(stderr, "furrow stream dump: %llu record(s) or segment(s) could not be read\n",
                 static_cast<unsigned long long>(failed));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void RegisterStreamCommands(CLI::App& app, Commands& commands) {
  static ListOptions list_options;
  static DumpOptions dump_options;
  CLI::App* stream = app.add_subcommand("stream", "Inspect the embedded streams (read-only)");
  stream->require_subcommand(1);

  CLI::App* list = stream->add_subcommand(
      "list", "Print each stream: records, bytes, first/end offsets, readers' positions");
  AddDataDirOption(list, &list_options.data_dir);
  commands.SetRunner(list, [] { return RunList(list_options); });

  CLI::App* dump = stream->add_subcommand(
      "dump",
      "Print every record of a stream without moving any reader: raw-good as CollectorPayload "
      "JSON, enriched-good as its TSV line (--format json: one JSON object per event, fields "
      "named and contexts expanded), bad rows as they are; exits 1 if a record could not be "
      "decoded (reported on stderr)");
  AddDataDirOption(dump, &dump_options.data_dir);
  dump->add_option("NAME", dump_options.stream, "Stream name (raw-good, raw-bad, ...)")->required();
  dump->add_option("--format", dump_options.format,
                   "auto (see above), json (one JSON object per record) or raw (each "
                   "payload's bytes, then a newline)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "json", "raw"}));
  dump->add_option("--reader", dump_options.reader,
                   "Start at this reader's committed position (the reader does not move)");
  dump->add_option("--from", dump_options.from, "Start at this offset")->capture_default_str();
  dump->add_option("--limit", dump_options.limit, "Print at most N records (0: all)")
      ->capture_default_str();
  commands.SetRunner(dump, [] { return RunDump(dump_options); });
}

}  // namespace furrow::app
