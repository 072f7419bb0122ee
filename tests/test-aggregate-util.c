/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "test-aggregate-util.h"

#include <elf.h>
#include <glib/gstdio.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "ms-writer.h"

#define BASE_NS G_GUINT64_CONSTANT (1000000000)

typedef struct
{
  MsWriter *writer;
  GHashTable *nodes;      /* "parent ip" → id */
  guint64 next_id;
  gboolean close;
  guint64 allocs, frees, bytes;
} File;

typedef struct
{
  char *dir;
  guint32 pid;
  guint64 start_ns;       /* its files' start_mono_ns */
  MsWriter *process;
  GHashTable *files;      /* slot → File* */
} Process;

typedef struct
{
  const char *root;
  GHashTable *symbols;
  GPtrArray *processes;
  Process *cur;
  File *file;
  MsWriter *resources;
  guint line;
} Ctx;

guint64
ms_test_fake_ip (const char *name)
{
  /* high in the canonical lower half, 16-aligned + 5: no module covers it */
  return G_GUINT64_CONSTANT (0x7e0000000000) + ((guint64) g_str_hash (name) << 4) + 5;
}

static void
file_free (File *f)
{
  g_assert_cmpint (ms_writer_close (f->writer), ==, 0);
  g_free (f->writer);
  g_hash_table_unref (f->nodes);
  g_free (f);
}

static MsWriter *
new_writer (const char *path, MsFileKind kind, guint32 pid, guint64 start_ns)
{
  MsWriter *w = g_new0 (MsWriter, 1);
  MsWriterOptions opt = {
    .kind = kind,
    .pid = pid,
    .chunk_bytes = MS_WRITER_MIN_CHUNK_BYTES,
    .start_mono_ns = start_ns,
    .start_wall_ns = G_GUINT64_CONSTANT (1700000000000000000),
  };

  g_unlink (path);
  int r = ms_writer_create (w, path, &opt);
  if (r != 0)
    g_error ("ms_writer_create (%s): %s", path, g_strerror (-r));
  return w;
}

static void
add (MsWriter *w, const MsRecord *r)
{
  g_assert_cmpint (ms_writer_add (w, r), ==, 0);
}

static void
add_info (MsWriter *w, const char *key, const char *value, gsize value_len)
{
  MsRecord r = { .kind = MS_RECORD_INFO, .time_ns = BASE_NS };
  r.u.info.key = (MsBytes) { key, (guint32) strlen (key) };
  r.u.info.value = (MsBytes) { value, (guint32) value_len };
  add (w, &r);
}

static guint64
num (Ctx *c, const char *s)
{
  char *end;
  guint64 v = g_ascii_strtoull (s, &end, 0);
  if (end == s || *end != '\0')
    g_error ("line %u: “%s” is not a number", c->line, s);
  return v;
}

static guint64
weight (Ctx *c, char **argv, guint i)
{
  if (argv[i] == NULL)
    return MS_WEIGHT_ONE;
  if (!g_str_has_prefix (argv[i], "w="))
    g_error ("line %u: expected w=WEIGHT, got “%s”", c->line, argv[i]);
  return (guint64) (g_ascii_strtod (argv[i] + 2, NULL) * MS_WEIGHT_ONE + 0.5);
}

static const char *
opt (char **argv, guint from, const char *key)
{
  gsize len = strlen (key);
  for (guint i = from; argv[i]; i++)
    if (strncmp (argv[i], key, len) == 0 && argv[i][len] == '=')
      return argv[i] + len + 1;
  return NULL;
}

static File *
need_file (Ctx *c)
{
  if (c->file == NULL)
    g_error ("line %u: no “file N” before this event", c->line);
  return c->file;
}

/* The leaf id of STACK in F, defining the nodes it needs first (the shim
 * emits STACK_NODE before the first event that uses it). */
