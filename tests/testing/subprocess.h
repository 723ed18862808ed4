// Starting a program as a child process for tests (the vesta CLI end to end):
// its stdout and stderr go to files, so a test can read them after it exits
// (or while it runs, e.g. a server's "serving ... on" line).
//
// Thread-safety: fork() from a test's main thread; not for use while other
// threads of the test hold locks the child might need (the child only
// redirects, sets the environment and execs).
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace vesta::testing {

// Forks and execs argv[0] with `argv` (argv[0] a path), stdout and stderr
// truncated into `out_path` and `err_path`, VESTA_STORE unset, `env` set, and
// the working directory `cwd` when not empty. Returns the child's pid (-1 if
// fork failed); the child exits 127 if it cannot redirect, chdir or exec.
// The caller waits for it (waitpid).
inline pid_t SpawnToFiles(std::vector<std::string> argv, const std::string& out_path,
                          const std::string& err_path, const std::map<std::string, std::string>& env = {},
                          const std::string& cwd = "") {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out_fd < 0 || err_fd < 0) _exit(127);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  unsetenv("VESTA_STORE");
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
  std::vector<char*> cargs;
  for (std::string& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  execv(cargs[0], cargs.data());
  _exit(127);
}

}  // namespace vesta::testing
