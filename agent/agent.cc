#include "agent/agent.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <map>
#include <set>

#include "agent/api_pod_exec.h"
#include "agent/api_pod_persistence.h"
#include "agent/api_routes.h"
#include "agent/auth.h"
#include "agent/config_object_persistence.h"
#include "agent/config_object_store.h"
#include "agent/eviction_manager.h"
#include "agent/metrics.h"
#include "agent/pod_config.h"
#include "agent/pod_events.h"
#include "agent/pod_log_retention.h"
#include "base/log.h"
#include "model/document.h"
#include "podworker/admission.h"
#include "podworker/pod_workers.h"
#include "probes/probe_manager.h"
#include "probes/prober.h"
#include "runtime/fake/fake_runtime.h"
#include "runtime/oci/oci_runtime.h"
#include "static-pods/dir_watcher.h"
#include "volumes/volume_manager.h"

namespace podagent::agent {

namespace asio = boost::asio;

namespace {

// "host:port" or "[v6]:port".
base::Result<std::pair<std::string, uint16_t>> split_host_port(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size())
    return base::Error("expected host:port, got \"" + address + "\"", "api.tcp.address");
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";  // ":port": every address
  char* end = nullptr;
  const long port = std::strtol(address.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535)
    return base::Error("invalid port in \"" + address + "\"", "api.tcp.address");
  return std::pair{host, static_cast<uint16_t>(port)};
}

// Node allocatable: configured, else the machine's capacity minus
// systemReserved.
podworker::NodeAllocatable node_allocatable(const config::AgentConfig& c) {
  podworker::NodeAllocatable node;
  const int64_t cpus = std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  const int64_t memory = static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE);
  const auto& reserved = c.system_reserved;
  node.cpu_milli = c.node_allocatable.cpu
                       ? c.node_allocatable.cpu->milli()
                       : cpus * 1000 - (reserved.cpu ? reserved.cpu->milli() : 0);
  node.memory_bytes = c.node_allocatable.memory
                          ? c.node_allocatable.memory->value()
                          : memory - (reserved.memory ? reserved.memory->value() : 0);
  node.pods = c.max_pods;
  return node;
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

}  // namespace

base::Result<std::unique_ptr<runtime::Runtime>> make_runtime(const config::AgentConfig& config,
                                                             base::Clock& clock,
                                                             asio::any_io_executor executor) {
  if (config.runtime.backend == "fake")
    return std::unique_ptr<runtime::Runtime>(
        std::make_unique<runtime::FakeRuntime>(clock, std::move(executor)));
  if (config.runtime.backend == "oci") {
    runtime::oci::OciRuntimeOptions o;
    o.state_dir = config.state_dir;
    o.handlers.clear();
    for (const auto& [name, binary] : config.runtime.runtime_handlers) o.handlers.emplace(name, binary);
    o.default_handler = config.runtime.oci_runtime;
    o.monitor_binary = config.runtime.monitor_binary;
    o.pause_binary = config.runtime.pause_binary;
    if (config.runtime.container_log_max_size)
      o.log_max_bytes = static_cast<uint64_t>(config.runtime.container_log_max_size->value());
    o.log_max_files = static_cast<uint32_t>(config.runtime.container_log_max_files);
    o.node.node_name = config.node_name;
    const podworker::NodeAllocatable node = node_allocatable(config);
    o.node.allocatable_cpu_millis = node.cpu_milli;
    o.node.allocatable_memory_bytes = node.memory_bytes;
    o.cni.conf_dir = config.cni.conf_dir;
    o.cni.bin_dirs.assign(config.cni.bin_dirs.begin(), config.cni.bin_dirs.end());
    o.cgroup_root = config.cgroups.root;
    o.pod_pids_limit = config.cgroups.pod_pids_limit;
    o.host_path_allow_list.assign(config.volumes.host_path_allow_list.begin(),
                                  config.volumes.host_path_allow_list.end());
    auto oci = runtime::oci::OciRuntime::create(clock, std::move(executor), std::move(o));
    if (!oci) return oci.error();
    return std::unique_ptr<runtime::Runtime>(std::move(*oci));
  }
  return base::Error(fmt::format("the {} runtime backend is not available in this build",
                                 config.runtime.backend),
                     "runtime.backend");
}

