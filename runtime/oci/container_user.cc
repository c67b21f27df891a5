// Which ids a container's process runs as: the image's user resolved as
// runc's GetExecUser and containerd's WithUser/WithAdditionalGIDs do, with
// the securityContext over it as the kubelet and containerd apply it.

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/oci/oci_spec.h"

namespace podagent::runtime::oci {

namespace {

std::optional<uint32_t> parse_id(std::string_view s) {
  uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t end = s.find(sep, pos);
    out.push_back(
        s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) return out;
    pos = end + 1;
  }
}

// The colon-separated records of a passwd or group text that have at
// least `min_fields` fields and a numeric id in field 2; comments skipped.
template <typename Fn>
void for_each_record(std::string_view text, size_t min_fields, Fn&& fn) {
  for (std::string_view line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto fields = split(line, ':');
    if (fields.size() < min_fields) continue;
    auto id = parse_id(fields[2]);
    if (!id) continue;
    if (fn(fields, *id)) return;
  }
}

void add_gid(std::vector<uint32_t>& gids, uint32_t gid) {
  if (std::find(gids.begin(), gids.end(), gid) == gids.end()) gids.push_back(gid);
}

}  // namespace

base::Result<ProcessUser> resolve_user(std::string_view user, std::string_view passwd,
                                       std::string_view group) {
  size_t colon = user.find(':');
  std::string_view user_part = user.substr(0, colon);
  std::optional<std::string_view> group_part;
  if (colon != std::string_view::npos) group_part = user.substr(colon + 1);
  if (user_part.empty()) user_part = "0";

  ProcessUser out;
  std::optional<uint32_t> uid = parse_id(user_part);
  std::string name;  // of the passwd entry found, for group membership
  bool found = false;
  for_each_record(passwd, 4, [&](const std::vector<std::string_view>& f, uint32_t id) {
    if (uid ? id != *uid : f[0] != user_part) return false;
    auto gid = parse_id(f[3]);
    if (!gid) return false;
    out.uid = id;
    out.gid = *gid;
    name = std::string(f[0]);
    return found = true;
  });
  if (!found) {
    if (!uid)
      return base::Error("unable to find user " + std::string(user_part) +
                         ": no matching entries in passwd file");
    out.uid = *uid;  // a numeric uid need not be in passwd; its gid is then 0
  }

  if (group_part && !group_part->empty()) {
    std::optional<uint32_t> gid = parse_id(*group_part);
    bool group_found = gid.has_value();
    if (!gid) {
      for_each_record(group, 3, [&](const std::vector<std::string_view>& f, uint32_t id) {
        if (f[0] != *group_part) return false;
        gid = id;
        return group_found = true;
      });
    }
    if (!group_found)
      return base::Error("unable to find group " + std::string(*group_part) +
                         ": no matching entries in group file");
    out.gid = *gid;
  }

  add_gid(out.additional_gids, out.gid);
  if (!group_part && !name.empty()) {
    for_each_record(group, 4, [&](const std::vector<std::string_view>& f, uint32_t id) {
      for (std::string_view member : split(f[3], ','))
        if (member == name) add_gid(out.additional_gids, id);
      return false;
    });
  }
  return out;
}

std::string container_field_path(const model::Pod& pod, const model::Container& container) {
  const std::pair<const std::vector<model::Container>*, const char*> lists[] = {
      {&pod.spec.init_containers, "initContainers"},
      {&pod.spec.containers, "containers"},
      {&pod.spec.ephemeral_containers, "ephemeralContainers"}};
  for (const auto& [list, field] : lists)
    for (size_t i = 0; i < list->size(); ++i)
      if (&(*list)[i] == &container)
        return "spec." + std::string(field) + "[" + std::to_string(i) + "]";
  for (const auto& [list, field] : lists)
    for (size_t i = 0; i < list->size(); ++i)
      if ((*list)[i].name == container.name)
        return "spec." + std::string(field) + "[" + std::to_string(i) + "]";
  return "spec.containers[?]";
}

