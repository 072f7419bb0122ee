/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-unwind.h"

#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "ms-sys.h"

static uint64_t stat_fallbacks;

#if defined(__x86_64__)

/* ---- rules ----
 * What a frame needs to be stepped over, packed in 64 bits:
 *   bits 0-1  kind (RULE_*)
 *   bit  2    CFA is based on rbp (else rsp)
 *   bit  3    the caller's rbp is saved at CFA + rbp_offset
 *   bit  4    CFA = *(base + cfa_offset)  (stack-realigning functions)
 *   bits 16-31 rbp_offset (signed)
 *   bits 32-63 cfa_offset (signed)
 * The return address is always at CFA - 8 (anything else is unsupported). */
enum
{
  RULE_STEP = 0,        /* a frame to step over: 0, so that one test of the
                         * low bits tells a plain step from everything else */
  RULE_LAST = 1,        /* the outermost frame: the return address is undefined */
  RULE_UNSUPPORTED = 2, /* leave this stack to libunwind */
  RULE_NONE = 3,        /* not in the cache (never stored) */
};

#define RULE_CFA_RBP (1u << 2)
#define RULE_RBP_SAVED (1u << 3)
#define RULE_CFA_DEREF (1u << 4)

static inline uint64_t
make_rule (unsigned kind, unsigned flags, int32_t cfa_offset, int16_t rbp_offset)
{
  return (uint64_t) (kind | flags) | ((uint64_t) (uint16_t) rbp_offset << 16) | ((uint64_t) (uint32_t) cfa_offset << 32);
}

/* ---- the shared rule cache ----
 * Open addressing, keyed by return address. A writer first claims an
 * empty slot by CAS to KEY_BUSY, stores the rule, then publishes the key
 * with release order; a reader that meets KEY_BUSY just computes the rule
 * itself. Entries are never removed: code addresses that are unloaded and
 * reused by another object are rare enough to leave to the -z nodelete of
 * the common case, and a stale rule only truncates a stack (the step is
 * checked for sanity), it cannot crash. */
#define CACHE_LOG2 17
#define CACHE_ENTRIES (1u << CACHE_LOG2)
#define CACHE_PROBES 32
#define KEY_BUSY 1ull

typedef struct
{
  uint64_t key;
  uint64_t rule;
} CacheEntry;

static CacheEntry *cache;
static uint64_t stat_rules;

static inline uint32_t
cache_slot (uint64_t ip)
{
  /* The low bits as they are: distinct within every 128 KiB of code, so
   * that the calls of one function sit side by side (a frame walk touches
   * fewer cache lines), and one operation on the walk's critical path
   * instead of a multiply. Code more than 128 KiB apart meets as often as
   * with a hash: libraries start at arbitrary pages. */
  return (uint32_t) ip & (CACHE_ENTRIES - 1);
}