static guint64
stack_id (Ctx *c, File *f, guint64 t, const char *stack)
{
  g_auto (GStrv) frames = NULL;
  guint64 parent = 0;

  if (strcmp (stack, "-") == 0)
    return 0;
  frames = g_strsplit (stack, ",", -1);
  for (guint i = g_strv_length (frames); i-- > 0;)
    {
      guint64 *sym = c->symbols ? g_hash_table_lookup (c->symbols, frames[i]) : NULL;
      guint64 ip = sym ? *sym : ms_test_fake_ip (frames[i]);
      g_autofree char *key = g_strdup_printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, parent, ip);
      gpointer id = g_hash_table_lookup (f->nodes, key);
      if (id == NULL)
        {
          MsRecord r = { .kind = MS_RECORD_STACK_NODE, .time_ns = t };
          r.u.stack_node.id = ++f->next_id;
          r.u.stack_node.parent = parent;
          r.u.stack_node.ip = ip;
          add (f->writer, &r);
          id = GSIZE_TO_POINTER ((gsize) f->next_id);
          g_hash_table_insert (f->nodes, g_steal_pointer (&key), id);
        }
      parent = GPOINTER_TO_SIZE (id);
    }
  return parent;
}

typedef struct
{
  guint64 start, end, bias;
  char build_id[64];
  guint build_id_len;
} SelfMap;

static int
find_self (struct dl_phdr_info *info, size_t size, void *data)
{
  SelfMap *m = data;

  if (info->dlpi_name && info->dlpi_name[0] != '\0')
    return 0;
  m->start = G_MAXUINT64;
  m->bias = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type == PT_LOAD)
        {
          m->start = MIN (m->start, info->dlpi_addr + ph->p_vaddr);
          m->end = MAX (m->end, info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
        }
      else if (ph->p_type == PT_NOTE)
        {
          const guint8 *p = (const guint8 *) (info->dlpi_addr + ph->p_vaddr);
          const guint8 *end = p + ph->p_memsz;
          while (p + sizeof (ElfW (Nhdr)) <= end)
            {
              const ElfW (Nhdr) *n = (const ElfW (Nhdr) *) p;
              const guint8 *name = p + sizeof *n;
              const guint8 *desc = name + ((n->n_namesz + 3) & ~3u);
              if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp (name, "GNU", 4) == 0
                  && n->n_descsz <= sizeof m->build_id)
                {
                  memcpy (m->build_id, desc, n->n_descsz);
                  m->build_id_len = n->n_descsz;
                }
              p = desc + ((n->n_descsz + 3) & ~3u);
            }
        }
    }
  return 1;
}

static void
add_module (MsWriter *w, guint64 t, guint64 start, guint64 size, guint64 bias, const char *path, const char *id,
            guint id_len)
{
  MsRecord r = { .kind = MS_RECORD_MODULE_LOAD, .time_ns = t };
  r.u.module.start = start;
  r.u.module.size = size;
  r.u.module.bias = bias;
  r.u.module.build_id = (MsBytes) { id, id_len };
  r.u.module.path = (MsBytes) { path, (guint32) strlen (path) };
  add (w, &r);
}

static void
cmd_module (Ctx *c, char **argv)
{
  if (c->cur == NULL)
    g_error ("line %u: module before process", c->line);
  if (argv[1] && strcmp (argv[1], "self") == 0)
    {
      SelfMap m = { 0 };
      g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
      dl_iterate_phdr (find_self, &m);
      g_assert_nonnull (exe);
      const char *path = opt (argv, 2, "path");
      add_module (c->cur->process, BASE_NS, m.start, m.end - m.start, m.bias, path ? path : exe, m.build_id,
                  m.build_id_len);
      return;
    }
  if (g_strv_length (argv) < 5)
    g_error ("line %u: module START SIZE BIAS PATH", c->line);
  const char *hex = opt (argv, 5, "build_id");
  g_autoptr (GByteArray) id = g_byte_array_new ();
  for (const char *h = hex; h && h[0] && h[1]; h += 2)
    {
      char b[3] = { h[0], h[1], 0 };
      guint8 v = (guint8) strtoul (b, NULL, 16);
      g_byte_array_append (id, &v, 1);
    }
  add_module (c->cur->process, BASE_NS, num (c, argv[1]), num (c, argv[2]), num (c, argv[3]), argv[4],
              (const char *) id->data, id->len);
}

