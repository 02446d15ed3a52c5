/* cli/cli.h: the `vlab` command line: one table of subcommands, one file
 * per subcommand (cli/cmd_<name>.c). */
#ifndef VLAB_CLI_CLI_H
#define VLAB_CLI_CLI_H

/* Exit statuses of every vlab command (documented in `vlab --help`). */
enum vlab_exit {
	VLAB_EXIT_OK = 0,
	VLAB_EXIT_FAIL = 1,        /* what was examined failed: a check, a grade run, a doctor with nothing to run */
	VLAB_EXIT_USAGE = 2,       /* wrong flag or argument, or a part not available yet */
	VLAB_EXIT_BADINPUT = 3,    /* a malformed lab, workbook or image */
	VLAB_EXIT_UNSUPPORTED = 4, /* this host cannot run what was asked (see vlab doctor) */
	VLAB_EXIT_INTERNAL = 5,    /* vlab itself failed (I/O error, out of memory) */
};

struct vlab_cmd {
	const char *name;
	const char *args;    /* "LAB [OPTIONS]" */
	const char *summary; /* one line for `vlab --help` */
	int (*main)(const struct vlab_cmd *cmd, int argc, char **argv);
	const char *help; /* body of `vlab NAME --help`: options and details */
	int hidden;
};

/* Prints `Usage: vlab NAME ARGS` and the command's help to stdout. */
void cli_cmd_help(const struct vlab_cmd *cmd);

/* Reports a usage error on stderr ("vlab NAME: ...", then a hint to run
 * --help) and returns VLAB_EXIT_USAGE. */
int cli_usage_error(const struct vlab_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* For commands whose part is not built yet: handles --help/--version and
 * says plainly that it is not available; returns VLAB_EXIT_USAGE. */
int cli_not_available(const struct vlab_cmd *cmd, int argc, char **argv);

int cmd_doctor(const struct vlab_cmd *cmd, int argc, char **argv);
int cmd_bench(const struct vlab_cmd *cmd, int argc, char **argv);
int cmd_run(const struct vlab_cmd *cmd, int argc, char **argv);
int cmd_check(const struct vlab_cmd *cmd, int argc, char **argv);
int cmd_grade(const struct vlab_cmd *cmd, int argc, char **argv);
int cmd_labs(const struct vlab_cmd *cmd, int argc, char **argv);

#endif
