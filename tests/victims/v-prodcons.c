/* SPDX-License-Identifier: LGPL-2.1-or-later
 * v-prodcons N: a producer thread allocates N blocks of 30001..30100
 * bytes and hands them to a consumer thread, which frees them all. */
#include <pthread.h>

#include "victim.h"

#define RING 256

static void *ring[RING];
static long head, tail, count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

static void *
producer (void *arg)
{
  long n = *(long *) arg;
  for (long i = 0; i < n; i++)
    {
      void *p = malloc (30001 + (size_t) (i % 100));
      pthread_mutex_lock (&lock);
      while (tail - head == RING)
        pthread_cond_wait (&changed, &lock);
      ring[tail++ % RING] = p;
      pthread_cond_broadcast (&changed);
      pthread_mutex_unlock (&lock);
    }
  return NULL;
}

static void *
consumer (void *arg)
{
  long n = *(long *) arg;
  for (long i = 0; i < n; i++)
    {
      pthread_mutex_lock (&lock);
      while (tail == head)
        pthread_cond_wait (&changed, &lock);
      void *p = ring[head++ % RING];
      pthread_cond_broadcast (&changed);
      pthread_mutex_unlock (&lock);
      free (p);
      count++;
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  long n = victim_arg (argc, argv, 1, 10000);
  pthread_t p, c;

  pthread_create (&c, NULL, consumer, &n);
  pthread_create (&p, NULL, producer, &n);
  pthread_join (p, NULL);
  pthread_join (c, NULL);
  return count == n ? 0 : 1;
}
