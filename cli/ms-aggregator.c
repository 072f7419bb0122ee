/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-aggregator.h"

#include <string.h>

#include "ms-format.h"
#include "ms-reader.h"

/* A live block: 12 bytes of value + 8 of key per hash slot, which is what
 * keeps the aggregator within 64 bytes per live allocation. Sizes of 4 GiB
 * and more keep BIG_SIZE here and the size in the process' big_sizes. */
typedef struct
{
  guint32 size;
  guint32 stack;          /* index in stacks */
  guint32 thread_chain;   /* allocating thread (low 24 bits), realloc chain length (high 8) */
} MsAggLive;

#define BIG_SIZE G_MAXUINT32

/* An anonymous mapping: few of them, no need to pack. */
typedef struct
{
  guint64 size;
  guint32 stack;
} MsAggMapping;

#define CHAIN_SHIFT 24
#define THREAD_MASK 0xffffffu
#define TIMELINE_FIRST_WIDTH_NS 100000u
#define RES_MAX_BUCKETS 256u
#define RES_DEFAULT_INTERVAL_NS 100000000u

G_STATIC_ASSERT (sizeof (MsAggLive) == 12);

static inline guint
size_bucket (guint64 size)
{
  return size == 0 ? 0 : 64 - (guint) __builtin_clzll (size);
}

guint
ms_agg_size_bucket (guint64 size)
{
  return size_bucket (size);
}

/* The event path's helpers: inlined into the loop over a run, where a
 * call costs about as much as most of their bodies. */
#define HOT static inline __attribute__ ((always_inline))

HOT void
tally_add (MsAggTally *t, guint64 n_w, guint64 bytes)
{
  t->n_w += n_w;
  t->bytes += bytes;
}

HOT void
tally_sub (MsAggTally *t, guint64 n_w, guint64 bytes)
{
  /* Saturate: a hostile trace must not wrap a live tally to 2^64. */
  t->n_w = t->n_w > n_w ? t->n_w - n_w : 0;
  t->bytes = t->bytes > bytes ? t->bytes - bytes : 0;
}

/* A block leaves a live tally with the very weight and bytes it entered
 * with (both come from its entry in the live table), so the tally cannot
 * go below zero: no saturation needed on this path. */
HOT void
tally_release (MsAggTally *t, guint64 n_w, guint64 bytes)
{
  t->n_w -= n_w;
  t->bytes -= bytes;
}

/* ---- construction ---------------------------------------------------- */

static void
thread_free (MsAggThread *t)
{
  g_ptr_array_unref (t->names);
  g_free (t->cpu_series);
  g_free (t->alloc_series);
  g_free (t);
}

static void
process_free (MsAggProcess *p)
{
  ms_agg_map_clear (&p->blocks);
  ms_agg_map_clear (&p->weights);
  ms_agg_map_clear (&p->pending);
  ms_agg_map_clear (&p->mmaps);
  ms_agg_map_clear (&p->big_sizes);
  ms_agg_map_clear (&p->freq);
  ms_agg_map_clear (&p->labelled);
  g_free (p->cpu_series);
  g_free (p->io_series);
  g_array_unref (p->res_points);
  g_free (p);
}

static void
totals_init (MsAggTotals *t, guint64 origin_ns)
{
  memset (t, 0, sizeof *t);
  t->peak_epoch = 1;
  t->timeline.origin_ns = origin_ns;
  t->timeline.width_ns = TIMELINE_FIRST_WIDTH_NS;
}

static guint32
append_node (MsAggregator *self, guint32 process, guint32 parent, guint64 ip, guint64 time_ns)
{
  MsAggNode n = {
    .ip = ip,
    .time_ns = time_ns,
    .parent = parent,
    .process = process,
    .depth = parent ? ms_aggregator_node (self, parent)->depth + 1 : 0,
  };
  g_array_append_val (self->nodes, n);
  return self->nodes->len - 1;
}

MsAggregator *
ms_aggregator_new (const MsAggTraceDir *trace)
{
  MsAggregator *self = g_new0 (MsAggregator, 1);
  MsAggStack none = { 0 };

  self->trace = trace;
  self->processes = g_ptr_array_new_with_free_func ((GDestroyNotify) process_free);
  self->nodes = g_array_new (FALSE, TRUE, sizeof (MsAggNode));
  self->stacks = g_array_new (FALSE, TRUE, sizeof (MsAggStack));
  self->threads = g_ptr_array_new_with_free_func ((GDestroyNotify) thread_free);
  self->pairs = g_array_new (FALSE, TRUE, sizeof (MsAggPair));
  self->damage = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_agg_damage_free);
  self->res_info = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->sys_points = g_array_new (FALSE, TRUE, sizeof (MsAggSysPoint));
  ms_agg_labels_init (&self->labels);
  ms_agg_map_init (&self->pair_index, sizeof (guint32));
  ms_agg_map_init (&self->pair_stacks, sizeof (MsAggTally));
  ms_agg_map_init (&self->thread_index, sizeof (guint32));
  self->intern_mask = 1023;
  self->intern = g_new0 (guint32, self->intern_mask + 1);
  self->first_ns = G_MAXUINT64;

  g_array_set_size (self->nodes, 1);
  none.first_ns = G_MAXUINT64;
  g_array_append_val (self->stacks, none);

  self->origin_ns = G_MAXUINT64;
  for (guint i = 0; i < trace->processes->len; i++)
    {
      const MsAggProcessInfo *info = g_ptr_array_index (trace->processes, i);
      if (info->start_mono_ns && info->start_mono_ns < self->origin_ns)
        self->origin_ns = info->start_mono_ns;
      self->sampled = self->sampled || info->sampled;
    }
  if (self->origin_ns == G_MAXUINT64)
    self->origin_ns = 0;
  totals_init (&self->all, self->origin_ns);

  for (guint i = 0; i < trace->processes->len; i++)
    {
      MsAggProcess *p = g_new0 (MsAggProcess, 1);
      p->info = g_ptr_array_index (trace->processes, i);
      ms_agg_map_init (&p->blocks, sizeof (MsAggLive));
      ms_agg_map_init (&p->weights, sizeof (guint64));
      ms_agg_map_init (&p->pending, sizeof (guint32));
      ms_agg_map_init (&p->mmaps, sizeof (MsAggMapping));
      ms_agg_map_init (&p->big_sizes, sizeof (guint64));
      ms_agg_map_init (&p->freq, sizeof (MsAggFreq));
      ms_agg_map_init (&p->labelled, sizeof (MsAggLabelled));
      p->res_points = g_array_new (FALSE, TRUE, sizeof (MsAggResPoint));
      p->root_node = append_node (self, i, 0, 0, 0);
      p->first_ns = G_MAXUINT64;
      /* one process: its totals are the whole trace's, counted once */
      p->t = trace->processes->len == 1 ? &self->all : &p->own;
      totals_init (&p->own, self->origin_ns);
      g_ptr_array_add (self->processes, p);
    }
  return self;
}