struct Agent::Parts {
  Parts(asio::io_context& io_context, AgentOptions opts)
      : io(io_context),
        options(std::move(opts)),
        config(options.config),
        clock(options.clock ? *options.clock : real_clock),
        metrics(registry),
        store(PodStoreOptions{.first_resource_version = first_version()}),
        persistence(config.state_dir),
        notifier(options.env ? SystemdNotifier(options.env) : SystemdNotifier::from_environment()),
        events(events_options()),
        config_objects(first_version()),
        config_object_persistence(config.state_dir) {
  }

  // The pods' events, kept while the store holds the pod (`deletions`
  // forgets a removed one).
  PodEvents::Options events_options() {
    PodEvents::Options o;
    o.lookup = lookup_in(store);
    o.wall_now = [this] { return clock.wall_now(); };
    return o;
  }

  uint64_t first_version() {
    // Versions from before a restart fall below the new history, so their
    // watchers relist instead of missing changes (see PodStoreOptions).
    const auto since_epoch = clock.wall_now().time_since_epoch();
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
  }

  void build_workers();
  void build_eviction();
  void restore_config_objects();
  void build_probes(podworker::PodWorkers::Options& wo);
  void watch_images();
  void retain_logs();
  base::Status listen();
  void on_snapshot(const static_pods::ManifestSnapshot& snapshot);
  void become_ready();
  void report_manifest_errors();
  void refresh_status();
  ApiResponse handle(const ApiRequest& request);
  ApiResponse manifest_errors_response(const ApiRequest& request) const;
  void register_gauges();
  asio::awaitable<void> housekeeping(std::shared_ptr<bool> alive);
  asio::awaitable<void> watchdog(std::shared_ptr<bool> alive, std::chrono::microseconds every);

  asio::io_context& io;
  AgentOptions options;
  const config::AgentConfig& config;
  base::RealClock real_clock;
  base::Clock& clock;
  Registry registry;
  AgentMetrics metrics;
  PodStore store;
  ApiPodPersistence persistence;
  SystemdNotifier notifier;
  PodEvents events;
  ConfigObjectStore config_objects;
  ApiConfigObjectPersistence config_object_persistence;

  std::unique_ptr<runtime::Runtime> runtime;
  std::unique_ptr<probes::Prober> prober;  // httpGet hooks (and probes)
  std::string runtime_error;
  std::unique_ptr<podworker::Admitter> admitter;
  std::unique_ptr<volumes::VolumeManager> volumes;  // before `workers`, which use it
  std::unique_ptr<podworker::PodWorkers> workers;
  // After `workers`: destroyed first, it evicts through them.
  std::unique_ptr<EvictionManager> eviction;
  // After `workers`: destroyed first, its callbacks call the workers.
  std::unique_ptr<probes::ProbeManager> probe_manager;
  std::unique_ptr<PodConfig> pod_config;
  std::unique_ptr<PodLogRetention> log_retention;
  PodStore::Subscription deletions;  // feeds log_retention and drops events
  std::unique_ptr<ApiRoutes> routes;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<static_pods::DirWatcher> source;
  std::unique_ptr<asio::signal_set> signals;
  std::optional<uint16_t> tcp_port;

  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  base::Timer* housekeeping_timer = nullptr;  // owned by its coroutine's frame
  base::Timer* watchdog_timer = nullptr;
  bool started = false;
  bool listening = false;
  bool ready_sent = false;
  bool stopped = false;
  uint64_t manifest_errors_seen = 0;
  std::string status_sent;
  std::pair<uint64_t, size_t> status_inputs{0, 0};  // store version, files in error
  base::SteadyTime next_sync_all{};
};