static bool
cache_init (void)
{
  CacheEntry *c = __atomic_load_n (&cache, __ATOMIC_ACQUIRE);
  if (c != NULL)
    return true;
  /* one entry more, never filled: the walk's second probe reads past the
   * last slot without a wrap-around test */
  void *p = ms_sys_mmap (NULL, (CACHE_ENTRIES + 1) * sizeof (CacheEntry), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ms_sys_is_error ((long) p))
    return false;
  CacheEntry *expected = NULL;
  if (!__atomic_compare_exchange_n (&cache, &expected, (CacheEntry *) p, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    ms_sys_munmap (p, (CACHE_ENTRIES + 1) * sizeof (CacheEntry));
  return true;
}

static inline uint64_t
cache_lookup (uint64_t ip)
{
  uint32_t s = cache_slot (ip);
  for (unsigned i = 0; i < CACHE_PROBES; i++, s = (s + 1) & (CACHE_ENTRIES - 1))
    {
      uint64_t key = __atomic_load_n (&cache[s].key, __ATOMIC_ACQUIRE);
      if (key == ip)
        return cache[s].rule;
      if (key == 0)
        return RULE_NONE;
    }
  return RULE_NONE;
}

static void
cache_insert (uint64_t ip, uint64_t rule)
{
  uint32_t s = cache_slot (ip);
  for (unsigned i = 0; i < CACHE_PROBES; i++, s = (s + 1) & (CACHE_ENTRIES - 1))
    {
      uint64_t key = __atomic_load_n (&cache[s].key, __ATOMIC_ACQUIRE);
      if (key == ip)
        return;
      if (key != 0)
        continue;
      if (!__atomic_compare_exchange_n (&cache[s].key, &key, KEY_BUSY, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        {
          if (key == ip)
            return;
          continue;
        }
      cache[s].rule = rule;
      __atomic_store_n (&cache[s].key, ip, __ATOMIC_RELEASE);
      __atomic_add_fetch (&stat_rules, 1, __ATOMIC_RELAXED);
      return;
    }
  /* full around here: the rule is recomputed on each use, still correct */
}

/* ---- DWARF call frame information ---- */

typedef struct
{
  const uint8_t *p;
  const uint8_t *end;
  bool bad;
} Cursor;

static uint8_t
get_u8 (Cursor *c)
{
  if (c->p >= c->end)
    {
      c->bad = true;
      return 0;
    }
  return *c->p++;
}

static uint64_t
get_fixed (Cursor *c, unsigned bytes)
{
  uint64_t v = 0;
  if ((size_t) (c->end - c->p) < bytes)
    {
      c->bad = true;
      return 0;
    }
  memcpy (&v, c->p, bytes); /* x86-64 is little-endian, like its .eh_frame */
  c->p += bytes;
  return v;
}

/* LEB128, as ms-varint.h reads it; SIGNED extends the last byte's sign */
static uint64_t
get_leb (Cursor *c, bool is_signed)
{
  uint64_t v = 0;
  unsigned shift = 0;
  uint8_t b;
  do
    {
      b = get_u8 (c);
      if (shift < 64)
        v |= (uint64_t) (b & 0x7f) << shift;
      shift += 7;
    }
  while ((b & 0x80) && !c->bad);
  if (is_signed && shift < 64 && (b & 0x40))
    v |= ~(uint64_t) 0 << shift;
  return v;
}

static uint64_t
get_uleb (Cursor *c)
{
  return get_leb (c, false);
}

static int64_t
get_sleb (Cursor *c)
{
  return (int64_t) get_leb (c, true);
}

#define DW_EH_PE_omit 0xff
#define DW_EH_PE_pcrel 0x10
#define DW_EH_PE_datarel 0x30
#define DW_EH_PE_indirect 0x80

/* An encoded pointer; DATA_BASE is what datarel is relative to. */
static uint64_t
get_encoded (Cursor *c, uint8_t enc, uint64_t data_base)
{
  const uint8_t *at = c->p;
  uint64_t v;

  if (enc == DW_EH_PE_omit)
    return 0;
  switch (enc & 0x0f)
    {
    case 0x00: v = get_fixed (c, 8); break;
    case 0x01: v = get_uleb (c); break;
    case 0x02: v = get_fixed (c, 2); break;
    case 0x03: v = get_fixed (c, 4); break;
    case 0x04: v = get_fixed (c, 8); break;
    case 0x09: v = (uint64_t) get_sleb (c); break;
    case 0x0a: v = (uint64_t) (int64_t) (int16_t) get_fixed (c, 2); break;
    case 0x0b: v = (uint64_t) (int64_t) (int32_t) get_fixed (c, 4); break;
    case 0x0c: v = get_fixed (c, 8); break;
    default: c->bad = true; return 0;
    }
  switch (enc & 0x70)
    {
    case 0x00: break;
    case DW_EH_PE_pcrel: v += (uint64_t) (uintptr_t) at; break;
    case DW_EH_PE_datarel: v += data_base; break;
    default: c->bad = true; return 0;
    }
  if (enc & DW_EH_PE_indirect)
    v = *(const uint64_t *) (uintptr_t) v;
  return v;
}

typedef struct
{
  uint64_t code_align;
  int64_t data_align;
  uint64_t ra_reg;
  uint8_t fde_enc;
  bool has_z;
  bool signal_frame;
  const uint8_t *insns;
  const uint8_t *insns_end;
} Cie;

static bool
parse_cie (const uint8_t *at, Cie *cie)
{
  Cursor c = { at, at + 4, false };
  uint64_t len = get_fixed (&c, 4);
  if (len == 0xffffffffu || len == 0)
    return false; /* 64-bit DWARF does not occur in .eh_frame on Linux */
  c.end = c.p + len;
  if (get_fixed (&c, 4) != 0)
    return false;
  uint8_t version = get_u8 (&c);
  const char *aug = (const char *) c.p;
  while (c.p < c.end && *c.p)
    c.p++;
  get_u8 (&c);
  if (version == 4)
    c.p += 2; /* address and segment selector sizes */
  memset (cie, 0, sizeof *cie);
  cie->fde_enc = 0;
  cie->code_align = get_uleb (&c);
  cie->data_align = get_sleb (&c);
  cie->ra_reg = version == 1 ? get_u8 (&c) : get_uleb (&c);
  if (aug[0] == 'z')
    {
      cie->has_z = true;
      uint64_t aug_len = get_uleb (&c);
      const uint8_t *aug_end = c.p + aug_len;
      for (const char *a = aug + 1; *a && !c.bad; a++)
        {
          if (*a == 'R')
            cie->fde_enc = get_u8 (&c);
          else if (*a == 'P')
            {
              uint8_t enc = get_u8 (&c);
              get_encoded (&c, enc & ~DW_EH_PE_indirect, 0);
            }
          else if (*a == 'L')
            get_u8 (&c);
          else if (*a == 'S')
            cie->signal_frame = true;
          else
            break; /* unknown: the length lets us skip the rest */
        }
      c.p = aug_end;
    }
  else if (aug[0] != '\0')
    return false;
  cie->insns = c.p;
  cie->insns_end = c.end;
  return !c.bad && c.p <= c.end;
}

/* The register rules we follow: x86-64 DWARF numbers rbp 6, rsp 7, RA 16. */
#define DW_REG_RBP 6
#define DW_REG_RSP 7
#define DW_REG_RA 16

typedef struct
{
  unsigned cfa_reg;   /* 6 or 7; anything else is unsupported */
  int64_t cfa_offset;
  bool cfa_deref;     /* CFA = *(reg + offset) */
  bool cfa_other;     /* an expression or register we do not follow */
  int rbp_how;        /* 0 unchanged, 1 at CFA + rbp_offset, 2 unsupported */
  int64_t rbp_offset;
  int ra_how;         /* 0 at CFA + ra_offset, 1 undefined, 2 unsupported */
  int64_t ra_offset;
} State;

#define MAX_REMEMBER 8

/* REG now has a rule the fast path does not follow: fine for any register
 * but rbp and the return address, which the walk needs. */
static void
rule_not_followed (State *st, uint64_t reg)
{
  if (reg == DW_REG_RBP)
    st->rbp_how = 2;
  else if (reg == DW_REG_RA)
    st->ra_how = 2;
}

/* Runs the CFA instructions of [p, end) while the location is <= TARGET. */
static bool
run_cfa (const uint8_t *p, const uint8_t *end, const Cie *cie, uint64_t loc, uint64_t target, State *st,
         const State *initial)
{
  Cursor c = { p, end, false };
  State stack[MAX_REMEMBER];
  unsigned depth = 0;

  while (c.p < c.end && !c.bad)
    {
      uint8_t op = get_u8 (&c);
      uint8_t high = op & 0xc0, low = op & 0x3f;
      uint64_t reg = 0;
      int64_t off = 0;

      if (high == 0x40) /* advance_loc */
        {
          loc += low * cie->code_align;
          if (loc > target)
            return true;
          continue;
        }
      if (high == 0x80) /* offset */
        {
          reg = low;
          off = (int64_t) get_uleb (&c) * cie->data_align;
          goto set_offset;
        }
      if (high == 0xc0) /* restore */
        {
          reg = low;
          goto restore;
        }
      switch (op)
        {
        case 0x00: /* nop */
          break;
        case 0x01: /* set_loc */
          loc = get_encoded (&c, cie->fde_enc, 0);
          if (loc > target)
            return true;
          break;
        case 0x02: case 0x03: case 0x04: /* advance_loc1/2/4 */
          loc += get_fixed (&c, op == 0x02 ? 1 : op == 0x03 ? 2 : 4) * cie->code_align;
          if (loc > target)
            return true;
          break;
        case 0x05: /* offset_extended */
          reg = get_uleb (&c);
          off = (int64_t) get_uleb (&c) * cie->data_align;
          goto set_offset;
        case 0x06: /* restore_extended */
          reg = get_uleb (&c);
          goto restore;
        case 0x07: /* undefined */
          reg = get_uleb (&c);
          if (reg == DW_REG_RA)
            st->ra_how = 1;
          else if (reg == DW_REG_RBP)
            st->rbp_how = 2;
          break;
        case 0x08: /* same_value */
          reg = get_uleb (&c);
          if (reg == DW_REG_RBP)
            st->rbp_how = 0;
          else if (reg == DW_REG_RA)
            st->ra_how = 2;
          break;
        case 0x09: /* register */
          reg = get_uleb (&c);
          get_uleb (&c);
          rule_not_followed (st, reg);
          break;
        case 0x0a: /* remember_state */
          if (depth == MAX_REMEMBER)
            return false;
          stack[depth++] = *st;
          break;
        case 0x0b: /* restore_state */
          if (depth == 0)
            return false;
          *st = stack[--depth];
          break;
        case 0x0c: /* def_cfa */
          st->cfa_reg = (unsigned) get_uleb (&c);
          st->cfa_offset = (int64_t) get_uleb (&c);
          st->cfa_deref = st->cfa_other = false;
          break;
        case 0x0d: /* def_cfa_register */
          st->cfa_reg = (unsigned) get_uleb (&c);
          st->cfa_deref = st->cfa_other = false;
          break;
        case 0x0e: /* def_cfa_offset */
          st->cfa_offset = (int64_t) get_uleb (&c);
          break;
        case 0x0f: /* def_cfa_expression */
          {
            uint64_t len = get_uleb (&c);
            Cursor e = { c.p, c.p + len, false };
            c.p += len;
            /* what GCC emits for stack-realigning functions:
             * DW_OP_breg<rbp|rsp> <sleb>; DW_OP_deref */
            uint8_t o = get_u8 (&e);
            if ((o == 0x70 + DW_REG_RBP || o == 0x70 + DW_REG_RSP) && len >= 3)
              {
                int64_t k = get_sleb (&e);
                if (get_u8 (&e) == 0x06 /* deref */ && e.p == e.end && !e.bad)
                  {
                    st->cfa_reg = o - 0x70u;
                    st->cfa_offset = k;
                    st->cfa_deref = true;
                    st->cfa_other = false;
                    break;
                  }
              }
            st->cfa_other = true;
            break;
          }
        case 0x10: /* expression */
        case 0x16: /* val_expression */
          reg = get_uleb (&c);
          c.p += get_uleb (&c);
          rule_not_followed (st, reg);
          break;
        case 0x11: /* offset_extended_sf */
          reg = get_uleb (&c);
          off = get_sleb (&c) * cie->data_align;
          goto set_offset;
        case 0x12: /* def_cfa_sf */
          st->cfa_reg = (unsigned) get_uleb (&c);
          st->cfa_offset = get_sleb (&c) * cie->data_align;
          st->cfa_deref = st->cfa_other = false;
          break;
        case 0x13: /* def_cfa_offset_sf */
          st->cfa_offset = get_sleb (&c) * cie->data_align;
          break;
        case 0x14: /* val_offset */
        case 0x15: /* val_offset_sf */
          reg = get_uleb (&c);
          if (op == 0x14)
            get_uleb (&c);
          else
            get_sleb (&c);
          rule_not_followed (st, reg);
          break;
        case 0x2e: /* GNU_args_size */
          get_uleb (&c);
          break;
        case 0x2f: /* GNU_negative_offset_extended */
          reg = get_uleb (&c);
          off = -(int64_t) get_uleb (&c) * cie->data_align;
          goto set_offset;
        default:
          return false;
        }
      continue;

    set_offset:
      if (reg == DW_REG_RBP)
        {
          st->rbp_how = 1;
          st->rbp_offset = off;
        }
      else if (reg == DW_REG_RA)
        {
          st->ra_how = 0;
          st->ra_offset = off;
        }
      continue;

    restore:
      if (initial == NULL)
        return false; /* restore inside the CIE's own instructions */
      if (reg == DW_REG_RBP)
        {
          st->rbp_how = initial->rbp_how;
          st->rbp_offset = initial->rbp_offset;
        }
      else if (reg == DW_REG_RA)
        {
          st->ra_how = initial->ra_how;
          st->ra_offset = initial->ra_offset;
        }
    }
  return !c.bad;
}

/* ---- finding the FDE ---- */

typedef struct
{
  uint64_t pc;
  const uint8_t *hdr; /* .eh_frame_hdr of the object containing pc */
} HdrSearch;

static int
find_hdr (struct dl_phdr_info *info, size_t size, void *data)
{
  HdrSearch *s = data;
  const uint8_t *hdr = NULL;
  bool inside = false;

  for (int i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      uint64_t start = info->dlpi_addr + ph->p_vaddr;
      if (ph->p_type == PT_LOAD && s->pc >= start && s->pc < start + ph->p_memsz)
        inside = true;
      else if (ph->p_type == PT_GNU_EH_FRAME)
        hdr = (const uint8_t *) (uintptr_t) start;
    }
  if (!inside)
    return 0;
  s->hdr = hdr;
  return 1;
}

/* The FDE covering PC, from the binary search table of .eh_frame_hdr. */
static const uint8_t *
find_fde (uint64_t pc)
{
  HdrSearch s = { .pc = pc };

  dl_iterate_phdr (find_hdr, &s);
  if (s.hdr == NULL || s.hdr[0] != 1)
    return NULL;
  uint64_t base = (uint64_t) (uintptr_t) s.hdr;
  Cursor c = { s.hdr + 4, s.hdr + 4 + 64, false };
  uint8_t ptr_enc = s.hdr[1], count_enc = s.hdr[2], table_enc = s.hdr[3];
  get_encoded (&c, ptr_enc, base);
  uint64_t count = get_encoded (&c, count_enc, base);
  /* datarel sdata4 pairs is the only table GNU tools write */
  if (c.bad || table_enc != (DW_EH_PE_datarel | 0x0b) || count == 0)
    return NULL;
  const int32_t *table = (const int32_t *) c.p;
  uint64_t lo = 0, hi = count;
  while (hi - lo > 1)
    {
      uint64_t mid = (lo + hi) / 2;
      if (base + (int64_t) table[2 * mid] <= pc)
        lo = mid;
      else
        hi = mid;
    }
  if (base + (int64_t) table[2 * lo] > pc)
    return NULL;
  return (const uint8_t *) (uintptr_t) (base + (int64_t) table[2 * lo + 1]);
}

static uint64_t
compute_rule (uint64_t pc)
{
  const uint8_t *fde = find_fde (pc);
  Cie cie;

  if (fde == NULL)
    return make_rule (RULE_LAST, 0, 0, 0); /* no unwind information: stop here */

  Cursor c = { fde, fde + 4, false };
  uint64_t len = get_fixed (&c, 4);
  if (len == 0 || len == 0xffffffffu)
    return make_rule (RULE_UNSUPPORTED, 0, 0, 0);
  c.end = c.p + len;
  const uint8_t *cie_ptr_at = c.p;
  uint32_t cie_offset = (uint32_t) get_fixed (&c, 4);
  if (!parse_cie (cie_ptr_at - cie_offset, &cie) || cie.ra_reg != DW_REG_RA || cie.signal_frame)
    return make_rule (RULE_UNSUPPORTED, 0, 0, 0);

  uint64_t pc_begin = get_encoded (&c, cie.fde_enc, 0);
  uint64_t pc_range = get_encoded (&c, cie.fde_enc & 0x0f, 0);
  if (c.bad || pc < pc_begin || pc >= pc_begin + pc_range)
    return make_rule (RULE_LAST, 0, 0, 0);
  if (cie.has_z)
    {
      uint64_t aug_len = get_uleb (&c);
      c.p += aug_len;
    }

  State initial = { .cfa_reg = DW_REG_RSP, .cfa_offset = 8, .ra_how = 0, .ra_offset = -8 };
  if (!run_cfa (cie.insns, cie.insns_end, &cie, pc_begin, UINT64_MAX, &initial, NULL))
    return make_rule (RULE_UNSUPPORTED, 0, 0, 0);
  State st = initial;
  if (!run_cfa (c.p, c.end, &cie, pc_begin, pc, &st, &initial))
    return make_rule (RULE_UNSUPPORTED, 0, 0, 0);

  if (st.ra_how == 1)
    return make_rule (RULE_LAST, 0, 0, 0);
  if (st.cfa_other || (st.cfa_reg != DW_REG_RSP && st.cfa_reg != DW_REG_RBP) || st.ra_how != 0 || st.ra_offset != -8
      || st.rbp_how == 2 || st.cfa_offset != (int32_t) st.cfa_offset || st.rbp_offset != (int16_t) st.rbp_offset)
    return make_rule (RULE_UNSUPPORTED, 0, 0, 0);

  unsigned flags = (st.cfa_reg == DW_REG_RBP ? RULE_CFA_RBP : 0) | (st.rbp_how == 1 ? RULE_RBP_SAVED : 0)
                   | (st.cfa_deref ? RULE_CFA_DEREF : 0);
  return make_rule (RULE_STEP, flags, (int32_t) st.cfa_offset, (int16_t) st.rbp_offset);
}

/* ---- the walk ---- */

/* Frames are handed back starting with the caller of the function whose
 * frame record (saved rbp, then return address, as a frame pointer lays
 * them out) is at FRAME. That caller runs with rsp = FRAME + 16: libunwind
 * starts here and steps over every frame below that. */
static __attribute__ ((noinline)) int
fallback (const uint64_t *frame, uint64_t *ips, int max)
{
  unw_cursor_t cursor;
  unw_context_t context;
  const unw_word_t caller_sp = (unw_word_t) (uintptr_t) (frame + 2);
  int n = 0;

  /* libunwind is not ours to trust with errno, which the program owns */
  int saved_errno = errno;
  __atomic_add_fetch (&stat_fallbacks, 1, __ATOMIC_RELAXED);
  if (unw_getcontext (&context) < 0 || unw_init_local (&cursor, &context) < 0)
    {
      errno = saved_errno;
      return 0;
    }
  while (n < max && unw_step (&cursor) > 0)
    {
      unw_word_t ip, sp;
      if (unw_get_reg (&cursor, UNW_REG_SP, &sp) < 0)
        break;
      if (sp < caller_sp)
        continue; /* our own frames, between here and FRAME */
      if (unw_get_reg (&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
        break;
      ips[n++] = ip;
    }
  errno = saved_errno;
  return n;
}

/* The rule for IP when the first probe of the cache missed: further
 * probes, else computed from .eh_frame and cached. */
static __attribute__ ((noinline)) uint64_t
rule_slow (uint64_t ip)
{
  uint64_t rule = cache_lookup (ip);
  if (rule == RULE_NONE)
    {
      /* the loader and the DWARF reader are not ours to trust with errno */
      int saved_errno = errno;
      rule = compute_rule (ip - 1);
      errno = saved_errno;
      cache_insert (ip, rule);
    }
  return rule;
}

/* The walk from the frame record at FP: ~20 instructions a frame, one
 * probe of the shared cache (a return address is nearly always in its
 * first slot) and two loads of the stack. */
static inline __attribute__ ((always_inline)) int
walk (const uint64_t *fp, uint64_t *ips, int max)
{
  uint64_t ip = fp[1];
  uint64_t rsp = (uint64_t) (uintptr_t) (fp + 2);
  uint64_t rbp = fp[0];
  uint64_t *out = ips;
  uint64_t *const end = ips + max;

  if (max <= 0)
    return 0;
  if (MS_UNLIKELY (!cache_init ()))
    return fallback (fp, ips, max);
  const CacheEntry *table = cache;

  while (ip != 0)
    {
      *out++ = ip;
      if (out == end)
        break;

      /* a return address: the rule that applies is the call's, at ip - 1;
       * nearly always in its slot, else mostly in the next one */
      const CacheEntry *e = &table[cache_slot (ip)];
      uint64_t rule;
      if (MS_LIKELY (__atomic_load_n (&e->key, __ATOMIC_ACQUIRE) == ip))
        rule = e->rule;
      else if (__atomic_load_n (&e[1].key, __ATOMIC_ACQUIRE) == ip)
        rule = e[1].rule;
      else
        rule = rule_slow (ip);

      uint64_t base = (rule & RULE_CFA_RBP) ? rbp : rsp;
      uint64_t cfa = base + (uint64_t) ((int64_t) rule >> 32);
      /* one test for everything but a plain step */
      if (MS_UNLIKELY ((rule & (3 | RULE_CFA_DEREF)) != 0))
        {
          unsigned kind = rule & 3;
          if (kind == RULE_LAST)
            break;
          if (kind != RULE_STEP)
            {
              /* RULE_UNSUPPORTED: libunwind takes the whole stack over */
              int m = fallback (fp, ips, max);
              return m > 0 ? m : (int) (out - ips);
            }
          cfa = *(const uint64_t *) (uintptr_t) cfa;
        }
      /* the caller's frame lies above this one, and not far: anything
       * else is a broken rule or stack, and ends the walk rather than the
       * program (one compare: cfa <= rsp wraps around) */
      if (MS_UNLIKELY (cfa - rsp - 1 >= (1u << 26)))
        break;
      ip = *(const uint64_t *) (uintptr_t) (cfa - 8);
      if (rule & RULE_RBP_SAVED)
        rbp = *(const uint64_t *) (uintptr_t) (cfa + (int16_t) (rule >> 16));
      rsp = cfa;
    }
  return (int) (out - ips);
}

/* The frame pointer gives this function's own frame record exactly,
 * whatever the build flags of the rest. */
__attribute__ ((noinline, optimize ("no-omit-frame-pointer"))) int
ms_unwind (uint64_t *ips, int max)
{
  return walk (__builtin_frame_address (0), ips, max);
}

__attribute__ ((noinline)) int
ms_unwind_from (const void *frame, uint64_t *ips, int max)
{
  return walk (frame, ips, max);
}

void
ms_unwind_get_stats (MsUnwindStats *out)
{
  out->rules = __atomic_load_n (&stat_rules, __ATOMIC_RELAXED);
  out->fallbacks = __atomic_load_n (&stat_fallbacks, __ATOMIC_RELAXED);
}

#else /* not x86-64: libunwind's own fast path */

int
ms_unwind (uint64_t *ips, int max)
{
  return unw_backtrace ((void **) ips, max);
}

/* The caller's frames come first (MS_UNWIND_FROM_IS_EXACT is 0): the
 * tracker trims them by address range. */
int
ms_unwind_from (const void *frame, uint64_t *ips, int max)
{
  (void) frame;
  return unw_backtrace ((void **) ips, max);
}

void
ms_unwind_get_stats (MsUnwindStats *out)
{
  out->rules = 0;
  out->fallbacks = __atomic_load_n (&stat_fallbacks, __ATOMIC_RELAXED);
}

#endif
