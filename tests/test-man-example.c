/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The worked example of memscope-trace(5). The page's hexdump must be
 * exactly what MsWriter writes for EXAMPLE below; libmemscope's reader must
 * read it back as exactly those records; and the page's field-by-field
 * annotation must be what walk_file(), a decoder written from the page
 * alone (it uses nothing of lib/ but the public constants), prints for the
 * page's bytes. walk_file() is also checked against the library's reader on
 * a file holding every record kind, so the page's layouts are the real ones.
 *
 * "test-man-example --print" writes the two blocks that go between the
 * page's example-begin/-end and annotation-begin/-end markers. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>

#include "ms-crc32c.h"
#include "ms-error.h"
#include "ms-reader.h"
#include "ms-writer.h"

#define EX_START_MONO_NS 1000000000ull
#define EX_START_WALL_NS 1700000000000000000ull
#define EX_PID 4242
#define EX_TID 4242
#define T(dt) (EX_START_MONO_NS + (dt))
#define STR(s) { s, sizeof s - 1 }

/* What the page's example says the file holds: every value below is stated
 * in the page's annotation, so changing one means regenerating the page. */
static const MsRecord example[] = {
  { .kind = MS_RECORD_THREAD_START, .time_ns = T (1000), .u.thread = { .tid = EX_TID } },
  { .kind = MS_RECORD_THREAD_NAME, .time_ns = T (1000), .u.thread = { EX_TID, STR ("main") } },
  { .kind = MS_RECORD_STACK_NODE, .time_ns = T (1000), .u.stack_node = { 1, 0, 0x55d0c0a01234 } },
  { .kind = MS_RECORD_STACK_NODE, .time_ns = T (1000), .u.stack_node = { 2, 1, 0x55d0c0a0156b } },
  { .kind = MS_RECORD_ALLOC, .time_ns = T (2000),
    .u.event = { .addr = 0x55d0c1e442a0, .size = 32, .stack_id = 2, .weight = MS_WEIGHT_ONE } },
  { .kind = MS_RECORD_ALLOC, .time_ns = T (2400),
    .u.event = { .addr = 0x55d0c1e442d0, .size = 100, .stack_id = 2, .weight = MS_WEIGHT_ONE } },
  { .kind = MS_RECORD_FREE, .time_ns = T (3100), .u.event = { .addr = 0x55d0c1e442a0, .weight = MS_WEIGHT_ONE } },
  { .kind = MS_RECORD_ALLOC, .time_ns = T (3600),
    .u.event = { .addr = 0x55d0c1e45008, .size = 4000, .stack_id = 2, .weight = MS_WEIGHT_ONE } },
  { .kind = MS_RECORD_INFO, .time_ns = T (3600), .u.info = { STR ("example"), STR ("memscope-trace(5)") } },
  { .kind = MS_RECORD_FREQ, .time_ns = T (5000), .u.freq = { EX_TID, 0x55d0c0a0156b, 3, 4132 } },
  { .kind = MS_RECORD_THREAD_END, .time_ns = T (5000), .u.thread = { .tid = EX_TID } },
  { .kind = MS_RECORD_CLOSE, .time_ns = T (5000), .u.close = { 3, 1, 4132, 0, 0 } },
};

/* ---- writing ---- */

static void
write_records (const char *path, const MsRecord *records, gsize n, guint8 unknown_kind_after)
{
  MsWriter w;
  MsWriterOptions opt = {
    .kind = MS_FILE_KIND_THREAD,
    .pid = EX_PID,
    .chunk_bytes = MS_WRITER_MIN_CHUNK_BYTES,
    .start_mono_ns = EX_START_MONO_NS,
    .start_wall_ns = EX_START_WALL_NS,
  };

  g_unlink (path);
  g_assert_cmpint (ms_writer_create (&w, path, &opt), ==, 0);
  for (gsize i = 0; i < n; i++)
    {
      if (records[i].kind == MS_RECORD_CLOSE)
        g_assert_cmpint (ms_writer_add_final (&w, &records[i]), ==, 0);
      else
        g_assert_cmpint (ms_writer_add (&w, &records[i]), ==, 0);
      if (unknown_kind_after != 0 && i == 0)
        {
          /* what a later 1.x writer may add: dt = 7, then 3 bytes */
          static const guint8 body[] = { 4, 7, 0xaa, 0xbb, 0xcc };
          guint8 *rec = ms_writer_reserve (&w, 16);
          g_assert_nonnull (rec);
          memcpy (rec + 1, body, sizeof body);
          ms_writer_commit (&w, rec, sizeof body, unknown_kind_after);
          w.state.prev_time_ns += 7;
        }
    }
  g_assert_cmpint (ms_writer_close (&w), ==, 0);
}

static GBytes *
example_file_bytes (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "example.mst", NULL);
  char *contents;
  gsize size;

  write_records (path, example, G_N_ELEMENTS (example), 0);
  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  g_unlink (path);
  return g_bytes_new_take (contents, size);
}

/* ---- a decoder written from memscope-trace(5) alone ---- */

/* CRC-32C exactly as the page defines it, bit by bit. */
static guint32
page_crc32c (guint32 crc, const guint8 *p, gsize len)
{
  crc = ~crc;
  while (len--)
    {
      crc ^= *p++;
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1u));
    }
  return ~crc;
}

