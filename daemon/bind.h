/*
 * Binding tasks to CPUs: being written.
 */
#ifndef AFFINITYD_BIND_H
#define AFFINITYD_BIND_H
#endif
