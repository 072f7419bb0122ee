/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "ms-run-summary.h"

#include <elfutils/libdwfl.h>
#include <glib/gi18n.h>
#include <string.h>

#include "ms-cli-options.h"
#include "ms-error.h"
#include "ms-reader.h"
#include "ms-run-output.h"

/* Stacks whose call site is named: the heaviest of each process. */
#define SITES_TO_NAME 32
/* Frames looked through for the first one outside the allocator. */
#define MAX_ALLOCATOR_FRAMES 6

/* --- live blocks by address: open addressing, linear probing ------------ */

typedef struct
{
  guint64 addr;               /* 0: free slot */
  gdouble bytes;              /* weighted */
  guint64 site;               /* (source index << 32) | stack id */
} LiveEntry;

typedef struct
{
  LiveEntry *slots;
  gsize mask;
  gsize used;
} LiveTable;

static gsize
live_hash (const LiveTable *t, guint64 addr)
{
  return (gsize) ((addr >> 4) * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15) >> 20) & t->mask;
}

static void live_insert (LiveTable *t, guint64 addr, gdouble bytes, guint64 site);

static void
live_grow (LiveTable *t)
{
  LiveEntry *old = t->slots;
  gsize old_size = old != NULL ? t->mask + 1 : 0;
  gsize size = old_size != 0 ? old_size * 2 : 1024;

  t->slots = g_new0 (LiveEntry, size);
  t->mask = size - 1;
  t->used = 0;
  for (gsize i = 0; i < old_size; i++)
    if (old[i].addr != 0)
      live_insert (t, old[i].addr, old[i].bytes, old[i].site);
  g_free (old);
}

static LiveEntry *
live_find (const LiveTable *t, guint64 addr)
{
  if (t->slots == NULL)
    return NULL;
  for (gsize i = live_hash (t, addr);; i = (i + 1) & t->mask)
    {
      if (t->slots[i].addr == addr)
        return &t->slots[i];
      if (t->slots[i].addr == 0)
        return NULL;
    }
}

static void
live_insert (LiveTable *t, guint64 addr, gdouble bytes, guint64 site)
{
  gsize i;

  if (t->slots == NULL || (t->used + 1) * 4 > (t->mask + 1) * 3)
    live_grow (t);
  for (i = live_hash (t, addr); t->slots[i].addr != 0; i = (i + 1) & t->mask)
    ;
  t->slots[i] = (LiveEntry) { addr, bytes, site };
  t->used++;
}

/* Backward-shift deletion keeps every probe chain unbroken without
 * tombstones. */
static void
live_remove (LiveTable *t, LiveEntry *e)
{
  gsize hole = (gsize) (e - t->slots);

  for (gsize i = (hole + 1) & t->mask; t->slots[i].addr != 0; i = (i + 1) & t->mask)
    {
      gsize home = live_hash (t, t->slots[i].addr);
      /* Move it into the hole unless its home lies cyclically in (hole, i]. */
      if (((i - home) & t->mask) >= ((i - hole) & t->mask))
        {
          t->slots[hole] = t->slots[i];
          hole = i;
        }
    }
  t->slots[hole].addr = 0;
  t->used--;
}

/* --- one process: its thread files merged by time ----------------------- */

typedef struct
{
  guint64 parent;
  guint64 ip;
} StackNode;

typedef struct
{
  MsReader *reader;
  guint index;                /* in Pass.sources: the high half of a site */
  MsRecord record;            /* the next event, when has_event */
  gboolean has_event;
  GArray *nodes;              /* StackNode by id */
} Source;

typedef struct
{
  guint64 site;
  gdouble bytes;
  gdouble count;
} SiteStats;

typedef struct
{
  guint64 start;
  guint64 size;
  guint64 bias;
  char *path;
} Module;

