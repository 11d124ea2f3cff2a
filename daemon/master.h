/*
 * The master process: being written.
 */
#ifndef AFFINITYD_MASTER_H
#define AFFINITYD_MASTER_H
#endif