static void
cmd_process (Ctx *c, char **argv)
{
  Process *p = g_new0 (Process, 1);
  const char *sub = opt (argv, 2, "dir");
  const char *exe = opt (argv, 2, "exe");
  const char *cmd = opt (argv, 2, "cmd");
  const char *sampling = opt (argv, 2, "sampling");
  const char *ppid = opt (argv, 2, "ppid");
  const char *start = opt (argv, 2, "start");

  p->pid = (guint32) num (c, argv[1]);
  p->dir = sub ? g_build_filename (c->root, sub, NULL) : g_strdup (c->root);
  g_assert_cmpint (g_mkdir_with_parents (p->dir, 0700), ==, 0);
  p->files = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) file_free);
  g_autofree char *path = g_build_filename (p->dir, "process.mst", NULL);
  p->start_ns = BASE_NS + (start ? num (c, start) : 0);
  p->process = new_writer (path, MS_FILE_KIND_PROCESS, p->pid, p->start_ns);

  /* cmdline: arguments separated by NUL bytes, as /proc/PID/cmdline */
  g_autofree char *args = g_strdup (cmd ? cmd : "prog");
  gsize len = strlen (args);
  for (char *a = args; *a; a++)
    if (*a == ',')
      *a = '\0';
  add_info (p->process, "cmdline", args, len);
  if (exe)
    add_info (p->process, "exe", exe, strlen (exe));
  g_autofree char *pid = g_strdup_printf ("%u", p->pid);
  add_info (p->process, "pid", pid, strlen (pid));
  if (ppid)
    add_info (p->process, "ppid", ppid, strlen (ppid));
  add_info (p->process, "sampling", sampling ? sampling : "exact", strlen (sampling ? sampling : "exact"));
  add_info (p->process, "memscope_version", "test", 4);

  g_ptr_array_add (c->processes, p);
  c->cur = p;
  c->file = NULL;
}

static void
cmd_file (Ctx *c, char **argv)
{
  guint slot = (guint) num (c, argv[1]);
  File *f = g_hash_table_lookup (c->cur->files, GUINT_TO_POINTER (slot));

  if (f == NULL)
    {
      g_autofree char *name = g_strdup_printf ("thread-%u.mst", slot);
      g_autofree char *path = g_build_filename (c->cur->dir, name, NULL);
      f = g_new0 (File, 1);
      f->writer = new_writer (path, MS_FILE_KIND_THREAD, c->cur->pid, c->cur->start_ns);
      f->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      f->close = TRUE;
      g_hash_table_insert (c->cur->files, GUINT_TO_POINTER (slot), f);
    }
  c->file = f;
}

static void
thread_record (Ctx *c, MsWriter *w, MsRecordKind kind, guint64 t, guint64 tid, const char *name)
{
  MsRecord r = { .kind = kind, .time_ns = BASE_NS + t };
  r.u.thread.tid = tid;
  if (name)
    r.u.thread.name = (MsBytes) { name, (guint32) strlen (name) };
  add (w, &r);
}

static MsWriter *
resources (Ctx *c)
{
  if (c->resources == NULL)
    {
      g_autofree char *path = g_build_filename (c->root, "resources.mst", NULL);
      c->resources = new_writer (path, MS_FILE_KIND_RESOURCES, 1, BASE_NS);
    }
  return c->resources;
}

static void
cmd_res (Ctx *c, char **argv)
{
  MsRecord r = { .kind = MS_RECORD_RESOURCE, .time_ns = BASE_NS + num (c, argv[1]) };
  g_auto (GStrv) values = g_strsplit (argv[4], ",", -1);

  r.u.resource.scope = strcmp (argv[2], "process") == 0 ? MS_RESOURCE_PROCESS
                       : strcmp (argv[2], "thread") == 0 ? MS_RESOURCE_THREAD
                       : strcmp (argv[2], "cpu") == 0    ? MS_RESOURCE_CPU
                                                          : MS_RESOURCE_SYSTEM;
  r.u.resource.id = num (c, argv[3]);
  r.u.resource.n_values = g_strv_length (values);
  for (guint i = 0; i < r.u.resource.n_values; i++)
    r.u.resource.values[i] = num (c, values[i]);
  add (resources (c), &r);
}

