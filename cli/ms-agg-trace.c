/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-agg-trace.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms-error.h"
#include "ms-format.h"
#include "ms-reader.h"

void
ms_agg_damage_free (MsAggDamage *damage)
{
  if (damage == NULL)
    return;
  g_free (damage->file);
  g_free (damage->message);
  g_free (damage);
}

MsAggDamage *
ms_agg_damage_new (const char *path, const GError *error, guint64 last_good_offset)
{
  if (g_error_matches (error, MS_ERROR, MS_ERROR_INCOMPLETE))
    return NULL;

  MsAggDamage *d = g_new0 (MsAggDamage, 1);
  d->file = g_strdup (path);
  d->message = g_strdup (error->message);
  d->last_good_offset = last_good_offset;
  d->truncated = g_error_matches (error, MS_ERROR, MS_ERROR_TRUNCATED);
  return d;
}

guint64
ms_agg_cut_chunk_bytes (const char *path)
{
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, NULL);
  MsFileHeader h;

  if (map == NULL || g_mapped_file_get_length (map) < sizeof h)
    return 0;
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (map);
  gsize size = g_mapped_file_get_length (map);
  memcpy (&h, data, sizeof h);
  /* a file of the other byte order is read by the reader, not estimated here */
  if (h.byte_order != (G_BYTE_ORDER == G_LITTLE_ENDIAN ? MS_BYTE_ORDER_LITTLE : MS_BYTE_ORDER_BIG))
    return 0;

  /* Walk the chunks by their spans to the one that runs past the end. */
  gsize at = h.header_bytes;
  while (at + sizeof (MsChunkHeader) <= size)
    {
      MsChunkHeader c;
      memcpy (&c, data + at, sizeof c);
      if (c.magic != MS_CHUNK_MAGIC || c.span_bytes < sizeof c || c.span_bytes % 8)
        return 0;
      if (at + c.span_bytes > size)
        {
          gsize have = size - at - sizeof c;
          return (c.flags & MS_CHUNK_SEALED) && c.stored_bytes > have ? c.stored_bytes - have : 0;
        }
      at += c.span_bytes;
    }
  return 0;
}

static void
module_free (MsAggModule *m)
{
  g_clear_pointer (&m->build_id, g_bytes_unref);
  g_free (m->path);
  g_free (m);
}

static void
process_info_free (MsAggProcessInfo *p)
{
  g_free (p->dir);
  g_free (p->exe);
  g_free (p->cmdline);
  g_free (p->name);
  g_clear_pointer (&p->info, g_hash_table_unref);
  g_clear_pointer (&p->modules, g_ptr_array_unref);
  g_clear_pointer (&p->thread_files, g_ptr_array_unref);
  g_free (p);
}

void
ms_agg_trace_dir_free (MsAggTraceDir *self)
{
  if (self == NULL)
    return;
  g_free (self->dir);
  g_free (self->resources_path);
  g_clear_pointer (&self->processes, g_ptr_array_unref);
  g_clear_pointer (&self->damage, g_ptr_array_unref);
  g_clear_pointer (&self->warnings, g_ptr_array_unref);
  g_free (self);
}

const MsAggModule *
ms_agg_process_find_module (const MsAggProcessInfo *process, guint64 addr, guint64 time_ns)
{
  const MsAggModule *best = NULL;

  /* A range can be reused after dlclose: prefer the module that was
   * mapped at TIME_NS, else any module that ever covered ADDR. */
  for (guint i = 0; i < process->modules->len; i++)
    {
      const MsAggModule *m = g_ptr_array_index (process->modules, i);
      if (addr < m->start || addr - m->start >= m->size)
        continue;
      if (time_ns >= m->load_ns && time_ns < m->unload_ns)
        return m;
      if (best == NULL)
        best = m;
    }
  return best;
}

static char *
bytes_dup (MsBytes b)
{
  return g_strndup (b.data, b.len);
}

/* cmdline holds the arguments separated (and maybe ended) by NUL bytes. */
static void
set_cmdline (MsAggProcessInfo *p, MsBytes value)
{
  g_autoptr (GString) s = g_string_new (NULL);
  guint32 start = 0;
  gboolean first = TRUE;

  for (guint32 i = 0; i <= value.len; i++)
    {
      if (i < value.len && value.data[i] != '\0')
        continue;
      if (i > start || (i < value.len && !first))
        {
          if (!first)
            g_string_append_c (s, ' ');
          g_string_append_len (s, value.data + start, i - start);
          if (first)
            {
              g_autofree char *argv0 = g_strndup (value.data + start, i - start);
              g_free (p->name);
              p->name = g_path_get_basename (argv0);
            }
          first = FALSE;
        }
      start = i + 1;
    }
  g_free (p->cmdline);
  p->cmdline = g_string_free (g_steal_pointer (&s), FALSE);
}

