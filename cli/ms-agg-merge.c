/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-agg-merge.h"

#include <string.h>

#include "ms-error.h"
#include "ms-reader.h"

/* Batches waiting per file: a few keep a worker ahead of the consumer
 * without letting one fast file fill memory while the merge waits on
 * another. A worker is sent back to a file only once it has no more
 * than REFILL_AT waiting, to decode several batches at a time: each
 * round costs a wake-up of a worker, and one per batch made the thread
 * switches a good part of the run. */
#define MAX_READY 4
#define REFILL_AT 1
/* Decoded events buffered over all files at most: 2 MiB of MsAggEvent. */
#define EVENT_BUDGET (4u * 1024u * 1024u / sizeof (MsAggEvent))
#define MIN_BATCH 256u
#define MAX_BATCH 4096u

typedef struct
{
  MsAggEvent *events;
  guint n;
  GPtrArray *strings;   /* thread names the events point to */
} Batch;

typedef struct
{
  MsAggSource pub;

  /* decoder side: touched only by the one worker that has the file */
  MsReader *reader;
  MsAggMap stack_ids;   /* the file's stack id → dense index (guint32) */
  guint32 n_stacks;
  guint64 last_good_offset;
  guint n_errors;

  /* shared, under the merge's lock */
  GQueue ready;
  GQueue spare;
  gboolean in_flight;
  gboolean done;        /* the decoder has pushed its last batch */

  /* consumer side */
  Batch *current;
  guint pos;
} Source;

/* An event's place in the merged order: its time, then frees first, then
 * its file's index (see order_class), in one integer: one compare. */
typedef unsigned __int128 MergeKey;

/* A heap entry carries its source's head key, so that sifting compares
 * contiguous keys instead of chasing each source's current event. */
typedef struct
{
  MergeKey key;
  Source *source;
} HeapEntry;

struct _MsAggMerge
{
  GPtrArray *sources;   /* Source* */
  GThreadPool *pool;
  GMutex lock;
  GCond cond;
  guint batch_events;

  HeapEntry *heap;
  guint heap_len;
  gboolean started;
  guint returned;       /* events of heap[0]'s file handed out in the last run */
  /* The first key of all files but heap[0]'s: heap[0]'s file goes on
   * alone while its events come before it. */
  MergeKey limit;
  MsAggPrefetchFunc prefetch;
  gpointer prefetch_data;
};

static Batch *
batch_new (guint capacity)
{
  Batch *b = g_new0 (Batch, 1);
  b->events = g_new (MsAggEvent, capacity);
  b->strings = g_ptr_array_new_with_free_func (g_free);
  return b;
}

static void
batch_free (Batch *b)
{
  if (b == NULL)
    return;
  g_free (b->events);
  g_ptr_array_unref (b->strings);
  g_free (b);
}

static void
batch_reset (Batch *b)
{
  b->n = 0;
  g_ptr_array_set_size (b->strings, 0);
}

static inline guint32
lookup_stack (Source *s, guint64 id)
{
  if (id == 0)
    return 0;
  guint32 *dense = ms_agg_map_lookup_sized (&s->stack_ids, id, sizeof (guint32));
  if (dense == NULL)
    {
      s->pub.unknown_stack_refs++;
      return 0;
    }
  return *dense;
}

static void
note_damage (Source *s, const GError *error)
{
  s->n_errors++;
  if (s->pub.damage->len > 0)
    return;
  MsAggDamage *d = ms_agg_damage_new (s->pub.path, error, s->last_good_offset);
  if (d)
    g_ptr_array_add (s->pub.damage, d);
  else
    s->n_errors--;
}

/* Turns one record into at most one event; returns FALSE for records that
 * are no event (accounted for in the source). */
