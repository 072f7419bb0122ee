/* SPDX-License-Identifier: LGPL-2.1-or-later
 * run-threads: threads named "worker-a", "worker-b" and "other" each make
 * 100 allocations of their own size (40001, 40002, 40003 bytes), one after
 * the other; "late" starts unnamed and takes its name before allocating
 * 40004-byte blocks. For --threads. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const struct
{
  const char *name;
  size_t size;
} jobs[] = {
  { "worker-a", 40001 }, { "worker-b", 40002 }, { "other", 40003 }, { "worker-late", 40004 },
};

static void *
work (void *data)
{
  size_t i = (size_t) data;

  pthread_setname_np (pthread_self (), jobs[i].name);
  for (int n = 0; n < 100; n++)
    {
      char *p = malloc (jobs[i].size);
      /* The compiler may drop a block nobody can see: show it this one. */
      __asm__ volatile ("" : : "r"(p) : "memory");
      free (p);
    }
  return NULL;
}

int
main (void)
{
  for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++)
    {
      pthread_t thread;
      pthread_create (&thread, NULL, work, (void *) i);
      pthread_join (thread, NULL);
    }
  return 0;
}