void
ms_aggregator_free (MsAggregator *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->processes);
  g_array_unref (self->nodes);
  g_array_unref (self->stacks);
  g_ptr_array_unref (self->threads);
  g_array_unref (self->pairs);
  g_ptr_array_unref (self->damage);
  g_hash_table_unref (self->res_info);
  g_array_unref (self->sys_points);
  g_clear_pointer (&self->res_names, g_hash_table_unref);
  ms_agg_map_clear (&self->pair_index);
  ms_agg_map_clear (&self->pair_stacks);
  ms_agg_map_clear (&self->thread_index);
  ms_agg_labels_clear (&self->labels);
  g_free (self->intern);
  g_free (self);
}

/* ---- stacks ------------------------------------------------------------ */

static inline gsize
intern_hash (guint32 parent, guint64 ip)
{
  guint64 h = (ip ^ ((guint64) parent << 40) ^ parent) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  return (gsize) (h ^ (h >> 29));
}

static void
intern_grow (MsAggregator *self)
{
  gsize capacity = (self->intern_mask + 1) * 2;

  g_free (self->intern);
  self->intern = g_new0 (guint32, capacity);
  self->intern_mask = capacity - 1;
  for (guint32 id = 1; id < self->nodes->len; id++)
    {
      const MsAggNode *n = ms_aggregator_node (self, id);
      if (n->parent == 0)
        continue;
      gsize i = intern_hash (n->parent, n->ip) & self->intern_mask;
      while (self->intern[i])
        i = (i + 1) & self->intern_mask;
      self->intern[i] = id;
    }
}

/* The node (PARENT, IP): the same call chain from any thread file of a
 * process is one node, so stacks compare across threads. */
static guint32
intern_node (MsAggregator *self, guint32 process, guint32 parent, guint64 ip, guint64 time_ns)
{
  if ((self->nodes->len + 1) * 4 > (self->intern_mask + 1) * 3)
    intern_grow (self);

  gsize i = intern_hash (parent, ip) & self->intern_mask;
  for (; self->intern[i]; i = (i + 1) & self->intern_mask)
    {
      const MsAggNode *n = ms_aggregator_node (self, self->intern[i]);
      if (n->parent == parent && n->ip == ip)
        return self->intern[i];
    }
  guint32 id = append_node (self, process, parent, ip, time_ns);
  self->intern[i] = id;
  return id;
}

static inline guint32
stack_for_node (MsAggregator *self, guint32 node, guint64 time_ns)
{
  MsAggNode *n = &g_array_index (self->nodes, MsAggNode, node);

  if (node == 0)
    return 0;
  if (n->stack == 0)
    {
      MsAggStack s = { .node = node, .first_ns = time_ns, .last_ns = time_ns };
      g_array_append_val (self->stacks, s);
      n->stack = self->stacks->len - 1;
    }
  return n->stack;
}

HOT guint32
event_stack (MsAggregator *self, MsAggSource *src, guint32 dense, guint64 time_ns)
{
  /* cached per file: most events name a stack seen before */
  if (G_LIKELY (dense < src->stack_index->len))
    {
      guint32 cached = g_array_index (src->stack_index, guint32, dense);
      if (G_LIKELY (cached != 0))
        return cached - 1;
    }
  guint32 node = dense < src->global_stacks->len ? g_array_index (src->global_stacks, guint32, dense) : 0;
  guint32 stack = stack_for_node (self, node, time_ns);
  if (dense >= src->stack_index->len)
    g_array_set_size (src->stack_index, dense + 1);
  g_array_index (src->stack_index, guint32, dense) = stack + 1;
  return stack;
}

MsAggTally
ms_aggregator_stack_at_peak (const MsAggregator *self, const MsAggStack *s, gboolean process_peak)
{
  /* Copying every stack's tally at each new peak would cost O(stacks) per
   * allocation while the heap grows. Instead a stack saves its tally the
   * first time it changes after a peak (its epoch then equals the peak's);
   * a stack untouched since the peak still holds its value then. */
  if (process_peak)
    {
      const MsAggNode *n = ms_aggregator_node (self, s->node);
      const MsAggProcess *p = g_ptr_array_index (self->processes, s->node ? n->process : 0);
      return s->ppeak_epoch == p->t->peak_epoch ? s->at_ppeak : s->live;
    }
  return s->peak_epoch == self->all.peak_epoch ? s->at_peak : s->live;
}

HOT void
stack_touch (MsAggregator *self, MsAggProcess *p, MsAggStack *s)
{
  if (s->peak_epoch != self->all.peak_epoch)
    {
      s->at_peak = s->live;
      s->peak_epoch = self->all.peak_epoch;
    }
  if (s->ppeak_epoch != p->t->peak_epoch)
    {
      s->at_ppeak = s->live;
      s->ppeak_epoch = p->t->peak_epoch;
    }
}

/* ---- threads ----------------------------------------------------------- */

static guint32
thread_for (MsAggregator *self, guint32 process, guint64 tid)
{
  guint64 key = ((guint64) (process + 1) << 32) | (tid & 0xffffffffu);
  gboolean existed;

  if (self->threads->len >= MS_AGG_THREAD_LIMIT)
    {
      /* Beyond 16 M threads the live-block encoding has no room: the
       * rest are counted with the last thread. */
      guint32 *v = ms_agg_map_lookup (&self->thread_index, key);
      return v ? *v : self->threads->len - 1;
    }
  guint32 *v = ms_agg_map_insert (&self->thread_index, key, &existed);
  if (existed)
    return *v;

  MsAggThread *t = g_new0 (MsAggThread, 1);
  t->process = process;
  t->tid = (guint32) tid;
  t->names = g_ptr_array_new_with_free_func (g_free);
  t->first_ns = G_MAXUINT64;
  g_ptr_array_add (self->threads, t);
  *v = self->threads->len - 1;
  return *v;
}

