/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-demo [REQUESTS]: a small request-processing service to profile,
 * with the habits real servers have, each easy to find in a report:
 *
 *   accept_request (thread "acceptor") allocates each request and hands it
 *     to a worker, which frees it: cross-thread frees;
 *   parse_request (threads "worker-1".."worker-4") splits the payload into
 *     tokens that live only while the request is handled: temporary
 *     allocations;
 *   render_response grows its reply one field at a time with realloc: a
 *     realloc growth chain;
 *   remember_session keeps every 16th client in a cache of 64 sessions;
 *     evict_session frees an evicted session but forgets its name, which
 *     remember_session allocated: the leak, SESSION_NAME_BYTES bytes per
 *     eviction;
 *   write_log (thread "logger") writes the replies to a temporary file and
 *     frees them: I/O, and more cross-thread frees;
 *   crunch_numbers (thread "stats") keeps a core busy and allocates
 *     nothing.
 *
 * At the end it prints the leak it made, so that a report can be checked
 * against it: "memscope-demo: ... leaked N blocks, B bytes (remember_session)". */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_WORKERS 4
#define QUEUE_SLOTS 64
#define CACHE_SLOTS 64
#define SESSION_EVERY 16
#define SESSION_NAME_BYTES 48
#define DEFAULT_REQUESTS 20000

#define NOINLINE __attribute__ ((noinline))

/* A bounded blocking queue of pointers; NULL is the end-of-stream mark. */
typedef struct
{
  void *slots[QUEUE_SLOTS];
  unsigned head, tail, count;
  pthread_mutex_t lock;
  pthread_cond_t changed;
} Queue;

typedef struct
{
  unsigned id;
  unsigned client;
  size_t payload_len;
  char payload[];
} Request;

typedef struct
{
  unsigned client;
  char *name;
  char *state;
} Session;

static Queue requests_queue = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };
static Queue log_queue = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

static Session *cache[CACHE_SLOTS];
static unsigned cache_next;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long leaked_blocks;

static volatile int stats_stop;

static void
die (const char *what)
{
  perror (what);
  exit (1);
}

static void *
xmalloc (size_t size)
{
  void *p = malloc (size);
  if (p == NULL)
    die ("malloc");
  return p;
}

static void
queue_push (Queue *q, void *item)
{
  pthread_mutex_lock (&q->lock);
  while (q->count == QUEUE_SLOTS)
    pthread_cond_wait (&q->changed, &q->lock);
  q->slots[q->tail] = item;
  q->tail = (q->tail + 1) % QUEUE_SLOTS;
  q->count++;
  pthread_cond_broadcast (&q->changed);
  pthread_mutex_unlock (&q->lock);
}

static void *
queue_pop (Queue *q)
{
  void *item;

  pthread_mutex_lock (&q->lock);
  while (q->count == 0)
    pthread_cond_wait (&q->changed, &q->lock);
  item = q->slots[q->head];
  /* The end mark stays in the queue so every consumer sees it. */
  if (item != NULL)
    {
      q->head = (q->head + 1) % QUEUE_SLOTS;
      q->count--;
      pthread_cond_broadcast (&q->changed);
    }
  pthread_mutex_unlock (&q->lock);
  return item;
}

