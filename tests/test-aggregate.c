/* SPDX-License-Identifier: LGPL-2.1-or-later
 * memscope-aggregate's analyses on traces written as the shim writes them
 * (tests/test-aggregate-util.h), where every number is known: totals,
 * leaks, the peak and the stacks at it, temporary allocations, the merge
 * by time, the cross-thread matrix, realloc ordering, sampling, children,
 * damage, symbolisation with inlined frames, diffs, resources, and the
 * JSON documents against data/memscope-report.schema.json. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "ms-agg-diff.h"
#include "ms-agg-map.h"
#include "ms-agg-output.h"
#include "ms-agg-run.h"
#include "ms-error.h"
#include "test-aggregate-util.h"
#include "test-aggregate-validate.h"

typedef struct
{
  char *dir;
  MsAggRun *run;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = ms_test_mkdtemp ();
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->run, ms_agg_run_free);
  ms_test_rm_rf (f->dir);
  g_free (f->dir);
}

static MsAggRun *
aggregate (const char *dir)
{
  g_autoptr (GError) error = NULL;
  MsAggRunOptions options = { .jobs = 2 };
  MsAggRun *run = ms_agg_run_new (dir, &options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (run);
  return run;
}

static void
write_and_aggregate (Fixture *f, const char *description, GHashTable *symbols)
{
  ms_test_write_trace (f->dir, description, symbols);
  f->run = aggregate (f->dir);
}

static gint64
summary (Fixture *f, const char *key)
{
  g_autoptr (JsonObject) s = ms_agg_report_summary (f->run->report);
  g_assert_true (json_object_has_member (s, key));
  return json_object_get_int_member (s, key);
}

static void
collect_row (JsonObject *row, gpointer user_data)
{
  g_ptr_array_add (user_data, json_object_ref (row));
}

static GPtrArray *
rows_of (MsAggRun *run, MsAggReportKind kind, MsAggWeight weight)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  ms_agg_report_rows (run->report, kind, weight, 0, collect_row, out);
  return out;
}

static GPtrArray *
rows (Fixture *f, MsAggReportKind kind, MsAggWeight weight)
{
  return rows_of (f->run, kind, weight);
}

static gint64
row_int (GPtrArray *r, guint i, const char *member)
{
  g_assert_cmpuint (i, <, r->len);
  return json_object_get_int_member (g_ptr_array_index (r, i), member);
}

static const char *
row_str (GPtrArray *r, guint i, const char *member)
{
  g_assert_cmpuint (i, <, r->len);
  return json_object_get_string_member (g_ptr_array_index (r, i), member);
}

/* Made-up frames print as their address: these give the label a test
 * expects for a frame name, and for a stack (outermost first). */
static const char *
fake (const char *name)
{
  static GHashTable *labels;
  char *label;

  if (labels == NULL)
    labels = g_hash_table_new (g_str_hash, g_str_equal);
  label = g_hash_table_lookup (labels, name);
  if (label == NULL)
    {
      label = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", ms_test_fake_ip (name));
      g_hash_table_insert (labels, g_strdup (name), label);
    }
  return label;
}

static char *
folded (const char *first, ...)
{
  GString *s = g_string_new (fake (first));
  va_list ap;
  const char *name;

  va_start (ap, first);
  while ((name = va_arg (ap, const char *)))
    g_string_append_printf (s, ";%s", fake (name));
  va_end (ap);
  return g_string_free (s, FALSE);
}

/* ---- one thread: totals, leaks, peak, temporary, sizes ----------------- */

static const char one_thread[] =
  "process 100 exe=/usr/bin/prog cmd=prog,--flag\n"
  "file 0\n"
  "start 0 100 main\n"
  "alloc 10 0x1000 100 leak_a,main\n"
  "alloc 20 0x2000 200 work,main\n"
  "free 30 0x2000\n"                  /* temporary: nothing allocated in between */
  "alloc 40 0x3000 300 work,main\n"
  "alloc 50 0x4000 400 leak_b,main\n"
  "free 60 0x3000\n"                  /* not temporary: 0x4000 came in between */
  "alloc 70 0x5000 1000 big,main\n"   /* the peak: 1500 */
  "free 80 0x5000\n"                  /* temporary */
  "alloc 90 0x6000 50 leak_a,main\n"
  "end 100 100\n";

static void
test_totals (Fixture *f, gconstpointer data)
{
  write_and_aggregate (f, one_thread, NULL);

  g_assert_cmpint (summary (f, "processes"), ==, 1);
  g_assert_cmpint (summary (f, "threads"), ==, 1);
  g_assert_cmpint (summary (f, "allocations"), ==, 6);
  g_assert_cmpint (summary (f, "frees"), ==, 3);
  g_assert_cmpint (summary (f, "bytes_allocated"), ==, 2050);
  g_assert_cmpint (summary (f, "bytes_freed"), ==, 1500);
  g_assert_cmpint (summary (f, "peak_live_bytes"), ==, 1500);
  g_assert_cmpint (summary (f, "peak_live_blocks"), ==, 3);
  g_assert_cmpint (summary (f, "peak_time_ns"), ==, 70);
  g_assert_cmpint (summary (f, "leaked_blocks"), ==, 3);
  g_assert_cmpint (summary (f, "leaked_bytes"), ==, 550);
  g_assert_cmpint (summary (f, "temporary_allocations"), ==, 2);
  g_assert_cmpint (summary (f, "temporary_bytes"), ==, 1200);
  g_assert_cmpint (summary (f, "cross_thread_frees"), ==, 0);
  g_assert_cmpint (summary (f, "lost_events"), ==, 0);
  g_assert_cmpint (summary (f, "sampled"), ==, 0);
  g_assert_cmpint (summary (f, "duration_ns"), ==, 100);
  g_assert_cmpint (summary (f, "unmatched_frees"), ==, 0);
  g_assert_cmpint (summary (f, "damaged_files"), ==, 0);

  /* leaks, by stack, biggest first */
  g_autoptr (GPtrArray) leaks = rows (f, MS_AGG_REPORT_LEAKS, 0);
  g_assert_cmpuint (leaks->len, ==, 2);
  g_assert_cmpstr (row_str (leaks, 0, "function"), ==, fake ("leak_b"));
  g_assert_cmpint (row_int (leaks, 0, "leaked_blocks"), ==, 1);
  g_assert_cmpint (row_int (leaks, 0, "leaked_bytes"), ==, 400);
  g_assert_cmpstr (row_str (leaks, 1, "function"), ==, fake ("leak_a"));
  g_assert_cmpint (row_int (leaks, 1, "leaked_blocks"), ==, 2);
  g_assert_cmpint (row_int (leaks, 1, "leaked_bytes"), ==, 150);
  g_autofree char *main_leak_a = folded ("main", "leak_a", NULL);
  g_assert_cmpstr (row_str (leaks, 1, "stack"), ==, main_leak_a);

  /* what was live at the peak, not at the end */
  g_autoptr (GPtrArray) peak = rows (f, MS_AGG_REPORT_PEAK, 0);
  g_assert_cmpuint (peak->len, ==, 3);
  g_assert_cmpstr (row_str (peak, 0, "function"), ==, fake ("big"));
  g_assert_cmpint (row_int (peak, 0, "bytes"), ==, 1000);
  g_assert_cmpstr (row_str (peak, 1, "function"), ==, fake ("leak_b"));
  g_assert_cmpint (row_int (peak, 1, "bytes"), ==, 400);
  g_assert_cmpstr (row_str (peak, 2, "function"), ==, fake ("leak_a"));
  g_assert_cmpint (row_int (peak, 2, "bytes"), ==, 100);

  g_autoptr (GPtrArray) temp = rows (f, MS_AGG_REPORT_TEMPORARY, 0);
  g_assert_cmpuint (temp->len, ==, 2);
  g_assert_cmpint (row_int (temp, 0, "temporary"), ==, 1);

  /* hottest by bytes: work (500) after big (1000) */
  g_autoptr (GPtrArray) hot = rows (f, MS_AGG_REPORT_STACKS, MS_AGG_WEIGHT_BYTES);
  g_assert_cmpstr (row_str (hot, 0, "function"), ==, fake ("big"));
  g_assert_cmpstr (row_str (hot, 1, "function"), ==, fake ("work"));
  g_assert_cmpint (row_int (hot, 1, "bytes_allocated"), ==, 500);
  g_autoptr (GPtrArray) by_count = rows (f, MS_AGG_REPORT_STACKS, MS_AGG_WEIGHT_COUNT);
  g_assert_cmpint (row_int (by_count, 0, "allocations"), ==, 2);

  /* sizes: 50 | 100 | 200 | 300, 400 | 1000 */
  g_autoptr (GPtrArray) sizes = rows (f, MS_AGG_REPORT_SIZES, 0);
  g_assert_cmpuint (sizes->len, ==, 5);
  g_assert_cmpint (row_int (sizes, 0, "min_bytes"), ==, 32);
  g_assert_cmpint (row_int (sizes, 3, "min_bytes"), ==, 256);
  g_assert_cmpint (row_int (sizes, 3, "max_bytes"), ==, 511);
  g_assert_cmpint (row_int (sizes, 3, "allocations"), ==, 2);
  g_assert_cmpint (row_int (sizes, 3, "bytes"), ==, 700);

  /* the timeline ends at what leaked and never exceeds the peak */
  g_autoptr (GPtrArray) tl = rows (f, MS_AGG_REPORT_TIMELINE, 0);
  g_assert_cmpuint (tl->len, >=, 1);
  g_assert_cmpint (row_int (tl, tl->len - 1, "live_bytes"), ==, 550);
  gint64 max = 0, allocs = 0;
  for (guint i = 0; i < tl->len; i++)
    {
      max = MAX (max, row_int (tl, i, "live_max_bytes"));
      allocs += row_int (tl, i, "allocations");
    }
  g_assert_cmpint (max, ==, 1500);
  g_assert_cmpint (allocs, ==, 6);

  g_autoptr (GPtrArray) threads = rows (f, MS_AGG_REPORT_THREADS, 0);
  g_assert_cmpuint (threads->len, ==, 1);
  g_assert_cmpint (row_int (threads, 0, "tid"), ==, 100);
  g_assert_cmpstr (row_str (threads, 0, "name"), ==, "main");
  g_assert_cmpint (row_int (threads, 0, "peak_live_bytes"), ==, 1500);
  g_assert_cmpint (row_int (threads, 0, "leaked_bytes"), ==, 550);
  g_assert_cmpstr (((const MsAggProcessInfo *) g_ptr_array_index (f->run->trace->processes, 0))->cmdline, ==,
                   "prog --flag");
}

