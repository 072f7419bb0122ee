/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Raw system calls for the core. The preload may interpose mmap and friends
 * (MEMSCOPE_MMAP=1), and the core must never re-enter its own wrappers. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* These return a negative errno on failure and leave errno alone, so that
 * tracking never changes what the profiled program sees in errno. */
#if defined(__x86_64__)
static inline long
ms_syscall6 (long n, long a, long b, long c, long d, long e, long f)
{
  long ret;
  register long r10 __asm__ ("r10") = d;
  register long r8 __asm__ ("r8") = e;
  register long r9 __asm__ ("r9") = f;
  __asm__ volatile ("syscall"
                    : "=a"(ret)
                    : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                    : "rcx", "r11", "memory");
  return ret;
}
#else
# include <errno.h>
static inline long
ms_syscall6 (long n, long a, long b, long c, long d, long e, long f)
{
  int saved = errno;
  long ret = syscall (n, a, b, c, d, e, f);
  if (ret == -1)
    ret = -errno;
  errno = saved;
  return ret;
}
#endif

static inline void *
ms_sys_mmap (void *addr, size_t len, int prot, int flags, int fd, long off)
{
  return (void *) ms_syscall6 (SYS_mmap, (long) addr, (long) len, prot, flags, fd, off);
}

static inline int
ms_sys_is_error (long ret)
{
  return (unsigned long) ret > (unsigned long) -4096L;
}

static inline int
ms_sys_munmap (void *addr, size_t len)
{
  return (int) ms_syscall6 (SYS_munmap, (long) addr, (long) len, 0, 0, 0, 0);
}

static inline int
ms_sys_open (const char *path, int flags, int mode)
{
  return (int) ms_syscall6 (SYS_openat, -100 /* AT_FDCWD */, (long) path, flags, mode, 0, 0);
}

static inline int
ms_sys_close (int fd)
{
  return (int) ms_syscall6 (SYS_close, fd, 0, 0, 0, 0, 0);
}

static inline int
ms_sys_fallocate (int fd, int mode, long off, long len)
{
  return (int) ms_syscall6 (SYS_fallocate, fd, mode, off, len, 0, 0);
}

static inline int
ms_sys_ftruncate (int fd, long len)
{
  return (int) ms_syscall6 (SYS_ftruncate, fd, len, 0, 0, 0, 0);
}

static inline long
ms_sys_write (int fd, const void *buf, size_t len)
{
  return ms_syscall6 (SYS_write, fd, (long) buf, (long) len, 0, 0, 0);
}
