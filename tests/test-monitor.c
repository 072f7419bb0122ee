/* SPDX-License-Identifier: LGPL-2.1-or-later
 * MsMonitor: what it writes (every scope, in the value order of
 * ms-format.h), that it follows threads, names, children and exits, that
 * its steady ticks allocate nothing, and what it costs on a 100-thread
 * target (MS_MONITOR_COST_SECONDS, default 3; the bound is issue 4's
 * 0.5 % of one core at 10 Hz).
 *
 * This binary defines malloc, calloc and realloc to count calls, as
 * tests/test-writer-nomalloc.c explains; not under AddressSanitizer. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ms-error.h"
#include "test-util.h"
#include "ms-monitor.h"
#include "ms-reader.h"
#include "test-alloc-count.h"

/* --- reading a resources file back -------------------------------------- */

typedef struct
{
  MsRecordKind kind;
  guint64 time_ns;
  guint64 scope;
  guint64 id;
  guint n_values;
  guint64 values[32];
  char *text;                 /* THREAD_NAME name, or "key=value" of INFO */
} Rec;

static void
rec_free (gpointer data)
{
  Rec *r = data;

  g_free (r->text);
  g_free (r);
}

static GPtrArray *
read_records (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open (path, &error);
  GPtrArray *ret = g_ptr_array_new_with_free_func (rec_free);
  g_autofree MsRecord *r = g_new0 (MsRecord, 1);

  g_assert_no_error (error);
  g_assert_cmpint (ms_reader_get_info (reader)->kind, ==, MS_FILE_KIND_RESOURCES);
  while (ms_reader_next (reader, r, &error))
    {
      Rec *rec = g_new0 (Rec, 1);

      rec->kind = r->kind;
      rec->time_ns = r->time_ns;
      if (r->kind == MS_RECORD_RESOURCE)
        {
          rec->scope = r->u.resource.scope;
          rec->id = r->u.resource.id;
          rec->n_values = MIN (r->u.resource.n_values, G_N_ELEMENTS (rec->values));
          memcpy (rec->values, r->u.resource.values, rec->n_values * sizeof (guint64));
        }
      else if (r->kind == MS_RECORD_THREAD_NAME)
        {
          rec->id = r->u.thread.tid;
          rec->text = g_strndup (r->u.thread.name.data, r->u.thread.name.len);
        }
      else if (r->kind == MS_RECORD_INFO)
        {
          /* NUL bytes (in "command") shown as spaces */
          rec->text = g_strdup_printf ("%.*s=", (int) r->u.info.key.len, r->u.info.key.data);
          for (guint i = 0; i < r->u.info.value.len; i++)
            {
              char c[2] = { r->u.info.value.data[i] ? r->u.info.value.data[i] : ' ', 0 };
              char *t = g_strconcat (rec->text, c, NULL);
              g_free (rec->text);
              rec->text = t;
            }
        }
      g_ptr_array_add (ret, rec);
    }
  g_assert_no_error (error); /* a stopped monitor closes its file */
  return ret;
}

static guint
count_resources (GPtrArray *recs, guint64 scope, guint64 id)
{
  guint n = 0;

  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = g_ptr_array_index (recs, i);
      n += r->kind == MS_RECORD_RESOURCE && r->scope == scope && r->id == id;
    }
  return n;
}

static const Rec *
nth_resource (GPtrArray *recs, guint64 scope, guint64 id, int nth)
{
  const Rec *last = NULL;
  int seen = 0;

  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = g_ptr_array_index (recs, i);
      if (r->kind != MS_RECORD_RESOURCE || r->scope != scope || r->id != id)
        continue;
      if (seen++ == nth)
        return r;
      last = r;
    }
  return nth < 0 ? last : NULL;
}

static gboolean
has_text (GPtrArray *recs, MsRecordKind kind, const char *text)
{
  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = g_ptr_array_index (recs, i);
      if (r->kind == kind && g_strcmp0 (r->text, text) == 0)
        return TRUE;
    }
  return FALSE;
}

static guint64
tid_named (GPtrArray *recs, const char *name)
{
  for (guint i = 0; i < recs->len; i++)
    {
      const Rec *r = g_ptr_array_index (recs, i);
      if (r->kind == MS_RECORD_THREAD_NAME && g_strcmp0 (r->text, name) == 0)
        return r->id;
    }
  return 0;
}

