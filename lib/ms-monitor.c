/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The resource monitor. It must stay cheap (issue 4: at most 0.5 % of one
 * core at 10 Hz for a 100-thread target), so a tick allocates nothing once
 * the set of threads is stable, keeps its /proc files open and rereads them
 * with pread into one buffer, and rereads a thread's stat and status only
 * when /proc/PID/task/TID/schedstat says that the thread has run. */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE /* getdents64 */
#endif
#include "config.h"

#include "ms-monitor.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ms-error.h"
#include "ms-format.h"
#include "ms-tracker.h"
#include "ms-writer.h"

#define READ_BUFFER_BYTES (64u * 1024u)
#define READ_BUFFER_MAX_BYTES (16u * 1024u * 1024u)
#define DENTS_BUFFER_BYTES (32u * 1024u)
/* A thread that has not run keeps its counters, but another thread may
 * rename it: reread every thread's stat this often (staggered by tid). */
#define REFRESH_TICKS 50u
#define MAX_GPUS 16u
#define NO_FD (-1)

typedef struct
{
  pid_t tid;
  guint64 generation;         /* tick at which the thread was last listed */
  int stat_fd;
  int status_fd;
  int schedstat_fd;
  gboolean schedstat_broken;  /* unreadable: reread everything every tick */
  gboolean seen;              /* values are valid */
  char schedstat[64];         /* last content, compared whole */
  guint64 values[MS_RES_THREAD_N_VALUES];
  char name[17];              /* comm: at most 15 bytes (TASK_COMM_LEN - 1) */
} MonThread;

typedef struct
{
  pid_t pid;
  gboolean dead;              /* exited (or never seen): not sampled any more */
  gboolean sampled;           /* sampled at least once */
  gboolean io_reported;       /* an unreadable /proc/PID/io was noted */
  guint64 start_time;         /* /proc/PID/stat field 22: tells a reused pid */
  int dir_fd;                 /* /proc/PID */
  int task_fd;                /* /proc/PID/task */
  int stat_fd;
  int statm_fd;
  int status_fd;
  int io_fd;
  GHashTable *threads;        /* tid → MonThread */
  guint64 values[MS_RES_PROC_N_VALUES];
  clockid_t cpu_clock;        /* CPU time of all its threads, in ns: did any run? */
  gboolean have_cpu_clock;
  guint64 cpu_clock_ns;       /* at the previous tick */
  guint64 prev_cpu_ns;
  gboolean have_prev_cpu;
  guint64 first_io[3];        /* syscr + syscw, rchar, wchar at the first sample */
  guint64 last_io[3];
} MonProcess;

/* The part of NVML (nvml.h) we use, declared here: NVML is loaded at run
 * time when present, and is not a build dependency. */
typedef int (*NvmlInitFunc) (void);
typedef int (*NvmlShutdownFunc) (void);
typedef int (*NvmlGetCountFunc) (unsigned int *);
typedef int (*NvmlGetHandleFunc) (unsigned int, void **);
typedef struct
{
  unsigned int gpu;
  unsigned int memory;
} NvmlUtilization;
typedef struct
{
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} NvmlMemory;
typedef int (*NvmlGetUtilizationFunc) (void *, NvmlUtilization *);
typedef int (*NvmlGetMemoryFunc) (void *, NvmlMemory *);

typedef struct
{
  void *library;
  NvmlShutdownFunc shutdown;
  NvmlGetUtilizationFunc get_utilization;
  NvmlGetMemoryFunc get_memory;
  unsigned int n_devices;
  void *devices[MAX_GPUS];
} Gpu;

struct _MsMonitor
{
  GMutex lock;
  GCond cond;
  GThread *thread;
  gboolean stopping;
  gint64 first_sample_usec;   /* monotonic time of the sample ms_monitor_start takes */
  gboolean closed;

  char *path;
  guint interval_msec;
  MsWriter writer;
  int write_error;            /* first negative errno of the writer */
  MsRecord record;            /* reused for every record: no allocation per tick */
  gboolean info_written;
  gboolean have_command;

  GPtrArray *processes;       /* MonProcess, in the order first seen */
  GHashTable *by_pid;         /* pid → MonProcess */
  int children_fd;            /* the trace directory, to find PID/ subdirectories; or NO_FD */
  struct timespec children_mtime;

  char *buf;                  /* one read buffer for every /proc file */
  gsize buf_size;
  char *dents;
  int fds_open;
  int fd_budget;              /* descriptors we may keep open between ticks */

  int sys_stat_fd;
  int meminfo_fd;
  int loadavg_fd;
  int netdev_fd;
  int diskstats_fd;
  GHashTable *whole_disks;    /* name → GINT_TO_POINTER (is a physical whole disk + 1) */

  gboolean gpu_probed;
  Gpu gpu;

  guint64 ns_per_clock_tick;
  guint64 page_bytes;
  guint64 tick;
  guint64 first_tick_ns;
  guint64 prev_tick_ns;
  MsMonitorSummary summary;
};

static guint64
monotonic_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

static guint64
realtime_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

/* --- reading /proc ------------------------------------------------------ */

static void
close_fd (MsMonitor *self, int *fd)
{
  if (*fd >= 0)
    {
      close (*fd);
      self->fds_open--;
    }
  *fd = NO_FD;
}

/* Reads all of FD from offset 0 (procfs regenerates the content on every
 * read at 0) into self->buf, NUL-terminated; the length, or -errno. */
static gssize
read_fd (MsMonitor *self, int fd)
{
  for (;;)
    {
      gssize n = pread (fd, self->buf, self->buf_size - 1, 0);

      if (n < 0)
        return -errno;
      if ((gsize) n < self->buf_size - 1 || self->buf_size >= READ_BUFFER_MAX_BYTES)
        {
          self->buf[n] = '\0';
          return n;
        }
      /* Only /proc/stat of a very large machine gets here, once. */
      self->buf_size *= 2;
      self->buf = g_realloc (self->buf, self->buf_size);
    }
}

