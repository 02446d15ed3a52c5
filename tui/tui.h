/* tui/tui.h: the terminal UI's one entry point, for cli/. */
#ifndef VLAB_TUI_TUI_H
#define VLAB_TUI_TUI_H

/* Runs the TUI on the controlling terminal: the lab picker when lab is
 * NULL, else that lab (a path or a lab id).  Returns the process exit
 * status (cli/cli.h): 0 after a normal quit, 128+N after signal N (the
 * instances stopped and the terminal restored first). */
int tui_main(const char *lab);

#endif
