/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Benchmark of memscope-trace(5) on a synthetic allocation churn: writer,
 * reader (raw and compacted) and compaction throughput, and bytes per
 * event. Never run by make check; bench/run-format.sh builds and runs it,
 * bench/README.md explains the figures.
 *
 * The stream is made up front so that only the format is timed:
 *   - 40 call sites with Zipf-like popularity, each with a fixed stack of
 *     8-24 frames below a shared prefix (main loop, dispatch...), interned
 *     into a trie in order of first use as the tracker does, so STACK_NODE
 *     records appear in the stream before the first event that needs them;
 *   - sizes from 16 B to 4 KiB, skewed small: each site has a typical size
 *     class, some vary around it;
 *   - addresses from a model of glibc's malloc: chunks of the request plus
 *     8 bytes rounded to 16, a LIFO free list per chunk size (tcache and
 *     fastbins), new chunks cut from the top of one heap; or, with
 *     --allocator=slab, of a size-class allocator (jemalloc, tcmalloc,
 *     mimalloc): 35 classes, each in its own 64 KiB runs;
 *   - lifetimes per site: most objects die within a few events (LIFO
 *     churn), some live for thousands, a few for the whole cycle; a few
 *     sites grow their blocks by realloc;
 *   - 50-300 ns between events.
 * A cycle of --cycle events (ending with the frees of what is still live)
 * is replayed until --events events are written, the clock running on. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ms-reader.h"
#include "ms-writer.h"

typedef struct
{
  uint64_t addr;     /* STACK_NODE: ip */
  uint64_t old_addr; /* REALLOC only */
  uint32_t size;     /* STACK_NODE: parent */
  uint16_t stack;    /* leaf id; STACK_NODE: its id */
  uint16_t dt_ns;    /* after the previous event */
  uint8_t kind;      /* MsRecordKind */
} BenchEvent;

#define START_MONO_NS 1000000000ull

/* ---- the synthetic stream ---- */

#define N_SITES 40
#define N_CLASSES 260 /* glibc: chunk size / 16, up to 4 KiB + header */
#define RUN_BYTES 65536u
#define ARENA_BASE 0x55555a000000ull

typedef struct
{
  uint32_t weight;        /* popularity */
  uint32_t size;          /* typical size */
  uint8_t varies;         /* sizes spread around the typical one */
  uint8_t grows;          /* reallocs to twice the size a few times */
  uint16_t leaf;          /* stack leaf id, 0 until first used */
  uint32_t n_frames;
  uint64_t frames[32];    /* innermost first */
} Site;

typedef struct
{
  uint64_t *free_list;    /* LIFO */
  uint32_t n_free, cap_free;
  uint64_t run_next, run_end;
} SizeClass;

typedef struct
{
  uint64_t due;           /* event index when the next action happens */
  uint64_t addr;
  uint32_t size;
  uint16_t site;
  uint8_t reallocs_left;
} Block;

/* The program-like pattern: requests of a few types, each type a fixed
 * script of steps, as a server's handlers allocate the same things in the
 * same order every time. */
#define N_SCRIPTS 8
#define MAX_STEPS 64
#define CACHE_OBJECTS 3000

typedef enum
{
  STEP_ALLOC,
  STEP_FREE,    /* the object of step ref */
  STEP_REALLOC, /* grows the object of step ref */
  STEP_KEEP,    /* the object of step ref outlives the request: into the cache */
} StepOp;

typedef struct
{
  uint8_t op;
  uint8_t site;    /* STEP_ALLOC */
  uint8_t ref;
  uint16_t dt_ns;  /* typical time since the previous step */
} Step;

typedef struct
{
  Step steps[MAX_STEPS];
  uint32_t n_steps;
  uint32_t weight;
} Script;

typedef struct
{
  uint64_t addr;
  uint32_t size;
} Object;

typedef struct
{
  GRand *rand;
  Site sites[N_SITES];
  uint32_t total_weight;
  gboolean slab;          /* the size-class model, not glibc's */
  SizeClass classes[N_CLASSES];
  uint64_t arena_next;    /* glibc: the top chunk */
  GHashTable *trie;       /* "parent:ip" -> id; ids in order of creation */
  uint32_t n_nodes;
  Block *heap;            /* random pattern: min-heap of live blocks by due */
  uint32_t n_live, cap_live;
  Script scripts[N_SCRIPTS]; /* request pattern */
  uint32_t total_script_weight;
  Object cache[CACHE_OBJECTS]; /* request pattern: objects kept, oldest first out */
  uint32_t cache_head, cache_len;
  uint32_t pending_dt;    /* time of steps that wrote nothing, for the next event */
  uint64_t n_events;      /* hot events emitted */
  GArray *out;            /* BenchEvent */
} Gen;

static uint32_t
glibc_chunk_bytes (uint32_t size)
{
  return MAX (32u, (size + 8 + 15) & ~15u);
}

static uint32_t
size_class (const Gen *g, uint32_t size)
{
  if (!g->slab)
    return glibc_chunk_bytes (size) / 16;
  if (size <= 512)
    return (size + 15) / 16 - 1; /* 0..31: 16-byte steps */
  uint32_t c = 32;
  for (uint32_t s = 1024; s < size; s <<= 1)
    c++;
  return c; /* 32: 1 KiB, 33: 2 KiB, 34: 4 KiB */
}