static gboolean
convert (Source *s, const MsRecord *r, Batch *b, MsAggEvent *ev)
{
  /* The hot kinds' events, by record kind. The decoder fills every field
   * of a heap event (size, old address and stack 0, weight one where the
   * kind has none): one conversion fits them all. */
  static const guint8 heap_kinds[MS_RECORD_FIRST_SIZED] = {
    [MS_RECORD_ALLOC] = MS_AGG_EV_ALLOC,
    [MS_RECORD_ALLOC_SAMPLED] = MS_AGG_EV_ALLOC,
    [MS_RECORD_REALLOC] = MS_AGG_EV_REALLOC,
    [MS_RECORD_REALLOC_SAMPLED] = MS_AGG_EV_REALLOC,
    [MS_RECORD_MMAP] = MS_AGG_EV_MMAP,
    [MS_RECORD_FREE] = MS_AGG_EV_FREE,
    [MS_RECORD_MUNMAP] = MS_AGG_EV_MUNMAP,
  };

  ev->time_ns = r->time_ns;
  if (G_LIKELY (ms_record_kind_is_hot (r->kind)))
    {
      ev->kind = heap_kinds[r->kind];
      ev->a = r->u.event.addr;
      ev->b = r->u.event.size;
      ev->c = r->u.event.old_addr;
      ev->weight = r->u.event.weight;
      ev->stack = lookup_stack (s, r->u.event.stack_id);
      s->pub.heap_events++;
      return TRUE;
    }

  ev->weight = MS_WEIGHT_ONE;
  ev->stack = 0;
  ev->a = ev->b = ev->c = 0;
  switch (r->kind)
    {
    case MS_RECORD_STACK_NODE:
      {
        if (r->u.stack_node.id == 0 || s->n_stacks == G_MAXUINT32)
          {
            s->pub.unknown_stack_refs++;
            return FALSE;
          }
        guint32 parent = lookup_stack (s, r->u.stack_node.parent);
        guint32 *dense = ms_agg_map_insert (&s->stack_ids, r->u.stack_node.id, NULL);
        *dense = ++s->n_stacks;
        ev->kind = MS_AGG_EV_STACK_NODE;
        ev->stack = *dense;
        ev->c = parent;
        ev->a = r->u.stack_node.ip;
        return TRUE;
      }
    case MS_RECORD_THREAD_START:
    case MS_RECORD_THREAD_END:
      ev->kind = r->kind == MS_RECORD_THREAD_START ? MS_AGG_EV_THREAD_START : MS_AGG_EV_THREAD_END;
      ev->a = r->u.thread.tid;
      return TRUE;
    case MS_RECORD_THREAD_NAME:
      {
        char *name = g_strndup (r->u.thread.name.data, r->u.thread.name.len);
        g_ptr_array_add (b->strings, name);
        ev->kind = MS_AGG_EV_THREAD_NAME;
        ev->a = r->u.thread.tid;
        ev->c = (guint64) (guintptr) name;
        return TRUE;
      }
    case MS_RECORD_LABEL:
      {
        gsize n = r->u.label.name.len, t = r->u.label.type.len;
        char *both = g_malloc (n + t + 2);
        memcpy (both, r->u.label.name.data, n);
        both[n] = '\0';
        memcpy (both + n + 1, r->u.label.type.data, t);
        both[n + 1 + t] = '\0';
        g_ptr_array_add (b->strings, both);
        ev->kind = MS_AGG_EV_LABEL;
        ev->a = r->u.label.addr;
        ev->b = r->u.label.size;
        ev->c = (guint64) (guintptr) both;
        return TRUE;
      }
    case MS_RECORD_FREQ:
      ev->kind = MS_AGG_EV_FREQ;
      ev->a = r->u.freq.tid;
      ev->weight = r->u.freq.ip;
      ev->b = r->u.freq.bytes;
      ev->c = r->u.freq.count;
      return TRUE;
    case MS_RECORD_LOST:
      ev->kind = MS_AGG_EV_LOST;
      ev->a = r->u.lost.events;
      ev->b = r->u.lost.reason;
      s->pub.lost_events += r->u.lost.events;
      return TRUE;
    case MS_RECORD_CLOSE:
      s->pub.closed = TRUE;
      s->pub.close_allocs = r->u.close.allocs;
      s->pub.close_frees = r->u.close.frees;
      s->pub.close_lost = r->u.close.lost;
      return FALSE;
    default:
      return FALSE;
    }
}