/* ---- the merge by time, cross-thread frees ------------------------------ */

static const char two_threads[] =
  "process 200\n"
  "file 0\n"
  "start 0 201 producer\n"
  "alloc 5 0x7000 8 x,prod\n"
  "alloc 10 0x1000 100 make,prod\n"
  "alloc 30 0x2000 100 make,prod\n"
  "alloc 50 0x3000 100 make2,prod\n"
  "alloc 58 0x7000 8 x,prod\n"         /* reused at the very time thread 202 frees it */
  "end 60 201\n"
  "file 1\n"
  "start 0 202 consumer\n"
  "free 20 0x1000\n"
  "free 40 0x2000\n"
  "alloc 45 0x9000 10 own,cons\n"
  "free 55 0x3000\n"
  "free 56 0x9000\n"                   /* its own last allocation: temporary */
  "free 58 0x7000\n"
  "end 60 202\n";

static void
test_merge (Fixture *f, gconstpointer data)
{
  write_and_aggregate (f, two_threads, NULL);

  /* File by file the peak would be 308; merged by time it is 118 at 50. */
  g_assert_cmpint (summary (f, "peak_live_bytes"), ==, 118);
  g_assert_cmpint (summary (f, "peak_time_ns"), ==, 50);
  g_assert_cmpint (summary (f, "threads"), ==, 2);
  g_assert_cmpint (summary (f, "allocations"), ==, 6);
  g_assert_cmpint (summary (f, "frees"), ==, 5);
  g_assert_cmpint (summary (f, "leaked_blocks"), ==, 1);
  g_assert_cmpint (summary (f, "leaked_bytes"), ==, 8);
  g_assert_cmpint (summary (f, "cross_thread_frees"), ==, 4);
  g_assert_cmpint (summary (f, "cross_thread_bytes"), ==, 308);
  g_assert_cmpint (summary (f, "temporary_allocations"), ==, 1);
  /* the free at 58 went before the allocation at 58: no fix needed */
  g_assert_cmpint (summary (f, "realloc_ordering_fixes"), ==, 0);
  g_assert_cmpint (summary (f, "unmatched_frees"), ==, 0);

  g_autoptr (GPtrArray) m = rows (f, MS_AGG_REPORT_INTERACTIONS, 0);
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_cmpint (row_int (m, 0, "owner_tid"), ==, 201);
  g_assert_cmpint (row_int (m, 0, "freer_tid"), ==, 202);
  g_assert_cmpint (row_int (m, 0, "blocks"), ==, 4);
  g_assert_cmpint (row_int (m, 0, "bytes"), ==, 308);
  g_assert_cmpstr (row_str (m, 0, "top_function"), ==, fake ("make"));
  JsonArray *stacks = json_object_get_array_member (g_ptr_array_index (m, 0), "stacks");
  g_assert_cmpuint (json_array_get_length (stacks), ==, 3);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (stacks, 0), "bytes"), ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (stacks, 0), "blocks"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (stacks, 1), "function"), ==, fake ("make2"));

  /* per thread: the producer allocated, the consumer freed */
  g_autoptr (GPtrArray) t = rows (f, MS_AGG_REPORT_THREADS, 0);
  g_assert_cmpuint (t->len, ==, 2);
  g_assert_cmpint (row_int (t, 0, "tid"), ==, 201);
  g_assert_cmpint (row_int (t, 0, "allocations"), ==, 5);
  g_assert_cmpint (row_int (t, 0, "frees"), ==, 0);
  g_assert_cmpint (row_int (t, 1, "frees"), ==, 5);
  g_assert_cmpint (row_int (t, 1, "cross_thread_frees"), ==, 4);
  g_assert_cmpfloat (json_object_get_double_member (g_ptr_array_index (t, 1), "efficiency"), ==, 1.0);
}

/* ---- realloc ordering and growth chains ------------------------------- */

static const char realloc_race[] =
  "process 300\n"
  "file 0\n"
  "start 0 301 a\n"
  "alloc 10 0x1000 64 grow,a\n"
  "alloc 11 0x5000 64 grow,a\n"
  "realloc 30 0x1000 0x2000 128 grow,a\n"  /* libc freed 0x1000 before 20 */
  "realloc 31 0x5000 0x6000 128 grow,a\n"
  "end 40 301\n"
  "file 1\n"
  "start 0 302 b\n"
  "alloc 20 0x1000 32 other,b\n"           /* got the old address first */
  "alloc 21 0x5000 32 other,b\n"
  "free 25 0x1000\n"
  "free 35 0x5000\n"                       /* still live when the REALLOC comes */
  "end 40 302\n";

static void
test_realloc_ordering (Fixture *f, gconstpointer data)
{
  write_and_aggregate (f, realloc_race, NULL);

  g_assert_cmpint (summary (f, "realloc_ordering_fixes"), ==, 2);
  g_assert_cmpint (summary (f, "unmatched_frees"), ==, 0);
  g_assert_cmpint (summary (f, "allocations"), ==, 6);
  g_assert_cmpint (summary (f, "reallocs"), ==, 2);
  g_assert_cmpint (summary (f, "frees"), ==, 4);
  /* only the two realloc'ed blocks are left; thread b's blocks are not
   * freed twice and the old blocks are not leaks */
  g_assert_cmpint (summary (f, "leaked_blocks"), ==, 2);
  g_assert_cmpint (summary (f, "leaked_bytes"), ==, 256);
  g_autoptr (GPtrArray) leaks = rows (f, MS_AGG_REPORT_LEAKS, 0);
  g_assert_cmpuint (leaks->len, ==, 1);
  g_assert_cmpstr (row_str (leaks, 0, "function"), ==, fake ("grow"));
}

