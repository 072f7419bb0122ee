/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-symbolizer.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

#include "ms-agg-map.h"

/* A binary as recorded (path and build-id), shared by every process that
 * mapped it: forked workers and the programs a script starts all map the
 * C library, whose debug information is read (and inflated) once, and
 * each of its addresses is resolved once whatever the processes' biases. */
typedef struct
{
  gboolean prepared;
  MsSymStatus status;
  Dwfl *dwfl;             /* one per module: a range reused after dlclose can hold two */
  Dwfl_Module *mod;
  guint64 dwfl_bias;      /* the bias it was reported at */
  MsAggMap by_offset;     /* offset in the binary → guint32 index + 1 into frame_sets */
  struct SymbolIndex *symbols; /* NULL until the first lookup */
} ModuleState;

/* A sized symbol of a module's symbol table, for looking addresses up by
 * bisection: dwfl_module_addrinfo reads the whole table at each call,
 * which was most of the time a real program's report took. */
typedef struct
{
  guint64 start;
  guint64 end;
  const char *name;       /* libelf's, alive as long as the module's Dwfl */
  guint32 order;          /* in libdwfl's search: the global symbols first */
  guint8 rank;            /* its binding: global 2, weak 1, local 0 */
} SymbolEntry;

typedef struct SymbolIndex
{
  GArray *sized;          /* SymbolEntry, by start */
  guint64 *max_end;       /* the highest end of sized[0..i] */
  GArray *sizeless;       /* guint64: where the sizeless symbols (labels) are, sorted */
} SymbolIndex;

static void
symbol_index_free (SymbolIndex *index)
{
  g_array_unref (index->sized);
  g_array_unref (index->sizeless);
  g_free (index->max_end);
  g_free (index);
}

/* The frames at one address of one binary, shared by its locations. */
typedef struct
{
  guint n_frames;
  MsSymFrame *frames;
} FrameSet;

/* An address no binary names. */
static MsSymFrame unknown_frame;

typedef struct
{
  const MsAggProcessInfo *info;
  ModuleState **modules;  /* parallel to info->modules, borrowed from the symbolizer */
  guint n_modules;
  MsAggMap cache;         /* ip → guint32 index + 1 into locations */
} ProcessState;

struct _MsSymbolizer
{
  char *sysroot;
  char *debuginfo_path;   /* for dwfl_standard_find_debuginfo */
  GPtrArray *build_id_dirs; /* char*: directories holding .build-id/ */
  Dwfl_Callbacks callbacks;
  GPtrArray *processes;   /* ProcessState*, by process index */
  GHashTable *modules;    /* "path\nbuild-id" → ModuleState* */
  GPtrArray *frame_sets;  /* FrameSet* */
  GPtrArray *locations;   /* MsSymLocation* */
  GPtrArray *warnings;
  char *(*demangle) (const char *, char *, size_t *, int *);
  gboolean demangle_tried;
};

static void
frame_set_free (FrameSet *fs)
{
  for (guint i = 0; i < fs->n_frames; i++)
    {
      g_free (fs->frames[i].function);
      g_free (fs->frames[i].file);
    }
  g_free (fs->frames);
  g_free (fs);
}

static void
module_state_free (ModuleState *ms)
{
  if (ms->symbols)
    symbol_index_free (ms->symbols);
  if (ms->dwfl)
    dwfl_end (ms->dwfl);
  ms_agg_map_clear (&ms->by_offset);
  g_free (ms);
}

static void
process_state_free (ProcessState *ps)
{
  if (ps == NULL)
    return;
  g_free (ps->modules);
  ms_agg_map_clear (&ps->cache);
  g_free (ps);
}

