/*
 * proctitle.h: process titles ("livecdn: worker 0") as ps shows them.
 * Like nginx, the title is written over argv[]'s memory, extended over the
 * environment strings, which are moved to the heap first.
 */
#ifndef LC_PROCTITLE_H
#define LC_PROCTITLE_H

int lc_proctitle_init(int argc, char **argv);
void lc_proctitle_set(const char *title);

#endif