static void
test_realloc_chain (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) d = g_string_new ("process 400\nfile 0\nstart 0 401 main\nalloc 1 0x100 16 vec,main\n");

  /* nine doublings: the eighth realloc makes the chain "long" */
  for (guint i = 1; i <= 9; i++)
    g_string_append_printf (d, "realloc %u 0x%x 0x%x %u vec,main\n", i + 1, 0x100 * i, 0x100 * (i + 1), 16u << i);
  g_string_append (d, "free 20 0xa00\nend 30 401\n");
  write_and_aggregate (f, d->str, NULL);

  g_assert_cmpint (summary (f, "reallocs"), ==, 9);
  g_assert_cmpint (summary (f, "leaked_blocks"), ==, 0);
  g_assert_cmpint (summary (f, "frees"), ==, 10);
  g_autoptr (GPtrArray) b = rows (f, MS_AGG_REPORT_BOTTLENECKS, 0);
  gboolean found = FALSE;
  for (guint i = 0; i < b->len; i++)
    if (strcmp (row_str (b, i, "kind"), "realloc-growth-chain") == 0)
      {
        found = TRUE;
        g_assert_cmpstr (row_str (b, i, "subject"), ==, fake ("vec"));
        g_assert_cmpfloat (json_object_get_double_member (g_ptr_array_index (b, i), "value"), ==, 9);
      }
  g_assert_true (found);
}

/* What the program named its blocks: labels follow their block until it
 * is freed or moved, the latest label wins, and a label of an address
 * that holds no live block is counted, not attached. */
static const char labelled[] = "process 500\n"
                               "file 0\n"
                               "start 0 501 main\n"
                               "alloc 1 0x100 64 make,main\n"
                               "alloc 2 0x200 128 make,main\n"
                               "alloc 3 0x300 32 make,main\n"
                               "alloc 4 0x400 16 make,main\n"
                               "label 5 0x100 8 table int\n"
                               "label 6 0x200 8 table int\n"
                               "label 7 0x300 8 node node_t\n"
                               "label 8 0x400 8 scratch char\n"
                               "label 9 0x400 8 buffer char\n"
                               "label 10 0x900 8 table int\n"
                               "free 11 0x100\n"
                               "realloc 12 0x300 0x380 48 make,main\n"
                               "end 20 501\n";

static JsonObject *
label_row (GPtrArray *labels, const char *name)
{
  for (guint i = 0; i < labels->len; i++)
    if (strcmp (row_str (labels, i, "name"), name) == 0)
      return g_ptr_array_index (labels, i);
  g_assert_not_reached ();
}

static void
test_labels (Fixture *f, gconstpointer data)
{
  write_and_aggregate (f, labelled, NULL);

  g_autoptr (GPtrArray) labels = rows (f, MS_AGG_REPORT_LABELS, 0);
  g_assert_cmpuint (labels->len, ==, 4);
  /* most leaked first: table's 128-byte block is still live */
  g_assert_cmpstr (row_str (labels, 0, "name"), ==, "table");

  JsonObject *table = label_row (labels, "table");
  g_assert_cmpstr (json_object_get_string_member (table, "type"), ==, "int");
  g_assert_cmpint (json_object_get_int_member (table, "blocks"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (table, "bytes"), ==, 192);
  g_assert_cmpint (json_object_get_int_member (table, "freed_blocks"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (table, "leaked_blocks"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (table, "leaked_bytes"), ==, 128);
  g_assert_cmpint (json_object_get_int_member (table, "unmatched"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (table, "first_tid"), ==, 501);

  /* realloc moved node's block: the label ends with the old block */
  JsonObject *node = label_row (labels, "node");
  g_assert_cmpint (json_object_get_int_member (node, "blocks"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (node, "freed_blocks"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (node, "leaked_blocks"), ==, 0);

  /* relabelled: the block is buffer's, and scratch keeps the name only */
  JsonObject *scratch = label_row (labels, "scratch");
  g_assert_cmpint (json_object_get_int_member (scratch, "blocks"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (scratch, "leaked_blocks"), ==, 0);
  JsonObject *buffer = label_row (labels, "buffer");
  g_assert_cmpint (json_object_get_int_member (buffer, "blocks"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (buffer, "leaked_bytes"), ==, 16);
}

/* ---- sampling ---------------------------------------------------------- */

static void
test_sampled (Fixture *f, gconstpointer data)
{
  write_and_aggregate (f,
                       "process 500 sampling=bytes:1000\n"
                       "file 0\n"
                       "start 0 501\n"
                       "alloc 10 0x1000 100 s,main w=10\n"
                       "alloc 20 0x2000 5000 t,main\n"
                       "free 30 0x1000\n"
                       "alloc 40 0x3000 300 s,main w=2.5\n"
                       "freq 50 501 site 1234 567890\n"
                       "end 50 501\n",
                       NULL);

  g_assert_cmpint (summary (f, "sampled"), ==, 1);
  /* 10 + 1 + 2.5 allocations stand for 13.5, rounded */
  g_assert_cmpint (summary (f, "allocations"), ==, 14);
  g_assert_cmpint (summary (f, "bytes_allocated"), ==, 1000 + 5000 + 750);
  g_assert_cmpint (summary (f, "frees"), ==, 10);
  g_assert_cmpint (summary (f, "bytes_freed"), ==, 1000);
  g_assert_cmpint (summary (f, "leaked_bytes"), ==, 5750);
  g_assert_cmpint (summary (f, "peak_live_bytes"), ==, 6000);

  /* the frequency table is exact even when sampling */
  g_autoptr (JsonArray) sites = ms_agg_report_call_sites (f->run->report, 0);
  g_assert_cmpuint (json_array_get_length (sites), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (sites, 0), "allocations"), ==, 1234);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (sites, 0), "bytes"), ==, 567890);

  g_autoptr (JsonNode) doc = ms_agg_comprehensive_json (f->run->report);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (doc), "estimated"));
}

/* ---- child processes --------------------------------------------------- */

static char *
print_to_string (MsAggReport *report, MsAggReportKind kind, MsAggFormat format, MsAggWeight weight, guint top)
{
  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream (&buf, &size);
  g_autoptr (GError) error = NULL;

  g_assert_true (ms_agg_print_report (report, out, kind, format, weight, top, &error));
  g_assert_no_error (error);
  fclose (out);
  return buf;
}

static void
test_children (Fixture *f, gconstpointer data)
{
  write_and_aggregate (f,
                       "process 600 cmd=parent\n"
                       "file 0\n"
                       "start 0 600 parent\n"
                       "alloc 10 0x1000 100 p,main\n"
                       "end 100 600\n"
                       "process 601 ppid=600 dir=601 cmd=child\n"
                       "file 0\n"
                       "start 20 601 child\n"
                       "alloc 30 0x1000 50 c,main\n" /* the same address in another process */
                       "alloc 40 0x2000 70 c,main\n"
                       "free 50 0x1000\n"
                       "alloc 55 0x3000 8 p,main\n" /* the parent's code, after fork */
                       "end 60 601\n",
                       NULL);

  g_assert_cmpint (summary (f, "processes"), ==, 2);
  g_assert_cmpint (summary (f, "threads"), ==, 2);
  g_assert_cmpint (summary (f, "allocations"), ==, 4);
  g_assert_cmpint (summary (f, "frees"), ==, 1);
  g_assert_cmpint (summary (f, "leaked_bytes"), ==, 178);
  g_assert_cmpint (summary (f, "realloc_ordering_fixes"), ==, 0);
  /* combined: 100 + 120 at 40 */
  g_assert_cmpint (summary (f, "peak_live_bytes"), ==, 220);
  g_assert_cmpint (summary (f, "peak_time_ns"), ==, 40);

  g_autoptr (JsonArray) procs = ms_agg_report_processes (f->run->report);
  g_assert_cmpuint (json_array_get_length (procs), ==, 2);
  JsonObject *parent = json_array_get_object_element (procs, 0);
  JsonObject *child = json_array_get_object_element (procs, 1);
  g_assert_cmpint (json_object_get_int_member (parent, "pid"), ==, 600);
  g_assert_cmpint (json_object_get_int_member (parent, "peak_live_bytes"), ==, 100);
  g_assert_cmpint (json_object_get_int_member (child, "pid"), ==, 601);
  g_assert_cmpint (json_object_get_int_member (child, "ppid"), ==, 600);
  g_assert_cmpint (json_object_get_int_member (child, "peak_live_bytes"), ==, 120);
  g_assert_cmpint (json_object_get_int_member (child, "leaked_bytes"), ==, 78);
  g_assert_cmpstr (json_object_get_string_member (child, "program"), ==, "child");
  JsonArray *ps = json_object_get_array_member (child, "peak_stacks");
  g_assert_cmpuint (json_array_get_length (ps), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (ps, 0), "bytes"), ==, 120);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (ps, 0), "pid"), ==, 601);

  /* One stack, two processes: a row each, which says whose it is. */
  g_autoptr (GPtrArray) stacks = rows (f, MS_AGG_REPORT_STACKS, MS_AGG_WEIGHT_BYTES);
  g_autofree char *p_main = folded ("main", "p", NULL);
  g_assert_cmpuint (stacks->len, ==, 3);
  g_assert_cmpint (row_int (stacks, 0, "pid"), ==, 601); /* c,main: 120 bytes */
  g_assert_cmpint (row_int (stacks, 1, "pid"), ==, 600);
  g_assert_cmpint (row_int (stacks, 1, "bytes_allocated"), ==, 100);
  g_assert_cmpstr (row_str (stacks, 1, "stack"), ==, p_main);
  g_assert_cmpint (row_int (stacks, 2, "pid"), ==, 601);
  g_assert_cmpint (row_int (stacks, 2, "bytes_allocated"), ==, 8);
  g_assert_cmpstr (row_str (stacks, 2, "stack"), ==, p_main);
  g_assert_cmpint (summary (f, "stack_groups"), ==, 3);

  /* ... and a flame graph keeps them apart under a root of its own. */
  g_autofree char *lines = print_to_string (f->run->report, MS_AGG_REPORT_STACKS, MS_AGG_FORMAT_COLLAPSED,
                                            MS_AGG_WEIGHT_BYTES, 0);
  g_autofree char *parent_line = g_strdup_printf ("parent-600;%s 100\n", p_main);
  g_autofree char *child_line = g_strdup_printf ("child-601;%s 8\n", p_main);
  g_assert_nonnull (strstr (lines, parent_line));
  g_assert_nonnull (strstr (lines, child_line));
}

