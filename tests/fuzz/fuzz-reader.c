/* SPDX-License-Identifier: LGPL-2.1-or-later
 * libFuzzer target for everything that reads memscope-trace(5): the record
 * codec, the streaming reader and compaction. The promise is that
 * the reader "never crashes, hangs or allocates without bound on arbitrary
 * input"; the sanitizers and libFuzzer's limits check the first three, and
 * this file checks what the reader and compaction claim about their
 * results:
 *
 *   - a decoded record re-encodes to bytes that decode to the same record;
 *   - the reader ends after a bounded number of errors, and its counters
 *     agree with what it returned;
 *   - a compaction that fails leaves the file as it was, and one that
 *     succeeds yields the same records as the original.
 *
 * The reader opens files by path, so each input is written to a private
 * directory on a tmpfs (made once). Mutated sealed chunks rarely keep a
 * valid CRC-32C, which would keep the fuzzer out of the decoder and zstd;
 * so every input is also tried once more with its checksums repaired. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms-crc32c.h"
#include "ms-error.h"
#include "ms-reader.h"
#include "ms-record.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char *work_dir;

static void
remove_work_dir (void)
{
  g_autoptr (GDir) dir = g_dir_open (work_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (work_dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (work_dir);
}

static const char *
get_work_dir (void)
{
  if (work_dir != NULL)
    return work_dir;

  /* Each input is written, fsync'ed and renamed by compaction: on a disk
   * that would be the bottleneck, on a tmpfs it is memory. */
  const char *base = g_getenv ("MS_FUZZ_TMPDIR");
  if (base == NULL)
    base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) && access ("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                                                          : g_get_tmp_dir ();
  g_autofree char *tmpl = g_build_filename (base, "ms-fuzz-reader-XXXXXX", NULL);
  if (g_mkdtemp (tmpl) == NULL)
    g_error ("cannot create a directory in %s: %s", base, g_strerror (errno));
  work_dir = g_steal_pointer (&tmpl);
  atexit (remove_work_dir);
  return work_dir;
}

static void
write_file (const char *path, const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, (const char *) data, (gssize) size, &error))
    g_error ("%s", error->message);
}

static gboolean
bytes_equal (MsBytes a, MsBytes b)
{
  return a.len == b.len && (a.len == 0 || memcmp (a.data, b.data, a.len) == 0);
}

/* Compares what two records say; file_offset is where, not what. */
static gboolean
records_equal (const MsRecord *a, const MsRecord *b)
{
  if (a->kind != b->kind || a->time_ns != b->time_ns)
    return FALSE;
  if (ms_record_kind_is_hot (a->kind))
    return memcmp (&a->u.event, &b->u.event, sizeof a->u.event) == 0;

  switch (a->kind)
    {
    case MS_RECORD_STACK_NODE:
      return memcmp (&a->u.stack_node, &b->u.stack_node, sizeof a->u.stack_node) == 0;
    case MS_RECORD_THREAD_START:
    case MS_RECORD_THREAD_END:
      return a->u.thread.tid == b->u.thread.tid;
    case MS_RECORD_THREAD_NAME:
      return a->u.thread.tid == b->u.thread.tid && bytes_equal (a->u.thread.name, b->u.thread.name);
    case MS_RECORD_MODULE_LOAD:
      return a->u.module.start == b->u.module.start && a->u.module.size == b->u.module.size
             && a->u.module.bias == b->u.module.bias && bytes_equal (a->u.module.build_id, b->u.module.build_id)
             && bytes_equal (a->u.module.path, b->u.module.path);
    case MS_RECORD_MODULE_UNLOAD:
      return a->u.module.start == b->u.module.start;
    case MS_RECORD_LOST:
      return memcmp (&a->u.lost, &b->u.lost, sizeof a->u.lost) == 0;
    case MS_RECORD_FREQ:
      return memcmp (&a->u.freq, &b->u.freq, sizeof a->u.freq) == 0;
    case MS_RECORD_INFO:
      return bytes_equal (a->u.info.key, b->u.info.key) && bytes_equal (a->u.info.value, b->u.info.value);
    case MS_RECORD_RESOURCE:
      return a->u.resource.scope == b->u.resource.scope && a->u.resource.id == b->u.resource.id
             && a->u.resource.n_values == b->u.resource.n_values
             && memcmp (a->u.resource.values, b->u.resource.values,
                        a->u.resource.n_values * sizeof a->u.resource.values[0])
                    == 0;
    case MS_RECORD_LABEL:
      return a->u.label.addr == b->u.label.addr && a->u.label.size == b->u.label.size
             && bytes_equal (a->u.label.name, b->u.label.name) && bytes_equal (a->u.label.type, b->u.label.type);
    case MS_RECORD_CLOSE:
      return memcmp (&a->u.close, &b->u.close, sizeof a->u.close) == 0;
    default:
      return bytes_equal (a->u.unknown.payload, b->u.unknown.payload);
    }
}

