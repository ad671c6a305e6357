// `furrow pseudonymize`: a filter from stdin to stdout.
// `furrow pseudonym VALUE`: the pseudonym of one value under the active key.
// See docs/privacy.md and docs/configuration.md.
#include <pthread.h>
#include <signal.h>

#include <csignal>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "pseudonymize/allowlist.h"
#include "pseudonymize/key_ring.h"
#include "pseudonymize/pseudonymizer.h"

namespace furrow::app {
namespace {

namespace ps = furrow::pseudonymize;

struct KeyOptions {
  std::string key_file;
  std::string key_ring;
  std::string data_dir;
};

void AddKeyOptions(CLI::App* cmd, KeyOptions* o) {
  cmd->add_option("--key-file", o->key_file,
                  "File holding the key (its bytes without one trailing newline); default $" +
                      std::string(ps::kKeyFileEnv));
  cmd->add_option("--key-ring", o->key_ring,
                  "YAML key ring with ids and one active key; default $" + std::string(ps::kKeyRingEnv));
  cmd->add_option("--data-dir", o->data_dir,
                  "Use the key of the pipeline that owns this data directory (DIR/keys/pseudonymize.key)");
}

Result<ps::KeyRing> LoadKeys(const KeyOptions& o) {
  return ps::LoadKeyRing(ps::KeySource{o.key_file, o.key_ring, o.data_dir},
                         [](const char* name) -> std::optional<std::string> {
                           const char* v = std::getenv(name);
                           if (v == nullptr) return std::nullopt;
                           return std::string(v);
                         });
}

int Fail(const char* command, const Status& s) {
  std::fprintf(stderr, "furrow %s: %s\n", command, s.message().c_str());
  return kExitFailure;
}

// Reads lines of at most `limit` bytes from a FILE; longer lines are reported with
// what fits and the rest is skipped.
class LineReader {
 public:
  LineReader(std::FILE* in, size_t limit) : in_(in), limit_(limit), buf_(1 << 20) {}

  // False at the end of input. `overlong` is set when the line exceeded the limit.
  bool Next(std::string* line, bool* overlong) {
    line->clear();
    *overlong = false;
    while (true) {
      if (pos_ == len_) {
        if (eof_) return !line->empty() || *overlong;
        len_ = std::fread(buf_.data(), 1, buf_.size(), in_);
        pos_ = 0;
        if (len_ == 0) {
          eof_ = true;
          continue;
        }
      }
      const char* start = buf_.data() + pos_;
      const void* nl = std::memchr(start, '\n', len_ - pos_);
      size_t n = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : len_ - pos_;
      size_t room = limit_ - std::min(limit_, line->size());
      if (n > room) *overlong = true;
      line->append(start, std::min(n, room));
      pos_ += n;
      if (nl) {
        ++pos_;
        return true;
      }
    }
  }

 private:
  std::FILE* in_;
  size_t limit_;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t len_ = 0;
  bool eof_ = false;
};

struct PseudonymizeOptions {
  KeyOptions keys;
  std::string allowlist;
  bool key_id_prefix = false;
  std::string metrics_file;
  size_t max_line_bytes = 16 << 20;
};

int RunPseudonymize(const PseudonymizeOptions& o) {
  // A filter stops on Ctrl-C / SIGTERM like any other; main() blocks them for services.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // write errors are handled below

  Result<ps::KeyRing> ring = LoadKeys(o.keys);
  if (!ring.ok()) return Fail("pseudonymize", ring.status());
  Result<ps::Allowlist> allowlist =
      o.allowlist.empty() ? ps::Allowlist::Default() : ps::Allowlist::LoadFile(o.allowlist);
  if (!allowlist.ok()) return Fail("pseudonymize", allowlist.status());

  MetricsRegistry metrics;
  ps::PseudonymizerOptions options;
  options.key_id_prefix = o.key_id_prefix;
  options.key_id = ring->active_id();
  ps::Pseudonymizer pseudonymizer(ring->active(), *allowlist, &metrics, &SystemClock::Instance(),
                                  options);
  log::Info("pseudonymize started",
            {{"key_id", ring->active_id()},
             {"allowlist", o.allowlist.empty() ? std::string("default") : o.allowlist}});

  std::vector<char> out_buf(1 << 20);
  std::setvbuf(stdout, out_buf.data(), _IOFBF, out_buf.size());
  LineReader reader(stdin, o.max_line_bytes);
  std::string line, out;
  bool overlong = false;
  uint64_t lines = 0;
  bool write_failed = false;
  while (reader.Next(&line, &overlong)) {
    if (overlong) {
      pseudonymizer.RejectOverlongLine(line, o.max_line_bytes, &out);
    } else {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      pseudonymizer.ProcessLine(line, &out);
    }
    out += '\n';
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
      write_failed = true;
      break;
    }
    ++lines;
  }
  if (std::fflush(stdout) != 0) write_failed = true;
  int read_errno = std::ferror(stdin) ? errno : 0;