void Agent::Parts::build_workers() {
  const RuntimeFactory& factory = options.runtime_factory ? options.runtime_factory : make_runtime;
  auto made = factory(config, clock, io.get_executor());
  PodConfigOptions pc;
  pc.metrics = &metrics;
  if (!made) {
    runtime_error = made.error().message;
    // Logged once, here; the pods then say it in their status.
    base::log_error("{}: pods are accepted but not run", runtime_error);
    pc.unavailable_message = runtime_error;
    pod_config = std::make_unique<PodConfig>(store, nullptr, clock, pc);
    return;
  }
  runtime = std::move(*made);
  admitter = std::make_unique<podworker::Admitter>(node_allocatable(config));
  std::set<std::string> handlers;
  for (const auto& [name, path] : config.runtime.runtime_handlers) handlers.insert(name);
  admitter->set_runtime_handlers(std::move(handlers));
  podworker::PodWorkers::Options wo;
  wo.backoff = {config.crash_loop_back_off.initial, config.crash_loop_back_off.max,
                config.crash_loop_back_off.reset};
  wo.node_name = config.node_name;
  wo.pod_logs_dir = config.pod_logs_dir;
  wo.admitter = admitter.get();
  prober = probes::make_prober(*runtime);
  wo.hook_prober = prober.get();
  wo.events = &events;
  wo.on_sync_duration = [this](base::Duration d) {
    metrics.pod_sync_duration.observe(std::chrono::duration<double>(d).count());
  };
  wo.on_orphan = [](const podworker::OrphanReport& r) {
    const std::string pod = r.pod_name.empty() ? "?" : r.pod_namespace + "/" + r.pod_name;
    if (r.interrupted) return;  // desired again, or the agent is stopping
    if (r.failed)
      base::log_warning("orphaned pod not fully removed, retried at the next relist: pod={} uid={}", pod,
                        r.uid.str());
    else
      base::log_info("orphaned pod removed (no source wants it): pod={} uid={} containers={} sandboxes={}",
                     pod, r.uid.str(), r.containers, r.sandboxes);
  };
  wo.on_status = [this](const base::PodUid& uid, const model::PodStatus& status) {
    pod_config->on_status(uid, status);
  };
  build_probes(wo);
  // Written volumes and disk emptyDirs: <state_dir>/pods/<uid>/volumes/<name>.
  volumes = std::make_unique<volumes::VolumeManager>(std::filesystem::path(config.state_dir) / "pods");
  wo.volumes = volumes.get();
  const podworker::NodeAllocatable node = node_allocatable(config);
  wo.node_allocatable.cpu_millis = node.cpu_milli;
  wo.node_allocatable.memory_bytes = node.memory_bytes;
  workers = std::make_unique<podworker::PodWorkers>(*runtime, clock, io.get_executor(), wo);
  build_eviction();
  pod_config = std::make_unique<PodConfig>(store, workers.get(), clock, pc);
  watch_images();
}

// Pods whose disk emptyDir holds more than its sizeLimit are evicted, every
// 10 s (the kubelet's housekeeping period).
void Agent::Parts::build_eviction() {
  EvictionManagerOptions o;
  o.pods = [this] { return workers->running_pods(); };
  o.evict = [this](const base::PodUid& uid, const std::string& message) { return workers->evict(uid, message); };
  eviction = std::make_unique<EvictionManager>(*volumes, clock, io.get_executor(), std::move(o));
  eviction->start();
}

