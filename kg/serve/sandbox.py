"""The limits a query executor runs under: no network sockets (seccomp) and a memory ceiling (RLIMIT_DATA).

These do not depend on reading the query: whatever a query makes Oxigraph do (a SERVICE call the guard did not
see), the process evaluating it cannot open an Internet socket, and cannot take more memory than it is allowed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
import struct

# seccomp's constants (linux/seccomp.h, linux/filter.h, linux/audit.h)
_LD_W_ABS, _JEQ_K, _RET_K = 0x20, 0x15, 0x06
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC = 1, 1
_PR_SET_NO_NEW_PRIVS, _PR_SET_PDEATHSIG = 38, 1
_AF_UNIX = 1
# machine: (audit arch, seccomp syscall, socket syscall, io_uring_setup syscall)
_ARCHES = {"x86_64": (0xC000003E, 317, 41, 425), "aarch64": (0xC00000B7, 277, 198, 425)}


def _filter(arch: int, socket_nr: int, uring_nr: int) -> bytes:
    """A BPF program: socket() of any family but AF_UNIX and io_uring_setup() fail with EACCES."""
    deny = _RET_ERRNO | errno.EACCES

    def op(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    return b"".join([
        op(_LD_W_ABS, 0, 0, 4),              # 0: the calling convention
        op(_JEQ_K, 1, 0, arch),              # 1: the expected one: go on
        op(_RET_K, 0, 0, deny),              # 2: another (x32, compat): refuse everything
        op(_LD_W_ABS, 0, 0, 0),              # 3: the syscall number
        op(_JEQ_K, 3, 0, uring_nr),          # 4: io_uring could open sockets behind the filter's back
        op(_JEQ_K, 0, 3, socket_nr),         # 5: socket(): look at its family
        op(_LD_W_ABS, 0, 0, 16),             # 6: args[0], the family
        op(_JEQ_K, 1, 0, _AF_UNIX),          # 7: a Unix socket is fine
        op(_RET_K, 0, 0, deny),              # 8
        op(_RET_K, 0, 0, _RET_ALLOW),        # 9
    ])


def forbid_network() -> bool:
    """Make this process (every thread) unable to create a network socket; False where seccomp is unavailable."""
    found = _ARCHES.get(platform.machine())
    if found is None:
        return False
    arch, seccomp_nr, socket_nr, uring_nr = found
    program = _filter(arch, socket_nr, uring_nr)
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program)
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    libc.syscall.restype = ctypes.c_long
    done = libc.syscall(ctypes.c_long(seccomp_nr), ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
                        ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.c_char_p(fprog))
    return bool(done == 0)


def limit_memory(megabytes: int) -> None:
    """Cap this process's heap (private writable memory, not the mapped store files) at `megabytes`."""
    if megabytes > 0:
        size = megabytes << 20
        resource.setrlimit(resource.RLIMIT_DATA, (size, size))


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies (a `kill -9` of `kg serve` leaves nothing behind)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def confine(memory_mb: int) -> bool:
    """Both limits, as a query executor starts; whether the network is forbidden."""
    os.environ["RUST_BACKTRACE"] = "0"  # a query over the memory limit is told to its client, not traced in the log
    limit_memory(memory_mb)
    return forbid_network() if os.name == "posix" else False
