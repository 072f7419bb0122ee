/* SPDX-License-Identifier: LGPL-2.1-or-later
 * ms-trace-stats DIR [--min-size N] [--max-size N]: an independent, simple
 * oracle for the end-to-end tests of the shim. It merges the thread files
 * of one process directory by time and prints key=value totals for the
 * allocations whose size is in [min, max], plus leaked stacks and
 * per-call-site estimates as module+offset frames for the test to resolve.
 * Deliberately not the aggregator: two implementations cross-check. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "ms-error.h"
#include "ms-reader.h"

typedef struct
{
  guint64 start, size, bias;
  char *path;
} Module;

typedef struct
{
  guint64 parent, ip;
} Node;

typedef struct
{
  MsReader *reader;
  char *name;
  GHashTable *nodes; /* id -> Node* */
  guint64 tid;       /* of the thread whose part is being read */
  MsRecord record;
  gboolean has_record;
} Source;

typedef struct
{
  guint64 size, tid, weight;
  guint64 leaf; /* innermost frame */
  char *stack;  /* "module+0xoff;..." innermost first */
} Block;

typedef struct
{
  guint64 min_size, max_size;
  GPtrArray *modules;
  guint64 allocs, frees, bytes_allocated, bytes_freed, cross_thread_frees, unmatched_frees;
  guint64 replaced_live;
  double est_allocs, est_bytes;
  guint64 lost, files, closed_files, damaged, incomplete, thread_starts, thread_ends;
  guint64 freq_count, freq_bytes;
  gboolean sampled;
  GHashTable *live;       /* addr -> Block* */
  GHashTable *threads;    /* tid -> allocs in range */
  GHashTable *site_bytes; /* leaf frame "module+0x" -> double estimated bytes */
  GHashTable *freq_sites; /* leaf frame -> guint64 exact bytes from FREQ */
  GHashTable *freq_counts;/* leaf frame -> guint64 exact count from FREQ */
  GHashTable *labels;     /* name -> type */
} Stats;

static void
block_free (gpointer p)
{
  Block *b = p;
  g_free (b->stack);
  g_free (b);
}

static char *
frame_name (Stats *s, guint64 ip)
{
  for (guint i = 0; i < s->modules->len; i++)
    {
      Module *m = g_ptr_array_index (s->modules, i);
      if (ip >= m->start && ip < m->start + m->size)
        return g_strdup_printf ("%s+0x%" G_GINT64_MODIFIER "x", m->path, ip - m->bias);
    }
  return g_strdup_printf ("?+0x%" G_GINT64_MODIFIER "x", ip);
}

static char *
stack_string (Stats *s, Source *src, guint64 id, guint64 *out_leaf)
{
  GString *str = g_string_new (NULL);
  guint depth = 0;

  *out_leaf = 0;
  while (id != 0 && depth++ < 1024)
    {
      Node *n = g_hash_table_lookup (src->nodes, &id);
      if (n == NULL)
        break;
      if (*out_leaf == 0)
        *out_leaf = n->ip;
      g_autofree char *f = frame_name (s, n->ip);
      if (str->len)
        g_string_append_c (str, ';');
      g_string_append (str, f);
      id = n->parent;
    }
  return g_string_free (str, FALSE);
}

static void
add_freq (Stats *s, const MsRecord *r)
{
  g_autofree char *leaf = frame_name (s, r->u.freq.ip);
  guint64 bytes = GPOINTER_TO_SIZE (g_hash_table_lookup (s->freq_sites, leaf)) + r->u.freq.bytes;
  guint64 count = GPOINTER_TO_SIZE (g_hash_table_lookup (s->freq_counts, leaf)) + r->u.freq.count;

  g_hash_table_insert (s->freq_counts, g_strdup (leaf), GSIZE_TO_POINTER (count));
  g_hash_table_insert (s->freq_sites, g_steal_pointer (&leaf), GSIZE_TO_POINTER (bytes));
  s->freq_count += r->u.freq.count;
  s->freq_bytes += r->u.freq.bytes;
}