typedef MsTestTmpFile Fixture;

static void
stop (MsMonitor *monitor)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ms_monitor_stop (monitor, &error));
  g_assert_no_error (error);
}

/* --- tests -------------------------------------------------------------- */

static void *
sleep_named (void *data)
{
  pthread_setname_np (pthread_self (), "ms-sleepy");
  g_usleep (GPOINTER_TO_UINT (data));
  return NULL;
}

/* Every scope, with the values where ms-format.h says they are. */
static void
test_monitor_self (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsMonitor) monitor = ms_monitor_new (f->path, 100, &error);
  g_autoptr (GPtrArray) recs = NULL;
  guint64 pid = (guint64) getpid ();
  long n_cpus = sysconf (_SC_NPROCESSORS_ONLN);
  pthread_t thread;
  MsMonitorSummary summary;
  const Rec *proc, *sys, *thr;
  guint64 sleepy;

  g_assert_no_error (error);
  pthread_create (&thread, NULL, sleep_named, GUINT_TO_POINTER (300000));
  g_usleep (50000);
  ms_monitor_add_pid (monitor, getpid ());
  ms_monitor_add_pid (monitor, getpid ()); /* once is enough */
  for (int i = 0; i < 3; i++)
    ms_monitor_sample (monitor);
  pthread_join (thread, NULL);
  stop (monitor);
  ms_monitor_get_summary (monitor, &summary);
  recs = read_records (f->path);

  g_assert_true (has_text (recs, MS_RECORD_INFO, "interval_msec=100"));
  g_assert_true (has_text (recs, MS_RECORD_INFO, "gpu=none") || has_text (recs, MS_RECORD_INFO, "gpu=nvml"));
  g_assert_cmpuint (count_resources (recs, MS_RESOURCE_PROCESS, pid), ==, 3);
  g_assert_cmpuint (count_resources (recs, MS_RESOURCE_SYSTEM, 0), ==, 3);
  for (long cpu = 0; cpu < n_cpus; cpu++)
    g_assert_cmpuint (count_resources (recs, MS_RESOURCE_CPU, (guint64) cpu), ==, 3);

  proc = nth_resource (recs, MS_RESOURCE_PROCESS, pid, -1);
  g_assert_cmpuint (proc->n_values, ==, MS_RES_PROC_N_VALUES);
  g_assert_cmpuint (proc->values[MS_RES_PROC_RSS], >, 1 << 20);
  g_assert_cmpuint (proc->values[MS_RES_PROC_HWM], >=, proc->values[MS_RES_PROC_RSS]);
  g_assert_cmpuint (proc->values[MS_RES_PROC_VSIZE], >, proc->values[MS_RES_PROC_RSS]);
  g_assert_cmpuint (proc->values[MS_RES_PROC_MINFLT], >, 0);
  g_assert_cmpuint (proc->values[MS_RES_PROC_RCHAR], >, 0); /* the monitor reads /proc */
  g_assert_cmpuint (proc->values[MS_RES_PROC_SYSCR], >, 0);
  g_assert_cmpuint (proc->values[MS_RES_PROC_THREADS], >=, 2);
  g_assert_cmpuint (proc->values[MS_RES_PROC_VOLUNTARY_CS], >, 0);

  sys = nth_resource (recs, MS_RESOURCE_SYSTEM, 0, -1);
  g_assert_cmpuint (sys->n_values, ==, MS_RES_SYS_N_VALUES);
  g_assert_cmpuint (sys->values[MS_RES_SYS_N_CPUS], ==, (guint64) n_cpus);
  g_assert_cmpuint (sys->values[MS_RES_SYS_MEM_TOTAL], >, sys->values[MS_RES_SYS_MEM_AVAILABLE]);
  g_assert_cmpuint (sys->values[MS_RES_SYS_MEM_AVAILABLE], >, 0);
  g_assert_cmpuint (nth_resource (recs, MS_RESOURCE_CPU, 0, -1)->n_values, ==, MS_RES_CPU_N_VALUES);
  g_assert_cmpuint (nth_resource (recs, MS_RESOURCE_CPU, 0, -1)->values[MS_RES_CPU_IDLE_NS]
                      + nth_resource (recs, MS_RESOURCE_CPU, 0, -1)->values[MS_RES_CPU_USER_NS],
                    >, 0);

  /* the main thread (named after the program) and the sleeper */
  sleepy = tid_named (recs, "ms-sleepy");
  g_assert_cmpuint (sleepy, !=, 0);
  thr = nth_resource (recs, MS_RESOURCE_THREAD, sleepy, 0);
  g_assert_nonnull (thr);
  g_assert_cmpuint (thr->n_values, ==, MS_RES_THREAD_N_VALUES);
  g_assert_cmpuint (thr->values[MS_RES_THREAD_PID], ==, pid);
  thr = nth_resource (recs, MS_RESOURCE_THREAD, pid, 0);
  g_assert_nonnull (thr);
  g_assert_cmpuint (thr->values[MS_RES_THREAD_MINFLT], >, 0);

  g_assert_cmpuint (summary.samples, ==, 3);
  g_assert_cmpuint (summary.processes, ==, 1);
  g_assert_cmpuint (summary.peak_rss_bytes, >=, proc->values[MS_RES_PROC_RSS]);
  g_assert_cmpuint (summary.peak_threads, >=, 2);
  g_assert_cmpuint (summary.current_threads, >=, 1);
  g_assert_cmpuint (summary.io_operations, >, 0);
  g_assert_false (summary.gpu && has_text (recs, MS_RECORD_INFO, "gpu=none"));
}

