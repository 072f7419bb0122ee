/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Writes the reader fuzzer's seed corpus: small real trace files made with
 * MsWriter, one for every situation the reader has a path for (every record
 * kind, each file kind, several chunks, compacted, foreign byte order, an
 * unknown minor-version kind, a newer major, truncated, crashed, corrupt).
 * The output is deterministic; the seeds are checked in, and regenerated
 * after a format change with:
 *
 *   make tests/fuzz/make-corpus && tests/fuzz/make-corpus $(srcdir)/tests/fuzz/corpus-reader
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms-crc32c.h"
#include "ms-reader.h"
#include "ms-writer.h"

#define START_MONO_NS 1000000000ull
#define START_WALL_NS 1700000000000000000ull

static const char *out_dir;
static char *scratch_dir;

typedef struct
{
  MsWriter w;
  guint64 now;
} Gen;

static char *
out_path (const char *name)
{
  return g_build_filename (out_dir, name, NULL);
}

static char *
scratch_path (const char *name)
{
  return g_build_filename (scratch_dir, name, NULL);
}

static void
gen_begin (Gen *g, const char *path, MsFileKind kind)
{
  MsWriterOptions options = {
    .kind = kind,
    .pid = 4242,
    .chunk_bytes = MS_WRITER_MIN_CHUNK_BYTES,
    .start_mono_ns = START_MONO_NS,
    .start_wall_ns = START_WALL_NS,
  };

  g_unlink (path);
  int r = ms_writer_create (&g->w, path, &options);
  if (r < 0)
    g_error ("creating %s: %s", path, g_strerror (-r));
  g->now = START_MONO_NS;
}

/* Appends R, timed DT_NS after the previous record. */
static void
gen_add (Gen *g, MsRecord r, guint64 dt_ns)
{
  g->now += dt_ns;
  r.time_ns = g->now;
  int ret = r.kind == MS_RECORD_CLOSE ? ms_writer_add_final (&g->w, &r) : ms_writer_add (&g->w, &r);
  if (ret < 0)
    g_error ("writing a record of kind %u: %s", r.kind, g_strerror (-ret));
}

static MsBytes
str (const char *s)
{
  return (MsBytes) { s, (guint32) strlen (s) };
}

static void
gen_event (Gen *g, MsRecordKind kind, guint64 size, guint64 old_addr, guint64 addr, guint64 stack, guint64 weight,
           guint64 dt_ns)
{
  gen_add (g,
           (MsRecord) { .kind = kind,
                        .u.event = { .addr = addr, .size = size, .old_addr = old_addr, .stack_id = stack,
                                     .weight = weight } },
           dt_ns);
}

static void
gen_close (Gen *g, guint64 allocs, guint64 frees)
{
  gen_add (g, (MsRecord) { .kind = MS_RECORD_CLOSE, .u.close = { allocs, frees, allocs * 48, frees * 48, 0 } }, 10);
  int r = ms_writer_close (&g->w);
  if (r < 0)
    g_error ("closing: %s", g_strerror (-r));
}

/* One record of every kind a thread file holds, with edge values: a time
 * that goes back (stored as simultaneous), an unaligned address (stored
 * absolute), a zero-sized name, a 64-bit ip. */
