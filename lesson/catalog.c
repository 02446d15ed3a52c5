/* lesson/catalog.c: finding labs (shipped and the student's own) and the
 * student's progress in each. */
#include "lesson/catalog.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lesson/session.h"
#include "lesson/workbook.h"

static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

int lesson_catalog_find(const char *name, char *path, size_t len, struct vlab_err *err)
{
	char dirs[2][VLAB_PATH_MAX], cand[VLAB_PATH_MAX * 2];
	if (!name || !*name)
		return vlab_err_set(err, EINVAL, "which lab? (`vlab labs` lists them)");
	if (strchr(name, '/') || is_file(name)) {
		if (!is_file(name))
			return vlab_err_set(err, ENOENT, "lab file %s", name);
		if (!realpath(name, cand))
			return vlab_err_set(err, errno, "lab file %s", name);
		if ((size_t)snprintf(path, len, "%s", cand) >= len)
			return vlab_err_set(err, ENAMETOOLONG, "lab file %s", name);
		return 0;
	}
	int nd = 0;
	if (vlab_labs_dir(dirs[nd], sizeof(dirs[0]), NULL) == 0)
		nd++;
	if (vlab_user_labs_dir(dirs[nd], sizeof(dirs[0]), NULL) == 0)
		nd++;
	for (int i = 0; i < nd; i++) {
		snprintf(cand, sizeof(cand), "%s/%s%s", dirs[i], name,
			 ends_with(name, ".lua") ? "" : ".lua");
		if (is_file(cand)) {
			if ((size_t)snprintf(path, len, "%s", cand) >= len)
				return vlab_err_set(err, ENAMETOOLONG, "lab file %s", cand);
			return 0;
		}
	}
	return vlab_err_set(err, ENOENT, "no lab named '%s' in %s%s%s (`vlab labs` lists them)",
			    name, nd > 0 ? dirs[0] : "(no labs folder)", nd > 1 ? " or " : "",
			    nd > 1 ? dirs[1] : "");
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void describe(struct lesson_catalog_entry *e)
{
	struct lesson_session_opts o = {.lab = e->path, .no_workbook = 1};
	struct lesson_session *s;
	struct vlab_err err = {0};
	if (lesson_session_open(&o, &s, &err) < 0) {
		snprintf(e->error, sizeof(e->error), "%s", err.msg);
		return;
	}
	const struct lesson_lab_info *li = lesson_session_lab(s);
	snprintf(e->id, sizeof(e->id), "%s", li->id);
	snprintf(e->title, sizeof(e->title), "%s", li->title);
	e->nitems = li->nitems;
	e->max_points = li->max_points;
	for (size_t i = 0; i < li->nitems; i++) {
		if (lesson_session_item(s, i)->kind == LESSON_STEP)
			e->nsteps++;
		else
			e->nquestions++;
	}
	char wb[VLAB_PATH_MAX];
	json_t *root = NULL;
	if (lesson_workbook_default_path(li->id, wb, sizeof(wb), NULL) == 0) {
		int r = lesson_workbook_load(wb, &root, &err);
		if (r < 0)
			snprintf(e->error, sizeof(e->error), "%s", err.msg);
		if (r != 0)
			snprintf(e->workbook, sizeof(e->workbook), "%s", wb);
	}
	if (root) {
		e->started = 1;
		json_t *items = json_object_get(root, "items");
		for (size_t i = 0; i < li->nitems; i++) {
			json_t *it = json_object_get(items, lesson_session_item(s, i)->id);
			const char *st = json_string_value(json_object_get(it, "status"));
			if (st && (!strcmp(st, "passed") || !strcmp(st, "skipped")))
				e->done++;
			e->score += json_number_value(json_object_get(it, "score"));
		}
		json_decref(root);
	}
	lesson_session_free(s);
}

int lesson_catalog_scan(struct lesson_catalog_entry **out, size_t *n, struct vlab_err *err)
{
	char dirs[2][VLAB_PATH_MAX];
	int have[2];
	have[0] = vlab_labs_dir(dirs[0], sizeof(dirs[0]), NULL) == 0;
	have[1] = vlab_user_labs_dir(dirs[1], sizeof(dirs[1]), NULL) == 0;
	struct lesson_catalog_entry *v = NULL;
	size_t count = 0;
	for (int d = 0; d < 2; d++) {
		if (!have[d] || (d == 1 && have[0] && !strcmp(dirs[0], dirs[1])))
			continue;
		DIR *dir = opendir(dirs[d]);
		if (!dir)
			continue;
		char **names = NULL;
		size_t nn = 0;
		for (struct dirent *e; (e = readdir(dir));) {
			if (e->d_name[0] == '.' || !ends_with(e->d_name, ".lua"))
				continue;
			char **g = realloc(names, (nn + 1) * sizeof(*g));
			if (!g || !(g[nn] = strdup(e->d_name))) {
				free(g ? g : names);
				closedir(dir);
				free(v);
				return vlab_err_set(err, ENOMEM, "lab list");
			}
			names = g;
			nn++;
		}
		closedir(dir);
		qsort(names, nn, sizeof(*names), cmp_names);
		for (size_t i = 0; i < nn; i++) {
			struct lesson_catalog_entry *g = realloc(v, (count + 1) * sizeof(*v));
			if (!g) {
				for (; i < nn; i++)
					free(names[i]);
				free(names);
				free(v);
				return vlab_err_set(err, ENOMEM, "lab list");
			}
			v = g;
			struct lesson_catalog_entry *e = &v[count++];
			memset(e, 0, sizeof(*e));
			snprintf(e->path, sizeof(e->path), "%s/%s", dirs[d], names[i]);
			e->own = d == 1;
			free(names[i]);
			if (is_file(e->path))
				describe(e);
			else
				count--;
		}
		free(names);
	}
	*out = v;
	*n = count;
	return 0;
}
