#include "podworker/lifecycle.h"

#include <gtest/gtest.h>

#include <vector>

namespace podagent::podworker::lifecycle {
namespace {

using namespace std::chrono_literals;

const SteadyTime kT0 = SteadyTime{} + 1000s;

struct Row {
  const char* what;
  State from;
  Event event;
  State to;
};

class LifecycleTable : public testing::TestWithParam<Row> {};

TEST_P(LifecycleTable, Next) {
  const Row& r = GetParam();
  EXPECT_EQ(next(r.from, r.event, kT0), r.to) << r.what << ": from " << state_name(r.from);
}

const Terminating kDeleting{kT0 + 30s, kReasonDeleted, "", true};
const Terminating kCompleting{kT0 + 30s, "Completed", "", false};
const char* kDeadlineMessage = "Pod was active on the node longer than the specified deadline";

INSTANTIATE_TEST_SUITE_P(
    Lifecycle, LifecycleTable,
    testing::Values(
        // Pending
        Row{"admitted starts", Pending{}, Admitted{}, Running{kT0}},
        Row{"rejected never starts", Pending{}, Rejected{"OutOfcpu", "no cpu"}, Terminated{"OutOfcpu", "no cpu"}},
        Row{"update keeps pending", Pending{}, Update{}, Pending{}},
        Row{"delete before start", Pending{}, Delete{30s}, kDeleting},
        Row{"pending ignores completed", Pending{}, Completed{1s, "Completed", ""}, Pending{}},
        Row{"pending ignores deadline", Pending{}, DeadlineExceeded{1s}, Pending{}},
        Row{"pending ignores stopped", Pending{}, RuntimeStopped{}, Pending{}},
        // Running
        Row{"admitted twice keeps start", Running{kT0 - 5s}, Admitted{}, Running{kT0 - 5s}},
        Row{"no rejection after start", Running{kT0}, Rejected{"OutOfcpu", ""}, Running{kT0}},
        Row{"update keeps running", Running{kT0}, Update{}, Running{kT0}},
        Row{"delete terminates", Running{kT0}, Delete{30s}, kDeleting},
        Row{"completed terminates, keeps status", Running{kT0}, Completed{30s, "Completed", ""}, kCompleting},
        Row{"deadline exceeded", Running{kT0}, DeadlineExceeded{5s},
            Terminating{kT0 + 5s, kReasonDeadlineExceeded, kDeadlineMessage, false}},
        Row{"containers stopping is the planner's", Running{kT0}, RuntimeStopped{}, Running{kT0}},
        // Terminating
        Row{"terminating ignores admitted", kDeleting, Admitted{}, kDeleting},
        Row{"terminating ignores rejected", kDeleting, Rejected{"x", ""}, kDeleting},
        Row{"terminating ignores update", kDeleting, Update{}, kDeleting},
        Row{"shorter grace shrinks", kDeleting, Delete{10s}, Terminating{kT0 + 10s, kReasonDeleted, "", true}},
        Row{"longer grace keeps the shorter", kDeleting, Delete{60s}, kDeleting},
        Row{"delete of a completing pod finishes it", kCompleting, Delete{60s},
            Terminating{kT0 + 30s, "Completed", "", true}},
        Row{"completed shrinks only", kCompleting, Completed{0s, "Completed", ""},
            Terminating{kT0, "Completed", "", false}},
        Row{"deadline shrinks only", kCompleting, DeadlineExceeded{60s}, kCompleting},
        Row{"stopped and deleted finishes", kDeleting, RuntimeStopped{}, Finished{}},
        Row{"stopped and not deleted keeps status", kCompleting, RuntimeStopped{}, Terminated{"Completed", ""}},
        // Terminated
        Row{"terminated ignores admitted", Terminated{"Completed", ""}, Admitted{}, Terminated{"Completed", ""}},
        Row{"terminated ignores rejected", Terminated{"A", ""}, Rejected{"B", ""}, Terminated{"A", ""}},
        Row{"terminated never restarts on update", Terminated{"A", ""}, Update{}, Terminated{"A", ""}},
        Row{"terminated deleted finishes", Terminated{"A", ""}, Delete{30s}, Finished{}},
        Row{"terminated ignores completed", Terminated{"A", ""}, Completed{1s, "B", ""}, Terminated{"A", ""}},
        Row{"terminated ignores deadline", Terminated{"A", ""}, DeadlineExceeded{1s}, Terminated{"A", ""}},
        Row{"terminated ignores stopped", Terminated{"A", ""}, RuntimeStopped{}, Terminated{"A", ""}},
        // Finished: a terminated UID never runs again
        Row{"finished never admits", Finished{}, Admitted{}, Finished{}},
        Row{"finished never rejects", Finished{}, Rejected{"x", ""}, Finished{}},
        Row{"finished never updates", Finished{}, Update{}, Finished{}},
        Row{"finished delete", Finished{}, Delete{1s}, Finished{}},
        Row{"finished completed", Finished{}, Completed{1s, "x", ""}, Finished{}},
        Row{"finished deadline", Finished{}, DeadlineExceeded{1s}, Finished{}},
        Row{"finished stopped", Finished{}, RuntimeStopped{}, Finished{}}));

TEST(LifecycleGrace, OnlyEverShrinksOverASequence) {
  State s = Running{kT0};
  s = next(s, Delete{30s}, kT0);
  s = next(s, Delete{100s}, kT0 + 1s);  // would end at +101 s
  EXPECT_EQ(std::get<Terminating>(s).deadline, kT0 + 30s);
  s = next(s, Delete{2s}, kT0 + 3s);  // ends at +5 s
  EXPECT_EQ(std::get<Terminating>(s).deadline, kT0 + 5s);
  s = next(s, Delete{0s}, kT0 + 10s);  // already past: stays at +5 s
  EXPECT_EQ(std::get<Terminating>(s).deadline, kT0 + 5s);
}

TEST(LifecycleTerminal, NoPathLeadsBackToRunning) {
  const std::vector<Event> events = {Admitted{}, Rejected{"r", ""}, Update{}, Delete{1s},
                                     Completed{1s, "c", ""}, DeadlineExceeded{1s}, RuntimeStopped{}};
  const std::vector<State> terminal = {kDeleting, kCompleting, Terminated{"c", ""}, Finished{}};
  for (const auto& from : terminal) {
    EXPECT_TRUE(is_terminal(from));
    for (const auto& e : events) {
      State to = next(from, e, kT0);
      EXPECT_TRUE(is_terminal(to)) << state_name(from) << " -> " << state_name(to);
    }
  }
  EXPECT_FALSE(is_terminal(Pending{}));
  EXPECT_FALSE(is_terminal(Running{kT0}));
}

}  // namespace
}  // namespace podagent::podworker::lifecycle
