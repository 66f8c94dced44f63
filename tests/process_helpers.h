// Test helpers for driving real binaries: a child process with captured
// output, the ports a server child logged as bound, and running a command to
// completion. Servers are started on port 0 and report the port the kernel
// gave them, so no port is probed and released for someone else to take.
#ifndef MARKET_TESTS_PROCESS_HELPERS_H_
#define MARKET_TESTS_PROCESS_HELPERS_H_

#include <optional>
#include <string>
#include <vector>

namespace market::testing {

// --listen / --http-listen value asking the kernel for a free loopback port.
inline constexpr char kAnyLoopbackPort[] = "127.0.0.1:0";

// A child process whose stdout and stderr go to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& stdout_path,
        const std::string& stderr_path);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  int pid() const { return pid_; }
  // Whether the process has ended (reaps it; Stop() then returns its status).
  bool Exited();
  // Sends `sig` and waits up to `seconds`; returns the exit status (or -1).
  int Stop(int sig, double seconds);

 private:
  static int Decode(int status);
  int pid_ = -1;
  std::optional<int> exit_status_;  // set once reaped
};

// The ports of a server binary's {"msg":"serving","grpc_port":…,"http_port":…}
// log line (http 0 when it serves no HTTP port).
struct ServingPorts {
  int grpc = 0;
  int http = 0;
};

// The "serving" line in `log` (a server's stderr), or nullopt when absent.
std::optional<ServingPorts> ParseServingLine(const std::string& log);

// Waits until `child` logs its "serving" line to `stderr_path`; nullopt when
// the child exits first or `seconds` pass (then read the log for why).
std::optional<ServingPorts> WaitForServing(Child& child, const std::string& stderr_path,
                                           double seconds);

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv to completion with `stdin_text` on standard input.
RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_text = "");

std::string ReadWholeFile(const std::string& path);
// A fresh empty folder under the test temp dir.
std::string MakeTempDir(const std::string& prefix);

}  // namespace market::testing

#endif  // MARKET_TESTS_PROCESS_HELPERS_H_