HOT MsAggThread *
thread_at (MsAggregator *self, guint32 index)
{
  return g_ptr_array_index (self->threads, index);
}

/* The thread an event of SRC belongs to; events outside THREAD_START and
 * THREAD_END go to the process' thread 0 ("unknown thread"). */
HOT guint32
current_thread (MsAggregator *self, MsAggSource *src, guint64 time_ns)
{
  if (G_UNLIKELY (src->thread == G_MAXUINT))
    src->thread = thread_for (self, src->process, 0);
  MsAggThread *t = thread_at (self, src->thread);
  if (G_UNLIKELY (!t->traced))
    {
      t->traced = TRUE;
      MsAggProcess *p = g_ptr_array_index (self->processes, src->process);
      p->n_threads++;
    }
  if (G_UNLIKELY (time_ns < t->first_ns))
    t->first_ns = time_ns;
  if (time_ns > t->last_ns)
    t->last_ns = time_ns;
  return src->thread;
}

static void
add_thread_name (MsAggThread *t, const char *name)
{
  if (name == NULL || *name == '\0')
    return;
  for (guint i = 0; i < t->names->len; i++)
    if (strcmp (g_ptr_array_index (t->names, i), name) == 0)
      return;
  /* a thread renamed in a loop must not grow without bound */
  if (t->names->len < 16)
    g_ptr_array_add (t->names, g_strdup (name));
}

/* ---- timeline ---------------------------------------------------------- */

static void
timeline_compact (MsAggTimeline *tl)
{
  for (guint i = 0; i < MS_AGG_TIMELINE_MAX_BUCKETS / 2; i++)
    {
      MsAggBucket a = tl->buckets[2 * i], b = tl->buckets[2 * i + 1];
      MsAggBucket *m = &tl->buckets[i];

      m->touched = a.touched || b.touched;
      m->live_max = a.touched && b.touched ? MAX (a.live_max, b.live_max) : a.touched ? a.live_max : b.live_max;
      m->live_last = b.touched ? b.live_last : a.live_last;
      m->allocs_w = a.allocs_w + b.allocs_w;
      m->frees_w = a.frees_w + b.frees_w;
      m->bytes_allocated = a.bytes_allocated + b.bytes_allocated;
    }
  memset (&tl->buckets[MS_AGG_TIMELINE_MAX_BUCKETS / 2], 0,
          sizeof (MsAggBucket) * (MS_AGG_TIMELINE_MAX_BUCKETS / 2));
  tl->width_ns *= 2;
  tl->n = (tl->n + 1) / 2;
  tl->cur_start_ns = tl->cur_end_ns = 0;
}

/* The bucket of TIME_NS becomes the current one (the first event of a
 * bucket, or one timed before the origin). */
static void
timeline_enter (MsAggTimeline *tl, guint64 time_ns, guint64 live)
{
  guint64 rel = time_ns > tl->origin_ns ? time_ns - tl->origin_ns : 0;
  guint64 idx = rel / tl->width_ns;

  while (G_UNLIKELY (idx >= MS_AGG_TIMELINE_MAX_BUCKETS))
    {
      timeline_compact (tl);
      idx = rel / tl->width_ns;
    }
  if (idx >= tl->n)
    tl->n = (guint) idx + 1;
  tl->cur = (guint) idx;
  /* times before the origin land in bucket 0 without a span of their own */
  tl->cur_start_ns = time_ns < tl->origin_ns ? time_ns : tl->origin_ns + idx * tl->width_ns;
  tl->cur_end_ns = time_ns < tl->origin_ns ? time_ns + 1 : tl->cur_start_ns + tl->width_ns;

  MsAggBucket *b = &tl->buckets[tl->cur];
  if (!b->touched)
    {
      b->touched = TRUE;
      b->live_max = live;
    }
}

/* Every change of a live tally is noted in its timeline: the current
 * bucket is touched (timeline_enter), so its maximum is a compare. */
HOT void
timeline_note (MsAggTimeline *tl, guint64 time_ns, guint64 live, guint64 allocs_w, guint64 frees_w, guint64 bytes)
{
  if (G_UNLIKELY (time_ns < tl->cur_start_ns || time_ns >= tl->cur_end_ns))
    timeline_enter (tl, time_ns, live);

  MsAggBucket *b = &tl->buckets[tl->cur];
  if (live > b->live_max)
    b->live_max = live;
  b->live_last = live;
  b->allocs_w += allocs_w;
  b->frees_w += frees_w;
  b->bytes_allocated += bytes;
}

static inline gint
res_bucket (const MsAggregator *self, guint64 time_ns)
{
  if (self->res_buckets == 0 || time_ns < self->res_origin_ns)
    return -1;
  guint64 idx = (time_ns - self->res_origin_ns) / self->res_width_ns;
  return idx < self->res_buckets ? (gint) idx : -1;
}

/* ---- heap events ------------------------------------------------------- */

HOT void
totals_alloc (MsAggTotals *t, guint64 weight, guint64 bytes, guint64 size, guint64 time_ns)
{
  tally_add (&t->allocated, weight, bytes);
  tally_add (&t->live, weight, bytes);
  tally_add (&t->sizes[size_bucket (size)], weight, bytes);
  if (t->live.bytes > t->peak_bytes)
    {
      t->peak_bytes = t->live.bytes;
      t->peak_count_w = t->live.n_w;
      t->peak_time_ns = time_ns;
      t->peak_epoch++;
    }
  timeline_note (&t->timeline, time_ns, t->live.bytes, weight, 0, bytes);
}

HOT void
totals_free (MsAggTotals *t, guint64 weight, guint64 bytes, gboolean temporary, gboolean cross_thread,
             guint64 time_ns)
{
  tally_release (&t->live, weight, bytes);
  if (temporary)
    tally_add (&t->temporary, weight, bytes);
  if (cross_thread)
    tally_add (&t->cross_thread, weight, bytes);
  timeline_note (&t->timeline, time_ns, t->live.bytes, 0, weight, 0);
}

