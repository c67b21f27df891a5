#include "agent/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>
#include <variant>

namespace podagent::agent {

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "podagent: metrics: %s\n", why.c_str());
  std::abort();
}

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void check_names(std::string_view name, const std::vector<std::string>& label_names,
                 bool histogram) {
  if (!valid_name(name, true)) die("invalid metric name \"" + std::string(name) + "\"");
  for (const auto& label : label_names) {
    // Names starting with "__" are reserved for Prometheus itself; "le" is
    // the histogram's bucket label.
    if (!valid_name(label, false) || label.starts_with("__") || (histogram && label == "le")) {
      die("invalid label name \"" + label + "\" of " + std::string(name));
    }
  }
}

// HELP text escapes backslash and newline; label values also the quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        out += quote ? "\\\"" : "\"";
        break;
      default:
        out += c;
    }
  }
}

// `name{l1="v1",l2="v2"[,le="bound"]} value\n`, without braces when no labels.
void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& names,
                   const LabelValues& values, const std::string* le, double value) {
  out += name;
  if (!names.empty() || le) {
    out += '{';
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += ',';
      out += names[i];
      out += "=\"";
      append_escaped(out, values[i], true);
      out += '"';
    }
    if (le) {
      if (!names.empty()) out += ',';
      out += "le=\"";
      out += *le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_float(value);
  out += '\n';
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

struct ScalarGaugeFn {
  std::function<double()> fn;
};
struct LabelledGaugeFn {
  std::function<std::vector<GaugeSample>()> fn;
};

}  // namespace

void abort_label_count(std::size_t expected, std::size_t got) {
  die("metric family has " + std::to_string(expected) + " labels, used with " +
      std::to_string(got) + " values");
}

std::string format_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view text(buf, sci.ptr - buf);
  std::string_view exp_text = text.substr(text.find('e') + 1);
  if (exp_text.starts_with('+')) exp_text.remove_prefix(1);  // from_chars takes no '+'
  int exp = 0;
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  if (exp < -4 || exp >= 6) return std::string(text);
  // In this range the shortest fixed form has the same digits as the
  // shortest scientific one.
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr - buf);
}

void Counter::inc(double by) {
  if (!(by >= 0)) die("counter decremented by " + format_float(by));
  value_ += by;
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_->size() + 1, 0) {}

void Histogram::observe(double v) {
  std::size_t i = bounds_->size();  // +Inf, where NaN goes too
  if (!std::isnan(v)) {
    i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
  }
  ++counts_[i];
  ++count_;
  sum_ += v;
}

std::uint64_t Histogram::cumulative_count(std::size_t i) const {
  std::uint64_t total = 0;
  for (std::size_t b = 0; b <= i && b < counts_.size(); ++b) total += counts_[b];
  return total;
}

struct Registry::Entry {
  std::string help;
  std::vector<std::string> label_names;
  std::variant<CounterFamily, GaugeFamily, HistogramFamily, ScalarGaugeFn, LabelledGaugeFn> family;
};

Registry::Registry() = default;
Registry::~Registry() = default;

template <typename T, typename Make>
T& Registry::find_or_add(std::string_view name, std::string_view help,
                         const std::vector<std::string>& label_names, Make make) {
  check_names(name, label_names, std::is_same_v<T, HistogramFamily>);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    auto entry = std::unique_ptr<Entry>(new Entry{std::string(help), label_names, make()});
    it = entries_.emplace(std::string(name), std::move(entry)).first;
  }
  Entry& entry = *it->second;
  T* family = std::get_if<T>(&entry.family);
  if (!family || entry.label_names != label_names) {
    die("metric " + std::string(name) + " registered twice with another type or labels");
  }
  return *family;
}

CounterFamily& Registry::counter(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names) {
  return find_or_add<CounterFamily>(name, help, label_names,
                                    [&] { return CounterFamily(label_names, Counter()); });
}

GaugeFamily& Registry::gauge(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names) {
  return find_or_add<GaugeFamily>(name, help, label_names,
                                  [&] { return GaugeFamily(label_names, Gauge()); });
}

HistogramFamily& Registry::histogram(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> buckets) {
  if (!buckets.empty() && buckets.back() == std::numeric_limits<double>::infinity()) {
    buckets.pop_back();
  }
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && !(buckets[i - 1] < buckets[i]))) {
      die("histogram " + std::string(name) + " buckets are not finite and increasing");
    }
  }
  auto& family = find_or_add<HistogramFamily>(name, help, label_names, [&] {
    auto bounds = std::make_shared<const std::vector<double>>(buckets);
    return HistogramFamily(label_names, Histogram(std::move(bounds)));
  });
  if (family.prototype().bounds() != buckets) {
    die("histogram " + std::string(name) + " registered twice with other buckets");
  }
  return family;
}