/* Children come in pid order (not as strings: 9 before 100), a program
 * after the one it replaced by exec; a pid's resource samples go to the
 * program it was at the time. */
static void
test_children_order (Fixture *f, gconstpointer data)
{
  write_and_aggregate (f,
                       "process 50 cmd=root\n"
                       "file 0\n"
                       "start 0 50 root\n"
                       "alloc 10 0x1000 10 r,main\n"
                       "end 2000000000 50\n"
                       "process 100 ppid=50 dir=100 cmd=before\n"
                       "file 0\n"
                       "start 10 100 before\n"
                       "alloc 20 0x1000 20 b,main\n"
                       "process 100 ppid=50 dir=100-exec1 cmd=after start=500000000\n"
                       "file 0\n"
                       "start 500000010 100 after\n"
                       "alloc 500000020 0x1000 30 a,main\n"
                       "end 900000000 100\n"
                       "process 9 ppid=50 dir=9 cmd=nine\n"
                       "file 0\n"
                       "start 30 9 nine\n"
                       "alloc 40 0x1000 40 n,main\n"
                       "end 50 9\n"
                       "res 100000000 process 100 1000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1\n"
                       "res 600000000 process 100 3000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1\n"
                       "res 700000000 process 100 5000,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1\n",
                       NULL);

  g_autoptr (JsonArray) procs = ms_agg_report_processes (f->run->report);
  g_assert_cmpuint (json_array_get_length (procs), ==, 4);
  static const char *const programs[] = { "root", "nine", "before", "after" };
  for (guint i = 0; i < 4; i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (procs, i), "program"), ==,
                     programs[i]);
  JsonObject *before = json_array_get_object_element (procs, 2);
  JsonObject *after = json_array_get_object_element (procs, 3);
  JsonObject *rb = json_object_get_object_member (before, "resources");
  JsonObject *ra = json_object_get_object_member (after, "resources");
  g_assert_nonnull (rb);
  g_assert_nonnull (ra);
  g_assert_cmpint (json_object_get_int_member (rb, "samples"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (rb, "rss_max_bytes"), ==, 1000);
  g_assert_cmpint (json_object_get_int_member (ra, "samples"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (ra, "rss_max_bytes"), ==, 5000);

  /* A process's timeline starts with its first event, not the trace's. */
  JsonArray *points = json_object_get_array_member (json_object_get_object_member (after, "timeline"), "points");
  g_assert_cmpuint (json_array_get_length (points), >, 0);
  guint64 width = (guint64) json_object_get_int_member (json_object_get_object_member (after, "timeline"), "bucket_ns");
  gint64 t0 = json_object_get_int_member (json_array_get_object_element (points, 0), "time_ns");
  g_assert_cmpint (t0, <=, 500000020);
  g_assert_cmpint (t0 + (gint64) width, >, 500000020);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (points, 0), "allocations"), ==, 1);
}

/* ---- damage ------------------------------------------------------------ */

static char *
many_events (guint pairs)
{
  GString *d = g_string_new ("process 700\nfile 0\nstart 0 700 main\n");

  for (guint i = 0; i < pairs; i++)
    g_string_append_printf (d, "alloc %u 0x%x 100 loop,main\nfree %u 0x%x\n", 10 * i + 1, 0x10000 + 16 * (i % 64),
                            10 * i + 2, 0x10000 + 16 * (i % 64));
  g_string_append_printf (d, "alloc %u 0x99000 777 leak,main\nend %u 700\n", 10 * pairs + 1, 10 * pairs + 5);
  return g_string_free (d, FALSE);
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  g_autofree char *d = many_events (20000);
  g_autofree char *path = g_build_filename (f->dir, "thread-0.mst", NULL);
  g_autofree char *contents = NULL;
  gsize len;

  ms_test_write_trace (f->dir, d, NULL);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 4 * 16384);
  /* cut in the middle of a chunk, half way through */
  g_assert_true (g_file_set_contents (path, contents, (gssize) (len / 2 + 1000), NULL));
  f->run = aggregate (f->dir);

  g_assert_true (ms_agg_report_has_damage (f->run->report));
  g_assert_cmpint (summary (f, "damaged_files"), ==, 1);
  gint64 allocs = summary (f, "allocations");
  g_assert_cmpint (allocs, >, 5000);
  g_assert_cmpint (allocs, <, 15000);
  /* without the CLOSE record the loss is an estimate */
  g_assert_cmpint (summary (f, "lost_events_estimated"), ==, 1);
  g_assert_cmpint (summary (f, "lost_events"), >, 0);
  g_autoptr (JsonObject) loss = ms_agg_report_data_loss (f->run->report);
  JsonArray *files = json_object_get_array_member (loss, "files");
  g_assert_cmpuint (json_array_get_length (files), ==, 1);
  JsonObject *d0 = json_array_get_object_element (files, 0);
  g_assert_true (g_str_has_suffix (json_object_get_string_member (d0, "file"), "thread-0.mst"));
  g_assert_true (json_object_get_boolean_member (d0, "truncated"));
  g_assert_cmpint (json_object_get_int_member (d0, "last_good_offset"), >, (gint64) len / 4);
  g_assert_nonnull (strstr (json_object_get_string_member (d0, "message"), "at byte"));
  g_autoptr (GPtrArray) warnings = ms_agg_report_warnings (f->run->report);
  g_assert_cmpuint (warnings->len, >=, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "thread-0.mst"));
}

static void
test_corrupt (Fixture *f, gconstpointer data)
{
  const guint pairs = 20000;
  g_autofree char *d = many_events (pairs);
  g_autofree char *path = g_build_filename (f->dir, "thread-0.mst", NULL);
  g_autofree char *contents = NULL;
  gsize len;

  ms_test_write_trace (f->dir, d, NULL);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  /* a flipped byte inside a middle chunk: its records go, the rest and
   * the closing counts stay, so the loss is exact */
  contents[len / 2] ^= 0x40;
  g_assert_true (g_file_set_contents (path, contents, (gssize) len, NULL));
  f->run = aggregate (f->dir);

  g_assert_true (ms_agg_report_has_damage (f->run->report));
  g_assert_cmpint (summary (f, "lost_events_estimated"), ==, 0);
  /* Every event is either analysed or counted lost. A free whose
   * allocation was lost is "unmatched"; an allocation whose free was lost
   * shows when its address comes back, and is retired then (a fix, which
   * counts as a free but was no event). */
  gint64 seen = summary (f, "allocations") + summary (f, "frees") + summary (f, "unmatched_frees")
                - summary (f, "realloc_ordering_fixes");
  gint64 lost = summary (f, "lost_events");
  g_assert_cmpint (lost, >, 0);
  g_assert_cmpint (seen + lost, ==, 2 * pairs + 1);
  /* the leak after the damage is still found */
  g_assert_cmpint (summary (f, "leaked_bytes"), >=, 777);
}