// The API's ConfigMaps and Secrets saved by an earlier run. Logged by
// file only: a problem line never holds a secret's value.
void Agent::Parts::restore_config_objects() {
  LoadedConfigObjects loaded = config_object_persistence.load_all();
  for (const auto& problem : loaded.problems)
    base::log_error("API ConfigMap or Secret not restored: {}", problem);
  for (auto& [key, object] : loaded.objects.config_maps) config_objects.put(std::move(object));
  for (auto& [key, object] : loaded.objects.secrets) config_objects.put(std::move(object));
  if (!loaded.objects.config_maps.empty() || !loaded.objects.secrets.empty())
    base::log_info("API objects restored: {} ConfigMaps, {} Secrets",
                   loaded.objects.config_maps.size(), loaded.objects.secrets.size());
}

// The probe loops: fed by each pod sync's listing, their results go back to
// the pod workers (ready, started; kills for failed liveness and startup
// probes), their failures to the pod's events and every attempt to metrics.
void Agent::Parts::build_probes(podworker::PodWorkers::Options& wo) {
  probes::ProbeManager::Options po;
  po.on_state = [this](const base::PodUid& uid, const std::string& container, const probes::ProbeState& state) {
    workers->set_probe_state(uid, container, state);
  };
  po.on_kill = [this](const base::PodUid& uid, const base::ContainerId& id, std::string message,
                      std::optional<base::Duration> grace) {
    workers->set_liveness_failed(uid, id, std::move(message), grace);
  };
  po.events = &events;
  po.observe = [this](probes::ProbeType type, probes::ProbeResult result, base::Duration took) {
    const std::string_view name = probes::probe_type_name(type);
    metrics.probe_results.with({name, result == probes::ProbeResult::Success ? "successful" : "failed"}).inc();
    metrics.probe_duration.with({name}).observe(std::chrono::duration<double>(took).count());
  };
  probe_manager = std::make_unique<probes::ProbeManager>(*prober, clock, io.get_executor(), std::move(po));
  wo.on_pod_listed = [this](const model::Pod& pod, const podworker::ObservedPod& observed, bool terminating) {
    probe_manager->update(pod, observed, terminating);
  };
  wo.on_pod_finished = [this](const base::PodUid& uid) { probe_manager->remove(uid); };
}

// A pod waiting for its image (ErrImageNeverPull, ImagePullBackOff) starts
// as soon as the image is imported, not at the next relist: every pod is
// synced again, and the ones still waiting stay as they are. That an import
// also ends a pull backoff is ImagePuller's rule.
void Agent::Parts::watch_images() {
  runtime->on_images_changed([this, alive = alive] {
    if (*alive && !stopped) workers->sync_all();
  });
}

// A deleted pod's logs go once podLogsRetention has passed after its
// containers were removed: PodConfig removes a pod from the store (DELETED)
// only when its worker has finished. A pod replaced under its name is
// DELETED earlier, while it terminates; its worker keeps it wanted.
void Agent::Parts::retain_logs() {
  PodLogRetentionOptions o;
  o.pod_logs_dir = config.pod_logs_dir;
  o.retention = config.pod_logs_retention;
  o.wanted = [this](std::string_view uid) {
    const base::PodUid id{std::string(uid)};
    return store.get(id) != nullptr ||
           (workers && workers->state(id).has_value() && !workers->is_finished(id));
  };
  log_retention = std::make_unique<PodLogRetention>(clock, io.get_executor(), std::move(o));
  // PodConfig removes a pod from the store once its worker has finished
  // (or when a pod replaces it under its name): its events go with it.
  deletions = store.subscribe([this](const WatchEvent& e) {
    if (e.type != WatchEventType::Deleted) return;
    const model::ObjectMeta& m = e.object->metadata;
    events.forget(base::PodUid(m.uid));
    log_retention->pod_removed(m.namespace_, m.name, m.uid);
  });
}

