#pragma once

// Builders shared by the validation tests: a valid pod to break one field at
// a time, and the table-driven case fixture.

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "model/defaults.h"
#include "model/validation.h"

// Cases name only the fields they are about in designated initializers; the
// rest keep their defaults, which is what -Wmissing-field-initializers flags.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::model::testing_pods {

inline Quantity q(const char* text) {
  auto parsed = Quantity::parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : Quantity{};
}

inline Container container(std::string name, std::string image = "nginx:1.25") {
  Container c;
  c.name = std::move(name);
  c.image = std::move(image);
  return c;
}

inline Probe tcp_probe(IntOrString port) {
  Probe p;
  p.handler.tcp_socket = TcpSocketAction{.port = std::move(port)};
  return p;
}

inline IntOrString port_name(const char* name) { return IntOrString{std::string(name)}; }

// A valid pod: one app container with a named port and a mounted emptyDir.
// Cases mutate it and default it again, so each error is the only one.
inline Pod valid_pod() {
  Pod pod;
  pod.metadata.name = "web";
  pod.metadata.labels["app.kubernetes.io/name"] = "web";
  Volume data{.name = "data"};
  data.empty_dir = EmptyDirVolumeSource{};
  pod.spec.volumes.push_back(data);
  Container app = container("app");
  app.ports.push_back(ContainerPort{.name = "http", .container_port = 80});
  app.volume_mounts.push_back(VolumeMount{.name = "data", .mount_path = "/data"});
  pod.spec.containers.push_back(app);
  apply_defaults(pod);
  return pod;
}

inline std::vector<std::string> errors_of(const Pod& pod) {
  std::vector<std::string> out;
  for (const auto& e : validate_pod(pod)) out.push_back(e.to_string());
  return out;
}

inline Container& app(Pod& pod) { return pod.spec.containers[0]; }

struct Case {
  const char* name;
  std::function<void(Pod&)> mutate;
  std::vector<std::string> errors;  // exactly these, in any order; empty: valid
  bool redefault = true;            // apply_defaults after mutate, as a decoded pod gets
};

inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ValidationCaseTest : public testing::TestWithParam<Case> {};

}  // namespace podagent::model::testing_pods