static void
fill_batch (Source *s, Batch *b, guint capacity, gboolean *out_eof)
{
  MsRecord r;
  GError *error = NULL;
  /* The span of the file's timed events (FREQ rows come at exit and say
   * nothing about when the program ran), kept here in the decoders rather
   * than per event in the merge. */
  guint64 first_ns = s->pub.first_ns, last_ns = s->pub.last_ns;

  *out_eof = FALSE;
  while (b->n < capacity)
    {
      if (!ms_reader_next (s->reader, &r, &error))
        {
          if (error == NULL)
            {
              *out_eof = TRUE;
              break;
            }
          note_damage (s, error);
          g_clear_error (&error);
          continue;
        }
      s->pub.records++;
      s->last_good_offset = r.file_offset;
      MsAggEvent *ev = &b->events[b->n];
      if (convert (s, &r, b, ev))
        {
          b->n++;
          if (G_LIKELY (ev->kind != MS_AGG_EV_FREQ))
            {
              first_ns = MIN (first_ns, ev->time_ns);
              last_ns = MAX (last_ns, ev->time_ns);
            }
        }
    }
  s->pub.first_ns = first_ns;
  s->pub.last_ns = last_ns;
}

static void
finish_source (Source *s)
{
  const MsReaderStats *st = ms_reader_get_stats (s->reader);

  s->pub.bytes_read = ms_reader_get_info (s->reader)->file_bytes - st->bytes_skipped;
  if (s->pub.damage->len > 0)
    {
      MsAggDamage *d = g_ptr_array_index (s->pub.damage, 0);
      d->bytes_skipped = st->bytes_skipped;
      if (s->n_errors > 1)
        {
          char *m = g_strdup_printf ("%s (+%u)", d->message, s->n_errors - 1);
          g_free (d->message);
          d->message = m;
        }
    }
  g_clear_pointer (&s->reader, ms_reader_free);
  ms_agg_map_clear (&s->stack_ids);
}

static void
decode_task (gpointer data, gpointer user_data)
{
  Source *s = data;
  MsAggMerge *self = user_data;

  for (;;)
    {
      g_mutex_lock (&self->lock);
      Batch *b = g_queue_pop_head (&s->spare);
      g_mutex_unlock (&self->lock);
      if (b == NULL)
        b = batch_new (self->batch_events);
      else
        batch_reset (b);

      gboolean eof = TRUE;
      if (s->reader)
        fill_batch (s, b, self->batch_events, &eof);
      if (eof && s->reader)
        finish_source (s);

      g_mutex_lock (&self->lock);
      g_queue_push_tail (&s->ready, b);
      gboolean more = !eof && s->ready.length < MAX_READY;
      if (eof)
        s->done = TRUE;
      if (!more)
        s->in_flight = FALSE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      if (!more)
        return;
    }
}

static void
source_free (Source *s)
{
  Batch *b;

  g_clear_pointer (&s->reader, ms_reader_free);
  ms_agg_map_clear (&s->stack_ids);
  while ((b = g_queue_pop_head (&s->ready)))
    batch_free (b);
  while ((b = g_queue_pop_head (&s->spare)))
    batch_free (b);
  batch_free (s->current);
  g_free (s->pub.path);
  g_clear_pointer (&s->pub.damage, g_ptr_array_unref);
  g_clear_pointer (&s->pub.global_stacks, g_array_unref);
  g_clear_pointer (&s->pub.stack_index, g_array_unref);
  g_free (s);
}