/* ALLOC, REALLOC (OLD non-zero) and MMAP, and their sampled forms. */
static void
heap_alloc (Ctx *c, MsRecordKind kind, const char *t, const char *old, const char *addr, const char *size,
            const char *stack, guint64 w)
{
  File *f = need_file (c);
  MsRecord r = { .kind = kind, .time_ns = BASE_NS + num (c, t) };

  r.u.event.stack_id = stack_id (c, f, r.time_ns, stack);
  r.u.event.old_addr = num (c, old);
  r.u.event.addr = num (c, addr);
  r.u.event.size = num (c, size);
  r.u.event.weight = w;
  add (f->writer, &r);
  f->allocs++;
  f->bytes += r.u.event.size;
}

static void
run_line (Ctx *c, char **argv)
{
  const char *cmd = argv[0];
  guint argc = g_strv_length (argv);

#define NEED(n)                                                          \
  do                                                                     \
    if (argc < (n))                                                      \
      g_error ("line %u: “%s” needs %u arguments", c->line, cmd, (n) - 1); \
  while (0)

  if (strcmp (cmd, "process") == 0)
    {
      NEED (2);
      cmd_process (c, argv);
    }
  else if (strcmp (cmd, "module") == 0)
    cmd_module (c, argv);
  else if (strcmp (cmd, "unload") == 0)
    {
      NEED (3);
      MsRecord r = { .kind = MS_RECORD_MODULE_UNLOAD, .time_ns = BASE_NS + num (c, argv[1]) };
      r.u.module.start = num (c, argv[2]);
      add (c->cur->process, &r);
    }
  else if (strcmp (cmd, "file") == 0)
    {
      NEED (2);
      cmd_file (c, argv);
    }
  else if (strcmp (cmd, "start") == 0 || strcmp (cmd, "end") == 0 || strcmp (cmd, "name") == 0)
    {
      NEED (3);
      File *f = need_file (c);
      guint64 t = num (c, argv[1]), tid = num (c, argv[2]);
      if (strcmp (cmd, "end") == 0)
        thread_record (c, f->writer, MS_RECORD_THREAD_END, t, tid, NULL);
      else
        {
          if (strcmp (cmd, "start") == 0)
            thread_record (c, f->writer, MS_RECORD_THREAD_START, t, tid, NULL);
          if (argv[3])
            thread_record (c, f->writer, MS_RECORD_THREAD_NAME, t, tid, argv[3]);
        }
    }
  else if (strcmp (cmd, "alloc") == 0 || strcmp (cmd, "mmap") == 0)
    {
      NEED (5);
      guint64 w = weight (c, argv, 5);
      MsRecordKind kind = strcmp (cmd, "mmap") == 0 ? MS_RECORD_MMAP
                          : w == MS_WEIGHT_ONE      ? MS_RECORD_ALLOC
                                                    : MS_RECORD_ALLOC_SAMPLED;
      heap_alloc (c, kind, argv[1], "0", argv[2], argv[3], argv[4], w);
    }
  else if (strcmp (cmd, "free") == 0 || strcmp (cmd, "munmap") == 0)
    {
      NEED (3);
      File *f = need_file (c);
      MsRecord r = { .kind = strcmp (cmd, "free") == 0 ? MS_RECORD_FREE : MS_RECORD_MUNMAP,
                     .time_ns = BASE_NS + num (c, argv[1]) };
      r.u.event.addr = num (c, argv[2]);
      r.u.event.size = argv[3] ? num (c, argv[3]) : 0;
      r.u.event.weight = MS_WEIGHT_ONE;
      add (f->writer, &r);
      f->frees++;
    }
  else if (strcmp (cmd, "realloc") == 0)
    {
      NEED (6);
      guint64 w = weight (c, argv, 6);
      heap_alloc (c, w == MS_WEIGHT_ONE ? MS_RECORD_REALLOC : MS_RECORD_REALLOC_SAMPLED, argv[1], argv[2], argv[3],
                  argv[4], argv[5], w);
    }
  else if (strcmp (cmd, "lost") == 0)
    {
      NEED (3);
      MsRecord r = { .kind = MS_RECORD_LOST, .time_ns = BASE_NS + num (c, argv[1]) };
      r.u.lost.events = num (c, argv[2]);
      add (need_file (c)->writer, &r);
    }
  else if (strcmp (cmd, "freq") == 0)
    {
      NEED (6);
      MsRecord r = { .kind = MS_RECORD_FREQ, .time_ns = BASE_NS + num (c, argv[1]) };
      guint64 *sym = c->symbols ? g_hash_table_lookup (c->symbols, argv[3]) : NULL;
      r.u.freq.tid = num (c, argv[2]);
      r.u.freq.ip = sym ? *sym : ms_test_fake_ip (argv[3]);
      r.u.freq.count = num (c, argv[4]);
      r.u.freq.bytes = num (c, argv[5]);
      add (need_file (c)->writer, &r);
    }
  else if (strcmp (cmd, "label") == 0)
    {
      NEED (6);
      MsRecord r = { .kind = MS_RECORD_LABEL, .time_ns = BASE_NS + num (c, argv[1]) };
      r.u.label.addr = num (c, argv[2]);
      r.u.label.size = num (c, argv[3]);
      r.u.label.name = (MsBytes) { argv[4], (guint32) strlen (argv[4]) };
      r.u.label.type = (MsBytes) { argv[5], (guint32) strlen (argv[5]) };
      add (need_file (c)->writer, &r);
    }
  else if (strcmp (cmd, "noclose") == 0)
    need_file (c)->close = FALSE;
  else if (strcmp (cmd, "res") == 0)
    {
      NEED (5);
      cmd_res (c, argv);
    }
  else if (strcmp (cmd, "resinfo") == 0)
    {
      NEED (3);
      add_info (resources (c), argv[1], argv[2], strlen (argv[2]));
    }
  else if (strcmp (cmd, "resname") == 0)
    {
      NEED (4);
      thread_record (c, resources (c), MS_RECORD_THREAD_NAME, num (c, argv[1]), num (c, argv[2]), argv[3]);
    }
  else
    g_error ("line %u: unknown command “%s”", c->line, cmd);
#undef NEED
}