static void
test_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "nope", NULL);

  g_assert_null (ms_agg_run_new (missing, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
  g_clear_error (&error);

  g_assert_null (ms_agg_run_new (f->dir, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_NOT_A_TRACE);
  g_clear_error (&error);

  /* a file of a newer major version: a clear error, not damage */
  ms_test_write_trace (f->dir, one_thread, NULL);
  g_autofree char *path = g_build_filename (f->dir, "thread-0.mst", NULL);
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  contents[8] = 2; /* major, little-endian */
  g_assert_true (g_file_set_contents (path, contents, (gssize) len, NULL));
  g_assert_null (ms_agg_run_new (f->dir, NULL, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_FORMAT_TOO_NEW);
}

/* ---- symbolisation with real return addresses -------------------------- */

static guint64 ip_in_outer, ip_in_caller;
static int line_inner_call, line_outer_call, line_caller_call;

__attribute__ ((noipa)) static void
capture (void)
{
  ip_in_outer = (guint64) __builtin_return_address (0);
}

static inline __attribute__ ((always_inline)) void
inlined_helper (void)
{
  capture (); line_inner_call = __LINE__;
}

__attribute__ ((noipa)) static void
outer_function (void)
{
  inlined_helper (); line_outer_call = __LINE__;
  ip_in_caller = (guint64) __builtin_return_address (0);
}

static void
assert_frame (JsonArray *frames, guint i, const char *function, int line, gboolean inlined)
{
  JsonObject *fr = json_array_get_object_element (frames, i);

  g_assert_cmpstr (json_object_get_string_member (fr, "function"), ==, function);
  g_assert_true (g_str_has_suffix (json_object_get_string_member (fr, "file"), "test-aggregate.c"));
  g_assert_cmpint (json_object_get_int_member (fr, "line"), ==, line);
  g_assert_cmpint (json_object_get_boolean_member (fr, "inlined"), ==, inlined);
  g_assert_cmpstr (json_object_get_string_member (fr, "status"), ==, "ok");
}

static void
test_symbols (Fixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) symbols = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  outer_function (); line_caller_call = __LINE__;
  g_hash_table_insert (symbols, "outer", &ip_in_outer);
  g_hash_table_insert (symbols, "caller", &ip_in_caller);

  g_autofree char *d = g_strdup_printf ("process 800 exe=%s\n"
                                        "module self\n"
                                        "module 0x100000 0x10000 0x100000 /nonexistent/libgone.so build_id=0102\n"
                                        "file 0\n"
                                        "start 0 800 main\n"
                                        "alloc 10 0x1000 64 outer,caller\n"
                                        "alloc 20 0x2000 64 libgone\n"
                                        "end 30 800\n",
                                        exe);
  /* libgone's frame is made up: give it an address inside that module */
  static guint64 gone_ip = 0x100000 + 0x1234;
  g_hash_table_insert (symbols, "libgone", &gone_ip);
  write_and_aggregate (f, d, symbols);

  g_autoptr (GPtrArray) leaks = rows (f, MS_AGG_REPORT_LEAKS, 0);
  g_assert_cmpuint (leaks->len, ==, 2);
  guint i = strcmp (row_str (leaks, 0, "function"), "inlined_helper") == 0 ? 0 : 1;
  /* the allocating function is the innermost frame: the inlined one */
  g_assert_cmpstr (row_str (leaks, i, "function"), ==, "inlined_helper");
  g_autofree char *where = g_strdup_printf ("test-aggregate.c:%d", line_inner_call);
  g_assert_true (g_str_has_suffix (row_str (leaks, i, "location"), where));
  g_assert_cmpstr (row_str (leaks, i, "stack"), ==, "test_symbols;outer_function;inlined_helper");

  guint32 group = (guint32) row_int (leaks, i, "stack_id");
  g_autoptr (JsonArray) frames = ms_agg_report_group_frames (f->run->report, group);
  g_assert_cmpuint (json_array_get_length (frames), ==, 3);
  assert_frame (frames, 0, "inlined_helper", line_inner_call, TRUE);
  assert_frame (frames, 1, "outer_function", line_outer_call, FALSE);
  assert_frame (frames, 2, "test_symbols", line_caller_call, FALSE);

  /* a binary that is gone: module+offset, and a warning */
  g_assert_cmpstr (row_str (leaks, 1 - i, "function"), ==, "libgone.so+0x1234");
  GPtrArray *w = ms_symbolizer_get_warnings (f->run->sym);
  g_assert_cmpuint (w->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (w, 0), "libgone.so"));
  g_assert_cmpuint (ms_symbolizer_get_n_resolved (f->run->sym), ==, 3);
}

static void
test_stale (Fixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) symbols = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  static guint64 ip;

  outer_function ();
  ip = ip_in_outer;
  g_hash_table_insert (symbols, "outer", &ip);
  /* this very binary, with another build-id recorded: it was "rebuilt" */
  g_autofree char *d = g_strdup_printf ("process 801\n"
                                        "module 0x%" G_GINT64_MODIFIER "x 0x100000000 0 %s build_id=00112233445566778899\n"
                                        "file 0\nstart 0 801\nalloc 10 0x1000 64 outer\nend 20 801\n",
                                        ip - 0x1000, exe);
  write_and_aggregate (f, d, symbols);

  g_autoptr (GPtrArray) leaks = rows (f, MS_AGG_REPORT_LEAKS, 0);
  g_assert_cmpuint (leaks->len, ==, 1);
  g_assert_true (g_str_has_suffix (row_str (leaks, 0, "function"), "[stale]"));
  g_autoptr (JsonArray) frames = ms_agg_report_group_frames (f->run->report, (guint32) row_int (leaks, 0, "stack_id"));
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (frames, 0), "status"), ==, "stale");
  GPtrArray *w = ms_symbolizer_get_warnings (f->run->sym);
  g_assert_cmpuint (w->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (w, 0), "build-id"));
}

static void
test_build_id (Fixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) symbols = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *trace = g_build_filename (f->dir, "trace", NULL);
  g_autofree char *debug = g_build_filename (f->dir, "debug", NULL);
  static guint64 ip;

  outer_function ();
  ip = ip_in_outer;
  g_hash_table_insert (symbols, "outer", &ip);
  /* the binary is gone from where it ran, but a debug directory has it by
   * its build-id, as -dbgsym packages put their files */
  ms_test_write_trace (trace,
                       "process 802\nmodule self path=/nonexistent/bin/test-aggregate\n"
                       "file 0\nstart 0 802\nalloc 10 0x1000 64 outer\nend 20 802\n",
                       symbols);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsAggRun) plain = ms_agg_run_new (trace, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) before = rows_of (plain, MS_AGG_REPORT_LEAKS, 0);
  if (!g_str_has_prefix (row_str (before, 0, "function"), "test-aggregate+0x"))
    g_error ("before: %s", row_str (before, 0, "function"));

  /* .build-id/xx/rest.debug */
  g_autoptr (GBytes) id = NULL;
  const MsAggProcessInfo *info = g_ptr_array_index (plain->trace->processes, 0);
  const MsAggModule *m = g_ptr_array_index (info->modules, 0);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (m->build_id, &len);
  g_assert_cmpuint (len, >, 1);
  g_autoptr (GString) rest = g_string_new (NULL);
  for (gsize i = 1; i < len; i++)
    g_string_append_printf (rest, "%02x", bytes[i]);
  g_autofree char *sub = g_strdup_printf ("%02x", bytes[0]);
  g_autofree char *dir = g_build_filename (debug, ".build-id", sub, NULL);
  g_autofree char *name = g_strdup_printf ("%s.debug", rest->str);
  g_autofree char *link = g_build_filename (dir, name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (symlink (exe, link), ==, 0);

  const char *dirs[] = { debug, NULL };
  MsAggRunOptions options = { .debug_dirs = dirs };
  f->run = ms_agg_run_new (trace, &options, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) leaks = rows (f, MS_AGG_REPORT_LEAKS, 0);
  g_assert_cmpstr (row_str (leaks, 0, "function"), ==, "inlined_helper");
  g_autofree char *where = g_strdup_printf ("test-aggregate.c:%d", line_inner_call);
  g_assert_true (g_str_has_suffix (row_str (leaks, 0, "location"), where));
  g_assert_cmpuint (ms_symbolizer_get_warnings (f->run->sym)->len, ==, 0);
}

/* ---- diff -------------------------------------------------------------- */

