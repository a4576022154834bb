// How long a cache line takes to go from one logical CPU to another and back, to tell whether two-thread
// results were measured on cores that share an L3 cache (README "Performance": on this project's VM, 51-62 ns
// most of the time, 317-350 ns in spells when the host placed the two vCPUs apart, and then one image on two
// threads took twice as long as on one):
//     clang -O2 Scripts/core_pingpong.c -o /tmp/core_pingpong -lpthread && /tmp/core_pingpong [CPU_A CPU_B]
// Two threads pinned to CPU_A and CPU_B (default 0 and 1) pass one flag back and forth 200,000 times.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROUND_TRIPS = 200000 };
static _Alignas(64) atomic_int flag;

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *answer(void *cpu) {
    // Says it is ready (2) or could not be pinned (-1) before the first round trip.
    atomic_store(&flag, pin(*(int *)cpu) == 0 ? 2 : -1);
    if (atomic_load(&flag) < 0) return NULL;
    for (int i = 0; i < ROUND_TRIPS; i++) {
        while (atomic_load(&flag) != 1) {
        }
        atomic_store(&flag, 0);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int a = argc > 2 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
    if (pin(a) != 0) {
        fprintf(stderr, "core_pingpong: cannot run on CPU %d\n", a);
        return 1;
    }
    pthread_t other;
    if (pthread_create(&other, NULL, answer, &b) != 0) return 1;
    int state;
    while ((state = atomic_load(&flag)) == 0) {
    }
    if (state < 0) {
        pthread_join(other, NULL);
        fprintf(stderr, "core_pingpong: cannot run on CPU %d\n", b);
        return 1;
    }
    atomic_store(&flag, 0);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < ROUND_TRIPS; i++) {
        atomic_store(&flag, 1);
        while (atomic_load(&flag) != 0) {
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(other, NULL);
    const double ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
    printf("CPU %d <-> CPU %d: %.0f ns per round trip\n", a, b, ns / ROUND_TRIPS);
    return 0;
}
