#include "podworker/admission.h"

#include <algorithm>
#include <string_view>

namespace podagent::podworker {

namespace {

// The container's request of each resource, defaulted from its limit.
model::ResourceList container_requests(const model::Container& c) {
  model::ResourceList out = c.resources.requests;
  for (const auto& [name, limit] : c.resources.limits) out.try_emplace(name, limit);
  return out;
}

void add_to(model::ResourceList& sum, const model::ResourceList& add) {
  for (const auto& [name, q] : add) {
    auto [it, inserted] = sum.try_emplace(name, q);
    if (!inserted) it->second = model::Quantity::from_milli(it->second.milli() + q.milli());
  }
}

void max_into(model::ResourceList& acc, const model::ResourceList& other) {
  for (const auto& [name, q] : other) {
    auto [it, inserted] = acc.try_emplace(name, q);
    if (!inserted && q > it->second) it->second = q;
  }
}

// cpu in millicores, everything else in whole units, as the kubelet counts.
std::map<std::string, int64_t> to_units(const model::ResourceList& list) {
  std::map<std::string, int64_t> out;
  for (const auto& [name, q] : list) out[name] = name == "cpu" ? q.milli() : q.value();
  return out;
}

std::string insufficient_message(std::string_view resource, int64_t requested, int64_t used,
                                 int64_t capacity) {
  return "Node didn't have enough resource: " + std::string(resource) +
         ", requested: " + std::to_string(requested) + ", used: " + std::to_string(used) +
         ", capacity: " + std::to_string(capacity);
}

AdmitResult refuse(std::string_view resource, int64_t requested, int64_t used, int64_t capacity) {
  return AdmitResult{false, "OutOf" + std::string(resource),
                     insufficient_message(resource, requested, used, capacity)};
}

}  // namespace

model::ResourceList effective_requests(const model::PodSpec& spec) {
  model::ResourceList sum;
  for (const auto& c : spec.containers) add_to(sum, container_requests(c));

  model::ResourceList sidecars_so_far;
  model::ResourceList init_peak;
  for (const auto& c : spec.init_containers) {
    model::ResourceList req = container_requests(c);
    if (c.is_sidecar()) {
      add_to(sum, req);
      add_to(sidecars_so_far, req);
      max_into(init_peak, sidecars_so_far);
    } else {
      add_to(req, sidecars_so_far);
      max_into(init_peak, req);
    }
  }
  max_into(sum, init_peak);
  return sum;
}

std::optional<AdmitResult> Admitter::check_resources(
    const std::map<std::string, int64_t>& req) const {
  auto used = [&](const std::string& name) {
    auto it = used_.find(name);
    return it == used_.end() ? int64_t{0} : it->second;
  };
  auto requested = [&](const std::string& name) {
    auto it = req.find(name);
    return it == req.end() ? int64_t{0} : it->second;
  };
  // Each check as the kubelet makes it: only a positive request is checked.
  auto over = [&](const std::string& name, int64_t capacity) {
    int64_t r = requested(name);
    return r > 0 && r > capacity - used(name);
  };
  if (over("cpu", node_.cpu_milli))
    return refuse("cpu", requested("cpu"), used("cpu"), node_.cpu_milli);
  if (over("memory", node_.memory_bytes))
    return refuse("memory", requested("memory"), used("memory"), node_.memory_bytes);
  if (node_.ephemeral_storage_bytes && over("ephemeral-storage", *node_.ephemeral_storage_bytes))
    return refuse("ephemeral-storage", requested("ephemeral-storage"), used("ephemeral-storage"),
                  *node_.ephemeral_storage_bytes);
  for (const auto& [name, capacity] : node_.extended) {
    if (over(name, capacity)) return refuse(name, requested(name), used(name), capacity);
  }
  return std::nullopt;
}

bool Admitter::ports_free(const std::vector<HostPort>& wanted) const {
  for (const auto& [protocol, ip, port] : wanted) {
    for (const auto& [held, count] : used_ports_) {
      const auto& [held_protocol, held_ip, held_port] = held;
      if (held_protocol != protocol || held_port != port) continue;
      if (held_ip == ip || held_ip == "0.0.0.0" || ip == "0.0.0.0") return false;
    }
  }
  return true;
}

std::optional<AdmitResult> Admitter::check_runtime_class(const model::Pod& pod) const {
  const auto& name = pod.spec.runtime_class_name;
  if (!name || name->empty() || !handlers_ || handlers_->contains(*name)) return std::nullopt;
  std::string known;
  for (const auto& h : *handlers_) known += (known.empty() ? "" : ", ") + h;
  return AdmitResult{false, kReasonRuntimeClassNotFound,
                     "RuntimeClass \"" + *name + "\" not found: " +
                         (known.empty() ? std::string("the node has no runtime handlers")
                                        : "the node's runtime handlers are " + known)};
}

AdmitResult Admitter::admit(const model::Pod& pod) {
  base::PodUid uid(pod.metadata.uid);
  if (pods_.contains(uid)) return AdmitResult{true, "", ""};
  if (auto refused = check_runtime_class(pod)) return *refused;

  int64_t pod_count = static_cast<int64_t>(pods_.size());
  if (pod_count + 1 > node_.pods) return refuse("pods", 1, pod_count, node_.pods);

  Held held;
  held.requests = to_units(effective_requests(pod.spec));
  if (auto refused = check_resources(held.requests)) return *refused;

  for (const auto* list : {&pod.spec.init_containers, &pod.spec.containers}) {
    for (const auto& c : *list) {
      for (const auto& p : c.ports) {
        if (p.host_port <= 0) continue;
        held.ports.emplace_back(p.protocol.empty() ? "TCP" : p.protocol,
                                p.host_ip.empty() ? "0.0.0.0" : p.host_ip, p.host_port);
      }
    }
  }
  if (!ports_free(held.ports)) {
    return AdmitResult{false, kReasonNodePorts,
                       "Predicate NodePorts failed: node(s) didn't have free ports for the "
                       "requested pod ports"};
  }

  for (const auto& [name, amount] : held.requests) used_[name] += amount;
  for (const auto& port : held.ports) ++used_ports_[port];
  pods_.emplace(std::move(uid), std::move(held));
  return AdmitResult{true, "", ""};
}

void Admitter::release(const base::PodUid& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  for (const auto& [name, amount] : it->second.requests) {
    auto u = used_.find(name);
    u->second -= amount;
    if (u->second == 0) used_.erase(u);
  }
  for (const auto& port : it->second.ports) {
    auto p = used_ports_.find(port);
    if (--p->second == 0) used_ports_.erase(p);
  }
  pods_.erase(it);
}

}  // namespace podagent::podworker
