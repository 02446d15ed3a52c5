/* lesson/workbook.c: the workbook file: load, check, atomic save, set a
 * bad one aside. */
#include "lesson/workbook.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdio.h"
#include "core/paths.h"

#define WORKBOOK_MAX_BYTES (16u << 20)

int lesson_bad_input(struct vlab_err *err, const char *fmt, ...)
{
	char msg[VLAB_ERR_MSG];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vlab_err_set(err, 0, "%s", msg);
	if (err)
		err->code = EBADMSG;
	return -1;
}

void lesson_iso8601(uint64_t wall_ns, char buf[32])
{
	time_t t = (time_t)(wall_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int lesson_workbook_default_path(const char *lab_id, char *buf, size_t len,
				 struct vlab_err *err)
{
	char dir[VLAB_PATH_MAX];
	if (vlab_state_dir(dir, sizeof(dir), err) < 0)
		return -1;
	if ((size_t)snprintf(buf, len, "%s/%s.json", dir, lab_id) >= len)
		return vlab_err_set(err, ENAMETOOLONG, "workbook path");
	return 0;
}

/* Removes temporary files a killed writer left beside path (only those
 * whose writer is dead). */
static void sweep_temps(const char *path)
{
	char dir[VLAB_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	char prefix[VLAB_PATH_MAX];
	snprintf(prefix, sizeof(prefix), ".%s.tmp-", base);
	size_t plen = strlen(prefix);
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, prefix, plen))
			continue;
		long pid = strtol(e->d_name + plen, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int lesson_workbook_load(const char *path, json_t **root, struct vlab_err *err)
{
	*root = NULL;
	sweep_temps(path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return vlab_err_set(err, errno, "workbook %s", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return vlab_err_set(err, e, "workbook %s", path);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > WORKBOOK_MAX_BYTES) {
		close(fd);
		return lesson_bad_input(err, "%s: not a workbook (%s)", path,
				    S_ISREG(st.st_mode) ? "over 16 MiB" : "not a regular file");
	}
	json_error_t je;
	json_t *j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
	close(fd);
	if (!j)
		return lesson_bad_input(err, "%s:%d:%d: not valid JSON: %s", path, je.line,
				    je.column, je.text);
	if (lesson_workbook_check(j, path, err) < 0) {
		json_decref(j);
		return -1;
	}
	*root = j;
	return 1;
}

int lesson_workbook_check(json_t *root, const char *path, struct vlab_err *err)
{
	const char *fmt = json_string_value(json_object_get(root, "format"));
	if (!json_is_object(root))
		return lesson_bad_input(err, "%s: not a workbook (not a JSON object)", path);
	if (!fmt || strcmp(fmt, LESSON_WORKBOOK_FORMAT))
		return lesson_bad_input(err, "%s: not a workbook (format is %s, expected %s)",
				    path, fmt ? fmt : "missing", LESSON_WORKBOOK_FORMAT);
	json_t *lab = json_object_get(root, "lab");
	if (!json_is_object(lab) || !json_is_string(json_object_get(lab, "id")))
		return lesson_bad_input(err, "%s: workbook has no lab.id", path);
	json_t *items = json_object_get(root, "items");
	if (!json_is_object(items))
		return lesson_bad_input(err, "%s: workbook has no items object", path);
	const char *id;
	json_t *it;
	json_object_foreach(items, id, it)
	{
		if (!json_is_object(it))
			return lesson_bad_input(err, "%s: items.%s is not an object", path, id);
		json_t *s = json_object_get(it, "score");
		if (s && !json_is_number(s))
			return lesson_bad_input(err, "%s: items.%s.score is not a number", path,
					    id);
		json_t *a = json_object_get(it, "answer");
		if (a && !json_is_string(a))
			return lesson_bad_input(err, "%s: items.%s.answer is not a string", path,
					    id);
	}
	json_t *m = json_object_get(root, "measurements");
	if (m && !json_is_object(m))
		return lesson_bad_input(err, "%s: measurements is not an object", path);
	json_object_foreach(m, id, it)
	{
		if (!json_is_number(json_object_get(it, "value")))
			return lesson_bad_input(err, "%s: measurements.%s has no numeric value",
					    path, id);
	}
	return 0;
}

static int fsync_dir(const char *dir, struct vlab_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vlab_err_set(err, errno, "open folder %s", dir);
	int r = fsync(fd);
	int e = errno;
	close(fd);
	if (r < 0 && e != EINVAL)
		return vlab_err_set(err, e, "fsync folder %s", dir);
	return 0;
}

int lesson_workbook_save(const char *path, json_t *root, struct vlab_err *err)
{
	char dir[VLAB_PATH_MAX], tmp[VLAB_PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	if (slash) {
		*slash = '\0';
		if (!dir[0])
			snprintf(dir, sizeof(dir), "/");
	} else {
		snprintf(dir, sizeof(dir), ".");
	}
	if (vlab_mkdir_p(dir, 0700, err) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-%d", dir, base, (int)getpid());
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return vlab_err_set(err, ENOMEM, "encode workbook");
	size_t len = strlen(text);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(text);
		return vlab_err_set(err, errno, "write workbook %s", tmp);
	}
	int r = vlab_write_all(fd, text, len, -1, err);
	if (r == 0 && vlab_write_all(fd, "\n", 1, -1, err) < 0)
		r = -1;
	free(text);
	if (r == 0 && fsync(fd) < 0)
		r = vlab_err_set(err, errno, "fsync %s", tmp);
	if (close(fd) < 0 && r == 0)
		r = vlab_err_set(err, errno, "close %s", tmp);
	if (r == 0 && rename(tmp, path) < 0)
		r = vlab_err_set(err, errno, "rename %s to %s", tmp, path);
	if (r < 0) {
		unlink(tmp); /* the old workbook stays as it was */
		return vlab_err_prefix(err, "save workbook %s", path);
	}
	return fsync_dir(dir, err);
}

int lesson_workbook_set_aside(const char *path, const char *why, char *aside, size_t len,
			      struct vlab_err *err)
{
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 0; n < 100; n++) {
		if (n == 0)
			snprintf(aside, len, "%s.%s-%s", path, why, stamp);
		else
			snprintf(aside, len, "%s.%s-%s-%d", path, why, stamp, n);
		/* link + unlink: never replaces an existing file. */
		if (link(path, aside) == 0) {
			if (unlink(path) < 0)
				return vlab_err_set(err, errno, "remove %s", path);
			return 0;
		}
		if (errno != EEXIST)
			return vlab_err_set(err, errno, "keep %s aside as %s", path, aside);
	}
	return vlab_err_set(err, EEXIST, "keep %s aside", path);
}

json_t *lesson_workbook_new(const char *lab_id, const char *title, const char *version,
			    const char *lab_path, const char *sha256)
{
	char now[32];
	lesson_iso8601(vlab_wall_ns(), now);
	/* The login name from the environment: vlab is a static program, and
	 * getpwuid() would need glibc's shared NSS modules at run time. */
	const char *user = getenv("USER");
	if (!user || !*user)
		user = getenv("LOGNAME");
	if (!user)
		user = "";
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{}, s:{}}",
			 "format", LESSON_WORKBOOK_FORMAT, "vlab_version", VLAB_VERSION, "lab", "id",
			 lab_id, "title", title, "version", version, "path", lab_path, "sha256",
			 sha256, "student", user, "created", now, "updated", now, "items",
			 "measurements");
}

json_t *lesson_workbook_item(json_t *root, const char *id, int create)
{
	json_t *items = json_object_get(root, "items");
	json_t *it = json_object_get(items, id);
	if (!it && create && items) {
		it = json_object();
		json_object_set_new(items, id, it);
	}
	return it;
}