/* A record of a known kind, decoded with state BEFORE (which became
 * AFTER), must encode within ms_record_max_bytes() to bytes that decode to
 * the same record and the same state. */
static void
check_reencode (const MsRecord *record, const MsCodecState *before, const MsCodecState *after)
{
  if (record->kind > MS_RECORD_LAST_KNOWN)
    return; /* the codec cannot write kinds it does not know */

  size_t max = ms_record_max_bytes (record);
  g_autofree uint8_t *buf = g_malloc (max);
  MsCodecState state = *before;
  size_t body = ms_record_encode_body (buf + 1, &state, record);

  g_assert_cmpuint (body, >, 0);
  g_assert_cmpuint (1 + body, <=, max);
  buf[0] = (uint8_t) record->kind;

  MsCodecState again = *before;
  const uint8_t *p = buf;
  MsRecord back;
  g_assert_cmpint (ms_record_decode (&p, buf + 1 + body, &again, &back), ==, MS_DECODE_OK);
  g_assert_true (p == buf + 1 + body);
  if (!records_equal (record, &back))
    g_error ("kind 0x%x at %" G_GUINT64_FORMAT " (previous time %" G_GUINT64_FORMAT ") re-encodes as kind 0x%x at %"
             G_GUINT64_FORMAT ", or differs in a field", record->kind, record->time_ns, before->prev_time_ns, back.kind,
             back.time_ns);
  g_assert_cmpuint (again.prev_time_ns, ==, after->prev_time_ns);
  g_assert_cmpuint (again.prev_addr, ==, after->prev_addr);
  g_assert_cmpuint (state.prev_time_ns, ==, after->prev_time_ns);
  g_assert_cmpuint (state.prev_addr, ==, after->prev_addr);
}

/* The codec on its own, over the raw bytes: after a failure it steps one
 * byte on, as a reader resynchronising inside damaged data would, so every
 * record boundary the bytes allow is tried in one linear pass. */
static void
fuzz_decoder (const uint8_t *data, size_t size)
{
  const uint8_t *pos = data;
  const uint8_t *end = data + size;
  MsCodecState state;
  MsRecord record;

  ms_codec_state_init (&state, 0);
  while (pos < end)
    {
      const uint8_t *at = pos;
      MsCodecState before = state;
      MsDecodeResult r = ms_record_decode (&pos, end, &state, &record);

      if (r != MS_DECODE_OK)
        {
          /* a failed decode leaves the position and the state alone */
          g_assert_true (pos == at);
          g_assert_cmpuint (state.prev_time_ns, ==, before.prev_time_ns);
          g_assert_cmpuint (state.prev_addr, ==, before.prev_addr);
          pos++;
          continue;
        }
      g_assert_true (pos > at && pos <= end);
      check_reencode (&record, &before, &state);
    }
}

/* The next record of READER, stepping over the errors it reports. Errors
 * are bounded: each one skips at least 8 bytes or ends a chunk, and chunks
 * are at least 40 bytes, so a reader that keeps failing in place is
 * caught here rather than by the timeout. */
