/**
 * brisk's seccomp profile for action containers. Pure.
 *
 * An allow-by-default profile with a deny list: node needs a broad and version-dependent set of
 * system calls (an allow list breaks on the next node release), while what an action must never do
 * is a short, stable list: administer the kernel, the clock, mounts, namespaces, keyrings, modules,
 * tracing and BPF. The capabilities are all dropped anyway, so most of these would fail with EPERM;
 * the profile refuses them before the kernel's permission checks run, which also closes the bugs
 * that lived in those checks. Denied calls fail with EPERM, never kill: node reports a clear error.
 */

/** System calls an action container may not make. */
export const DENIED_SYSCALLS: readonly string[] = [
  'acct',
  'add_key',
  'bpf',
  'clock_adjtime',
  'clock_settime',
  'create_module',
  'delete_module',
  'finit_module',
  'fsconfig',
  'fsmount',
  'fsopen',
  'fspick',
  'get_kernel_syms',
  'init_module',
  'ioperm',
  'iopl',
  'kcmp',
  'kexec_file_load',
  'kexec_load',
  'keyctl',
  'lookup_dcookie',
  'mount',
  'mount_setattr',
  'move_mount',
  'name_to_handle_at',
  'nfsservctl',
  'open_by_handle_at',
  'open_tree',
  'perf_event_open',
  'pivot_root',
  'process_vm_readv',
  'process_vm_writev',
  'ptrace',
  'query_module',
  'quotactl',
  'reboot',
  'request_key',
  'setdomainname',
  'sethostname',
  'setns',
  'settimeofday',
  'swapoff',
  'swapon',
  'sysfs',
  'syslog',
  'umount2',
  'unshare',
  'uselib',
  'userfaultfd',
  'ustat',
  'vhangup',
];

const EPERM = 1;
const ENOSYS = 38;
/** clone(2) flags that create namespaces; an action may create none (a user namespace above all). */
const CLONE_NEW_NAMESPACES = 0x7e020000; // NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET

/** The `linux.seccomp` section of an OCI config. */
export function seccompProfile(): Record<string, unknown> {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: [
      { names: [...DENIED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      // clone with any namespace flag: refused. Threads and child processes (no such flags) pass.
      ...[0x02000000, 0x10000000, 0x04000000, 0x08000000, 0x20000000, 0x40000000, 0x00020000].map((flag) => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      })),
      // clone3 passes its flags in memory, out of seccomp's sight: "not implemented" makes glibc
      // fall back to clone, which the rules above can check.
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    ],
  };
}

/** For documentation and tests: the namespace flags clone() may not be given. */
export const DENIED_CLONE_FLAGS = CLONE_NEW_NAMESPACES;