base::Status Agent::Parts::listen() {
  server = std::make_unique<HttpServer>(
      io, [this](const ApiRequest& r) { return handle(r); }, options.http_limits);
  UnixListenerOptions unix_options;
  unix_options.path = config.api.socket;
  unix_options.mode = config.api.socket_mode;
  unix_options.group = config.api.socket_group;
  if (auto s = server->listen_unix(unix_options); !s) return s;
  if (config.api.tcp.enabled) {
    const auto& tcp = config.api.tcp;
    auto address = split_host_port(tcp.address);
    if (!address) return address.error();
    auto security = prepare_tcp_security(
        {tcp.tls_cert_file, tcp.tls_key_file, tcp.client_ca_file, tcp.tokens_file},
        config.state_dir, config.node_name);
    if (!security) return security.error();
    TcpListenerOptions tcp_options;
    tcp_options.address = address->first;
    tcp_options.port = address->second;
    tcp_options.tls = security->tls;
    tcp_options.authenticator = security->authenticator;
    auto port = server->listen_tcp(tcp_options);
    if (!port) return port.error();
    tcp_port = *port;
    base::log_info("API listening on https://{}:{} (certificate {})", address->first, *port,
                   security->serving.cert.string());
  }
  base::log_info("API listening on unix:{}", config.api.socket);
  listening = true;
  return {};
}

ApiResponse Agent::Parts::handle(const ApiRequest& request) {
  ApiResponse response = path_of(request.target) == "/debug/manifest-errors"
                             ? manifest_errors_response(request)
                             : routes->handle(request);
  if (response.deferred) {
    // Counted with the code of the answer, when it comes (pod exec).
    response.deferred = [this, method = request.method, deferred = std::move(response.deferred)](
                            std::function<void(ApiResponse)> answer) {
      deferred([this, method, answer = std::move(answer)](ApiResponse r) {
        metrics.api_requests.with({std::to_string(r.status), method}).inc();
        answer(std::move(r));
      });
    };
    return response;
  }
  metrics.api_requests.with({std::to_string(response.status), request.method}).inc();
  return response;
}

ApiResponse Agent::Parts::manifest_errors_response(const ApiRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD")
    return error_response(method_not_allowed(request.method));
  model::Node body = model::Node::map();
  body.set("errorsTotal", model::Node::integer(static_cast<int64_t>(source->error_total())));
  model::Node& files = body.set("files", model::Node::map());
  for (const auto& [file, problems] : source->errors()) {
    model::Node& list = files.set(file, model::Node::sequence());
    for (const auto& problem : problems) list.push(model::Node::string(problem));
  }
  ApiResponse response;
  response.body = model::to_json(body) + "\n";
  return response;
}

void Agent::Parts::register_gauges() {
  registry.set_gauge_fn(kPodsMetric, "Pods known to the agent, by phase.", {"phase"}, [this] {
    std::map<std::string, double> counts = {{model::kPhasePending, 0},
                                            {model::kPhaseRunning, 0},
                                            {model::kPhaseSucceeded, 0},
                                            {model::kPhaseFailed, 0}};
    for (const auto& pod : store.list())
      counts[pod->status.phase.empty() ? model::kPhasePending : pod->status.phase] += 1;
    std::vector<GaugeSample> samples;
    for (const auto& [phase, n] : counts) samples.push_back({{phase}, n});
    return samples;
  });
  registry.set_gauge_fn(kManifestErrorsMetric, "Manifest files whose latest read failed.", [this] {
    return static_cast<double>(source ? source->errors().size() : 0);
  });
}

void Agent::Parts::on_snapshot(const static_pods::ManifestSnapshot& snapshot) {
  // Objects first: the pods this snapshot starts may read them.
  config_objects.set_manifest_objects(snapshot.objects);
  pod_config->set_static_pods(snapshot);
  // Every source is read now (the API pods were restored in start()), and
  // each desired pod has its worker: what the runtime holds of any other
  // pod is an orphan, removed from now on.
  if (workers) workers->set_sources_ready();
  log_retention->sweep();  // the first time only: what no source wants
  report_manifest_errors();
  if (!ready_sent) become_ready();
  refresh_status();
}