void Registry::set_gauge_fn(std::string_view name, std::string_view help,
                            std::function<double()> fn) {
  find_or_add<ScalarGaugeFn>(name, help, {}, [] { return ScalarGaugeFn{}; }).fn = std::move(fn);
}

void Registry::set_gauge_fn(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names,
                            std::function<std::vector<GaugeSample>()> fn) {
  find_or_add<LabelledGaugeFn>(name, help, label_names, [] { return LabelledGaugeFn{}; }).fn =
      std::move(fn);
}

namespace {

void render_histogram(std::string& out, std::string_view name, const HistogramFamily& family) {
  const std::string bucket = std::string(name) + "_bucket";
  const std::string sum = std::string(name) + "_sum";
  const std::string count = std::string(name) + "_count";
  const auto& names = family.label_names();
  for (const auto& [values, h] : family.series()) {
    for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
      std::string le = format_float(
          i < h.bounds().size() ? h.bounds()[i] : std::numeric_limits<double>::infinity());
      append_sample(out, bucket, names, values, &le, double(h.cumulative_count(i)));
    }
    append_sample(out, sum, names, values, nullptr, h.sum());
    append_sample(out, count, names, values, nullptr, double(h.count()));
  }
}

template <typename Metric>
void render_simple(std::string& out, std::string_view name, const Family<Metric>& family) {
  for (const auto& [values, metric] : family.series()) {
    append_sample(out, name, family.label_names(), values, nullptr, metric.value());
  }
}

void render_entry(std::string& out, std::string_view name, const Registry::Entry& entry) {
  std::visit(
      [&](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, CounterFamily>) {
          if (f.series().empty()) return;
          append_header(out, name, entry.help, "counter");
          render_simple(out, name, f);
        } else if constexpr (std::is_same_v<T, GaugeFamily>) {
          if (f.series().empty()) return;
          append_header(out, name, entry.help, "gauge");
          render_simple(out, name, f);
        } else if constexpr (std::is_same_v<T, HistogramFamily>) {
          if (f.series().empty()) return;
          append_header(out, name, entry.help, "histogram");
          render_histogram(out, name, f);
        } else if constexpr (std::is_same_v<T, ScalarGaugeFn>) {
          if (!f.fn) return;
          append_header(out, name, entry.help, "gauge");
          append_sample(out, name, {}, {}, nullptr, f.fn());
        } else {
          static_assert(std::is_same_v<T, LabelledGaugeFn>);
          std::vector<GaugeSample> samples = f.fn ? f.fn() : std::vector<GaugeSample>{};
          if (samples.empty()) return;
          std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) {
            return LabelValuesLess()(a.labels, b.labels);
          });
          append_header(out, name, entry.help, "gauge");
          for (const auto& s : samples) {
            if (s.labels.size() != entry.label_names.size()) {
              abort_label_count(entry.label_names.size(), s.labels.size());
            }
            append_sample(out, name, entry.label_names, s.labels, nullptr, s.value);
          }
        }
      },
      entry.family);
}

}  // namespace

std::string Registry::render() const {
  std::string out;
  for (const auto& [name, entry] : entries_) render_entry(out, name, *entry);
  return out;
}

AgentMetrics::AgentMetrics(Registry& r)
    : container_restarts(r.counter(kContainerRestartsMetric, "Container restarts.",
                                   {"namespace", "pod", "container"})),
      pod_start_latency(
          r.histogram(kPodStartLatencyMetric,
                      "Seconds from a pod being desired to all its containers running.", {},
                      kLatencyBuckets)
              .with()),
      pod_sync_duration(
          r.histogram(kPodSyncDurationMetric, "Seconds taken by one pod sync.", {}, kLatencyBuckets)
              .with()),
      manifest_errors_total(
          r.counter(kManifestErrorsTotalMetric, "Manifest files that could not be read or decoded.")
              .with()),
      api_requests(r.counter(kApiRequestsMetric,
                             "API requests answered, by status code and method.",
                             {"code", "method"})),
      probe_results(r.counter(kProbeResultsMetric, "Probe attempts, by probe type and result.",
                              {"probe_type", "result"})),
      probe_duration(r.histogram(kProbeDurationMetric, "Seconds taken by one probe attempt, by probe type.",
                                 {"probe_type"}, kLatencyBuckets)) {}

}  // namespace podagent::agent