/* Reads NAME under DIR_FD, keeping the descriptor in *CACHED_FD for the
 * next tick while the budget allows. */
static gssize
read_at (MsMonitor *self, int dir_fd, const char *name, int *cached_fd)
{
  gssize n;
  int fd;

  if (*cached_fd >= 0)
    return read_fd (self, *cached_fd);
  fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  n = read_fd (self, fd);
  if (self->fds_open < self->fd_budget)
    {
      *cached_fd = fd;
      self->fds_open++;
    }
  else
    close (fd);
  return n;
}

static int
open_counted (MsMonitor *self, int dir_fd, const char *name, int flags)
{
  int fd = openat (dir_fd, name, flags | O_CLOEXEC);

  if (fd >= 0)
    self->fds_open++;
  return fd;
}

static guint64
parse_u64 (const char *p, const char **out_end)
{
  guint64 v = 0;

  while (*p == ' ' || *p == '\t')
    p++;
  for (; *p >= '0' && *p <= '9'; p++)
    v = v * 10 + (guint64) (*p - '0');
  if (out_end != NULL)
    *out_end = p;
  return v;
}

/* Cuts the next line out of *CURSOR (a NUL-terminated buffer we own). */
static char *
next_line (char **cursor)
{
  char *line = *cursor;
  char *end;

  if (line == NULL || *line == '\0')
    return NULL;
  end = strchr (line, '\n');
  if (end != NULL)
    *end++ = '\0';
  *cursor = end;
  return line;
}

/* The number after "\nKEY" (KEY includes its colon) in a "Key: value"
 * file, or 0 when the key is missing. */
static guint64
find_value (const char *buf, const char *key)
{
  const char *p = strstr (buf, key);

  return p == NULL ? 0 : parse_u64 (p + strlen (key), NULL);
}

typedef struct
{
  char state;
  const char *comm;
  gsize comm_len;
  guint64 minflt, majflt, utime, stime, num_threads, start_time, vsize, rss_pages;
} StatFields;

/* /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and
 * parentheses, so the fields start after the last ')'. */
static gboolean
parse_stat (const char *buf, StatFields *out)
{
  const char *open = strchr (buf, '(');
  const char *close = strrchr (buf, ')');
  const char *p;

  if (open == NULL || close == NULL || close < open || close[1] != ' ')
    return FALSE;
  out->comm = open + 1;
  out->comm_len = (gsize) (close - open - 1);
  out->state = close[2];
  p = close + 3;
  for (guint field = 4; field <= 24; field++)
    {
      const char *end;
      guint64 v;

      while (*p == ' ')
        p++;
      if (*p == '-')
        p++;
      if (*p < '0' || *p > '9')
        return FALSE;
      v = parse_u64 (p, &end);
      p = end;
      switch (field)
        {
        case 10: out->minflt = v; break;
        case 12: out->majflt = v; break;
        case 14: out->utime = v; break;
        case 15: out->stime = v; break;
        case 20: out->num_threads = v; break;
        case 22: out->start_time = v; break;
        case 23: out->vsize = v; break;
        case 24: out->rss_pages = v; break;
        default: break;
        }
    }
  return TRUE;
}

/* --- writing ------------------------------------------------------------ */

static void
add_record (MsMonitor *self, const MsRecord *record)
{
  int r = ms_writer_add (&self->writer, record);

  if (r < 0 && self->write_error == 0)
    self->write_error = r;
}

static void
add_info_locked (MsMonitor *self, const char *key, const char *value, gsize value_len)
{
  MsRecord *r = &self->record;

  r->kind = MS_RECORD_INFO;
  r->time_ns = monotonic_ns ();
  r->u.info.key = (MsBytes) { key, (guint32) strlen (key) };
  r->u.info.value = (MsBytes) { value, (guint32) MIN (value_len, MS_MAX_STRING_BYTES) };
  add_record (self, r);
}

static void
add_resource (MsMonitor *self, guint64 time_ns, MsResourceScope scope, guint64 id,
              const guint64 *values, guint n_values)
{
  MsRecord *r = &self->record;

  r->kind = MS_RECORD_RESOURCE;
  r->time_ns = time_ns;
  r->u.resource.scope = scope;
  r->u.resource.id = id;
  r->u.resource.n_values = n_values;
  memcpy (r->u.resource.values, values, n_values * sizeof values[0]);
  add_record (self, r);
}

static void
add_thread_name (MsMonitor *self, guint64 time_ns, const MonThread *t)
{
  MsRecord *r = &self->record;

  r->kind = MS_RECORD_THREAD_NAME;
  r->time_ns = time_ns;
  r->u.thread.tid = (guint64) t->tid;
  r->u.thread.name = (MsBytes) { t->name, (guint32) strlen (t->name) };
  add_record (self, r);
}

/* --- GPUs through NVML --------------------------------------------------- */

