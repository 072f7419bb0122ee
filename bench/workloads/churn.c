/* SPDX-License-Identifier: LGPL-2.1-or-later
 * churn THREADS ITERATIONS [prodcons]: the allocation workloads of the
 * shim benchmark. Each thread keeps 64 live blocks and replaces a random
 * one per iteration, with sizes skewed to small (16 B - 4 KiB) and calls
 * from a few distinct call paths, as real code has. "prodcons": THREADS
 * producer/consumer pairs, every block freed by the other thread. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL 64
#define NOINLINE __attribute__ ((noinline))

static long iterations;

static inline uint64_t
next_random (uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static size_t
pick_size (uint64_t r)
{
  static const size_t sizes[] = { 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024, 4096 };
  unsigned k = (unsigned) (r % 64);
  return sizes[k < 40 ? k % 5 : k < 60 ? 5 + k % 4 : 9 + k % 2];
}

NOINLINE static void *
make_node (size_t size)
{
  char *p = malloc (size);
  p[0] = 1;
  return p;
}

NOINLINE static void *
make_buffer (size_t size)
{
  return make_node (size);
}

NOINLINE static void *
make_string (size_t size)
{
  char *p = calloc (1, size);
  return p;
}

NOINLINE static void *
allocate (uint64_t r)
{
  size_t size = pick_size (r);
  switch ((r >> 8) % 3)
    {
    case 0: return make_node (size);
    case 1: return make_buffer (size);
    default: return make_string (size);
    }
}

static void *
churn (void *arg)
{
  void *pool[POOL] = { 0 };
  uint64_t s = 88172645463325252ull ^ (uintptr_t) arg;

  for (long i = 0; i < iterations; i++)
    {
      uint64_t r = next_random (&s);
      unsigned k = (unsigned) (r >> 32) % POOL;
      free (pool[k]);
      pool[k] = allocate (r);
    }
  for (int k = 0; k < POOL; k++)
    free (pool[k]);
  return NULL;
}

#define RING 1024

typedef struct
{
  void *ring[RING];
  long head, tail;
  pthread_mutex_t lock;
  pthread_cond_t changed;
} Queue;

static void *
producer (void *arg)
{
  Queue *q = arg;
  uint64_t s = 2463534242ull ^ (uintptr_t) arg;
  for (long i = 0; i < iterations; i++)
    {
      void *p = allocate (next_random (&s));
      pthread_mutex_lock (&q->lock);
      while (q->tail - q->head == RING)
        pthread_cond_wait (&q->changed, &q->lock);
      q->ring[q->tail++ % RING] = p;
      pthread_cond_signal (&q->changed);
      pthread_mutex_unlock (&q->lock);
    }
  return NULL;
}

static void *
consumer (void *arg)
{
  Queue *q = arg;
  for (long i = 0; i < iterations; i++)
    {
      pthread_mutex_lock (&q->lock);
      while (q->tail == q->head)
        pthread_cond_wait (&q->changed, &q->lock);
      void *p = q->ring[q->head++ % RING];
      pthread_cond_signal (&q->changed);
      pthread_mutex_unlock (&q->lock);
      free (p);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  int threads = argc > 1 ? atoi (argv[1]) : 1;
  iterations = argc > 2 ? atol (argv[2]) : 1000000;
  int prodcons = argc > 3 && strcmp (argv[3], "prodcons") == 0;
  pthread_t t[128];

  if (threads < 1 || threads > 64)
    return 2;
  if (prodcons)
    {
      static Queue q[64];
      for (int i = 0; i < threads; i++)
        {
          pthread_mutex_init (&q[i].lock, NULL);
          pthread_cond_init (&q[i].changed, NULL);
          pthread_create (&t[2 * i], NULL, producer, &q[i]);
          pthread_create (&t[2 * i + 1], NULL, consumer, &q[i]);
        }
      for (int i = 0; i < 2 * threads; i++)
        pthread_join (t[i], NULL);
      return 0;
    }
  for (int i = 0; i < threads; i++)
    pthread_create (&t[i], NULL, churn, (void *) (uintptr_t) (i + 1));
  for (int i = 0; i < threads; i++)
    pthread_join (t[i], NULL);
  return 0;
}