typedef enum
{
  F_UINT,
  F_HEX,
  F_ADDR,
  F_STRING,
  F_BLOB,
  F_VALUES,
} FieldKind;

typedef struct
{
  const char *name;
  FieldKind kind;
} FieldSpec;

typedef struct
{
  guint8 tag;
  const char *name;
  FieldSpec fields[6];
} KindSpec;

/* The record table of the page: fields after dt, in order. */
static const KindSpec kind_specs[] = {
  { 0x01, "ALLOC", { { "size", F_UINT }, { "addr", F_ADDR }, { "stack", F_UINT } } },
  { 0x02, "FREE", { { "addr", F_ADDR } } },
  { 0x03, "REALLOC", { { "size", F_UINT }, { "old_addr", F_ADDR }, { "addr", F_ADDR }, { "stack", F_UINT } } },
  { 0x04, "ALLOC_SAMPLED", { { "size", F_UINT }, { "addr", F_ADDR }, { "stack", F_UINT }, { "weight", F_UINT } } },
  { 0x05, "REALLOC_SAMPLED",
    { { "size", F_UINT }, { "old_addr", F_ADDR }, { "addr", F_ADDR }, { "stack", F_UINT }, { "weight", F_UINT } } },
  { 0x06, "MMAP", { { "size", F_UINT }, { "addr", F_ADDR }, { "stack", F_UINT }, { "weight", F_UINT } } },
  { 0x07, "MUNMAP", { { "size", F_UINT }, { "addr", F_ADDR } } },
  { 0x10, "STACK_NODE", { { "id", F_UINT }, { "parent", F_UINT }, { "ip", F_HEX } } },
  { 0x11, "THREAD_START", { { "tid", F_UINT } } },
  { 0x12, "THREAD_NAME", { { "tid", F_UINT }, { "name", F_STRING } } },
  { 0x13, "THREAD_END", { { "tid", F_UINT } } },
  { 0x14, "MODULE_LOAD",
    { { "start", F_HEX }, { "size", F_UINT }, { "bias", F_HEX }, { "build_id", F_BLOB }, { "path", F_STRING } } },
  { 0x15, "MODULE_UNLOAD", { { "start", F_HEX } } },
  { 0x16, "LOST", { { "events", F_UINT }, { "reason", F_UINT } } },
  { 0x17, "FREQ", { { "tid", F_UINT }, { "ip", F_HEX }, { "count", F_UINT }, { "bytes", F_UINT } } },
  { 0x18, "INFO", { { "key", F_STRING }, { "value", F_STRING } } },
  { 0x19, "RESOURCE", { { "scope", F_UINT }, { "id", F_UINT }, { "n", F_VALUES } } },
  { 0x1a, "LABEL", { { "addr", F_HEX }, { "size", F_UINT }, { "name", F_STRING }, { "type", F_STRING } } },
  { 0x1b, "CLOSE",
    { { "allocs", F_UINT }, { "frees", F_UINT }, { "bytes_allocated", F_UINT }, { "bytes_freed", F_UINT },
      { "lost", F_UINT } } },
};

static const KindSpec *
find_kind (guint8 tag)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kind_specs); i++)
    if (kind_specs[i].tag == tag)
      return &kind_specs[i];
  return NULL;
}

typedef struct
{
  const guint8 *data;
  gsize size;
  gsize pos;
  GString *notes;    /* the annotation, as groff source lines */
  GPtrArray *decoded; /* one line of text per record: describe_record()'s format */
  guint time_shift;  /* the header's: dt counts 2^time_shift ns */
} Walk;

/* Writes the groff source of one annotation line: offset, up to 8 bytes,
 * description. Longer fields continue on lines without a description. */
static void
note (Walk *w, gsize len, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
note (Walk *w, gsize len, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *what = NULL;

  g_assert_cmpuint (w->pos + len, <=, w->size);
  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);

  for (gsize done = 0; done < len || (len == 0 && done == 0); done += 8)
    {
      GString *hex = g_string_new (NULL);
      for (gsize i = done; i < len && i < done + 8; i++)
        g_string_append_printf (hex, i > done ? " %02x" : "%02x", w->data[w->pos + i]);
      g_string_append_printf (w->notes, "%03zx  %-23s  ", w->pos + done, hex->str);
      if (done == 0)
        for (const char *c = what; *c; c++)
          {
            /* groff: a backslash is \e, a minus sign \- */
            if (*c == '\\')
              g_string_append (w->notes, "\\e");
            else if (*c == '-')
              g_string_append (w->notes, "\\-");
            else
              g_string_append_c (w->notes, *c);
          }
      while (w->notes->len > 0 && w->notes->str[w->notes->len - 1] == ' ')
        g_string_truncate (w->notes, w->notes->len - 1);
      g_string_append_c (w->notes, '\n');
      g_string_free (hex, TRUE);
      if (len == 0)
        break;
    }
  w->pos += len;
}

static guint64
le (const guint8 *p, gsize n)
{
  guint64 v = 0;
  for (gsize i = n; i-- > 0;)
    v = (v << 8) | p[i];
  return v;
}

