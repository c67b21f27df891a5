#include "podworker/spec_hash.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

namespace podagent::podworker {
namespace {

// FNV-1a 64 over a self-delimiting encoding: every value is preceded by a
// one-byte tag and strings by their length, so ("ab","c") and ("a","bc"),
// or an absent optional and an empty one, never encode the same.
class Hasher {
 public:
  void bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h_ ^= p[i];
      h_ *= 1099511628211ULL;
    }
  }
  void tag(char t) { bytes(&t, 1); }
  void u64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    bytes(b, 8);
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 14695981039346656037ULL;
};

void put(Hasher& h, std::string_view s) {
  h.tag('s');
  h.u64(s.size());
  h.bytes(s.data(), s.size());
}
void put(Hasher& h, const std::string& s) { put(h, std::string_view(s)); }
void put(Hasher& h, int64_t v) {
  h.tag('i');
  h.u64(static_cast<uint64_t>(v));
}
void put(Hasher& h, bool v) { h.tag(v ? 'T' : 'F'); }
void put(Hasher& h, const model::Quantity& q) {
  h.tag('q');
  h.u64(static_cast<uint64_t>(q.milli()));
}

template <typename T>
void put(Hasher& h, const std::optional<T>& v);
template <typename T>
void put(Hasher& h, const std::vector<T>& v);
template <typename K, typename V>
void put(Hasher& h, const std::map<K, V>& m);

// One function per struct, listing every field in declaration order.
template <typename... Fields>
void fields(Hasher& h, char struct_tag, const Fields&... f) {
  h.tag(struct_tag);
  (put(h, f), ...);
  h.tag('}');
}

void put(Hasher& h, const model::IntOrString& v) {
  if (v.is_int()) {
    put(h, v.int_value());
  } else {
    put(h, *v.string_value());
  }
}
void put(Hasher& h, const model::ExecAction& a) { fields(h, 'E', a.command); }
void put(Hasher& h, const model::HttpHeader& a) { fields(h, 'H', a.name, a.value); }
void put(Hasher& h, const model::HttpGetAction& a) {
  fields(h, 'G', a.path, a.port, a.host, a.scheme, a.http_headers);
}
void put(Hasher& h, const model::TcpSocketAction& a) { fields(h, 'C', a.port, a.host); }
void put(Hasher& h, const model::GrpcAction& a) { fields(h, 'R', a.port, a.service); }
void put(Hasher& h, const model::SleepAction& a) { fields(h, 'Z', a.seconds); }
void put(Hasher& h, const model::Handler& a) {
  fields(h, 'h', a.exec, a.http_get, a.tcp_socket, a.grpc, a.sleep);
}
void put(Hasher& h, const model::Probe& p) {
  fields(h, 'P', p.handler, p.initial_delay_seconds, p.timeout_seconds, p.period_seconds,
         p.success_threshold, p.failure_threshold, p.termination_grace_period_seconds);
}
void put(Hasher& h, const model::Lifecycle& l) { fields(h, 'L', l.post_start, l.pre_stop); }
void put(Hasher& h, const model::ObjectFieldSelector& s) { fields(h, 'O', s.api_version, s.field_path); }
void put(Hasher& h, const model::ResourceFieldSelector& s) {
  fields(h, 'F', s.container_name, s.resource, s.divisor);
}
void put(Hasher& h, const model::KeySelector& s) { fields(h, 'K', s.name, s.key, s.optional); }
void put(Hasher& h, const model::EnvVarSource& s) {
  fields(h, 'V', s.field_ref, s.resource_field_ref, s.config_map_key_ref, s.secret_key_ref);
}
void put(Hasher& h, const model::EnvVar& e) { fields(h, 'e', e.name, e.value, e.value_from); }
void put(Hasher& h, const model::EnvFromSource& e) {
  fields(h, 'f', e.prefix, e.config_map_ref, e.secret_ref);
}
void put(Hasher& h, const model::ContainerPort& p) {
  fields(h, 'p', p.name, p.container_port, p.host_port, p.protocol, p.host_ip);
}
void put(Hasher& h, const model::ResourceRequirements& r) { fields(h, 'r', r.requests, r.limits); }
void put(Hasher& h, const model::VolumeMount& m) {
  fields(h, 'm', m.name, m.mount_path, m.read_only, m.sub_path, m.sub_path_expr, m.mount_propagation);
}
void put(Hasher& h, const model::Capabilities& c) { fields(h, 'c', c.add, c.drop); }
void put(Hasher& h, const model::SeccompProfile& s) { fields(h, 'x', s.type, s.localhost_profile); }
void put(Hasher& h, const model::SecurityContext& s) {
  fields(h, 'S', s.privileged, s.capabilities, s.run_as_user, s.run_as_group, s.run_as_non_root,
         s.read_only_root_filesystem, s.allow_privilege_escalation, s.seccomp_profile, s.proc_mount);
}

template <typename T>
void put(Hasher& h, const std::optional<T>& v) {
  if (!v) {
    h.tag('-');
    return;
  }
  h.tag('+');
  put(h, *v);
}
template <typename T>
void put(Hasher& h, const std::vector<T>& v) {
  h.tag('[');
  h.u64(v.size());
  for (const auto& x : v) put(h, x);
}
template <typename K, typename V>
void put(Hasher& h, const std::map<K, V>& m) {
  h.tag('{');
  h.u64(m.size());
  for (const auto& [k, v] : m) {
    put(h, k);
    put(h, v);
  }
}

std::string to_hex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = kDigits[v & 0xf];
  return out;
}

}  // namespace

std::string container_spec_hash(const model::Container& c) {
  Hasher h;
  fields(h, 'X', c.name, c.image, c.image_pull_policy, c.command, c.args, c.working_dir, c.env,
         c.env_from, c.ports, c.resources, c.volume_mounts, c.liveness_probe, c.readiness_probe,
         c.startup_probe, c.lifecycle, c.security_context, c.restart_policy, c.stdin, c.stdin_once,
         c.tty, c.termination_message_path, c.termination_message_policy, c.target_container_name);
  return to_hex(h.value());
}

PodSpecHashes hash_pod_containers(const model::Pod& pod) {
  PodSpecHashes out;
  out.init.reserve(pod.spec.init_containers.size());
  for (const auto& c : pod.spec.init_containers) out.init.push_back(container_spec_hash(c));
  out.app.reserve(pod.spec.containers.size());
  for (const auto& c : pod.spec.containers) out.app.push_back(container_spec_hash(c));
  out.ephemeral.reserve(pod.spec.ephemeral_containers.size());
  for (const auto& c : pod.spec.ephemeral_containers) out.ephemeral.push_back(container_spec_hash(c));
  return out;
}

}  // namespace podagent::podworker
