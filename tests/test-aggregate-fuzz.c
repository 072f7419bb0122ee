/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Drives tests/fuzz/fuzz-aggregate.c without libFuzzer, as a make check
 * test: seed trace directories (written as the shim writes them) go
 * through the target whole, then in a few thousand deterministic
 * mutations: bytes flipped, files cut, pieces dropped or repeated.
 *
 *   test-aggregate-fuzz                      the check
 *   test-aggregate-fuzz --write-corpus DIR   the seeds, for libFuzzer:
 *       tests/fuzz/fuzz-aggregate -max_total_time=60 DIR */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-aggregate-util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The target's file ids (tests/fuzz/fuzz-aggregate.c). */
static const char *const paths[] = {
  "process.mst", "thread-0.mst", "thread-1.mst", "thread-2.mst", "resources.mst", "777/process.mst", "777/thread-0.mst",
};

static const char *const seeds[] = {
  /* one thread, leaks, temporaries, a realloc chain */
  "process 100 exe=/usr/bin/prog\nmodule 0x400000 0x10000 0 /usr/bin/prog build_id=0011\nfile 0\nstart 0 100 main\n"
  "alloc 10 0x1000 100 leak_a,main\nalloc 20 0x2000 200 work,main\nfree 30 0x2000\n"
  "realloc 40 0x1000 0x3000 300 grow,main\nrealloc 50 0x3000 0x4000 600 grow,main\n"
  "mmap 55 0x7000000 65536 map,main\nmunmap 56 0x7000000 4096\n"
  "freq 60 100 site 7 700\nend 60 100\n",
  /* two threads, cross-thread frees, a realloc race */
  "process 200\nfile 0\nstart 0 201 prod\nalloc 10 0x1000 64 make,prod\nalloc 11 0x5000 64 grow,a\n"
  "realloc 30 0x5000 0x6000 128 grow,a\nend 40 201\nfile 1\nstart 0 202 cons\nfree 20 0x1000\n"
  "alloc 21 0x5000 32 other,b\nfree 35 0x5000\nlost 36 5\nend 40 202\n",
  /* sampled, with a child process and resources */
  "process 300 sampling=tiered\nfile 0\nstart 0 300 main\nalloc 10 0x1000 100 s,main w=10\nfree 20 0x1000\n"
  "alloc 30 0x2000 5000 t,main w=1.5\nend 40 300\n"
  "process 301 ppid=300 dir=777\nfile 0\nstart 5 301 child\nalloc 15 0x1000 50 c,main\nnoclose\n"
  "res 0 process 300 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\nres 100000000 process 300 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n"
  "res 0 thread 300 1,2,3,4,5,6,300\nres 100000000 thread 300 9,2,3,4,5,6,300\nresname 0 300 main\nresinfo interval_msec 100\n",
};

/* Packs the files of DIR into one input of the target's layout. */
static GByteArray *
pack (const char *dir)
{
  GByteArray *out = g_byte_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *path = g_build_filename (dir, paths[i], NULL);
      g_autofree char *contents = NULL;
      gsize len;
      if (!g_file_get_contents (path, &contents, &len, NULL))
        continue;
      guint8 head[4] = { (guint8) i, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff };
      g_byte_array_append (out, head, 4);
      g_byte_array_append (out, (const guint8 *) contents, (guint) len);
    }
  return out;
}

static void
mutate (GRand *rand, GByteArray *a)
{
  guint n = a->len;

  if (n == 0)
    return;
  switch (g_rand_int_range (rand, 0, 5))
    {
    case 0: /* flip a few bits */
      for (int k = g_rand_int_range (rand, 1, 8); k > 0; k--)
        a->data[g_rand_int_range (rand, 0, (gint32) n)] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
      break;
    case 1: /* cut */
      g_byte_array_set_size (a, (guint) g_rand_int_range (rand, 0, (gint32) n));
      break;
    case 2: /* drop a piece */
      {
        guint at = (guint) g_rand_int_range (rand, 0, (gint32) n);
        guint want = (guint) g_rand_int_range (rand, 1, 64); /* MIN evaluates twice */
        g_byte_array_remove_range (a, at, MIN (want, n - at));
      }
      break;
    case 3: /* repeat a piece */
      {
        guint at = (guint) g_rand_int_range (rand, 0, (gint32) n);
        guint want = (guint) g_rand_int_range (rand, 1, 64);
        guint len = MIN (want, n - at);
        g_autofree guint8 *piece = g_memdup2 (a->data + at, len);
        g_byte_array_prepend (a, piece, len); /* GLib 2.74 has no insert: repeat it at the front */
      }
      break;
    default: /* set a byte to an edge value */
      {
        static const guint8 edges[] = { 0, 1, 0x7f, 0x80, 0xff, 0x10, 0x1b };
        a->data[g_rand_int_range (rand, 0, (gint32) n)] = edges[g_rand_int_range (rand, 0, G_N_ELEMENTS (edges))];
      }
      break;
    }
}

int
main (int argc, char **argv)
{
  g_autofree char *root = ms_test_mkdtemp ();
  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
  const char *corpus = argc == 3 && strcmp (argv[1], "--write-corpus") == 0 ? argv[2] : NULL;

  for (guint i = 0; i < G_N_ELEMENTS (seeds); i++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/seed%u", root, i);
      ms_test_write_trace (dir, seeds[i], NULL);
      g_ptr_array_add (inputs, pack (dir));
    }
  ms_test_rm_rf (root);

  if (corpus)
    {
      g_mkdir_with_parents (corpus, 0755);
      for (guint i = 0; i < inputs->len; i++)
        {
          GByteArray *a = g_ptr_array_index (inputs, i);
          g_autofree char *path = g_strdup_printf ("%s/seed%u", corpus, i);
          if (!g_file_set_contents (path, (const char *) a->data, a->len, NULL))
            return 1;
        }
      return 0;
    }

  /* TAP: each seed, then its mutations in batches */
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261122);
  const guint mutations = g_getenv ("MS_FUZZ_MUTATIONS") ? (guint) atoi (g_getenv ("MS_FUZZ_MUTATIONS")) : 300;
  guint n = 0;
  for (guint i = 0; i < inputs->len; i++)
    {
      GByteArray *seed = g_ptr_array_index (inputs, i);
      LLVMFuzzerTestOneInput (seed->data, seed->len);
      printf ("ok %u - seed %u\n", ++n, i);
      for (guint m = 0; m < mutations; m++)
        {
          g_autoptr (GByteArray) a = g_byte_array_new ();
          g_byte_array_append (a, seed->data, seed->len);
          for (int k = g_rand_int_range (rand, 1, 4); k > 0; k--)
            mutate (rand, a);
          LLVMFuzzerTestOneInput (a->data, a->len);
        }
      printf ("ok %u - seed %u: %u mutations\n", ++n, i, mutations);
    }
  printf ("1..%u\n", n);
  return 0;
}
