/* tests/fuzz/fuzz_lab.c: the lab loader (lesson/sandbox.c, lesson/api_lab.c):
 * a lab file is code an instructor, or a student, wrote; half-written or
 * hostile, it must come back as a clear error, never a crash of vlab.
 *
 * Input: the lab's source text, then optionally a NUL byte and an answer.
 * The text is loaded in a fresh sandbox with the vlab.* API, as the lab
 * runner does, under an instruction limit and a 20 ms deadline; what it
 * returns is described (lesson_lab_describe), and every question is
 * scored against the answer.  Instances cannot start (VLAB_SELF points
 * nowhere: tests/fuzz/run.sh), so lab code reaches the engines' checks
 * and no further.
 * Properties: a failure says why ("file:line: ..."); a described lab is a
 * JSON object with an items array; scoring a question either fails with
 * a message or gives a verdict (correct 0 or 1). */
#include "tests/fuzz/fuzz.h"

#include <jansson.h>
#include <lua.h>
#include <string.h>

#include "core/clock.h"
#include "lesson/api.h"
#include "lesson/sandbox.h"

static void emit(void *arg, json_t *msg, const int *fds, size_t nfds)
{
	(void)arg;
	(void)msg;
	(void)fds;
	(void)nfds;
}

static json_t *ask(void *arg, json_t *msg)
{
	(void)arg;
	(void)msg;
	return NULL;
}

static void arm(struct lesson_sandbox *sb)
{
	lesson_sandbox_arm(sb, 200000, vlab_now_ns() + 20000000ull);
}

static void score_questions(struct lesson_sandbox *sb, lua_State *L, json_t *desc,
			    const char *answer)
{
	int lab = lua_gettop(L);
	json_t *items = json_object_get(desc, "items");
	for (size_t i = 0; i < json_array_size(items); i++) {
		const char *kind = json_string_value(json_object_get(json_array_get(items, i), "kind"));
		if (!kind || !strcmp(kind, "step"))
			continue;
		lesson_lab_push_item(L, lab, (int)i);
		int correct = -1, has_expected = 0;
		double expected = 0;
		char message[512] = "";
		struct vlab_err err = {0};
		arm(sb);
		int r = lesson_question_score(L, answer, &correct, &expected, &has_expected, message,
					      sizeof(message), &err);
		lesson_sandbox_disarm(sb);
		if (r < 0)
			FUZZ_CHECK(err.msg[0], "question %zu: failed without a reason", i);
		else
			FUZZ_CHECK(correct == 0 || correct == 1, "question %zu: verdict %d", i,
				   correct);
		lua_settop(L, lab);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > LESSON_LAB_MAX_BYTES)
		return 0;
	const char *src = (const char *)data;
	const char *nul = memchr(data, 0, size);
	size_t srclen = nul ? (size_t)(nul - src) : size;
	char answer[256] = "";
	if (nul) {
		size_t alen = size - srclen - 1;
		if (alen >= sizeof(answer))
			alen = sizeof(answer) - 1;
		memcpy(answer, nul + 1, alen);
		answer[alen] = '\0';
	}

	struct lesson_sandbox *sb = NULL;
	struct vlab_err err = {0};
	FUZZ_CHECK(lesson_sandbox_new(16u << 20, &sb, &err) == 0, "sandbox: %s", err.msg);
	lua_State *L = lesson_sandbox_state(sb);
	struct lesson_api api = {.host = {.emit = emit, .ask = ask}};
	lesson_api_open(L, &api);
	if (lesson_sandbox_loadstring(sb, src, srclen, "fuzz.lua", &err) < 0) {
		FUZZ_CHECK(err.msg[0], "load refused without a reason");
		goto out;
	}
	lesson_api_begin(L, -1, 0);
	arm(sb);
	int rc = lesson_sandbox_pcall(sb, 0, 1, &err);
	lesson_sandbox_disarm(sb);
	if (rc < 0) {
		FUZZ_CHECK(err.msg[0], "lab failed without a reason");
		goto out;
	}
	json_t *desc = lesson_lab_describe(L, "fuzz.lua:1", &err);
	if (!desc) {
		FUZZ_CHECK(err.msg[0], "lab refused without a reason");
		goto out;
	}
	FUZZ_CHECK(json_is_object(desc) && json_is_array(json_object_get(desc, "items")),
		   "description without items");
	score_questions(sb, L, desc, answer);
	json_decref(desc);
out:
	lesson_api_close_instances(L);
	lesson_sandbox_free(sb);
	return 0;
}
