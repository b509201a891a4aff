// Package cgroup puts an untrusted program and everything it starts into a
// Linux control group of its own, with a limit on its processes, its CPU
// and its memory as a whole, and kills all of it at the end.
//
// A process group or a session is not enough for that: a process can leave
// either (setsid), RLIMIT_NPROC counts every process of a user rather than
// of one program, and the scheduler shares the CPU by session at best
// (sched_autogroup), so a fork bomb's hundreds of spinners slow down every
// neighbour. A control group holds every descendant, whatever it calls, and
// the kernel enforces its limits on the group as a whole.
//
// Both cgroup versions are supported:
//   - v2 (the unified hierarchy, as on current systemd hosts): a group is one
//     directory under the hierarchy's root, the root's subtree_control must
//     offer the cpu and pids controllers, and a command starts inside the
//     group atomically (clone3 with CLONE_INTO_CGROUP).
//   - v1 (a hierarchy per controller): a group is one directory in each of
//     the cpu and pids hierarchies, and in the memory hierarchy when it can be
//     used, under the calling process's own cgroup there. The command is
//     forked from an OS thread that was first moved into the group, so it
//     is inside from its first instruction too; that thread is then
//     discarded.
//
// Creating groups needs write access to the cgroup file system, which in
// practice means root. Available says whether groups can be made here and,
// if not, why; New fails with the same reason. Nothing in this package
// changes the calling process's own cgroup.
package cgroup