/* LEB128 at *POS in [.., end): the value and its length. */
static guint64
varint (const guint8 *data, gsize end, gsize pos, gsize *out_len)
{
  guint64 v = 0;
  gsize n = 0;

  for (;;)
    {
      g_assert_cmpuint (pos + n, <, end);
      g_assert_cmpuint (n, <, 10);
      guint8 b = data[pos + n];
      v |= (guint64) (b & 0x7f) << (7 * n);
      n++;
      if (!(b & 0x80))
        break;
    }
  *out_len = n;
  return v;
}

static gint64
unzigzag (guint64 v)
{
  return (gint64) (v >> 1) ^ -(gint64) (v & 1);
}

static void
append_string (GString *s, const guint8 *p, gsize len)
{
  g_string_append_c (s, '"');
  for (gsize i = 0; i < len; i++)
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
      g_string_append_c (s, (char) p[i]);
    else
      g_string_append_printf (s, "\\x%02x", p[i]);
  g_string_append_c (s, '"');
}

static const char *
kind_name (guint32 kind)
{
  static const char *const names[] = { "?", "PROCESS", "THREAD", "RESOURCES" };
  return kind < G_N_ELEMENTS (names) ? names[kind] : "?";
}

static void
walk_file_header (Walk *w)
{
  const guint8 *h = w->data;

  g_assert_cmpuint (w->size, >=, 64);
  g_assert_cmpmem (h, 8, "\x89MST\r\n\x1a\n", 8);
  g_assert_cmpuint (h[12], ==, 1); /* this walker reads little-endian files */
  note (w, 8, "magic");
  note (w, 2, "major = %u", (guint) le (h + 8, 2));
  note (w, 2, "minor = %u", (guint) le (h + 10, 2));
  note (w, 1, "byte_order = 1 (little-endian)");
  note (w, 1, "pointer_bytes = %u", h[13]);
  note (w, 2, "header_bytes = %u", (guint) le (h + 14, 2));
  note (w, 4, "file_kind = %u (%s)", (guint) le (h + 16, 4), kind_name ((guint32) le (h + 16, 4)));
  note (w, 4, "pid = %u", (guint) le (h + 20, 4));
  note (w, 8, "start_wall_ns = %" G_GUINT64_FORMAT, le (h + 24, 8));
  note (w, 8, "start_mono_ns = %" G_GUINT64_FORMAT, le (h + 32, 8));
  w->time_shift = h[40];
  g_assert_cmpuint (w->time_shift, <=, 20);
  note (w, 1, "time_shift = %u: dt counts %u ns", w->time_shift, 1u << w->time_shift);
  g_assert_cmpuint (le (h + 41, 3), ==, 0);
  note (w, 3, "reserved: 3 zero bytes");
  g_assert_cmpuint (le (h + 44, 8) | le (h + 52, 8), ==, 0);
  note (w, 16, "reserved: 16 zero bytes");
  g_assert_cmpuint (le (h + 60, 4), ==, page_crc32c (0, h, 60));
  note (w, 4, "header_crc = 0x%08x (of 000-03b)", (guint) le (h + 60, 4));
  g_assert_cmpuint (le (h + 14, 2), ==, w->pos);
}

typedef struct
{
  guint64 time;      /* absolute, ns */
  guint64 base;      /* the chunk's base_time_ns */
  guint64 prev_addr; /* the address code's reference */
} WalkState;

static void
walk_addr (Walk *w, gsize end, WalkState *st, const char *name, GString *rec)
{
  gsize n;
  guint64 code = varint (w->data, end, w->pos, &n);
  guint64 addr;

  if (code == 1)
    {
      note (w, n, "%s: code 1, an absolute address follows", name);
      addr = varint (w->data, end, w->pos, &n);
      note (w, n, "%s = 0x%" G_GINT64_MODIFIER "x", name, addr);
    }
  else
    {
      g_assert_cmpuint (code & 1, ==, 0);
      gint64 delta = unzigzag (code >> 1) * 16;
      addr = st->prev_addr + (guint64) delta;
      note (w, n, "%s: %c0x%" G_GINT64_MODIFIER "x = 0x%" G_GINT64_MODIFIER "x", name, delta < 0 ? '-' : '+',
            delta < 0 ? -(guint64) delta : (guint64) delta, addr);
    }
  st->prev_addr = addr;
  g_string_append_printf (rec, " %s=0x%" G_GINT64_MODIFIER "x", name, addr);
}

/* One record's fields after dt, up to END (the end of a sized record's
 * payload or of the chunk's payload for a hot record). */
