/* tests/fuzz/fuzz.h: what every libFuzzer target includes.
 *
 * A target is one file tests/fuzz/fuzz_<name>.c defining
 * LLVMFuzzerTestOneInput (and, when it needs a fixture, LLVMFuzzerInitialize);
 * its committed seeds are tests/fuzz/corpus/<name>/, the inputs that once
 * crashed it tests/fuzz/regress/<name>/ (replayed by every run).  Targets
 * check more than memory safety: FUZZ_CHECK states a property the parser
 * promises (a refusal says why, an accepted image lies inside RAM, ...) and
 * aborts, which libFuzzer reports as a crash with the input saved. */
#ifndef VLAB_TESTS_FUZZ_FUZZ_H
#define VLAB_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz property broken at %s:%d: %s: ", __FILE__, __LINE__, \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The target cannot run on this host (no /dev/kvm ...): says why and exits
 * with 77, which tests/fuzz/run.sh reports as a skip. */
#define FUZZ_SKIP(...)                                                                             \
	do {                                                                                       \
		printf("SKIP: " __VA_ARGS__);                                                      \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
		exit(77);                                                                          \
	} while (0)

#endif
