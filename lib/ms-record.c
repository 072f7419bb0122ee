/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-record.h"
#include "ms-record-private.h"

#include <string.h>

#include "ms-varint.h"

static uint8_t *
put_bytes (uint8_t *out, MsBytes bytes)
{
  out = ms_varint_put (out, bytes.len);
  if (bytes.len)
    memcpy (out, bytes.data, bytes.len);
  return out + bytes.len;
}

static size_t
bytes_max (MsBytes bytes)
{
  return MS_VARINT_MAX_BYTES + bytes.len;
}

size_t
ms_record_max_bytes (const MsRecord *r)
{
  /* tag + payload length + dt + up to 6 integers, then the variable parts */
  size_t fixed = 1 + 2 * MS_VARINT_MAX_BYTES + 6 * (MS_VARINT_MAX_BYTES + 1);

  switch (r->kind)
    {
    case MS_RECORD_THREAD_NAME:
      return fixed + bytes_max (r->u.thread.name);
    case MS_RECORD_MODULE_LOAD:
      return fixed + bytes_max (r->u.module.build_id) + bytes_max (r->u.module.path);
    case MS_RECORD_INFO:
      return fixed + bytes_max (r->u.info.key) + bytes_max (r->u.info.value);
    case MS_RECORD_LABEL:
      return fixed + bytes_max (r->u.label.name) + bytes_max (r->u.label.type);
    case MS_RECORD_RESOURCE:
      return fixed + (size_t) r->u.resource.n_values * MS_VARINT_MAX_BYTES;
    default:
      return fixed;
    }
}

static uint8_t *
encode_hot (uint8_t *p, MsCodecState *state, const MsRecord *r)
{
  p = ms_encode_time (p, state, r->time_ns);
  switch (r->kind)
    {
    case MS_RECORD_ALLOC:
    case MS_RECORD_ALLOC_SAMPLED:
    case MS_RECORD_MMAP:
      p = ms_varint_put (p, r->u.event.size);
      p = ms_encode_addr (p, state, r->u.event.addr);
      p = ms_varint_put (p, r->u.event.stack_id);
      if (r->kind != MS_RECORD_ALLOC)
        p = ms_varint_put (p, r->u.event.weight);
      break;
    case MS_RECORD_REALLOC:
    case MS_RECORD_REALLOC_SAMPLED:
      p = ms_varint_put (p, r->u.event.size);
      p = ms_encode_addr (p, state, r->u.event.old_addr);
      p = ms_encode_addr (p, state, r->u.event.addr);
      p = ms_varint_put (p, r->u.event.stack_id);
      if (r->kind == MS_RECORD_REALLOC_SAMPLED)
        p = ms_varint_put (p, r->u.event.weight);
      break;
    case MS_RECORD_FREE:
      p = ms_encode_addr (p, state, r->u.event.addr);
      break;
    case MS_RECORD_MUNMAP:
      p = ms_varint_put (p, r->u.event.size);
      p = ms_encode_addr (p, state, r->u.event.addr);
      break;
    default:
      return NULL;
    }
  return p;
}

