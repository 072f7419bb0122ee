/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-stack-trie.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "ms-sys.h"

#define INITIAL_CAPACITY 1024u

static void *
anon_map (size_t bytes)
{
  void *p = ms_sys_mmap (NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return ms_sys_is_error ((long) p) ? NULL : p;
}

static inline uint64_t
mix (uint64_t h)
{
  /* the finaliser of MurmurHash3: a full avalanche in 5 instructions */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

static inline uint32_t
slot_of (const MsStackTrie *self, uint32_t parent, uint64_t ip)
{
  return (uint32_t) mix (ip ^ ((uint64_t) parent << 40) ^ parent) & (self->capacity - 1);
}

int
ms_stack_trie_init (MsStackTrie *self)
{
  memset (self, 0, sizeof *self);
  self->table = anon_map (INITIAL_CAPACITY * sizeof (MsTrieEntry));
  self->cache = anon_map (MS_STACK_CACHE_ENTRIES * sizeof (MsStackCacheEntry));
  if (self->table == NULL || self->cache == NULL)
    {
      ms_stack_trie_destroy (self);
      return -ENOMEM;
    }
  self->capacity = INITIAL_CAPACITY;
  return 0;
}

void
ms_stack_trie_destroy (MsStackTrie *self)
{
  if (self->table)
    ms_sys_munmap (self->table, self->capacity * sizeof (MsTrieEntry));
  if (self->cache)
    ms_sys_munmap (self->cache, MS_STACK_CACHE_ENTRIES * sizeof (MsStackCacheEntry));
  memset (self, 0, sizeof *self);
}

void
ms_stack_trie_reset (MsStackTrie *self)
{
  memset (self->table, 0, self->capacity * sizeof (MsTrieEntry));
  memset (self->cache, 0, MS_STACK_CACHE_ENTRIES * sizeof (MsStackCacheEntry));
  self->count = 0;
}

static int
grow (MsStackTrie *self)
{
  uint32_t new_capacity = self->capacity * 2;
  MsTrieEntry *old = self->table;
  uint32_t old_capacity = self->capacity;
  MsTrieEntry *table;

  if (new_capacity == 0 || (table = anon_map ((size_t) new_capacity * sizeof (MsTrieEntry))) == NULL)
    return -ENOMEM;
  self->table = table;
  self->capacity = new_capacity;
  for (uint32_t i = 0; i < old_capacity; i++)
    {
      if (old[i].id == 0)
        continue;
      uint32_t s = slot_of (self, old[i].parent, old[i].ip);
      while (table[s].id != 0)
        s = (s + 1) & (new_capacity - 1);
      table[s] = old[i];
    }
  ms_sys_munmap (old, (size_t) old_capacity * sizeof (MsTrieEntry));
  return 0;
}

static uint32_t
child (MsStackTrie *self, uint32_t parent, uint64_t ip, MsStackNodeFunc new_node, void *user_data)
{
  uint32_t s = slot_of (self, parent, ip);

  for (;;)
    {
      MsTrieEntry *e = &self->table[s];
      if (e->id == 0)
        break;
      if (e->ip == ip && e->parent == parent)
        return e->id;
      s = (s + 1) & (self->capacity - 1);
    }

  /* keep the load under one half: probes stay short */
  if ((self->count + 1) * 2 > self->capacity)
    {
      if (grow (self) < 0)
        return 0;
      return child (self, parent, ip, new_node, user_data);
    }
  uint32_t id = self->count + 1;
  if (new_node (user_data, id, parent, ip) != 0)
    return 0;
  self->table[s] = (MsTrieEntry) { .ip = ip, .parent = parent, .id = id };
  self->count = id;
  return id;
}

uint32_t
ms_stack_trie_intern (MsStackTrie *self, const uint64_t *ips, uint32_t n,
                      MsStackNodeFunc new_node, void *user_data)
{
  if (n == 0)
    return 0;

  /* Two multiply-add chains over alternate frames, mixed once at the end:
   * deep stacks (an interpreter's 64 frames) made a full mix per frame a
   * sixth of an event's cost. Position matters through the multiplies. */
  uint64_t a = n, b = 0x9e3779b97f4a7c15ull;
  uint32_t k = 0;
  for (; k + 1 < n; k += 2)
    {
      a = (a + ips[k]) * 0xff51afd7ed558ccdull;
      b = (b + ips[k + 1]) * 0xc4ceb9fe1a85ec53ull;
    }
  if (k < n)
    a = (a + ips[k]) * 0xff51afd7ed558ccdull;
  uint64_t h = mix (a ^ (b >> 29) ^ (b << 35));

  /* A 64-bit hash match of the whole stack and its depth stands for the
   * stack: the odds of a false match are ~2^-64 per pair of stacks, far
   * below anything else that can go wrong, and the walk below costs a
   * probe per frame on every event. */
  MsStackCacheEntry *c = &self->cache[h & (MS_STACK_CACHE_ENTRIES - 1)];
  if (MS_LIKELY (c->hash == h && c->n_frames == n && c->leaf != 0))
    return c->leaf;

  uint32_t id = 0;
  for (uint32_t i = n; i-- > 0;)
    {
      id = child (self, id, ips[i], new_node, user_data);
      if (id == 0)
        return 0;
    }
  *c = (MsStackCacheEntry) { .hash = h, .leaf = id, .n_frames = n };
  return id;
}
