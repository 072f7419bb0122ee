/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The tracker. Each thread records into a slot of its own (a trace file,
 * a stack trie, a frequency table) with no lock and no shared write on the
 * event path; only thread start and exit touch shared state. */
#include "config.h"

#include "ms-tracker-private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ms-clock.h"
#include "ms-module-map.h"
#include "ms-record.h"
#include "ms-sampler.h"
#include "ms-stack-trie.h"
#include "ms-sys.h"
#include "ms-unwind.h"
#include "ms-varint.h"
#include "ms-writer.h"

#define MAX_SLOTS 16384
/* frames our own code can add above the caller before trimming */
#define MAX_OWN_FRAMES 8
#define LIVE_SET_LOG2 21
#define PATH_BYTES 4096

typedef MsTrackerSlot Slot;
struct MsTrackerSlot
{
  /* what every event touches first, ahead of the writer's 4 KiB path */
  MsFreqTable freq;
  MsStackTrie trie;
  uint64_t allocs;         /* totals of the file, for its CLOSE record */
  uint64_t frees;
  uint64_t bytes_allocated;
  uint64_t bytes_freed;
  uint32_t index;
  uint32_t owner_tid;      /* 0 while free */
  Slot *next_free;
  MsWriter writer;
};

__thread MsTrackerThread ms_tracker_tls __attribute__ ((tls_model ("initial-exec"), aligned (64)));

MsTrackerHot ms_tracker_hot __attribute__ ((aligned (64))) = {
  .epoch = 1,
};

typedef enum
{
  PROCESS_OFF = 0,
  PROCESS_ON,
  PROCESS_STOPPED,
} ProcessState;

static struct
{
  int state;                 /* ProcessState */
  MsConfig config;
  char base_dir[PATH_BYTES];  /* MEMSCOPE_OUTPUT, absolute */
  char dir[PATH_BYTES];       /* this process's directory */
  pid_t pid;

