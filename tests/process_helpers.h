// Test helpers for driving real binaries: free loopback ports, a child
// process with captured output, and running a command to completion.
#ifndef MARKET_TESTS_PROCESS_HELPERS_H_
#define MARKET_TESTS_PROCESS_HELPERS_H_

#include <string>
#include <vector>

namespace market::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Waits until 127.0.0.1:`port` accepts connections; false after `seconds`.
bool WaitForPort(int port, double seconds);

// A child process whose stdout and stderr go to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& stdout_path,
        const std::string& stderr_path);
  ~Child();
  int pid() const { return pid_; }
  // Sends `sig` and waits up to `seconds`; returns the exit status (or -1).
  int Stop(int sig, double seconds);

 private:
  int pid_ = -1;
};

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
