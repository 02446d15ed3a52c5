/* images/mkcpio.c: a build tool: writes a folder as a gzip-compressed
 * newc cpio archive (a Linux initramfs) with libarchive.
 *
 *   mkcpio OUT.cpio.gz DIR [--dev NAME:MODE:MAJOR:MINOR ...]
 *
 * Every entry is owned by root and dated at $SOURCE_DATE_EPOCH (default
 * 0), entries come in sorted order, so the same folder always gives the
 * same archive.  --dev adds a character device node (dev/console for the
 * kernel's first console) without needing root to mknod it.  Every
 * libarchive call is checked: a header that fails to write would leave
 * its entry silently missing (directory and device entries need an
 * explicit size of 0). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct archive *a;
static time_t epoch;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "mkcpio: %s %s: %s\n", what, path ? path : "",
		a && archive_errno(a) ? archive_error_string(a) : strerror(errno));
	exit(1);
}

static void write_header(struct archive_entry *e, const char *name)
{
	int r = archive_write_header(a, e);
	if (r != ARCHIVE_OK)
		die("write the header of", name);
}

static void add_file(const char *name, const char *path, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		die("allocate an entry for", name);
	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, st->st_mode);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_nlink(e, S_ISDIR(st->st_mode) ? 2 : 1);
	archive_entry_set_mtime(e, epoch, 0);
	archive_entry_set_size(e, 0);
	if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			die("readlink", path);
		target[n] = '\0';
		archive_entry_set_symlink(e, target);
	} else if (S_ISREG(st->st_mode)) {
		archive_entry_set_size(e, st->st_size);
	} else if (!S_ISDIR(st->st_mode)) {
		errno = EINVAL;
		die("neither a file, a folder nor a link:", path);
	}
	write_header(e, name);
	if (S_ISREG(st->st_mode)) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		char buf[65536];
		off_t left = st->st_size;
		if (fd < 0)
			die("open", path);
		while (left > 0) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				die(n < 0 ? "read" : "read (file shrank)", path);
			if (archive_write_data(a, buf, (size_t)n) != n)
				die("write the data of", name);
			left -= n;
		}
		close(fd);
	}
	archive_entry_free(e);
}

static void add_dev(const char *spec)
{
	char name[256];
	unsigned mode, major, minor;
	if (sscanf(spec, "%255[^:]:%o:%u:%u", name, &mode, &major, &minor) != 4) {
		fprintf(stderr, "mkcpio: --dev %s: expected NAME:MODE:MAJOR:MINOR\n", spec);
		exit(2);
	}
	struct archive_entry *e = archive_entry_new();
	if (!e)
		die("allocate an entry for", name);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFCHR);
	archive_entry_set_perm(e, mode);
	archive_entry_set_rdevmajor(e, major);
	archive_entry_set_rdevminor(e, minor);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_nlink(e, 1);
	archive_entry_set_mtime(e, epoch, 0);
	archive_entry_set_size(e, 0);
	write_header(e, name);
	archive_entry_free(e);
}

static int by_name(const FTSENT **x, const FTSENT **y)
{
	return strcmp((*x)->fts_name, (*y)->fts_name);
}

int main(int argc, char **argv)
{
	if (argc < 3 || (argc - 3) % 2) {
		fprintf(stderr,
			"usage: mkcpio OUT.cpio.gz DIR [--dev NAME:MODE:MAJOR:MINOR ...]\n");
		return 2;
	}
	const char *out = argv[1], *dir = argv[2];
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	epoch = sde ? (time_t)strtoll(sde, NULL, 10) : 0;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);

	a = archive_write_new();
	if (!a || archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "compression-level", "9") != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_open_filename(a, tmp) != ARCHIVE_OK)
		die("create", tmp);

	char *roots[] = {(char *)dir, NULL};
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, by_name);
	if (!fts)
		die("walk", dir);
	size_t skip = strlen(dir);
	for (FTSENT *f; (f = fts_read(fts));) {
		if (f->fts_info == FTS_DP)
			continue;
		if (f->fts_info == FTS_ERR || f->fts_info == FTS_DNR || f->fts_info == FTS_NS) {
			errno = f->fts_errno;
			die("read", f->fts_path);
		}
		const char *name = f->fts_path + skip;
		while (*name == '/')
			name++;
		if (!*name)
			continue; /* the folder itself */
		add_file(name, f->fts_path, f->fts_statp);
	}
	fts_close(fts);
	for (int i = 3; i < argc; i += 2) {
		if (strcmp(argv[i], "--dev") != 0) {
			fprintf(stderr, "mkcpio: unknown option %s\n", argv[i]);
			return 2;
		}
		add_dev(argv[i + 1]);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		die("finish", tmp);
	archive_write_free(a);
	if (rename(tmp, out) < 0)
		die("rename to", out);
	return 0;
}