static void
test_diff (Fixture *f, gconstpointer data)
{
  g_autofree char *base_dir = g_build_filename (f->dir, "base", NULL);
  g_autofree char *cur_dir = g_build_filename (f->dir, "cur", NULL);

  ms_test_write_trace (base_dir,
                       "process 900\nfile 0\nstart 0 900\n"
                       "alloc 10 0x1000 100 leak_a,main\n"
                       "alloc 20 0x2000 40 tmp,main\nfree 30 0x2000\nend 40 900\n",
                       NULL);
  ms_test_write_trace (cur_dir,
                       "process 901\nfile 0\nstart 0 901\n"
                       "alloc 10 0x5000 100 leak_a,main\nalloc 11 0x5100 100 leak_a,main\nalloc 12 0x5200 100 leak_a,main\n"
                       "alloc 13 0x5300 50 leak_c,main\n"
                       "alloc 20 0x6000 40 tmp,main\nfree 30 0x6000\nend 40 901\n",
                       NULL);
  g_autoptr (MsAggRun) base = aggregate (base_dir);
  g_autoptr (MsAggRun) cur = aggregate (cur_dir);
  g_autoptr (MsAggDiffSide) bs = ms_agg_diff_side_from_report (base->report);
  g_autoptr (MsAggDiffSide) cs = ms_agg_diff_side_from_report (cur->report);
  g_autofree char *what = NULL;

  g_assert_true (ms_agg_diff_grew (bs, cs, 200, &what));
  g_assert_nonnull (strstr (what, "250"));
  g_assert_false (ms_agg_diff_grew (bs, cs, 300, &what));
  g_assert_false (ms_agg_diff_grew (cs, bs, 0, &what));

  /* the same through a JSON file of the base run */
  g_assert_true (ms_agg_write_json_files (base->report, base_dir, "base", NULL));
  g_autofree char *json = g_build_filename (base_dir, "base_comprehensive.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsAggDiffSide) bj = ms_agg_diff_side_from_json (json, &error);
  g_assert_no_error (error);

  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream (&buf, &size);
  ms_agg_diff_print (bj, cs, out, MS_AGG_FORMAT_TSV, 0);
  fclose (out);
  g_auto (GStrv) lines = g_strsplit (buf, "\n", -1);
  free (buf);
  /* header, [total], leak_a (+200), leak_c (+50); tmp did not change */
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  g_assert_true (g_str_has_prefix (lines[0], "delta_leaked_bytes\tdelta_peak_bytes"));
  g_assert_true (g_str_has_prefix (lines[1], "250\t"));
  g_assert_true (g_str_has_suffix (lines[1], "[total]\t[total]"));
  g_assert_true (g_str_has_prefix (lines[2], "200\t"));
  g_autofree char *main_leak_a = folded ("main", "leak_a", NULL);
  g_assert_true (g_str_has_suffix (lines[2], main_leak_a));
  g_assert_true (g_str_has_prefix (lines[3], "50\t"));

  /* the other document is no base */
  g_autofree char *rankings = g_build_filename (base_dir, "base_resource_rankings.json", NULL);
  g_assert_null (ms_agg_diff_side_from_json (rankings, &error));
  g_assert_error (error, MS_ERROR, MS_ERROR_NOT_A_TRACE);
}

/* ---- resources: CPU, roles, correlation --------------------------------- */

static void
test_resources (Fixture *f, gconstpointer data)
{
  /* three threads over one second: CPU 90/50/10 %, allocation rates
   * 9000/5000/1000 per second: r = 1, slope 100, intercept 0 */
  static const guint cpu[] = { 90, 50, 10 };
  g_autoptr (GString) d = g_string_new ("process 1000\nresinfo interval_msec 100\n");

  for (guint t = 0; t < 3; t++)
    {
      guint tid = 1001 + t, n = cpu[t] * 100;
      g_string_append_printf (d, "file %u\nstart 0 %u w%u\n", t, tid, t);
      for (guint i = 0; i < n; i++)
        g_string_append_printf (d, "alloc %u 0x%x 32 work%u,main\nfree %u 0x%x\n", 1 + i * (1000000000u / n),
                                0x100000 * (t + 1), t, 2 + i * (1000000000u / n), 0x100000 * (t + 1));
      g_string_append_printf (d, "end 1000000000 %u\n", tid);
    }
  /* the monitor samples every thread at each tick, in time order */
  g_string_append (d, "res 0 process 1000 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,3\n");
  for (guint k = 0; k < 4; k++)
    g_string_append_printf (d, "res 0 cpu %u 0,0,0,1000,0,0,0,0\n", k);
  g_string_append (d, "res 0 system 0 16000000000,9000000000,150,0,0,0,0,0,0,4\n");
  for (guint s = 0; s <= 10; s++)
    {
      for (guint t = 0; t < 3; t++)
        g_string_append_printf (d, "res %u thread %u %" G_GUINT64_FORMAT ",0,%u,0,0,0,1000\n", s * 100000000u, 1001 + t,
                                (guint64) s * cpu[t] * 1000000u, t == 2 ? s * 10 : 0);
      /* half way, a sample of the process: then rchar goes 1000 → 5000
       * and wchar 0 → 500 in the second half second */
      if (s == 5)
        g_string_append (d, "res 500000000 process 1000 2048,8192,0,500000000,0,0,0,0,0,1000,0,0,0,0,0,3\n");
    }
  g_string_append (d, "res 1000000000 process 1000 4096,8192,0,1500000000,0,0,0,0,0,5000,500,0,0,0,0,3\n");
  /* four cores, idle at first; in the second: one busy, one half busy,
   * one idle, one waiting for I/O (not busy): 1.5 of 4 cores, 37.5 % */
  g_string_append (d, "res 1000000000 cpu 0 700000000,0,300000000,1000,0,0,0,0\n");
  g_string_append (d, "res 1000000000 cpu 1 500000000,0,0,500001000,0,0,0,0\n");
  g_string_append (d, "res 1000000000 cpu 2 0,0,0,1000001000,0,0,0,0\n");
  g_string_append (d, "res 1000000000 cpu 3 0,0,0,1000,1000000000,0,0,0\n");
  g_string_append (d, "res 1000000000 system 0 16000000000,8000000000,275,0,0,0,0,0,0,4\n");
  write_and_aggregate (f, d->str, NULL);

  g_autoptr (GPtrArray) t = rows (f, MS_AGG_REPORT_THREADS, 0);
  g_assert_cmpuint (t->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *row = g_ptr_array_index (t, i);
      guint k = (guint) json_object_get_int_member (row, "tid") - 1001;
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (row, "cpu_percent"), cpu[k], 1e-6);
      g_assert_cmpint (json_object_get_int_member (row, "allocations"), ==, cpu[k] * 100);
      g_assert_cmpstr (json_object_get_string_member (row, "role"), ==, k < 2 ? "cpu-intensive" : "io-intensive");
      g_assert_cmpstr (json_object_get_string_member (row, "alert"), ==, "normal");
    }

  g_autoptr (JsonObject) c = ms_agg_report_correlations (f->run->report);
  JsonObject *ca = json_object_get_object_member (c, "cpu_vs_allocation_rate");
  g_assert_cmpint (json_object_get_int_member (ca, "n"), ==, 3);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (ca, "r"), 1.0, 1e-3);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (ca, "slope"), 100.0, 1.0);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (ca, "intercept"), 0.0, 60.0);

  /* the allocation rate of each thread tracks its CPU over time too */
  g_autoptr (GPtrArray) b = rows (f, MS_AGG_REPORT_BOTTLENECKS, 0);
  guint tracks = 0;
  for (guint i = 0; i < b->len; i++)
    tracks += strcmp (row_str (b, i, "kind"), "cpu-tracks-allocation") == 0;
  g_assert_cmpuint (tracks, ==, 0); /* steady rates: no variation, no finding */

  g_autoptr (JsonNode) r = ms_agg_resource_rankings_json (f->run->report);
  JsonObject *ro = json_node_get_object (r);
  JsonArray *by_cpu = json_object_get_array_member (json_object_get_object_member (ro, "rankings"), "by_cpu");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (by_cpu, 0), "tid"), ==, 1001);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (ro, "system"), "n_cpus"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (ro, "roles"), "cpu-intensive"), ==, 2);
  JsonObject *p0 = json_array_get_object_element (json_object_get_array_member (ro, "processes"), 0);
  JsonObject *res = json_object_get_object_member (p0, "resources");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (res, "cpu_percent"), 150.0, 1e-6);
  g_assert_cmpint (json_object_get_int_member (res, "rss_max_bytes"), ==, 4096);
  /* the rankings keep the summary; the series are the comprehensive report's */
  g_assert_false (json_object_has_member (res, "series"));

  g_autoptr (JsonNode) doc = ms_agg_comprehensive_json (f->run->report);
  JsonObject *o = json_node_get_object (doc);
  JsonObject *proc = json_array_get_object_element (json_object_get_array_member (o, "processes"), 0);
  JsonArray *series = json_object_get_array_member (json_object_get_object_member (proc, "resources"), "series");
  g_assert_cmpuint (json_array_get_length (series), ==, 3);
  static const struct
  {
    gint64 time_ns, rss, threads;
    double cpu, read, write; /* < 0: null */
  } want[] = {
    { 0, 0, 3, -1, -1, -1 },
    { 500000000, 2048, 3, 100.0, 2000.0, 0.0 },
    { 1000000000, 4096, 3, 200.0, 8000.0, 1000.0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      JsonObject *pt = json_array_get_object_element (series, i);
      g_assert_cmpint (json_object_get_int_member (pt, "time_ns"), ==, want[i].time_ns);
      g_assert_cmpint (json_object_get_int_member (pt, "rss_bytes"), ==, want[i].rss);
      g_assert_cmpint (json_object_get_int_member (pt, "threads"), ==, want[i].threads);
      static const char *const rates[] = { "cpu_percent", "io_read_bytes_per_second", "io_write_bytes_per_second" };
      const double values[] = { want[i].cpu, want[i].read, want[i].write };
      for (guint m = 0; m < G_N_ELEMENTS (rates); m++)
        if (values[m] < 0)
          g_assert_true (json_object_get_null_member (pt, rates[m]));
        else
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, rates[m]), values[m], 1e-6);
    }

  JsonObject *sys = json_object_get_object_member (o, "system_timeline");
  g_assert_cmpint (json_object_get_int_member (sys, "n_cpus"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (sys, "mem_total_bytes"), ==, 16000000000);
  g_assert_cmpint (json_object_get_int_member (sys, "interval_ns"), ==, 100000000);
  JsonArray *sp = json_object_get_array_member (sys, "points");
  g_assert_cmpuint (json_array_get_length (sp), ==, 2);
  JsonObject *s0 = json_array_get_object_element (sp, 0), *s1 = json_array_get_object_element (sp, 1);
  g_assert_cmpint (json_object_get_int_member (s0, "time_ns"), ==, 0);
  g_assert_true (json_object_get_null_member (s0, "cpu_percent"));
  g_assert_cmpint (json_object_get_int_member (s0, "mem_available_bytes"), ==, 9000000000);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (s0, "load1"), 1.5, 1e-9);
  g_assert_cmpint (json_object_get_int_member (s1, "time_ns"), ==, 1000000000);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (s1, "cpu_percent"), 37.5, 1e-6);
  g_assert_cmpint (json_object_get_int_member (s1, "mem_available_bytes"), ==, 8000000000);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (s1, "load1"), 2.75, 1e-9);
}

