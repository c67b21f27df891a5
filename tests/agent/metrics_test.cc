#include "agent/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace podagent::agent {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(MetricsFormatFloat, MatchesGoStrconvG) {
  struct Case {
    double v;
    const char* want;
  };
  const Case cases[] = {
      {0, "0"},
      {-0.0, "-0"},
      {1, "1"},
      {-2, "-2"},
      {0.005, "0.005"},
      {0.1, "0.1"},
      {2.5, "2.5"},
      {60, "60"},
      {0.0001, "0.0001"},  // exponent -4: still fixed
      {0.00001, "1e-05"},  // exponent -5: exponent form
      {0.000015, "1.5e-05"},
      {123456, "123456"},  // exponent 5: fixed
      {1e6, "1e+06"},      // exponent 6: exponent form
      {1234567, "1.234567e+06"},
      {1e100, "1e+100"},
      {1.0 / 3, "0.3333333333333333"},
      {kInf, "+Inf"},
      {-kInf, "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_float(c.v), c.want) << c.want;
}

TEST(MetricsRegistry, EmptyRegistryRendersNothing) {
  Registry reg;
  EXPECT_EQ(reg.render(), "");
}

TEST(MetricsRegistry, UnlabelledCounterStartsAtZero) {
  Registry reg;
  reg.counter("jobs_total", "Jobs done.");
  EXPECT_EQ(reg.render(),
            "# HELP jobs_total Jobs done.\n"
            "# TYPE jobs_total counter\n"
            "jobs_total 0\n");
  reg.counter("jobs_total", "Jobs done.").with().inc();
  reg.counter("jobs_total", "Jobs done.").with().inc(0.5);
  EXPECT_EQ(reg.render(),
            "# HELP jobs_total Jobs done.\n"
            "# TYPE jobs_total counter\n"
            "jobs_total 1.5\n");
}

TEST(MetricsRegistry, FamiliesSortedByNameAndSeriesByLabels) {
  Registry reg;
  auto& requests = reg.counter("podagent_api_requests_total", "API requests.", {"code", "method"});
  auto& pods = reg.gauge("a_pods", "Pods.", {"phase"});
  requests.with({"404", "GET"}).inc();
  requests.with({"200", "POST"}).inc(2);
  requests.with({"200", "GET"}).inc(3);
  pods.with({"Running"}).set(4);
  pods.with({"Pending"}).set(1);
  pods.with({"Pending"}).dec();
  EXPECT_EQ(reg.render(),
            "# HELP a_pods Pods.\n"
            "# TYPE a_pods gauge\n"
            "a_pods{phase=\"Pending\"} 0\n"
            "a_pods{phase=\"Running\"} 4\n"
            "# HELP podagent_api_requests_total API requests.\n"
            "# TYPE podagent_api_requests_total counter\n"
            "podagent_api_requests_total{code=\"200\",method=\"GET\"} 3\n"
            "podagent_api_requests_total{code=\"200\",method=\"POST\"} 2\n"
            "podagent_api_requests_total{code=\"404\",method=\"GET\"} 1\n");
}

TEST(MetricsRegistry, LabelledFamilyWithoutSeriesIsLeftOut) {
  Registry reg;
  reg.counter("restarts_total", "Restarts.", {"pod"});
  EXPECT_EQ(reg.render(), "");
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
  Registry reg;
  reg.gauge("g", "Help with \\ backslash,\nnewline and \"quotes\".", {"v"})
      .with({"a\\b\"c\nd"})
      .set(1);
  EXPECT_EQ(reg.render(),
            "# HELP g Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsRegistry, HandlesStayValidAndLookupsFindTheSameSeries) {
  Registry reg;
  auto& family = reg.counter("c_total", "C.", {"a", "b"});
  Counter& handle = family.with({"x", "y"});
  for (int i = 0; i < 100; ++i) family.with(LabelValues{"k" + std::to_string(i), "y"});
  handle.inc();
  EXPECT_EQ(&family.with(LabelValues{"x", "y"}), &handle);
  EXPECT_EQ(family.with({"x", "y"}).value(), 1);
  EXPECT_EQ(family.series().size(), 101u);
}

TEST(MetricsRegistry, RemoveDropsOneSeries) {
  Registry reg;
  auto& family = reg.counter("c_total", "C.", {"pod"});
  family.with({"a"}).inc();
  family.with({"b"}).inc();
  family.remove({"a"});
  family.remove({"missing"});
  EXPECT_EQ(reg.render(),
            "# HELP c_total C.\n"
            "# TYPE c_total counter\n"
            "c_total{pod=\"b\"} 1\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulative) {
  Registry reg;
  auto& h = reg.histogram("lat_seconds", "Latency.", {}, {0.005, 0.5, 1, 1e6}).with();
  h.observe(0.5);  // on a bound: counted in that bucket (le)
  h.observe(0.25);
  h.observe(0.125);
  h.observe(2e6);  // only in +Inf
  EXPECT_EQ(reg.render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"0.005\"} 0\n"
            "lat_seconds_bucket{le=\"0.5\"} 3\n"
            "lat_seconds_bucket{le=\"1\"} 3\n"
            "lat_seconds_bucket{le=\"1e+06\"} 3\n"
            "lat_seconds_bucket{le=\"+Inf\"} 4\n"
            "lat_seconds_sum 2.000000875e+06\n"  // exponent 6: exponent form
            "lat_seconds_count 4\n");
}

TEST(MetricsRegistry, LabelledHistogramPutsLeLast) {
  Registry reg;
  auto& family = reg.histogram("probe_seconds", "Probe.", {"type"}, {0.1, kInf});
  family.with({"tcp"}).observe(0.05);
  family.with({"exec"}).observe(0.2);
  EXPECT_EQ(reg.render(),
            "# HELP probe_seconds Probe.\n"
            "# TYPE probe_seconds histogram\n"
            "probe_seconds_bucket{type=\"exec\",le=\"0.1\"} 0\n"
            "probe_seconds_bucket{type=\"exec\",le=\"+Inf\"} 1\n"
            "probe_seconds_sum{type=\"exec\"} 0.2\n"
            "probe_seconds_count{type=\"exec\"} 1\n"
            "probe_seconds_bucket{type=\"tcp\",le=\"0.1\"} 1\n"
            "probe_seconds_bucket{type=\"tcp\",le=\"+Inf\"} 1\n"
            "probe_seconds_sum{type=\"tcp\"} 0.05\n"
            "probe_seconds_count{type=\"tcp\"} 1\n");
}

TEST(MetricsRegistry, HistogramNaNGoesToInfOnly) {
  Registry reg;
  auto& h = reg.histogram("h", "H.", {}, {1}).with();
  h.observe(std::nan(""));
  EXPECT_EQ(h.cumulative_count(0), 0u);
  EXPECT_EQ(h.cumulative_count(1), 1u);
  EXPECT_EQ(h.count(), 1u);
}

TEST(MetricsRegistry, GaugeFunctionsAreReadAtRender) {
  Registry reg;
  double errors = 2;
  reg.set_gauge_fn("podagent_manifest_errors", "Manifest errors.", [&] { return errors; });
  std::vector<GaugeSample> phases = {{{"Running"}, 3}, {{"Failed"}, 1}};
  reg.set_gauge_fn("podagent_pods", "Pods by phase.", {"phase"}, [&] { return phases; });
  errors = 5;
  EXPECT_EQ(reg.render(),
            "# HELP podagent_manifest_errors Manifest errors.\n"
            "# TYPE podagent_manifest_errors gauge\n"
            "podagent_manifest_errors 5\n"
            "# HELP podagent_pods Pods by phase.\n"
            "# TYPE podagent_pods gauge\n"
            "podagent_pods{phase=\"Failed\"} 1\n"
            "podagent_pods{phase=\"Running\"} 3\n");
  // Registering again replaces the function.
  reg.set_gauge_fn("podagent_manifest_errors", "Manifest errors.", [] { return 0.0; });
  phases.clear();
  EXPECT_EQ(reg.render(),
            "# HELP podagent_manifest_errors Manifest errors.\n"
            "# TYPE podagent_manifest_errors gauge\n"
            "podagent_manifest_errors 0\n");
}

TEST(MetricsRegistry, AgentMetricsRegistersTheDocumentedNames) {
  Registry reg;
  AgentMetrics m(reg);
  m.container_restarts.with({"default", "web", "nginx"}).inc();
  m.pod_start_latency.observe(0.02);
  m.manifest_errors_total.inc();
  m.api_requests.with({"200", "GET"}).inc();
  const std::string text = reg.render();
  EXPECT_NE(text.find("podagent_container_restarts_total{namespace=\"default\",pod=\"web\","
                      "container=\"nginx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("podagent_pod_start_latency_seconds_bucket{le=\"0.025\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("podagent_pod_start_latency_seconds_bucket{le=\"0.01\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("podagent_pod_start_latency_seconds_bucket{le=\"60\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE podagent_pod_sync_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("podagent_manifest_errors_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("podagent_api_requests_total{code=\"200\",method=\"GET\"} 1\n"),
            std::string::npos);
  // Registering the same family again returns the same handle.
  EXPECT_EQ(&reg.counter(kApiRequestsMetric, "x", {"code", "method"}), &m.api_requests);
}

using MetricsDeathTest = ::testing::Test;

TEST_F(MetricsDeathTest, MisuseIsABrokenInvariant) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry reg;
  auto& family = reg.counter("c_total", "C.", {"a"});
  EXPECT_DEATH(family.with({"x", "y"}), "1 labels, used with 2");
  EXPECT_DEATH(reg.gauge("c_total", "C.", {"a"}), "registered twice");
  EXPECT_DEATH(reg.counter("c_total", "C.", {"b"}), "registered twice");
  EXPECT_DEATH(reg.counter("bad-name", "C."), "invalid metric name");
  EXPECT_DEATH(reg.histogram("h", "H.", {"le"}, {1}), "invalid label name");
  EXPECT_DEATH(reg.histogram("h", "H.", {}, {2, 1}), "increasing");
  EXPECT_DEATH(family.with({"x"}).inc(-1), "decremented");
  reg.histogram("h2", "H.", {}, {1, 2});
  EXPECT_DEATH(reg.histogram("h2", "H.", {}, {1, 3}), "other buckets");
}

}  // namespace
}  // namespace podagent::agent