HOT void
release_block (MsAggregator *self, MsAggProcess *p, guint32 freer, guint64 addr, const MsAggLive *lv,
               guint64 size, guint64 weight, guint64 time_ns, gboolean may_be_temporary)
{
  guint32 owner = lv->thread_chain & THREAD_MASK;
  guint64 bytes = ms_agg_weighted_bytes (size, weight);
  MsAggStack *s = ms_aggregator_stack (self, lv->stack);
  MsAggThread *to = thread_at (self, owner);
  MsAggThread *tf = thread_at (self, freer);

  stack_touch (self, p, s);
  tally_release (&s->live, weight, bytes);
  tally_release (&to->live, weight, bytes);
  tally_add (&tf->freed, weight, bytes);
  ms_agg_labels_release (&self->labels, &p->labelled, addr);
  gboolean temporary = may_be_temporary && owner == freer && tf->last_alloc_addr == addr;
  totals_free (p->t, weight, bytes, temporary, owner != freer, time_ns);
  if (p->t != &self->all)
    totals_free (&self->all, weight, bytes, temporary, owner != freer, time_ns);

  if (temporary)
    {
      tally_add (&s->temporary, weight, bytes);
      tally_add (&tf->temporary, weight, bytes);
    }
  if (tf->last_alloc_addr == addr)
    tf->last_alloc_addr = 0;

  if (owner != freer)
    {
      gboolean existed;
      tally_add (&tf->cross_freed, weight, bytes);
      guint32 *pi = ms_agg_map_insert (&self->pair_index, ((guint64) owner << 32) | freer, &existed);
      if (!existed)
        {
          MsAggPair pair = { .owner = owner, .freer = freer };
          g_array_append_val (self->pairs, pair);
          *pi = self->pairs->len - 1;
        }
      tally_add (&g_array_index (self->pairs, MsAggPair, *pi).tally, weight, bytes);
      guint64 key = ((guint64) (*pi + 1) << 32) | lv->stack;
      tally_add (ms_agg_map_insert (&self->pair_stacks, key, NULL), weight, bytes);
    }
}

/* The size of the live block LV at ADDR, which is being retired. */
HOT guint64
take_size (MsAggProcess *p, guint64 addr, const MsAggLive *lv)
{
  guint64 size = lv->size;

  if (G_UNLIKELY (size == BIG_SIZE))
    ms_agg_map_remove (&p->big_sizes, addr, &size);
  return size;
}

/* The size of the live block LV at ADDR, which stays live. */
static inline guint64
live_size (MsAggProcess *p, guint64 addr, const MsAggLive *lv)
{
  const guint64 *big = lv->size == BIG_SIZE ? ms_agg_map_lookup (&p->big_sizes, addr) : NULL;

  return big != NULL ? *big : lv->size;
}

HOT void
set_size (MsAggProcess *p, guint64 addr, MsAggLive *lv, guint64 size)
{
  if (G_LIKELY (size < BIG_SIZE))
    lv->size = (guint32) size;
  else
    {
      lv->size = BIG_SIZE;
      *(guint64 *) ms_agg_map_insert (&p->big_sizes, addr, NULL) = size;
    }
}

/* Frees ADDR for thread FREER; fills *OUT and *OUT_SIZE (when found) with
 * the block. */
HOT gboolean
free_block (MsAggregator *self, MsAggProcess *p, guint32 freer, guint64 addr, guint64 time_ns, MsAggLive *out,
            guint64 *out_size)
{
  MsAggLive lv;
  guint64 weight = MS_WEIGHT_ONE;

  if (!ms_agg_map_remove_sized (&p->blocks, addr, &lv, sizeof lv))
    {
      /* allocated before tracking began, by an untracked thread, or its
       * allocation event was lost */
      p->unmatched_frees++;
      return FALSE;
    }
  if (G_UNLIKELY (p->weighted))
    ms_agg_map_remove_sized (&p->weights, addr, &weight, sizeof weight);
  guint64 size = take_size (p, addr, &lv);
  release_block (self, p, freer, addr, &lv, size, weight, time_ns, TRUE);
  if (out)
    *out = lv;
  if (out_size)
    *out_size = size;
  return TRUE;
}

/* An allocation at a live address: its free was not recorded before it.
 * The contract's one legitimate case is realloc, whose old block libc
 * frees before the REALLOC record is stamped: treat the old block as
 * freed now, and remember the address so that the late REALLOC does not
 * free the new owner's block. Returns the block's slot again. */
static G_GNUC_NO_INLINE MsAggLive *
retire_reused (MsAggregator *self, MsAggProcess *p, guint64 addr, MsAggLive *lv, guint64 time_ns)
{
  MsAggLive old = *lv;
  guint64 old_weight = MS_WEIGHT_ONE;
  guint32 *pending = ms_agg_map_insert (&p->pending, addr, NULL);

  if (p->weighted)
    ms_agg_map_remove (&p->weights, addr, &old_weight);
  (*pending)++;
  p->realloc_fixes++;
  release_block (self, p, old.thread_chain & THREAD_MASK, addr, &old, take_size (p, addr, &old), old_weight,
                 time_ns, FALSE);
  lv = ms_agg_map_lookup (&p->blocks, addr);
  if (lv == NULL)
    lv = ms_agg_map_insert (&p->blocks, addr, NULL);
  return lv;
}

HOT void
alloc_block (MsAggregator *self, MsAggProcess *p, guint32 thread, guint64 addr, guint64 size, guint32 stack,
             guint64 weight, guint32 chain, guint64 time_ns)
{
  gboolean existed;
  MsAggLive *lv = ms_agg_map_insert_sized (&p->blocks, addr, &existed, sizeof *lv);

  if (G_UNLIKELY (existed))
    lv = retire_reused (self, p, addr, lv, time_ns);

  set_size (p, addr, lv, size);
  lv->stack = stack;
  lv->thread_chain = (thread & THREAD_MASK) | (MIN (chain, 255u) << CHAIN_SHIFT);
  if (G_UNLIKELY (weight != MS_WEIGHT_ONE))
    {
      p->weighted = TRUE;
      self->sampled = TRUE;
      *(guint64 *) ms_agg_map_insert (&p->weights, addr, NULL) = weight;
    }
  else if (G_UNLIKELY (p->weighted))
    ms_agg_map_remove (&p->weights, addr, NULL);

  guint64 bytes = ms_agg_weighted_bytes (size, weight);
  MsAggStack *s = ms_aggregator_stack (self, stack);
  MsAggThread *t = thread_at (self, thread);

  stack_touch (self, p, s);
  tally_add (&s->allocated, weight, bytes);
  tally_add (&s->live, weight, bytes);
  s->last_ns = time_ns;
  tally_add (&t->allocated, weight, bytes);
  tally_add (&t->live, weight, bytes);
  t->last_alloc_addr = addr;
  totals_alloc (p->t, weight, bytes, size, time_ns);
  if (p->t != &self->all)
    totals_alloc (&self->all, weight, bytes, size, time_ns);
  if (t->live.bytes > t->peak_live_bytes)
    {
      t->peak_live_bytes = t->live.bytes;
      t->peak_time_ns = time_ns;
    }

  if (t->alloc_series)
    {
      gint rb = res_bucket (self, time_ns);
      if (rb >= 0)
        t->alloc_series[rb] += weight;
    }
}

