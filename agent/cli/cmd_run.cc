// podagent run [flags]: loads the configuration, then runs the agent (see
// agent/agent.h) on one io_context until SIGTERM or SIGINT, which stop it
// without stopping any container. The readiness line "podagent started",
// written once the sources are read and the API listens (after READY=1 to
// systemd), is what scripts and tests wait for.

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "agent/agent.h"
#include "agent/cli/commands.h"
#include "agent/cli/flags.h"
#include "base/duration.h"
#include "base/log.h"

namespace podagent::cli {
namespace {

base::LogLevel to_log_level(const std::string& name) {
  if (name == "error") return base::LogLevel::Error;
  if (name == "warning") return base::LogLevel::Warning;
  if (name == "debug") return base::LogLevel::Debug;
  return base::LogLevel::Info;  // validate_config admits nothing else
}

std::string quantity_or(const std::optional<model::Quantity>& q, std::string_view unset) {
  return q ? q->text() : std::string(unset);
}

void log_settings(const config::AgentConfig& c, const std::string& source) {
  // The config file's spelling ("5m", not "5m0s").
  using base::format_duration_short;
  base::log_info("podagent {} starting: node={} config={}", version(), c.node_name, source);
  base::log_info("manifestDir={} stateDir={} podLogsDir={}", c.manifest_dir, c.state_dir,
                 c.pod_logs_dir);
  base::log_info("api socket={} mode=0{:o} group={} tcp={}", c.api.socket, c.api.socket_mode,
                 c.api.socket_group.empty() ? "-" : c.api.socket_group,
                 c.api.tcp.enabled ? c.api.tcp.address : "off");
  base::log_info("runtime backend={} ociRuntime={} monitor={} relistPeriod={}", c.runtime.backend,
                 c.runtime.oci_runtime,
                 c.runtime.monitor_binary.empty() ? "podagent-monitor" : c.runtime.monitor_binary,
                 format_duration_short(c.runtime.relist_period));
  base::log_info("crashLoopBackOff initial={} max={} reset={} manifestRelistPeriod={}",
                 format_duration_short(c.crash_loop_back_off.initial),
                 format_duration_short(c.crash_loop_back_off.max),
                 format_duration_short(c.crash_loop_back_off.reset),
                 format_duration_short(c.manifest_relist_period));
  base::log_info("allocatable cpu={} memory={} pods={} reserved cpu={} memory={}",
                 quantity_or(c.node_allocatable.cpu, "machine"),
                 quantity_or(c.node_allocatable.memory, "machine"), c.max_pods,
                 quantity_or(c.system_reserved.cpu, "0"),
                 quantity_or(c.system_reserved.memory, "0"));
}

void print_run_usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: podagent run [flags]\n\n"
               "Runs the agent in the foreground until SIGTERM or SIGINT.\n\n%.*s",
               static_cast<int>(kConfigFlagsHelp.size()), kConfigFlagsHelp.data());
}

}  // namespace

int run_command(std::span<char* const> args) {
  std::vector<FlagSpec> specs = kConfigFlags;
  specs.push_back({"--help", "-h", false});
  auto parsed = parse_flags(args, specs);
  if (!parsed || !parsed->positional.empty()) {
    std::fprintf(stderr, "podagent run: %s\n\n",
                 parsed ? "takes no arguments" : parsed.error().to_string().c_str());
    print_run_usage(stderr);
    return kExitUsage;
  }
  if (parsed->has("--help")) {
    print_run_usage(stdout);
    return kExitOk;
  }

  // Blocked before anything else, so that a signal during start-up stays
  // pending until the agent's signal_set is in place, instead of killing
  // the process. The default disposition first: a shell starts background
  // jobs with SIGINT ignored.
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto loaded = load_config_or_report(*parsed);
  if (!loaded) return kExitFailure;
  const config::AgentConfig& c = *loaded->config;
  base::set_log_level(to_log_level(c.log_level));
  log_settings(c, loaded->source);

  std::error_code ec;
  if (!std::filesystem::is_directory(c.manifest_dir, ec))
    base::log_warning("manifestDir {} does not exist (yet): it is watched for", c.manifest_dir);

  // One thread: the agent's state has no locks.
  boost::asio::io_context io(1);
  agent::AgentOptions options;
  options.config = c;
  // Written whatever the log level: scripts and tests wait for this line.
  options.on_ready = [] { base::log_line(base::LogLevel::Info, "podagent started"); };
  agent::Agent agent(io, std::move(options));
  agent.stop_on_signals([](int signal) {
    base::log_info("podagent stopping on {}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  ::pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);  // delivered to the signal_set now
  if (auto s = agent.start(); !s) {
    base::log_error("podagent cannot start: {}", s.error().to_string());
    return kExitFailure;
  }
  io.run();  // returns once stop() has ended every coroutine
  return kExitOk;
}

}  // namespace podagent::cli