  if (!o.metrics_file.empty()) {
    std::ofstream m(o.metrics_file, std::ios::trunc);
    m << metrics.RenderPrometheus();
    if (!m) log::Error("cannot write metrics file", {{"path", o.metrics_file}});
  }
  if (write_failed) {
    log::Error("pseudonymize cannot write to stdout", {{"lines", lines}});
    return kExitFailure;
  }
  if (read_errno != 0) {
    log::Error("pseudonymize cannot read stdin", {{"error", std::strerror(read_errno)}});
    return kExitFailure;
  }
  log::Info("pseudonymize finished", {{"lines", lines}, {"key_id", ring->active_id()}});
  return kExitOk;
}

struct PseudonymOptions {
  KeyOptions keys;
  std::vector<std::string> values;
  bool from_stdin = false;
  std::string key_id;
  bool all_keys = false;
};

int RunPseudonym(const PseudonymOptions& o) {
  Result<ps::KeyRing> ring = LoadKeys(o.keys);
  if (!ring.ok()) return Fail("pseudonym", ring.status());
  std::vector<std::pair<std::string, const ps::PseudonymHasher*>> hashers;
  if (o.all_keys) {
    for (const auto& id : ring->ids()) hashers.emplace_back(id, ring->Find(id));
  } else if (!o.key_id.empty()) {
    const ps::PseudonymHasher* h = ring->Find(o.key_id);
    if (h == nullptr) return Fail("pseudonym", NotFoundError("no key with id " + o.key_id));
    hashers.emplace_back(o.key_id, h);
  } else {
    hashers.emplace_back(ring->active_id(), &ring->active());
  }
  auto print = [&](const std::string& value) {
    for (const auto& [id, h] : hashers) {
      ps::Pseudonym p = h->Pseudonymize(ps::ClearValue(value));
      if (o.all_keys) {
        std::printf("%s\t%.*s\n", id.c_str(), static_cast<int>(p.hex().size()), p.hex().data());
      } else {
        std::printf("%.*s\n", static_cast<int>(p.hex().size()), p.hex().data());
      }
    }
  };
  if (o.from_stdin) {
    std::string value;
    while (std::getline(std::cin, value)) print(value);
  }
  for (const auto& v : o.values) print(v);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterPseudonymizeCommands(CLI::App& app, Commands& commands) {
  static PseudonymizeOptions po;
  CLI::App* filter = app.add_subcommand(
      "pseudonymize",
      "Filter: enriched events (TSV) and bad rows (JSON) on stdin, pseudonymized on stdout");
  AddKeyOptions(filter, &po.keys);
  filter->add_option("--allowlist", po.allowlist,
                     "Allowlist YAML (default: the embedded config/allowlist.yaml)");
  filter->add_flag("--key-id-prefix", po.key_id_prefix, "Prefix each pseudonym with '<key id>:'");
  filter->add_option("--metrics-file", po.metrics_file,
                     "Write the run's metrics in Prometheus text format to this file at the end");
  filter->add_option("--max-line-bytes", po.max_line_bytes,
                     "Longer lines become generic_error bad rows")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  commands.SetRunner(filter, [] { return RunPseudonymize(po); });

  static PseudonymOptions so;
  CLI::App* one = app.add_subcommand(
      "pseudonym", "Print the pseudonym of each VALUE under the active key (to find a person's rows)");
  AddKeyOptions(one, &so.keys);
  one->add_option("VALUE", so.values, "Clear values (or use --stdin to keep them out of the process list)");
  one->add_flag("--stdin", so.from_stdin, "Also read values from stdin, one per line");
  one->add_option("--key-id", so.key_id, "Use this key of the ring instead of the active one");
  one->add_flag("--all-keys", so.all_keys, "Print '<key id><TAB><pseudonym>' for every key of the ring");
  commands.SetRunner(one, [] {
    if (so.values.empty() && !so.from_stdin) {
      std::fprintf(stderr, "furrow pseudonym: give a VALUE or --stdin\n");
      return kExitUsage;
    }
    return RunPseudonym(so);
  });
}

}  // namespace furrow::app
