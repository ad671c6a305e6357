// `furrow sink`: the sink stage alone. Reads enriched-good, enriched-bad and raw-bad
// from the embedded streams, pseudonymizes, and writes compressed files to the lake.
// /health and /metrics on --port (default 8082). SIGTERM: store the open files,
// commit, exit 0.
#include <cstdio>

#include "app/admin_server.h"
#include "app/commands.h"
#include "app/signals.h"
#include "app/sink_stage.h"
#include "app/stream_options.h"
#include "core/logging.h"

namespace furrow::app {
namespace {

struct SinkCommand {
  std::string data_dir = "./var";
  int port = 8082;
  std::string bind = "0.0.0.0";
  int64_t shutdown_timeout_s = 60;
  StreamCommandOptions streams;
  SinkCommandOptions sink;
};

int Fail(const std::string& what, const Status& status) {
  log::Error(what, {{"error", status.ToString()}});
  std::fprintf(stderr, "furrow sink: %s: %s\n", what.c_str(), status.ToString().c_str());
  return kExitFailure;
}

int RunSink(const SinkCommand& o) {
  MetricsRegistry metrics;
  const Clock& clock = SystemClock::Instance();
  auto streams = OpenStreams(o.data_dir, o.streams, clock, &metrics);
  if (!streams.ok()) return Fail("cannot open streams", streams.status());
  auto stage = SinkStage::Create(o.data_dir, o.sink, /*create_pipeline_key=*/false, streams->get(),
                                 &clock, &metrics);
  if (!stage.ok()) return Fail("cannot start the sink", stage.status());
  AdminServer admin(o.bind, o.port, &metrics, "furrow_sink_http");
  Status started = admin.Start();
  if (!started.ok()) return Fail("cannot listen", started);
  (*stage)->Start();
  log::Info("sink started", {{"lake", (*stage)->lake()}, {"key_id", (*stage)->key_id()}});
  WaitForTerminationSignal();
  log::Info("sink stopping: storing open files");
  bool stored = (*stage)->Stop(std::chrono::seconds(o.shutdown_timeout_s));
  admin.Stop();
  (*streams)->Close();
  if (!stored) {
    std::fprintf(stderr, "furrow sink: some files could not be stored before the deadline; "
                         "their records stay in the streams and are stored on the next start\n");
    return kExitFailure;
  }
  log::Info("sink stopped");
  return kExitOk;
}

}  // namespace

void RegisterSinkCommand(CLI::App& app, Commands& commands) {
  static SinkCommand o;
  CLI::App* cmd = app.add_subcommand(
      "sink", "Sink stage: enriched-good, enriched-bad, raw-bad -> pseudonymized files in the lake");
  AddDataDirOption(cmd, &o.data_dir);
  AddListenOptions(cmd, &o.port, &o.bind, 8082);
  cmd->add_option("--shutdown-timeout-s", o.shutdown_timeout_s,
                  "On SIGTERM, how long to keep retrying to store open files")
      ->capture_default_str();
  AddSinkOptions(cmd, &o.sink);
  AddStreamOptions(cmd, &o.streams);
  commands.SetRunner(cmd, [] { return RunSink(o); });
}

}  // namespace furrow::app