static uint8_t *
encode_sized_payload (uint8_t *p, MsCodecState *state, const MsRecord *r)
{
  p = ms_encode_time (p, state, r->time_ns);
  switch (r->kind)
    {
    case MS_RECORD_STACK_NODE:
      p = ms_varint_put (p, r->u.stack_node.id);
      p = ms_varint_put (p, r->u.stack_node.parent);
      return ms_varint_put (p, r->u.stack_node.ip);
    case MS_RECORD_THREAD_START:
    case MS_RECORD_THREAD_END:
      return ms_varint_put (p, r->u.thread.tid);
    case MS_RECORD_THREAD_NAME:
      p = ms_varint_put (p, r->u.thread.tid);
      return put_bytes (p, r->u.thread.name);
    case MS_RECORD_MODULE_LOAD:
      p = ms_varint_put (p, r->u.module.start);
      p = ms_varint_put (p, r->u.module.size);
      p = ms_varint_put (p, r->u.module.bias);
      p = put_bytes (p, r->u.module.build_id);
      return put_bytes (p, r->u.module.path);
    case MS_RECORD_MODULE_UNLOAD:
      return ms_varint_put (p, r->u.module.start);
    case MS_RECORD_LOST:
      p = ms_varint_put (p, r->u.lost.events);
      return ms_varint_put (p, r->u.lost.reason);
    case MS_RECORD_FREQ:
      p = ms_varint_put (p, r->u.freq.tid);
      p = ms_varint_put (p, r->u.freq.ip);
      p = ms_varint_put (p, r->u.freq.count);
      return ms_varint_put (p, r->u.freq.bytes);
    case MS_RECORD_INFO:
      p = put_bytes (p, r->u.info.key);
      return put_bytes (p, r->u.info.value);
    case MS_RECORD_RESOURCE:
      p = ms_varint_put (p, r->u.resource.scope);
      p = ms_varint_put (p, r->u.resource.id);
      p = ms_varint_put (p, r->u.resource.n_values);
      for (uint32_t i = 0; i < r->u.resource.n_values && i < MS_MAX_RESOURCE_VALUES; i++)
        p = ms_varint_put (p, r->u.resource.values[i]);
      return p;
    case MS_RECORD_LABEL:
      p = ms_varint_put (p, r->u.label.addr);
      p = ms_varint_put (p, r->u.label.size);
      p = put_bytes (p, r->u.label.name);
      return put_bytes (p, r->u.label.type);
    case MS_RECORD_CLOSE:
      p = ms_varint_put (p, r->u.close.allocs);
      p = ms_varint_put (p, r->u.close.frees);
      p = ms_varint_put (p, r->u.close.bytes_allocated);
      p = ms_varint_put (p, r->u.close.bytes_freed);
      return ms_varint_put (p, r->u.close.lost);
    default:
      return NULL;
    }
}

size_t
ms_record_encode_body (uint8_t *out, MsCodecState *state, const MsRecord *r)
{
  uint8_t *end;

  if (ms_record_kind_is_hot (r->kind))
    {
      end = encode_hot (out, state, r);
      return end ? (size_t) (end - out) : 0;
    }
  if (r->kind < MS_RECORD_FIRST_SIZED || r->kind > MS_RECORD_LAST_KNOWN)
    return 0;

  /* The payload length precedes the payload; encode the payload one
   * maximal length prefix further on, then close the gap. */
  uint8_t *payload = out + MS_VARINT_MAX_BYTES;
  MsCodecState saved = *state;
  end = encode_sized_payload (payload, state, r);
  if (end == NULL)
    {
      *state = saved;
      return 0;
    }
  size_t len = (size_t) (end - payload);
  uint8_t *p = ms_varint_put (out, len);
  memmove (p, payload, len);
  /* The gap the move leaves behind must be zero again: it is where the
   * next record's tag goes, and a writer that dies before storing that tag
   * must leave 0 there, not a stale byte of this payload. */
  memset (p + len, 0, (size_t) (payload - p));
  return (size_t) (p - out) + len;
}

/* ---- decoding ---- */

#define GET(var)                                  \
  do                                              \
    {                                             \
      if (ms_varint_get (&p, end, &(var)) < 0)    \
        return MS_DECODE_SHORT;                   \
    }                                             \
  while (0)

static MsDecodeResult
get_bytes (const uint8_t **pos, const uint8_t *end, MsBytes *out)
{
  const uint8_t *p = *pos;
  uint64_t len;

  GET (len);
  if (len > MS_MAX_STRING_BYTES)
    return MS_DECODE_MALFORMED;
  if (len > (uint64_t) (end - p))
    return MS_DECODE_SHORT;
  out->data = (const char *) p;
  out->len = (uint32_t) len;
  *pos = p + len;
  return MS_DECODE_OK;
}

/* Decodes a known sized kind from exactly [p, end); fields a newer minor
 * version appended after the known ones are ignored. */