static volatile gboolean spin_stop;
static gdouble spin_share; /* of a core, as the thread itself measured it */

static gdouble
clock_seconds (clockid_t clock)
{
  struct timespec ts;

  clock_gettime (clock, &ts);
  return (gdouble) ts.tv_sec + (gdouble) ts.tv_nsec / 1e9;
}

static void *
spin (void *data)
{
  volatile unsigned long n = 0;
  gdouble wall0 = clock_seconds (CLOCK_MONOTONIC), cpu0 = clock_seconds (CLOCK_THREAD_CPUTIME_ID);

  pthread_setname_np (pthread_self (), "ms-spin");
  while (!spin_stop)
    n++;
  spin_share = (clock_seconds (CLOCK_THREAD_CPUTIME_ID) - cpu0) / (clock_seconds (CLOCK_MONOTONIC) - wall0);
  pthread_setname_np (pthread_self (), "ms-spun");
  g_usleep (150000);
  return data;
}

/* The sampling thread, a busy thread's CPU, a name that changes. */
static void
test_monitor_thread_cpu (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsMonitor) monitor = ms_monitor_new (f->dir, 50, &error);
  g_autoptr (GPtrArray) recs = NULL;
  pthread_t thread;
  MsMonitorSummary summary;
  const Rec *first, *last;
  guint64 spinner, stop_ns;
  gdouble busy;

  g_assert_no_error (error);
  ms_monitor_add_pid (monitor, getpid ());
  pthread_create (&thread, NULL, spin, NULL);
  g_usleep (20000);
  g_assert_true (ms_monitor_start (monitor, &error));
  g_usleep (800000);
  stop_ns = (guint64) g_get_monotonic_time () * 1000; /* CLOCK_MONOTONIC, as record times */
  spin_stop = TRUE;
  pthread_join (thread, NULL);
  stop (monitor);
  ms_monitor_get_summary (monitor, &summary);
  recs = read_records (f->path);

  spinner = tid_named (recs, "ms-spin");
  g_assert_cmpuint (spinner, !=, 0);
  g_assert_cmpuint (tid_named (recs, "ms-spun"), ==, spinner);
  g_assert_cmpuint (tid_named (recs, "ms-monitor"), !=, 0); /* our own thread, sampled too */
  /* 16 ticks in 800 ms on an idle machine; a loaded one delays some */
  g_assert_cmpuint (count_resources (recs, MS_RESOURCE_PROCESS, (guint64) getpid ()), >=, 8);

  /* from the first sample to the last one taken while it spun */
  first = nth_resource (recs, MS_RESOURCE_THREAD, spinner, 0);
  last = first;
  for (int i = 1; nth_resource (recs, MS_RESOURCE_THREAD, spinner, i) != NULL; i++)
    if (nth_resource (recs, MS_RESOURCE_THREAD, spinner, i)->time_ns <= stop_ns)
      last = nth_resource (recs, MS_RESOURCE_THREAD, spinner, i);
  g_assert_cmpuint (last->time_ns - first->time_ns, >, 400000000);
  busy = (gdouble) (last->values[MS_RES_THREAD_UTIME_NS] + last->values[MS_RES_THREAD_STIME_NS]
                    - first->values[MS_RES_THREAD_UTIME_NS] - first->values[MS_RES_THREAD_STIME_NS])
         / (gdouble) (last->time_ns - first->time_ns);
  g_test_message ("spinning thread: %.0f %% of a core as sampled, %.0f %% as it measured itself; "
                  "peak CPU %.0f %%", busy * 100, spin_share * 100, summary.peak_cpu_percent);
  /* A whole core on an idle machine; on a loaded one, what it got. CPU
   * times in /proc are in clock ticks (10 ms): 0.15 is 5 ticks in 0.8 s. */
  g_assert_cmpfloat (ABS (busy - spin_share), <, 0.15);
  /* the spinner ran (how much depends on the machine's other load; CI
   * runs two test programs at once on two cores), and was seen running */
  g_assert_cmpfloat (spin_share, >, 0.02);
  g_assert_cmpfloat (busy, >, spin_share * 0.5);
  g_assert_cmpfloat (summary.peak_cpu_percent, >, busy * 100 * 0.8);
  g_assert_true (g_file_test (f->path, G_FILE_TEST_IS_REGULAR));
}