MsSymbolizer *
ms_symbolizer_new (const char *sysroot, const char *const *debug_dirs)
{
  MsSymbolizer *self = g_new0 (MsSymbolizer, 1);
  g_autoptr (GString) path = g_string_new ("-:.debug");

  elf_version (EV_CURRENT);
  self->sysroot = sysroot && *sysroot ? g_strdup (sysroot) : NULL;
  self->build_id_dirs = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; debug_dirs && debug_dirs[i]; i++)
    {
      g_string_append_printf (path, ":%s", debug_dirs[i]);
      g_ptr_array_add (self->build_id_dirs, g_strdup (debug_dirs[i]));
    }
  if (self->sysroot)
    {
      g_autofree char *d = g_build_filename (self->sysroot, "usr/lib/debug", NULL);
      g_string_append_printf (path, ":%s", d);
      g_ptr_array_add (self->build_id_dirs, g_steal_pointer (&d));
    }
  g_string_append (path, ":/usr/lib/debug");
  g_ptr_array_add (self->build_id_dirs, g_strdup ("/usr/lib/debug"));
  self->debuginfo_path = g_string_free (g_steal_pointer (&path), FALSE);

  self->callbacks.find_elf = dwfl_build_id_find_elf;
  self->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
  self->callbacks.section_address = dwfl_offline_section_address;
  self->callbacks.debuginfo_path = &self->debuginfo_path;
  self->processes = g_ptr_array_new_with_free_func ((GDestroyNotify) process_state_free);
  self->modules = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) module_state_free);
  self->locations = g_ptr_array_new_with_free_func (g_free);
  self->frame_sets = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_set_free);
  self->warnings = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
ms_symbolizer_free (MsSymbolizer *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->processes);
  g_hash_table_unref (self->modules);
  g_ptr_array_unref (self->locations);
  g_ptr_array_unref (self->frame_sets);
  g_ptr_array_unref (self->warnings);
  g_ptr_array_unref (self->build_id_dirs);
  g_free (self->debuginfo_path);
  g_free (self->sysroot);
  g_free (self);
}

GPtrArray *
ms_symbolizer_get_warnings (MsSymbolizer *self)
{
  return self->warnings;
}

guint
ms_symbolizer_get_n_resolved (MsSymbolizer *self)
{
  return self->locations->len;
}

/* The GNU build-id note of the ELF file at PATH; NULL if it has none or
 * cannot be read. */
static GBytes *
read_build_id (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  GBytes *ret = NULL;

  if (fd < 0)
    return NULL;
  Elf *elf = elf_begin (fd, ELF_C_READ_MMAP, NULL);
  if (elf)
    {
      const void *id;
      ssize_t len = dwelf_elf_gnu_build_id (elf, &id);
      if (len > 0)
        ret = g_bytes_new (id, (gsize) len);
      elf_end (elf);
    }
  close (fd);
  return ret;
}

/* /usr/lib/debug/.build-id/ab/cdef….debug (and the other directories). */
static char *
find_by_build_id (MsSymbolizer *self, GBytes *build_id)
{
  gsize len;
  const guint8 *id = g_bytes_get_data (build_id, &len);
  g_autoptr (GString) hex = g_string_new (NULL);

  if (len < 2)
    return NULL;
  for (gsize i = 1; i < len; i++)
    g_string_append_printf (hex, "%02x", id[i]);
  for (guint i = 0; i < self->build_id_dirs->len; i++)
    {
      g_autofree char *dir = g_strdup_printf ("%02x", id[0]);
      g_autofree char *name = g_strdup_printf ("%s.debug", hex->str);
      g_autofree char *p = g_build_filename (g_ptr_array_index (self->build_id_dirs, i), ".build-id", dir, name, NULL);
      g_autoptr (GBytes) got = read_build_id (p);
      if (got && g_bytes_equal (got, build_id))
        return g_steal_pointer (&p);
    }
  return NULL;
}

static gboolean
is_file_path (const char *path)
{
  return path && path[0] == '/';
}