static MsDecodeResult
decode_sized (const uint8_t *p, const uint8_t *end, MsCodecState *state, MsRecord *r)
{
  uint64_t n;

  MS_DECODE_CHECK (ms_decode_time (&p, end, true, state, &r->time_ns));
  switch (r->kind)
    {
    case MS_RECORD_STACK_NODE:
      GET (r->u.stack_node.id);
      GET (r->u.stack_node.parent);
      GET (r->u.stack_node.ip);
      if (r->u.stack_node.id == 0)
        return MS_DECODE_MALFORMED;
      break;
    case MS_RECORD_THREAD_START:
    case MS_RECORD_THREAD_END:
      GET (r->u.thread.tid);
      r->u.thread.name = (MsBytes) { NULL, 0 };
      break;
    case MS_RECORD_THREAD_NAME:
      GET (r->u.thread.tid);
      MS_DECODE_CHECK (get_bytes (&p, end, &r->u.thread.name));
      break;
    case MS_RECORD_MODULE_LOAD:
      GET (r->u.module.start);
      GET (r->u.module.size);
      GET (r->u.module.bias);
      MS_DECODE_CHECK (get_bytes (&p, end, &r->u.module.build_id));
      MS_DECODE_CHECK (get_bytes (&p, end, &r->u.module.path));
      break;
    case MS_RECORD_MODULE_UNLOAD:
      memset (&r->u.module, 0, sizeof r->u.module);
      GET (r->u.module.start);
      break;
    case MS_RECORD_LOST:
      GET (r->u.lost.events);
      GET (r->u.lost.reason);
      break;
    case MS_RECORD_FREQ:
      GET (r->u.freq.tid);
      GET (r->u.freq.ip);
      GET (r->u.freq.count);
      GET (r->u.freq.bytes);
      break;
    case MS_RECORD_INFO:
      MS_DECODE_CHECK (get_bytes (&p, end, &r->u.info.key));
      MS_DECODE_CHECK (get_bytes (&p, end, &r->u.info.value));
      break;
    case MS_RECORD_RESOURCE:
      GET (r->u.resource.scope);
      GET (r->u.resource.id);
      GET (n);
      if (n > MS_MAX_RESOURCE_VALUES)
        return MS_DECODE_MALFORMED;
      r->u.resource.n_values = (uint32_t) n;
      for (uint32_t i = 0; i < n; i++)
        GET (r->u.resource.values[i]);
      break;
    case MS_RECORD_LABEL:
      GET (r->u.label.addr);
      GET (r->u.label.size);
      MS_DECODE_CHECK (get_bytes (&p, end, &r->u.label.name));
      MS_DECODE_CHECK (get_bytes (&p, end, &r->u.label.type));
      break;
    case MS_RECORD_CLOSE:
      GET (r->u.close.allocs);
      GET (r->u.close.frees);
      GET (r->u.close.bytes_allocated);
      GET (r->u.close.bytes_freed);
      GET (r->u.close.lost);
      break;
    default:
      return MS_DECODE_MALFORMED;
    }
  return MS_DECODE_OK;
}

MsDecodeResult
ms_record_decode (const uint8_t **pos, const uint8_t *end, MsCodecState *state, MsRecord *r)
{
  const uint8_t *p = *pos;
  uint64_t len;

  if (p >= end || *p == MS_RECORD_END)
    return MS_DECODE_END;

  r->kind = (MsRecordKind) *p++;
  if (ms_record_kind_is_hot (r->kind))
    {
      /* Far from the end, as nearly every record is, nothing needs to be
       * checked against it. */
      MsDecodeResult res = MS_LIKELY (end - p >= MS_HOT_READ_MAX) ? ms_decode_hot (&p, end, false, state, r)
                                                                  : ms_decode_hot (&p, end, true, state, r);
      if (res == MS_DECODE_OK)
        *pos = p;
      return res;
    }

  GET (len);
  if (len > (uint64_t) (end - p))
    return MS_DECODE_SHORT;

  MsCodecState trial = *state;
  if (r->kind > MS_RECORD_LAST_KNOWN)
    {
      /* Unknown to this reader: its time still counts, if it has one, so
       * that later records keep their place. A minor version must begin
       * every new kind with dt. */
      const uint8_t *q = p;
      uint64_t dt = 0;
      if ((len > 0 && ms_varint_get (&q, p + len, &dt) < 0)
          || dt > (UINT64_MAX - trial.prev_time_ns) >> trial.time_shift)
        return MS_DECODE_MALFORMED;
      trial.prev_time_ns += dt << trial.time_shift;
      r->time_ns = trial.prev_time_ns;
      r->u.unknown.payload = (MsBytes) { (const char *) p, (uint32_t) len };
    }
  else
    {
      MsDecodeResult res = decode_sized (p, p + len, &trial, r);
      if (res == MS_DECODE_SHORT)
        return MS_DECODE_MALFORMED; /* the length said it was all there */
      if (res != MS_DECODE_OK)
        return res;
    }
  *state = trial;
  *pos = p + len;
  return MS_DECODE_OK;
}
