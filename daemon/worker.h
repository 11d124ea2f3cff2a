/*
 * The worker process: being written.
 */
#ifndef AFFINITYD_WORKER_H
#define AFFINITYD_WORKER_H
#endif