static void
walk_fields (Walk *w, gsize end, WalkState *st, const KindSpec *spec, GString *rec)
{
  for (const FieldSpec *f = spec->fields; f < spec->fields + G_N_ELEMENTS (spec->fields) && f->name; f++)
    {
      gsize n;
      guint64 v;

      switch (f->kind)
        {
        case F_ADDR:
          walk_addr (w, end, st, f->name, rec);
          break;
        case F_UINT:
          v = varint (w->data, end, w->pos, &n);
          note (w, n, "%s = %" G_GUINT64_FORMAT, f->name, v);
          g_string_append_printf (rec, " %s=%" G_GUINT64_FORMAT, f->name, v);
          break;
        case F_HEX:
          v = varint (w->data, end, w->pos, &n);
          note (w, n, "%s = 0x%" G_GINT64_MODIFIER "x", f->name, v);
          g_string_append_printf (rec, " %s=0x%" G_GINT64_MODIFIER "x", f->name, v);
          break;
        case F_STRING:
        case F_BLOB:
          {
            v = varint (w->data, end, w->pos, &n);
            note (w, n, "%s: %" G_GUINT64_FORMAT " bytes follow", f->name, v);
            g_assert_cmpuint (w->pos + v, <=, end);
            g_autoptr (GString) text = g_string_new (NULL);
            if (f->kind == F_STRING)
              append_string (text, w->data + w->pos, v);
            else
              for (gsize i = 0; i < v; i++)
                g_string_append_printf (text, "%02x", w->data[w->pos + i]);
            g_string_append_printf (rec, " %s=%s", f->name, text->str);
            if (v > 0)
              note (w, v, "%s = %s", f->name, text->str);
          }
          break;
        case F_VALUES:
          v = varint (w->data, end, w->pos, &n);
          note (w, n, "n = %" G_GUINT64_FORMAT " values follow", v);
          g_string_append (rec, " values=");
          for (guint64 i = 0; i < v; i++)
            {
              guint64 value = varint (w->data, end, w->pos, &n);
              note (w, n, "value[%" G_GUINT64_FORMAT "] = %" G_GUINT64_FORMAT, i, value);
              g_string_append_printf (rec, i ? ",%" G_GUINT64_FORMAT : "%" G_GUINT64_FORMAT, value);
            }
          break;
        }
    }
}

static void
walk_dt (Walk *w, gsize end, WalkState *st, GString *rec)
{
  gsize n;
  guint64 dt = varint (w->data, end, w->pos, &n);

  st->time += dt << w->time_shift;
  note (w, n, "dt = %" G_GUINT64_FORMAT "%s: t = base + %" G_GUINT64_FORMAT, dt, w->time_shift ? " units" : " ns",
        st->time - st->base);
  g_string_append_printf (rec, " t=%" G_GUINT64_FORMAT, st->time);
}

static void
walk_record (Walk *w, gsize payload_end, WalkState *st)
{
  guint8 tag = w->data[w->pos];
  const KindSpec *spec = find_kind (tag);
  g_autoptr (GString) rec = g_string_new (NULL);

  g_assert_cmpuint (tag, !=, 0);
  if (tag < 0x10)
    {
      g_assert_nonnull (spec);
      g_string_append (rec, spec->name);
      note (w, 1, "tag 0x%02x: %s (hot: no length)", tag, spec->name);
      walk_dt (w, payload_end, st, rec);
      walk_fields (w, payload_end, st, spec, rec);
    }
  else
    {
      gsize n;
      note (w, 1, "tag 0x%02x: %s", tag, spec ? spec->name : "unknown kind");
      guint64 len = varint (w->data, payload_end, w->pos, &n);
      if (len > 0)
        note (w, n, "length = %" G_GUINT64_FORMAT ": bytes %03zx-%03zx", len, w->pos + n, w->pos + n + (gsize) len - 1);
      else
        note (w, n, "length = 0");
      gsize end = w->pos + len;
      g_assert_cmpuint (end, <=, payload_end);
      if (spec)
        g_string_append (rec, spec->name);
      else
        g_string_append_printf (rec, "UNKNOWN(0x%02x)", tag);
      if (len > 0)
        walk_dt (w, end, st, rec);
      if (spec)
        walk_fields (w, end, st, spec, rec);
      if (w->pos < end)
        note (w, end - w->pos, "%s", spec ? "fields of a later minor version: skipped" : "skipped by its length");
      g_assert_cmpuint (w->pos, ==, end);
    }
  g_ptr_array_add (w->decoded, g_strdup (rec->str));
}

static void
walk_chunk (Walk *w)
{
  const guint8 *c = w->data + w->pos;
  gsize at = w->pos;

  g_assert_cmpuint (w->pos + 40, <=, w->size);
  g_assert_cmpuint (le (c, 4), ==, 0x4b43534du);
  guint32 flags = (guint32) le (c + 4, 4);
  guint32 span = (guint32) le (c + 12, 4);
  guint32 stored = (guint32) le (c + 16, 4);
  WalkState st = { .time = le (c + 24, 8), .base = le (c + 24, 8) };

  /* a raw, sealed chunk: what MsWriter leaves after closing */
  g_assert_cmpuint (flags, ==, 1);
  g_assert_cmpuint (le (c + 20, 4), ==, stored);
  g_assert_cmpuint (at + span, <=, w->size);
  g_assert_cmpuint (40 + stored, <=, span);
  g_assert_cmpuint (le (c + 32, 4), ==, page_crc32c (page_crc32c (0, c + 8, 24), c + 40, stored));
  note (w, 4, "chunk magic \"MSCK\"");
  note (w, 4, "flags = 1 (SEALED)");
  note (w, 4, "seq = %u", (guint) le (c + 8, 4));
  note (w, 4, "span_bytes = %u: next chunk at %03zx", span, at + span);
  note (w, 4, "stored_bytes = %u", stored);
  note (w, 4, "raw_bytes = %u", (guint) le (c + 20, 4));
  note (w, 8, "base_time_ns = %" G_GUINT64_FORMAT, st.base);
  note (w, 4, "crc = 0x%08x (of %03zx-%03zx, payload)", (guint) le (c + 32, 4), at + 8, at + 31);
  note (w, 4, "reserved = 0");

  gsize payload_end = w->pos + stored;
  while (w->pos < payload_end)
    walk_record (w, payload_end, &st);
  if (w->pos < at + span)
    note (w, at + span - w->pos, "padding up to span_bytes: not read");
}

