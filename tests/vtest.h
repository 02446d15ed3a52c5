/* tests/vtest.h: what every vlab C test includes: cmocka, plus skips that
 * say why, and leak checks for descriptors and children. */
#ifndef VLAB_TESTS_VTEST_H
#define VLAB_TESTS_VTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engines/zygote.h"

/* Skips the current test, printing the reason first (never silently). */
#define VTEST_SKIP(...)                                                                           \
	do {                                                                                       \
		printf("SKIP: " __VA_ARGS__);                                                      \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
		skip();                                                                            \
		return;                                                                            \
	} while (0)

/* Open descriptors of this process.  The engine programs' zygotes, which
 * live as long as the process that started them, are not counted: one
 * descriptor and one child each (engines/zygote.h). */
static inline int vtest_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1 - vlab_zygote_count(); /* less the DIR's own descriptor */
}

/* Children of this process (any thread), zombies included, zygotes not. */
static inline int vtest_count_children(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)getpid());
	DIR *d = opendir(path);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char cp[128], buf[4096];
		snprintf(cp, sizeof(cp), "%s/%s/children", path, e->d_name);
		FILE *f = fopen(cp, "r");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
			n++;
	}
	closedir(d);
	return n - vlab_zygote_count();
}

#endif