typedef struct
{
  MsRunSummary *summary;
  GPtrArray *sources;         /* Source */
  GArray *modules;            /* Module */
  LiveTable live;
  gdouble live_bytes;
  gdouble peak_bytes;
  GHashTable *sites;          /* &SiteStats.site → SiteStats */
  GHashTable *named;          /* call-site name → MsRunCallSite, over all processes */
  gboolean process_closed;    /* process.mst ends with its closing record */
  guint unfinished_threads;   /* thread files without theirs */
} Pass;

static void
source_free (gpointer data)
{
  Source *s = data;

  g_clear_pointer (&s->reader, ms_reader_free);
  g_array_unref (s->nodes);
  g_free (s);
}

static void
module_clear (gpointer data)
{
  g_free (((Module *) data)->path);
}

static gboolean
is_event (MsRecordKind kind)
{
  return kind == MS_RECORD_ALLOC || kind == MS_RECORD_FREE || kind == MS_RECORD_REALLOC
         || kind == MS_RECORD_ALLOC_SAMPLED || kind == MS_RECORD_REALLOC_SAMPLED;
}

/* Moves S to its next heap event, taking in the records on the way. */
static void
source_advance (Pass *pass, Source *s)
{
  MsRunSummary *sum = pass->summary;

  s->has_event = FALSE;
  while (s->reader != NULL)
    {
      g_autoptr (GError) error = NULL;
      MsRecord *r = &s->record;

      if (!ms_reader_next (s->reader, r, &error))
        {
          if (error == NULL)
            break;
          if (g_error_matches (error, MS_ERROR, MS_ERROR_INCOMPLETE))
            {
              pass->unfinished_threads++;
              break;
            }
          sum->damaged_files++;
          if (g_error_matches (error, MS_ERROR, MS_ERROR_IO))
            break;
          continue; /* the reader resumes after the damage */
        }
      switch (r->kind)
        {
        case MS_RECORD_STACK_NODE:
          if (r->u.stack_node.id < (1u << 26))
            {
              if (s->nodes->len <= r->u.stack_node.id)
                g_array_set_size (s->nodes, (guint) r->u.stack_node.id + 1);
              g_array_index (s->nodes, StackNode, r->u.stack_node.id)
                = (StackNode) { r->u.stack_node.parent, r->u.stack_node.ip };
            }
          break;
        case MS_RECORD_THREAD_START:
          sum->threads++;
          break;
        case MS_RECORD_LOST:
          sum->lost_events += r->u.lost.events;
          break;
        default:
          if (is_event (r->kind))
            {
              s->has_event = TRUE;
              return;
            }
          break;
        }
    }
}

static void
free_block (Pass *pass, guint64 addr)
{
  LiveEntry *e = live_find (&pass->live, addr);

  if (e == NULL)
    return; /* allocated before recording started, or not sampled */
  pass->live_bytes -= e->bytes;
  live_remove (&pass->live, e);
}

static void
take_event (Pass *pass, guint source_index, const MsRecord *r)
{
  MsRunSummary *sum = pass->summary;
  gdouble weight = (gdouble) r->u.event.weight / MS_WEIGHT_ONE;
  gdouble bytes = (gdouble) r->u.event.size * weight;
  guint64 site;
  SiteStats *stats;

  if (r->kind == MS_RECORD_FREE)
    {
      free_block (pass, r->u.event.addr);
      sum->frees += 1;
      return;
    }
  if (r->kind == MS_RECORD_ALLOC_SAMPLED || r->kind == MS_RECORD_REALLOC_SAMPLED)
    sum->sampled = TRUE;
  if ((r->kind == MS_RECORD_REALLOC || r->kind == MS_RECORD_REALLOC_SAMPLED) && r->u.event.old_addr != 0)
    free_block (pass, r->u.event.old_addr);
  /* An address handed out while still live: its realloc freed it inside
   * libc before the free could be recorded (memscope-trace(5)). */
  free_block (pass, r->u.event.addr);

  site = (guint64) source_index << 32 | (r->u.event.stack_id & G_MAXUINT32);
  live_insert (&pass->live, r->u.event.addr, bytes, site);
  pass->live_bytes += bytes;
  pass->peak_bytes = MAX (pass->peak_bytes, pass->live_bytes);
  sum->allocations += weight;
  sum->bytes_allocated += bytes;

  stats = g_hash_table_lookup (pass->sites, &site);
  if (stats == NULL)
    {
      stats = g_new0 (SiteStats, 1);
      stats->site = site;
      g_hash_table_insert (pass->sites, &stats->site, stats);
    }
  stats->bytes += bytes;
  stats->count += weight;
}