static void
prepare_module (MsSymbolizer *self, ModuleState *ms, const MsAggModule *m)
{
  g_autofree char *path = NULL;
  g_autofree char *chosen = NULL;
  g_autoptr (GBytes) on_disk = NULL;
  gboolean have_id = m->build_id && g_bytes_get_size (m->build_id) > 0;
  g_autofree char *base = g_path_get_basename (m->path);

  ms->prepared = TRUE;
  ms->status = MS_SYM_MISSING;
  if (!is_file_path (m->path))
    return; /* [vdso] and the like: no file to read, nothing to warn about */

  path = self->sysroot ? g_build_filename (self->sysroot, m->path, NULL) : g_strdup (m->path);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      on_disk = read_build_id (path);
      if (!have_id || (on_disk && g_bytes_equal (on_disk, m->build_id)))
        chosen = g_strdup (path);
    }
  if (chosen == NULL && have_id)
    chosen = find_by_build_id (self, m->build_id);
  if (chosen == NULL)
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          ms->status = MS_SYM_STALE;
          g_ptr_array_add (self->warnings,
                           g_strdup_printf (_("%s: its build-id differs from the one recorded (rebuilt since the "
                                              "run?): its frames are shown as stale module+offset"),
                                            path));
        }
      else
        g_ptr_array_add (self->warnings,
                         g_strdup_printf (_("%s: not found: its frames are shown as module+offset (use "
                                            "--sysroot or --debug-dir)"),
                                          path));
      return;
    }

  ms->dwfl = dwfl_begin (&self->callbacks);
  if (ms->dwfl == NULL)
    return;
  dwfl_report_begin (ms->dwfl);
  /* ET_DYN with add_p_vaddr false: BASE is the load bias (dlpi_addr). */
  ms->mod = dwfl_report_elf (ms->dwfl, base, chosen, -1, m->bias, false);
  ms->dwfl_bias = m->bias;
  dwfl_report_end (ms->dwfl, NULL, NULL);
  if (ms->mod == NULL)
    {
      g_ptr_array_add (self->warnings, g_strdup_printf (_("%s: cannot be read: %s"), chosen, dwfl_errmsg (-1)));
      g_clear_pointer (&ms->dwfl, dwfl_end);
      return;
    }
  ms->status = MS_SYM_OK;
}

static ProcessState *
process_state (MsSymbolizer *self, const MsAggProcessInfo *info, guint index)
{
  if (index >= self->processes->len)
    g_ptr_array_set_size (self->processes, index + 1);
  ProcessState *ps = g_ptr_array_index (self->processes, index);
  if (ps == NULL)
    {
      ps = g_new0 (ProcessState, 1);
      ps->info = info;
      ps->n_modules = info->modules->len;
      ps->modules = g_new0 (ModuleState *, MAX (ps->n_modules, 1));
      ms_agg_map_init (&ps->cache, sizeof (guint32));
      g_ptr_array_index (self->processes, index) = ps;
    }
  return ps;
}

