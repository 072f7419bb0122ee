/* SPDX-License-Identifier: LGPL-2.1-or-later
 * run-sleeper THREADS SECONDS: THREADS threads that sleep for SECONDS, the
 * target on which the resource monitor's own cost is measured. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned seconds;

static void *
sleeper (void *data)
{
  sleep (seconds);
  return data;
}

int
main (int argc, char **argv)
{
  int n = argc > 1 ? atoi (argv[1]) : 100;
  pthread_t *threads = calloc ((size_t) n, sizeof *threads);

  seconds = argc > 2 ? (unsigned) atoi (argv[2]) : 5;
  for (int i = 0; i < n; i++)
    pthread_create (&threads[i], NULL, sleeper, NULL);
  for (int i = 0; i < n; i++)
    pthread_join (threads[i], NULL);
  free (threads);
  return 0;
}