static void
write_thread_kinds (Gen *g)
{
  static const guint64 values[] = { 1, 0, 127, 128, G_MAXUINT64, 1ull << 40 };
  MsRecord res = { .kind = MS_RECORD_RESOURCE, .u.resource = { MS_RESOURCE_THREAD, 77, G_N_ELEMENTS (values) } };

  memcpy (res.u.resource.values, values, sizeof values);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_THREAD_START, .u.thread.tid = 77 }, 5);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_THREAD_NAME, .u.thread = { 77, str ("worker-1") } }, 5);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_STACK_NODE, .u.stack_node = { 1, 0, 0x555555554a3full } }, 0);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_STACK_NODE, .u.stack_node = { 2, 1, 0x7ffff7a1b2c3ull } }, 0);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_STACK_NODE, .u.stack_node = { 3, 1, G_MAXUINT64 } }, 0);
  gen_event (g, MS_RECORD_ALLOC, 32, 0, 0x5555555a0010ull, 2, MS_WEIGHT_ONE, 120);
  gen_event (g, MS_RECORD_ALLOC, 4096, 0, 0x5555555a1000ull, 3, MS_WEIGHT_ONE, 80);
  gen_event (g, MS_RECORD_REALLOC, 8192, 0x5555555a1000ull, 0x7fffe0000010ull, 3, MS_WEIGHT_ONE, 300);
  gen_event (g, MS_RECORD_REALLOC, 64, 0, 0x5555555a2003ull, 2, MS_WEIGHT_ONE, 0);
  gen_event (g, MS_RECORD_FREE, 0, 0, 0x5555555a0010ull, 0, MS_WEIGHT_ONE, 60);
  gen_event (g, MS_RECORD_ALLOC_SAMPLED, 700, 0, 0x5555555a0010ull, 2, 10 * MS_WEIGHT_ONE, 200);
  gen_event (g, MS_RECORD_REALLOC_SAMPLED, 900, 0x5555555a0010ull, 0x5555555a0400ull, 2, 100 * MS_WEIGHT_ONE, 200);
  gen_event (g, MS_RECORD_MMAP, 1 << 20, 0, 0x7ffff0000000ull, 3, MS_WEIGHT_ONE, 3000);
  gen_event (g, MS_RECORD_MUNMAP, 1 << 20, 0, 0x7ffff0000000ull, 0, MS_WEIGHT_ONE, 3000);
  gen_add (g,
           (MsRecord) { .kind = MS_RECORD_LABEL,
                        .u.label = { 0x5555555a0400ull, 900, str ("table"), str ("struct entry *") } },
           10);
  /* a record timed before its predecessor */
  g->now -= 50;
  gen_event (g, MS_RECORD_FREE, 0, 0, 0x5555555a0400ull, 0, MS_WEIGHT_ONE, 0);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_LOST, .u.lost = { 3, MS_LOST_REASON_STACK_TABLE_FULL } }, 1000);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_THREAD_NAME, .u.thread = { 77, str ("") } }, 5);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_FREQ, .u.freq = { 77, 0x555555554a3full, 12, 4096 } }, 5);
  gen_add (g, res, 5);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_THREAD_END, .u.thread.tid = 77 }, 5);
}

static void
write_process_kinds (Gen *g)
{
  static const char cmdline[] = "./server\0--port\0" "8080";
  static const char build_id[] = "\x8f\x12\x00\xab\xcd\xef\x01\x23\x45\x67\x89\x9a\xbc\xde\xf0\x11\x22\x33\x44\x55";

  gen_add (g, (MsRecord) { .kind = MS_RECORD_INFO, .u.info = { str ("cmdline"), { cmdline, sizeof cmdline - 1 } } },
           0);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_INFO, .u.info = { str ("exe"), str ("/usr/bin/server") } }, 1);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_INFO, .u.info = { str ("sampling"), str ("tiered") } }, 1);
  gen_add (g,
           (MsRecord) { .kind = MS_RECORD_MODULE_LOAD,
                        .u.module = { 0x555555554000ull, 0x21000, 0x555555554000ull, { build_id, 20 },
                                      str ("/usr/bin/server") } },
           1000);
  gen_add (g,
           (MsRecord) { .kind = MS_RECORD_MODULE_LOAD,
                        .u.module = { 0x7ffff7dc0000ull, 0x1c0000, 0x7ffff7d98000ull, { build_id, 20 },
                                      str ("/lib/x86_64-linux-gnu/libc.so.6") } },
           1000);
  gen_add (g,
           (MsRecord) { .kind = MS_RECORD_MODULE_LOAD,
                        .u.module = { 0x7ffff7f00000ull, 0x3000, 0x7ffff7f00000ull, { NULL, 0 },
                                      str ("/tmp/plugin.so") } },
           50000);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_MODULE_UNLOAD, .u.module.start = 0x7ffff7f00000ull }, 90000);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_INFO, .u.info = { str ("error"), str ("ENOSPC") } }, 1);
}