static gboolean
next_record (MsReader *reader, MsRecord *record, guint64 *n_errors)
{
  guint64 max_errors = 2 * (ms_reader_get_info (reader)->file_bytes / 8) + 16;

  for (;;)
    {
      g_autoptr (GError) error = NULL;

      if (ms_reader_next (reader, record, &error))
        return TRUE;
      if (error == NULL)
        return FALSE;
      g_assert_true (error->domain == MS_ERROR);
      g_assert_nonnull (error->message);
      ++*n_errors;
      g_assert_cmpuint (*n_errors, <=, max_errors);
    }
}

static void
check_stats (MsReader *reader, guint64 n_records)
{
  const MsReaderStats *stats = ms_reader_get_stats (reader);
  MsRecord record;

  /* at the end, the end stays */
  g_assert_false (ms_reader_next (reader, &record, NULL));
  g_assert_cmpuint (stats->records, ==, n_records);
  g_assert_cmpuint (stats->unknown_records, <=, stats->records);
  /* bytes_skipped is not compared with the file size: inside a compressed
   * chunk it counts decompressed bytes */
}

/* Reads PATH to its end; returns how many records it had, or -1 when it
 * does not open. */
static gint64
read_all (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open (path, &error);
  guint64 n_records = 0, n_errors = 0;
  MsRecord record;

  if (reader == NULL)
    {
      g_assert_nonnull (error);
      return -1;
    }
  g_assert_null (error);

  const MsFileInfo *info = ms_reader_get_info (reader);
  g_assert_cmpuint (info->major, <=, MS_FORMAT_MAJOR);
  g_assert_cmpuint (info->major, >, 0);

  while (next_record (reader, &record, &n_errors))
    {
      n_records++;
      g_assert_cmpuint (record.file_offset, <, info->file_bytes);
    }
  check_stats (reader, n_records);
  return (gint64) n_records;
}

static gboolean
dir_has_only (const char *dir_path, const char *a, const char *b)
{
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    if (strcmp (name, a) != 0 && strcmp (name, b) != 0)
      return FALSE;
  return TRUE;
}

/* Compacts a copy of the input. A failure must leave the copy untouched and
 * no temporary file behind; a success must read back as the same records
 * (a compacted file keeps the records of a file a writer left open, up to
 * where they stop, so errors are stepped over on both sides). */
static void
check_compaction (const char *dir, const char *path, const uint8_t *data, size_t size)
{
  g_autofree char *copy = g_build_filename (dir, "copy.mst", NULL);
  g_autoptr (GError) error = NULL;

  write_file (copy, data, size);
  if (!ms_trace_compact_file (copy, 1, &error))
    {
      g_autofree char *contents = NULL;
      gsize length;

      g_assert_nonnull (error);
      g_assert_true (g_file_get_contents (copy, &contents, &length, NULL));
      g_assert_cmpuint (length, ==, size);
      g_assert_true (memcmp (contents, data, size) == 0);
      g_assert_true (dir_has_only (dir, "input.mst", "copy.mst"));
      g_unlink (copy);
      return;
    }
  g_assert_true (dir_has_only (dir, "input.mst", "copy.mst"));

  g_autoptr (MsReader) orig = ms_reader_open (path, NULL);
  g_autoptr (MsReader) compact = ms_reader_open (copy, &error);
  g_assert_nonnull (orig);
  g_assert_no_error (error);

  const MsFileInfo *oi = ms_reader_get_info (orig);
  const MsFileInfo *ci = ms_reader_get_info (compact);
  g_assert_cmpuint (ci->major, ==, oi->major);
  g_assert_cmpuint (ci->minor, ==, oi->minor);
  g_assert_cmpuint (ci->kind, ==, oi->kind);
  g_assert_cmpuint (ci->pid, ==, oi->pid);
  g_assert_cmpuint (ci->start_wall_ns, ==, oi->start_wall_ns);
  g_assert_cmpuint (ci->start_mono_ns, ==, oi->start_mono_ns);

  guint64 o_errors = 0, c_errors = 0, n = 0;
  for (;;)
    {
      MsRecord a, b;
      gboolean have_a = next_record (orig, &a, &o_errors);
      gboolean have_b = next_record (compact, &b, &c_errors);

      g_assert_cmpint (have_a, ==, have_b);
      if (!have_a)
        break;
      g_assert_true (records_equal (&a, &b));
      n++;
    }
  check_stats (orig, n);
  check_stats (compact, n);

  /* compaction packs and seals: no gaps, nothing left open, and no damage
   * that the original did not have */
  const MsReaderStats *os = ms_reader_get_stats (orig);
  const MsReaderStats *cs = ms_reader_get_stats (compact);
  g_assert_cmpuint (cs->missing_chunks, ==, 0);
  g_assert_cmpuint (cs->unsealed_chunks, ==, 0);
  g_assert_cmpuint (cs->damaged_chunks, <=, os->damaged_chunks);
  g_assert_cmpuint (cs->closed, ==, os->closed);
  g_unlink (copy);
}