static void
do_realloc (MsAggregator *self, MsAggProcess *p, guint32 thread, const MsAggEvent *ev, guint32 stack)
{
  guint32 chain = 0;
  guint64 old = ev->c;

  if (old != 0)
    {
      guint32 *pending = ms_agg_map_lookup (&p->pending, old);
      MsAggLive *cur = pending ? ms_agg_map_lookup (&p->blocks, old) : NULL;

      /* The old block was already retired when another thread was handed
       * its address (see alloc_block). If the address is live again and
       * owned by this very thread, that thread reallocates its own new
       * block, which is no reordering. */
      if (pending && (cur == NULL || (cur->thread_chain & THREAD_MASK) != thread))
        {
          if (--(*pending) == 0)
            ms_agg_map_remove (&p->pending, old, NULL);
        }
      else
        {
          MsAggLive lv;
          guint64 old_size;
          if (free_block (self, p, thread, old, ev->time_ns, &lv, &old_size) && ev->b > old_size)
            chain = (lv.thread_chain >> CHAIN_SHIFT) + 1;
        }
    }

  MsAggStack *s = ms_aggregator_stack (self, stack);
  s->reallocs_w += ev->weight;
  p->t->reallocs_w += ev->weight;
  if (p->t != &self->all)
    self->all.reallocs_w += ev->weight;
  thread_at (self, thread)->reallocs_w += ev->weight;
  if (chain > s->max_chain)
    s->max_chain = MIN (chain, 255u);
  if (chain == MS_AGG_LONG_CHAIN)
    s->long_chains++;

  if (G_LIKELY (ev->a != 0))
    alloc_block (self, p, thread, ev->a, ev->b, stack, ev->weight, chain, ev->time_ns);
  else
    self->malformed_events++; /* a realloc to nothing is recorded as a FREE */
}

static void
do_mmap (MsAggProcess *p, const MsAggEvent *ev, guint32 stack)
{
  gboolean existed;
  MsAggMapping *lv = ms_agg_map_insert (&p->mmaps, ev->a, &existed);
  guint64 bytes = ms_agg_weighted_bytes (ev->b, ev->weight);

  if (existed)
    tally_sub (&p->mmap_live, MS_WEIGHT_ONE, lv->size);
  lv->size = bytes;
  lv->stack = stack;
  tally_add (&p->mmapped, ev->weight, bytes);
  tally_add (&p->mmap_live, ev->weight, bytes);
  if (p->mmap_live.bytes > p->mmap_peak_bytes)
    p->mmap_peak_bytes = p->mmap_live.bytes;
}

static void
do_munmap (MsAggProcess *p, const MsAggEvent *ev)
{
  MsAggMapping lv;

  /* Whole mappings and cuts from their start are exact; a hole punched
   * in the middle of a mapping is counted as unmatched. */
  if (!ms_agg_map_remove (&p->mmaps, ev->a, &lv))
    {
      p->unmatched_munmaps++;
      return;
    }
  guint64 cut = MIN (ev->b ? ev->b : lv.size, lv.size);
  tally_add (&p->munmapped, MS_WEIGHT_ONE, cut);
  tally_sub (&p->mmap_live, cut == lv.size ? MS_WEIGHT_ONE : 0, cut);
  if (cut < lv.size)
    {
      MsAggMapping *rest = ms_agg_map_insert (&p->mmaps, ev->a + cut, NULL);
      *rest = lv;
      rest->size = lv.size - cut;
    }
}

/* A table that fits the caches gains nothing from prefetching. */
#define PREFETCH_MIN_SLOTS 65536u
/* How many events ahead a run's events are prefetched. */
#define PREFETCH_AHEAD 8u

/* Always inlined, and not for speed: GCC counts a function whose only
 * effect is __builtin_prefetch as free of side effects and drops calls to
 * it, prefetches and all (GCC 12 did, here). */
HOT void
prefetch_block (const MsAggProcess *p, const MsAggEvent *ev)
{
  if (ev->kind <= MS_AGG_EV_REALLOC)
    {
      guint64 addr = ev->kind == MS_AGG_EV_REALLOC && ev->c ? ev->c : ev->a;
      gsize slot = ms_agg_map_slot_of (&p->blocks, addr);
      __builtin_prefetch (&p->blocks.keys[slot], 1);
      __builtin_prefetch (ms_agg_map_value_at_sized (&p->blocks, slot, sizeof (MsAggLive)), 1);
    }
}

void
ms_aggregator_prefetch (gpointer data, const MsAggSource *src, const MsAggEvent *ev)
{
  MsAggregator *self = data;
  const MsAggProcess *p = g_ptr_array_index (self->processes, src->process);

  /* A file's next event is handed out within about as many events as
   * there are files: time enough for the live table's slot, the one
   * cache miss an event cannot avoid when millions of blocks are live. */
  if (p->blocks.mask >= PREFETCH_MIN_SLOTS)
    prefetch_block (p, ev);
}