namespace {

// The kubelet's verifyRunAsNonRoot (pkg/kubelet/kuberuntime), on the
// effective runAsNonRoot and runAsUser and the image's user (the part before
// any ':'), with its messages; `where` says where each setting came from.
base::Status verify_run_as_non_root(const model::Pod& pod, const model::Container& container,
                                    std::optional<int64_t> run_as_user,
                                    std::string_view image_user, const std::string& non_root_at,
                                    const std::string& run_as_user_at) {
  // format.Pod: name_namespace(uid), quoted as Go's %q quotes it.
  const std::string who = "(pod: \"" + pod.metadata.name + "_" + pod.metadata.namespace_ + "(" +
                          pod.metadata.uid + ")\", container: " + container.name + ")";
  if (run_as_user) {
    if (*run_as_user == 0)
      return base::Error("container's runAsUser breaks non-root policy " + who, run_as_user_at);
    return {};
  }
  if (image_user.empty())  // no user in the image: the kubelet takes it as root
    return base::Error("container has runAsNonRoot and image will run as root " + who,
                       non_root_at);
  std::optional<uint32_t> uid = parse_id(image_user);
  if (!uid)
    return base::Error("container has runAsNonRoot and image has non-numeric user (" +
                           std::string(image_user) + "), cannot verify user is non-root " + who,
                       non_root_at);
  if (*uid == 0)
    return base::Error("container has runAsNonRoot and image will run as root " + who,
                       non_root_at);
  constexpr uint32_t kMaxUserId = 2147483647;
  if (*uid > kMaxUserId)
    return base::Error("container has runAsNonRoot and image has an invalid user id (" +
                           std::to_string(*uid) + "). (Must be 1-(" + std::to_string(kMaxUserId) +
                           ")): must be between 0 and " + std::to_string(kMaxUserId) +
                           ", inclusive " + who,
                       non_root_at);
  return {};
}

}  // namespace

base::Result<ProcessUser> container_user(const model::Pod& pod, const model::Container& container,
                                         const ImageConfig& image, std::string_view passwd,
                                         std::string_view group) {
  const auto& csc = container.security_context;
  const auto& psc = pod.spec.security_context;
  const std::string path = container_field_path(pod, container);
  // The container's securityContext first, then the pod's; the fields of
  // errors follow where each setting came from.
  std::optional<int64_t> run_as_user, run_as_group;
  std::optional<bool> non_root;
  std::string non_root_at, run_as_user_at;
  if (psc) {
    run_as_user = psc->run_as_user;
    run_as_group = psc->run_as_group;
    non_root = psc->run_as_non_root;
    non_root_at = "spec.securityContext.runAsNonRoot";
    run_as_user_at = "spec.securityContext.runAsUser";
  }
  if (csc) {
    if (csc->run_as_user) {
      run_as_user = csc->run_as_user;
      run_as_user_at = path + ".securityContext.runAsUser";
    }
    if (csc->run_as_group) run_as_group = csc->run_as_group;
    if (csc->run_as_non_root) {
      non_root = csc->run_as_non_root;
      non_root_at = path + ".securityContext.runAsNonRoot";
    }
  }

  std::string_view image_user = image.user;
  std::string user_part(image_user.substr(0, image_user.find(':')));
  if (non_root.value_or(false)) {
    auto st = verify_run_as_non_root(pod, container, run_as_user, user_part, non_root_at,
                                     run_as_user_at);
    if (!st) return st.error();
  }
  std::string spec = image.user;
  if (run_as_user) {
    // containerd builds the user from the CRI fields alone once runAsUser
    // is set: the image's group is dropped too.
    spec = std::to_string(*run_as_user);
    if (run_as_group) spec += ":" + std::to_string(*run_as_group);
  } else if (run_as_group) {
    spec = user_part + ":" + std::to_string(*run_as_group);
  }

  auto user = resolve_user(spec, passwd, group);
  if (!user) return user.error();
  if (psc) {
    for (int64_t g : psc->supplemental_groups)
      add_gid(user->additional_gids, static_cast<uint32_t>(g));
    if (psc->fs_group) add_gid(user->additional_gids, static_cast<uint32_t>(*psc->fs_group));
  }
  return user;
}

}  // namespace podagent::runtime::oci
