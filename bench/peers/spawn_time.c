/* spawn_time: runs `sh -c CMD` once and prints "WALL_SECONDS MAXRSS_KIB EXIT".
 *
 * side-by-side.py times every tool through this helper instead of forking
 * itself: a fork of the Python interpreter cost ~9 ms and was counted in
 * every tool's wall, and the rusage of a child of the interpreter starts
 * from the interpreter's own resident size (the kernel records the memory a
 * process had before its exec), which put an 11-15 MiB floor under every
 * tool's peak RSS. This process is small and starts the shell with
 * posix_spawn (vfork), so the floor is its own ~1 MiB; the wall is taken
 * around the spawn, the command and the wait only. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: spawn_time 'shell command'\n");
    return 2;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t pid;
  char* args[] = {"sh", "-c", argv[1], NULL};
  extern char** environ;
  int err = posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ);  // vfork: no copy
  if (err != 0) {
    fprintf(stderr, "posix_spawn: error %d\n", err);
    return 2;
  }
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("wait4");
    return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double wall = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("%.6f %ld %d\n", wall, ru.ru_maxrss, code);
  return 0;
}
