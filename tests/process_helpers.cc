#include "tests/process_helpers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace market::testing {
namespace {

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> out;
  for (const auto& a : args) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::optional<ServingPorts> ParseServingLine(const std::string& log) {
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("msg", "") != "serving") continue;
    if (!j.contains("grpc_port") || !j["grpc_port"].is_number_integer()) continue;
    ServingPorts ports;
    ports.grpc = j["grpc_port"].get<int>();
    if (j.contains("http_port") && j["http_port"].is_number_integer()) {
      ports.http = j["http_port"].get<int>();
    }
    return ports;
  }
  return std::nullopt;
}

std::optional<ServingPorts> WaitForServing(Child& child, const std::string& stderr_path,
                                           double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    if (auto ports = ParseServingLine(ReadWholeFile(stderr_path))) return ports;
    if (child.Exited() || std::chrono::steady_clock::now() >= deadline) {
      // A last look: the line may have been written just before the exit.
      return ParseServingLine(ReadWholeFile(stderr_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Child::Child(const std::vector<std::string>& argv, const std::string& stdout_path,
             const std::string& stderr_path) {
  // Opened (and truncated) before the fork, so once the constructor returns
  // the files hold nothing of an earlier child that wrote to the same paths.
  int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out, 1);
    ::dup2(err, 2);
    auto args = Argv(argv);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (out >= 0) ::close(out);
  if (err >= 0) ::close(err);
}

Child::~Child() {
  if (pid_ > 0) Stop(SIGKILL, 5);
}

int Child::Decode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool Child::Exited() {
  if (exit_status_.has_value()) return true;
  if (pid_ <= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  exit_status_ = Decode(status);
  return true;
}

int Child::Stop(int sig, double seconds) {
  if (Exited()) {
    int status = exit_status_.value_or(-1);
    pid_ = -1;
    return status;
  }
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Exited()) {
      pid_ = -1;
      return *exit_status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int status = 0;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

RunResult Run(const std::vector<std::string>& argv, const std::string& stdin_text) {
  std::string dir = MakeTempDir("run");
  std::string in_path = dir + "/in", out_path = dir + "/out", err_path = dir + "/err";
  std::ofstream(in_path) << stdin_text;
  int pid = ::fork();
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    auto args = Argv(argv);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadWholeFile(out_path);
  r.err = ReadWholeFile(err_path);
  std::filesystem::remove_all(dir);
  return r;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = ::testing::TempDir() + "market_" + prefix + "_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* made = ::mkdtemp(buf.data());
  return made != nullptr ? std::string(made) : std::string();
}

}  // namespace market::testing
