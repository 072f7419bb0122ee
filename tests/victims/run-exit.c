/* SPDX-License-Identifier: LGPL-2.1-or-later
 * run-exit CODE | segv [thread]: allocates a little, then exits with CODE
 * or dies of SIGSEGV: memscope-run must pass either on as a shell would.
 * With "thread", a thread that allocated too is still running then (as a
 * program's workers are when it never joins them). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t started_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started_cond = PTHREAD_COND_INITIALIZER;
static int started;

static void *
keep_running (void *data)
{
  char *block = malloc (40008);

  __asm__ volatile ("" : : "r"(block) : "memory");
  free (block);
  pthread_mutex_lock (&started_lock);
  started = 1;
  pthread_cond_signal (&started_cond);
  pthread_mutex_unlock (&started_lock);
  for (;;)
    pause ();
  return data;
}

int
main (int argc, char **argv)
{
  char *block = malloc (40007);

  /* The compiler may drop a block nobody can see: show it this one. */
  __asm__ volatile ("" : : "r"(block) : "memory");
  memset (block, 1, 40007);
  if (argc > 2 && strcmp (argv[2], "thread") == 0)
    {
      pthread_t thread;
      if (pthread_create (&thread, NULL, keep_running, NULL) != 0)
        return 99;
      pthread_mutex_lock (&started_lock);
      while (!started)
        pthread_cond_wait (&started_cond, &started_lock);
      pthread_mutex_unlock (&started_lock);
    }
  if (argc > 1 && strcmp (argv[1], "segv") == 0)
    {
      /* A real fault, as a crashing program has: raise() would not go
       * through the kernel's fault path. */
      volatile int *null = NULL;
      signal (SIGSEGV, SIG_DFL);
      *null = block[0];
    }
  free (block);
  return argc > 1 ? atoi (argv[1]) : 0;
}