static gboolean
gpu_open (Gpu *gpu)
{
  NvmlInitFunc init;
  NvmlGetCountFunc get_count;
  NvmlGetHandleFunc get_handle;
  unsigned int count = 0;

  memset (gpu, 0, sizeof *gpu);
  gpu->library = dlopen ("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (gpu->library == NULL)
    return FALSE;
  init = (NvmlInitFunc) dlsym (gpu->library, "nvmlInit_v2");
  gpu->shutdown = (NvmlShutdownFunc) dlsym (gpu->library, "nvmlShutdown");
  get_count = (NvmlGetCountFunc) dlsym (gpu->library, "nvmlDeviceGetCount_v2");
  get_handle = (NvmlGetHandleFunc) dlsym (gpu->library, "nvmlDeviceGetHandleByIndex_v2");
  gpu->get_utilization = (NvmlGetUtilizationFunc) dlsym (gpu->library, "nvmlDeviceGetUtilizationRates");
  gpu->get_memory = (NvmlGetMemoryFunc) dlsym (gpu->library, "nvmlDeviceGetMemoryInfo");
  if (init == NULL || gpu->shutdown == NULL || get_count == NULL || get_handle == NULL
      || gpu->get_utilization == NULL || gpu->get_memory == NULL || init () != 0)
    {
      dlclose (gpu->library);
      gpu->library = NULL;
      return FALSE;
    }
  if (get_count (&count) == 0)
    for (unsigned int i = 0; i < count && gpu->n_devices < MAX_GPUS; i++)
      if (get_handle (i, &gpu->devices[gpu->n_devices]) == 0)
        gpu->n_devices++;
  return gpu->n_devices > 0;
}

static void
gpu_close (Gpu *gpu)
{
  if (gpu->library == NULL)
    return;
  gpu->shutdown ();
  dlclose (gpu->library);
  memset (gpu, 0, sizeof *gpu);
}

gboolean
ms_monitor_gpu_available (void)
{
  Gpu gpu;
  gboolean ret = gpu_open (&gpu);

  gpu_close (&gpu);
  return ret;
}

static void
sample_gpus (MsMonitor *self, guint64 now_ns)
{
  for (unsigned int i = 0; i < self->gpu.n_devices; i++)
    {
      guint64 values[MS_RES_GPU_N_VALUES] = { 0 };
      NvmlUtilization util;
      NvmlMemory mem;

      if (self->gpu.get_utilization (self->gpu.devices[i], &util) == 0)
        values[MS_RES_GPU_UTIL_PERCENT] = util.gpu;
      if (self->gpu.get_memory (self->gpu.devices[i], &mem) == 0)
        {
          values[MS_RES_GPU_MEM_USED] = mem.used;
          values[MS_RES_GPU_MEM_TOTAL] = mem.total;
        }
      add_resource (self, now_ns, MS_RESOURCE_GPU, i, values, MS_RES_GPU_N_VALUES);
    }
}

/* --- processes and threads ---------------------------------------------- */

static void
thread_free (MsMonitor *self, MonThread *t)
{
  close_fd (self, &t->stat_fd);
  close_fd (self, &t->status_fd);
  close_fd (self, &t->schedstat_fd);
  g_free (t);
}

static void
process_finish (MsMonitor *self, MonProcess *p)
{
  GHashTableIter iter;
  gpointer value;

  p->dead = TRUE;
  if (p->threads != NULL)
    {
      g_hash_table_iter_init (&iter, p->threads);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        thread_free (self, value);
      g_clear_pointer (&p->threads, g_hash_table_unref);
    }
  close_fd (self, &p->stat_fd);
  close_fd (self, &p->statm_fd);
  close_fd (self, &p->status_fd);
  close_fd (self, &p->io_fd);
  close_fd (self, &p->task_fd);
  close_fd (self, &p->dir_fd);
}

static void
add_process_locked (MsMonitor *self, pid_t pid)
{
  MonProcess *p;
  char path[64];

  if (pid <= 0 || g_hash_table_contains (self->by_pid, GINT_TO_POINTER (pid)))
    return;
  p = g_new0 (MonProcess, 1);
  p->pid = pid;
  p->stat_fd = p->statm_fd = p->status_fd = p->io_fd = p->task_fd = NO_FD;
  g_snprintf (path, sizeof path, "/proc/%d", (int) pid);
  p->dir_fd = open_counted (self, AT_FDCWD, path, O_PATH | O_DIRECTORY);
  p->have_cpu_clock = clock_getcpuclockid (pid, &p->cpu_clock) == 0;
  if (p->dir_fd >= 0)
    p->task_fd = open_counted (self, p->dir_fd, "task", O_RDONLY | O_DIRECTORY);
  if (p->task_fd < 0)
    process_finish (self, p);
  else
    p->threads = g_hash_table_new (NULL, NULL);
  g_ptr_array_add (self->processes, p);
  g_hash_table_insert (self->by_pid, GINT_TO_POINTER (pid), p);
}

static gboolean
name_is_pid (const char *name, pid_t *out_pid)
{
  guint64 v = 0;

  if (*name == '\0')
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    {
      if (*c < '0' || *c > '9' || v > G_MAXINT32 / 10)
        return FALSE;
      v = v * 10 + (guint64) (*c - '0');
    }
  *out_pid = (pid_t) v;
  return v > 0 && v <= G_MAXINT32;
}

/* Calls FUNC for each entry of the directory DIR_FD, read again from its
 * start (procfs lists the current tasks on every pass). */
static void
for_each_dirent (MsMonitor *self, int dir_fd, void (*func) (MsMonitor *, const char *, gpointer),
                 gpointer data)
{
  ssize_t n;

  if (lseek (dir_fd, 0, SEEK_SET) < 0)
    return;
  while ((n = getdents64 (dir_fd, self->dents, DENTS_BUFFER_BYTES)) > 0)
    for (ssize_t off = 0; off < n;)
      {
        struct dirent64 *d = (struct dirent64 *) (self->dents + off);
        off += d->d_reclen;
        if (d->d_name[0] != '.')
          func (self, d->d_name, data);
      }
}

/* DIR/PID/ (a forked child) or DIR/PID-execN/ (a program exec'd by
 * one): memscope-trace(5). */
static void
add_child_entry (MsMonitor *self, const char *name, gpointer data)
{
  char pid_part[16];
  const char *dash = strchr (name, '-');
  gsize len = dash != NULL ? (gsize) (dash - name) : strlen (name);
  pid_t pid;

  if (len >= sizeof pid_part || (dash != NULL && !g_str_has_prefix (dash, "-exec")))
    return;
  memcpy (pid_part, name, len);
  pid_part[len] = '\0';
  if (name_is_pid (pid_part, &pid))
    add_process_locked (self, pid);
}

/* Followed children write into subdirectories: a new entry changes the
 * directory's mtime, so the listing is read only then. */
static void
scan_children (MsMonitor *self)
{
  struct stat st;

  if (self->children_fd < 0 || fstat (self->children_fd, &st) < 0)
    return;
  if (st.st_mtim.tv_sec == self->children_mtime.tv_sec
      && st.st_mtim.tv_nsec == self->children_mtime.tv_nsec)
    return;
  self->children_mtime = st.st_mtim;
  for_each_dirent (self, self->children_fd, add_child_entry, NULL);
}

typedef struct
{
  MonProcess *process;
  guint64 now_ns;
} ThreadPass;

/* Reads one thread's counters, but its stat and status only if it ran
 * since the last tick: a sleeping thread costs one small read. */
static void
sample_thread (MsMonitor *self, MonProcess *p, MonThread *t, guint64 now_ns)
{
  char name[48];
  gboolean full = !t->seen || t->schedstat_broken
                  || (self->tick + (guint64) t->tid) % REFRESH_TICKS == 0;
  gssize n;
  StatFields st = { 0 };

  g_snprintf (name, sizeof name, "%d/schedstat", (int) t->tid);
  n = read_at (self, p->task_fd, name, &t->schedstat_fd);
  if (n <= 0 || (gsize) n >= sizeof t->schedstat)
    t->schedstat_broken = TRUE;
  else if (memcmp (t->schedstat, self->buf, (gsize) n + 1) != 0)
    {
      memcpy (t->schedstat, self->buf, (gsize) n + 1);
      full = TRUE;
    }

  if (full)
    {
      g_snprintf (name, sizeof name, "%d/stat", (int) t->tid);
      if (read_at (self, p->task_fd, name, &t->stat_fd) <= 0 || !parse_stat (self->buf, &st))
        return; /* the thread has just exited */
      t->values[MS_RES_THREAD_UTIME_NS] = st.utime * self->ns_per_clock_tick;
      t->values[MS_RES_THREAD_STIME_NS] = st.stime * self->ns_per_clock_tick;
      t->values[MS_RES_THREAD_MINFLT] = st.minflt;
      t->values[MS_RES_THREAD_MAJFLT] = st.majflt;
      t->values[MS_RES_THREAD_PID] = (guint64) p->pid;
      if (st.comm_len != strlen (t->name) || memcmp (st.comm, t->name, st.comm_len) != 0)
        {
          gsize len = MIN (st.comm_len, sizeof t->name - 1);
          memcpy (t->name, st.comm, len);
          t->name[len] = '\0';
          add_thread_name (self, now_ns, t);
        }

      g_snprintf (name, sizeof name, "%d/status", (int) t->tid);
      if (read_at (self, p->task_fd, name, &t->status_fd) > 0)
        {
          t->values[MS_RES_THREAD_VOLUNTARY_CS] = find_value (self->buf, "\nvoluntary_ctxt_switches:");
          t->values[MS_RES_THREAD_INVOLUNTARY_CS] = find_value (self->buf, "\nnonvoluntary_ctxt_switches:");
        }
      t->seen = TRUE;
    }

  add_resource (self, now_ns, MS_RESOURCE_THREAD, (guint64) t->tid, t->values, MS_RES_THREAD_N_VALUES);
  p->values[MS_RES_PROC_VOLUNTARY_CS] += t->values[MS_RES_THREAD_VOLUNTARY_CS];
  p->values[MS_RES_PROC_INVOLUNTARY_CS] += t->values[MS_RES_THREAD_INVOLUNTARY_CS];
}

static void
visit_task (MsMonitor *self, const char *name, gpointer data)
{
  ThreadPass *pass = data;
  MonProcess *p = pass->process;
  MonThread *t;
  pid_t tid;

  if (!name_is_pid (name, &tid))
    return;
  t = g_hash_table_lookup (p->threads, GINT_TO_POINTER (tid));
  if (t == NULL)
    {
      t = g_new0 (MonThread, 1);
      t->tid = tid;
      t->stat_fd = t->status_fd = t->schedstat_fd = NO_FD;
      g_hash_table_insert (p->threads, GINT_TO_POINTER (tid), t);
    }
  t->generation = self->tick;
  sample_thread (self, p, t, pass->now_ns);
}

/* Nothing of the process ran since the last tick: its threads are the
 * same, with the same counters. */
static void
repeat_threads (MsMonitor *self, MonProcess *p, guint64 now_ns)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, p->threads);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      MonThread *t = value;

      if (!t->seen)
        continue;
      add_resource (self, now_ns, MS_RESOURCE_THREAD, (guint64) t->tid, t->values, MS_RES_THREAD_N_VALUES);
      p->values[MS_RES_PROC_VOLUNTARY_CS] += t->values[MS_RES_THREAD_VOLUNTARY_CS];
      p->values[MS_RES_PROC_INVOLUNTARY_CS] += t->values[MS_RES_THREAD_INVOLUNTARY_CS];
    }
}

