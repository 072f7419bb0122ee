/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The tracker's own unwinder against libunwind's unw_step, frame by frame,
 * through frames of many shapes: deep recursion, alloca, big locals,
 * frame-pointer and frameless code, threads, a signal handler. */
#include "config.h"

#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "ms-unwind.h"

#define MAX_FRAMES 128

/* Both stacks from the same place; ours starts at our caller, libunwind's
 * at its own caller (this function), so one frame is dropped from it. */
static __attribute__ ((noinline)) void
compare_here (void)
{
  uint64_t ours[MAX_FRAMES];
  uint64_t theirs[MAX_FRAMES];
  unw_cursor_t cursor;
  unw_context_t context;
  int n_theirs = 0;

  int n_ours = ms_unwind (ours, MAX_FRAMES);
  unw_getcontext (&context);
  unw_init_local (&cursor, &context);
  while (n_theirs < MAX_FRAMES && unw_step (&cursor) > 0)
    {
      unw_word_t ip;
      unw_get_reg (&cursor, UNW_REG_IP, &ip);
      theirs[n_theirs++] = ip;
    }
  /* ours[0] is the return address of the ms_unwind call, inside this
   * function; theirs[0] is this function's own return address */
  g_assert_cmpint (n_ours, >=, 3);
  g_assert_cmpint (n_ours - 1, ==, n_theirs);
  for (int i = 0; i < n_theirs; i++)
    g_assert_cmphex (ours[i + 1], ==, theirs[i]);
}

static volatile int sink;

static __attribute__ ((noinline)) void
recurse (int depth)
{
  volatile char big[600];
  big[depth % 600] = (char) depth;
  if (depth == 0)
    compare_here ();
  else if (depth % 3 == 0)
    {
      char *a = __builtin_alloca (16 + depth * 8);
      a[0] = 1;
      sink += a[0];
      recurse (depth - 1);
    }
  else
    recurse (depth - 1);
  sink += big[depth % 600];
}

static __attribute__ ((noinline, optimize ("omit-frame-pointer"))) void
frameless (int depth)
{
  if (depth == 0)
    recurse (7);
  else
    frameless (depth - 1);
  sink++;
}

static __attribute__ ((noinline, optimize ("no-omit-frame-pointer"))) void
framed (int depth)
{
  if (depth == 0)
    frameless (5);
  else
    framed (depth - 1);
  sink++;
}

static void
test_unwind_shapes (void)
{
  for (int round = 0; round < 3; round++) /* the second round hits the cache */
    framed (6);
}

static gpointer
thread_main (gpointer data)
{
  framed (3);
  return NULL;
}

static void
test_unwind_thread (void)
{
  GThread *t = g_thread_new ("unwind", thread_main, NULL);
  g_thread_join (t);
}

static void
on_signal (int sig)
{
  recurse (4);
}

static void
test_unwind_signal_frame (void)
{
  struct sigaction sa = { .sa_handler = on_signal };
  MsUnwindStats before, after;

  ms_unwind_get_stats (&before);
  sigaction (SIGUSR1, &sa, NULL);
  raise (SIGUSR1);
  ms_unwind_get_stats (&after);
  /* the signal frame is libunwind's to step over */
  g_assert_cmpuint (after.fallbacks, >, before.fallbacks);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/memscope/unwind/shapes", test_unwind_shapes);
  g_test_add_func ("/memscope/unwind/thread", test_unwind_thread);
  g_test_add_func ("/memscope/unwind/signal-frame", test_unwind_signal_frame);
  return g_test_run ();
}