/* A cheap deterministic generator: the same run every time. */
static uint32_t
next_random (uint32_t *state)
{
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

NOINLINE static Request *
accept_request (unsigned id, uint32_t *rng)
{
  size_t len = 64 + next_random (rng) % 1984;
  Request *r = xmalloc (sizeof *r + len + 1);

  r->id = id;
  r->client = next_random (rng) % 1000;
  r->payload_len = len;
  for (size_t i = 0; i < len; i++)
    r->payload[i] = (i % 9 == 8) ? ' ' : (char) ('a' + (id + i) % 26);
  r->payload[len] = '\0';
  return r;
}

static void *
acceptor_main (void *arg)
{
  unsigned n = *(unsigned *) arg;
  uint32_t rng = 2463534242u;

  pthread_setname_np (pthread_self (), "acceptor");
  for (unsigned id = 0; id < n; id++)
    queue_push (&requests_queue, accept_request (id, &rng));
  queue_push (&requests_queue, NULL);
  return NULL;
}

/* Splits the payload at spaces; the caller frees the tokens. */
NOINLINE static char **
parse_request (const Request *r, size_t *out_n)
{
  size_t cap = 8, n = 0;
  char **tokens = xmalloc (cap * sizeof *tokens);
  const char *p = r->payload;

  while (*p != '\0')
    {
      size_t len = strcspn (p, " ");
      if (n == cap)
        {
          cap *= 2;
          tokens = realloc (tokens, cap * sizeof *tokens);
          if (tokens == NULL)
            die ("realloc");
        }
      tokens[n] = xmalloc (len + 1);
      memcpy (tokens[n], p, len);
      tokens[n][len] = '\0';
      n++;
      p += len;
      p += strspn (p, " ");
    }
  *out_n = n;
  return tokens;
}

NOINLINE static char *
render_response (const Request *r, char **tokens, size_t n_tokens)
{
  size_t len = 0;
  char *out = NULL;

  for (size_t i = 0; i < n_tokens; i++)
    {
      char field[64];
      int add = snprintf (field, sizeof field, "%s%u:%zu", i ? "," : "", r->id, strlen (tokens[i]));
      char *grown = realloc (out, len + (size_t) add + 2);
      if (grown == NULL)
        die ("realloc");
      out = grown;
      memcpy (out + len, field, (size_t) add);
      len += (size_t) add;
    }
  if (out == NULL)
    out = xmalloc (2);
  out[len] = '\n';
  out[len + 1] = '\0';
  return out;
}

/* The bug the demo is about: the name is never freed. */
NOINLINE static void
evict_session (Session *s)
{
  free (s->state);
  free (s);
}

NOINLINE static void
remember_session (unsigned client)
{
  Session *s = xmalloc (sizeof *s);

  s->client = client;
  s->name = malloc (SESSION_NAME_BYTES);
  if (s->name == NULL)
    die ("malloc");
  snprintf (s->name, SESSION_NAME_BYTES, "client-%u", client);
  s->state = xmalloc (256);
  memset (s->state, 0, 256);

  pthread_mutex_lock (&cache_lock);
  if (cache[cache_next] != NULL)
    {
      evict_session (cache[cache_next]);
      leaked_blocks++;
    }
  cache[cache_next] = s;
  cache_next = (cache_next + 1) % CACHE_SLOTS;
  pthread_mutex_unlock (&cache_lock);
}

static void *
worker_main (void *arg)
{
  char name[16];
  Request *r;

  snprintf (name, sizeof name, "worker-%d", (int) (intptr_t) arg);
  pthread_setname_np (pthread_self (), name);
  while ((r = queue_pop (&requests_queue)) != NULL)
    {
      size_t n_tokens;
      char **tokens = parse_request (r, &n_tokens);

      queue_push (&log_queue, render_response (r, tokens, n_tokens));
      for (size_t i = 0; i < n_tokens; i++)
        free (tokens[i]);
      free (tokens);
      if (r->id % SESSION_EVERY == 0)
        remember_session (r->client);
      free (r);
    }
  return NULL;
}

NOINLINE static void
write_log (FILE *log, char *reply)
{
  fputs (reply, log);
  free (reply);
}

static void *
logger_main (void *arg)
{
  char path[] = "/tmp/memscope-demo-XXXXXX";
  int fd = mkstemp (path);
  FILE *log;
  unsigned remaining = *(unsigned *) arg;
  char *reply;

  pthread_setname_np (pthread_self (), "logger");
  if (fd < 0)
    die ("mkstemp");
  unlink (path);
  log = fdopen (fd, "w");
  if (log == NULL)
    die ("fdopen");
  for (; remaining > 0 && (reply = queue_pop (&log_queue)) != NULL; remaining--)
    write_log (log, reply);
  fclose (log);
  return NULL;
}

NOINLINE static double
crunch_numbers (void)
{
  double sum = 0;

  for (unsigned long i = 1; !stats_stop; i++)
    sum += 1.0 / ((double) i * (double) i);
  return sum;
}

static void *
stats_main (void *arg)
{
  pthread_setname_np (pthread_self (), "stats");
  *(double *) arg = crunch_numbers ();
  return NULL;
}

int
main (int argc, char **argv)
{
  unsigned n_requests = argc > 1 ? (unsigned) strtoul (argv[1], NULL, 10) : DEFAULT_REQUESTS;
  pthread_t acceptor, logger, stats, workers[N_WORKERS];
  double pi_squared_over_6 = 0;

  if (argc > 2 || n_requests == 0)
    {
      fprintf (stderr, "usage: %s [REQUESTS]  (default %d)\n", argv[0], DEFAULT_REQUESTS);
      return 1;
    }
  if (pthread_create (&stats, NULL, stats_main, &pi_squared_over_6) != 0
      || pthread_create (&logger, NULL, logger_main, &n_requests) != 0
      || pthread_create (&acceptor, NULL, acceptor_main, &n_requests) != 0)
    die ("pthread_create");
  for (int i = 0; i < N_WORKERS; i++)
    if (pthread_create (&workers[i], NULL, worker_main, (void *) (intptr_t) (i + 1)) != 0)
      die ("pthread_create");

  pthread_join (acceptor, NULL);
  for (int i = 0; i < N_WORKERS; i++)
    pthread_join (workers[i], NULL);
  pthread_join (logger, NULL);
  stats_stop = 1;
  pthread_join (stats, NULL);

  /* A clean shutdown frees the cache; the evicted names are lost. */
  for (int i = 0; i < CACHE_SLOTS; i++)
    if (cache[i] != NULL)
      {
        free (cache[i]->name);
        evict_session (cache[i]);
      }
  printf ("memscope-demo: %u requests; leaked %lu blocks, %lu bytes (remember_session)\n",
          n_requests, leaked_blocks, leaked_blocks * SESSION_NAME_BYTES);
  return pi_squared_over_6 > 1.0 ? 0 : 2;
}
