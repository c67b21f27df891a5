#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podagent::agent {

// A small Prometheus registry: counters, gauges and fixed-bucket histograms
// with labels, rendered in the text exposition format 0.0.4.
//
// Not thread-safe: it lives on the io_context thread, like the rest of the
// agent's state. Registration is cheap but not free (it validates names);
// do it once and keep the handles. The hot path is inc()/set()/observe() on a
// Counter&, Gauge& or Histogram& handle, which formats no string.
//
// Metric and label names are constants of the program, so an invalid name, a
// name registered twice with another type or other labels, or a wrong number
// of label values is a broken invariant and aborts.
//
//   Registry reg;
//   auto& requests = reg.counter("podagent_api_requests_total", "API requests.",
//                                {"code", "method"});
//   requests.with({"200", "GET"}).inc();
//
// The names the agent registers (the composer owns registration; the
// AgentMetrics struct below registers the ones that are not read at scrape
// time):
//   podagent_pods{phase}                     gauge (scrape-time fn): pods by phase
//   podagent_container_restarts_total{namespace,pod,container}
//                                            counter: container restarts
//   podagent_pod_start_latency_seconds       histogram, kLatencyBuckets: from the
//                                            pod being desired to all its
//                                            containers running
//   podagent_pod_sync_duration_seconds       histogram, kLatencyBuckets: one pod sync
//   podagent_manifest_errors                 gauge (scrape-time fn): manifest files
//                                            currently in error
//   podagent_manifest_errors_total           counter: manifest read/decode errors
//   podagent_api_requests_total{code,method} counter: API requests answered
//   prober_probe_total{probe_type,result}     counter: probe attempts, by type
//                                            (readiness, liveness, startup) and
//                                            result (successful, failed): the
//                                            kubelet's name and labels
//   prober_probe_duration_seconds{probe_type} histogram, kLatencyBuckets: one
//                                            probe attempt

inline constexpr std::string_view kPodsMetric = "podagent_pods";
inline constexpr std::string_view kContainerRestartsMetric = "podagent_container_restarts_total";
inline constexpr std::string_view kPodStartLatencyMetric = "podagent_pod_start_latency_seconds";
inline constexpr std::string_view kPodSyncDurationMetric = "podagent_pod_sync_duration_seconds";
inline constexpr std::string_view kManifestErrorsMetric = "podagent_manifest_errors";
inline constexpr std::string_view kManifestErrorsTotalMetric = "podagent_manifest_errors_total";
inline constexpr std::string_view kApiRequestsMetric = "podagent_api_requests_total";
inline constexpr std::string_view kProbeResultsMetric = "prober_probe_total";
inline constexpr std::string_view kProbeDurationMetric = "prober_probe_duration_seconds";

// Upper bounds in seconds, 5 ms to 60 s; +Inf is always implied.
inline const std::vector<double> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                    1,     2.5,  5,     10,   30,  60};

// Label values, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

// Formats like Go's strconv.FormatFloat(v, 'g', -1, 64), as Prometheus does:
// the shortest digits that read back as `v`, in exponent form when the
// decimal exponent is < -4 or >= 6 ("0.005", "123456", "1e+06", "1.5e-05"),
// and "+Inf", "-Inf", "NaN".
std::string format_float(double v);

