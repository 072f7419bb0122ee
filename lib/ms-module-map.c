/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-module-map.h"

#include <elf.h>
#include <link.h>
#include <string.h>

#include "ms-sys.h"

/* Objects we can tell apart; a process with more loses only the unload
 * records of the excess, never an event. */
#define MAX_KNOWN 4096

typedef struct
{
  uint64_t start;
  uint64_t end;
  uint64_t bias;
  bool seen; /* in the current scan */
} Known;

static Known known[MAX_KNOWN];
static unsigned n_known;

typedef struct
{
  MsModuleFunc func;
  void *user_data;
} Scan;

static void
read_build_id (const struct dl_phdr_info *info, MsModule *m)
{
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_NOTE)
        continue;
      const uint8_t *p = (const uint8_t *) (info->dlpi_addr + ph->p_vaddr);
      const uint8_t *end = p + ph->p_memsz;
      while (p + sizeof (ElfW (Nhdr)) <= end)
        {
          const ElfW (Nhdr) *n = (const ElfW (Nhdr) *) p;
          const uint8_t *name = p + sizeof *n;
          const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
          const uint8_t *next = desc + ((n->n_descsz + 3) & ~3u);
          if (next > end)
            break;
          if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp (name, "GNU", 4)
              && n->n_descsz <= MS_BUILD_ID_MAX)
            {
              memcpy (m->build_id, desc, n->n_descsz);
              m->build_id_len = n->n_descsz;
              return;
            }
          p = next;
        }
    }
}

static void
describe (const struct dl_phdr_info *info, MsModule *m, char *exe_path, size_t exe_path_size)
{
  uint64_t lo = UINT64_MAX, hi = 0;

  memset (m, 0, sizeof *m);
  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_LOAD)
        continue;
      uint64_t a = info->dlpi_addr + ph->p_vaddr;
      if (a < lo)
        lo = a;
      if (a + ph->p_memsz > hi)
        hi = a + ph->p_memsz;
    }
  m->start = lo & ~(uint64_t) 4095;
  m->size = hi > m->start ? hi - m->start : 0;
  m->bias = info->dlpi_addr;
  read_build_id (info, m);

  m->path = info->dlpi_name;
  if (m->path == NULL || m->path[0] == '\0')
    {
      /* the main program has no name here */
      long n = ms_syscall6 (SYS_readlink, (long) "/proc/self/exe", (long) exe_path, (long) exe_path_size - 1, 0, 0, 0);
      exe_path[n > 0 ? n : 0] = '\0';
      m->path = exe_path;
    }
}

static int
scan_one (struct dl_phdr_info *info, size_t size, void *data)
{
  Scan *scan = data;
  char exe_path[4096];
  MsModule m;

  describe (info, &m, exe_path, sizeof exe_path);
  if (m.size == 0)
    return 0;
  for (unsigned i = 0; i < n_known; i++)
    if (known[i].start == m.start && known[i].bias == m.bias)
      {
        known[i].seen = true;
        return 0;
      }
  if (n_known < MAX_KNOWN)
    {
      known[n_known] = (Known) { .start = m.start, .end = m.start + m.size, .bias = m.bias, .seen = true };
      __atomic_store_n (&n_known, n_known + 1, __ATOMIC_RELEASE);
    }
  scan->func (scan->user_data, &m, true);
  return 0;
}

void
ms_module_map_update (MsModuleFunc func, void *user_data)
{
  Scan scan = { func, user_data };

  for (unsigned i = 0; i < n_known; i++)
    known[i].seen = false;
  dl_iterate_phdr (scan_one, &scan);
  for (unsigned i = 0; i < n_known;)
    {
      if (known[i].seen)
        {
          i++;
          continue;
        }
      MsModule gone = { .start = known[i].start, .bias = known[i].bias, .path = "" };
      func (user_data, &gone, false);
      known[i] = known[--n_known];
    }
}

bool
ms_module_map_contains (uint64_t addr)
{
  unsigned n = __atomic_load_n (&n_known, __ATOMIC_ACQUIRE);

  for (unsigned i = 0; i < n; i++)
    if (addr >= known[i].start && addr < known[i].end)
      return true;
  return false;
}

static int
count_changes (struct dl_phdr_info *info, size_t size, void *data)
{
  uint64_t *out = data;
  *out = info->dlpi_adds + info->dlpi_subs;
  return 1; /* the counters are the same in every entry: one is enough */
}

uint64_t
ms_module_map_generation (void)
{
  uint64_t generation = 0;
  dl_iterate_phdr (count_changes, &generation);
  return generation;
}

void
ms_module_map_reset (void)
{
  n_known = 0;
}

typedef struct
{
  uintptr_t addr, start, end;
  bool found;
} Find;

static int
find_one (struct dl_phdr_info *info, size_t size, void *data)
{
  Find *f = data;
  char exe_path[8];
  MsModule m;

  describe (info, &m, exe_path, sizeof exe_path);
  if (f->addr >= m.start && f->addr < m.start + m.size)
    {
      f->start = (uintptr_t) m.start;
      f->end = (uintptr_t) (m.start + m.size);
      f->found = true;
      return 1;
    }
  return 0;
}

bool
ms_module_map_find_range (uintptr_t addr, uintptr_t *out_start, uintptr_t *out_end)
{
  Find f = { .addr = addr };

  dl_iterate_phdr (find_one, &f);
  if (!f.found)
    return false;
  *out_start = f.start;
  *out_end = f.end;
  return true;
}