/* A long run's series are thinned to at most 2000 points that keep the
 * highest RSS and the rates over each point's interval. */
static void
test_resource_series_thinned (Fixture *f, gconstpointer data)
{
  const guint n = 5000;
  g_autoptr (GString) d = g_string_new ("process 1200\nfile 0\nstart 0 1200 main\nend 500000000000 1200\n");

  /* one sample every 100 ms for 500 s, one core busy, RSS 1 MiB with a
   * spike of 64 MiB in one sample, and the machine half busy */
  for (guint i = 0; i < n; i++)
    {
      guint64 t = (guint64) i * 100000000u;
      g_string_append_printf (d, "res %" G_GUINT64_FORMAT " process 1200 %u,0,0,%" G_GUINT64_FORMAT ",0,0,0,0,0,0,0,0,0,0,0,%u\n", t,
                              i == 3001 ? 64u << 20 : 1u << 20, t, i == 4999 ? 2 : 1);
      g_string_append_printf (d, "res %" G_GUINT64_FORMAT " cpu 0 %" G_GUINT64_FORMAT ",0,0,0,0,0,0,0\n", t, t);
      g_string_append_printf (d, "res %" G_GUINT64_FORMAT " cpu 1 0,0,0,%" G_GUINT64_FORMAT ",0,0,0,0\n", t, t);
      g_string_append_printf (d, "res %" G_GUINT64_FORMAT " system 0 4000000000,%u,100,0,0,0,0,0,0,2\n", t,
                              i == 2500 ? 1000u : 2000000000u);
    }
  write_and_aggregate (f, d->str, NULL);

  g_autoptr (JsonNode) doc = ms_agg_comprehensive_json (f->run->report);
  JsonObject *o = json_node_get_object (doc);
  JsonObject *proc = json_array_get_object_element (json_object_get_array_member (o, "processes"), 0);
  JsonObject *res = json_object_get_object_member (proc, "resources");
  g_assert_cmpint (json_object_get_int_member (res, "samples"), ==, n);
  JsonArray *series = json_object_get_array_member (res, "series");
  guint len = json_array_get_length (series);
  g_assert_cmpuint (len, <=, 2000);
  g_assert_cmpuint (len, >=, 1000);
  guint64 max_rss = 0, prev_time = 0, spikes = 0;
  for (guint i = 0; i < len; i++)
    {
      JsonObject *pt = json_array_get_object_element (series, i);
      guint64 time = (guint64) json_object_get_int_member (pt, "time_ns");
      guint64 rss = (guint64) json_object_get_int_member (pt, "rss_bytes");
      g_assert_true (i == 0 || time > prev_time);
      prev_time = time;
      max_rss = MAX (max_rss, rss);
      spikes += rss == 64u << 20;
      /* every point, the first too, spans samples: a rate, 100 % of a core */
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, "cpu_percent"), 100.0, 1e-6);
    }
  g_assert_cmpuint (max_rss, ==, 64u << 20);
  g_assert_cmpuint (spikes, ==, 1);
  g_assert_cmpuint (prev_time, ==, (guint64) (n - 1) * 100000000u);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (series, len - 1), "threads"), ==, 2);

  JsonArray *sp = json_object_get_array_member (json_object_get_object_member (o, "system_timeline"), "points");
  guint slen = json_array_get_length (sp);
  g_assert_cmpuint (slen, ==, len);
  guint64 least = G_MAXUINT64;
  for (guint i = 0; i < slen; i++)
    {
      JsonObject *pt = json_array_get_object_element (sp, i);
      least = MIN (least, (guint64) json_object_get_int_member (pt, "mem_available_bytes"));
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (pt, "cpu_percent"), 50.0, 1e-6);
    }
  g_assert_cmpuint (least, ==, 1000);
}

/* ---- growth and hot call sites ----------------------------------------- */

static void
test_findings (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) d = g_string_new ("process 1100\nfile 0\nstart 0 1100 main\n");

  /* 2000 leaks of 100 KiB spread over a second: growth without plateau,
   * and a hot call site of 20000 temporary allocations */
  for (guint i = 0; i < 2000; i++)
    g_string_append_printf (d, "alloc %u 0x%x 102400 grow,main\n", i * 500000, 0x1000000 + 0x20000 * i);
  for (guint i = 0; i < 20000; i++)
    g_string_append_printf (d, "alloc %u 0x500 16 hot,main\nfree %u 0x500\n", 1 + i * 50000, 2 + i * 50000);
  g_string_append (d, "end 1000000000 1100\n");
  write_and_aggregate (f, d->str, NULL);

  g_autoptr (GPtrArray) b = rows (f, MS_AGG_REPORT_BOTTLENECKS, 0);
  gboolean growth = FALSE, hot = FALSE, churn = FALSE;
  for (guint i = 0; i < b->len; i++)
    {
      const char *kind = row_str (b, i, "kind");
      growth = growth || strcmp (kind, "heap-growth") == 0;
      hot = hot || (strcmp (kind, "hot-call-site") == 0 && strcmp (row_str (b, i, "subject"), fake ("hot")) == 0);
      churn = churn || (strcmp (kind, "temporary-churn") == 0 && strcmp (row_str (b, i, "subject"), fake ("hot")) == 0);
    }
  g_assert_true (growth);
  g_assert_true (hot);
  g_assert_true (churn);
  g_assert_cmpint (summary (f, "leaked_bytes"), ==, 2000 * 102400);
  g_assert_cmpint (summary (f, "temporary_allocations"), ==, 20000);

  g_autoptr (GPtrArray) t = rows (f, MS_AGG_REPORT_THREADS, 0);
  g_assert_cmpstr (row_str (t, 0, "role"), ==, "memory-intensive");
  g_assert_cmpstr (row_str (t, 0, "alert"), ==, "high");
}