/* A binary min-heap of sources by the time of their next event. */
static gboolean
earlier (GPtrArray *heap, guint a, guint b)
{
  const Source *sa = g_ptr_array_index (heap, a);
  const Source *sb = g_ptr_array_index (heap, b);

  return sa->record.time_ns < sb->record.time_ns;
}

static void
heap_swap (GPtrArray *heap, guint a, guint b)
{
  gpointer t = heap->pdata[a];

  heap->pdata[a] = heap->pdata[b];
  heap->pdata[b] = t;
}

static void
heap_down (GPtrArray *heap, guint i)
{
  for (;;)
    {
      guint smallest = i, l = 2 * i + 1, r = 2 * i + 2;

      if (l < heap->len && earlier (heap, l, smallest))
        smallest = l;
      if (r < heap->len && earlier (heap, r, smallest))
        smallest = r;
      if (smallest == i)
        return;
      heap_swap (heap, i, smallest);
      i = smallest;
    }
}

static void
merge_events (Pass *pass)
{
  g_autoptr (GPtrArray) heap = g_ptr_array_new ();

  for (guint i = 0; i < pass->sources->len; i++)
    {
      Source *s = g_ptr_array_index (pass->sources, i);
      source_advance (pass, s);
      if (s->has_event)
        g_ptr_array_add (heap, s);
    }
  for (guint i = heap->len / 2; i-- > 0;)
    heap_down (heap, i);

  while (heap->len > 0)
    {
      Source *s = g_ptr_array_index (heap, 0);

      take_event (pass, s->index, &s->record);
      source_advance (pass, s);
      if (!s->has_event)
        {
          heap->pdata[0] = heap->pdata[heap->len - 1];
          g_ptr_array_set_size (heap, heap->len - 1);
        }
      heap_down (heap, 0);
    }
}

/* --- naming call sites -------------------------------------------------- */

static const Module *
module_for (const Pass *pass, guint64 ip)
{
  for (guint i = 0; i < pass->modules->len; i++)
    {
      const Module *m = &g_array_index (pass->modules, Module, i);
      if (ip >= m->start && ip - m->start < m->size)
        return m;
    }
  return NULL;
}

static Dwfl *
open_dwfl (const Pass *pass)
{
  static char *debuginfo_path = NULL;
  static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
  };
  Dwfl *dwfl = dwfl_begin (&callbacks);

  if (dwfl == NULL)
    return NULL;
  dwfl_report_begin (dwfl);
  for (guint i = 0; i < pass->modules->len; i++)
    {
      const Module *m = &g_array_index (pass->modules, Module, i);
      /* ET_DYN reported at its load bias; a missing file stays unnamed. */
      if (m->path != NULL && m->path[0] == '/')
        dwfl_report_elf (dwfl, m->path, m->path, -1, m->bias, false);
    }
  dwfl_report_end (dwfl, NULL, NULL);
  return dwfl;
}

/* Functions that only pass an allocation on: the call site is their caller. */
static gboolean
is_allocator (const char *function)
{
  static const char *const words[] = { "malloc", "calloc", "realloc", "memalign", "aligned_alloc",
                                       "valloc", "strdup", "strndup" };

  if (g_str_has_prefix (function, "_Znw") || g_str_has_prefix (function, "_Zna")
      || g_str_has_prefix (function, "operator new"))
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    if (strstr (function, words[i]) != NULL)
      return TRUE;
  return FALSE;
}

