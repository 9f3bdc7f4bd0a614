// How far apart this machine's first two CPUs are: the round-trip time of one cache line bounced
// between two threads (2·10⁶ round trips). On the development VM, 56–67 ns when its two vCPUs share
// a core complex (and an L3), 317–342 ns in the windows where the host has put them on different
// ones, in which ConvKit's two-thread layers run 1.3–2× slower (Docs/performance.md, "Slow windows").
//
//     gcc -O2 -pthread Benchmarks/cache_line_round_trip.c -o /tmp/round_trip && /tmp/round_trip
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

enum { ROUND_TRIPS = 2000000 };
static _Atomic long flag __attribute__((aligned(64)));

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *pong(void *unused) {
    (void)unused;
    for (long i = 0; i < ROUND_TRIPS; i++) {
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(&flag, 2 * i + 2, memory_order_release);
    }
    return 0;
}

int main(void) {
    pthread_t thread;
    pthread_create(&thread, 0, pong, 0);
    const double start = now();
    for (long i = 0; i < ROUND_TRIPS; i++) {
        atomic_store_explicit(&flag, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 2) {}
    }
    const double seconds = now() - start;
    pthread_join(thread, 0);
    printf("cache-line round trip: %.0f ns\n", seconds / ROUND_TRIPS * 1e9);
    return 0;
}