static guint64
parse_u64 (const char *s)
{
  return s ? g_ascii_strtoull (s, NULL, 10) : 0;
}

static void
add_info (MsAggProcessInfo *p, const MsRecord *r)
{
  g_autofree char *key = bytes_dup (r->u.info.key);

  if (strcmp (key, "cmdline") == 0)
    set_cmdline (p, r->u.info.value);
  g_hash_table_replace (p->info, g_strdup (key), bytes_dup (r->u.info.value));
}

static void
unload_module (MsAggProcessInfo *p, guint64 start, guint64 time_ns)
{
  for (guint i = p->modules->len; i-- > 0;)
    {
      MsAggModule *m = g_ptr_array_index (p->modules, i);
      if (m->start == start && m->unload_ns == G_MAXUINT64)
        {
          m->unload_ns = time_ns;
          return;
        }
    }
}

/* Reads process.mst. Damage is recorded in TRACE and reading goes on; only
 * a file that cannot be read at all (or is too new) is an error. */
static gboolean
load_process_file (MsAggTraceDir *trace, MsAggProcessInfo *p, const char *path, GError **error)
{
  g_autoptr (MsReader) reader = ms_reader_open (path, error);
  MsRecord r;
  guint64 last_good = 0;

  if (reader == NULL)
    return FALSE;

  const MsFileInfo *fi = ms_reader_get_info (reader);
  p->pid = fi->pid;
  p->start_mono_ns = fi->start_mono_ns;
  p->start_wall_ns = fi->start_wall_ns;
  p->has_process_file = TRUE;

  for (;;)
    {
      g_autoptr (GError) local_error = NULL;
      if (!ms_reader_next (reader, &r, &local_error))
        {
          if (local_error == NULL)
            break;
          MsAggDamage *d = ms_agg_damage_new (path, local_error, last_good);
          if (d)
            g_ptr_array_add (trace->damage, d);
          continue;
        }
      last_good = r.file_offset;
      switch (r.kind)
        {
        case MS_RECORD_INFO:
          add_info (p, &r);
          break;
        case MS_RECORD_MODULE_LOAD:
          {
            MsAggModule *m = g_new0 (MsAggModule, 1);
            m->start = r.u.module.start;
            m->size = r.u.module.size;
            m->bias = r.u.module.bias;
            m->build_id = g_bytes_new (r.u.module.build_id.data, r.u.module.build_id.len);
            m->path = bytes_dup (r.u.module.path);
            m->load_ns = r.time_ns;
            m->unload_ns = G_MAXUINT64;
            g_ptr_array_add (p->modules, m);
          }
          break;
        case MS_RECORD_MODULE_UNLOAD:
          unload_module (p, r.u.module.start, r.time_ns);
          break;
        case MS_RECORD_CLOSE:
          p->closed = TRUE;
          break;
        default:
          break;
        }
    }

  const char *v;
  if ((v = g_hash_table_lookup (p->info, "pid")))
    p->pid = (guint32) parse_u64 (v);
  if ((v = g_hash_table_lookup (p->info, "ppid")))
    p->ppid = (guint32) parse_u64 (v);
  if ((v = g_hash_table_lookup (p->info, "exe")))
    p->exe = g_strdup (v);
  if ((v = g_hash_table_lookup (p->info, "sampling")))
    p->sampled = strcmp (v, "exact") != 0 && *v != '\0';
  return TRUE;
}

static gint
compare_slot_paths (gconstpointer a, gconstpointer b)
{
  const char *pa = *(const char *const *) a, *pb = *(const char *const *) b;
  g_autofree char *ba = g_path_get_basename (pa);
  g_autofree char *bb = g_path_get_basename (pb);
  guint64 na = g_ascii_strtoull (ba + strlen ("thread-"), NULL, 10);
  guint64 nb = g_ascii_strtoull (bb + strlen ("thread-"), NULL, 10);

  return na < nb ? -1 : na > nb ? 1 : strcmp (pa, pb);
}