static char *
frame_name (const Pass *pass, Dwfl *dwfl, guint64 ip, gboolean *out_allocator)
{
  Dwarf_Addr pc = ip - 1; /* a return address: the call is before it */
  Dwfl_Module *dm = dwfl != NULL ? dwfl_addrmodule (dwfl, pc) : NULL;
  const char *function = dm != NULL ? dwfl_module_addrname (dm, pc) : NULL;
  const Module *m = module_for (pass, ip);
  g_autofree char *module = m != NULL ? g_path_get_basename (m->path) : NULL;

  *out_allocator = function != NULL && is_allocator (function);
  if (function != NULL)
    return module != NULL ? g_strdup_printf ("%s (%s)", function, module) : g_strdup (function);
  if (m != NULL)
    return g_strdup_printf ("%s+0x%" G_GINT64_MODIFIER "x", module, ip - m->start);
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", ip);
}

static char *
call_site_name (const Pass *pass, Dwfl *dwfl, guint64 site)
{
  const Source *s = g_ptr_array_index (pass->sources, (guint) (site >> 32));
  guint64 id = site & G_MAXUINT32;
  g_autofree char *name = NULL;

  for (guint depth = 0; depth < MAX_ALLOCATOR_FRAMES && id != 0 && id < s->nodes->len; depth++)
    {
      const StackNode *node = &g_array_index (s->nodes, StackNode, id);
      gboolean allocator;

      g_free (name);
      name = frame_name (pass, dwfl, node->ip, &allocator);
      if (!allocator)
        break;
      id = node->parent;
    }
  return name != NULL ? g_steal_pointer (&name) : g_strdup (_("(no call stack)"));
}

static int
compare_sites (gconstpointer a, gconstpointer b)
{
  const SiteStats *sa = *(SiteStats *const *) a;
  const SiteStats *sb = *(SiteStats *const *) b;

  return sa->bytes < sb->bytes ? 1 : sa->bytes > sb->bytes ? -1 : 0;
}

/* GLib 2.74 lacks g_hash_table_get_values_as_ptr_array(). */
static GPtrArray *
values_of (GHashTable *table)
{
  GPtrArray *ret = g_ptr_array_sized_new (g_hash_table_size (table));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (ret, value);
  return ret;
}

static void
name_sites (Pass *pass)
{
  g_autoptr (GPtrArray) sorted = values_of (pass->sites);
  Dwfl *dwfl;

  if (sorted->len == 0)
    return;
  g_ptr_array_sort (sorted, compare_sites);
  dwfl = open_dwfl (pass);
  for (guint i = 0; i < sorted->len && i < SITES_TO_NAME; i++)
    {
      const SiteStats *stats = g_ptr_array_index (sorted, i);
      char *name = call_site_name (pass, dwfl, stats->site);
      MsRunCallSite *named = g_hash_table_lookup (pass->named, name);

      if (named == NULL)
        {
          named = g_new0 (MsRunCallSite, 1);
          named->name = name;
          g_hash_table_insert (pass->named, name, named);
        }
      else
        g_free (name);
      named->bytes += stats->bytes;
      named->count += stats->count;
    }
  if (dwfl != NULL)
    dwfl_end (dwfl);
}

/* --- directories -------------------------------------------------------- */