static void
finish (Ctx *c)
{
  for (guint i = 0; i < c->processes->len; i++)
    {
      Process *p = g_ptr_array_index (c->processes, i);
      GHashTableIter it;
      gpointer value;
      guint64 last = 0;

      g_hash_table_iter_init (&it, p->files);
      while (g_hash_table_iter_next (&it, NULL, &value))
        {
          File *f = value;
          last = MAX (last, f->writer->state.prev_time_ns);
          if (!f->close)
            continue;
          MsRecord r = { .kind = MS_RECORD_CLOSE, .time_ns = f->writer->state.prev_time_ns };
          r.u.close.allocs = f->allocs;
          r.u.close.frees = f->frees;
          r.u.close.bytes_allocated = f->bytes;
          g_assert_cmpint (ms_writer_add_final (f->writer, &r), ==, 0);
        }
      MsRecord r = { .kind = MS_RECORD_CLOSE, .time_ns = MAX (last, BASE_NS) };
      g_assert_cmpint (ms_writer_add_final (p->process, &r), ==, 0);
      g_assert_cmpint (ms_writer_close (p->process), ==, 0);
      g_free (p->process);
      g_hash_table_unref (p->files);
      g_free (p->dir);
      g_free (p);
    }
  if (c->resources)
    {
      g_assert_cmpint (ms_writer_close (c->resources), ==, 0);
      g_free (c->resources);
    }
}

void
ms_test_write_trace (const char *dir, const char *description, GHashTable *symbols)
{
  Ctx c = { .root = dir, .symbols = symbols, .processes = g_ptr_array_new () };
  g_auto (GStrv) lines = g_strsplit (description, "\n", -1);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  for (guint i = 0; lines[i]; i++)
    {
      char *hash = strchr (lines[i], '#');
      if (hash)
        *hash = '\0';
      g_auto (GStrv) argv = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      g_autoptr (GPtrArray) words = g_ptr_array_new ();
      for (guint k = 0; argv[k]; k++)
        if (argv[k][0])
          g_ptr_array_add (words, argv[k]);
      c.line = i + 1;
      if (words->len == 0)
        continue;
      g_ptr_array_add (words, NULL);
      run_line (&c, (char **) words->pdata);
    }
  finish (&c);
  g_ptr_array_unref (c.processes);
}

char *
ms_test_mkdtemp (void)
{
  char *dir = g_dir_make_tmp ("ms-test-aggregate-XXXXXX", NULL);
  g_assert_nonnull (dir);
  return dir;
}
