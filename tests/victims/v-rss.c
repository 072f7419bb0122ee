/* SPDX-License-Identifier: LGPL-2.1-or-later
 * v-rss N: starts N threads that each make 200 malloc/free pairs and then
 * wait; prints the growth of VmRSS in KiB while all N are alive. */
#include <pthread.h>
#include <unistd.h>

#include "victim.h"

static pthread_barrier_t ready, done;

static long
rss_kib (void)
{
  char line[256];
  long kib = -1;
  FILE *f = fopen ("/proc/self/status", "r");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "VmRSS: %ld", &kib) == 1)
      break;
  if (f)
    fclose (f);
  return kib;
}

static void *
work (void *arg)
{
  for (int i = 0; i < 200; i++)
    {
      void *p = malloc (30001);
      victim_touch (p);
      free (p);
    }
  pthread_barrier_wait (&ready);
  pthread_barrier_wait (&done);
  return NULL;
}

int
main (int argc, char **argv)
{
  long n = victim_arg (argc, argv, 1, 500);
  pthread_t *t = calloc ((size_t) n, sizeof *t);
  pthread_attr_t attr;

  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, 64 * 1024);
  pthread_barrier_init (&ready, NULL, (unsigned) n + 1);
  pthread_barrier_init (&done, NULL, (unsigned) n + 1);
  long before = rss_kib ();
  for (long i = 0; i < n; i++)
    pthread_create (&t[i], &attr, work, NULL);
  pthread_barrier_wait (&ready);
  printf ("%ld\n", rss_kib () - before);
  fflush (stdout);
  pthread_barrier_wait (&done);
  for (long i = 0; i < n; i++)
    pthread_join (t[i], NULL);
  return 0;
}
