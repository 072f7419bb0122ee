/* SPDX-License-Identifier: LGPL-2.1-or-later
 * ms-dump FILE...: every record of trace files as one line of text each,
 * for tests and for people debugging the format. */
#include "config.h"

#include <glib.h>
#include <locale.h>

#include "ms-error.h"
#include "ms-reader.h"

static const char *
kind_name (unsigned kind)
{
  static const char *names[] = {
    [MS_RECORD_ALLOC] = "alloc", [MS_RECORD_FREE] = "free", [MS_RECORD_REALLOC] = "realloc",
    [MS_RECORD_ALLOC_SAMPLED] = "alloc_sampled", [MS_RECORD_REALLOC_SAMPLED] = "realloc_sampled",
    [MS_RECORD_MMAP] = "mmap", [MS_RECORD_MUNMAP] = "munmap", [MS_RECORD_STACK_NODE] = "stack_node",
    [MS_RECORD_THREAD_START] = "thread_start", [MS_RECORD_THREAD_NAME] = "thread_name",
    [MS_RECORD_THREAD_END] = "thread_end", [MS_RECORD_MODULE_LOAD] = "module_load",
    [MS_RECORD_MODULE_UNLOAD] = "module_unload", [MS_RECORD_LOST] = "lost", [MS_RECORD_FREQ] = "freq",
    [MS_RECORD_INFO] = "info", [MS_RECORD_RESOURCE] = "resource", [MS_RECORD_LABEL] = "label",
    [MS_RECORD_CLOSE] = "close",
  };
  return kind < G_N_ELEMENTS (names) && names[kind] ? names[kind] : "unknown";
}

static void
print_bytes (MsBytes b, gboolean hex)
{
  for (guint32 i = 0; i < b.len; i++)
    {
      guchar c = (guchar) b.data[i];
      if (hex)
        g_print ("%02x", c);
      else
        g_print (c >= 0x20 && c < 0x7f && c != '\\' ? "%c" : "\\x%02x", c);
    }
}

static void
print_record (const MsRecord *r)
{
  g_print ("%" G_GUINT64_FORMAT " %s", r->time_ns, kind_name (r->kind));
  switch (r->kind)
    {
    case MS_RECORD_ALLOC: case MS_RECORD_ALLOC_SAMPLED: case MS_RECORD_MMAP:
      g_print (" addr=0x%" G_GINT64_MODIFIER "x size=%" G_GUINT64_FORMAT " stack=%" G_GUINT64_FORMAT " weight=%" G_GUINT64_FORMAT,
               r->u.event.addr, r->u.event.size, r->u.event.stack_id, r->u.event.weight);
      break;
    case MS_RECORD_REALLOC: case MS_RECORD_REALLOC_SAMPLED:
      g_print (" old=0x%" G_GINT64_MODIFIER "x addr=0x%" G_GINT64_MODIFIER "x size=%" G_GUINT64_FORMAT " stack=%" G_GUINT64_FORMAT " weight=%" G_GUINT64_FORMAT,
               r->u.event.old_addr, r->u.event.addr, r->u.event.size, r->u.event.stack_id, r->u.event.weight);
      break;
    case MS_RECORD_FREE:
      g_print (" addr=0x%" G_GINT64_MODIFIER "x", r->u.event.addr);
      break;
    case MS_RECORD_MUNMAP:
      g_print (" addr=0x%" G_GINT64_MODIFIER "x size=%" G_GUINT64_FORMAT, r->u.event.addr, r->u.event.size);
      break;
    case MS_RECORD_STACK_NODE:
      g_print (" id=%" G_GUINT64_FORMAT " parent=%" G_GUINT64_FORMAT " ip=0x%" G_GINT64_MODIFIER "x",
               r->u.stack_node.id, r->u.stack_node.parent, r->u.stack_node.ip);
      break;
    case MS_RECORD_THREAD_START: case MS_RECORD_THREAD_END:
      g_print (" tid=%" G_GUINT64_FORMAT, r->u.thread.tid);
      break;
    case MS_RECORD_THREAD_NAME:
      g_print (" tid=%" G_GUINT64_FORMAT " name=", r->u.thread.tid);
      print_bytes (r->u.thread.name, FALSE);
      break;
    case MS_RECORD_MODULE_LOAD:
      g_print (" start=0x%" G_GINT64_MODIFIER "x size=%" G_GUINT64_FORMAT " bias=0x%" G_GINT64_MODIFIER "x build_id=",
               r->u.module.start, r->u.module.size, r->u.module.bias);
      print_bytes (r->u.module.build_id, TRUE);
      g_print (" path=");
      print_bytes (r->u.module.path, FALSE);
      break;
    case MS_RECORD_MODULE_UNLOAD:
      g_print (" start=0x%" G_GINT64_MODIFIER "x", r->u.module.start);
      break;
    case MS_RECORD_LOST:
      g_print (" events=%" G_GUINT64_FORMAT " reason=%" G_GUINT64_FORMAT, r->u.lost.events, r->u.lost.reason);
      break;
    case MS_RECORD_FREQ:
      g_print (" tid=%" G_GUINT64_FORMAT " ip=0x%" G_GINT64_MODIFIER "x count=%" G_GUINT64_FORMAT " bytes=%" G_GUINT64_FORMAT,
               r->u.freq.tid, r->u.freq.ip, r->u.freq.count, r->u.freq.bytes);
      break;
    case MS_RECORD_INFO:
      g_print (" ");
      print_bytes (r->u.info.key, FALSE);
      g_print ("=");
      print_bytes (r->u.info.value, FALSE);
      break;
    case MS_RECORD_RESOURCE:
      g_print (" scope=%" G_GUINT64_FORMAT " id=%" G_GUINT64_FORMAT " values=", r->u.resource.scope, r->u.resource.id);
      for (guint32 i = 0; i < r->u.resource.n_values; i++)
        g_print ("%s%" G_GUINT64_FORMAT, i ? "," : "", r->u.resource.values[i]);
      break;
    case MS_RECORD_LABEL:
      g_print (" addr=0x%" G_GINT64_MODIFIER "x size=%" G_GUINT64_FORMAT " name=", r->u.label.addr, r->u.label.size);
      print_bytes (r->u.label.name, FALSE);
      g_print (" type=");
      print_bytes (r->u.label.type, FALSE);
      break;
    case MS_RECORD_CLOSE:
      g_print (" allocs=%" G_GUINT64_FORMAT " frees=%" G_GUINT64_FORMAT " bytes_allocated=%" G_GUINT64_FORMAT
               " bytes_freed=%" G_GUINT64_FORMAT " lost=%" G_GUINT64_FORMAT,
               r->u.close.allocs, r->u.close.frees, r->u.close.bytes_allocated, r->u.close.bytes_freed, r->u.close.lost);
      break;
    default:
      g_print (" payload_bytes=%u", r->u.unknown.payload.len);
      break;
    }
  g_print ("\n");
}