static void
write_resources (Gen *g)
{
  for (int tick = 0; tick < 3; tick++)
    for (guint scope = MS_RESOURCE_PROCESS; scope <= MS_RESOURCE_GPU; scope++)
      {
        MsRecord r = { .kind = MS_RECORD_RESOURCE, .u.resource = { scope, scope == MS_RESOURCE_CPU ? 1 : 4242, 0 } };
        static const guint n_values[] = { 0, MS_RES_PROC_N_VALUES, MS_RES_THREAD_N_VALUES, MS_RES_SYS_N_VALUES,
                                          MS_RES_CPU_N_VALUES, MS_RES_GPU_N_VALUES };
        r.u.resource.n_values = n_values[scope];
        for (guint i = 0; i < r.u.resource.n_values; i++)
          r.u.resource.values[i] = (guint64) (tick + 1) * (i + 1) * 1000003u;
        gen_add (g, r, tick == 0 ? 0 : 100000000);
      }
  gen_add (g, (MsRecord) { .kind = MS_RECORD_THREAD_NAME, .u.thread = { 4243, str ("io") } }, 1);
  gen_add (g, (MsRecord) { .kind = MS_RECORD_INFO, .u.info = { str ("interval_msec"), str ("100") } }, 1);
}

/* An allocation churn from a few call sites over a pool of reused
 * addresses; N_EVENTS of them cross a chunk boundary at 16 KiB chunks. */
static void
write_churn (Gen *g, guint n_events, guint64 *out_allocs, guint64 *out_frees)
{
  guint64 live[64] = { 0 };
  guint32 rng = 12345;
  guint64 allocs = 0, frees = 0;

  for (guint64 id = 1; id <= 8; id++)
    gen_add (g, (MsRecord) { .kind = MS_RECORD_STACK_NODE, .u.stack_node = { id, id / 3, 0x401000 + 0x40 * id } },
             0);
  for (guint i = 0; i < n_events; i++)
    {
      rng = rng * 1103515245u + 12345u;
      guint slot = (rng >> 16) % G_N_ELEMENTS (live);
      guint64 dt = 50 + (rng >> 8) % 250;

      if (live[slot] != 0)
        {
          gen_event (g, MS_RECORD_FREE, 0, 0, live[slot], 0, MS_WEIGHT_ONE, dt);
          live[slot] = 0;
          frees++;
        }
      else
        {
          live[slot] = 0x5555555a0000ull + 0x40 * slot;
          gen_event (g, MS_RECORD_ALLOC, 16 << (rng % 6), 0, live[slot], 1 + rng % 8, MS_WEIGHT_ONE, dt);
          allocs++;
        }
    }
  *out_allocs = allocs;
  *out_frees = frees;
}

static void
copy_file (const char *from, const char *to, gsize max_bytes)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize length;

  if (!g_file_get_contents (from, &contents, &length, &error)
      || !g_file_set_contents (to, contents, (gssize) MIN (length, max_bytes), &error))
    g_error ("%s", error->message);
}

static void
compact (const char *from, const char *to)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = scratch_path ("compact.mst");

  copy_file (from, tmp, G_MAXSIZE);
  if (!ms_trace_compact_file (tmp, 0, &error))
    g_error ("%s", error->message);
  copy_file (tmp, to, G_MAXSIZE);
  g_unlink (tmp);
}

static gsize
file_size (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    g_error ("reading %s", path);
  return length;
}

/* Rewrites a native little-endian file as a big-endian writer would have
 * written it: header and chunk headers swapped, checksums recomputed over
 * the swapped bytes. Payloads are byte-order free (varints). */