static void
read_process_file (Stats *s, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open (path, &error);
  MsRecord r;

  if (reader == NULL)
    g_error ("%s", error->message);
  for (;;)
    {
      if (!ms_reader_next (reader, &r, &error))
        {
          if (error == NULL)
            break;
          if (g_error_matches (error, MS_ERROR, MS_ERROR_INCOMPLETE))
            s->incomplete++;
          else
            s->damaged++;
          g_clear_error (&error);
          continue;
        }
      if (r.kind == MS_RECORD_MODULE_LOAD)
        {
          Module *m = g_new0 (Module, 1);
          m->start = r.u.module.start;
          m->size = r.u.module.size;
          m->bias = r.u.module.bias;
          m->path = g_strndup (r.u.module.path.data, r.u.module.path.len);
          g_ptr_array_add (s->modules, m);
        }
      else if (r.kind == MS_RECORD_INFO && r.u.info.key.len == 8 && !memcmp (r.u.info.key.data, "sampling", 8))
        s->sampled = !(r.u.info.value.len == 5 && !memcmp (r.u.info.value.data, "exact", 5));
      else if (r.kind == MS_RECORD_LOST)
        s->lost += r.u.lost.events;
      else if (r.kind == MS_RECORD_FREQ)
        add_freq (s, &r);
    }
}

static gboolean
in_range (Stats *s, guint64 size)
{
  return size >= s->min_size && size <= s->max_size;
}

/* Reads SRC's next event-like record into src->record, handling the
 * bookkeeping kinds (stacks, threads, freq) on the way. */
static void
advance (Stats *s, Source *src)
{
  g_autoptr (GError) error = NULL;

  src->has_record = FALSE;
  for (;;)
    {
      if (!ms_reader_next (src->reader, &src->record, &error))
        {
          if (error == NULL)
            return;
          if (g_error_matches (error, MS_ERROR, MS_ERROR_INCOMPLETE))
            s->incomplete++;
          else
            {
              g_printerr ("%s\n", error->message);
              s->damaged++;
            }
          g_clear_error (&error);
          continue;
        }
      MsRecord *r = &src->record;
      switch (r->kind)
        {
        case MS_RECORD_STACK_NODE:
          {
            guint64 *key = g_new (guint64, 1);
            Node *n = g_new (Node, 1);
            *key = r->u.stack_node.id;
            n->parent = r->u.stack_node.parent;
            n->ip = r->u.stack_node.ip;
            g_hash_table_insert (src->nodes, key, n);
            break;
          }
        case MS_RECORD_THREAD_START:
          src->tid = r->u.thread.tid;
          s->thread_starts++;
          break;
        case MS_RECORD_THREAD_END:
          s->thread_ends++;
          break;
        case MS_RECORD_LOST:
          s->lost += r->u.lost.events;
          break;
        case MS_RECORD_CLOSE:
          s->closed_files++;
          break;
        case MS_RECORD_LABEL:
          g_hash_table_insert (s->labels, g_strndup (r->u.label.name.data, r->u.label.name.len),
                               g_strndup (r->u.label.type.data, r->u.label.type.len));
          break;
        case MS_RECORD_FREQ:
          add_freq (s, r);
          break;
        case MS_RECORD_ALLOC:
        case MS_RECORD_ALLOC_SAMPLED:
        case MS_RECORD_REALLOC:
        case MS_RECORD_REALLOC_SAMPLED:
        case MS_RECORD_FREE:
          src->has_record = TRUE;
          return;
        default:
          break;
        }
    }
}

static void
do_free (Stats *s, guint64 addr, guint64 tid)
{
  Block *b = g_hash_table_lookup (s->live, &addr);

  if (b == NULL)
    {
      s->unmatched_frees++;
      return;
    }
  s->frees++;
  s->bytes_freed += b->size;
  if (b->tid != tid)
    s->cross_thread_frees++;
  g_hash_table_remove (s->live, &addr);
}

static void
do_alloc (Stats *s, Source *src, const MsRecord *r)
{
  guint64 addr = r->u.event.addr;

  if (g_hash_table_contains (s->live, &addr))
    {
      /* realloc's old block went back to libc before its record: the
       * address is reused, the old block ended then (memscope-trace(5)) */
      s->replaced_live++;
      do_free (s, addr, src->tid);
    }
  if (!in_range (s, r->u.event.size))
    return;

  double w = (double) r->u.event.weight / MS_WEIGHT_ONE;
  Block *b = g_new0 (Block, 1);
  guint64 *key = g_new (guint64, 1);
  *key = addr;
  b->size = r->u.event.size;
  b->tid = src->tid;
  b->weight = r->u.event.weight;
  b->stack = stack_string (s, src, r->u.event.stack_id, &b->leaf);
  g_hash_table_insert (s->live, key, b);

  s->allocs++;
  s->bytes_allocated += b->size;
  s->est_allocs += w;
  s->est_bytes += w * (double) b->size;
  g_hash_table_insert (s->threads, g_memdup2 (&src->tid, sizeof src->tid),
                       GSIZE_TO_POINTER (GPOINTER_TO_SIZE (g_hash_table_lookup (s->threads, &src->tid)) + 1));
  g_autofree char *leaf = frame_name (s, b->leaf);
  double *site = g_hash_table_lookup (s->site_bytes, leaf);
  if (site == NULL)
    {
      site = g_new0 (double, 1);
      g_hash_table_insert (s->site_bytes, g_strdup (leaf), site);
    }
  *site += w * (double) b->size;
}