static void
read_process_file (Pass *pass, const char *path)
{
  g_autoptr (MsReader) reader = ms_reader_open (path, NULL);
  MsRecord *r;

  if (reader == NULL)
    return;
  r = g_new0 (MsRecord, 1);
  for (;;)
    {
      g_autoptr (GError) error = NULL;

      if (!ms_reader_next (reader, r, &error))
        {
          pass->process_closed = error == NULL;
          if (error == NULL || g_error_matches (error, MS_ERROR, MS_ERROR_INCOMPLETE)
              || g_error_matches (error, MS_ERROR, MS_ERROR_IO))
            break;
          continue;
        }
      if (r->kind == MS_RECORD_MODULE_LOAD)
        {
          Module m = { r->u.module.start, r->u.module.size, r->u.module.bias,
                       g_strndup (r->u.module.path.data, r->u.module.path.len) };
          g_array_append_val (pass->modules, m);
        }
      else if (r->kind == MS_RECORD_INFO && r->u.info.key.len == 8
               && memcmp (r->u.info.key.data, "sampling", 8) == 0
               && !(r->u.info.value.len == 5 && memcmp (r->u.info.value.data, "exact", 5) == 0))
        pass->summary->sampled = TRUE;
    }
  g_free (r);
}

/* One process's directory: process.mst and its thread files. */
static void
summarize_process (MsRunSummary *sum, GHashTable *named, GPtrArray *paths)
{
  Pass pass = { sum };
  gboolean any = FALSE;

  pass.sources = g_ptr_array_new_with_free_func (source_free);
  pass.modules = g_array_new (FALSE, TRUE, sizeof (Module));
  g_array_set_clear_func (pass.modules, module_clear);
  pass.sites = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  pass.named = named;

  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autoptr (MsReader) reader = ms_reader_open (path, NULL);
      MsFileKind kind;

      if (reader == NULL)
        {
          sum->damaged_files++;
          continue;
        }
      kind = ms_reader_get_info (reader)->kind;
      if (kind == MS_FILE_KIND_PROCESS)
        {
          read_process_file (&pass, path);
          any = TRUE;
        }
      else if (kind == MS_FILE_KIND_THREAD)
        {
          Source *s = g_new0 (Source, 1);
          s->reader = g_steal_pointer (&reader);
          s->nodes = g_array_new (FALSE, TRUE, sizeof (StackNode));
          s->index = pass.sources->len;
          g_ptr_array_add (pass.sources, s);
          any = TRUE;
        }
    }

  merge_events (&pass);
  name_sites (&pass);
  /* A process that exited normally closes its own file whatever its other
   * threads were doing: those still running then (workers a program never
   * joined, as xz's) end without closing theirs, and nothing is wrong. */
  if (!pass.process_closed)
    sum->incomplete_files += pass.unfinished_threads;
  if (any)
    sum->processes++;
  sum->peak_heap_bytes = MAX (sum->peak_heap_bytes, pass.peak_bytes);
  sum->leaked_bytes += pass.live_bytes;
  sum->leaked_blocks += (gdouble) pass.live.used;

  g_free (pass.live.slots);
  g_hash_table_unref (pass.sites);
  g_array_unref (pass.modules);
  g_ptr_array_unref (pass.sources);
}

static int
compare_named (gconstpointer a, gconstpointer b)
{
  const MsRunCallSite *sa = *(MsRunCallSite *const *) a;
  const MsRunCallSite *sb = *(MsRunCallSite *const *) b;

  return sa->bytes < sb->bytes ? 1 : sa->bytes > sb->bytes ? -1 : g_strcmp0 (sa->name, sb->name);
}

static void
call_site_free (gpointer data)
{
  MsRunCallSite *site = data;

  g_free (site->name);
  g_free (site);
}

