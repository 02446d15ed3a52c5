/* cli/main.c: `vlab` entry point and the subcommand table. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "tui/tui.h"
#include "engines/engine.h"
#include "lesson/runner.h"

static int cmd_instance(const struct vlab_cmd *cmd, int argc, char **argv)
{
	(void)cmd;
	return vlab_child_main(argc, argv);
}

static int cmd_lab_runner(const struct vlab_cmd *cmd, int argc, char **argv)
{
	(void)cmd;
	return lesson_runner_main(argc, argv);
}

#define PENDING(n, a, s, h) {.name = n, .args = a, .summary = s, .main = cli_not_available, .help = h}

static const struct vlab_cmd commands[] = {
	{.name = "run",
	 .args = "LAB [--headless] [OPTIONS]",
	 .summary = "work through a lab (the TUI; --headless for scripts)",
	 .main = cmd_run,
	 .help = "Opens LAB (a file, or a name from `vlab labs`) in the terminal UI, or with\n"
		 "--headless runs every step's actions and checks in order and prints what\n"
		 "happens.  Progress goes to the workbook ($XDG_STATE_HOME/vlab/<lab>.json).\n"
		 "\n"
		 "Options:\n"
		 "  --headless        no terminal UI\n"
		 "  --workbook FILE   use FILE as the workbook\n"
		 "  --fresh           start a new workbook (the old one is kept aside)\n"
		 "  --answer ID=TEXT  answer question ID (headless; repeatable)\n"
		 "  --answers FILE    answers from a JSON object {\"id\": \"answer\", ...}\n"
		 "  --only ID         run just this step or question\n"
		 "  --reset ID        forget item ID's result in the workbook (all: every item)\n"
		 "  --console         also print the instances' consoles\n"
		 "  --quiet           print results only\n"
		 "  -h, --help        this help\n"
		 "\n"
		 "Exit status (headless): 0 when nothing failed, 1 when a check failed or\n"
		 "the lab raised an error, 3 when the lab does not load.\n"},
	{.name = "labs",
	 .args = "[--json]",
	 .summary = "list the labs and your progress in each",
	 .main = cmd_labs,
	 .help = "Lists the shipped labs and your own ($XDG_DATA_HOME/vlab/labs, usually\n"
		 "~/.local/share/vlab/labs) with your progress from each workbook.\n"
		 "\n"
		 "Options:\n"
		 "  --json       the same as JSON\n"
		 "  -h, --help   this help\n"},
	{.name = "check",
	 .args = "LAB [--load-only] [--quiet]",
	 .summary = "lint a lab and run it headless on every engine (lab authors)",
	 .main = cmd_check,
	 .help = "Loads LAB in the sandbox and checks its declarations (unique ids, numeric\n"
		 "points, answers within choices, known fields), says which engines this\n"
		 "host offers, then runs every step's actions and checks headless and\n"
		 "reports each.  Nothing is written to a workbook.\n"
		 "\n"
		 "Options:\n"
		 "  --load-only   only load and check the declarations\n"
		 "  --quiet       results only, not the lab's output\n"
		 "  -h, --help    this help\n"
		 "\n"
		 "Exit status: 0 when every step passed or was skipped for a reason this\n"
		 "host gives, 1 when a step failed or raised an error, 3 when the lab does\n"
		 "not load.\n"},
	{.name = "grade",
	 .args = "LAB (--workbook FILE | --batch DIR) [OPTIONS]",
	 .summary = "grade a student's workbook (course staff)",
	 .main = cmd_grade,
	 .help = "Scores a workbook against LAB: questions are re-scored from the answers\n"
		 "(numeric ones against the student's own measurements), steps score when\n"
		 "the workbook records their check as passed.\n"
		 "\n"
		 "Options:\n"
		 "  --workbook FILE    the workbook to grade\n"
		 "  --batch DIR        grade every *.json in DIR (and its subfolders): one\n"
		 "                     report each plus summary.csv, in --output-dir\n"
		 "  --format FMT       text (default), json, tap, junit, gradescope\n"
		 "  --output FILE      write the report there (default: standard output)\n"
		 "  --output-dir DIR   where --batch writes (default: ./grades)\n"
		 "  --rerun            also re-run every step here; a step then scores only\n"
		 "                     when it passes again\n"
		 "  -h, --help         this help\n"
		 "\n"
		 "Exit status: 0 when grading itself succeeded (whatever the score), 2 for\n"
		 "a wrong flag or a missing file, 3 for a malformed lab or workbook (with\n"
		 "--batch: when any workbook could not be graded; the others are).\n"},
	{.name = "bench",
	 .args = "[--engines LIST] [--metrics LIST] [--runs N] [--format FMT]",
	 .summary = "measure the engines side by side",
	 .main = cmd_bench,
	 .help = "Runs the same workloads on each engine and the host, and prints one table\n"
		 "with every figure's median, min and max over the runs and its ratio to the\n"
		 "host.  Engines this machine cannot run are listed with the reason.\n"
		 "\n"
		 "Options:\n"
		 "  --engines LIST   vm,container,unikernel,host (the default: all four)\n"
		 "  --metrics LIST   startup,image,footprint,cpu,mem,disk,net or all (default)\n"
		 "  --runs N         measured runs per figure, at least 2 (default 5)\n"
		 "  --warmup N       runs discarded first (default 1)\n"
		 "  --format FMT     table (default), json or csv\n"
		 "  --opt E.KEY=VAL  an option for engine E's instances (vm.backend=tcg)\n"
		 "  -o, --output F   write there instead of standard output\n"
		 "  --save-json F    also write the same figures as JSON to F\n"
		 "  -q, --quiet      no progress on standard error\n"
		 "  -h, --help       this help\n"
		 "\n"
		 "Exit status: 0 measured; 1 an engine failed or ^C; 4 no engine can run here.\n"},
	{.name = "doctor",
	 .args = "[--json] [--verbose] [--no-measure]",
	 .summary = "what this machine can run, and why",
	 .main = cmd_doctor,
	 .help = "Checks KVM (and measures whether it is hardware-assisted), namespaces,\n"
		 "cgroups, seccomp, QEMU and the guest images, and says what each engine\n"
		 "will do here.\n"
		 "\n"
		 "Options:\n"
		 "  --json         the same findings as JSON\n"
		 "  --verbose      more detail (cgroup mounts, image paths)\n"
		 "  --no-measure   skip the KVM speed measurement (~50 ms)\n"
		 "  -h, --help     this help\n"
		 "\n"
		 "Exit status: 0 when at least one engine can run, 1 when none can.\n"},
	{.name = "__instance", .args = "", .summary = "", .main = cmd_instance, .help = "",
	 .hidden = 1},
	{.name = "__lab-runner", .args = "", .summary = "", .main = cmd_lab_runner, .help = "",
	 .hidden = 1},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"vlab %s: a teaching lab kit for virtualization\n"
		"\n"
		"Usage: vlab [COMMAND] [OPTIONS]\n"
		"\n"
		"Runs a virtual machine, a container and a unikernel side by side in guided\n"
		"labs.  With no command, opens the lab picker.\n"
		"\n"
		"Commands:\n",
		VLAB_VERSION);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!commands[i].hidden)
			fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  -h, --help     this help (and `vlab COMMAND --help`)\n"
		"  -V, --version  print the version\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  what was examined failed (a check, a doctor with nothing to run)\n"
		"  2  wrong flag or argument, or a part of vlab not available yet\n"
		"  3  a malformed lab, workbook or image\n"
		"  4  this host cannot run what was asked (see vlab doctor)\n"
		"  5  vlab itself failed (I/O error, out of memory)\n");
}

void cli_cmd_help(const struct vlab_cmd *cmd)
{
	printf("Usage: vlab %s%s%s\n\n%s\n%s", cmd->name, cmd->args[0] ? " " : "", cmd->args,
	       cmd->summary, cmd->help[0] ? "\n" : "");
	fputs(cmd->help, stdout);
}

int cli_usage_error(const struct vlab_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vlab %s: ", cmd ? cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'vlab %s%s--help'.\n", cmd ? cmd->name : "", cmd ? " " : "");
	return VLAB_EXIT_USAGE;
}

int cli_not_available(const struct vlab_cmd *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_cmd_help(cmd);
			printf("\n(Not available yet in vlab %s.)\n", VLAB_VERSION);
			return VLAB_EXIT_OK;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("vlab %s\n", VLAB_VERSION);
			return VLAB_EXIT_OK;
		}
	}
	fprintf(stderr, "vlab %s: not available yet in vlab %s (this part is still being built).\n",
		cmd->name, VLAB_VERSION);
	return VLAB_EXIT_USAGE;
}

static const struct vlab_cmd *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && argv[1][0] != '-') {
		const struct vlab_cmd *cmd = find(argv[1]);
		if (!cmd) {
			fprintf(stderr, "vlab: unknown command '%s'\nTry 'vlab --help'.\n", argv[1]);
			return VLAB_EXIT_USAGE;
		}
		return cmd->main(cmd, argc - 1, argv + 1);
	}
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return VLAB_EXIT_OK;
		case 'V':
			printf("vlab %s\n", VLAB_VERSION);
			return VLAB_EXIT_OK;
		default:
			fprintf(stderr, "Try 'vlab --help'.\n");
			return VLAB_EXIT_USAGE;
		}
	}
	/* No command: the lab picker (the TUI). */
	return tui_main(NULL);
}