static void
handle (Stats *s, Source *src)
{
  const MsRecord *r = &src->record;

  switch (r->kind)
    {
    case MS_RECORD_FREE:
      if (g_hash_table_contains (s->live, &r->u.event.addr))
        do_free (s, r->u.event.addr, src->tid);
      break;
    case MS_RECORD_REALLOC:
    case MS_RECORD_REALLOC_SAMPLED:
      if (r->u.event.old_addr != 0 && g_hash_table_contains (s->live, &r->u.event.old_addr))
        do_free (s, r->u.event.old_addr, src->tid);
      do_alloc (s, src, r);
      break;
    default:
      do_alloc (s, src, r);
      break;
    }
}

/* Frees sort before allocations at the same instant: a free is recorded
 * before the real free, so an allocation of the same address cannot
 * precede it. */
static gboolean
before (const Source *a, const Source *b)
{
  if (a->record.time_ns != b->record.time_ns)
    return a->record.time_ns < b->record.time_ns;
  return a->record.kind == MS_RECORD_FREE && b->record.kind != MS_RECORD_FREE;
}

static int
compare_sites (gconstpointer a, gconstpointer b, gpointer data)
{
  GHashTable *sites = data;
  double x = *(double *) g_hash_table_lookup (sites, *(char **) a);
  double y = *(double *) g_hash_table_lookup (sites, *(char **) b);
  return x < y ? 1 : x > y ? -1 : 0;
}