static void
walk_file (Walk *w)
{
  walk_file_header (w);
  while (w->pos < w->size)
    walk_chunk (w);
}

/* ---- what the library's reader says ---- */

static const char *
record_kind_name (MsRecordKind kind)
{
  const KindSpec *spec = find_kind ((guint8) kind);
  return spec ? spec->name : NULL;
}

static void
append_bytes (GString *s, const char *name, MsBytes b, gboolean blob)
{
  g_string_append_printf (s, " %s=", name);
  if (blob)
    for (guint32 i = 0; i < b.len; i++)
      g_string_append_printf (s, "%02x", (guint8) b.data[i]);
  else
    append_string (s, (const guint8 *) b.data, b.len);
}

/* A record as one line, in walk_record()'s words. */
static char *
describe_record (const MsRecord *r)
{
  GString *s = g_string_new (record_kind_name (r->kind));

  if (s->len == 0)
    g_string_append_printf (s, "UNKNOWN(0x%02x)", (guint) r->kind);
  g_string_append_printf (s, " t=%" G_GUINT64_FORMAT, r->time_ns);

#define U(name, v) g_string_append_printf (s, " " name "=%" G_GUINT64_FORMAT, (guint64) (v))
#define H(name, v) g_string_append_printf (s, " " name "=0x%" G_GINT64_MODIFIER "x", (guint64) (v))
  switch (r->kind)
    {
    case MS_RECORD_ALLOC:
    case MS_RECORD_ALLOC_SAMPLED:
    case MS_RECORD_MMAP:
      U ("size", r->u.event.size), H ("addr", r->u.event.addr), U ("stack", r->u.event.stack_id);
      if (r->kind != MS_RECORD_ALLOC)
        U ("weight", r->u.event.weight);
      else
        g_assert_cmpuint (r->u.event.weight, ==, MS_WEIGHT_ONE);
      break;
    case MS_RECORD_REALLOC:
    case MS_RECORD_REALLOC_SAMPLED:
      U ("size", r->u.event.size), H ("old_addr", r->u.event.old_addr), H ("addr", r->u.event.addr);
      U ("stack", r->u.event.stack_id);
      if (r->kind == MS_RECORD_REALLOC_SAMPLED)
        U ("weight", r->u.event.weight);
      break;
    case MS_RECORD_FREE:
      H ("addr", r->u.event.addr);
      break;
    case MS_RECORD_MUNMAP:
      U ("size", r->u.event.size), H ("addr", r->u.event.addr);
      break;
    case MS_RECORD_STACK_NODE:
      U ("id", r->u.stack_node.id), U ("parent", r->u.stack_node.parent), H ("ip", r->u.stack_node.ip);
      break;
    case MS_RECORD_THREAD_START:
    case MS_RECORD_THREAD_END:
      U ("tid", r->u.thread.tid);
      break;
    case MS_RECORD_THREAD_NAME:
      U ("tid", r->u.thread.tid), append_bytes (s, "name", r->u.thread.name, FALSE);
      break;
    case MS_RECORD_MODULE_LOAD:
      H ("start", r->u.module.start), U ("size", r->u.module.size), H ("bias", r->u.module.bias);
      append_bytes (s, "build_id", r->u.module.build_id, TRUE);
      append_bytes (s, "path", r->u.module.path, FALSE);
      break;
    case MS_RECORD_MODULE_UNLOAD:
      H ("start", r->u.module.start);
      break;
    case MS_RECORD_LOST:
      U ("events", r->u.lost.events), U ("reason", r->u.lost.reason);
      break;
    case MS_RECORD_FREQ:
      U ("tid", r->u.freq.tid), H ("ip", r->u.freq.ip), U ("count", r->u.freq.count), U ("bytes", r->u.freq.bytes);
      break;
    case MS_RECORD_INFO:
      append_bytes (s, "key", r->u.info.key, FALSE), append_bytes (s, "value", r->u.info.value, FALSE);
      break;
    case MS_RECORD_RESOURCE:
      U ("scope", r->u.resource.scope), U ("id", r->u.resource.id);
      g_string_append (s, " values=");
      for (guint32 i = 0; i < r->u.resource.n_values; i++)
        g_string_append_printf (s, i ? ",%" G_GUINT64_FORMAT : "%" G_GUINT64_FORMAT, r->u.resource.values[i]);
      break;
    case MS_RECORD_LABEL:
      H ("addr", r->u.label.addr), U ("size", r->u.label.size);
      append_bytes (s, "name", r->u.label.name, FALSE), append_bytes (s, "type", r->u.label.type, FALSE);
      break;
    case MS_RECORD_CLOSE:
      U ("allocs", r->u.close.allocs), U ("frees", r->u.close.frees);
      U ("bytes_allocated", r->u.close.bytes_allocated), U ("bytes_freed", r->u.close.bytes_freed);
      U ("lost", r->u.close.lost);
      break;
    default:
      break;
    }
#undef U
#undef H
  return g_string_free (s, FALSE);
}