static char *
demangle (MsSymbolizer *self, const char *versioned)
{
  if (versioned == NULL)
    return NULL;
  /* dynamic symbols come as "name@@GLIBC_2.34": the version is noise here */
  const char *at = strchr (versioned, '@');
  g_autofree char *name = at && at > versioned ? g_strndup (versioned, at - versioned) : g_strdup (versioned);
  if (!g_str_has_prefix (name, "_Z"))
    return g_steal_pointer (&name);
  if (!self->demangle_tried)
    {
      /* libstdc++'s demangler, when the system has it: C++ names read
       * better, and without it they stay mangled but correct. */
      self->demangle_tried = TRUE;
      void *lib = dlopen ("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
      if (lib)
        *(void **) &self->demangle = dlsym (lib, "__cxa_demangle");
    }
  if (self->demangle)
    {
      int status = -1;
      char *d = self->demangle (name, NULL, NULL, &status);
      if (status == 0 && d)
        {
          char *ret = g_strdup (d);
          free (d);
          return ret;
        }
      free (d);
    }
  return g_steal_pointer (&name);
}

static const char *
die_name (Dwarf_Die *die)
{
  Dwarf_Attribute attr;
  const char *name;

  name = dwarf_formstring (dwarf_attr_integrate (die, DW_AT_linkage_name, &attr));
  if (name == NULL)
    name = dwarf_formstring (dwarf_attr_integrate (die, DW_AT_MIPS_linkage_name, &attr));
  if (name == NULL)
    name = dwarf_diename (die);
  return name;
}

static void
add_frame (GArray *frames, char *function, const char *file, guint line, gboolean inlined)
{
  MsSymFrame f = { function, g_strdup (file), line, inlined };
  g_array_append_val (frames, f);
}

static gint
symbol_entry_order (gconstpointer a, gconstpointer b)
{
  const SymbolEntry *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->rank != y->rank)
    return x->rank > y->rank ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static gint
address_order (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* The symbols that libdwfl considers names of code or data. */
static SymbolIndex *
symbol_index (Dwfl_Module *mod)
{
  SymbolIndex *index = g_new0 (SymbolIndex, 1);
  int n = dwfl_module_getsymtab (mod);
  int first_global = dwfl_module_getsymtab_first_global (mod);

  index->sized = g_array_new (FALSE, FALSE, sizeof (SymbolEntry));
  index->sizeless = g_array_new (FALSE, FALSE, sizeof (guint64));
  if (first_global < 0)
    first_global = 0;
  for (int i = 1; i < n; i++)
    {
      GElf_Sym sym;
      GElf_Addr addr;
      GElf_Word shndx;
      const char *name = dwfl_module_getsym_info (mod, i, &sym, &addr, &shndx, NULL, NULL);
      int type = GELF_ST_TYPE (sym.st_info), bind = GELF_ST_BIND (sym.st_info);

      if (name == NULL || name[0] == '\0' || shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE
          || type == STT_TLS)
        continue;
      if (sym.st_size == 0)
        {
          g_array_append_val (index->sizeless, addr);
          continue;
        }
      SymbolEntry e = {
        .start = addr,
        .end = addr + sym.st_size,
        .name = name,
        .order = (guint32) (i >= first_global ? i - first_global : n + i),
        .rank = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0,
      };
      g_array_append_val (index->sized, e);
    }
  g_array_sort (index->sized, symbol_entry_order);
  g_array_sort (index->sizeless, address_order);
  index->max_end = g_new (guint64, MAX (index->sized->len, 1));
  for (guint i = 0; i < index->sized->len; i++)
    {
      guint64 end = g_array_index (index->sized, SymbolEntry, i).end;
      index->max_end[i] = i > 0 ? MAX (index->max_end[i - 1], end) : end;
    }
  return index;
}

/* How far back a bisection looks for a symbol that holds PC: past this
 * many symbols that start lower and end before PC, libdwfl decides. */
#define SYMBOL_LOOKBACK 16

/* The name of the symbol at PC, as dwfl_module_addrinfo gives it: of the
 * sized symbols that hold PC, the one that starts last, a global one
 * before a weak one before a local one, then the first in libdwfl's order
 * (the index is sorted so); none when no symbol holds PC and no label is
 * below it (the static functions of a binary with only its dynamic
 * symbols). What it cannot settle so, libdwfl does. */
static const char *
symbol_name (ModuleState *ms, Dwarf_Addr pc)
{
  if (ms->symbols == NULL)
    ms->symbols = symbol_index (ms->mod);

  const SymbolIndex *index = ms->symbols;
  const SymbolEntry *e = (const SymbolEntry *) (gpointer) index->sized->data;
  guint lo = 0, hi = index->sized->len;
  while (lo < hi) /* the first symbol that starts above PC */
    {
      guint mid = lo + (hi - lo) / 2;
      if (e[mid].start <= pc)
        lo = mid + 1;
      else
        hi = mid;
    }
  for (guint k = lo; k-- > 0 && lo - k <= SYMBOL_LOOKBACK;)
    if (pc < e[k].end)
      {
        /* the first of those that start there and hold PC */
        guint first = k;
        while (first > 0 && e[first - 1].start == e[k].start)
          first--;
        for (guint j = first; j <= k; j++)
          if (pc < e[j].end)
            return e[j].name;
      }
  const guint64 *labels = (const guint64 *) (gpointer) index->sizeless->data;
  if ((lo == 0 || index->max_end[lo - 1] <= pc) && (index->sizeless->len == 0 || labels[0] > pc))
    return NULL;

  GElf_Off off;
  GElf_Sym sym;
  return dwfl_module_addrinfo (ms->mod, pc, &off, &sym, NULL, NULL, NULL);
}

/* The frames at PC: the inlined calls, innermost first, each with the
 * source position inside it, then the function they were inlined into
 * (the recipe of elfutils' addr2line -i). */
static void
resolve_frames (MsSymbolizer *self, ModuleState *ms, Dwarf_Addr pc, GArray *frames)
{
  Dwfl_Module *mod = ms->mod;
  const char *symname = symbol_name (ms, pc);
  Dwfl_Line *line = dwfl_module_getsrc (mod, pc);
  const char *file = NULL;
  int lineno = 0;
  Dwarf_Addr bias = 0;
  Dwarf_Die *cudie = dwfl_module_addrdie (mod, pc, &bias);
  Dwarf_Die *scopes = NULL;
  int n = 0;

  if (line)
    file = dwfl_lineinfo (line, NULL, &lineno, NULL, NULL, NULL);

  if (cudie)
    {
      n = dwarf_getscopes (cudie, pc - bias, &scopes);
      if (n > 0)
        {
          /* dwarf_getscopes continues past an inlined subroutine into its
           * abstract definition; the concrete chain of callers comes from
           * the innermost scope's own parents. */
          Dwarf_Die inner = scopes[0];
          free (scopes);
          scopes = NULL;
          n = dwarf_getscopes_die (&inner, &scopes);
        }
    }

  Dwarf_Files *files = NULL;
  if (n > 0)
    {
      Dwarf_Die cu;
      if (dwarf_diecu (&scopes[0], &cu, NULL, NULL) == NULL || dwarf_getsrcfiles (&cu, &files, NULL) != 0)
        files = NULL;
    }

  g_autofree char *cur_file = g_strdup (file);
  guint cur_line = lineno > 0 ? (guint) lineno : 0;
  gboolean done = FALSE;
  for (int i = 0; i < n && !done; i++)
    {
      Dwarf_Die *die = &scopes[i];
      int tag = dwarf_tag (die);
      if (tag == DW_TAG_inlined_subroutine)
        {
          Dwarf_Attribute attr;
          Dwarf_Word val;

          add_frame (frames, demangle (self, die_name (die)), cur_file, cur_line, TRUE);
          g_clear_pointer (&cur_file, g_free);
          cur_line = 0;
          if (files && dwarf_formudata (dwarf_attr (die, DW_AT_call_file, &attr), &val) == 0)
            cur_file = g_strdup (dwarf_filesrc (files, val, NULL, NULL));
          if (dwarf_formudata (dwarf_attr (die, DW_AT_call_line, &attr), &val) == 0)
            cur_line = (guint) val;
        }
      else if (tag == DW_TAG_subprogram)
        {
          /* the symbol table names the real function even when DWARF
           * names only a declaration */
          add_frame (frames, demangle (self, symname ? symname : die_name (die)), cur_file, cur_line, FALSE);
          done = TRUE;
        }
    }
  free (scopes);
  if (!done)
    add_frame (frames, demangle (self, symname), cur_file, cur_line, FALSE);
}

/* The state of module MI of process PS, shared with the processes that
 * mapped the same binary. */
static ModuleState *
module_state (MsSymbolizer *self, ProcessState *ps, guint mi, const MsAggModule *m)
{
  if (ps->modules[mi] != NULL)
    return ps->modules[mi];

  g_autoptr (GString) key = g_string_new (m->path);
  gsize len = 0;
  const guint8 *id = m->build_id ? g_bytes_get_data (m->build_id, &len) : NULL;
  g_string_append_c (key, '\n');
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (key, "%02x", id[i]);
  ModuleState *ms = g_hash_table_lookup (self->modules, key->str);
  if (ms == NULL)
    {
      ms = g_new0 (ModuleState, 1);
      ms_agg_map_init (&ms->by_offset, sizeof (guint32));
      prepare_module (self, ms, m);
      g_hash_table_insert (self->modules, g_string_free (g_steal_pointer (&key), FALSE), ms);
    }
  ps->modules[mi] = ms;
  return ms;
}

/* The frames at OFFSET in MS's binary, resolved the first time. */
static const FrameSet *
frame_set (MsSymbolizer *self, ModuleState *ms, guint64 offset)
{
  gboolean existed;
  guint32 *slot = ms_agg_map_insert (&ms->by_offset, offset, &existed);

  if (!existed)
    {
      GArray *frames = g_array_new (FALSE, TRUE, sizeof (MsSymFrame));
      FrameSet *fs = g_new (FrameSet, 1);
      /* a return address: the call is the instruction before it */
      resolve_frames (self, ms, offset + ms->dwfl_bias - 1, frames);
      if (frames->len == 0)
        add_frame (frames, NULL, NULL, 0, FALSE);
      fs->n_frames = frames->len;
      fs->frames = (MsSymFrame *) g_array_free (frames, FALSE);
      g_ptr_array_add (self->frame_sets, fs);
      *slot = self->frame_sets->len;
    }
  return g_ptr_array_index (self->frame_sets, *slot - 1);
}

const MsSymLocation *
ms_symbolizer_resolve (MsSymbolizer *self, const MsAggProcessInfo *process, guint process_index, guint64 ip,
                       guint64 time_ns)
{
  ProcessState *ps = process_state (self, process, process_index);
  gboolean existed;
  guint32 *slot = ms_agg_map_insert (&ps->cache, ip ? ip : G_MAXUINT64, &existed);

  if (existed)
    return g_ptr_array_index (self->locations, *slot - 1);

  MsSymLocation *loc = g_new0 (MsSymLocation, 1);
  const MsAggModule *m = ms_agg_process_find_module (process, ip, time_ns);

  loc->ip = ip;
  loc->status = MS_SYM_NO_MODULE;
  loc->n_frames = 1;
  loc->frames = &unknown_frame;
  if (m)
    {
      guint mi = 0;
      while (mi < ps->n_modules && g_ptr_array_index (process->modules, mi) != m)
        mi++;
      ModuleState *ms = module_state (self, ps, mi, m);
      loc->module = m->path;
      loc->offset = ip - m->bias;
      loc->status = ms->status;
      if (ms->status == MS_SYM_OK && ip > 0)
        {
          const FrameSet *fs = frame_set (self, ms, loc->offset);
          loc->n_frames = fs->n_frames;
          loc->frames = fs->frames;
        }
    }
  g_ptr_array_add (self->locations, loc);
  *slot = self->locations->len;
  return loc;
}

char *
ms_sym_frame_label (const MsSymLocation *loc, guint frame)
{
  const MsSymFrame *f = &loc->frames[MIN (frame, loc->n_frames - 1)];

  if (f->function)
    return g_strdup (f->function);
  if (loc->module)
    {
      g_autofree char *base = g_path_get_basename (loc->module);
      return g_strdup_printf ("%s+0x%" G_GINT64_MODIFIER "x%s", base, loc->offset,
                              loc->status == MS_SYM_STALE ? " [stale]" : "");
    }
  return g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", loc->ip);
}
