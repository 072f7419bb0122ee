/* SPDX-License-Identifier: LGPL-2.1-or-later
 * bench-aggregate-gen DIR EVENTS THREADS LIVE STACKS: writes a trace
 * directory as the shim would, of EVENTS heap events over THREADS thread
 * files running at the same time, each thread keeping about LIVE/THREADS
 * blocks live (the heap grows to LIVE blocks, churns, then frees all but
 * 1 %), allocations spread over STACKS distinct call stacks. For
 * bench/bench-aggregate.sh: memscope-aggregate's speed and memory where
 * the live set and the stack count are known. */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms-writer.h"

#define BASE_NS G_GUINT64_CONSTANT (1000000000)

static void
add (MsWriter *w, const MsRecord *r)
{
  if (ms_writer_add (w, r) != 0)
    {
      fprintf (stderr, "bench-aggregate-gen: writing %s failed\n", w->path);
      exit (1);
    }
}

static MsWriter *
create (const char *dir, const char *name, MsFileKind kind)
{
  MsWriter *w = g_new0 (MsWriter, 1);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  MsWriterOptions opt = {
    .kind = kind, .pid = 4242, .chunk_bytes = 64 * 1024, .start_mono_ns = BASE_NS, .start_wall_ns = BASE_NS,
  };

  remove (path);
  if (ms_writer_create (w, path, &opt) != 0)
    {
      fprintf (stderr, "bench-aggregate-gen: cannot create %s\n", path);
      exit (1);
    }
  return w;
}

static void
finish (MsWriter *w)
{
  MsRecord close = { .kind = MS_RECORD_CLOSE, .time_ns = w->state.prev_time_ns };
  ms_writer_add_final (w, &close);
  ms_writer_close (w);
  g_free (w);
}

static guint64
xorshift (guint64 *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

int
main (int argc, char **argv)
{
  if (argc != 6)
    {
      fprintf (stderr, "usage: %s DIR EVENTS THREADS LIVE STACKS\n", argv[0]);
      return 2;
    }
  const char *dir = argv[1];
  guint64 events = g_ascii_strtoull (argv[2], NULL, 10);
  guint threads = MAX (1, atoi (argv[3]));
  guint64 live = g_ascii_strtoull (argv[4], NULL, 10);
  guint stacks = MAX (1, atoi (argv[5]));

  g_mkdir_with_parents (dir, 0700);
  MsWriter *proc = create (dir, "process.mst", MS_FILE_KIND_PROCESS);
  MsRecord info = { .kind = MS_RECORD_INFO, .time_ns = BASE_NS };
  info.u.info.key = (MsBytes) { "cmdline", 7 };
  info.u.info.value = (MsBytes) { "bench-aggregate-gen", 19 };
  add (proc, &info);
  finish (proc);

  guint64 per_thread = events / threads, live_per_thread = MAX (live / threads, 1);
  for (guint t = 0; t < threads; t++)
    {
      g_autofree char *name = g_strdup_printf ("thread-%u.mst", t);
      MsWriter *w = create (dir, name, MS_FILE_KIND_THREAD);
      g_autofree guint64 *blocks = g_new (guint64, live_per_thread);
      guint64 n_live = 0, done = 0, clock = BASE_NS, seed = 0x9E3779B97F4A7C15ull ^ (t + 1);
      guint64 next_addr = 0x100000000ull * (t + 1);
      MsRecord r = { .kind = MS_RECORD_THREAD_START, .time_ns = clock };

      r.u.thread.tid = 5000 + t;
      add (w, &r);
      /* STACKS call stacks of three frames: root, a middle frame, a leaf */
      for (guint s = 0; s < stacks; s++)
        {
          MsRecord n = { .kind = MS_RECORD_STACK_NODE, .time_ns = clock };
          n.u.stack_node.id = 2 * s + 1;
          n.u.stack_node.parent = 0;
          n.u.stack_node.ip = 0x400000 + 64 * (s % 97);
          add (w, &n);
          n.u.stack_node.id = 2 * s + 2;
          n.u.stack_node.parent = 2 * s + 1;
          n.u.stack_node.ip = 0x500000 + 32 * s;
          add (w, &n);
        }

      while (done < per_thread)
        {
          guint64 rnd = xorshift (&seed);
          guint64 left = per_thread - done;
          /* grow to the live target (3 allocations for 1 free), churn
           * around it, and drain at the end */
          gboolean draining = left <= n_live;
          gboolean alloc = n_live == 0 || (!draining && n_live < live_per_thread && (rnd & 3) != 0);
          clock += 50 + rnd % 100;
          if (alloc)
            {
              MsRecord a = { .kind = MS_RECORD_ALLOC, .time_ns = clock };
              a.u.event.addr = next_addr;
              next_addr += 64;
              a.u.event.size = 16 + (rnd >> 8) % 1000;
              a.u.event.stack_id = 2 * ((rnd >> 20) % stacks) + 2;
              a.u.event.weight = MS_WEIGHT_ONE;
              add (w, &a);
              blocks[n_live++] = a.u.event.addr;
            }
          else
            {
              /* keep 1 % of the blocks: leaks */
              if (draining && n_live * 100 <= live_per_thread)
                break;
              guint64 k = (rnd >> 12) % n_live;
              MsRecord f = { .kind = MS_RECORD_FREE, .time_ns = clock };
              f.u.event.addr = blocks[k];
              f.u.event.weight = MS_WEIGHT_ONE;
              add (w, &f);
              blocks[k] = blocks[--n_live];
            }
          done++;
        }
      r.kind = MS_RECORD_THREAD_END;
      r.time_ns = clock;
      add (w, &r);
      finish (w);
    }
  return 0;
}