static uint32_t
slab_class_bytes (uint32_t c)
{
  return c < 32 ? 16 * (c + 1) : 1024u << (c - 32);
}

static uint64_t
gen_malloc (Gen *g, uint32_t size)
{
  SizeClass *sc = &g->classes[size_class (g, size)];

  if (sc->n_free > 0)
    return sc->free_list[--sc->n_free];
  if (!g->slab)
    {
      /* the user pointer is 16 bytes into the chunk */
      uint64_t addr = g->arena_next + 16;
      g->arena_next += glibc_chunk_bytes (size);
      return addr;
    }
  uint32_t bytes = slab_class_bytes (size_class (g, size));
  if (sc->run_next + bytes > sc->run_end)
    {
      sc->run_next = g->arena_next;
      sc->run_end = g->arena_next + RUN_BYTES;
      g->arena_next += RUN_BYTES;
    }
  uint64_t addr = sc->run_next;
  sc->run_next += bytes;
  return addr;
}

static void
gen_free (Gen *g, uint64_t addr, uint32_t size)
{
  SizeClass *sc = &g->classes[size_class (g, size)];

  if (sc->n_free == sc->cap_free)
    {
      sc->cap_free = MAX (64, 2 * sc->cap_free);
      sc->free_list = g_renew (uint64_t, sc->free_list, sc->cap_free);
    }
  sc->free_list[sc->n_free++] = addr;
}