/* Reads PATH with libmemscope: one describe_record() line per record. The
 * file must read cleanly to its CLOSE. */
static GPtrArray *
read_with_library (const char *path, MsFileInfo *out_info, MsReaderStats *out_stats)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open (path, &error);
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  MsRecord r;

  g_assert_no_error (error);
  while (ms_reader_next (reader, &r, &error))
    g_ptr_array_add (lines, describe_record (&r));
  g_assert_no_error (error);
  *out_info = *ms_reader_get_info (reader);
  *out_stats = *ms_reader_get_stats (reader);
  return lines;
}

static void
assert_lines_equal (GPtrArray *got, const char *const *want, guint n_want)
{
  for (guint i = 0; i < got->len && i < n_want; i++)
    g_assert_cmpstr (g_ptr_array_index (got, i), ==, want[i]);
  g_assert_cmpuint (got->len, ==, n_want);
}

/* ---- the page ---- */

static char *
page_path (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "man", "memscope-trace.5", NULL);
}

/* The source lines between ".\" NAME-begin" and ".\" NAME-end" that are
 * not requests. */
static GPtrArray *
page_block (const char *name)
{
  g_autofree char *path = page_path ();
  g_autofree char *text = NULL;
  g_autofree char *begin = g_strdup_printf (".\\\" %s-begin", name);
  g_autofree char *end = g_strdup_printf (".\\\" %s-end", name);
  g_autoptr (GError) error = NULL;
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  gboolean inside = FALSE, seen_end = FALSE;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  g_auto (GStrv) all = g_strsplit (text, "\n", -1);
  for (char **l = all; *l; l++)
    {
      if (g_str_equal (*l, begin))
        {
          g_assert_false (inside);
          inside = TRUE;
        }
      else if (g_str_equal (*l, end))
        {
          g_assert_true (inside);
          inside = FALSE;
          seen_end = TRUE;
        }
      else if (inside && (*l)[0] != '.')
        g_ptr_array_add (lines, g_strdup (*l));
    }
  if (!seen_end)
    g_error ("%s has no “%s” … “%s” block", path, begin, end);
  return lines;
}

/* The page's hexdump ("OFFSET  XX XX ..." lines, offsets checked) as bytes. */
static GBytes *
page_hexdump (void)
{
  g_autoptr (GPtrArray) lines = page_block ("example");
  GByteArray *bytes = g_byte_array_new ();

  for (guint i = 0; i < lines->len; i++)
    {
      g_auto (GStrv) tokens = g_strsplit_set (g_ptr_array_index (lines, i), " ", -1);
      gboolean first = TRUE;
      for (char **t = tokens; *t; t++)
        {
          char *rest;
          if (**t == '\0')
            continue;
          guint64 v = g_ascii_strtoull (*t, &rest, 16);
          g_assert_true (*rest == '\0');
          if (first)
            g_assert_cmpuint (v, ==, bytes->len);
          else
            {
              g_assert_cmpuint (strlen (*t), ==, 2);
              guint8 b = (guint8) v;
              g_byte_array_append (bytes, &b, 1);
            }
          first = FALSE;
        }
    }
  return g_byte_array_free_to_bytes (bytes);
}

static char *
format_hexdump (GBytes *bytes)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  GString *s = g_string_new (NULL);

  for (gsize at = 0; at < size; at += 16)
    {
      g_string_append_printf (s, "%08zx ", at);
      for (gsize i = at; i < size && i < at + 16; i++)
        g_string_append_printf (s, i == at + 8 ? "  %02x" : " %02x", data[i]);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

static void
walk_bytes (GBytes *bytes, Walk *w)
{
  w->data = g_bytes_get_data (bytes, &w->size);
  w->pos = 0;
  w->notes = g_string_new (NULL);
  w->decoded = g_ptr_array_new_with_free_func (g_free);
  walk_file (w);
}

static void
walk_clear (Walk *w)
{
  g_string_free (w->notes, TRUE);
  g_ptr_array_unref (w->decoded);
}

/* ---- tests ---- */

/* The page shows what the writer really writes for EXAMPLE. */
static void
test_page_is_writer_output (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-man-example-XXXXXX", NULL);
  g_autoptr (GBytes) written = example_file_bytes (dir);
  g_autoptr (GBytes) page = page_hexdump ();

  g_rmdir (dir);
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN || sizeof (void *) != 8)
    {
      g_test_skip ("the example was written on a 64-bit little-endian machine");
      return;
    }
  if (!g_bytes_equal (written, page))
    {
      g_autofree char *dump = format_hexdump (written);
      g_test_message ("the writer now writes:\n%s", dump);
      g_test_fail_printf ("the page's hexdump is not what MsWriter writes for the example: "
                          "regenerate it with “test-man-example --print”");
    }
}

