#pragma once

// Manifest texts shared by the static-pods tests.

#include <string>

namespace podagent::static_pods::testing_manifests {

inline std::string pod_yaml(const std::string& name, const std::string& image = "nginx:1.25") {
  return "apiVersion: v1\n"
         "kind: Pod\n"
         "metadata:\n"
         "  name: " +
         name +
         "\n"
         "spec:\n"
         "  containers:\n"
         "  - name: main\n"
         "    image: " +
         image + "\n";
}

// A pod whose only container has no image: decodes, fails validation at
// spec.containers[0].image.
inline std::string pod_without_image(const std::string& name) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\nspec:\n  containers:\n  - name: main\n";
}

inline std::string list_yaml(const std::string& a, const std::string& b) {
  return "apiVersion: v1\n"
         "kind: List\n"
         "items:\n"
         "- apiVersion: v1\n  kind: Pod\n  metadata: {name: " +
         a +
         "}\n"
         "  spec: {containers: [{name: main, image: busybox}]}\n"
         "- apiVersion: v1\n  kind: Pod\n  metadata: {name: " +
         b +
         "}\n"
         "  spec: {containers: [{name: main, image: busybox}]}\n";
}

}  // namespace podagent::static_pods::testing_manifests
