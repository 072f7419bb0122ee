/* SPDX-License-Identifier: LGPL-2.1-or-later
 * A stand-in for NVIDIA's libnvidia-ml.so.1 with two devices at known
 * utilisation and memory, so that the monitor's GPU path is tested on
 * machines without a GPU. Only the functions the monitor uses. */
typedef struct
{
  unsigned int gpu;
  unsigned int memory;
} FakeUtilization;

typedef struct
{
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} FakeMemory;

static int devices[2];

int nvmlInit_v2 (void);
int nvmlShutdown (void);
int nvmlDeviceGetCount_v2 (unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2 (unsigned int index, void **device);
int nvmlDeviceGetUtilizationRates (void *device, FakeUtilization *util);
int nvmlDeviceGetMemoryInfo (void *device, FakeMemory *mem);

int
nvmlInit_v2 (void)
{
  return 0;
}

int
nvmlShutdown (void)
{
  return 0;
}

int
nvmlDeviceGetCount_v2 (unsigned int *count)
{
  *count = 2;
  return 0;
}

int
nvmlDeviceGetHandleByIndex_v2 (unsigned int index, void **device)
{
  if (index >= 2)
    return 2; /* NVML_ERROR_INVALID_ARGUMENT */
  *device = &devices[index];
  return 0;
}

int
nvmlDeviceGetUtilizationRates (void *device, FakeUtilization *util)
{
  util->gpu = device == &devices[0] ? 42 : 7;
  util->memory = 0;
  return 0;
}

int
nvmlDeviceGetMemoryInfo (void *device, FakeMemory *mem)
{
  mem->total = 8ull << 30;
  mem->used = device == &devices[0] ? 1ull << 30 : 2ull << 30;
  mem->free = mem->total - mem->used;
  return 0;
}