/* Children show up as PID/ subdirectories; a process that ends is no
 * longer sampled; a pid that does not exist is harmless. */
static void
test_monitor_children (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsMonitor) monitor = ms_monitor_new (f->dir, 100, &error);
  g_autoptr (GPtrArray) recs = NULL;
  g_autofree char *child_dir = NULL;
  const char *argv[] = { "/bin/sleep", "0.3", NULL };
  GPid child;
  int status;

  g_assert_no_error (error);
  ms_monitor_add_pid (monitor, 999999999); /* no such process */
  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &child, &error));
  ms_monitor_sample (monitor);
  child_dir = g_strdup_printf ("%s/%d", f->dir, (int) child);
  g_assert_cmpint (g_mkdir (child_dir, 0700), ==, 0);
  ms_monitor_sample (monitor);
  ms_monitor_sample (monitor);
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  ms_monitor_sample (monitor);
  ms_monitor_sample (monitor);
  stop (monitor);

  recs = read_records (f->path);
  g_assert_cmpuint (count_resources (recs, MS_RESOURCE_PROCESS, (guint64) child), ==, 2);
  g_assert_cmpuint (count_resources (recs, MS_RESOURCE_PROCESS, 999999999), ==, 0);
  g_assert_cmpuint (count_resources (recs, MS_RESOURCE_SYSTEM, 0), ==, 5);
  g_assert_true (has_text (recs, MS_RECORD_THREAD_NAME, "sleep"));
  g_rmdir (child_dir);
}

/* The first watched process's arguments, unless the caller gave some. */
static void
test_monitor_command (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsMonitor) monitor = ms_monitor_new (f->path, 100, &error);
  g_autoptr (GPtrArray) recs = NULL;
  const char *argv[] = { "/bin/sleep", "0.2", NULL };
  GPid child;
  int status;

  g_assert_no_error (error);
  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &child, &error));
  g_usleep (50000);
  ms_monitor_add_pid (monitor, child);
  ms_monitor_add_info (monitor, "label", "a\0b", 3);
  ms_monitor_sample (monitor);
  waitpid (child, &status, 0);
  stop (monitor);
  recs = read_records (f->path);
  g_assert_true (has_text (recs, MS_RECORD_INFO, "command=/bin/sleep 0.2"));
  g_assert_true (has_text (recs, MS_RECORD_INFO, "label=a b"));
}

/* ms_monitor_start samples before it returns: a program that is over
 * before the sampling thread first runs still has its sample. */