/* The page's hexdump means what the page says. */
static void
test_page_reads_back (void)
{
  g_autoptr (GBytes) page = page_hexdump ();
  g_autofree char *dir = g_dir_make_tmp ("ms-man-example-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "page.mst", NULL);
  g_autoptr (GError) error = NULL;
  MsFileInfo info;
  MsReaderStats stats;
  const char *want[G_N_ELEMENTS (example)];
  char *strings[G_N_ELEMENTS (example)];

  g_file_set_contents (path, g_bytes_get_data (page, NULL), (gssize) g_bytes_get_size (page), &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) got = read_with_library (path, &info, &stats);
  g_unlink (path);
  g_rmdir (dir);

  /* the header, as the annotation states it */
  g_assert_cmpuint (g_bytes_get_size (page), ==, 240); /* "a complete THREAD file of 240 bytes" */
  g_assert_cmpuint (info.major, ==, 1);
  g_assert_cmpuint (info.minor, ==, 0);
  g_assert_cmpint (info.kind, ==, MS_FILE_KIND_THREAD);
  g_assert_cmpuint (info.pid, ==, EX_PID);
  g_assert_cmpuint (info.pointer_bytes, ==, 8);
  g_assert_cmpuint (info.start_wall_ns, ==, EX_START_WALL_NS);
  g_assert_cmpuint (info.start_mono_ns, ==, EX_START_MONO_NS);

  for (gsize i = 0; i < G_N_ELEMENTS (example); i++)
    want[i] = strings[i] = describe_record (&example[i]);
  assert_lines_equal (got, want, G_N_ELEMENTS (want));

  /* one whole sealed chunk, nothing skipped, complete */
  g_assert_cmpuint (stats.records, ==, G_N_ELEMENTS (example));
  g_assert_cmpuint (stats.chunks, ==, 1);
  g_assert_cmpuint (stats.unsealed_chunks + stats.damaged_chunks + stats.missing_chunks, ==, 0);
  g_assert_cmpuint (stats.unknown_records + stats.bytes_skipped, ==, 0);
  g_assert_true (stats.closed);
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    g_free (strings[i]);
}

/* The annotation in the page is what walk_file() says about the page's
 * bytes, and walk_file() decodes them to EXAMPLE. */
static void
test_page_annotation (void)
{
  g_autoptr (GBytes) page = page_hexdump ();
  g_autoptr (GPtrArray) lines = page_block ("annotation");
  Walk w;

  walk_bytes (page, &w);
  g_auto (GStrv) want = g_strsplit (w.notes->str, "\n", -1);
  for (guint i = 0; i < lines->len; i++)
    {
      if (want[i] == NULL || !g_str_equal (g_ptr_array_index (lines, i), want[i]))
        g_test_fail_printf ("annotation line %u of the page reads “%s”, the bytes say “%s”: regenerate it with "
                            "“test-man-example --print”",
                            i + 1, (const char *) g_ptr_array_index (lines, i), want[i] ? want[i] : "(nothing)");
    }
  g_assert_cmpuint (lines->len, ==, g_strv_length (want) - 1);

  g_assert_cmpuint (w.decoded->len, ==, G_N_ELEMENTS (example));
  for (gsize i = 0; i < G_N_ELEMENTS (example); i++)
    {
      g_autofree char *expect = describe_record (&example[i]);
      g_assert_cmpstr (g_ptr_array_index (w.decoded, i), ==, expect);
    }
  walk_clear (&w);
}

/* The page's CRC-32C definition, and its check value, are libmemscope's. */
static void
test_crc_definition (void)
{
  g_assert_cmpuint (page_crc32c (0, (const guint8 *) "123456789", 9), ==, 0xe3069283u);
  g_assert_cmpuint (ms_crc32c (0, "123456789", 9), ==, 0xe3069283u);
  g_assert_cmpuint (ms_crc32c (ms_crc32c (0, "1234", 4), "56789", 5), ==, 0xe3069283u);
}

/* Every record kind, laid out as the page says, is what libmemscope
 * writes and reads: walk_file() and the library agree record by record,
 * including a kind of a later minor version skipped by its length. */
static void
test_every_kind (void)
{
  static const char build_id[] = "\x3d\x51\x00\xfe\x07\x12\x9a\x88";
  const MsRecord records[] = {
    { .kind = MS_RECORD_ALLOC, .time_ns = T (10), .u.event = { .addr = 0x7f0000001000, .size = 1, .stack_id = 9 } },
    { .kind = MS_RECORD_REALLOC, .time_ns = T (20),
      .u.event = { .addr = 0x7f0000002000, .old_addr = 0x7f0000001000, .size = 70000, .stack_id = 3 } },
    { .kind = MS_RECORD_REALLOC, .time_ns = T (20), .u.event = { .addr = 0x7f0000000ff8, .size = 5, .stack_id = 3 } },
    { .kind = MS_RECORD_ALLOC_SAMPLED, .time_ns = T (31),
      .u.event = { .addr = 0x10, .size = 900, .stack_id = 1, .weight = 100 * MS_WEIGHT_ONE } },
    { .kind = MS_RECORD_REALLOC_SAMPLED, .time_ns = T (400),
      .u.event = { .addr = 0x20, .old_addr = 0x10, .size = 2000, .stack_id = 1, .weight = 10 * MS_WEIGHT_ONE } },
    { .kind = MS_RECORD_MMAP, .time_ns = T (401),
      .u.event = { .addr = 0x7f1234560000, .size = 1 << 20, .stack_id = 4, .weight = MS_WEIGHT_ONE } },
    { .kind = MS_RECORD_MUNMAP, .time_ns = T (402), .u.event = { .addr = 0x7f1234570000, .size = 4096 } },
    { .kind = MS_RECORD_FREE, .time_ns = T (402), .u.event = { .addr = 0 } },
    { .kind = MS_RECORD_STACK_NODE, .time_ns = T (500), .u.stack_node = { 300, 299, 0xffffffffff600000 } },
    { .kind = MS_RECORD_THREAD_START, .time_ns = T (501), .u.thread = { .tid = 77 } },
    { .kind = MS_RECORD_THREAD_NAME, .time_ns = T (501), .u.thread = { 77, { "", 0 } } },
    { .kind = MS_RECORD_THREAD_NAME, .time_ns = T (502), .u.thread = { 77, STR ("worker\\\"1") } },
    { .kind = MS_RECORD_MODULE_LOAD, .time_ns = T (600),
      .u.module = { 0x7f00aa000000, 0x21000, 0x7f00aa000000, { build_id, 8 }, STR ("/usr/lib/libz.so.1") } },
    { .kind = MS_RECORD_MODULE_UNLOAD, .time_ns = T (601), .u.module = { .start = 0x7f00aa000000 } },
    { .kind = MS_RECORD_LOST, .time_ns = T (700), .u.lost = { 12, MS_LOST_REASON_NO_SPACE } },
    { .kind = MS_RECORD_RESOURCE, .time_ns = T (800),
      .u.resource = { MS_RESOURCE_GPU, 0, 3, { 55, 1ull << 33, 1ull << 34 } } },
    { .kind = MS_RECORD_RESOURCE, .time_ns = T (800), .u.resource = { MS_RESOURCE_SYSTEM, 0, 0, { 0 } } },
    { .kind = MS_RECORD_LABEL, .time_ns = T (900),
      .u.label = { 0x7f0000002000, 70000, STR ("table"), STR ("struct entry[]") } },
    { .kind = MS_RECORD_INFO, .time_ns = T (901), .u.info = { STR ("cmdline"), { "ls\0-l\0/", 8 } } },
    { .kind = MS_RECORD_CLOSE, .time_ns = T (1000), .u.close = { 5, 4, 3, 2, 1 } },
  };
  g_autofree char *dir = g_dir_make_tmp ("ms-man-example-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "kinds.mst", NULL);
  g_autofree char *contents = NULL;
  gsize size;
  MsFileInfo info;
  MsReaderStats stats;
  Walk w;

  write_records (path, records, G_N_ELEMENTS (records), 0x7e);
  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  g_autoptr (GPtrArray) got = read_with_library (path, &info, &stats);
  g_unlink (path);
  g_rmdir (dir);
  g_assert_cmpuint (stats.unknown_records, ==, 1);
  g_assert_true (stats.closed);

  g_autoptr (GBytes) bytes = g_bytes_new_static (contents, size);
  walk_bytes (bytes, &w);
  assert_lines_equal (got, (const char *const *) w.decoded->pdata, w.decoded->len);
  g_assert_cmpstr (g_ptr_array_index (got, 1), ==, "UNKNOWN(0x7e) t=1000000017");
  walk_clear (&w);
}

/* Runs ARGV; returns its stdout, or NULL (test skipped) when the program
 * is not installed. Its stderr must be empty and its status 0. */
static char *
run_tool (const char *const *argv)
{
  g_autofree char *found = g_find_program_in_path (argv[0]);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (found == NULL)
    {
      g_test_skip_printf ("%s is not installed", argv[0]);
      return NULL;
    }
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (err, ==, "");
  g_spawn_check_wait_status (status, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&out);
}

/* groff finds nothing to warn about, and man-db's lexgrog finds the NAME
 * line that whatis and apropos index. */
static void
test_page_lints_clean (void)
{
  g_autofree char *path = page_path ();
  const char *const groff[] = { "groff", "-ww", "-z", "-man", path, NULL };
  const char *const lexgrog[] = { "lexgrog", path, NULL };
  g_autofree char *out = NULL;

  g_free (run_tool (groff));
  out = run_tool (lexgrog);
  if (out != NULL)
    g_assert_nonnull (strstr (out, "\"memscope-trace - "));
}

/* Prints the two blocks of the page, markers included. */
static int
print_page_blocks (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ms-man-example-XXXXXX", NULL);
  g_autoptr (GBytes) bytes = example_file_bytes (dir);
  g_autofree char *dump = format_hexdump (bytes);
  Walk w;

  g_rmdir (dir);
  walk_bytes (bytes, &w);
  g_print (".\\\" example-begin\n.EX\n%s.EE\n.\\\" example-end\n", dump);
  g_print (".\\\" annotation-begin\n.EX\n%s.EE\n.\\\" annotation-end\n", w.notes->str);
  walk_clear (&w);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 2 && g_str_equal (argv[1], "--print"))
    return print_page_blocks ();

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/memscope/man-example/crc-definition", test_crc_definition);
  g_test_add_func ("/memscope/man-example/every-kind", test_every_kind);
  g_test_add_func ("/memscope/man-example/page-is-writer-output", test_page_is_writer_output);
  g_test_add_func ("/memscope/man-example/page-reads-back", test_page_reads_back);
  g_test_add_func ("/memscope/man-example/page-annotation", test_page_annotation);
  g_test_add_func ("/memscope/man-example/page-lints-clean", test_page_lints_clean);
  return g_test_run ();
}