static void
write_foreign (const char *from, const char *to)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (from, &contents, &length, NULL))
    g_error ("reading %s", from);
  MsFileHeader h;
  memcpy (&h, contents, sizeof h);
  size_t off = h.header_bytes;

  while (off + sizeof (MsChunkHeader) <= length)
    {
      MsChunkHeader c;
      memcpy (&c, contents + off, sizeof c);
      guint32 span = c.span_bytes, stored = c.stored_bytes;
      c.magic = GUINT32_SWAP_LE_BE (c.magic);
      c.flags = GUINT32_SWAP_LE_BE (c.flags);
      c.seq = GUINT32_SWAP_LE_BE (c.seq);
      c.span_bytes = GUINT32_SWAP_LE_BE (c.span_bytes);
      c.stored_bytes = GUINT32_SWAP_LE_BE (c.stored_bytes);
      c.raw_bytes = GUINT32_SWAP_LE_BE (c.raw_bytes);
      c.base_time_ns = GUINT64_SWAP_LE_BE (c.base_time_ns);
      guint32 crc = ms_crc32c (ms_crc32c (0, (const guint8 *) &c + 8, 24), contents + off + sizeof c, stored);
      c.crc = GUINT32_SWAP_LE_BE (crc);
      memcpy (contents + off, &c, sizeof c);
      off += span;
    }

  h.major = GUINT16_SWAP_LE_BE (h.major);
  h.minor = GUINT16_SWAP_LE_BE (h.minor);
  h.byte_order = MS_BYTE_ORDER_BIG;
  h.header_bytes = GUINT16_SWAP_LE_BE (h.header_bytes);
  h.file_kind = GUINT32_SWAP_LE_BE (h.file_kind);
  h.pid = GUINT32_SWAP_LE_BE (h.pid);
  h.start_wall_ns = GUINT64_SWAP_LE_BE (h.start_wall_ns);
  h.start_mono_ns = GUINT64_SWAP_LE_BE (h.start_mono_ns);
  h.header_crc = GUINT32_SWAP_LE_BE (ms_crc32c (0, &h, offsetof (MsFileHeader, header_crc)));
  memcpy (contents, &h, sizeof h);
  if (!g_file_set_contents (to, contents, (gssize) length, NULL))
    g_error ("writing %s", to);
}

/* Sets the header's version and fixes its checksum. */
static void
set_version (const char *path, guint16 major, guint16 minor)
{
  g_autofree char *contents = NULL;
  gsize length;
  MsFileHeader h;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    g_error ("reading %s", path);
  memcpy (&h, contents, sizeof h);
  h.major = major;
  h.minor = minor;
  h.header_crc = ms_crc32c (0, &h, offsetof (MsFileHeader, header_crc));
  memcpy (contents, &h, sizeof h);
  if (!g_file_set_contents (path, contents, (gssize) length, NULL))
    g_error ("writing %s", path);
}

/* A sized record of kind 0x30, as a minor version 1.1 might add: tag,
 * length, dt, then fields this reader does not know. */
static void
write_unknown_kind (Gen *g)
{
  static const guint8 body[] = { 8 /* length */, 42 /* dt */, 1, 2, 3, 0x80, 0x01, 'x', 'y' };
  guint8 *rec = ms_writer_reserve (&g->w, 1 + sizeof body);

  g_assert_nonnull (rec);
  memcpy (rec + 1, body, sizeof body);
  g->w.state.prev_time_ns += 42;
  g->now += 42;
  ms_writer_commit (&g->w, rec, sizeof body, 0x30);
}