void Agent::Parts::become_ready() {
  if (ready_sent || !listening || stopped) return;
  ready_sent = true;
  if (auto s = notifier.ready(); !s)
    base::log_error("sd_notify READY=1: {}", s.error().to_string());
  base::log_info("podagent ready: {} pods from the manifest directory, {} in all",
                 pod_config->static_pod_count(), store.size());
  if (options.on_ready) options.on_ready();
}

// Keeps podagent_manifest_errors_total equal to the source's count. The
// source itself logs each new problem once (DirWatcher), so nothing is
// logged here.
void Agent::Parts::report_manifest_errors() {
  const uint64_t total = source->error_total();
  if (total > manifest_errors_seen) metrics.manifest_errors_total.inc(total - manifest_errors_seen);
  manifest_errors_seen = total;
}

void Agent::Parts::refresh_status() {
  if (!ready_sent || stopped) return;
  // Nothing to count again when neither the pods nor the errors changed.
  const auto seen = std::pair{store.resource_version(), source->errors().size()};
  if (!status_sent.empty() && seen == status_inputs) return;
  status_inputs = seen;
  size_t running = 0;
  for (const auto& pod : store.list()) running += pod->status.phase == model::kPhaseRunning;
  std::string text = fmt::format("running {} of {} pods", running, store.size());
  if (!runtime) text += "; " + runtime_error;
  if (!source->errors().empty())
    text += fmt::format("; {} manifest errors", source->errors().size());
  if (text == status_sent) return;
  status_sent = text;
  if (auto s = notifier.status(text); !s)
    base::log_debug("sd_notify STATUS: {}", s.error().to_string());
}

asio::awaitable<void> Agent::Parts::housekeeping(std::shared_ptr<bool> alive) {
  auto timer = clock.make_timer(co_await asio::this_coro::executor);
  housekeeping_timer = timer.get();
  const base::Duration relist = config.runtime.relist_period;
  next_sync_all = clock.now() + relist;
  while (!stopped) {
    timer->expires_at(clock.now() + options.housekeeping_period);
    co_await timer->wait();
    if (!*alive || stopped) break;
    pod_config->reap();
    report_manifest_errors();
    refresh_status();
    if (workers && clock.now() >= next_sync_all) {
      workers->sync_all();  // the periodic reconcile, level-triggered
      next_sync_all = clock.now() + relist;
    }
  }
  if (*alive) housekeeping_timer = nullptr;
}

asio::awaitable<void> Agent::Parts::watchdog(std::shared_ptr<bool> alive,
                                             std::chrono::microseconds every) {
  auto timer = clock.make_timer(co_await asio::this_coro::executor);
  watchdog_timer = timer.get();
  while (!stopped) {
    if (auto s = notifier.watchdog(); !s)
      base::log_warning("sd_notify WATCHDOG=1: {}", s.error().to_string());
    timer->expires_at(clock.now() + every);
    co_await timer->wait();
    if (!*alive) co_return;
  }
  watchdog_timer = nullptr;
}

// ---------------------------------------------------------------- Agent

Agent::Agent(asio::io_context& io, AgentOptions options)
    : p_(std::make_unique<Parts>(io, std::move(options))) {}

Agent::~Agent() {
  *p_->alive = false;
  if (p_->started && !p_->stopped) stop();
}