/* --counts: one "kind count" line per record kind, over all the files */
static guint64 kind_counts[256];

int
main (int argc, char **argv)
{
  int status = 0;
  gboolean counts = FALSE, compact = FALSE;
  int first = 1;

  setlocale (LC_ALL, "");
  if (argc > 1 && g_str_equal (argv[1], "--counts"))
    counts = TRUE, first++;
  else if (argc > 1 && g_str_equal (argv[1], "--compact"))
    compact = TRUE, first++;
  if (argc <= first)
    {
      g_printerr ("usage: %s [--counts | --compact] TRACE-FILE...\n", argv[0]);
      return 1;
    }
  for (int i = first; i < argc; i++)
    {
      if (compact)
        {
          g_autoptr (GError) error = NULL;
          if (!ms_trace_compact_file (argv[i], 0, &error))
            {
              g_printerr ("%s\n", error->message);
              status = 2;
            }
          continue;
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (MsReader) reader = ms_reader_open (argv[i], &error);
      MsRecord record;

      if (reader == NULL)
        {
          g_printerr ("%s\n", error->message);
          status = 2;
          continue;
        }
      const MsFileInfo *info = ms_reader_get_info (reader);
      if (!counts)
        g_print ("# %s: format %u.%u kind=%u pid=%u start_mono_ns=%" G_GUINT64_FORMAT "\n", argv[i], info->major,
                 info->minor, info->kind, info->pid, info->start_mono_ns);
      for (;;)
        {
          if (ms_reader_next (reader, &record, &error))
            {
              if (counts)
                kind_counts[record.kind & 0xff]++;
              else
                print_record (&record);
              continue;
            }
          if (error == NULL)
            break;
          g_printerr ("warning: %s\n", error->message);
          if (!g_error_matches (error, MS_ERROR, MS_ERROR_INCOMPLETE))
            status = 2;
          g_clear_error (&error);
        }
    }
  for (guint k = 0; counts && k < G_N_ELEMENTS (kind_counts); k++)
    if (kind_counts[k])
      g_print ("%s %" G_GUINT64_FORMAT "\n", kind_name (k), kind_counts[k]);
  return status;
}