HOT void
add_event (MsAggregator *self, MsAggProcess *p, MsAggSource *src, const MsAggEvent *ev)
{
  guint32 thread;


  /* The allocator never hands out address 0: such a record is damage
   * that passed the checksums, and address 0 is no key of the tables. */
  if (G_UNLIKELY (ev->a == 0 && (ev->kind == MS_AGG_EV_ALLOC || ev->kind == MS_AGG_EV_MMAP
                                 || ev->kind == MS_AGG_EV_FREE || ev->kind == MS_AGG_EV_MUNMAP
                                 || (ev->kind == MS_AGG_EV_REALLOC && ev->c == 0))))
    {
      self->malformed_events++;
      return;
    }

  switch ((MsAggEventKind) ev->kind)
    {
    case MS_AGG_EV_ALLOC:
      thread = current_thread (self, src, ev->time_ns);
      alloc_block (self, p, thread, ev->a, ev->b, event_stack (self, src, ev->stack, ev->time_ns), ev->weight, 0,
                   ev->time_ns);
      break;
    case MS_AGG_EV_FREE:
      thread = current_thread (self, src, ev->time_ns);
      free_block (self, p, thread, ev->a, ev->time_ns, NULL, NULL);
      break;
    case MS_AGG_EV_REALLOC:
      thread = current_thread (self, src, ev->time_ns);
      do_realloc (self, p, thread, ev, event_stack (self, src, ev->stack, ev->time_ns));
      break;
    case MS_AGG_EV_MMAP:
      current_thread (self, src, ev->time_ns);
      do_mmap (p, ev, event_stack (self, src, ev->stack, ev->time_ns));
      break;
    case MS_AGG_EV_MUNMAP:
      current_thread (self, src, ev->time_ns);
      do_munmap (p, ev);
      break;
    case MS_AGG_EV_STACK_NODE:
      {
        guint32 parent = ev->c < src->global_stacks->len ? g_array_index (src->global_stacks, guint32, ev->c) : 0;
        guint32 id = intern_node (self, src->process, parent ? parent : p->root_node, ev->a, ev->time_ns);
        if (ev->stack >= src->global_stacks->len)
          g_array_set_size (src->global_stacks, ev->stack + 1);
        g_array_index (src->global_stacks, guint32, ev->stack) = id;
        if (ev->stack < src->stack_index->len)
          g_array_index (src->stack_index, guint32, ev->stack) = 0;
      }
      return;
    case MS_AGG_EV_THREAD_START:
      src->thread = thread_for (self, src->process, ev->a);
      current_thread (self, src, ev->time_ns);
      return;
    case MS_AGG_EV_THREAD_END:
      if (src->thread != G_MAXUINT && thread_at (self, src->thread)->tid == (guint32) ev->a)
        current_thread (self, src, ev->time_ns);
      src->thread = G_MAXUINT;
      return;
    case MS_AGG_EV_THREAD_NAME:
      add_thread_name (thread_at (self, thread_for (self, src->process, ev->a)),
                       (const char *) (guintptr) ev->c);
      return;
    case MS_AGG_EV_FREQ:
      {
        if (ev->weight == 0)
          return;
        MsAggFreq *f = ms_agg_map_insert (&p->freq, ev->weight, NULL);
        f->count += ev->c;
        f->bytes += ev->b;
      }
      return;
    case MS_AGG_EV_LABEL:
      {
        const char *name = (const char *) (guintptr) ev->c;
        const MsAggLive *lv = ms_agg_map_lookup (&p->blocks, ev->a);
        guint64 size = lv == NULL ? G_MAXUINT64 : live_size (p, ev->a, lv);
        thread = current_thread (self, src, ev->time_ns);
        ms_agg_labels_note (&self->labels, &p->labelled, src->process, thread, ev->a, size, name,
                            name + strlen (name) + 1, ev->time_ns);
      }
      return;
    case MS_AGG_EV_LOST:
      p->dropped_events += ev->a;
      p->lost_events += ev->a;
      self->lost_events += ev->a;
      return;
    default:
      return;
    }

  self->events++;
}

void
ms_aggregator_add (MsAggregator *self, MsAggSource *src, const MsAggEvent *ev)
{
  add_event (self, g_ptr_array_index (self->processes, src->process), src, ev);
}

/* ---- losses ------------------------------------------------------------ */

static void
settle_source (MsAggregator *self, MsAggSource *src)
{
  MsAggProcess *p = g_ptr_array_index (self->processes, src->process);

  self->unknown_stack_refs += src->unknown_stack_refs;
  while (src->damage->len > 0)
    {
      MsAggDamage *d = g_ptr_array_steal_index (src->damage, 0);
      guint64 expected = src->close_allocs + src->close_frees;

      if (src->closed && !p->info->sampled && expected > src->heap_events)
        d->events_lost = expected - src->heap_events;
      else
        {
          /* No closing count to compare with: estimate from the bytes
           * skipped (and, for a cut file, cut from its last chunk) and the
           * file's own bytes per record. What followed a cut is unknown:
           * the estimate is a lower bound then. */
          double per_record = src->records ? (double) src->bytes_read / (double) src->records : 8.0;
          guint64 bytes = d->bytes_skipped + (d->truncated ? ms_agg_cut_chunk_bytes (src->path) : 0);
          d->events_lost = (guint64) ((double) bytes / MAX (per_record, 1.0) + 0.5);
          d->estimated = TRUE;
          self->lost_estimated = TRUE;
        }
      p->lost_events += d->events_lost;
      self->lost_events += d->events_lost;
      g_ptr_array_add (self->damage, d);
    }
}

void
ms_aggregator_run (MsAggregator *self, MsAggMerge *merge)
{
  const MsAggEvent *run;
  MsAggSource *src = NULL;
  guint n;

  ms_agg_merge_set_prefetch (merge, ms_aggregator_prefetch, self);
  while ((run = ms_agg_merge_next_run (merge, &src, &n)))
    {
      MsAggProcess *p = g_ptr_array_index (self->processes, src->process);
      guint ahead = p->blocks.mask >= PREFETCH_MIN_SLOTS ? PREFETCH_AHEAD : 0;

      /* The merge prefetched the run's first event; the others, as many
       * events ahead as ahead says. */
      for (guint i = 1; i < MIN (ahead, n); i++)
        prefetch_block (p, &run[i]);
      for (guint i = 0; i < n; i++)
        {
          if (ahead != 0 && i + ahead < n)
            prefetch_block (p, &run[i + ahead]);
          add_event (self, p, src, &run[i]);
        }
    }

  for (guint i = 0; i < ms_agg_merge_get_n_sources (merge); i++)
    {
      MsAggSource *s = ms_agg_merge_get_source (merge, i);
      MsAggProcess *p = g_ptr_array_index (self->processes, s->process);

      /* every timed record stretches the run: a thread may end well
       * after its last allocation */
      if (s->first_ns <= s->last_ns)
        {
          p->first_ns = MIN (p->first_ns, s->first_ns);
          p->last_ns = MAX (p->last_ns, s->last_ns);
          self->first_ns = MIN (self->first_ns, s->first_ns);
          self->last_ns = MAX (self->last_ns, s->last_ns);
        }
      settle_source (self, s);
    }
  if (self->first_ns == G_MAXUINT64)
    self->first_ns = self->last_ns = self->origin_ns;
  for (guint i = 0; i < self->processes->len; i++)
    {
      MsAggProcess *p = g_ptr_array_index (self->processes, i);
      if (p->first_ns == G_MAXUINT64)
        p->first_ns = p->last_ns = p->info->start_mono_ns;
      /* What leaked is in the tallies now: the live tables (most of the
       * memory) go before symbolisation and the JSON need theirs. */
      ms_agg_labels_finish (&self->labels, &p->labelled);
      ms_agg_map_clear (&p->blocks);
      ms_agg_map_clear (&p->weights);
      ms_agg_map_clear (&p->pending);
      ms_agg_map_clear (&p->big_sizes);
      ms_agg_map_clear (&p->mmaps);
    }
  for (guint i = 0; i < self->threads->len; i++)
    {
      MsAggThread *t = thread_at (self, i);
      if (t->first_ns == G_MAXUINT64)
        t->first_ns = t->last_ns = t->res_first_ns;
      /* The monitor's names fill in threads that never named themselves
       * in the trace (the main thread, usually). */
      const char *name = self->res_names ? g_hash_table_lookup (self->res_names, GUINT_TO_POINTER (t->tid)) : NULL;
      if (name)
        add_thread_name (t, name);
    }
  self->finished = TRUE;
}