/* ---- the JSON documents and the schema ------------------------------------ */

static void
validate_docs (MsAggReport *report)
{
  g_autofree char *schema_path = g_test_build_filename (G_TEST_DIST, "..", "data", "memscope-report.schema.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (json_parser_load_from_file (parser, schema_path, &error));
  g_autoptr (JsonNode) doc1 = ms_agg_comprehensive_json (report);
  g_autoptr (JsonNode) doc2 = ms_agg_resource_rankings_json (report);
  ms_test_json_validate (json_parser_get_root (parser), doc1, &error);
  g_assert_no_error (error);
  ms_test_json_validate (json_parser_get_root (parser), doc2, &error);
  g_assert_no_error (error);
}

static void
test_schema (Fixture *f, gconstpointer data)
{
  static const char *const traces[] = { one_thread, two_threads, realloc_race };

  for (guint i = 0; i < G_N_ELEMENTS (traces); i++)
    {
      g_autofree char *sub = g_strdup_printf ("%s/t%u", f->dir, i);
      ms_test_write_trace (sub, traces[i], NULL);
      g_autoptr (MsAggRun) run = aggregate (sub);
      validate_docs (run->report);
    }

  /* and the validator does reject what the schema forbids */
  g_autofree char *sub = g_strdup_printf ("%s/t", f->dir);
  ms_test_write_trace (sub, one_thread, NULL);
  g_autoptr (MsAggRun) run = aggregate (sub);
  g_autofree char *schema_path = g_test_build_filename (G_TEST_DIST, "..", "data", "memscope-report.schema.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, schema_path, NULL));
  g_autoptr (JsonNode) doc = ms_agg_comprehensive_json (run->report);
  JsonObject *summary_obj = json_object_get_object_member (json_node_get_object (doc), "summary");
  json_object_set_string_member (summary_obj, "allocations", "many");
  g_autoptr (GError) error = NULL;
  g_assert_false (ms_test_json_validate (json_parser_get_root (parser), doc, &error));
  g_assert_nonnull (strstr (error->message, "/summary/allocations"));
  g_clear_error (&error);
  json_object_remove_member (json_node_get_object (doc), "schema_version");
  g_assert_false (ms_test_json_validate (json_parser_get_root (parser), doc, &error));
}

/* ---- output formats ------------------------------------------------------ */

static void
test_formats (Fixture *f, gconstpointer data)
{
  write_and_aggregate (f, one_thread, NULL);

  g_autofree char *tsv = print_to_string (f->run->report, MS_AGG_REPORT_SUMMARY, MS_AGG_FORMAT_TSV, 0, 0);
  g_assert_true (g_str_has_prefix (tsv, "program\tprog\nprocesses\t1\nthreads\t1\nallocations\t6\n"));
  g_assert_nonnull (strstr (tsv, "\nleaked_bytes\t550\n"));

  g_autofree char *leaks = print_to_string (f->run->report, MS_AGG_REPORT_LEAKS, MS_AGG_FORMAT_TSV, 0, 1);
  g_autofree char *main_leak_b = folded ("main", "leak_b", NULL);
  g_autofree char *expect = g_strdup_printf (
    "rank\tleaked_blocks\tleaked_bytes\tallocations\tbytes_allocated\tpid\tfunction\tlocation\tstack\n"
    "1\t1\t400\t1\t400\t100\t%s\t-\t%s\n",
    fake ("leak_b"), main_leak_b);
  g_assert_cmpstr (leaks, ==, expect);

  g_autofree char *lines = print_to_string (f->run->report, MS_AGG_REPORT_STACKS, MS_AGG_FORMAT_COLLAPSED,
                                            MS_AGG_WEIGHT_LEAKED, 0);
  g_autofree char *main_leak_a = folded ("main", "leak_a", NULL);
  g_autofree char *line_a = g_strdup_printf ("%s 150\n", main_leak_a);
  g_autofree char *line_b = g_strdup_printf ("%s 400\n", main_leak_b);
  g_assert_nonnull (strstr (lines, line_a));
  g_assert_nonnull (strstr (lines, line_b));
  g_assert_null (strstr (lines, fake ("big")));
  g_autofree char *top = print_to_string (f->run->report, MS_AGG_REPORT_STACKS, MS_AGG_FORMAT_COLLAPSED,
                                          MS_AGG_WEIGHT_BYTES, 1);
  g_autofree char *main_big = folded ("main", "big", NULL);
  g_autofree char *line_big = g_strdup_printf ("%s 1000\n", main_big);
  g_assert_cmpstr (top, ==, line_big);
  g_autofree char *counts = print_to_string (f->run->report, MS_AGG_REPORT_STACKS, MS_AGG_FORMAT_COLLAPSED,
                                             MS_AGG_WEIGHT_COUNT, 0);
  g_autofree char *main_work = folded ("main", "work", NULL);
  g_autofree char *line_w = g_strdup_printf ("%s 2\n", main_work);
  g_assert_nonnull (strstr (counts, line_w));

  g_autofree char *json = print_to_string (f->run->report, MS_AGG_REPORT_THREADS, MS_AGG_FORMAT_JSON, 0, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "report"), ==, "threads");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "rows")), ==, 1);

  g_autofree char *text = print_to_string (f->run->report, MS_AGG_REPORT_LEAKS, MS_AGG_FORMAT_TEXT, 0, 20);
  g_assert_nonnull (strstr (text, fake ("leak_b")));
  g_assert_nonnull (strstr (text, "400 B"));

  /* collapsed makes no sense for the thread table */
  char *buf = NULL;
  size_t size = 0;
  FILE *out = open_memstream (&buf, &size);
  g_autoptr (GError) error = NULL;
  g_assert_false (ms_agg_print_report (f->run->report, out, MS_AGG_REPORT_THREADS, MS_AGG_FORMAT_COLLAPSED, 0, 0, &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  fclose (out);
  free (buf);
}

/* ---- the hash map behind the live table ---------------------------------- */

static void
test_map (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autoptr (GHashTable) ref = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  MsAggMap map;

  ms_agg_map_init (&map, sizeof (guint64));
  for (guint i = 0; i < 200000; i++)
    {
      /* few distinct keys: long probe runs, many removals */
      guint64 key = 16 * (guint64) g_rand_int_range (rand, 1, 5000);
      if (g_rand_boolean (rand))
        {
          gboolean existed;
          *(guint64 *) ms_agg_map_insert (&map, key, &existed) = key * 3;
          g_assert_cmpint (existed, ==, g_hash_table_contains (ref, &key));
          g_hash_table_add (ref, g_memdup2 (&key, sizeof key));
        }
      else
        {
          guint64 v = 0;
          gboolean had = ms_agg_map_remove (&map, key, &v);
          g_assert_cmpint (had, ==, g_hash_table_remove (ref, &key));
          if (had)
            g_assert_cmpuint (v, ==, key * 3);
        }
      g_assert_cmpuint (map.count, ==, g_hash_table_size (ref));
    }
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, ref);
  while (g_hash_table_iter_next (&it, &k, NULL))
    {
      guint64 *v = ms_agg_map_lookup (&map, *(guint64 *) k);
      g_assert_nonnull (v);
      g_assert_cmpuint (*v, ==, *(guint64 *) k * 3);
    }
  ms_agg_map_clear (&map);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add ("/aggregate/" path, Fixture, NULL, setup, fn, teardown)
  ADD ("totals", test_totals);
  ADD ("merge-by-time", test_merge);
  ADD ("realloc-ordering", test_realloc_ordering);
  ADD ("realloc-chain", test_realloc_chain);
  ADD ("sampled", test_sampled);
  ADD ("children", test_children);
  ADD ("children-order", test_children_order);
  ADD ("truncated", test_truncated);
  ADD ("corrupt", test_corrupt);
  ADD ("errors", test_errors);
  ADD ("symbols", test_symbols);
  ADD ("stale-build-id", test_stale);
  ADD ("build-id-lookup", test_build_id);
  ADD ("diff", test_diff);
  ADD ("resources", test_resources);
  ADD ("resources/thinned", test_resource_series_thinned);
  ADD ("findings", test_findings);
  ADD ("schema", test_schema);
  ADD ("formats", test_formats);
  ADD ("labels", test_labels);
#undef ADD
  g_test_add_func ("/aggregate/map", test_map);
  return g_test_run ();
}
