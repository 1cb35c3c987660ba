/* writer_wait: how a sink's writer thread waits for work (the action log's and the records'
 * writers, which are not woken per action: waking a thread is a system call on the frame
 * thread). A condition on the monotonic clock, so a change of the wall clock neither stalls
 * nor hurries a writer, and a wait of at most a given time. Internal to sim/store. */
#ifndef MESOSIM_WRITER_WAIT_H
#define MESOSIM_WRITER_WAIT_H

#include <pthread.h>

/* Initialises c to time its waits on CLOCK_MONOTONIC. */
void writer_wait_init(pthread_cond_t *c);
/* Waits on c (lock held, as pthread_cond_wait) until woken or ms milliseconds have passed. */
void writer_wait(pthread_cond_t *c, pthread_mutex_t *lock, int ms);

#endif
