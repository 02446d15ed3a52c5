/* tui/tui.h: the terminal UI's one entry point, for cli/. */
#ifndef VLAB_TUI_TUI_H
#define VLAB_TUI_TUI_H

struct tui_opts {
	const char *lab;      /* a lab file or id; NULL: the lab picker */
	const char *workbook; /* NULL: the default workbook of the lab */
	int fresh;	      /* start a new workbook (the old one kept aside) */
};

/* Runs the TUI on the controlling terminal.  Returns the process exit
 * status (cli/cli.h): 0 after a normal quit, 3 when the lab given does not
 * load, 128+N after signal N (instances stopped and the terminal restored
 * first). */
int tui_main(const struct tui_opts *opts);

#endif