void
ms_run_summary_compute (const char *dir, MsRunSummary *out)
{
  g_autoptr (GPtrArray) traces = ms_run_output_list_traces (dir);
  g_autoptr (GHashTable) by_dir = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          (GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GHashTable) named = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, call_site_free);
  g_autoptr (GPtrArray) sites = NULL;
  GHashTableIter iter;
  gpointer dir_paths;

  memset (out, 0, sizeof *out);
  for (guint i = 0; i < traces->len; i++)
    {
      const char *path = g_ptr_array_index (traces, i);
      char *parent = g_path_get_dirname (path);
      GPtrArray *paths = g_hash_table_lookup (by_dir, parent);

      if (paths == NULL)
        {
          paths = g_ptr_array_new ();
          g_hash_table_insert (by_dir, parent, paths);
        }
      else
        g_free (parent);
      g_ptr_array_add (paths, (gpointer) path);
    }

  g_hash_table_iter_init (&iter, by_dir);
  while (g_hash_table_iter_next (&iter, NULL, &dir_paths))
    summarize_process (out, named, dir_paths);

  sites = values_of (named);
  g_ptr_array_sort (sites, compare_named);
  for (guint i = 0; i < sites->len && out->n_top < MS_RUN_SUMMARY_TOP_SITES; i++)
    {
      const MsRunCallSite *site = g_ptr_array_index (sites, i);
      out->top[out->n_top++] = (MsRunCallSite) { g_strdup (site->name), site->bytes, site->count };
    }
}

void
ms_run_summary_clear (MsRunSummary *summary)
{
  for (guint i = 0; i < summary->n_top; i++)
    g_free (summary->top[i].name);
  summary->n_top = 0;
}

static char *
bytes_text (gdouble bytes)
{
  return ms_cli_format_bytes ((guint64) (bytes + 0.5));
}

void
ms_run_summary_print (const MsRunSummary *s, const MsMonitorSummary *m, const char *dir)
{
  /* TRANSLATORS: marks a number that is an estimate, from a sampled trace */
  const char *approx = s->sampled ? _("≈") : "";
  g_autofree char *allocated = bytes_text (s->bytes_allocated);
  g_autofree char *peak = bytes_text (s->peak_heap_bytes);
  g_autofree char *leaked = bytes_text (s->leaked_bytes);

  if (s->processes == 0)
    g_printerr (_("  No allocation was recorded: the preload library did not start in the "
                  "program.\n"));
  else
    {
      g_printerr (_("  allocations: %s%.0f (%s%s), frees: %s%.0f, threads: %" PRIu64
                    ", processes: %u\n"),
                  approx, s->allocations, approx, allocated, approx, s->frees, s->threads, s->processes);
      g_printerr (_("  peak heap: %s%s, leaked: %s%s (%s%.0f blocks)\n"), approx, peak, approx, leaked,
                  approx, s->leaked_blocks);
    }
  if (m != NULL && m->samples == 0)
    g_printerr (_("  no resource sample: the program ended before the first one\n"));
  else if (m != NULL)
    {
      g_autofree char *rss = ms_cli_format_bytes (m->peak_rss_bytes);
      g_printerr (_("  peak RSS: %s, peak CPU: %.0f %%, peak threads: %u, I/O system calls: %" PRIu64
                    "\n"),
                  rss, m->peak_cpu_percent, m->peak_threads, m->io_operations);
    }
  if (s->n_top > 0)
    g_printerr (_("  top call sites by bytes allocated:\n"));
  for (guint i = 0; i < s->n_top; i++)
    {
      g_autofree char *bytes = bytes_text (s->top[i].bytes);
      g_printerr ("    %s%-10s %s%10.0f×  %s\n", approx, bytes, approx, s->top[i].count, s->top[i].name);
    }
  if (s->sampled)
    g_printerr (_("  (≈: estimated from a sampled trace)\n"));
  if (s->lost_events > 0)
    g_printerr (_("  %" PRIu64 " events were lost while recording\n"), s->lost_events);
  if (s->incomplete_files > 0)
    g_printerr (_("  %u trace files were not finished (the program crashed or was killed): "
                  "what they hold was counted\n"),
                s->incomplete_files);
  if (s->damaged_files > 0)
    g_printerr (_("  %u trace files are damaged: their intact parts were counted\n"), s->damaged_files);
  g_printerr (_("  traces: %s\n"), dir);
}