/* ---- resources.mst ------------------------------------------------------ */

/* Whether A rather than B (programs of one pid) was that pid at TIME_NS:
 * of those that had started by then, the last to start; if neither had,
 * the first. */
static gboolean
was_pid_rather (const MsAggProcessInfo *a, const MsAggProcessInfo *b, guint64 time_ns)
{
  gboolean a_started = a->start_mono_ns <= time_ns, b_started = b->start_mono_ns <= time_ns;

  if (a_started != b_started)
    return a_started;
  return a_started ? a->start_mono_ns > b->start_mono_ns : a->start_mono_ns < b->start_mono_ns;
}

/* The process that PID was at TIME_NS: a pid names every program of an
 * exec chain, each from its start to the next one's. */
static gint
process_by_pid (MsAggregator *self, guint64 pid, guint64 time_ns)
{
  const MsAggProcessInfo *best = NULL;
  gint found = -1;

  for (guint i = 0; i < self->processes->len; i++)
    {
      const MsAggProcessInfo *info = ((MsAggProcess *) g_ptr_array_index (self->processes, i))->info;
      if (info->pid == pid && (best == NULL || was_pid_rather (info, best, time_ns)))
        {
          best = info;
          found = (gint) i;
        }
    }
  return found;
}

static void
add_resource_process (MsAggregator *self, MsAggProcess *p, guint64 time_ns, const guint64 *v, guint n)
{
  if (n < MS_RES_PROC_N_VALUES)
    return;
  guint64 cpu = v[MS_RES_PROC_UTIME_NS] + v[MS_RES_PROC_STIME_NS];
  guint64 io = v[MS_RES_PROC_RCHAR] + v[MS_RES_PROC_WCHAR];
  guint64 disk = v[MS_RES_PROC_READ_BYTES] + v[MS_RES_PROC_WRITE_BYTES];

  if (!p->has_resources)
    {
      p->has_resources = TRUE;
      p->res_first_ns = time_ns;
      p->cpu_first_ns = cpu;
      p->io_first = io;
      p->disk_first = disk;
      p->cpu_series = g_new0 (guint64, MAX (self->res_buckets, 1));
      p->io_series = g_new0 (guint64, MAX (self->res_buckets, 1));
    }
  else
    {
      gint b = res_bucket (self, time_ns);
      if (b >= 0)
        {
          p->cpu_series[b] += cpu > p->cpu_last_ns ? cpu - p->cpu_last_ns : 0;
          p->io_series[b] += io > p->io_last ? io - p->io_last : 0;
        }
    }
  MsAggResPoint point = {
    .time_ns = time_ns,
    .rss = v[MS_RES_PROC_RSS],
    .cpu_ns = cpu,
    .rchar = v[MS_RES_PROC_RCHAR],
    .wchar = v[MS_RES_PROC_WCHAR],
    .threads = v[MS_RES_PROC_THREADS],
  };
  g_array_append_val (p->res_points, point);
  p->res_samples++;
  p->res_last_ns = time_ns;
  p->cpu_last_ns = cpu;
  p->io_last = io;
  p->disk_last = disk;
  p->rss_max = MAX (p->rss_max, v[MS_RES_PROC_RSS]);
  p->hwm_max = MAX (p->hwm_max, v[MS_RES_PROC_HWM]);
  p->vsize_max = MAX (p->vsize_max, v[MS_RES_PROC_VSIZE]);
  p->threads_max = MAX (p->threads_max, v[MS_RES_PROC_THREADS]);
}

static void
add_resource_thread (MsAggregator *self, guint64 tid, guint64 time_ns, const guint64 *v, guint n)
{
  if (n < MS_RES_THREAD_N_VALUES)
    return;
  gint pi = process_by_pid (self, v[MS_RES_THREAD_PID], time_ns);
  if (pi < 0)
    return;
  MsAggThread *t = thread_at (self, thread_for (self, (guint32) pi, tid));
  guint64 cpu = v[MS_RES_THREAD_UTIME_NS] + v[MS_RES_THREAD_STIME_NS];

  if (!t->has_resources)
    {
      t->has_resources = TRUE;
      t->res_first_ns = time_ns;
      t->cpu_first_ns = cpu;
      t->vcs_first = v[MS_RES_THREAD_VOLUNTARY_CS];
    }
  else
    {
      /* Series only for threads sampled twice: a short-lived thread seen
       * once has no rate, and must not cost two arrays. */
      if (t->cpu_series == NULL && self->res_buckets)
        {
          t->cpu_series = g_new0 (guint64, self->res_buckets);
          t->alloc_series = g_new0 (guint64, self->res_buckets);
        }
      gint b = res_bucket (self, time_ns);
      if (b >= 0 && t->cpu_series)
        t->cpu_series[b] += cpu > t->cpu_last_ns ? cpu - t->cpu_last_ns : 0;
    }
  t->res_samples++;
  t->res_last_ns = time_ns;
  t->cpu_last_ns = cpu;
  t->vcs_last = v[MS_RES_THREAD_VOLUNTARY_CS];
}