MsAggMerge *
ms_agg_merge_new (const MsAggTraceDir *trace, guint n_workers)
{
  MsAggMerge *self = g_new0 (MsAggMerge, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) source_free);

  for (guint p = 0; p < trace->processes->len; p++)
    {
      const MsAggProcessInfo *info = g_ptr_array_index (trace->processes, p);
      for (guint i = 0; i < info->thread_files->len; i++)
        {
          Source *s = g_new0 (Source, 1);
          g_autoptr (GError) error = NULL;

          s->pub.index = self->sources->len;
          s->pub.process = p;
          s->pub.path = g_strdup (g_ptr_array_index (info->thread_files, i));
          s->pub.damage = g_ptr_array_new_with_free_func ((GDestroyNotify) ms_agg_damage_free);
          s->pub.global_stacks = g_array_new (FALSE, TRUE, sizeof (guint32));
          g_array_set_size (s->pub.global_stacks, 1);
          s->pub.stack_index = g_array_new (FALSE, TRUE, sizeof (guint32));
          s->pub.first_ns = G_MAXUINT64;
          s->pub.thread = G_MAXUINT;
          ms_agg_map_init (&s->stack_ids, sizeof (guint32));
          g_queue_init (&s->ready);
          g_queue_init (&s->spare);
          /* The header was checked when the directory was opened; a file
           * that vanished since is damage like any other. */
          s->reader = ms_reader_open (s->pub.path, &error);
          if (s->reader == NULL)
            {
              note_damage (s, error);
              s->done = TRUE;
            }
          g_ptr_array_add (self->sources, s);
        }
    }

  guint n = MAX (self->sources->len, 1);
  self->batch_events = CLAMP (EVENT_BUDGET / (n * (MAX_READY + 1)), MIN_BATCH, MAX_BATCH);
  if (n_workers == 0)
    n_workers = CLAMP (g_get_num_processors (), 1, 8);
  self->pool = g_thread_pool_new (decode_task, self, (gint) n_workers, TRUE, NULL);
  self->heap = g_new (HeapEntry, n);
  return self;
}

void
ms_agg_merge_free (MsAggMerge *self)
{
  if (self == NULL)
    return;
  /* Tasks not started yet are dropped; running ones stop by themselves
   * once their file has MAX_READY batches waiting. */
  if (self->pool)
    g_thread_pool_free (self->pool, TRUE, TRUE);
  g_ptr_array_unref (self->sources);
  g_free (self->heap);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

guint
ms_agg_merge_get_n_sources (MsAggMerge *self)
{
  return self->sources->len;
}

MsAggSource *
ms_agg_merge_get_source (MsAggMerge *self, guint index)
{
  return &((Source *) g_ptr_array_index (self->sources, index))->pub;
}

/* source_peek() at the end of a batch: takes the next one, waiting for
 * the decoder when needed, and sends the decoder back to the file. */
static G_GNUC_NO_INLINE const MsAggEvent *
next_batch (MsAggMerge *self, Source *s)
{
  while (s->current == NULL || s->pos >= s->current->n)
    {
      g_mutex_lock (&self->lock);
      if (s->current)
        g_queue_push_tail (&s->spare, g_steal_pointer (&s->current));
      while (s->ready.length == 0 && !s->done)
        g_cond_wait (&self->cond, &self->lock);
      s->current = g_queue_pop_head (&s->ready);
      s->pos = 0;
      if (!s->in_flight && !s->done && s->ready.length <= REFILL_AT)
        {
          s->in_flight = TRUE;
          g_thread_pool_push (self->pool, s, NULL);
        }
      g_mutex_unlock (&self->lock);
      if (s->current == NULL)
        return NULL;
    }
  return &s->current->events[s->pos];
}

/* The current event of S; NULL once the file is exhausted. */
static inline const MsAggEvent *
source_peek (MsAggMerge *self, Source *s)
{
  if (G_LIKELY (s->current != NULL && s->pos < s->current->n))
    return &s->current->events[s->pos];
  return next_batch (self, s);
}

static inline guint32
order_class (guint32 kind)
{
  /* At equal times a free goes first: the contract records frees before
   * the real free and allocations after the real call, so an address
   * freed and handed out within one clock tick belongs to the free first. */
  const guint32 frees = 1u << MS_AGG_EV_FREE | 1u << MS_AGG_EV_MUNMAP | 1u << MS_AGG_EV_REALLOC;

  G_STATIC_ASSERT (MS_AGG_EV_LABEL < 32);
  return kind < 32 ? ~frees >> kind & 1 : 1;
}

void
ms_agg_merge_set_prefetch (MsAggMerge *self, MsAggPrefetchFunc func, gpointer user_data)
{
  self->prefetch = func;
  self->prefetch_data = user_data;
}

static inline MergeKey
event_key (const MsAggEvent *ev, guint32 index)
{
  return (MergeKey) ev->time_ns << 32 | (order_class (ev->kind) << 31 | index);
}

static inline void
entry_set (MsAggMerge *self, HeapEntry *e, Source *s, const MsAggEvent *ev)
{
  if (self->prefetch)
    self->prefetch (self->prefetch_data, &s->pub, ev);
  e->key = event_key (ev, s->pub.index);
  e->source = s;
}

/* Moves heap[I] down to its place: children move up into the hole. */
static void
sift_down (MsAggMerge *self, guint i)
{
  HeapEntry *h = self->heap;
  guint n = self->heap_len;
  HeapEntry moving = h[i];

  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && h[c + 1].key < h[c].key)
        c++;
      if (moving.key < h[c].key)
        break;
      h[i] = h[c];
      i = c;
    }
  h[i] = moving;
}

