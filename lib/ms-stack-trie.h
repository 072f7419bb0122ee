/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Per-thread stack deduplication: a trie of (parent id, return address)
 * nodes in an open-addressing table on anonymous memory, fronted by a
 * direct-mapped cache of whole stacks. Lock-free because it is never shared:
 * one thread-slot owns it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms-macros.h"

MS_BEGIN_DECLS

typedef struct
{
  uint64_t ip;
  uint32_t parent;
  uint32_t id; /* 0: empty entry */
} MsTrieEntry;

typedef struct
{
  uint64_t hash;
  uint32_t leaf;
  uint32_t n_frames;
} MsStackCacheEntry;

#define MS_STACK_CACHE_ENTRIES 1024

typedef struct
{
  MsTrieEntry *table;        /* mmap'd, capacity entries */
  uint32_t capacity;         /* power of two */
  uint32_t count;            /* nodes, = the last id given */
  MsStackCacheEntry *cache;  /* mmap'd, MS_STACK_CACHE_ENTRIES */
} MsStackTrie;

/* Called for each node the trie did not have, root side first, so that a
 * node is always announced after its parent. Returns 0 to keep it. */
typedef int (*MsStackNodeFunc) (void *user_data, uint32_t id, uint32_t parent, uint64_t ip);

MS_INTERNAL int ms_stack_trie_init (MsStackTrie *self);
MS_INTERNAL void ms_stack_trie_destroy (MsStackTrie *self);
/* Forget every node (a forked child starts its own files). */
MS_INTERNAL void ms_stack_trie_reset (MsStackTrie *self);

/* Returns the leaf id of the stack IPS[0..N) (IPS[0] innermost), adding the
 * missing nodes and calling NEW_NODE for each; 0 when N is 0 or memory for
 * the table cannot be had. */
MS_INTERNAL uint32_t ms_stack_trie_intern (MsStackTrie *self,
                                           const uint64_t *ips,
                                           uint32_t n,
                                           MsStackNodeFunc new_node,
                                           void *user_data);

MS_END_DECLS