int
main (int argc, char **argv)
{
  Stats s = { .max_size = G_MAXUINT64 };
  g_autofree char *min_text = NULL, *max_text = NULL;
  GOptionEntry entries[] = {
    { "min-size", 0, 0, G_OPTION_ARG_STRING, &min_text, "smallest size counted", "N" },
    { "max-size", 0, 0, G_OPTION_ARG_STRING, &max_text, "largest size counted", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("DIR");
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    {
      g_printerr ("usage: ms-trace-stats DIR [--min-size N] [--max-size N]\n");
      return 1;
    }
  if (min_text)
    s.min_size = g_ascii_strtoull (min_text, NULL, 10);
  if (max_text)
    s.max_size = g_ascii_strtoull (max_text, NULL, 10);

  s.modules = g_ptr_array_new ();
  s.live = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, block_free);
  s.threads = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  s.site_bytes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s.freq_sites = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s.freq_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s.labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_autofree char *process = g_build_filename (argv[1], "process.mst", NULL);
  read_process_file (&s, process);

  g_autoptr (GDir) dir = g_dir_open (argv[1], 0, &error);
  if (dir == NULL)
    g_error ("%s", error->message);
  GPtrArray *sources = g_ptr_array_new ();
  const char *name;
  while ((name = g_dir_read_name (dir)))
    {
      if (!g_str_has_prefix (name, "thread-") || !g_str_has_suffix (name, ".mst"))
        continue;
      Source *src = g_new0 (Source, 1);
      src->name = g_build_filename (argv[1], name, NULL);
      src->reader = ms_reader_open (src->name, &error);
      if (src->reader == NULL)
        g_error ("%s", error->message);
      src->nodes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
      g_ptr_array_add (sources, src);
      s.files++;
      advance (&s, src);
    }

  /* k-way merge by time through a binary heap of the files' next records */
  guint n = 0;
  Source **heap = g_new (Source *, sources->len + 1);
  for (guint i = 0; i < sources->len; i++)
    {
      Source *src = g_ptr_array_index (sources, i);
      if (!src->has_record)
        continue;
      guint k = n++;
      for (; k > 0 && before (src, heap[(k - 1) / 2]); k = (k - 1) / 2)
        heap[k] = heap[(k - 1) / 2];
      heap[k] = src;
    }
  while (n > 0)
    {
      Source *top = heap[0];
      handle (&s, top);
      advance (&s, top);
      if (!top->has_record)
        top = heap[--n];
      /* sift TOP down from the root */
      guint k = 0;
      for (;;)
        {
          guint c = 2 * k + 1;
          if (c >= n)
            break;
          if (c + 1 < n && before (heap[c + 1], heap[c]))
            c++;
          if (!before (heap[c], top))
            break;
          heap[k] = heap[c];
          k = c;
        }
      if (n > 0)
        heap[k] = top;
    }
  g_free (heap);
  for (guint i = 0; i < sources->len; i++)
    {
      Source *src = g_ptr_array_index (sources, i);
      ms_reader_free (src->reader);
      g_hash_table_unref (src->nodes);
      g_free (src->name);
      g_free (src);
    }
  g_ptr_array_unref (sources);

  guint64 live_bytes = 0;
  GHashTableIter it;
  gpointer key, value;
  GHashTable *leaks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_iter_init (&it, s.live);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      Block *b = value;
      guint64 *agg = g_hash_table_lookup (leaks, b->stack);
      if (agg == NULL)
        {
          agg = g_new0 (guint64, 2);
          g_hash_table_insert (leaks, b->stack, agg);
        }
      agg[0]++;
      agg[1] += b->size;
      live_bytes += b->size;
    }

  g_print ("files=%" G_GUINT64_FORMAT "\n", s.files);
  g_print ("closed_files=%" G_GUINT64_FORMAT "\n", s.closed_files);
  g_print ("incomplete=%" G_GUINT64_FORMAT "\n", s.incomplete);
  g_print ("damaged=%" G_GUINT64_FORMAT "\n", s.damaged);
  g_print ("thread_starts=%" G_GUINT64_FORMAT "\n", s.thread_starts);
  g_print ("thread_ends=%" G_GUINT64_FORMAT "\n", s.thread_ends);
  g_print ("threads=%u\n", g_hash_table_size (s.threads));
  g_print ("allocs=%" G_GUINT64_FORMAT "\n", s.allocs);
  g_print ("frees=%" G_GUINT64_FORMAT "\n", s.frees);
  g_print ("bytes_allocated=%" G_GUINT64_FORMAT "\n", s.bytes_allocated);
  g_print ("bytes_freed=%" G_GUINT64_FORMAT "\n", s.bytes_freed);
  g_print ("live_blocks=%u\n", g_hash_table_size (s.live));
  g_print ("live_bytes=%" G_GUINT64_FORMAT "\n", live_bytes);
  g_print ("cross_thread_frees=%" G_GUINT64_FORMAT "\n", s.cross_thread_frees);
  g_print ("replaced_live=%" G_GUINT64_FORMAT "\n", s.replaced_live);
  g_print ("lost=%" G_GUINT64_FORMAT "\n", s.lost);
  g_print ("sampled=%d\n", s.sampled);
  g_print ("est_allocs=%.0f\n", s.est_allocs);
  g_print ("est_bytes=%.0f\n", s.est_bytes);
  g_print ("freq_count=%" G_GUINT64_FORMAT "\n", s.freq_count);
  g_print ("freq_bytes=%" G_GUINT64_FORMAT "\n", s.freq_bytes);

  g_hash_table_iter_init (&it, leaks);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      guint64 *agg = value;
      g_print ("leak count=%" G_GUINT64_FORMAT " bytes=%" G_GUINT64_FORMAT " stack=%s\n", agg[0], agg[1], (char *) key);
    }

  /* the call sites with most estimated bytes, beside their exact FREQ totals */
  g_autoptr (GPtrArray) sites = g_ptr_array_new ();
  g_hash_table_iter_init (&it, s.site_bytes);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_ptr_array_add (sites, key);
  g_ptr_array_sort_with_data (sites, compare_sites, s.site_bytes);
  for (guint i = 0; i < sites->len; i++)
    {
      const char *site = g_ptr_array_index (sites, i);
      g_print ("site est_bytes=%.0f freq_bytes=%" G_GSIZE_FORMAT " freq_count=%" G_GSIZE_FORMAT " leaf=%s\n",
               *(double *) g_hash_table_lookup (s.site_bytes, site),
               GPOINTER_TO_SIZE (g_hash_table_lookup (s.freq_sites, site)),
               GPOINTER_TO_SIZE (g_hash_table_lookup (s.freq_counts, site)), site);
    }
  g_hash_table_iter_init (&it, s.labels);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_print ("label name=%s type=%s\n", (char *) key, (char *) value);

  /* everything freed: the ASan build's leak checker runs this too */
  for (guint i = 0; i < s.modules->len; i++)
    {
      Module *m = g_ptr_array_index (s.modules, i);
      g_free (m->path);
      g_free (m);
    }
  g_ptr_array_unref (s.modules);
  g_hash_table_unref (leaks);
  g_hash_table_unref (s.live);
  g_hash_table_unref (s.threads);
  g_hash_table_unref (s.site_bytes);
  g_hash_table_unref (s.freq_sites);
  g_hash_table_unref (s.freq_counts);
  g_hash_table_unref (s.labels);
  return s.damaged ? 2 : 0;
}