  /* Two locks, never held together, so that neither is ever held while
   * waiting for the loader lock and vice versa: a thread inside dlopen holds
   * the loader lock and may call malloc (attach takes slot_lock), while
   * module updates hold file_lock and call dl_iterate_phdr. */
  pthread_mutex_t slot_lock;  /* slots, free list */
  pthread_mutex_t file_lock;  /* the process writer, the module map */
  MsWriter process_writer;
  bool process_writer_open;
  Slot *slots[MAX_SLOTS];
  uint32_t n_slots;
  Slot *free_slots;
  uint64_t threads_not_tracked; /* no slot could be had */
  pthread_key_t exit_key;
  bool exit_key_ok;
  bool warned;
  bool atfork_registered;
} proc = {
  .slot_lock = PTHREAD_MUTEX_INITIALIZER,
  .file_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* ---- small helpers (no stdio, no malloc) ---- */

/* Every record's time comes from the one clock the events use, so that
 * bookkeeping records never appear to come before the events around them. */
static uint64_t
now_ns (void)
{
  return ms_clock_now_ns (1);
}

static uint64_t
wall_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static char *
append (char *p, char *end, const char *s)
{
  while (*s && p < end)
    *p++ = *s++;
  return p;
}

static char *
append_u64 (char *p, char *end, uint64_t v)
{
  char digits[24];
  int n = 0;
  do
    digits[n++] = (char) ('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0 && p < end)
    *p++ = digits[--n];
  return p;
}

/* "memscope: A N B\n" on stderr, with one write and no allocation. */
static void
say (const char *a, uint64_t n, const char *b)
{
  char buf[512];
  char *end = buf + sizeof buf - 1;
  char *p = append (buf, end, "memscope: ");
  p = append (p, end, a);
  if (b != NULL)
    {
      p = append_u64 (p, end, n);
      p = append (p, end, b);
    }
  *p++ = '\n';
  (void) ms_sys_write (2, buf, (size_t) (p - buf));
}

static void
debug (const char *a, uint64_t n, const char *b)
{
  if (proc.config.debug)
    say (a, n, b);
}

static const char *
errno_name (int e)
{
  switch (e)
    {
    case ENOSPC: return "ENOSPC (no space left on device)";
    case EDQUOT: return "EDQUOT (disk quota exceeded)";
    case EACCES: return "EACCES (permission denied)";
    case EROFS: return "EROFS (read-only file system)";
    case ENOENT: return "ENOENT (directory vanished)";
    case ELOOP: return "ELOOP (symbolic link refused)";
    case ENOMEM: return "ENOMEM (out of memory)";
    case EEXIST: return "EEXIST (file exists)";
    default: return "I/O error";
    }
}

static MsBytes
bytes_of (const char *s)
{
  return (MsBytes) { s, (uint32_t) strlen (s) };
}

static uint32_t
gettid_cached (void)
{
  if (ms_tracker_tls.tid == 0)
    ms_tracker_tls.tid = (uint32_t) ms_syscall6 (SYS_gettid, 0, 0, 0, 0, 0, 0);
  return ms_tracker_tls.tid;
}

/* ---- the process file ---- */

static void
add_info (const char *key, const char *value, size_t value_len)
{
  MsRecord r = { .kind = MS_RECORD_INFO, .time_ns = now_ns () };
  r.u.info.key = bytes_of (key);
  r.u.info.value = (MsBytes) { value, (uint32_t) value_len };
  if (proc.process_writer_open)
    ms_writer_add (&proc.process_writer, &r);
}

static void
add_info_str (const char *key, const char *value)
{
  add_info (key, value, strlen (value));
}

static void
add_info_u64 (const char *key, uint64_t v)
{
  char buf[24];
  char *end = append_u64 (buf, buf + sizeof buf, v);
  add_info (key, buf, (size_t) (end - buf));
}

static void
write_module (void *user_data, const MsModule *m, bool loaded)
{
  MsRecord r = { .kind = loaded ? MS_RECORD_MODULE_LOAD : MS_RECORD_MODULE_UNLOAD, .time_ns = now_ns () };
  r.u.module.start = m->start;
  r.u.module.size = m->size;
  r.u.module.bias = m->bias;
  r.u.module.build_id = (MsBytes) { (const char *) m->build_id, m->build_id_len };
  r.u.module.path = bytes_of (m->path);
  if (proc.process_writer_open)
    ms_writer_add (&proc.process_writer, &r);
}

/* The whole command line, NUL-separated, as /proc gives it. */
static void
add_cmdline (void)
{
  static char buf[32768];
  int fd = ms_sys_open ("/proc/self/cmdline", O_RDONLY | O_CLOEXEC, 0);
  long n = 0;

  if (fd < 0)
    return;
  for (;;)
    {
      long r = ms_syscall6 (SYS_read, fd, (long) buf + n, (long) sizeof buf - n, 0, 0, 0);
      if (r <= 0)
        break;
      n += r;
      if (n == (long) sizeof buf)
        break;
    }
  ms_sys_close (fd);
  while (n > 0 && buf[n - 1] == '\0')
    n--;
  add_info ("cmdline", buf, (size_t) n);
}

static void
add_config_info (void)
{
  const MsConfig *c = &proc.config;
  char exe[PATH_BYTES];
  long n = ms_syscall6 (SYS_readlink, (long) "/proc/self/exe", (long) exe, sizeof exe - 1, 0, 0, 0);

  add_cmdline ();
  if (n > 0)
    add_info ("exe", exe, (size_t) n);
  add_info_u64 ("pid", (uint64_t) proc.pid);
  add_info_u64 ("ppid", (uint64_t) getppid ());
  if (c->sampling == MS_SAMPLING_BYTES)
    {
      char buf[40];
      char *end = append_u64 (append (buf, buf + sizeof buf, "bytes:"), buf + sizeof buf, c->sample_bytes);
      add_info ("sampling", buf, (size_t) (end - buf));
    }
  else
    add_info_str ("sampling", c->sampling == MS_SAMPLING_TIERED ? "tiered" : "exact");
  add_info_u64 ("depth", c->depth);
  add_info_u64 ("min_size", c->min_size);
  add_info_u64 ("buffer", c->buffer_bytes);
  add_info_str ("threads", c->threads);
  add_info_str ("freq", c->freq_table ? "1" : "0");
  add_info_str ("mmap", c->track_mmap ? "1" : "0");
  add_info_str ("follow_children", c->follow_children ? "1" : "0");
  add_info_str ("memscope_version", PACKAGE_VERSION);
}

/* Event times are kept to 16 ns: finer than the clock can be read
 * (lfence + rdtsc alone takes ~15 ns), and far finer than one thread can
 * hand a block to another (a cache-line transfer each way), so the
 * merged order of threads is what it would be in ns. It saves 0.7 byte
 * an event: a 100-300 ns gap fits one byte instead of two. */
#define TRACE_TIME_SHIFT 4

static MsWriterOptions
writer_options (MsFileKind kind)
{
  return (MsWriterOptions) {
    .kind = kind,
    .pid = (uint32_t) proc.pid,
    .chunk_bytes = proc.config.buffer_bytes,
    .start_mono_ns = now_ns (),
    .start_wall_ns = wall_ns (),
    .time_shift = kind == MS_FILE_KIND_THREAD ? TRACE_TIME_SHIFT : 0,
  };
}

static int
join_path (char *out, const char *dir, const char *name, uint64_t number, const char *suffix)
{
  char *end = out + PATH_BYTES - 1;
  char *p = append (out, end, dir);
  p = append (p, end, "/");
  p = append (p, end, name);
  if (suffix != NULL)
    {
      p = append_u64 (p, end, number);
      p = append (p, end, suffix);
    }
  if (p >= end)
    return -ENAMETOOLONG;
  *p = '\0';
  return 0;
}

/* Creates DIR if missing and checks it is a directory of ours, reached
 * without a symbolic link: traces hold addresses and command lines. */
static int
make_private_dir (const char *dir)
{
  struct stat st;

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return -errno;
  int fd = ms_sys_open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0)
    return fd;
  int r = fstat (fd, &st) < 0 ? -errno : 0;
  ms_sys_close (fd);
  if (r == 0 && st.st_uid != geteuid ())
    r = -EACCES;
  return r;
}

/* Opens this process's directory and its process.mst: BASE itself for the
 * first process, BASE/PID for any other (a forked or exec'd child), and
 * BASE/PID-execN for the program a process exec'd into, since the pid
 * stays the same across exec. */
static int
open_process_dir (bool forked_child)
{
  char path[PATH_BYTES];
  int r;

  if ((r = make_private_dir (proc.base_dir)) < 0)
    return r;
  for (unsigned attempt = forked_child ? 1 : 0; attempt < 64; attempt++)
    {
      if (attempt == 0)
        memcpy (proc.dir, proc.base_dir, sizeof proc.dir);
      else if (attempt == 1)
        r = join_path (proc.dir, proc.base_dir, "", (uint64_t) proc.pid, "");
      else
        {
          char suffix[24];
          char *end = append_u64 (append (suffix, suffix + sizeof suffix - 1, "-exec"),
                                  suffix + sizeof suffix - 1, attempt - 1);
          *end = '\0';
          r = join_path (proc.dir, proc.base_dir, "", (uint64_t) proc.pid, suffix);
        }
      if (r < 0 || (attempt > 0 && (r = make_private_dir (proc.dir)) < 0)
          || (r = join_path (path, proc.dir, "process.mst", 0, NULL)) < 0)
        return r;
      MsWriterOptions o = writer_options (MS_FILE_KIND_PROCESS);
      r = ms_writer_create (&proc.process_writer, path, &o);
      if (r != -EEXIST)
        return r;
    }
  return -EEXIST;
}

/* ---- stopping on errors ---- */

static void
stop_everything (int error)
{
  __atomic_store_n (&proc.state, PROCESS_STOPPED, __ATOMIC_RELEASE);
  __atomic_add_fetch (&ms_tracker_hot.epoch, 1, __ATOMIC_RELEASE);
  if (error != 0 && !__atomic_exchange_n (&proc.warned, true, __ATOMIC_ACQ_REL))
    {
      char msg[256];
      char *end = msg + sizeof msg - 1;
      char *p = append (msg, end, "cannot write the trace in ");
      p = append (p, end, proc.dir[0] ? proc.dir : proc.base_dir);
      p = append (p, end, ": ");
      p = append (p, end, errno_name (-error));
      p = append (p, end, "; recording stopped, the program goes on");
      *p = '\0';
      say (msg, 0, NULL);
      /* trylock: this can run inside dlopen, under the loader lock */
      if (pthread_mutex_trylock (&proc.file_lock) == 0)
        {
          add_info_str ("error", errno_name (-error));
          pthread_mutex_unlock (&proc.file_lock);
        }
    }
}

/* ---- slots ---- */

/* dlopen itself is not interposed: glibc finds the caller's RUNPATH from
 * dlopen's return address, and a wrapper would change it. Code loaded
 * later is noticed instead where it matters, when one of its addresses
 * first enters a stack: the map is rescanned then, before the event that
 * names it is written. */
static void
check_module_known (uint64_t ip)
{
  static uint64_t scanned_generation;

  if (ms_module_map_contains (ip))
    return;
  uint64_t generation = ms_module_map_generation ();
  if (generation == __atomic_load_n (&scanned_generation, __ATOMIC_RELAXED))
    return; /* JIT code, or the vDSO: no object to find */
  /* trylock: this may run inside dlopen, under the loader lock; whoever
   * holds file_lock is rescanning and will see the new object anyway */
  if (pthread_mutex_trylock (&proc.file_lock) != 0)
    return;
  if (proc.process_writer_open)
    ms_module_map_update (write_module, NULL);
  __atomic_store_n (&scanned_generation, generation, __ATOMIC_RELAXED);
  pthread_mutex_unlock (&proc.file_lock);
}

static int
emit_stack_node (void *user_data, uint32_t id, uint32_t parent, uint64_t ip)
{
  Slot *slot = user_data;

  check_module_known (ip);
  MsRecord r = { .kind = MS_RECORD_STACK_NODE, .time_ns = slot->writer.state.prev_time_ns };
  r.u.stack_node.id = id;
  r.u.stack_node.parent = parent;
  r.u.stack_node.ip = ip;
  return ms_writer_add (&slot->writer, &r);
}

static Slot *
new_slot (uint32_t index, int *out_error)
{
  char path[PATH_BYTES];
  Slot *slot = ms_sys_mmap (NULL, sizeof (Slot), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int r;

  if (ms_sys_is_error ((long) slot))
    {
      *out_error = -ENOMEM;
      return NULL;
    }
  slot->index = index;
  MsWriterOptions o = writer_options (MS_FILE_KIND_THREAD);
  if ((r = join_path (path, proc.dir, "thread-", index, ".mst")) < 0
      || (r = ms_writer_create (&slot->writer, path, &o)) < 0
      || (r = ms_stack_trie_init (&slot->trie)) < 0
      || (r = ms_freq_table_init (&slot->freq)) < 0)
    {
      ms_writer_close (&slot->writer);
      ms_stack_trie_destroy (&slot->trie);
      ms_sys_munmap (slot, sizeof (Slot));
      *out_error = r;
      return NULL;
    }
  return slot;
}

static void
write_thread_name (Slot *slot)
{
  MsRecord r = { .kind = MS_RECORD_THREAD_NAME, .time_ns = now_ns () };
  r.u.thread.tid = ms_tracker_tls.tid;
  r.u.thread.name = bytes_of (ms_tracker_tls.name);
  ms_writer_add (&slot->writer, &r);
}

static void
read_own_name (char name[16])
{
  memset (name, 0, 16);
  if (prctl (PR_GET_NAME, name, 0, 0, 0) < 0)
    name[0] = '\0';
  name[15] = '\0';
}

/* Gives the calling thread a slot. Called with ms_tracker_tls.busy set. */
static bool
attach (void)
{
  Slot *slot = NULL;
  int error = 0;

  pthread_mutex_lock (&proc.slot_lock);
  if (proc.free_slots != NULL)
    {
      slot = proc.free_slots;
      proc.free_slots = slot->next_free;
    }
  else if (proc.n_slots < MAX_SLOTS)
    {
      slot = new_slot (proc.n_slots, &error);
      if (slot != NULL)
        proc.slots[proc.n_slots++] = slot;
    }
  if (slot == NULL)
    proc.threads_not_tracked++;
  else
    slot->owner_tid = gettid_cached ();
  pthread_mutex_unlock (&proc.slot_lock);

  if (slot == NULL)
    {
      if (error != 0)
        stop_everything (error);
      ms_tracker_tls.mode = MS_THREAD_DONE;
      return false;
    }

  ms_tracker_tls.slot = slot;
  ms_tracker_tls.freq = &slot->freq;
  ms_tracker_tls.mode = MS_THREAD_TRACKED;
  ms_tracker_tls.exit_rounds = 0;
  ms_sampler_state_init (&ms_tracker_tls.sampler, now_ns () ^ ((uint64_t) ms_tracker_tls.tid << 32), &proc.config);
  MsRecord start = { .kind = MS_RECORD_THREAD_START, .time_ns = now_ns (), .u.thread.tid = ms_tracker_tls.tid };
  ms_writer_add (&slot->writer, &start);
  write_thread_name (slot);
  if (proc.exit_key_ok)
    pthread_setspecific (proc.exit_key, slot);
  debug ("thread ", ms_tracker_tls.tid, " attached");
  return true;
}

static void
write_freq_rows (MsWriter *writer, const MsFreqTable *freq, uint64_t tid)
{
  if (!proc.config.freq_table)
    return;
  uint64_t t = now_ns ();
  /* capacity before table: a grow stores them the other way round, so
   * this never walks an old, smaller array with a new capacity */
  uint32_t capacity = __atomic_load_n (&freq->capacity, __ATOMIC_ACQUIRE);
  const MsFreqEntry *table = __atomic_load_n (&freq->table, __ATOMIC_ACQUIRE);
  for (uint32_t i = 0; i < capacity; i++)
    {
      const MsFreqEntry *e = &table[i];
      if (e->count == 0)
        continue;
      MsRecord r = { .kind = MS_RECORD_FREQ, .time_ns = t };
      r.u.freq.tid = tid;
      r.u.freq.ip = e->ip;
      r.u.freq.count = e->count;
      r.u.freq.bytes = e->bytes;
      ms_writer_add (writer, &r);
    }
}

static void
close_slot_file (Slot *slot)
{
  MsWriter *w = &slot->writer;
  uint64_t t = now_ns ();

  if (w->window == NULL)
    return;
  if (w->lost > 0)
    {
      MsRecord lost = { .kind = MS_RECORD_LOST, .time_ns = t };
      lost.u.lost.events = w->lost;
      lost.u.lost.reason = w->error == -ENOSPC || w->error == -EDQUOT ? MS_LOST_REASON_NO_SPACE : MS_LOST_REASON_WRITE_FAILED;
      ms_writer_add_final (w, &lost);
    }
  MsRecord close = { .kind = MS_RECORD_CLOSE, .time_ns = t };
  close.u.close.allocs = slot->allocs;
  close.u.close.frees = slot->frees;
  close.u.close.bytes_allocated = slot->bytes_allocated;
  close.u.close.bytes_freed = slot->bytes_freed;
  close.u.close.lost = w->lost;
  ms_writer_add_final (w, &close);
  ms_writer_close (w);
}

/* Ends the calling thread's part of its slot; with RELEASE the slot goes
 * back to the free list for the next thread, else its file is closed. */
static void
detach (bool release)
{
  Slot *slot = ms_tracker_tls.slot;

  if (slot == NULL)
    return;
  write_freq_rows (&slot->writer, &slot->freq, ms_tracker_tls.tid);
  ms_freq_table_clear (&slot->freq);
  MsRecord end = { .kind = MS_RECORD_THREAD_END, .time_ns = now_ns (), .u.thread.tid = ms_tracker_tls.tid };
  ms_writer_add (&slot->writer, &end);
  debug ("thread ", ms_tracker_tls.tid, " detached");

  ms_tracker_tls.slot = NULL;
  ms_tracker_tls.freq = NULL;
  pthread_mutex_lock (&proc.slot_lock);
  slot->owner_tid = 0;
  if (release && __atomic_load_n (&proc.state, __ATOMIC_ACQUIRE) == PROCESS_ON)
    {
      slot->next_free = proc.free_slots;
      proc.free_slots = slot;
    }
  else
    close_slot_file (slot);
  pthread_mutex_unlock (&proc.slot_lock);
}

static void
on_thread_exit (void *value)
{
  bool was_busy = ms_tracker_tls.busy;

  /* Other keys' destructors run after ours in each round and may free
   * blocks: stay until the last round so those frees are recorded. */
  if (++ms_tracker_tls.exit_rounds < PTHREAD_DESTRUCTOR_ITERATIONS && proc.exit_key_ok)
    {
      ms_tracker_tls.busy = 1;
      pthread_setspecific (proc.exit_key, value);
      ms_tracker_tls.busy = was_busy;
      return;
    }
  ms_tracker_tls.busy = 1;
  if (ms_tracker_tls.mode == MS_THREAD_TRACKED)
    detach (true);
  ms_tracker_tls.mode = MS_THREAD_DONE;
  ms_tracker_tls.busy = was_busy;
}

/* The slow path of every event: the epoch moved (first event, stop,
 * rename) so the thread looks at shared state again. Runs with busy set. */
static void
refresh (void)
{
  uint32_t epoch = __atomic_load_n (&ms_tracker_hot.epoch, __ATOMIC_ACQUIRE);
  int state = __atomic_load_n (&proc.state, __ATOMIC_ACQUIRE);

  ms_tracker_tls.epoch = epoch;
  if (ms_tracker_tls.mode == MS_THREAD_DONE)
    return;
  if (state != PROCESS_ON)
    {
      if (ms_tracker_tls.mode == MS_THREAD_TRACKED)
        detach (false);
      if (state == PROCESS_STOPPED)
        ms_tracker_tls.mode = MS_THREAD_DONE;
      return;
    }
  if (ms_tracker_tls.ignored_by_request)
    {
      ms_tracker_tls.mode = MS_THREAD_IGNORED;
      return;
    }

  char name[16];
  read_own_name (name);
  bool renamed = memcmp (name, ms_tracker_tls.name, sizeof name) != 0;
  memcpy (ms_tracker_tls.name, name, sizeof name);
  bool wanted = ms_config_threads_match (proc.config.threads, name);

  if (ms_tracker_tls.mode == MS_THREAD_TRACKED)
    {
      if (!wanted)
        {
          detach (true);
          ms_tracker_tls.mode = MS_THREAD_IGNORED;
        }
      else if (renamed)
        write_thread_name (ms_tracker_tls.slot);
    }
  else if (wanted)
    attach ();
  else
    ms_tracker_tls.mode = MS_THREAD_IGNORED;
}

/* The slow half of enter (): busy, a moved epoch, or not tracked. */
static __attribute__ ((noinline)) bool
enter_slow (void)
{
  if (ms_tracker_tls.busy)
    return false;
  if (ms_tracker_tls.epoch != __atomic_load_n (&ms_tracker_hot.epoch, __ATOMIC_RELAXED))
    {
      if (__atomic_load_n (&proc.state, __ATOMIC_RELAXED) == PROCESS_OFF)
        return false;
      ms_tracker_tls.busy = 1;
      int saved = errno;
      refresh ();
      errno = saved;
      ms_tracker_tls.busy = 0;
    }
  if (ms_tracker_tls.mode != MS_THREAD_TRACKED)
    return false;
  ms_tracker_tls.busy = 1;
  return true;
}

/* Enters the tracker for one event in the common case: two compares,
 * tracked and not busy (one 16-bit word), and no news (the epoch). */
static inline __attribute__ ((always_inline)) bool
enter_fast (void)
{
  if (MS_LIKELY (ms_tracker_tls.gate == MS_THREAD_GATE_OPEN
                 && ms_tracker_tls.epoch == __atomic_load_n (&ms_tracker_hot.epoch, __ATOMIC_RELAXED)))
    {
      ms_tracker_tls.busy = 1;
      return true;
    }
  return false;
}

/* Enters the tracker for one event: false when the event is not ours to
 * record. */
static inline __attribute__ ((always_inline)) bool
enter (void)
{
  return enter_fast () || enter_slow ();
}

static inline void
leave (void)
{
  ms_tracker_tls.busy = 0;
}

static void
on_write_failure (Slot *slot)
{
  if (slot->writer.error != 0)
    stop_everything (slot->writer.error);
}

/* ---- events ---- */

/* Innermost frames first, from the caller of the function whose frame
 * record is FRAME (the preload's wrapper), or else from our caller; our
 * own frames (this file, the shim) trimmed by address range, not by a
 * count that inlining would change. IPS has room for MS_CONFIG_MAX_DEPTH
 * + MAX_OWN_FRAMES entries. */
static uint32_t
capture_stack (uint64_t *ips, const void *frame)
{
  uint32_t depth = ms_tracker_hot.depth;
  int n = frame != NULL ? ms_unwind_from (frame, ips, (int) (MS_UNWIND_FROM_IS_EXACT ? depth : depth + MAX_OWN_FRAMES))
                        : ms_unwind (ips, (int) (depth + MAX_OWN_FRAMES));
  int first = 0;

  while (first < n && ips[first] >= ms_tracker_hot.own_start && ips[first] < ms_tracker_hot.own_end)
    first++;
  uint32_t kept = (uint32_t) (n - first) < depth ? (uint32_t) (n - first) : depth;
  if (first > 0)
    memmove (ips, ips + first, kept * sizeof *ips);
  return kept;
}

/* ms_writer_reserve for one event record, its common case inline: room
 * left in the open chunk (the same test the writer makes first). */
static inline uint8_t *
reserve_event (MsWriter *w)
{
  if (MS_LIKELY (w->pos + MS_HOT_RECORD_MAX_BYTES <= w->limit))
    return w->pos;
  return ms_writer_reserve (w, MS_HOT_RECORD_MAX_BYTES);
}

static void
record_alloc_event (Slot *slot, MsRecordKind kind, uint64_t old_addr, uint64_t addr, uint64_t size,
                    uint64_t weight, const uint64_t *ips, uint32_t n_ips)
{
  uint32_t stack = ms_stack_trie_intern (&slot->trie, ips, n_ips, emit_stack_node, slot);
  uint8_t *rec = reserve_event (&slot->writer);

  if (MS_UNLIKELY (rec == NULL))
    {
      on_write_failure (slot);
      return;
    }
  MsCodecState *st = &slot->writer.state;
  uint8_t *p = ms_encode_time (rec + 1, st, ms_clock_now_ns (1));
  p = ms_varint_put (p, size);
  if (kind == MS_RECORD_REALLOC)
    p = ms_encode_addr (p, st, old_addr);
  p = ms_encode_addr (p, st, addr);
  p = ms_varint_put (p, stack);
  if (weight != MS_WEIGHT_ONE || kind == MS_RECORD_MMAP)
    {
      p = ms_varint_put (p, weight);
      if (kind == MS_RECORD_ALLOC)
        kind = MS_RECORD_ALLOC_SAMPLED;
      else if (kind == MS_RECORD_REALLOC)
        kind = MS_RECORD_REALLOC_SAMPLED;
    }
  ms_writer_commit (&slot->writer, rec, (size_t) (p - rec - 1), (uint8_t) kind);
  slot->allocs++;
  slot->bytes_allocated += size;
}

/* Inline: a free's record is most of what a free costs in exact mode. */
static inline __attribute__ ((always_inline)) void
record_free_event (Slot *slot, MsRecordKind kind, uint64_t addr, uint64_t size)
{
  uint8_t *rec = reserve_event (&slot->writer);

  if (MS_UNLIKELY (rec == NULL))
    {
      on_write_failure (slot);
      return;
    }
  MsCodecState *st = &slot->writer.state;
  uint8_t *p = ms_encode_time (rec + 1, st, ms_clock_now_ns (0));
  if (kind == MS_RECORD_MUNMAP)
    p = ms_varint_put (p, size);
  p = ms_encode_addr (p, st, addr);
  ms_writer_commit (&slot->writer, rec, (size_t) (p - rec - 1), (uint8_t) kind);
  slot->frees++;
}

/* The kept allocation: into the live set when sampling, its stack, its
 * record. Out of line, with the stack buffer, so that the path that keeps
 * nothing has no frame to set up. */
static __attribute__ ((noinline)) void
keep_alloc (MsRecordKind kind, uint64_t old_addr, void *ptr, size_t size, uint64_t weight, const void *frame,
            const uintptr_t *given_ips, unsigned n_given)
{
  Slot *slot = ms_tracker_tls.slot;
  uint64_t ips[MS_CONFIG_MAX_DEPTH + MAX_OWN_FRAMES];
  uint32_t n;

  if (ms_tracker_hot.sampling && kind != MS_RECORD_MMAP && !ms_live_set_insert ((uint64_t) (uintptr_t) ptr))
    {
      slot->writer.lost++; /* its free could not be recognised: leave it out */
      if (old_addr != 0)
        record_free_event (slot, MS_RECORD_FREE, old_addr, 0);
      return;
    }
  if (given_ips != NULL)
    {
      n = n_given < ms_tracker_hot.depth ? n_given : ms_tracker_hot.depth;
      for (uint32_t i = 0; i < n; i++)
        ips[i] = given_ips[i];
    }
  else
    n = capture_stack (ips, frame);
  record_alloc_event (slot, kind, old_addr, (uint64_t) (uintptr_t) ptr, size, weight, ips, n);
}

/* Counts, decides and records one allocation (or the allocating half of a
 * realloc): the whole work, for every event that ms_tracker_alloc_skipped
 * did not answer in the wrapper. */
static inline __attribute__ ((always_inline)) void
alloc_event (MsRecordKind kind, uint64_t old_addr, void *ptr, size_t size, uintptr_t call_site,
             const void *frame, const uintptr_t *given_ips, unsigned n_given)
{
  Slot *slot = ms_tracker_tls.slot;
  uint64_t site_count = 0;
  uint64_t weight = MS_WEIGHT_ONE;

  if (ms_tracker_hot.count_sites)
    site_count = ms_freq_table_add (&slot->freq, call_site, size);
  if (kind != MS_RECORD_MMAP)
    {
      if (size < ms_tracker_hot.min_size)
        weight = 0;
      else if (ms_tracker_hot.policy == MS_POLICY_TIERED)
        weight = ms_sampler_decide_tiered (&ms_tracker_tls.sampler, size, site_count);
      else if (ms_tracker_hot.policy == MS_POLICY_BYTES)
        weight = ms_sampler_decide_bytes (&ms_tracker_tls.sampler, size, ms_tracker_hot.sample_bytes);
    }
  if (weight == 0)
    {
      if (old_addr != 0) /* the old block was recorded: its end must be */
        record_free_event (slot, MS_RECORD_FREE, old_addr, 0);
      return;
    }
  keep_alloc (kind, old_addr, ptr, size, weight, frame, given_ips, n_given);
}

/* The event paths leave errno alone without saving it: everything they
 * call is a raw system call (ms-sys.h) or errno-free, and the few slow
 * paths that can touch it (refresh, the libunwind fallback) restore it
 * themselves. tests/test-preload.sh checks errno across every wrapper. */
void
ms_tracker_on_alloc (void *ptr, size_t size, const void *frame, MsRecordKind kind)
{
  if (!enter ())
    return;
  alloc_event (kind, 0, ptr, size, ((const uintptr_t *) frame)[1], frame, NULL, 0);
  leave ();
}

void
ms_tracker_on_free (void *ptr)
{
  uint64_t addr = (uint64_t) (uintptr_t) ptr;

  if (!enter ())
    return;
  if (!ms_tracker_hot.sampling || ms_live_set_remove (addr))
    record_free_event (ms_tracker_tls.slot, MS_RECORD_FREE, addr, 0);
  leave ();
}

void
ms_tracker_on_munmap (void *ptr, size_t size)
{
  if (!enter ())
    return;
  record_free_event (ms_tracker_tls.slot, MS_RECORD_MUNMAP, (uint64_t) (uintptr_t) ptr, size);
  leave ();
}

bool
ms_tracker_on_realloc_begin (void *old_ptr)
{
  /* Taken out of the live set before libc frees it: afterwards another
   * thread may be handed the address and insert it itself. */
  if (old_ptr == NULL || !ms_tracker_hot.sampling || ms_tracker_tls.gate != MS_THREAD_GATE_OPEN)
    return old_ptr != NULL;
  return ms_live_set_remove ((uint64_t) (uintptr_t) old_ptr);
}

/* FRAME: as for ms_tracker_on_alloc, or NULL to unwind from here. */
static void
realloc_end (void *old_ptr, bool old_was_recorded, void *new_ptr, size_t size, uintptr_t call_site,
             const void *frame)
{
  if (!enter ())
    return;
  if (new_ptr == NULL)
    {
      /* failed: the old block lives on */
      if (old_was_recorded && ms_tracker_hot.sampling)
        ms_live_set_insert ((uint64_t) (uintptr_t) old_ptr);
    }
  else if (old_ptr == NULL || !old_was_recorded)
    alloc_event (old_ptr == NULL || !ms_tracker_hot.sampling ? MS_RECORD_REALLOC : MS_RECORD_ALLOC, 0, new_ptr, size,
                 call_site, frame, NULL, 0);
  else
    alloc_event (MS_RECORD_REALLOC, (uint64_t) (uintptr_t) old_ptr, new_ptr, size, call_site, frame, NULL, 0);
  leave ();
}

void
ms_tracker_on_realloc_end (void *old_ptr, bool old_was_recorded, void *new_ptr, size_t size, const void *frame)
{
  realloc_end (old_ptr, old_was_recorded, new_ptr, size, ((const uintptr_t *) frame)[1], frame);
}

void
ms_tracker_on_modules_changed (void)
{
  if (__atomic_load_n (&proc.state, __ATOMIC_ACQUIRE) != PROCESS_ON || ms_tracker_tls.busy)
    return;
  ms_tracker_tls.busy = 1;
  int saved = errno;
  pthread_mutex_lock (&proc.file_lock);
  ms_module_map_update (write_module, NULL);
  pthread_mutex_unlock (&proc.file_lock);
  errno = saved;
  ms_tracker_tls.busy = 0;
}

void
ms_tracker_on_thread_renamed (void)
{
  __atomic_add_fetch (&ms_tracker_hot.epoch, 1, __ATOMIC_RELEASE);
}

bool
ms_tracker_tracks_mmap (void)
{
  return proc.config.track_mmap;
}

/* ---- public API ---- */

void
ms_tracker_track_alloc (void *ptr, size_t size)
{
  if (ptr == NULL || !enter ())
    return;
  alloc_event (MS_RECORD_ALLOC, 0, ptr, size, (uintptr_t) __builtin_return_address (0), NULL, NULL, 0);
  leave ();
}

void
ms_tracker_track_alloc_with_stack (void *ptr, size_t size, const uintptr_t *ips, unsigned n_ips)
{
  if (ptr == NULL || !enter ())
    return;
  alloc_event (MS_RECORD_ALLOC, 0, ptr, size, n_ips ? ips[0] : 0, NULL, ips, n_ips);
  leave ();
}

void
ms_tracker_track_free (void *ptr)
{
  if (ptr != NULL)
    ms_tracker_on_free (ptr);
}

void
ms_tracker_track_realloc (void *old_ptr, void *new_ptr, size_t size)
{
  bool recorded = ms_tracker_on_realloc_begin (old_ptr);
  realloc_end (old_ptr, recorded, new_ptr, size, (uintptr_t) __builtin_return_address (0), NULL);
}

void
ms_tracker_label (const void *ptr, size_t size, const char *name, const char *type)
{
  if (!enter ())
    return;
  MsRecord r = { .kind = MS_RECORD_LABEL, .time_ns = now_ns () };
  r.u.label.addr = (uint64_t) (uintptr_t) ptr;
  r.u.label.size = size;
  r.u.label.name = bytes_of (name ? name : "");
  r.u.label.type = bytes_of (type ? type : "");
  if (ms_writer_add (&ms_tracker_tls.slot->writer, &r) < 0)
    on_write_failure (ms_tracker_tls.slot);
  leave ();
}

int
ms_tracker_thread_init (void)
{
  if (__atomic_load_n (&proc.state, __ATOMIC_ACQUIRE) != PROCESS_ON)
    return -ESRCH;
  if (ms_tracker_tls.mode == MS_THREAD_TRACKED)
    return 0;
  if (enter ())
    leave ();
  return ms_tracker_tls.mode == MS_THREAD_TRACKED ? 0 : -EPERM;
}

void
ms_tracker_thread_finalize (void)
{
  if (ms_tracker_tls.busy || ms_tracker_tls.mode != MS_THREAD_TRACKED)
    return;
  ms_tracker_tls.busy = 1;
  detach (true);
  ms_tracker_tls.mode = MS_THREAD_DONE;
  ms_tracker_tls.busy = 0;
}

void
ms_tracker_ignore_current_thread (void)
{
  ms_tracker_tls.busy = 1;
  ms_tracker_tls.ignored_by_request = 1;
  if (ms_tracker_tls.mode == MS_THREAD_TRACKED)
    detach (true);
  ms_tracker_tls.mode = MS_THREAD_IGNORED;
  ms_tracker_tls.busy = 0;
}

const char *
ms_tracker_get_directory (void)
{
  return __atomic_load_n (&proc.state, __ATOMIC_ACQUIRE) != PROCESS_OFF && proc.dir[0] ? proc.dir : NULL;
}

/* ---- start, fork, stop ---- */

static void
find_own_range (void)
{
  uintptr_t start, end;

  if (ms_module_map_find_range ((uintptr_t) &ms_tracker_on_alloc, &start, &end))
    {
      ms_tracker_hot.own_start = start;
      ms_tracker_hot.own_end = end;
    }
}

/* Whether some allocations may be left out, so that frees must be looked
 * up: any sampling, or a minimum size. */
static bool
config_samples (const MsConfig *c)
{
  return c->sampling != MS_SAMPLING_EXACT || c->min_size > 0;
}

static void
set_hot_config (const MsConfig *c)
{
  ms_tracker_hot.depth = c->depth;
  ms_tracker_hot.min_size = c->min_size;
  ms_tracker_hot.sample_bytes = c->sample_bytes;
  ms_tracker_hot.policy = c->sampling == MS_SAMPLING_TIERED ? MS_POLICY_TIERED
               : c->sampling == MS_SAMPLING_BYTES ? MS_POLICY_BYTES
                                                   : MS_POLICY_ALL;
  ms_tracker_hot.count_sites = c->freq_table || c->sampling == MS_SAMPLING_TIERED;
  ms_tracker_hot.skip = !config_samples (c) ? MS_SKIP_NEVER
                        : c->sampling == MS_SAMPLING_TIERED && c->min_size == 0 ? MS_SKIP_TIERED
                                                                                : MS_SKIP_ANY;
  /* set once the live set exists */
  __atomic_store_n (&ms_tracker_hot.sampling, 0, __ATOMIC_RELEASE);
}

static void atfork_prepare (void);
static void atfork_parent (void);
static void atfork_child (void);

static int
start_process (bool forked_child)
{
  int r = open_process_dir (forked_child);

  if (r < 0)
    return r;
  proc.process_writer_open = true;
  add_config_info ();
  ms_module_map_update (write_module, NULL);
  return 0;
}

int
ms_tracker_start (const char *dir, const MsConfig *config)
{
  int r;

  if (__atomic_load_n (&proc.state, __ATOMIC_ACQUIRE) != PROCESS_OFF)
    return -EALREADY;
  ms_tracker_tls.busy = 1;

  if (config)
    proc.config = *config;
  else
    ms_config_init (&proc.config);
  if (proc.config.depth == 0 || proc.config.depth > MS_CONFIG_MAX_DEPTH)
    proc.config.depth = 64;
  if (proc.config.buffer_bytes < MS_WRITER_MIN_CHUNK_BYTES)
    proc.config.buffer_bytes = MS_WRITER_DEFAULT_CHUNK_BYTES;
  proc.config.buffer_bytes = (proc.config.buffer_bytes + 4095) & ~(size_t) 4095;
  set_hot_config (&proc.config);

  /* absolute, so that a chdir() of the program changes nothing */
  size_t len = strlen (dir);
  if (dir[0] == '/')
    r = len < sizeof proc.base_dir ? 0 : -ENAMETOOLONG;
  else if (getcwd (proc.base_dir, sizeof proc.base_dir - len - 2) == NULL)
    r = -errno;
  else
    r = 0;
  if (r == 0)
    {
      if (dir[0] == '/')
        memcpy (proc.base_dir, dir, len + 1);
      else
        {
          size_t cwd_len = strlen (proc.base_dir);
          proc.base_dir[cwd_len] = '/';
          memcpy (proc.base_dir + cwd_len + 1, dir, len + 1);
        }
      proc.pid = getpid ();
      ms_clock_init ();
      find_own_range ();
      if (config_samples (&proc.config) && (r = ms_live_set_init (LIVE_SET_LOG2)) == 0)
        __atomic_store_n (&ms_tracker_hot.sampling, 1, __ATOMIC_RELEASE);
    }
  if (r == 0)
    r = start_process (false);
  if (r < 0)
    {
      /* nothing started: a later call may try again */
      proc.state = PROCESS_OFF;
      ms_tracker_tls.busy = 0;
      return r;
    }

  if (!proc.exit_key_ok)
    proc.exit_key_ok = pthread_key_create (&proc.exit_key, on_thread_exit) == 0;
  if (!proc.atfork_registered)
    proc.atfork_registered = pthread_atfork (atfork_prepare, atfork_parent, atfork_child) == 0;
  __atomic_add_fetch (&ms_tracker_hot.epoch, 1, __ATOMIC_RELEASE);
  __atomic_store_n (&proc.state, PROCESS_ON, __ATOMIC_RELEASE);
  debug ("tracing process ", (uint64_t) proc.pid, " started");
  ms_tracker_tls.busy = 0;
  return 0;
}

static void
atfork_prepare (void)
{
  ms_tracker_tls.busy = 1;
  pthread_mutex_lock (&proc.slot_lock);
  pthread_mutex_lock (&proc.file_lock);
}

static void
atfork_parent (void)
{
  pthread_mutex_unlock (&proc.file_lock);
  pthread_mutex_unlock (&proc.slot_lock);
  ms_tracker_tls.busy = 0;
}

/* The child must never write into its parent's files: it drops every
 * mapping it inherited and starts files of its own in BASE/PID. */
static void
atfork_child (void)
{
  pthread_mutex_init (&proc.slot_lock, NULL);
  pthread_mutex_init (&proc.file_lock, NULL);
  for (uint32_t i = 0; i < proc.n_slots; i++)
    {
      Slot *slot = proc.slots[i];
      ms_writer_abandon (&slot->writer);
      ms_stack_trie_destroy (&slot->trie);
      ms_freq_table_destroy (&slot->freq);
      ms_sys_munmap (slot, sizeof (Slot));
      proc.slots[i] = NULL;
    }
  proc.n_slots = 0;
  proc.free_slots = NULL;
  ms_writer_abandon (&proc.process_writer);
  proc.process_writer_open = false;
  ms_module_map_reset ();

  ms_tracker_tls.slot = NULL;
  ms_tracker_tls.freq = NULL;
  ms_tracker_tls.mode = MS_THREAD_UNKNOWN;
  ms_tracker_tls.tid = 0;
  ms_tracker_tls.epoch = 0;

  if (proc.state == PROCESS_ON)
    {
      proc.pid = getpid ();
      if (start_process (true) < 0)
        proc.state = PROCESS_STOPPED;
      __atomic_add_fetch (&ms_tracker_hot.epoch, 1, __ATOMIC_RELEASE);
    }
  ms_tracker_tls.busy = 0;
}

static void
finish (void)
{
  if (ms_tracker_tls.mode == MS_THREAD_TRACKED)
    detach (false);
  ms_tracker_tls.mode = MS_THREAD_DONE;

  pthread_mutex_lock (&proc.slot_lock);
  /* Idle slots are nobody's: close them. Slots of threads still running
   * stay as they are: their records are on disk, and closing under them
   * would race with their next event. */
  for (Slot *s = proc.free_slots; s != NULL; s = s->next_free)
    close_slot_file (s);
  proc.free_slots = NULL;
  pthread_mutex_unlock (&proc.slot_lock);

  pthread_mutex_lock (&proc.file_lock);
  if (proc.process_writer_open)
    {
      /* Threads still running at exit keep their files (writing into them
       * would race with their next event), but their call-site totals go
       * into this file: read while they may still add to them, which is
       * memory-safe because a frequency table's old arrays are never
       * unmapped, and off by at most the events of that instant. */
      for (uint32_t i = 0; i < proc.n_slots; i++)
        {
          Slot *s = proc.slots[i];
          uint32_t owner = __atomic_load_n (&s->owner_tid, __ATOMIC_ACQUIRE);
          if (owner != 0)
            write_freq_rows (&proc.process_writer, &s->freq, owner);
        }
      uint64_t t = now_ns ();
      if (proc.threads_not_tracked > 0)
        add_info_u64 ("threads_not_tracked", proc.threads_not_tracked);
      MsRecord close = { .kind = MS_RECORD_CLOSE, .time_ns = t };
      ms_writer_add_final (&proc.process_writer, &close);
      ms_writer_close (&proc.process_writer);
      proc.process_writer_open = false;
    }
  pthread_mutex_unlock (&proc.file_lock);
}

void
ms_tracker_stop (void)
{
  if (__atomic_load_n (&proc.state, __ATOMIC_ACQUIRE) != PROCESS_ON)
    return;
  ms_tracker_tls.busy = 1;
  __atomic_store_n (&proc.state, PROCESS_STOPPED, __ATOMIC_RELEASE);
  __atomic_add_fetch (&ms_tracker_hot.epoch, 1, __ATOMIC_RELEASE);
  finish ();
  ms_tracker_tls.busy = 0;
}

void
ms_tracker_process_exit (void)
{
  ms_tracker_stop ();
}

/* LD_PRELOAD=…:/path/libmemscope-preload.so:… minus our own entry, edited
 * in place (shorter, so no allocation): exec'd children run unprofiled. */
static void
remove_self_from_ld_preload (void)
{
  extern char **environ;

  for (char **e = environ; e && *e; e++)
    {
      if (strncmp (*e, "LD_PRELOAD=", 11) != 0)
        continue;
      char *p = *e + 11, *out = p;
      while (*p)
        {
          char *sep = p + strcspn (p, ": ");
          size_t len = (size_t) (sep - p);
          bool ours = memmem (p, len, "libmemscope-preload", 19) != NULL;
          if (!ours && len > 0)
            {
              if (out != *e + 11)
                *out++ = ':';
              memmove (out, p, len);
              out += len;
            }
          p = *sep ? sep + 1 : sep;
        }
      *out = '\0';
    }
}

void
ms_tracker_start_from_env (void)
{
  MsConfig config;
  const char *bad = NULL;
  const char *dir = getenv ("MEMSCOPE_OUTPUT");
  char fallback[64];

  ms_config_init (&config);
  ms_config_load_env (&config, &bad);
  if (!config.follow_children)
    remove_self_from_ld_preload ();
  if (bad != NULL)
    {
      char msg[128];
      char *end = append (append (msg, msg + sizeof msg - 1, "ignoring the bad value of "), msg + sizeof msg - 1, bad);
      *end = '\0';
      say (msg, 0, NULL);
    }
  if (dir == NULL || *dir == '\0')
    {
      char *end = append_u64 (append (fallback, fallback + sizeof fallback - 1, "memscope-"),
                              fallback + sizeof fallback - 1, (uint64_t) getpid ());
      *end = '\0';
      dir = fallback;
    }
  proc.config.debug = config.debug;
  int r = ms_tracker_start (dir, &config);
  if (r < 0)
    {
      char msg[PATH_BYTES + 128];
      char *end = msg + sizeof msg - 1;
      char *p = append (msg, end, "cannot record into ");
      p = append (p, end, dir);
      p = append (p, end, ": ");
      p = append (p, end, errno_name (-r));
      p = append (p, end, "; the program runs unprofiled");
      *p = '\0';
      say (msg, 0, NULL);
    }
}