/* The process's CPU clock (the sum over its threads, ns-exact) moves
 * whenever any of its threads runs; unless it moved, nothing a thread's
 * files or the thread list say can have changed. */
static gboolean
process_ran (MonProcess *p, guint64 *out_cpu_ns)
{
  struct timespec ts;
  guint64 ns;

  if (!p->have_cpu_clock)
    return TRUE;
  if (clock_gettime (p->cpu_clock, &ts) < 0)
    {
      /* gone, or a kernel without it: stat's clock ticks from now on */
      p->have_cpu_clock = FALSE;
      p->have_prev_cpu = FALSE;
      return TRUE;
    }
  ns = (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
  *out_cpu_ns = ns;
  if (p->sampled && ns == p->cpu_clock_ns)
    return FALSE;
  p->cpu_clock_ns = ns;
  return TRUE;
}

static gboolean
thread_is_gone (gpointer key, gpointer value, gpointer data)
{
  MsMonitor *self = data;
  MonThread *t = value;

  if (t->generation == self->tick)
    return FALSE;
  thread_free (self, t);
  return TRUE;
}

static void
sample_io (MsMonitor *self, MonProcess *p, guint64 now_ns)
{
  gssize n = read_at (self, p->dir_fd, "io", &p->io_fd);
  guint64 *v = p->values;

  if (n <= 0)
    {
      /* Another user's process, or a kernel without task I/O accounting:
       * the values stay 0, and the file says why. */
      if (!p->io_reported)
        {
          g_autofree char *what = g_strdup_printf ("/proc/%d/io: %s", (int) p->pid,
                                                   g_strerror (n < 0 ? (int) -n : ENODATA));
          add_info_locked (self, "unavailable", what, strlen (what));
          p->io_reported = TRUE;
        }
      return;
    }
  v[MS_RES_PROC_RCHAR] = find_value (self->buf, "rchar:");
  v[MS_RES_PROC_WCHAR] = find_value (self->buf, "wchar:");
  v[MS_RES_PROC_SYSCR] = find_value (self->buf, "syscr:");
  v[MS_RES_PROC_SYSCW] = find_value (self->buf, "syscw:");
  v[MS_RES_PROC_READ_BYTES] = find_value (self->buf, "\nread_bytes:");
  v[MS_RES_PROC_WRITE_BYTES] = find_value (self->buf, "\nwrite_bytes:");
}

typedef struct
{
  guint64 rss_bytes;
  guint64 threads;
  guint64 cpu_ns;             /* CPU time used since the previous tick */
} TickTotals;

/* Only the memory figures of statm can change while no thread runs (the
 * kernel may reclaim pages), and statm does not walk the threads as stat
 * does for a process. FALSE when it cannot tell (a zombie's are all 0). */
static gboolean
sample_memory_only (MsMonitor *self, MonProcess *p)
{
  const char *end;
  guint64 size, resident;

  if (read_at (self, p->dir_fd, "statm", &p->statm_fd) <= 0)
    return FALSE;
  size = parse_u64 (self->buf, &end);
  resident = parse_u64 (end, NULL);
  if (size == 0)
    return FALSE;
  p->values[MS_RES_PROC_VSIZE] = size * self->page_bytes;
  p->values[MS_RES_PROC_RSS] = resident * self->page_bytes;
  return TRUE;
}

/* Everything: stat, status, io, and each thread that ran. */
static gboolean
sample_everything (MsMonitor *self, MonProcess *p, guint64 now_ns)
{
  StatFields st = { 0 };
  guint64 *v = p->values;
  ThreadPass pass = { p, now_ns };

  /* A zombie leader with live threads (main called pthread_exit) is a live
   * process; a pid that now names another process is not ours. */
  if (read_at (self, p->dir_fd, "stat", &p->stat_fd) <= 0 || !parse_stat (self->buf, &st)
      || ((st.state == 'Z' || st.state == 'X') && st.num_threads <= 1)
      || (p->sampled && st.start_time != p->start_time))
    return FALSE;
  p->start_time = st.start_time;
  v[MS_RES_PROC_RSS] = st.rss_pages * self->page_bytes;
  v[MS_RES_PROC_VSIZE] = st.vsize;
  v[MS_RES_PROC_UTIME_NS] = st.utime * self->ns_per_clock_tick;
  v[MS_RES_PROC_STIME_NS] = st.stime * self->ns_per_clock_tick;
  v[MS_RES_PROC_MINFLT] = st.minflt;
  v[MS_RES_PROC_MAJFLT] = st.majflt;
  v[MS_RES_PROC_THREADS] = st.num_threads;
  if (read_at (self, p->dir_fd, "status", &p->status_fd) > 0)
    v[MS_RES_PROC_HWM] = find_value (self->buf, "\nVmHWM:") * 1024;
  sample_io (self, p, now_ns);

  /* Context switches are counted per task only: the process's are the sum
   * over its live threads, added up by sample_thread. */
  v[MS_RES_PROC_VOLUNTARY_CS] = 0;
  v[MS_RES_PROC_INVOLUNTARY_CS] = 0;
  for_each_dirent (self, p->task_fd, visit_task, &pass);
  g_hash_table_foreach_remove (p->threads, thread_is_gone, self);
  return TRUE;
}

static void
sample_process (MsMonitor *self, MonProcess *p, guint64 now_ns, TickTotals *totals)
{
  guint64 *v = p->values;
  guint64 cpu_ns = 0;

  if (!process_ran (p, &cpu_ns) && sample_memory_only (self, p))
    {
      v[MS_RES_PROC_VOLUNTARY_CS] = 0;
      v[MS_RES_PROC_INVOLUNTARY_CS] = 0;
      repeat_threads (self, p, now_ns);
    }
  else if (!sample_everything (self, p, now_ns))
    {
      process_finish (self, p);
      return;
    }
  if (!p->have_cpu_clock)
    cpu_ns = v[MS_RES_PROC_UTIME_NS] + v[MS_RES_PROC_STIME_NS];

  add_resource (self, now_ns, MS_RESOURCE_PROCESS, (guint64) p->pid, v, MS_RES_PROC_N_VALUES);

  p->last_io[0] = v[MS_RES_PROC_SYSCR] + v[MS_RES_PROC_SYSCW];
  p->last_io[1] = v[MS_RES_PROC_RCHAR];
  p->last_io[2] = v[MS_RES_PROC_WCHAR];
  if (!p->sampled)
    memcpy (p->first_io, p->last_io, sizeof p->first_io);
  if (p->have_prev_cpu && cpu_ns > p->prev_cpu_ns)
    totals->cpu_ns += cpu_ns - p->prev_cpu_ns;
  p->prev_cpu_ns = cpu_ns;
  p->have_prev_cpu = TRUE;
  p->sampled = TRUE;
  totals->rss_bytes += v[MS_RES_PROC_RSS];
  totals->threads += v[MS_RES_PROC_THREADS];
}

/* --- the system --------------------------------------------------------- */

static void
sample_cpus (MsMonitor *self, guint64 now_ns, guint64 *out_n_cpus)
{
  char *cursor = self->buf;
  char *line;

  *out_n_cpus = 0;
  if (self->sys_stat_fd < 0 || read_fd (self, self->sys_stat_fd) <= 0)
    return;
  while ((line = next_line (&cursor)) != NULL)
    {
      guint64 values[MS_RES_CPU_N_VALUES];
      const char *p;
      guint64 cpu;

      /* "cpuN user nice system idle iowait irq softirq steal …"; the
       * first line, "cpu ", is the sum of the others. */
      if (strncmp (line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
        continue;
      cpu = parse_u64 (line + 3, &p);
      for (guint i = 0; i < MS_RES_CPU_N_VALUES; i++)
        values[i] = parse_u64 (p, &p) * self->ns_per_clock_tick;
      add_resource (self, now_ns, MS_RESOURCE_CPU, cpu, values, MS_RES_CPU_N_VALUES);
      (*out_n_cpus)++;
    }
}

/* "0.15 0.19 0.09 1/88 27764": each load × 100, as an integer. */
static guint64
parse_load_x100 (const char *p, const char **out_end)
{
  guint64 whole = parse_u64 (p, &p);
  guint64 frac = 0;

  if (*p == '.')
    {
      p++;
      for (guint i = 0; i < 2; i++)
        frac = frac * 10 + (*p >= '0' && *p <= '9' ? (guint64) (*p++ - '0') : 0);
      while (*p >= '0' && *p <= '9')
        p++;
    }
  *out_end = p;
  return whole * 100 + frac;
}

static void
sample_network (MsMonitor *self, guint64 *values)
{
  char *cursor = self->buf;
  char *line;

  if (self->netdev_fd < 0 || read_fd (self, self->netdev_fd) <= 0)
    return;
  /* Two header lines, then "  iface: rx_bytes 7 more rx fields, tx_bytes …" */
  next_line (&cursor);
  next_line (&cursor);
  while ((line = next_line (&cursor)) != NULL)
    {
      char *colon = strchr (line, ':');
      const char *p;
      const char *name = line;

      if (colon == NULL)
        continue;
      while (*name == ' ')
        name++;
      if (colon - name == 2 && strncmp (name, "lo", 2) == 0)
        continue;
      values[MS_RES_SYS_NET_RX_BYTES] += parse_u64 (colon + 1, &p);
      for (guint i = 0; i < 7; i++)
        parse_u64 (p, &p);
      values[MS_RES_SYS_NET_TX_BYTES] += parse_u64 (p, NULL);
    }
}

/* Physical whole disks only: partitions are not in /sys/block, and
 * device-mapper, md, loop and zram devices (no "device" link) would count
 * the same I/O twice or none at all. */
static gboolean
is_whole_disk (MsMonitor *self, const char *name)
{
  gpointer known = g_hash_table_lookup (self->whole_disks, name);

  if (known == NULL)
    {
      g_autofree char *path = g_strdup_printf ("/sys/block/%s/device", name);
      known = GINT_TO_POINTER (access (path, F_OK) == 0 ? 2 : 1);
      g_hash_table_insert (self->whole_disks, g_strdup (name), known);
    }
  return GPOINTER_TO_INT (known) == 2;
}

static void
sample_disks (MsMonitor *self, guint64 *values)
{
  char *cursor = self->buf;
  char *line;

  if (self->diskstats_fd < 0 || read_fd (self, self->diskstats_fd) <= 0)
    return;
  /* "major minor name reads merged sectors_read ms writes merged sectors_written …" */
  while ((line = next_line (&cursor)) != NULL)
    {
      const char *p;
      char *name;
      char *name_end;

      parse_u64 (line, &p);
      parse_u64 (p, &p);
      while (*p == ' ')
        p++;
      name = (char *) p;
      name_end = strchr (name, ' ');
      if (name_end != NULL)
        {
          guint64 f[7];
          *name_end = '\0';
          p = name_end + 1;
          for (guint i = 0; i < G_N_ELEMENTS (f); i++)
            f[i] = parse_u64 (p, &p);
          if (is_whole_disk (self, name))
            {
              values[MS_RES_SYS_DISK_READ_SECTORS] += f[2];
              values[MS_RES_SYS_DISK_WRITE_SECTORS] += f[6];
            }
        }
    }
}

static void
sample_system (MsMonitor *self, guint64 now_ns)
{
  guint64 values[MS_RES_SYS_N_VALUES] = { 0 };
  const char *p;

  sample_cpus (self, now_ns, &values[MS_RES_SYS_N_CPUS]);
  if (self->meminfo_fd >= 0 && read_fd (self, self->meminfo_fd) > 0)
    {
      values[MS_RES_SYS_MEM_TOTAL] = find_value (self->buf, "MemTotal:") * 1024;
      values[MS_RES_SYS_MEM_AVAILABLE] = find_value (self->buf, "\nMemAvailable:") * 1024;
    }
  if (self->loadavg_fd >= 0 && read_fd (self, self->loadavg_fd) > 0)
    {
      values[MS_RES_SYS_LOAD1_X100] = parse_load_x100 (self->buf, &p);
      values[MS_RES_SYS_LOAD5_X100] = parse_load_x100 (p, &p);
      values[MS_RES_SYS_LOAD15_X100] = parse_load_x100 (p, &p);
    }
  sample_network (self, values);
  sample_disks (self, values);
  add_resource (self, now_ns, MS_RESOURCE_SYSTEM, 0, values, MS_RES_SYS_N_VALUES);
}

/* --- ticks -------------------------------------------------------------- */

static void
write_start_info (MsMonitor *self)
{
  g_autofree char *interval = g_strdup_printf ("%u", self->interval_msec);

  self->gpu_probed = TRUE;
  gpu_open (&self->gpu);
  self->summary.gpu = self->gpu.n_devices > 0;
  add_info_locked (self, "interval_msec", interval, strlen (interval));
  add_info_locked (self, "gpu", self->summary.gpu ? "nvml" : "none", 4);
  if (!self->have_command && self->processes->len > 0)
    {
      MonProcess *first = g_ptr_array_index (self->processes, 0);
      int fd = NO_FD;
      gssize n = first->dir_fd >= 0 ? read_at (self, first->dir_fd, "cmdline", &fd) : -1;

      close_fd (self, &fd);
      /* NUL-separated arguments, as the process file's cmdline */
      if (n > 0)
        add_info_locked (self, "command", self->buf, self->buf[n - 1] == '\0' ? (gsize) n - 1 : (gsize) n);
    }
  self->info_written = TRUE;
}

static void
sample_locked (MsMonitor *self)
{
  guint64 now_ns;
  TickTotals totals = { 0 };

  if (self->closed)
    return;
  if (!self->info_written)
    write_start_info (self);
  now_ns = monotonic_ns ();
  self->tick++;
  scan_children (self);
  for (guint i = 0; i < self->processes->len; i++)
    {
      MonProcess *p = g_ptr_array_index (self->processes, i);
      if (!p->dead)
        sample_process (self, p, now_ns, &totals);
    }
  sample_system (self, now_ns);
  sample_gpus (self, now_ns);

  if (self->summary.samples == 0)
    self->first_tick_ns = now_ns;
  else if (now_ns > self->prev_tick_ns)
    {
      gdouble cpu_percent = 100.0 * (gdouble) totals.cpu_ns / (gdouble) (now_ns - self->prev_tick_ns);
      self->summary.peak_cpu_percent = MAX (self->summary.peak_cpu_percent, cpu_percent);
    }
  self->prev_tick_ns = now_ns;
  self->summary.samples++;
  self->summary.duration_ns = now_ns - self->first_tick_ns;
  self->summary.current_rss_bytes = totals.rss_bytes;
  self->summary.current_threads = (guint) totals.threads;
  self->summary.peak_rss_bytes = MAX (self->summary.peak_rss_bytes, totals.rss_bytes);
  self->summary.peak_threads = MAX (self->summary.peak_threads, (guint) totals.threads);
  self->summary.io_operations = self->summary.io_read_bytes = self->summary.io_write_bytes = 0;
  self->summary.processes = 0;
  for (guint i = 0; i < self->processes->len; i++)
    {
      MonProcess *p = g_ptr_array_index (self->processes, i);
      if (!p->sampled)
        continue;
      self->summary.processes++;
      self->summary.io_operations += p->last_io[0] - p->first_io[0];
      self->summary.io_read_bytes += p->last_io[1] - p->first_io[1];
      self->summary.io_write_bytes += p->last_io[2] - p->first_io[2];
    }
}

static gpointer
monitor_thread (gpointer data)
{
  MsMonitor *self = data;
  gint64 next_usec = self->first_sample_usec;

  /* In a program that instruments itself the monitor runs inside the
   * profiled process: what this thread allocates is not the workload's. */
  ms_tracker_ignore_current_thread ();
  g_mutex_lock (&self->lock);
  while (!self->stopping)
    {
      gint64 now_usec;

      next_usec += (gint64) self->interval_msec * 1000;
      now_usec = g_get_monotonic_time ();
      /* After a stall (a suspended machine, a stopped process), go on from
       * now rather than sampling in a burst to catch up. */
      if (next_usec < now_usec)
        next_usec = now_usec + (gint64) self->interval_msec * 1000;
      while (!self->stopping && g_get_monotonic_time () < next_usec)
        g_cond_wait_until (&self->cond, &self->lock, next_usec);
      if (!self->stopping)
        sample_locked (self);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* --- public API --------------------------------------------------------- */

static int
open_proc (MsMonitor *self, const char *path)
{
  return open_counted (self, AT_FDCWD, path, O_RDONLY);
}

MsMonitor *
ms_monitor_new (const char *path, guint interval_msec, GError **error)
{
  g_autoptr (MsMonitor) self = NULL;
  MsWriterOptions options = { 0 };
  struct rlimit limit;
  int r;

  g_return_val_if_fail (path != NULL, NULL);
  if (interval_msec < MS_MONITOR_MIN_INTERVAL_MSEC || interval_msec > MS_MONITOR_MAX_INTERVAL_MSEC)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FAILED,
                   _("The sampling interval must be between %u and %u ms, not %u"),
                   MS_MONITOR_MIN_INTERVAL_MSEC, MS_MONITOR_MAX_INTERVAL_MSEC, interval_msec);
      return NULL;
    }

  self = g_new0 (MsMonitor, 1);
  self->children_fd = self->sys_stat_fd = self->meminfo_fd = self->loadavg_fd = NO_FD;
  self->netdev_fd = self->diskstats_fd = NO_FD;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->closed = TRUE; /* until the file exists */
  self->interval_msec = interval_msec;
  self->processes = g_ptr_array_new_with_free_func (g_free);
  self->by_pid = g_hash_table_new (NULL, NULL);
  self->whole_disks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->buf_size = READ_BUFFER_BYTES;
  self->buf = g_malloc (self->buf_size);
  self->dents = g_malloc (DENTS_BUFFER_BYTES);
  self->ns_per_clock_tick = G_GUINT64_CONSTANT (1000000000) / (guint64) MAX (sysconf (_SC_CLK_TCK), 1);
  self->page_bytes = (guint64) sysconf (_SC_PAGESIZE);
  /* Keep per-thread files open while that leaves half of the descriptors
   * to the program we may be running in. */
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    self->fd_budget = (int) MIN (limit.rlim_cur / 2, (rlim_t) G_MAXINT / 2);
  else
    self->fd_budget = 4096;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      self->path = g_build_filename (path, "resources.mst", NULL);
      self->children_fd = open_counted (self, AT_FDCWD, path, O_RDONLY | O_DIRECTORY);
    }
  else
    self->path = g_strdup (path);

  options.kind = MS_FILE_KIND_RESOURCES;
  options.pid = (uint32_t) getpid ();
  options.chunk_bytes = MS_WRITER_DEFAULT_CHUNK_BYTES;
  options.start_mono_ns = monotonic_ns ();
  options.start_wall_ns = realtime_ns ();
  r = ms_writer_create (&self->writer, self->path, &options);
  if (r < 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Creating “%s”: %s"), self->path, g_strerror (-r));
      return NULL;
    }
  self->closed = FALSE;

  self->sys_stat_fd = open_proc (self, "/proc/stat");
  self->meminfo_fd = open_proc (self, "/proc/meminfo");
  self->loadavg_fd = open_proc (self, "/proc/loadavg");
  self->netdev_fd = open_proc (self, "/proc/net/dev");
  self->diskstats_fd = open_proc (self, "/proc/diskstats");
  return g_steal_pointer (&self);
}

void
ms_monitor_add_pid (MsMonitor *self, GPid pid)
{
  g_mutex_lock (&self->lock);
  add_process_locked (self, pid);
  g_mutex_unlock (&self->lock);
}

void
ms_monitor_add_info (MsMonitor *self, const char *key, const char *value, gssize value_len)
{
  g_mutex_lock (&self->lock);
  if (!self->closed)
    {
      add_info_locked (self, key, value, value_len < 0 ? strlen (value) : (gsize) value_len);
      if (g_str_equal (key, "command"))
        self->have_command = TRUE;
    }
  g_mutex_unlock (&self->lock);
}

gboolean
ms_monitor_start (MsMonitor *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (self->thread == NULL, FALSE);
  self->stopping = FALSE;
  /* The first sample is taken here rather than by the thread: a program
   * that ends within a few milliseconds may be over before a new thread is
   * first scheduled on a busy machine, and would have no sample at all. */
  g_mutex_lock (&self->lock);
  self->first_sample_usec = g_get_monotonic_time ();
  sample_locked (self);
  g_mutex_unlock (&self->lock);
  self->thread = g_thread_try_new ("ms-monitor", monitor_thread, self, &local_error);
  if (self->thread == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_FAILED, _("Starting the resource monitor: %s"),
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

void
ms_monitor_sample (MsMonitor *self)
{
  g_mutex_lock (&self->lock);
  sample_locked (self);
  g_mutex_unlock (&self->lock);
}

gboolean
ms_monitor_stop (MsMonitor *self, GError **error)
{
  MsRecord *r = &self->record;
  int close_error;

  if (self->thread != NULL)
    {
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (g_steal_pointer (&self->thread));
    }

  g_mutex_lock (&self->lock);
  if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      return TRUE;
    }
  /* A file without CLOSE reads as cut off: say that this one is whole. */
  memset (&r->u, 0, sizeof r->u.close);
  r->kind = MS_RECORD_CLOSE;
  r->time_ns = monotonic_ns ();
  r->u.close.lost = self->writer.lost;
  ms_writer_add_final (&self->writer, r);
  close_error = ms_writer_close (&self->writer);
  if (self->write_error == 0)
    self->write_error = close_error;
  self->closed = TRUE;
  for (guint i = 0; i < self->processes->len; i++)
    process_finish (self, g_ptr_array_index (self->processes, i));
  g_mutex_unlock (&self->lock);

  if (self->write_error < 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Writing “%s”: %s"), self->path,
                   g_strerror (-self->write_error));
      return FALSE;
    }
  return TRUE;
}

void
ms_monitor_get_summary (MsMonitor *self, MsMonitorSummary *out_summary)
{
  g_mutex_lock (&self->lock);
  *out_summary = self->summary;
  g_mutex_unlock (&self->lock);
}

void
ms_monitor_free (MsMonitor *self)
{
  if (self == NULL)
    return;
  if (!self->closed || self->thread != NULL)
    ms_monitor_stop (self, NULL);
  gpu_close (&self->gpu);
  close_fd (self, &self->sys_stat_fd);
  close_fd (self, &self->meminfo_fd);
  close_fd (self, &self->loadavg_fd);
  close_fd (self, &self->netdev_fd);
  close_fd (self, &self->diskstats_fd);
  close_fd (self, &self->children_fd);
  g_ptr_array_unref (self->processes);
  g_hash_table_unref (self->by_pid);
  g_hash_table_unref (self->whole_disks);
  g_free (self->buf);
  g_free (self->dents);
  g_free (self->path);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}