int
main (int argc, char **argv)
{
  Gen g;
  guint64 allocs, frees;

  if (argc != 2)
    {
      g_printerr ("usage: %s OUTPUT-DIRECTORY\n", argv[0]);
      return 1;
    }
  out_dir = argv[1];
  if (g_mkdir_with_parents (out_dir, 0755) < 0)
    g_error ("creating %s: %s", out_dir, g_strerror (errno));
  scratch_dir = g_dir_make_tmp ("ms-make-corpus-XXXXXX", NULL);
  g_assert_nonnull (scratch_dir);

  g_autofree char *thread = out_path ("thread-all-kinds.mst");
  gen_begin (&g, thread, MS_FILE_KIND_THREAD);
  write_thread_kinds (&g);
  gen_close (&g, 6, 3);

  g_autofree char *process = out_path ("process.mst");
  gen_begin (&g, process, MS_FILE_KIND_PROCESS);
  write_process_kinds (&g);
  gen_close (&g, 0, 0);

  g_autofree char *resources = out_path ("resources.mst");
  gen_begin (&g, resources, MS_FILE_KIND_RESOURCES);
  write_resources (&g);
  gen_close (&g, 0, 0);

  /* two chunks, the first full */
  g_autofree char *churn = out_path ("churn-2-chunks.mst");
  gen_begin (&g, churn, MS_FILE_KIND_THREAD);
  write_churn (&g, 3500, &allocs, &frees);
  gen_close (&g, allocs, frees);
  g_assert_cmpuint (file_size (churn), >, MS_WRITER_MIN_CHUNK_BYTES);

  g_autofree char *churn_z = out_path ("churn-compacted.mst");
  compact (churn, churn_z);
  g_autofree char *thread_z = out_path ("thread-all-kinds-compacted.mst");
  compact (thread, thread_z);

  g_autofree char *foreign = out_path ("thread-all-kinds-big-endian.mst");
  write_foreign (thread, foreign);

  g_autofree char *unknown = out_path ("unknown-kind-minor-1.mst");
  gen_begin (&g, unknown, MS_FILE_KIND_THREAD);
  gen_event (&g, MS_RECORD_ALLOC, 24, 0, 0x1000, 0, MS_WEIGHT_ONE, 10);
  write_unknown_kind (&g);
  gen_event (&g, MS_RECORD_FREE, 0, 0, 0x1000, 0, MS_WEIGHT_ONE, 10);
  gen_close (&g, 1, 1);
  set_version (unknown, 1, 1);

  g_autofree char *too_new = out_path ("major-2.mst");
  copy_file (unknown, too_new, sizeof (MsFileHeader) + sizeof (MsChunkHeader));
  set_version (too_new, 2, 0);

  /* cut inside a record, and inside a chunk header */
  g_autofree char *cut_record = out_path ("truncated-in-record.mst");
  copy_file (thread, cut_record, file_size (thread) - 23);
  g_autofree char *cut_header = out_path ("truncated-in-chunk-header.mst");
  copy_file (churn, cut_header, MS_WRITER_MIN_CHUNK_BYTES + 20);
  g_autofree char *cut_z = out_path ("compacted-truncated.mst");
  copy_file (churn_z, cut_z, file_size (churn_z) - 100);

  /* a writer that died: its chunk never sealed, the window still zeroed
   * past the last record */
  g_autofree char *crashed = out_path ("crashed-unsealed.mst");
  gen_begin (&g, crashed, MS_FILE_KIND_THREAD);
  write_thread_kinds (&g);
  ms_writer_abandon (&g.w);

  /* ... and one that died in the middle of a record: body written, tag not */
  g_autofree char *mid = out_path ("crashed-mid-record.mst");
  gen_begin (&g, mid, MS_FILE_KIND_THREAD);
  gen_event (&g, MS_RECORD_ALLOC, 24, 0, 0x1000, 0, MS_WEIGHT_ONE, 10);
  guint8 *rec = ms_writer_reserve (&g.w, MS_HOT_RECORD_MAX_BYTES);
  MsRecord pending = { .kind = MS_RECORD_ALLOC, .time_ns = g.now + 10, .u.event = { .addr = 0x2000, .size = 99 } };
  g_assert_nonnull (rec);
  g_assert_cmpuint (ms_record_encode_body (rec + 1, &g.w.state, &pending), >, 0);
  ms_writer_abandon (&g.w);

  /* a bit flipped in the first of two chunks: the reader skips to the second */
  g_autofree char *corrupt = out_path ("corrupt-first-chunk.mst");
  {
    g_autofree char *contents = NULL;
    gsize length;
    g_assert_true (g_file_get_contents (churn, &contents, &length, NULL));
    contents[sizeof (MsFileHeader) + sizeof (MsChunkHeader) + 100] ^= 0x10;
    g_assert_true (g_file_set_contents (corrupt, contents, (gssize) length, NULL));
  }

  g_rmdir (scratch_dir);
  g_free (scratch_dir);
  return 0;
}
