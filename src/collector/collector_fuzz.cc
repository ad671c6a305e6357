// libFuzzer entry point for the request-to-payload path.
//
// The input is read as a loose HTTP request: "METHOD TARGET" on the first line,
// "Name: value" header lines up to an empty line, then the body. It is handed to a
// Collector backed by in-memory producers with small limits (so size violations and
// data-array splitting are reached), and every record written must decode again.
// The raw input is also fed to DecodeCollectorPayload. Any crash, sanitizer report
// or broken invariant (abort) is a finding.
//
// Built as a libFuzzer target only with -DFURROW_FUZZ=ON and clang; the normal build
// runs the same entry point over the seed corpus (fuzz_corpus_runner.cc).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "collector/collector.h"
#include "collector/test_support.h"
#include "tracker/collector_payload.h"

namespace {

using furrow::collector::testing::CapturingResponder;
using furrow::collector::testing::CountingRandomSource;
using furrow::collector::testing::FakeProducer;

std::string_view NextLine(std::string_view* rest) {
  size_t end = rest->find('\n');
  std::string_view line = rest->substr(0, end);
  rest->remove_prefix(end == std::string_view::npos ? rest->size() : end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)furrow::tracker::DecodeCollectorPayload(input).ok();

  furrow::net::HttpRequest req;
  std::string_view rest = input;
  std::string_view first = NextLine(&rest);
  size_t space = first.find(' ');
  req.method = std::string(first.substr(0, space));
  req.target = space == std::string_view::npos ? "/" : std::string(first.substr(space + 1));
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  while (!rest.empty()) {
    std::string_view line = NextLine(&rest);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.headers.emplace_back(std::string(name), std::string(value));
  }
  req.body = std::string(rest);
  req.remote_address = "192.0.2.1";

  FakeProducer good(1024);
  FakeProducer bad(4096);
  furrow::ManualClock clock;
  CountingRandomSource random;
  furrow::MetricsRegistry metrics;
  furrow::collector::CollectorOptions options;
  options.max_payload_bytes = 2048;
  options.redirect_enabled = true;
  options.redirect_allowed_hosts = {"example.com"};
  options.crossdomain_enabled = true;
  options.dnt_cookie_name = "dnt";
  options.dnt_cookie_value = "1";
  options.path_map = {{"/collect", furrow::collector::kTp2Path}};
  auto collector = furrow::collector::Collector::Create(options, {&good, &bad, &clock, &random, &metrics});
  Check(collector.ok());
  auto responder = std::make_shared<CapturingResponder>();
  (*collector)->Handle(std::move(req), responder);
  Check(responder->sends() == 1);
  const int status = responder->response().status;
  Check(status >= 200 && status < 600);
  for (const std::string& record : good.records()) {
    Check(record.size() <= good.max_record_bytes());
    auto decoded = furrow::tracker::DecodeCollectorPayload(record);
    Check(decoded.ok());
    Check(furrow::tracker::EncodeCollectorPayload(*decoded) == record);
  }
  for (const std::string& record : bad.records()) Check(record.size() <= bad.max_record_bytes());
  return 0;
}