class Counter {
 public:
  // REQUIRES: by >= 0 (a counter never goes down).
  void inc(double by = 1);
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Gauge {
 public:
  void set(double v) { value_ = v; }
  void inc(double by = 1) { value_ += by; }
  void dec(double by = 1) { value_ -= by; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Histogram {
 public:
  // REQUIRES: `bounds` strictly increasing, finite (+Inf is implied).
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  // Counts `v` in the first bucket whose upper bound is >= v (NaN only in +Inf).
  void observe(double v);

  const std::vector<double>& bounds() const { return *bounds_; }
  // Cumulative count of observations <= bounds()[i]; i == bounds().size() is +Inf.
  std::uint64_t cumulative_count(std::size_t i) const;
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

// Aborts: a family was used with the wrong number of label values.
[[noreturn]] void abort_label_count(std::size_t expected, std::size_t got);

// Orders label-value tuples of any string-like element type, so lookups by
// string_views allocate nothing.
struct LabelValuesLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

// The series of one metric name, one per distinct tuple of label values.
// A family without labels has exactly one series, created at registration.
template <typename Metric>
class Family {
 public:
  Family(std::vector<std::string> label_names, Metric prototype)
      : label_names_(std::move(label_names)), prototype_(std::move(prototype)) {
    if (label_names_.empty()) series_.emplace(LabelValues{}, prototype_);
  }

  // The series for `values`, created (at zero) on first use. The reference
  // stays valid until that series is removed or the family destroyed.
  // REQUIRES: values.size() == label_names().size().
  Metric& with(std::initializer_list<std::string_view> values = {}) { return find(values); }
  Metric& with(const LabelValues& values) { return find(values); }

  // Drops one series (e.g. of a deleted pod), invalidating its handle.
  void remove(const LabelValues& values) {
    if (auto it = series_.find(values); it != series_.end()) series_.erase(it);
  }

  const std::vector<std::string>& label_names() const { return label_names_; }
  // The zero-valued series that new label values start from.
  const Metric& prototype() const { return prototype_; }
  const std::map<LabelValues, Metric, LabelValuesLess>& series() const { return series_; }

 private:
  template <typename Values>
  Metric& find(const Values& values) {
    if (values.size() != label_names_.size()) abort_label_count(label_names_.size(), values.size());
    auto it = series_.find(values);
    if (it == series_.end()) {
      it = series_.emplace(LabelValues(values.begin(), values.end()), prototype_).first;
    }
    return it->second;
  }

  std::vector<std::string> label_names_;
  Metric prototype_;
  std::map<LabelValues, Metric, LabelValuesLess> series_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// One sample of a labelled scrape-time gauge.
struct GaugeSample {
  LabelValues labels;
  double value = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a family, or returns the existing one of that name when its
  // type and label names match (help text of the first registration wins).
  CounterFamily& counter(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string_view name, std::string_view help,
                     std::vector<std::string> label_names = {});
  // REQUIRES: `buckets` strictly increasing; a trailing +Inf is dropped.
  HistogramFamily& histogram(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names, std::vector<double> buckets);

  // A gauge whose value is read by calling `fn` at each render(), on the
  // rendering thread. Registering the name again replaces the function.
  void set_gauge_fn(std::string_view name, std::string_view help, std::function<double()> fn);
  // The same with labels: `fn` returns one sample per series (any order;
  // each sample's labels must match label_names in number).
  void set_gauge_fn(std::string_view name, std::string_view help,
                    std::vector<std::string> label_names,
                    std::function<std::vector<GaugeSample>()> fn);

  // The text exposition format 0.0.4 (content type
  // "text/plain; version=0.0.4; charset=utf-8"): families sorted by name,
  // series by label values (labels in registration order), each family with
  // its # HELP and # TYPE lines. Families with no series are left out.
  std::string render() const;

  struct Entry;

 private:
  // The family of `name` as a T, made by `make()` when new (defined in the .cc).
  template <typename T, typename Make>
  T& find_or_add(std::string_view name, std::string_view help,
                 const std::vector<std::string>& label_names, Make make);

  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
};

// The families the agent updates as things happen (the scrape-time gauges
// podagent_pods and podagent_manifest_errors are set_gauge_fn of the composer).
struct AgentMetrics {
  explicit AgentMetrics(Registry& registry);

  CounterFamily& container_restarts;  // {namespace, pod, container}
  Histogram& pod_start_latency;
  Histogram& pod_sync_duration;
  Counter& manifest_errors_total;
  CounterFamily& api_requests;      // {code, method}
  CounterFamily& probe_results;     // {probe_type, result}
  HistogramFamily& probe_duration;  // {probe_type}
};

}  // namespace podagent::agent
