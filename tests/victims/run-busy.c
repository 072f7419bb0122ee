/* SPDX-License-Identifier: LGPL-2.1-or-later
 * run-busy SECONDS: a thread named "busy" spins on the CPU while the main
 * thread ("grower") allocates and touches 1 MiB every 100 ms, for SECONDS:
 * the resource samples must show one core busy and RSS growing. It prints
 * "busy N": the percentage of a core the spinning thread got. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double seconds;
static double start;
static double busy_share; /* of a core, as the spinning thread measured it */

static void *
spin (void *data)
{
  volatile unsigned long n = 0;
  struct timespec cpu;
  double t0 = now ();

  pthread_setname_np (pthread_self (), "busy");
  while (now () - start < seconds)
    for (int i = 0; i < 100000; i++)
      n++;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &cpu);
  busy_share = ((double) cpu.tv_sec + (double) cpu.tv_nsec / 1e9) / (now () - t0);
  return data;
}

int
main (int argc, char **argv)
{
  pthread_t thread;
  char **blocks;
  int n = 0;

  seconds = argc > 1 ? atof (argv[1]) : 2.0;
  blocks = calloc ((size_t) (seconds * 10 + 10), sizeof *blocks);
  start = now ();
  pthread_setname_np (pthread_self (), "grower");
  pthread_create (&thread, NULL, spin, NULL);
  while (now () - start < seconds)
    {
      blocks[n] = malloc (1 << 20);
      memset (blocks[n], n + 1, 1 << 20);
      n++;
      usleep (100000);
    }
  pthread_join (thread, NULL);
  /* What the samples must agree with, on a loaded machine too. */
  printf ("busy %d\n", (int) (busy_share * 100 + 0.5));
  while (n > 0)
    free (blocks[--n]);
  free (blocks);
  return 0;
}
