// Raw random-read rate of the disk under files, for comparing a server's cold GETs with what the disk gives at the
// same queue depth (docs/benchmarks.md). DEPTH threads each read 4 KiB blocks at random aligned offsets of the given
// files with O_DIRECT (no page cache) for SECONDS; prints reads/s and the mean latency.
// Build: gcc -O2 -pthread -o randread randread.c
// Usage: randread DEPTH SECONDS FILE...
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static int files;
static int *fds;
static long *blocks;
static long total_blocks;
static atomic_long reads;
static atomic_int stop;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *reader(void *arg)
{
    unsigned int seed = (unsigned int)(long)arg * 2654435761u;
    void *buffer;
    if (posix_memalign(&buffer, BLOCK, BLOCK) != 0) {
        return NULL;
    }
    while (!atomic_load(&stop)) {
        long block = ((long)rand_r(&seed) << 31 | rand_r(&seed)) % total_blocks;
        int f = 0;
        while (block >= blocks[f]) {
            block -= blocks[f++];
        }
        if (pread(fds[f], buffer, BLOCK, block * BLOCK) != BLOCK) {
            perror("pread");
            exit(1);
        }
        atomic_fetch_add(&reads, 1);
    }
    free(buffer);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: randread DEPTH SECONDS FILE...\n");
        return 2;
    }
    int depth = atoi(argv[1]);
    double seconds = atof(argv[2]);
    files = argc - 3;
    fds = calloc(files, sizeof(int));
    blocks = calloc(files, sizeof(long));
    for (int i = 0; i < files; i++) {
        struct stat st;
        fds[i] = open(argv[3 + i], O_RDONLY | O_DIRECT);
        if (fds[i] < 0 || fstat(fds[i], &st) != 0) {
            perror(argv[3 + i]);
            return 1;
        }
        blocks[i] = st.st_size / BLOCK;
        total_blocks += blocks[i];
    }
    pthread_t *threads = calloc(depth, sizeof(pthread_t));
    double begin = now();
    for (long i = 0; i < depth; i++) {
        pthread_create(&threads[i], NULL, reader, (void *)(i + 1));
    }
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&stop, 1);
    for (int i = 0; i < depth; i++) {
        pthread_join(threads[i], NULL);
    }
    double elapsed = now() - begin;
    long n = atomic_load(&reads);
    printf("depth %d: %ld reads of 4 KiB in %.2f s: %.0f reads/s, mean latency %.1f us\n", depth, n, elapsed,
           n / elapsed, depth * elapsed / n * 1e6);
    return 0;
}
