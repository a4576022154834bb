// One core's fp32 FMA ceiling, to judge how close the engine gets to it:
//     clang -O2 -mavx512f -mfma Scripts/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak   (or gcc -O2)
// 24 independent 16-lane FMA chains (enough to hide the FMA latency on any AVX-512 core), nothing but FMAs in
// the loop. The result is an upper bound for any fp32 kernel on this core: 2 FLOPs per lane per FMA.
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

enum { CHAINS = 24 };

int main(void) {
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    const __m512 scale = _mm512_set1_ps(0.999999f), offset = _mm512_set1_ps(1e-7f);
    const long iterations = 200000000;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long n = 0; n < iterations; n++) {
#pragma GCC unroll 24
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], scale, offset);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    const double seconds = (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
    float sink = 0;
    for (int i = 0; i < CHAINS; i++) sink += _mm512_reduce_add_ps(acc[i]);
    printf("%.1f GFLOP/s fp32 FMA on one core (checksum %g)\n", (double)iterations * CHAINS * 32 / seconds / 1e9, sink);
    return 0;
}
