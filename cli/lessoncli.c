/* cli/lessoncli.c: a lab run headless (see lessoncli.h). */
#include "cli/lessoncli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lesson/session.h"

struct printer {
	const struct lessoncli_opts *o;
	struct lesson_session *s;
	const char *pfx;
	struct {
		int id;
		char state[16];
	} seen[64]; /* the state last printed per instance */
	size_t nseen;
};

/* Whether instance id changed to state since it was last printed. */
static int changed(struct printer *p, int id, const char *state)
{
	for (size_t i = 0; i < p->nseen; i++)
		if (p->seen[i].id == id) {
			if (!strcmp(p->seen[i].state, state))
				return 0;
			snprintf(p->seen[i].state, sizeof(p->seen[i].state), "%s", state);
			return 1;
		}
	if (p->nseen < sizeof(p->seen) / sizeof(p->seen[0])) {
		p->seen[p->nseen].id = id;
		snprintf(p->seen[p->nseen].state, sizeof(p->seen[0].state), "%s", state);
		p->nseen++;
	}
	return 1;
}

static void print_lines(const char *pfx, const char *mark, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		printf("%s%s%.*s\n", pfx, mark, (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

void lessoncli_print_chart(const struct lesson_chart *c, const char *pfx)
{
	double top = 0;
	for (size_t i = 0; i < c->nbars; i++)
		if (isfinite(c->bars[i].max) && c->bars[i].max > top)
			top = c->bars[i].max;
		else if (isfinite(c->bars[i].value) && c->bars[i].value > top)
			top = c->bars[i].value;
	printf("%s  chart: %s%s%s%s\n", pfx, c->title, c->unit[0] ? " (" : "", c->unit,
	       c->unit[0] ? ")" : "");
	for (size_t i = 0; i < c->nbars; i++) {
		const struct lesson_bar *b = &c->bars[i];
		char bar[41] = "";
		if (isfinite(b->value) && top > 0) {
			int w = (int)lround(b->value / top * 40);
			for (int k = 0; k < w && k < 40; k++)
				bar[k] = '#';
			bar[w < 40 ? w : 40] = '\0';
		}
		if (isfinite(b->value))
			printf("%s    %-12s %-40s %.3g %s", pfx, b->label, bar, b->value, c->unit);
		else
			printf("%s    %-12s %-40s -", pfx, b->label, "");
		if (b->runs > 1 && isfinite(b->min))
			printf(" (min %.3g, max %.3g, %u runs)", b->min, b->max, b->runs);
		if (b->note[0])
			printf(" [%s]", b->note);
		printf("\n");
	}
}

static void on_event(const struct lesson_event *ev, void *arg)
{
	struct printer *p = arg;
	const struct lesson_instance *in;
	switch (ev->type) {
	case LESSON_EV_OUTPUT:
		if (!p->o->quiet && ev->text)
			print_lines(p->pfx, "  | ", ev->text, strlen(ev->text));
		break;
	case LESSON_EV_WARNING:
		print_lines(p->pfx, "  ! ", ev->text, strlen(ev->text));
		break;
	case LESSON_EV_CONSOLE:
		if (p->o->console) {
			in = lesson_session_instance(p->s, ev->instance);
			char mark[64];
			snprintf(mark, sizeof(mark), "  [%s] ", in ? in->name : "?");
			print_lines(p->pfx, mark, ev->data, ev->len);
		}
		break;
	case LESSON_EV_CHART:
		if (!p->o->quiet)
			lessoncli_print_chart(ev->chart, p->pfx);
		break;
	case LESSON_EV_INSTANCE:
		in = lesson_session_instance(p->s, ev->instance);
		if (!in || p->o->quiet || !ev->text || !changed(p, ev->instance, ev->text))
			break;
		if (!strcmp(ev->text, "gone"))
			printf("%s  - instance %s (%s) stopped\n", p->pfx, in->name, in->engine);
		else if (!strcmp(ev->text, "running"))
			printf("%s  - instance %s (%s%s%s%s) running, ready after %.1f ms\n", p->pfx,
			       in->name, in->engine, in->backend[0] ? ", " : "", in->backend,
			       in->emulated ? ", emulated" : "", (double)in->startup_ns / 1e6);
		else if (!strcmp(ev->text, "failed"))
			printf("%s  - instance %s (%s) failed: %s\n", p->pfx, in->name, in->engine,
			       in->error);
		break;
	case LESSON_EV_PROGRESS:
		if (!p->o->quiet && ev->text)
			printf("%s  ~ %s\n", p->pfx, ev->text);
		break;
	case LESSON_EV_MEASURE:
		if (!p->o->quiet)
			printf("%s  - recorded %s\n", p->pfx, ev->text);
		break;
	default:
		break;
	}
	fflush(stdout);
}

static void print_result(struct printer *p, size_t i, struct lessoncli_tally *t)
{
	const struct lesson_item *it = lesson_session_item(p->s, i);
	const struct lesson_item_state *st = lesson_session_state(p->s, i);
	const char *word = "";
	switch (st->status) {
	case LESSON_PASSED:
		word = "PASSED";
		t->passed++;
		break;
	case LESSON_FAILED:
		word = "FAILED";
		t->failed++;
		break;
	case LESSON_SKIPPED:
		word = "SKIPPED";
		t->skipped++;
		break;
	case LESSON_ERROR:
		word = "ERROR";
		t->errors++;
		break;
	default:
		word = "NOT DONE";
		break;
	}
	t->score += st->score;
	int mlen = (int)strlen(st->message);
	while (mlen > 0 && (st->message[mlen - 1] == '\n' || st->message[mlen - 1] == ' '))
		mlen--;
	printf("%s  %s (%g/%g point%s)%s%.*s\n", p->pfx, word, st->score, it->points,
	       it->points == 1 ? "" : "s", mlen ? ": " : "", mlen, st->message);
	fflush(stdout);
}

int lessoncli_run_tally(const struct lessoncli_opts *o, struct lessoncli_tally *t)
{
	struct lesson_session_opts so = {.lab = o->lab, .workbook = o->workbook,
					 .fresh = o->fresh, .no_workbook = o->no_workbook};
	struct lesson_session *s;
	struct vlab_err err = {0};
	struct printer p = {.o = o, .pfx = o->prefix ? o->prefix : ""};
	memset(t, 0, sizeof(*t));
	if (lesson_session_open(&so, &s, &err) < 0) {
		fprintf(stderr, "%s%s\n", p.pfx, err.msg);
		return err.code == EBADMSG ? VLAB_EXIT_BADINPUT
		       : err.code == ENOENT ? VLAB_EXIT_USAGE
					    : VLAB_EXIT_INTERNAL;
	}
	p.s = s;
	const struct lesson_lab_info *li = lesson_session_lab(s);
	t->max = li->max_points;
	printf("%slab %s: %s (version %s)\n", p.pfx, li->id, li->title, li->version);
	if (lesson_session_workbook_path(s)[0])
		printf("%sworkbook: %s\n", p.pfx, lesson_session_workbook_path(s));
	lesson_session_wait(s, 0, on_event, &p, NULL);
	int found = !o->only;
	for (size_t i = 0; i < li->nitems; i++) {
		const struct lesson_item *it = lesson_session_item(s, i);
		if (o->only && strcmp(o->only, it->id))
			continue;
		found = 1;
		printf("%s\n%s[%zu/%zu] %s %s: %s\n", p.pfx, p.pfx, i + 1, li->nitems,
		       it->kind == LESSON_STEP ? "step" : "question", it->id, it->title);
		fflush(stdout);
		int r;
		if (it->kind == LESSON_STEP) {
			r = lesson_session_run(s, i, &err);
		} else if (o->answer_key) {
			r = lesson_session_answer_key(s, i, &err);
		} else {
			const char *a = json_string_value(json_object_get(o->answers, it->id));
			if (!a) {
				printf("%s  not answered\n", p.pfx);
				t->unanswered++;
				continue;
			}
			printf("%s  answer: %s\n", p.pfx, a);
			r = lesson_session_answer(s, i, a, &err);
		}
		if (r == 0)
			r = lesson_session_wait(s, -1, on_event, &p, &err);
		if (r < 0) {
			fprintf(stderr, "%s%s\n", p.pfx, err.msg);
			lesson_session_free(s);
			return VLAB_EXIT_INTERNAL;
		}
		print_result(&p, i, t);
	}
	if (!found) {
		fprintf(stderr, "%sno item '%s' in %s\n", p.pfx, o->only, li->id);
		lesson_session_free(s);
		return VLAB_EXIT_USAGE;
	}
	lesson_session_free(s);
	printf("%s\n%sScore: %g/%g points; %zu passed, %zu failed, %zu errors, %zu skipped, %zu "
	       "not answered\n",
	       p.pfx, p.pfx, t->score, t->max, t->passed, t->failed, t->errors, t->skipped,
	       t->unanswered);
	return t->failed || t->errors ? VLAB_EXIT_FAIL : VLAB_EXIT_OK;
}

int lessoncli_run(const struct lessoncli_opts *o)
{
	struct lessoncli_tally t;
	return lessoncli_run_tally(o, &t);
}