static gboolean
is_thread_file_name (const char *name)
{
  const char *p;

  if (!g_str_has_prefix (name, "thread-") || !g_str_has_suffix (name, ".mst"))
    return FALSE;
  p = name + strlen ("thread-");
  if (*p == '.')
    return FALSE;
  for (; *p != '.'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static gboolean
all_digits (const char *p, const char *end)
{
  if (p == end || end - p > 10)
    return FALSE;
  for (; p < end; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

/* A child's directory: PID, or PID-execN for the program that a process
 * which already had a directory exec'd into. */
static gboolean
is_pid_name (const char *name)
{
  const char *exec = strstr (name, "-exec");

  if (exec == NULL)
    return all_digits (name, name + strlen (name));
  return all_digits (name, exec) && all_digits (exec + strlen ("-exec"), exec + strlen (exec));
}

/* Child directories in the order the processes came: by pid, then
 * PID before PID-exec1 before PID-exec2 (pids are not all as long as one
 * another, nor exec counts). */
static gint
child_dir_order (gconstpointer a, gconstpointer b)
{
  const char *x = strrchr (*(const char *const *) a, G_DIR_SEPARATOR);
  const char *y = strrchr (*(const char *const *) b, G_DIR_SEPARATOR);
  guint64 xv[2] = { 0, 0 }, yv[2] = { 0, 0 };
  const char *xe = strstr (x, "-exec"), *ye = strstr (y, "-exec");

  xv[0] = g_ascii_strtoull (x + 1, NULL, 10);
  yv[0] = g_ascii_strtoull (y + 1, NULL, 10);
  if (xe)
    xv[1] = g_ascii_strtoull (xe + strlen ("-exec"), NULL, 10);
  if (ye)
    yv[1] = g_ascii_strtoull (ye + strlen ("-exec"), NULL, 10);
  for (guint i = 0; i < 2; i++)
    if (xv[i] != yv[i])
      return xv[i] < yv[i] ? -1 : 1;
  return 0;
}

/* The pid stays across exec: a process with no CLOSE that a later one of
 * the same pid followed did not die, it became that program. */
static void
find_exec_chains (MsAggTraceDir *self)
{
  for (guint i = 0; i < self->processes->len; i++)
    {
      MsAggProcessInfo *p = g_ptr_array_index (self->processes, i);
      if (!p->has_process_file || p->closed)
        continue;
      for (guint j = 0; j < self->processes->len && !p->replaced_by_exec; j++)
        {
          const MsAggProcessInfo *q = g_ptr_array_index (self->processes, j);
          p->replaced_by_exec = j != i && q->has_process_file && q->pid == p->pid
                                && q->start_mono_ns > p->start_mono_ns;
        }
    }
}

/* Checks a thread file's header now, so that a file of a newer format
 * stops the run before any analysis, and a file that is not a trace at
 * all is set aside with a warning. */
static gboolean
check_thread_file (MsAggTraceDir *trace, MsAggProcessInfo *p, const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open (path, &local_error);

  if (reader == NULL)
    {
      if (g_error_matches (local_error, MS_ERROR, MS_ERROR_FORMAT_TOO_NEW))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      MsAggDamage *d = ms_agg_damage_new (path, local_error, 0);
      if (d)
        g_ptr_array_add (trace->damage, d);
      return TRUE;
    }
  if (ms_reader_get_info (reader)->kind != MS_FILE_KIND_THREAD)
    {
      g_ptr_array_add (trace->warnings,
                       g_strdup_printf (_("%s: not a thread file (file kind %u); ignored"), path,
                                        (guint) ms_reader_get_info (reader)->kind));
      return TRUE;
    }
  if (!p->has_process_file && p->pid == 0)
    {
      p->pid = ms_reader_get_info (reader)->pid;
      p->start_mono_ns = ms_reader_get_info (reader)->start_mono_ns;
      p->start_wall_ns = ms_reader_get_info (reader)->start_wall_ns;
    }
  g_ptr_array_add (p->thread_files, g_strdup (path));
  return TRUE;
}

/* Loads one process directory; *out_found is FALSE when it holds no trace. */
static gboolean
load_process_dir (MsAggTraceDir *trace, const char *dir, MsAggProcessInfo **out_process, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local_error);
  g_autoptr (GPtrArray) thread_paths = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  gboolean has_process_file = FALSE;

  *out_process = NULL;
  if (d == NULL)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO, _("Cannot read the trace directory: %s"), local_error->message);
      return FALSE;
    }

  while ((name = g_dir_read_name (d)))
    {
      if (strcmp (name, "process.mst") == 0)
        has_process_file = TRUE;
      else if (is_thread_file_name (name))
        g_ptr_array_add (thread_paths, g_build_filename (dir, name, NULL));
    }
  if (!has_process_file && thread_paths->len == 0)
    return TRUE;

  MsAggProcessInfo *p = g_new0 (MsAggProcessInfo, 1);
  p->dir = g_strdup (dir);
  p->info = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  p->modules = g_ptr_array_new_with_free_func ((GDestroyNotify) module_free);
  p->thread_files = g_ptr_array_new_with_free_func (g_free);

  if (has_process_file)
    {
      g_autofree char *path = g_build_filename (dir, "process.mst", NULL);
      g_autoptr (GError) perr = NULL;
      if (!load_process_file (trace, p, path, &perr))
        {
          if (g_error_matches (perr, MS_ERROR, MS_ERROR_FORMAT_TOO_NEW))
            {
              g_propagate_error (error, g_steal_pointer (&perr));
              process_info_free (p);
              return FALSE;
            }
          /* Without its process file the events still count; frames then
           * print as raw addresses. */
          MsAggDamage *damage = ms_agg_damage_new (path, perr, 0);
          if (damage)
            g_ptr_array_add (trace->damage, damage);
          p->has_process_file = FALSE;
        }
    }

  g_ptr_array_sort (thread_paths, compare_slot_paths);
  for (guint i = 0; i < thread_paths->len; i++)
    if (!check_thread_file (trace, p, g_ptr_array_index (thread_paths, i), error))
      {
        process_info_free (p);
        return FALSE;
      }

  if (p->name == NULL && p->exe != NULL)
    p->name = g_path_get_basename (p->exe);
  if (p->name == NULL)
    p->name = g_strdup_printf ("pid%u", p->pid);
  if (p->cmdline == NULL)
    p->cmdline = g_strdup (p->exe ? p->exe : "");
  *out_process = p;
  return TRUE;
}

MsAggTraceDir *
ms_agg_trace_dir_open (const char *dir, GError **error)
{
  g_autoptr (MsAggTraceDir) self = g_new0 (MsAggTraceDir, 1);
  MsAggProcessInfo *root = NULL;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, MS_ERROR, MS_ERROR_IO,
                   g_file_test (dir, G_FILE_TEST_EXISTS)
                       ? _("“%s” is not a directory: give the trace directory that memscope-run wrote")
                       : _("“%s” does not exist: give the trace directory that memscope-run wrote"),
                   dir);
      return NULL;
    }

  self->dir = g_strdup (dir);
  self->processes = g_ptr_array_new_with_free_func ((GDestroyNotify) process_info_free);
  self->damage = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_agg_damage_free);
  self->warnings = g_ptr_array_new_with_free_func (g_free);

  if (!load_process_dir (self, dir, &root, error))
    return NULL;

  /* Children (forked or exec'd) each write into DIR/PID/, and a program
   * that such a process exec'd into into DIR/PID-execN/. */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *sub = g_build_filename (dir, name, NULL);
      if (is_pid_name (name) && g_file_test (sub, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (children, g_steal_pointer (&sub));
    }
  g_ptr_array_sort (children, child_dir_order);

  if (root == NULL)
    {
      /* No process of its own: keep an empty root so that [0] always
       * stands for the directory the user named. */
      root = g_new0 (MsAggProcessInfo, 1);
      root->dir = g_strdup (dir);
      root->info = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      root->modules = g_ptr_array_new_with_free_func ((GDestroyNotify) module_free);
      root->thread_files = g_ptr_array_new_with_free_func (g_free);
      root->cmdline = g_strdup ("");
    }
  g_ptr_array_add (self->processes, root);

  for (guint i = 0; i < children->len; i++)
    {
      MsAggProcessInfo *child = NULL;
      if (!load_process_dir (self, g_ptr_array_index (children, i), &child, error))
        return NULL;
      if (child == NULL)
        continue;
      /* A forked child that wrote no module map of its own inherited its
       * parent's address space. */
      if (!child->has_process_file && root->has_process_file)
        {
          for (guint k = 0; k < root->modules->len; k++)
            {
              const MsAggModule *m = g_ptr_array_index (root->modules, k);
              MsAggModule *copy = g_memdup2 (m, sizeof *m);
              copy->path = g_strdup (m->path);
              copy->build_id = g_bytes_ref (m->build_id);
              g_ptr_array_add (child->modules, copy);
            }
        }
      g_ptr_array_add (self->processes, child);
    }

  find_exec_chains (self);
  gboolean any = FALSE;
  for (guint i = 0; i < self->processes->len; i++)
    {
      MsAggProcessInfo *p = g_ptr_array_index (self->processes, i);
      any = any || p->has_process_file || p->thread_files->len > 0;
    }
  if (!any && self->damage->len == 0)
    {
      g_set_error (error, MS_ERROR, MS_ERROR_NOT_A_TRACE,
                   _("“%s” holds no memscope trace (no process.mst or thread-N.mst): record one with "
                     "“memscope-run -o %s -- PROGRAM”"),
                   dir, dir);
      return NULL;
    }
  if (root->name == NULL)
    {
      MsAggProcessInfo *first = self->processes->len > 1 ? g_ptr_array_index (self->processes, 1) : NULL;
      root->name = g_strdup (first && first->name ? first->name : "memscope");
    }

  g_autofree char *res = g_build_filename (dir, "resources.mst", NULL);
  if (g_file_test (res, G_FILE_TEST_IS_REGULAR))
    self->resources_path = g_steal_pointer (&res);

  return g_steal_pointer (&self);
}
