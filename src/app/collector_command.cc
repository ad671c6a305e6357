// `furrow collector`: the collector stage alone, on the embedded file streams.
//
// Wires the embedded file streams (DATA_DIR/streams, app/stream_options.h) and the
// collector stage (app/collector_stage.h), prints "listening on ADDRESS:PORT" once
// bound, and on SIGTERM/SIGINT stops accepting, lets in-flight requests finish (their
// records committed), flushes the streams and exits 0. Every option is documented in
// docs/configuration.md.
#include <cstdio>
#include <string>

#include "app/collector_stage.h"
#include "app/commands.h"
#include "app/signals.h"
#include "app/stream_options.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/metrics.h"

namespace furrow::app {
namespace {

struct CollectorCommandOptions {
  std::string data_dir = "./var";
  CollectorStageOptions collector;
  StreamCommandOptions streams;  // --stream-* (stream_options.h)
};

int Fail(const std::string& what, const Status& status) {
  log::Error(what, {{"error", status.ToString()}});
  std::fprintf(stderr, "furrow collector: %s: %s\n", what.c_str(), status.ToString().c_str());
  return kExitFailure;
}

int RunCollector(const CollectorCommandOptions& o) {
  MetricsRegistry metrics;
  const Clock& clock = SystemClock::Instance();

  auto provider = OpenStreams(o.data_dir, o.streams, clock, &metrics);
  if (!provider.ok()) return Fail("cannot open streams", provider.status());
  auto stage = CollectorStage::Create(o.collector, provider->get(), &clock, &metrics);
  if (!stage.ok()) return Fail("bad options", stage.status());
  Status started = (*stage)->Start();
  if (!started.ok()) {
    stage->reset();
    (*provider)->Close();
    return Fail("cannot listen", started);
  }
  AnnounceListening(o.collector.bind, (*stage)->port());
  log::Info("collector started", {{"port", (*stage)->port()},
                                  {"data_dir", o.data_dir},
                                  {"collector", (*stage)->collector_name()}});

  int signal = WaitForTerminationSignal();
  log::Info("collector stopping", {{"signal", signal}});
  // Stop accepting; requests in flight finish, their records committed and answered.
  Status stopped = (*stage)->Stop();
  (*provider)->Close();
  if (!stopped.ok()) return Fail("stopping", stopped);
  log::Info("collector stopped");
  return kExitOk;
}

}  // namespace

void RegisterCollectorCommand(CLI::App& app, Commands& commands) {
  static CollectorCommandOptions o;
  CLI::App* cmd = app.add_subcommand(
      "collector", "Run the Snowplow-compatible collector (writes raw-good and raw-bad)");
  AddDataDirOption(cmd, &o.data_dir);
  AddCollectorOptions(cmd, &o.collector, 8080);
  AddStreamOptions(cmd, &o.streams);
  commands.SetRunner(cmd, [] { return RunCollector(o); });
}

}  // namespace furrow::app