/* The cores of one tick: what each spent since its previous sample. */
typedef struct
{
  GArray *last;           /* CoreTimes by core index */
  guint64 busy_ns, total_ns;
} CoreTicks;

typedef struct
{
  guint64 busy_ns, total_ns;
  gboolean seen;
} CoreTimes;

static void
add_resource_cpu (CoreTicks *ticks, guint64 core, const guint64 *v, guint n)
{
  guint64 total = 0;

  /* the monitor numbers the cores of /proc/stat: a hostile id must not
   * make us allocate gigabytes */
  if (n < MS_RES_CPU_N_VALUES || core >= 65536)
    return;
  for (guint i = 0; i < MS_RES_CPU_N_VALUES; i++)
    total += v[i];
  guint64 busy = total - MIN (total, v[MS_RES_CPU_IDLE_NS] + v[MS_RES_CPU_IOWAIT_NS]);
  if (core >= ticks->last->len)
    g_array_set_size (ticks->last, (guint) core + 1);
  CoreTimes *c = &g_array_index (ticks->last, CoreTimes, core);
  if (c->seen && total >= c->total_ns && busy >= c->busy_ns)
    {
      ticks->busy_ns += busy - c->busy_ns;
      ticks->total_ns += total - c->total_ns;
    }
  c->busy_ns = busy;
  c->total_ns = total;
  c->seen = TRUE;
}

/* The monitor writes the cores of a tick, then the system's sample, all
 * at the same time: the system's sample closes the tick. */
static void
add_resource_system (MsAggregator *self, CoreTicks *ticks, guint64 time_ns, const guint64 *v, guint n)
{
  if (n > MS_RES_SYS_N_CPUS)
    self->sys_n_cpus = v[MS_RES_SYS_N_CPUS];
  if (n > MS_RES_SYS_MEM_TOTAL)
    self->sys_mem_total = v[MS_RES_SYS_MEM_TOTAL];
  if (n > MS_RES_SYS_LOAD1_X100)
    {
      MsAggSysPoint point = {
        .time_ns = time_ns,
        .cpu_busy_ns = ticks->busy_ns,
        .cpu_total_ns = ticks->total_ns,
        .mem_available = v[MS_RES_SYS_MEM_AVAILABLE],
        .load1_x100 = v[MS_RES_SYS_LOAD1_X100],
      };
      g_array_append_val (self->sys_points, point);
    }
  ticks->busy_ns = ticks->total_ns = 0;
}

static gboolean
next_resource_record (MsReader *reader, MsRecord *r, GPtrArray *damage, const char *path, guint64 *last_good)
{
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      if (ms_reader_next (reader, r, &error))
        {
          *last_good = r->file_offset;
          return TRUE;
        }
      if (error == NULL)
        return FALSE;
      if (damage)
        {
          MsAggDamage *d = ms_agg_damage_new (path, error, *last_good);
          if (d)
            g_ptr_array_add (damage, d);
        }
    }
}

void
ms_aggregator_load_resources (MsAggregator *self, const char *path)
{
  g_autoptr (MsReader) reader = NULL;
  g_autoptr (GHashTable) names = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GError) error = NULL;
  MsRecord r;
  guint64 first = G_MAXUINT64, last = 0, last_good = 0;

  if (path == NULL)
    return;
  /* Two passes: the first finds the time span, so that the per-thread
   * series get fixed buckets before any sample is added. */
  reader = ms_reader_open (path, &error);
  if (reader == NULL)
    {
      MsAggDamage *d = ms_agg_damage_new (path, error, 0);
      if (d)
        g_ptr_array_add (self->damage, d);
      return;
    }
  while (next_resource_record (reader, &r, self->damage, path, &last_good))
    {
      if (r.kind == MS_RECORD_RESOURCE)
        {
          first = MIN (first, r.time_ns);
          last = MAX (last, r.time_ns);
        }
      else if (r.kind == MS_RECORD_INFO)
        g_hash_table_replace (self->res_info, g_strndup (r.u.info.key.data, r.u.info.key.len),
                              g_strndup (r.u.info.value.data, r.u.info.value.len));
    }
  g_clear_pointer (&reader, ms_reader_free);
  if (first == G_MAXUINT64)
    return;

  const char *interval = g_hash_table_lookup (self->res_info, "interval_msec");
  guint64 interval_ns = interval ? g_ascii_strtoull (interval, NULL, 10) * 1000000u : 0;
  if (interval_ns == 0)
    interval_ns = RES_DEFAULT_INTERVAL_NS;
  self->res_interval_ns = interval_ns;
  self->res_origin_ns = first;
  self->res_width_ns = MAX (interval_ns, (last - first) / RES_MAX_BUCKETS + 1);
  self->res_buckets = (guint) ((last - first) / self->res_width_ns) + 1;

  reader = ms_reader_open (path, NULL);
  if (reader == NULL)
    return;
  g_autoptr (GArray) cores = g_array_new (FALSE, TRUE, sizeof (CoreTimes));
  CoreTicks ticks = { cores, 0, 0 };
  while (next_resource_record (reader, &r, NULL, path, &last_good))
    {
      if (r.kind == MS_RECORD_RESOURCE)
        {
          switch (r.u.resource.scope)
            {
            case MS_RESOURCE_PROCESS:
              {
                gint pi = process_by_pid (self, r.u.resource.id, r.time_ns);
                if (pi >= 0)
                  add_resource_process (self, g_ptr_array_index (self->processes, pi), r.time_ns,
                                        r.u.resource.values, r.u.resource.n_values);
              }
              break;
            case MS_RESOURCE_THREAD:
              add_resource_thread (self, r.u.resource.id, r.time_ns, r.u.resource.values, r.u.resource.n_values);
              break;
            case MS_RESOURCE_CPU:
              add_resource_cpu (&ticks, r.u.resource.id, r.u.resource.values, r.u.resource.n_values);
              break;
            case MS_RESOURCE_SYSTEM:
              add_resource_system (self, &ticks, r.time_ns, r.u.resource.values, r.u.resource.n_values);
              break;
            default:
              break;
            }
        }
      else if (r.kind == MS_RECORD_THREAD_NAME && r.u.thread.name.len > 0)
        g_hash_table_replace (names, GUINT_TO_POINTER ((guint) r.u.thread.tid),
                              g_strndup (r.u.thread.name.data, r.u.thread.name.len));
    }

  g_clear_pointer (&self->res_names, g_hash_table_unref);
  self->res_names = g_steal_pointer (&names);
}