static void
heap_push (Gen *g, Block b)
{
  if (g->n_live == g->cap_live)
    {
      g->cap_live = MAX (1024, 2 * g->cap_live);
      g->heap = g_renew (Block, g->heap, g->cap_live);
    }
  uint32_t i = g->n_live++;
  while (i > 0 && g->heap[(i - 1) / 2].due > b.due)
    {
      g->heap[i] = g->heap[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  g->heap[i] = b;
}

static Block
heap_pop (Gen *g)
{
  Block top = g->heap[0], last = g->heap[--g->n_live];
  uint32_t i = 0;

  for (;;)
    {
      uint32_t c = 2 * i + 1;
      if (c >= g->n_live)
        break;
      if (c + 1 < g->n_live && g->heap[c + 1].due < g->heap[c].due)
        c++;
      if (g->heap[c].due >= last.due)
        break;
      g->heap[i] = g->heap[c];
      i = c;
    }
  if (g->n_live > 0)
    g->heap[i] = last;
  return top;
}

static uint16_t
next_dt (Gen *g)
{
  return (uint16_t) g_rand_int_range (g->rand, 50, 301);
}

static void
emit (Gen *g, BenchEvent e)
{
  if (e.kind != MS_RECORD_STACK_NODE)
    g->n_events++;
  g_array_append_val (g->out, e);
}

/* Interns SITE's stack root first, emitting STACK_NODE for new nodes. */
static uint16_t
intern_stack (Gen *g, Site *site)
{
  uint64_t parent = 0;

  for (int i = (int) site->n_frames - 1; i >= 0; i--)
    {
      char *key = g_strdup_printf ("%" G_GINT64_MODIFIER "x:%" G_GINT64_MODIFIER "x", parent, site->frames[i]);
      gpointer id = g_hash_table_lookup (g->trie, key);
      if (id == NULL)
        {
          id = GUINT_TO_POINTER (++g->n_nodes);
          g_hash_table_insert (g->trie, key, id);
          emit (g, (BenchEvent) { .kind = MS_RECORD_STACK_NODE, .stack = (uint16_t) g->n_nodes,
                                  .size = (uint32_t) parent, .addr = site->frames[i] });
        }
      else
        g_free (key);
      parent = GPOINTER_TO_UINT (id);
    }
  return (uint16_t) parent;
}

static void
make_sites (Gen *g)
{
  /* sizes of the typical allocations: small ones dominate */
  static const uint32_t typical[] = { 16, 24, 32, 32, 48, 64, 64, 80, 96, 128, 160, 256, 384, 512, 1024, 4096 };
  static const uint64_t prefix[] = { 0x401a2c, 0x7ffff7829d90, 0x4025f1, 0x403b17, 0x40482e };
  uint64_t modules[] = { 0x555555560000ull, 0x7ffff7e40000ull, 0x7ffff7a00000ull };

  for (int s = 0; s < N_SITES; s++)
    {
      Site *site = &g->sites[s];
      /* Zipf-like: the first sites take most of the events */
      site->weight = 100000 / (uint32_t) (s + 1);
      g->total_weight += site->weight;
      site->size = typical[g_rand_int_range (g->rand, 0, G_N_ELEMENTS (typical))];
      site->varies = g_rand_int_range (g->rand, 0, 3) == 0;
      site->grows = s % 10 == 3;
      site->n_frames = (uint32_t) g_rand_int_range (g->rand, 8, 25);
      /* innermost first: leaf in a library, then the site's own callers,
       * then the prefix every stack shares (outermost last) */
      uint32_t own = site->n_frames - G_N_ELEMENTS (prefix);
      uint64_t module = modules[s % G_N_ELEMENTS (modules)];
      for (uint32_t f = 0; f < own; f++)
        site->frames[f] = module + (uint64_t) g_rand_int_range (g->rand, 0, 1 << 20);
      /* sites share their outer callers in groups of five */
      for (uint32_t f = own > 3 ? own - 3 : 0; f < own; f++)
        site->frames[f] = 0x404000 + 0x100 * (uint64_t) (s / 5) + f;
      for (uint32_t f = 0; f < G_N_ELEMENTS (prefix); f++)
        site->frames[own + f] = prefix[f];
    }
}

static Site *
pick_site (Gen *g, uint16_t *out_index)
{
  uint32_t r = (uint32_t) g_rand_int_range (g->rand, 0, (gint32) g->total_weight);

  for (uint16_t s = 0; s < N_SITES; s++)
    {
      if (r < g->sites[s].weight)
        {
          *out_index = s;
          return &g->sites[s];
        }
      r -= g->sites[s].weight;
    }
  *out_index = 0;
  return &g->sites[0];
}

static uint32_t
site_size (Gen *g, const Site *site)
{
  uint32_t size = site->size;

  if (site->varies)
    size = MAX (16u, size / 2 + (uint32_t) g_rand_int_range (g->rand, 0, (gint32) size + 1));
  return MIN (size, 4096u);
}

static uint64_t
lifetime (Gen *g, uint64_t cycle)
{
  double u = g_rand_double (g->rand);

  if (u < 0.70)
    return 1 + (uint64_t) g_rand_int_range (g->rand, 0, 8);       /* temporaries */
  if (u < 0.95)
    return 8 + (uint64_t) g_rand_int_range (g->rand, 0, 4000);    /* request-scoped */
  if (u < 0.995)
    return 4000 + (uint64_t) g_rand_int_range (g->rand, 0, 200000);
  return cycle;                                                    /* caches: live to the end */
}

static void
gen_alloc (Gen *g, uint64_t i, uint64_t cycle)
{
  uint16_t index;
  Site *site = pick_site (g, &index);
  uint32_t size = site_size (g, site);

  if (site->leaf == 0)
    site->leaf = intern_stack (g, site);

  Block b = { .addr = gen_malloc (g, size), .size = size, .site = index,
              .reallocs_left = site->grows ? (uint8_t) g_rand_int_range (g->rand, 0, 4) : 0 };
  b.due = i + (b.reallocs_left ? 1 + (uint64_t) g_rand_int_range (g->rand, 0, 50) : lifetime (g, cycle));
  emit (g, (BenchEvent) { .kind = MS_RECORD_ALLOC, .addr = b.addr, .size = size, .stack = site->leaf,
                          .dt_ns = next_dt (g) });
  heap_push (g, b);
}

static void
gen_due (Gen *g, uint64_t i, uint64_t cycle)
{
  Block b = heap_pop (g);

  if (b.reallocs_left == 0)
    {
      emit (g, (BenchEvent) { .kind = MS_RECORD_FREE, .addr = b.addr, .dt_ns = next_dt (g) });
      gen_free (g, b.addr, b.size);
      return;
    }
  /* grow: a new block when the class changes, in place otherwise */
  uint32_t size = MIN (b.size * 2, 4096u);
  uint64_t addr = b.addr;
  if (size_class (g, size) != size_class (g, b.size))
    {
      addr = gen_malloc (g, size);
      gen_free (g, b.addr, b.size);
    }
  emit (g, (BenchEvent) { .kind = MS_RECORD_REALLOC, .old_addr = b.addr, .addr = addr, .size = size,
                          .stack = g->sites[b.site].leaf, .dt_ns = next_dt (g) });
  b.addr = addr;
  b.size = size;
  b.reallocs_left--;
  b.due = i + (b.reallocs_left ? 1 + (uint64_t) g_rand_int_range (g->rand, 0, 50) : lifetime (g, cycle));
  heap_push (g, b);
}

/* Writes the script of one request type: allocations from a few sites,
 * each object freed later in the request (most recent first, mostly),
 * grown by realloc on the way when its site does that, or kept beyond
 * the request. Everything still open at the end is freed. */
static void
make_script (Gen *g, Script *sc)
{
  uint8_t open[MAX_STEPS], n_open = 0, reallocs[MAX_STEPS] = { 0 };
  int allocs_left = g_rand_int_range (g->rand, 4, 17);

  sc->n_steps = 0;
  while ((allocs_left > 0 || n_open > 0) && sc->n_steps < MAX_STEPS)
    {
      Step *st = &sc->steps[sc->n_steps];
      st->dt_ns = (uint16_t) g_rand_int_range (g->rand, 50, 301);

      if (allocs_left > 0 && (n_open == 0 || g_rand_double (g->rand) < 0.55)
          && sc->n_steps + 2 * (n_open + 1) < MAX_STEPS)
        {
          uint16_t site;
          pick_site (g, &site);
          st->op = STEP_ALLOC;
          st->site = (uint8_t) site;
          open[n_open++] = (uint8_t) sc->n_steps;
          allocs_left--;
        }
      else
        {
          if (n_open == 0)
            break;
          int k = g_rand_double (g->rand) < 0.7 ? n_open - 1 : g_rand_int_range (g->rand, 0, n_open);
          uint8_t ref = open[k];
          st->ref = ref;
          if (g->sites[sc->steps[ref].site].grows && reallocs[ref] < 2 && g_rand_boolean (g->rand))
            {
              st->op = STEP_REALLOC;
              reallocs[ref]++;
            }
          else
            {
              st->op = g_rand_double (g->rand) < 0.08 ? STEP_KEEP : STEP_FREE;
              memmove (&open[k], &open[k + 1], (size_t) (n_open - k - 1));
              n_open--;
            }
        }
      sc->n_steps++;
    }
  /* out of steps: free what is open, newest first */
  while (n_open > 0 && sc->n_steps < MAX_STEPS)
    sc->steps[sc->n_steps++] = (Step) { .op = STEP_FREE, .ref = open[--n_open],
                                        .dt_ns = (uint16_t) g_rand_int_range (g->rand, 50, 301) };
  g_assert (n_open == 0);
}

/* The time since the previous event: the step's own, give or take an
 * eighth, and what steps without an event took. */
static uint16_t
step_dt (Gen *g, const Step *st)
{
  int32_t jitter = st->dt_ns / 8;
  uint32_t dt = st->dt_ns + (uint32_t) g_rand_int_range (g->rand, -jitter, jitter + 1) + g->pending_dt;

  g->pending_dt = 0;
  return (uint16_t) MIN (dt, 65535u);
}

static void
run_request (Gen *g)
{
  uint32_t r = (uint32_t) g_rand_int_range (g->rand, 0, (gint32) g->total_script_weight);
  const Script *sc = &g->scripts[0];
  Object obj[MAX_STEPS];

  for (int i = 0; i < N_SCRIPTS; i++, r -= g->scripts[i - 1].weight)
    if (r < g->scripts[i].weight)
      {
        sc = &g->scripts[i];
        break;
      }

  for (uint32_t k = 0; k < sc->n_steps; k++)
    {
      const Step *st = &sc->steps[k];
      Object *o = &obj[st->ref];

      switch (st->op)
        {
        case STEP_ALLOC:
          {
            Site *site = &g->sites[st->site];
            if (site->leaf == 0)
              site->leaf = intern_stack (g, site);
            o = &obj[k];
            o->size = site_size (g, site);
            o->addr = gen_malloc (g, o->size);
            emit (g, (BenchEvent) { .kind = MS_RECORD_ALLOC, .addr = o->addr, .size = o->size,
                                    .stack = site->leaf, .dt_ns = step_dt (g, st) });
            break;
          }
        case STEP_FREE:
          emit (g, (BenchEvent) { .kind = MS_RECORD_FREE, .addr = o->addr, .dt_ns = step_dt (g, st) });
          gen_free (g, o->addr, o->size);
          break;
        case STEP_REALLOC:
          {
            uint32_t size = MIN (o->size * 2, 4096u);
            uint64_t addr = o->addr;
            if (size_class (g, size) != size_class (g, o->size))
              {
                addr = gen_malloc (g, size);
                gen_free (g, o->addr, o->size);
              }
            emit (g, (BenchEvent) { .kind = MS_RECORD_REALLOC, .old_addr = o->addr, .addr = addr, .size = size,
                                    .stack = g->sites[sc->steps[st->ref].site].leaf, .dt_ns = step_dt (g, st) });
            o->addr = addr;
            o->size = size;
            break;
          }
        case STEP_KEEP:
          if (g->cache_len == CACHE_OBJECTS)
            {
              /* the oldest entry is evicted */
              Object *old = &g->cache[g->cache_head];
              emit (g, (BenchEvent) { .kind = MS_RECORD_FREE, .addr = old->addr, .dt_ns = step_dt (g, st) });
              gen_free (g, old->addr, old->size);
              *old = *o;
              g->cache_head = (g->cache_head + 1) % CACHE_OBJECTS;
            }
          else
            {
              g->cache[(g->cache_head + g->cache_len++) % CACHE_OBJECTS] = *o;
              g->pending_dt += st->dt_ns;
            }
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static void
make_requests (Gen *g, uint64_t n)
{
  for (int i = 0; i < N_SCRIPTS; i++)
    {
      make_script (g, &g->scripts[i]);
      g->scripts[i].weight = 1000 / (uint32_t) (i + 1);
      g->total_script_weight += g->scripts[i].weight;
    }
  while (g->n_events < n)
    run_request (g);
  for (; g->cache_len > 0; g->cache_len--, g->cache_head = (g->cache_head + 1) % CACHE_OBJECTS)
    emit (g, (BenchEvent) { .kind = MS_RECORD_FREE, .addr = g->cache[g->cache_head].addr,
                            .dt_ns = (uint16_t) g_rand_int_range (g->rand, 50, 301) });
}

static void
make_random (Gen *g, uint64_t n)
{
  for (uint64_t i = 0; i < n; i++)
    {
      if (g->n_live > 0 && g->heap[0].due <= i)
        gen_due (g, i, n);
      else
        gen_alloc (g, i, n);
    }
  while (g->n_live > 0)
    {
      Block b = heap_pop (g);
      emit (g, (BenchEvent) { .kind = MS_RECORD_FREE, .addr = b.addr, .dt_ns = next_dt (g) });
    }
}

/* One cycle of about N events that leaves nothing live, so that it can be
 * replayed as it is. */
static GArray *
make_stream (uint64_t n, guint32 seed, gboolean slab, gboolean requests)
{
  Gen g = { .slab = slab };

  g.rand = g_rand_new_with_seed (seed);
  g.arena_next = ARENA_BASE;
  g.trie = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g.out = g_array_sized_new (FALSE, FALSE, sizeof (BenchEvent), (guint) (n + n / 8));
  make_sites (&g);

  if (requests)
    make_requests (&g, n);
  else
    make_random (&g, n);

  for (int c = 0; c < N_CLASSES; c++)
    g_free (g.classes[c].free_list);
  g_free (g.heap);
  g_hash_table_unref (g.trie);
  g_rand_free (g.rand);
  return g.out;
}

/* The time unit of the files, as the tracker writes thread files (16 ns). */
static gint opt_time_shift = 4;

/* ---- where the bytes go ---- */

/* Encodes the cycle as the writer would (one codec state per chunk is
 * ignored: chunks only restart the deltas) and prints the mean size of
 * each field, so that a miss of the size target can be explained. */
static void
print_breakdown (const GArray *cycle, uint64_t clock_ns)
{
  enum { F_TAG, F_DT, F_SIZE, F_OLD_ADDR, F_ADDR, F_STACK, N_FIELDS };
  static const char *names[N_FIELDS] = { "tag", "dt", "size", "old_addr", "addr", "stack" };
  uint64_t bytes[N_FIELDS] = { 0 }, n_events = 0;
  uint64_t addr_hist[4] = { 0 }; /* 1, 2, 3, 4+ bytes */
  uint8_t buf[MS_HOT_RECORD_MAX_BYTES];
  MsCodecState st;
  uint64_t t = START_MONO_NS;

  ms_codec_state_init (&st, t);
  st.time_shift = (uint32_t) opt_time_shift;
  for (guint i = 0; i < cycle->len; i++)
    {
      const BenchEvent *e = &g_array_index (cycle, BenchEvent, i);
      if (e->kind == MS_RECORD_STACK_NODE)
        continue;
      t += e->dt_ns;
      n_events++;
      bytes[F_TAG]++;
      bytes[F_DT] += (uint64_t) (ms_encode_time (buf, &st, t - t % clock_ns) - buf);
      if (e->kind != MS_RECORD_FREE)
        bytes[F_SIZE] += ms_varint_size (e->size);
      if (e->kind == MS_RECORD_REALLOC)
        bytes[F_OLD_ADDR] += (uint64_t) (ms_encode_addr (buf, &st, e->old_addr) - buf);
      size_t n = (size_t) (ms_encode_addr (buf, &st, e->addr) - buf);
      bytes[F_ADDR] += n;
      addr_hist[MIN (n, 4) - 1]++;
      if (e->kind != MS_RECORD_FREE)
        bytes[F_STACK] += ms_varint_size (e->stack);
    }

  uint64_t total = 0;
  printf ("bytes per event by field (raw, before chunk and stack-node overhead):");
  for (int f = 0; f < N_FIELDS; f++)
    {
      printf (" %s %.3f", names[f], (double) bytes[f] / (double) n_events);
      total += bytes[f];
    }
  printf (" = %.3f\n", (double) total / (double) n_events);
  printf ("address codes: %.1f %% one byte, %.1f %% two, %.1f %% three, %.1f %% more\n",
          100.0 * (double) addr_hist[0] / (double) n_events, 100.0 * (double) addr_hist[1] / (double) n_events,
          100.0 * (double) addr_hist[2] / (double) n_events, 100.0 * (double) addr_hist[3] / (double) n_events);
}

/* ---- timing ---- */

/* Elapsed time, and this thread's CPU time (user and system): on a
 * machine shared with other work the second is the steadier measure of
 * what a step costs; on an idle machine the two agree, except for
 * compaction's fsync, which waits without using the CPU. */
typedef struct
{
  double wall, cpu;
} Timing;

static double
clock_sec (clockid_t clock)
{
  struct timespec ts;
  clock_gettime (clock, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static Timing
timing_start (void)
{
  return (Timing) { clock_sec (CLOCK_MONOTONIC), clock_sec (CLOCK_THREAD_CPUTIME_ID) };
}

static Timing
timing_stop (Timing start)
{
  return (Timing) { clock_sec (CLOCK_MONOTONIC) - start.wall, clock_sec (CLOCK_THREAD_CPUTIME_ID) - start.cpu };
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, compare_doubles);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the measured steps ---- */

/* One event the way the tracker writes it (lib/ms-tracker.c): reserve the
 * worst case, encode in place with the inline encoders, commit the tag
 * last. */
static inline int
write_event (MsWriter *w, const BenchEvent *e, uint64_t time_ns)
{
  uint8_t *rec = ms_writer_reserve (w, MS_HOT_RECORD_MAX_BYTES);
  if (MS_UNLIKELY (rec == NULL))
    return -1;

  MsCodecState *st = &w->state;
  uint8_t *p = ms_encode_time (rec + 1, st, time_ns);
  if (e->kind != MS_RECORD_FREE)
    p = ms_varint_put (p, e->size);
  if (e->kind == MS_RECORD_REALLOC)
    p = ms_encode_addr (p, st, e->old_addr);
  p = ms_encode_addr (p, st, e->addr);
  if (e->kind != MS_RECORD_FREE)
    p = ms_varint_put (p, e->stack);
  ms_writer_commit (w, rec, (size_t) (p - rec - 1), e->kind);
  return 0;
}

/* Writes N_EVENTS hot events (the cycle replayed) to PATH; returns the
 * time it took from creating the file to closing it. */
static Timing
run_writer (const char *path, const GArray *cycle, uint64_t n_events, size_t chunk_bytes, uint64_t clock_ns,
            uint64_t *out_records)
{
  static MsWriter w;
  const BenchEvent *ev = (const BenchEvent *) cycle->data;
  MsWriterOptions options = { .kind = MS_FILE_KIND_THREAD, .pid = (uint32_t) getpid (),
                              .chunk_bytes = chunk_bytes, .start_mono_ns = START_MONO_NS,
                              .start_wall_ns = (uint64_t) g_get_real_time () * 1000,
                              .time_shift = (unsigned) opt_time_shift };
  uint64_t t = START_MONO_NS, written = 0, records = 0;
  gboolean first_cycle = TRUE;

  g_unlink (path);
  Timing start = timing_start ();
  int r = ms_writer_create (&w, path, &options);
  if (r < 0)
    g_error ("creating %s: %s", path, g_strerror (-r));

  while (written < n_events)
    {
      for (guint i = 0; i < cycle->len && written < n_events; i++)
        {
          const BenchEvent *e = &ev[i];
          if (e->kind == MS_RECORD_STACK_NODE)
            {
              /* stacks are interned once: later cycles reuse the ids */
              if (first_cycle)
                {
                  MsRecord node = { .kind = MS_RECORD_STACK_NODE, .time_ns = t,
                                    .u.stack_node = { e->stack, e->size, e->addr } };
                  if (ms_writer_add (&w, &node) < 0)
                    g_error ("writing: %s", g_strerror (-w.error));
                  records++;
                }
              continue;
            }
          t += e->dt_ns;
          if (MS_UNLIKELY (write_event (&w, e, t - t % clock_ns) < 0))
            g_error ("writing: %s", g_strerror (-w.error));
          written++;
        }
      first_cycle = FALSE;
    }
  MsRecord close = { .kind = MS_RECORD_CLOSE, .time_ns = t, .u.close = { 0 } };
  if (ms_writer_add_final (&w, &close) < 0 || ms_writer_close (&w) < 0)
    g_error ("closing %s: %s", path, g_strerror (-w.error));
  Timing elapsed = timing_stop (start);
  *out_records = records + written + 1;
  return elapsed;
}

/* Reads PATH to its end; returns the time, and the hot events seen. */
static Timing
run_reader (const char *path, uint64_t *out_events)
{
  g_autoptr (GError) error = NULL;
  uint64_t events = 0, checksum = 0;
  MsRecord record;

  Timing start = timing_start ();
  g_autoptr (MsReader) reader = ms_reader_open (path, &error);
  if (reader == NULL)
    g_error ("%s", error->message);
  while (ms_reader_next (reader, &record, &error))
    if (ms_record_kind_is_hot (record.kind))
      {
        events++;
        checksum += record.u.event.addr;
      }
  if (error != NULL)
    g_error ("%s", error->message);
  Timing elapsed = timing_stop (start);
  if (checksum == 0)
    g_error ("no events read back from %s", path);
  *out_events = events;
  return elapsed;
}

static guint64
file_bytes (const char *path)
{
  GStatBuf st;
  if (g_stat (path, &st) < 0)
    g_error ("%s: %s", path, g_strerror (errno));
  return (guint64) st.st_size;
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize length;

  if (!g_file_get_contents (from, &contents, &length, &error)
      || !g_file_set_contents (to, contents, (gssize) length, &error))
    g_error ("%s", error->message);
}

/* What each run measures; medians are taken figure by figure. */
enum
{
  WRITER_EPS,
  READER_RAW_EPS,
  READER_COMPACT_EPS,
  COMPACT_MBPS,
  COMPACT_EPS,
  N_RATES,
  RAW_BPE = N_RATES,
  COMPACT_BPE,
  N_FIGURES
};

typedef struct
{
  double cpu[N_FIGURES];  /* rates by CPU time; sizes */
  double wall[N_FIGURES]; /* rates by elapsed time */
} Figures;

static void
print_rate (const char *what, const Figures *med, int f, double scale, const char *unit, double target)
{
  printf ("%-30s %9.1f%s %9.1f%s", what, med->cpu[f] / scale, unit, med->wall[f] / scale, unit);
  if (target > 0)
    printf ("   >= %3.0f%s  %s", target / scale, unit, med->cpu[f] >= target ? "ok" : "MISSED");
  printf ("\n");
}

static void
print_size (const char *what, double value, double target)
{
  printf ("%-30s %9.3f  %11s     <= %-5.1f %s\n", what, value, "", target, value <= target ? "ok" : "MISSED");
}

/* Takes the median of each figure over N_RUNS runs and prints them. */
static void
print_medians (const Figures *runs, int n_runs)
{
  Figures med;
  double *values = g_new (double, n_runs);

  for (int f = 0; f < N_FIGURES; f++)
    {
      for (int run = 0; run < n_runs; run++)
        values[run] = runs[run].cpu[f];
      med.cpu[f] = median (values, n_runs);
      for (int run = 0; run < n_runs; run++)
        values[run] = runs[run].wall[f];
      med.wall[f] = median (values, n_runs);
    }
  g_free (values);

  printf ("\nmedians of %d runs                 by CPU time   elapsed    target\n", n_runs);
  print_rate ("writer, one thread (events/s)", &med, WRITER_EPS, 1e6, " M", 100e6);
  print_rate ("reader, raw (events/s)", &med, READER_RAW_EPS, 1e6, " M", 50e6);
  print_rate ("reader, compacted (events/s)", &med, READER_COMPACT_EPS, 1e6, " M", 0);
  print_rate ("compaction (MB/s of raw trace)", &med, COMPACT_MBPS, 1, "  ", 0);
  print_rate ("compaction (events/s)", &med, COMPACT_EPS, 1e6, " M", 0);
  print_size ("bytes per event, raw", med.cpu[RAW_BPE], 6);
  print_size ("bytes per event, compacted", med.cpu[COMPACT_BPE], 2.6);
}

int
main (int argc, char **argv)
{
  gint64 opt_events = 16000000, opt_cycle = 2000000, opt_chunk = MS_WRITER_DEFAULT_CHUNK_BYTES, opt_clock = 1;
  int opt_runs = 5, opt_level = 0, opt_seed = 1;
  g_autofree char *opt_dir = NULL, *opt_allocator = NULL, *opt_pattern = NULL;
  gboolean opt_keep = FALSE;
  g_autofree char *opt_only = NULL;
  GOptionEntry entries[] = {
    { "events", 'n', 0, G_OPTION_ARG_INT64, &opt_events, "Hot events per run (default 16000000)", "N" },
    { "cycle", 0, 0, G_OPTION_ARG_INT64, &opt_cycle, "Events generated before the stream repeats (default 2000000)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs, "Runs; medians are printed (default 5)", "N" },
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_dir, "Where the trace files go (default $TMPDIR or /tmp)", "DIR" },
    { "chunk-bytes", 0, 0, G_OPTION_ARG_INT64, &opt_chunk, "Writer window (default 65536, MEMSCOPE_BUFFER's default)", "BYTES" },
    { "level", 'l', 0, G_OPTION_ARG_INT, &opt_level, "zstd level for compaction (default 0: the library's)", "N" },
    { "allocator", 'a', 0, G_OPTION_ARG_STRING, &opt_allocator, "Address model: glibc (default) or slab", "MODEL" },
    { "pattern", 'p', 0, G_OPTION_ARG_STRING, &opt_pattern,
      "Event order: requests (default; scripted handlers repeat) or random (independent events)", "PATTERN" },
    { "clock-ns", 0, 0, G_OPTION_ARG_INT64, &opt_clock,
      "Resolution of the clock the events are timed with (default 1 ns; what-if for a coarser clock)", "NS" },
    { "time-shift", 0, 0, G_OPTION_ARG_INT, &opt_time_shift,
      "Time unit of the file, 2^N ns (default 4, as the tracker writes)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &opt_seed, "Seed of the synthetic stream (default 1)", "N" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &opt_keep, "Keep the last run's trace files", NULL },
    { "only", 0, 0, G_OPTION_ARG_STRING, &opt_only, "Time one step alone, to profile it: writer or reader", "STEP" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- benchmark the memscope-trace format");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (opt_runs < 1 || opt_events < 1 || opt_cycle < 1 || opt_clock < 1 || opt_time_shift < 0
      || opt_time_shift > MS_MAX_TIME_SHIFT
      || (opt_allocator && strcmp (opt_allocator, "glibc") != 0 && strcmp (opt_allocator, "slab") != 0)
      || (opt_pattern && strcmp (opt_pattern, "requests") != 0 && strcmp (opt_pattern, "random") != 0)
      || (opt_only && strcmp (opt_only, "writer") != 0 && strcmp (opt_only, "reader") != 0))
    {
      g_printerr ("--runs, --events, --cycle and --clock-ns must be positive; --allocator glibc or slab; "
                  "--pattern requests or random; --only writer or reader\n");
      return 1;
    }
  gboolean slab = opt_allocator && strcmp (opt_allocator, "slab") == 0;
  gboolean requests = !opt_pattern || strcmp (opt_pattern, "requests") == 0;

  g_autofree char *dir = g_build_filename (opt_dir ? opt_dir : g_get_tmp_dir (), "ms-bench-format-XXXXXX", NULL);
  if (g_mkdtemp (dir) == NULL)
    g_error ("creating %s: %s", dir, g_strerror (errno));
  g_autofree char *raw_path = g_build_filename (dir, "raw.mst", NULL);
  g_autofree char *compact_path = g_build_filename (dir, "compacted.mst", NULL);

  Timing gen_time = timing_start ();
  g_autoptr (GArray) cycle = make_stream ((uint64_t) MIN (opt_cycle, opt_events), (guint32) opt_seed, slab, requests);
  gen_time = timing_stop (gen_time);
  uint64_t counts[MS_RECORD_FIRST_SIZED + 1] = { 0 }, bytes_asked = 0;
  for (guint i = 0; i < cycle->len; i++)
    {
      const BenchEvent *e = &g_array_index (cycle, BenchEvent, i);
      counts[MIN (e->kind, MS_RECORD_FIRST_SIZED)]++;
      if (e->kind == MS_RECORD_ALLOC)
        bytes_asked += e->size;
    }
  printf ("stream (%s, %s addresses): a cycle of %u records made in %.2f s: %" G_GUINT64_FORMAT " alloc, %" G_GUINT64_FORMAT
          " free, %" G_GUINT64_FORMAT " realloc, %" G_GUINT64_FORMAT " stack nodes; mean allocation %.0f B\n",
          requests ? "requests" : "random", slab ? "slab" : "glibc", cycle->len, gen_time.wall, counts[MS_RECORD_ALLOC], counts[MS_RECORD_FREE],
          counts[MS_RECORD_REALLOC], counts[MS_RECORD_FIRST_SIZED],
          (double) bytes_asked / (double) MAX (counts[MS_RECORD_ALLOC], 1));
  print_breakdown (cycle, (uint64_t) opt_clock);
  printf ("runs: %d x %" G_GINT64_FORMAT " events, chunk %" G_GINT64_FORMAT " B, zstd level %d%s, files in %s\n\n",
          opt_runs, opt_events, opt_chunk, opt_level, opt_level == 0 ? " (library default)" : "", dir);

  Figures *runs = g_new0 (Figures, opt_runs);
  for (int run = 0; run < opt_runs; run++)
    {
      uint64_t records, events_raw, events_compact;
      Figures *fig = &runs[run];

      Timing w = { 0 }, rr;
      if (!opt_only || strcmp (opt_only, "writer") == 0 || run == 0)
        w = run_writer (raw_path, cycle, (uint64_t) opt_events, (size_t) opt_chunk, (uint64_t) opt_clock, &records);
      if (opt_only && strcmp (opt_only, "writer") == 0)
        {
          printf ("run %d: writer %.1f M events/s by CPU time, %.1f M elapsed\n", run + 1,
                  (double) opt_events / w.cpu / 1e6, (double) opt_events / w.wall / 1e6);
          continue;
        }
      rr = run_reader (raw_path, &events_raw);
      if (opt_only)
        {
          printf ("run %d: reader %.1f M events/s by CPU time, %.1f M elapsed\n", run + 1,
                  (double) events_raw / rr.cpu / 1e6, (double) events_raw / rr.wall / 1e6);
          continue;
        }
      if (events_raw != (uint64_t) opt_events)
        g_error ("read %" G_GUINT64_FORMAT " events back, wrote %" G_GINT64_FORMAT, events_raw, opt_events);
      guint64 raw_size = file_bytes (raw_path);

      copy_file (raw_path, compact_path);
      Timing c = timing_start ();
      if (!ms_trace_compact_file (compact_path, opt_level, &error))
        g_error ("%s", error->message);
      c = timing_stop (c);
      guint64 compact_size = file_bytes (compact_path);
      Timing rc = run_reader (compact_path, &events_compact);
      if (events_compact != events_raw)
        g_error ("the compacted file has %" G_GUINT64_FORMAT " events, the raw one %" G_GUINT64_FORMAT,
                 events_compact, events_raw);

      const double n = (double) events_raw;
      const Timing *t[N_RATES] = { [WRITER_EPS] = &w, [READER_RAW_EPS] = &rr, [READER_COMPACT_EPS] = &rc,
                                   [COMPACT_MBPS] = &c, [COMPACT_EPS] = &c };
      for (int f = 0; f < N_RATES; f++)
        {
          double amount = f == COMPACT_MBPS ? (double) raw_size / 1e6 : n;
          fig->cpu[f] = amount / t[f]->cpu;
          fig->wall[f] = amount / t[f]->wall;
        }
      fig->cpu[RAW_BPE] = fig->wall[RAW_BPE] = (double) raw_size / n;
      fig->cpu[COMPACT_BPE] = fig->wall[COMPACT_BPE] = (double) compact_size / n;
      printf ("run %d (by CPU time): writer %.1f M/s, reader %.1f M/s raw, %.1f M/s compacted, compaction %.0f MB/s "
              "(%.1f M events/s); %.3f B/event raw, %.3f compacted\n",
              run + 1, fig->cpu[WRITER_EPS] / 1e6, fig->cpu[READER_RAW_EPS] / 1e6, fig->cpu[READER_COMPACT_EPS] / 1e6,
              fig->cpu[COMPACT_MBPS], fig->cpu[COMPACT_EPS] / 1e6, fig->cpu[RAW_BPE], fig->cpu[COMPACT_BPE]);
      fflush (stdout);
    }

  if (!opt_only)
    print_medians (runs, opt_runs);
  g_free (runs);

  if (!opt_keep)
    {
      g_unlink (raw_path);
      g_unlink (compact_path);
      g_rmdir (dir);
    }
  return 0;
}