static void
test_monitor_start_samples (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsMonitor) monitor = ms_monitor_new (f->path, MS_MONITOR_MAX_INTERVAL_MSEC, &error);
  g_autoptr (GPtrArray) recs = NULL;
  MsMonitorSummary summary;

  g_assert_no_error (error);
  ms_monitor_add_pid (monitor, getpid ());
  g_assert_true (ms_monitor_start (monitor, &error));
  g_assert_no_error (error);
  stop (monitor);
  ms_monitor_get_summary (monitor, &summary);
  recs = read_records (f->path);
  /* The interval is long: the thread cannot have taken another. */
  g_assert_cmpuint (count_resources (recs, MS_RESOURCE_PROCESS, (guint64) getpid ()), ==, 1);
  g_assert_cmpuint (count_resources (recs, MS_RESOURCE_SYSTEM, 0), ==, 1);
  g_assert_cmpuint (summary.samples, ==, 1);
}

static void
test_monitor_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsMonitor) monitor = ms_monitor_new (f->path, 100, &error);
  g_autofree char *missing = g_build_filename (f->dir, "no", "such", "file.mst", NULL);

  g_assert_no_error (error);
  /* the file exists now: never overwritten */
  g_assert_null (ms_monitor_new (f->path, 100, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (ms_monitor_new (missing, 100, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
  g_clear_error (&error);
  g_assert_null (ms_monitor_new (missing, 5, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_FAILED);
  g_clear_error (&error);
  /* stopping twice, and freeing a stopped monitor */
  stop (monitor);
  stop (monitor);
}

/* Once the threads are known, a tick allocates nothing. */
static void
test_monitor_no_alloc (Fixture *f, gconstpointer data)
{
#if !MS_TEST_CAN_COUNT_ALLOCS
  g_test_skip ("the sanitizer owns malloc");
#else
  g_autoptr (GError) error = NULL;
  g_autoptr (MsMonitor) monitor = ms_monitor_new (f->path, 100, &error);
  pthread_t thread;

  g_assert_no_error (error);
  pthread_create (&thread, NULL, sleep_named, GUINT_TO_POINTER (500000));
  ms_monitor_add_pid (monitor, getpid ());
  ms_monitor_sample (monitor);
  ms_monitor_sample (monitor);
  ms_test_alloc_count_start ();
  for (int i = 0; i < 5; i++)
    ms_monitor_sample (monitor);
  unsigned long calls = ms_test_alloc_count_stop ();
  pthread_join (thread, NULL);
  g_test_message ("allocator calls in 5 steady ticks: %lu", calls);
  g_assert_cmpuint (calls, ==, 0);
  stop (monitor);
#endif
}

/* NVML: the stand-in library of tests/victims/run-fake-nvml.c has two
 * devices. dlopen finds it through LD_LIBRARY_PATH, which is read at
 * start-up: hence the subprocess. */
static void
test_monitor_gpu (Fixture *f, gconstpointer data)
{
  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsMonitor) monitor = ms_monitor_new (f->path, 100, &error);
      g_autoptr (GPtrArray) recs = NULL;
      const Rec *gpu;

      g_assert_true (ms_monitor_gpu_available ());
      g_assert_no_error (error);
      ms_monitor_sample (monitor);
      ms_monitor_sample (monitor);
      stop (monitor);
      recs = read_records (f->path);
      g_assert_true (has_text (recs, MS_RECORD_INFO, "gpu=nvml"));
      g_assert_cmpuint (count_resources (recs, MS_RESOURCE_GPU, 0), ==, 2);
      g_assert_cmpuint (count_resources (recs, MS_RESOURCE_GPU, 1), ==, 2);
      gpu = nth_resource (recs, MS_RESOURCE_GPU, 0, 0);
      g_assert_cmpuint (gpu->n_values, ==, MS_RES_GPU_N_VALUES);
      g_assert_cmpuint (gpu->values[MS_RES_GPU_UTIL_PERCENT], ==, 42);
      g_assert_cmpuint (gpu->values[MS_RES_GPU_MEM_USED], ==, G_GUINT64_CONSTANT (1) << 30);
      g_assert_cmpuint (gpu->values[MS_RES_GPU_MEM_TOTAL], ==, G_GUINT64_CONSTANT (8) << 30);
      gpu = nth_resource (recs, MS_RESOURCE_GPU, 1, -1);
      g_assert_cmpuint (gpu->values[MS_RES_GPU_UTIL_PERCENT], ==, 7);
      return;
    }
  else
    {
      g_autofree char *fake = g_test_build_filename (G_TEST_BUILT, "fake-nvml", ".libs", NULL);
      g_autofree char *old = g_strdup (g_getenv ("LD_LIBRARY_PATH"));

      if (!g_file_test (fake, G_FILE_TEST_IS_DIR))
        {
          g_test_skip ("the stand-in NVML library is not built");
          return;
        }
      g_setenv ("LD_LIBRARY_PATH", fake, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      if (old != NULL)
        g_setenv ("LD_LIBRARY_PATH", old, TRUE);
      else
        g_unsetenv ("LD_LIBRARY_PATH");
      g_test_trap_assert_passed ();
    }
}

/* Runtime of the thread named NAME in this process, from schedstat (ns). */
static guint64
thread_runtime_ns (const char *name)
{
  g_autoptr (GDir) d = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  while (d != NULL && (tid = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *comm_path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
      g_autofree char *sched_path = g_strdup_printf ("/proc/self/task/%s/schedstat", tid);
      g_autofree char *comm = NULL;
      g_autofree char *sched = NULL;

      if (g_file_get_contents (comm_path, &comm, NULL, NULL) && g_str_equal (g_strchomp (comm), name)
          && g_file_get_contents (sched_path, &sched, NULL, NULL))
        return g_ascii_strtoull (sched, NULL, 10);
    }
  return 0;
}

static void
test_monitor_cost (Fixture *f, gconstpointer data)
{
  const char *env = g_getenv ("MS_MONITOR_COST_SECONDS");
  guint seconds = env != NULL ? (guint) atoi (env) : 3;
  g_autofree char *sleeper = g_test_build_filename (G_TEST_BUILT, "victims", "run-sleeper", NULL);
  g_autofree char *seconds_arg = g_strdup_printf ("%u", seconds + 2);
  const char *argv[] = { sleeper, "100", seconds_arg, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsMonitor) monitor = NULL;
  MsMonitorSummary summary;
  GPid child;
  gint64 start_usec, end_usec;
  guint64 runtime_ns;
  gdouble percent;

  if (!g_file_test (sleeper, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("run-sleeper is not built");
      return;
    }
  g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &child, &error));
  g_usleep (300000); /* its threads have started */
  monitor = ms_monitor_new (f->path, 100, &error);
  g_assert_no_error (error);
  ms_monitor_add_pid (monitor, child);
  start_usec = g_get_monotonic_time ();
  g_assert_true (ms_monitor_start (monitor, &error));
  g_usleep ((gulong) seconds * G_USEC_PER_SEC);
  runtime_ns = thread_runtime_ns ("ms-monitor");
  end_usec = g_get_monotonic_time ();
  ms_monitor_get_summary (monitor, &summary);
  stop (monitor);
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);

  percent = 100.0 * (gdouble) runtime_ns / ((gdouble) (end_usec - start_usec) * 1000.0);
  g_test_message ("monitor at 10 Hz on a 101-thread target: %.3f %% of one core "
                  "(%.1f ms of CPU in %.1f s, %.1f us per tick, %" G_GUINT64_FORMAT " ticks)",
                  percent, (gdouble) runtime_ns / 1e6, (gdouble) (end_usec - start_usec) / 1e6,
                  (gdouble) runtime_ns / 1e3 / (gdouble) MAX (summary.samples, 1), summary.samples);
  g_assert_cmpuint (summary.peak_threads, ==, 101);
  g_assert_cmpuint (runtime_ns, >, 0);
  g_assert_cmpfloat (percent, <=, 0.5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add (path, Fixture, "resources.mst", ms_test_tmp_file_set_up, func, ms_test_tmp_file_tear_down)
  ADD ("/memscope/monitor/self", test_monitor_self);
  ADD ("/memscope/monitor/thread-cpu", test_monitor_thread_cpu);
  ADD ("/memscope/monitor/children", test_monitor_children);
  ADD ("/memscope/monitor/command", test_monitor_command);
  ADD ("/memscope/monitor/start-samples", test_monitor_start_samples);
  ADD ("/memscope/monitor/errors", test_monitor_errors);
  ADD ("/memscope/monitor/no-alloc", test_monitor_no_alloc);
  ADD ("/memscope/monitor/gpu", test_monitor_gpu);
  ADD ("/memscope/monitor/cost", test_monitor_cost);
#undef ADD
  return g_test_run ();
}