static guint32
get32 (const uint8_t *p, gboolean swap)
{
  guint32 v;
  memcpy (&v, p, 4);
  return swap ? GUINT32_SWAP_LE_BE (v) : v;
}

static void
put32 (uint8_t *p, guint32 v, gboolean swap)
{
  if (swap)
    v = GUINT32_SWAP_LE_BE (v);
  memcpy (p, &v, 4);
}

/* Recomputes the header checksum and that of every sealed chunk reached by
 * following span_bytes. Returns FALSE when nothing changed. */
static gboolean
repair_checksums (uint8_t *data, size_t size)
{
  gboolean changed = FALSE;

  if (size < sizeof (MsFileHeader))
    return FALSE;

  MsFileHeader h;
  memcpy (&h, data, sizeof h);
  gboolean swap = h.byte_order == (G_BYTE_ORDER == G_LITTLE_ENDIAN ? MS_BYTE_ORDER_BIG : MS_BYTE_ORDER_LITTLE);
  guint32 crc = ms_crc32c (0, data, offsetof (MsFileHeader, header_crc));
  if (get32 (data + offsetof (MsFileHeader, header_crc), swap) != crc)
    {
      put32 (data + offsetof (MsFileHeader, header_crc), crc, swap);
      changed = TRUE;
    }

  guint16 header_bytes = swap ? GUINT16_SWAP_LE_BE (h.header_bytes) : h.header_bytes;
  size_t off = header_bytes;
  while (off + sizeof (MsChunkHeader) <= size)
    {
      uint8_t *c = data + off;
      guint32 span = get32 (c + offsetof (MsChunkHeader, span_bytes), swap);
      guint32 flags = get32 (c + offsetof (MsChunkHeader, flags), swap);
      guint32 stored = get32 (c + offsetof (MsChunkHeader, stored_bytes), swap);

      if (get32 (c, swap) != MS_CHUNK_MAGIC || span < sizeof (MsChunkHeader))
        break;
      if ((flags & MS_CHUNK_SEALED) && stored <= size - off - sizeof (MsChunkHeader))
        {
          crc = ms_crc32c (ms_crc32c (0, c + 8, 24), c + sizeof (MsChunkHeader), stored);
          if (get32 (c + offsetof (MsChunkHeader, crc), swap) != crc)
            {
              put32 (c + offsetof (MsChunkHeader, crc), crc, swap);
              changed = TRUE;
            }
        }
      off += span;
    }
  return changed;
}

static void
fuzz_file (const uint8_t *data, size_t size)
{
  const char *dir = get_work_dir ();
  g_autofree char *path = g_build_filename (dir, "input.mst", NULL);

  write_file (path, data, size);
  if (read_all (path) >= 0)
    check_compaction (dir, path, data, size);
  g_unlink (path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_decoder (data, size);
  fuzz_file (data, size);

  g_autofree uint8_t *repaired = g_memdup2 (data, size);
  if (repair_checksums (repaired, size))
    fuzz_file (repaired, size);
  return 0;
}
