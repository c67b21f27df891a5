#include "podworker/lifecycle.h"

#include <algorithm>

namespace podagent::podworker::lifecycle {
namespace {

// Every overload set below names each event type exactly once and has no
// generic branch, so adding an event (or a state) fails to compile until
// each state decides what it means.
template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

Terminating terminating(SteadyTime deadline, std::string reason, std::string message, bool deleted) {
  return Terminating{deadline, std::move(reason), std::move(message), deleted};
}

State on(const Pending& s, const Event& e, SteadyTime now) {
  return std::visit(
      Overloaded{
          [&](const Admitted&) -> State { return Running{now}; },
          [&](const Rejected& r) -> State { return Terminated{r.reason, r.message}; },
          [&](const Update&) -> State { return s; },
          // Nothing ran yet, but the runtime may still hold containers of
          // this UID from before an agent restart: stop them like any pod's.
          [&](const Delete& d) -> State { return terminating(now + d.grace, kReasonDeleted, "", true); },
          [&](const Completed&) -> State { return s; },
          [&](const DeadlineExceeded&) -> State { return s; },
          // Nothing of it runs, so nothing overuses anything.
          [&](const Evicted&) -> State { return s; },
          [&](const RuntimeStopped&) -> State { return s; },
      },
      e);
}

State on(const Running& s, const Event& e, SteadyTime now) {
  return std::visit(
      Overloaded{
          [&](const Admitted&) -> State { return s; },
          [&](const Rejected&) -> State { return s; },  // admission is only before the start
          [&](const Update&) -> State { return s; },
          [&](const Delete& d) -> State { return terminating(now + d.grace, kReasonDeleted, "", true); },
          [&](const Completed& c) -> State {
            return terminating(now + c.grace, c.reason, c.message, false);
          },
          [&](const DeadlineExceeded& d) -> State {
            return terminating(now + d.grace, kReasonDeadlineExceeded,
                               "Pod was active on the node longer than the specified deadline", false);
          },
          [&](const Evicted& ev) -> State {
            return terminating(now + ev.grace, kReasonEvicted, ev.message, false);
          },
          // Containers stopping while running is the planner's business.
          [&](const RuntimeStopped&) -> State { return s; },
      },
      e);
}

State on(const Terminating& s, const Event& e, SteadyTime now) {
  auto shrink = [&](Duration grace) {
    Terminating t = s;
    t.deadline = std::min(s.deadline, now + grace);
    return t;
  };
  return std::visit(
      Overloaded{
          [&](const Admitted&) -> State { return s; },
          [&](const Rejected&) -> State { return s; },
          [&](const Update&) -> State { return s; },
          [&](const Delete& d) -> State {
            Terminating t = shrink(d.grace);
            t.deleted = true;
            return t;
          },
          [&](const Completed& c) -> State { return shrink(c.grace); },
          [&](const DeadlineExceeded& d) -> State { return shrink(d.grace); },
          // Already stopping for its own reason, which it keeps.
          [&](const Evicted& ev) -> State { return shrink(ev.grace); },
          [&](const RuntimeStopped&) -> State {
            if (s.deleted) return Finished{};
            return Terminated{s.reason, s.message};
          },
      },
      e);
}

State on(const Terminated& s, const Event& e, SteadyTime) {
  return std::visit(
      Overloaded{
          [&](const Admitted&) -> State { return s; },
          [&](const Rejected&) -> State { return s; },
          [&](const Update&) -> State { return s; },
          [&](const Delete&) -> State { return Finished{}; },
          [&](const Completed&) -> State { return s; },
          [&](const DeadlineExceeded&) -> State { return s; },
          [&](const Evicted&) -> State { return s; },
          [&](const RuntimeStopped&) -> State { return s; },
      },
      e);
}

State on(const Finished& s, const Event& e, SteadyTime) {
  return std::visit(
      Overloaded{
          [&](const Admitted&) -> State { return s; },
          [&](const Rejected&) -> State { return s; },
          [&](const Update&) -> State { return s; },
          [&](const Delete&) -> State { return s; },
          [&](const Completed&) -> State { return s; },
          [&](const DeadlineExceeded&) -> State { return s; },
          [&](const Evicted&) -> State { return s; },
          [&](const RuntimeStopped&) -> State { return s; },
      },
      e);
}

}  // namespace

State next(const State& state, const Event& event, SteadyTime now) {
  return std::visit(
      Overloaded{
          [&](const Pending& s) { return on(s, event, now); },
          [&](const Running& s) { return on(s, event, now); },
          [&](const Terminating& s) { return on(s, event, now); },
          [&](const Terminated& s) { return on(s, event, now); },
          [&](const Finished& s) { return on(s, event, now); },
      },
      state);
}

bool is_terminal(const State& state) {
  return std::visit(Overloaded{
                        [](const Pending&) { return false; },
                        [](const Running&) { return false; },
                        [](const Terminating&) { return true; },
                        [](const Terminated&) { return true; },
                        [](const Finished&) { return true; },
                    },
                    state);
}

const char* state_name(const State& state) {
  return std::visit(Overloaded{
                        [](const Pending&) { return "Pending"; },
                        [](const Running&) { return "Running"; },
                        [](const Terminating&) { return "Terminating"; },
                        [](const Terminated&) { return "Terminated"; },
                        [](const Finished&) { return "Finished"; },
                    },
                    state);
}

}  // namespace podagent::podworker::lifecycle
