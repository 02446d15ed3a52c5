/* tests/fuzz/fuzz_workbook.c: the workbook reader (lesson/workbook.c): a
 * student's progress file, which a crash, a full disk or the student's
 * own editor may have mangled.
 *
 * Input: the file's bytes, read through lesson_workbook_load() from a
 * memfd (/proc/self/fd/N), then walked the way the session and the lab
 * catalog read it (every item's status, score, answer, attempts,
 * hints_used; every measurement).  An accepted workbook is saved with
 * lesson_workbook_save() into a scratch folder on tmpfs and loaded again.
 * Properties: a refusal says why and is EBADMSG for a bad file; an
 * accepted one passes lesson_workbook_check(); saving and loading it again
 * gives the same JSON. */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lesson/workbook.h"

static int fd = -1;
static char path[64], dir[64], saved[128];

static void cleanup(void)
{
	unlink(saved);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz-workbook", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	snprintf(dir, sizeof(dir), "/dev/shm/vlab-fuzz-workbook-%d", (int)getpid());
	snprintf(saved, sizeof(saved), "%s/wb.json", dir);
	atexit(cleanup);
	return 0;
}

static void walk(json_t *root)
{
	const char *id;
	json_t *it;
	json_object_foreach(json_object_get(root, "items"), id, it)
	{
		(void)json_string_value(json_object_get(it, "status"));
		(void)json_number_value(json_object_get(it, "score"));
		(void)json_string_value(json_object_get(it, "answer"));
		(void)json_integer_value(json_object_get(it, "attempts"));
		(void)json_integer_value(json_object_get(it, "hints_used"));
		(void)json_string_value(json_object_get(it, "message"));
	}
	json_object_foreach(json_object_get(root, "measurements"), id, it)
	{
		(void)json_number_value(json_object_get(it, "value"));
		(void)json_string_value(json_object_get(it, "unit"));
	}
	(void)json_string_value(json_object_get(json_object_get(root, "lab"), "sha256"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size, "memfd");
	json_t *root = NULL;
	struct vlab_err err = {0};
	int r = lesson_workbook_load(path, &root, &err);
	if (r < 0) {
		FUZZ_CHECK(err.msg[0], "refused without a reason");
		FUZZ_CHECK(err.code == EBADMSG, "a bad file is EBADMSG, not %d (%s)", err.code,
			   err.msg);
		FUZZ_CHECK(!root, "refused yet returned a workbook");
		return 0;
	}
	FUZZ_CHECK(r == 1 && root, "load returned %d", r);
	FUZZ_CHECK(lesson_workbook_check(root, path, &err) == 0, "loaded but fails the check: %s",
		   err.msg);
	walk(root);
	if (lesson_workbook_save(saved, root, &err) == 0) {
		json_t *again = NULL;
		FUZZ_CHECK(lesson_workbook_load(saved, &again, &err) == 1, "saved workbook refused: %s",
			   err.msg);
		FUZZ_CHECK(json_equal(root, again), "saving changed the workbook");
		json_decref(again);
	}
	json_decref(root);
	return 0;
}