base::Status Agent::start() {
  Parts& p = *p_;
  p.started = true;
  p.build_workers();
  p.retain_logs();
  ApiOptions api;
  api.node_name = p.config.node_name;
  api.ready = [&p] { return p.source && p.source->ready(); };
  api.metrics = [&p] { return p.registry.render(); };
  api.wall_now = [&p] { return p.clock.wall_now(); };
  if (p.runtime) api.exec = make_runtime_pod_exec(*p.runtime, p.io.get_executor());
  api.pod_logs_dir = p.config.pod_logs_dir;
  api.events = &p.events;
  api.config_objects = &p.config_objects;
  api.config_object_persistence = &p.config_object_persistence;
  p.routes = std::make_unique<ApiRoutes>(p.store, *p.pod_config, p.persistence, api);

  // ConfigMaps and Secrets before any pod: a pod's volumes and env read
  // them. Each new view reaches the pod workers at once (on_snapshot sets a
  // manifest's objects before its pods).
  if (p.workers) {
    p.config_objects.on_change(
        [&p](const model::ConfigObjectsPtr& objects) { p.workers->set_config_objects(objects); });
  }
  p.restore_config_objects();
  if (p.workers) p.workers->set_config_objects(p.config_objects.current());

  // API pods first: they hold their names before any static pod comes.
  LoadedPods loaded = p.persistence.load_all();
  for (const auto& problem : loaded.problems)
    base::log_error("API pod in {} not restored: {}", p.persistence.directory().string(), problem);
  p.pod_config->restore_api_pods(std::move(loaded.pods));

  if (auto s = p.listen(); !s) {
    p.stopped = true;
    if (p.server) p.server->stop();
    if (p.workers) p.workers->stop();
    if (p.probe_manager) p.probe_manager->stop();
    return s;
  }
  static_pods::DirWatcherOptions watch;
  watch.dir = p.config.manifest_dir;
  watch.node_name = p.config.node_name;
  watch.relist_period = p.config.manifest_relist_period;
  p.source = std::make_unique<static_pods::DirWatcher>(p.io, p.clock, watch);
  p.register_gauges();
  p.source->start([&p](const static_pods::ManifestSnapshot& s) { p.on_snapshot(s); });
  asio::co_spawn(p.io, p.housekeeping(p.alive), asio::detached);
  if (auto every = p.notifier.watchdog_interval())
    asio::co_spawn(p.io, p.watchdog(p.alive, *every), asio::detached);
  return {};
}

void Agent::stop() {
  Parts& p = *p_;
  if (p.stopped) return;
  p.stopped = true;
  base::log_info(
      "podagent stopping: the API, the manifest source and the pod workers; "
      "containers keep running");
  if (auto s = p.notifier.stopping(); !s)
    base::log_debug("sd_notify STOPPING=1: {}", s.error().to_string());
  if (p.server) p.server->stop();
  if (p.source) p.source->stop();
  if (p.workers) p.workers->stop();  // leaves every container as it is
  if (p.eviction) p.eviction->stop();
  if (p.probe_manager) p.probe_manager->stop();
  if (p.runtime) p.runtime->shutdown();  // its timers and watches; containers run on
  if (p.log_retention) p.log_retention->stop();
  if (p.housekeeping_timer) p.housekeeping_timer->cancel();
  if (p.watchdog_timer) p.watchdog_timer->cancel();
  if (p.signals) {
    boost::system::error_code ignored;
    p.signals->cancel(ignored);
  }
}

void Agent::stop_on_signals(std::function<void(int)> on_signal) {
  Parts& p = *p_;
  p.signals = std::make_unique<asio::signal_set>(p.io, SIGTERM, SIGINT);
  p.signals->async_wait([this, alive = p.alive, on_signal = std::move(on_signal)](
                            const boost::system::error_code& ec, int signo) {
    if (ec || !*alive) return;
    if (on_signal) on_signal(signo);
    stop();
  });
}

bool Agent::ready() const { return p_->source && p_->source->ready(); }
std::optional<uint16_t> Agent::tcp_port() const { return p_->tcp_port; }
bool Agent::has_runtime() const { return p_->runtime != nullptr; }
PodStore& Agent::store() { return p_->store; }
ConfigObjectStore& Agent::config_objects() { return p_->config_objects; }
const static_pods::ManifestSource& Agent::manifests() const { return *p_->source; }
std::string Agent::metrics_text() const { return p_->registry.render(); }

}  // namespace podagent::agent