/* The key of the first of heap[0]'s children, after heap[0] changed. */
static inline void
set_limit (MsAggMerge *self)
{
  const HeapEntry *h = self->heap;
  MergeKey limit = ~(MergeKey) 0;

  if (self->heap_len > 1)
    limit = h[1].key;
  if (self->heap_len > 2 && h[2].key < limit)
    limit = h[2].key;
  self->limit = limit;
}

const MsAggEvent *
ms_agg_merge_next_run (MsAggMerge *self, MsAggSource **out_source, guint *out_n)
{
  if (!self->started)
    {
      self->started = TRUE;
      for (guint i = 0; i < self->sources->len; i++)
        {
          Source *s = g_ptr_array_index (self->sources, i);
          g_mutex_lock (&self->lock);
          if (!s->done)
            {
              s->in_flight = TRUE;
              g_thread_pool_push (self->pool, s, NULL);
            }
          g_mutex_unlock (&self->lock);
        }
      for (guint i = 0; i < self->sources->len; i++)
        {
          Source *s = g_ptr_array_index (self->sources, i);
          const MsAggEvent *ev = source_peek (self, s);
          if (ev)
            entry_set (self, &self->heap[self->heap_len++], s, ev);
        }
      for (guint i = self->heap_len / 2; i-- > 0;)
        sift_down (self, i);
    }
  else if (self->heap_len > 0)
    {
      Source *top = self->heap[0].source;
      top->pos += self->returned;
      const MsAggEvent *ev = source_peek (self, top);
      if (ev == NULL)
        self->heap[0] = self->heap[--self->heap_len];
      else
        entry_set (self, &self->heap[0], top, ev);
      sift_down (self, 0);
    }

  self->returned = 0;
  if (self->heap_len == 0)
    return NULL;
  set_limit (self);

  /* The run: heap[0]'s events up to the first that another file's next
   * event precedes, or to the end of the batch. Most programs' threads
   * allocate in bursts, so this is one compare per event instead of a
   * sift through the heap. */
  Source *top = self->heap[0].source;
  const MsAggEvent *run = &top->current->events[top->pos];
  guint avail = top->current->n - top->pos;
  guint32 index = top->pub.index;
  guint64 limit_ns = (guint64) (self->limit >> 32);
  guint n = 1;
  /* the time alone decides but at equal times */
  while (n < avail
         && (run[n].time_ns < limit_ns || (run[n].time_ns == limit_ns && event_key (&run[n], index) < self->limit)))
    n++;
  self->returned = n;
  /* The events after the run were written by a decoder on another core:
   * the lines of the file's next run are fetched while others' runs go. */
  if (n + 2 < avail)
    {
      __builtin_prefetch (&run[n + 1]);
      __builtin_prefetch (&run[n + 2]);
    }
  if (out_source)
    *out_source = &top->pub;
  *out_n = n;
  return run;
}
