/* flood: a unikernel guest that floods its console as fast as it can, and
 * between two 4 KiB writes answers control-channel lines "<id> <words>"
 * with "<id> ok <words>" (the agent protocol's shape), so the host side can
 * measure how responsive the instance stays.  Stops when asked. */
#include "uk.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static char chunk[4096];
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = i % 64 == 63 ? '\n' : "flood "[i % 6];
	const char ready[] = "READY flood\n";
	uk_ctl_write(ready, sizeof(ready) - 1);
	char line[256];
	size_t len = 0;
	for (;;) {
		uk_console_write(chunk, sizeof(chunk));
		unsigned got = uk_poll(UK_POLL_CTL, 0);
		if (got & UK_POLL_STOP)
			return 0;
		if (!(got & UK_POLL_CTL))
			continue;
		long n = uk_ctl_read(line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			return n < 0;
		len += (size_t)n;
		line[len] = '\0';
		char *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			char *rest = strchr(line, ' ');
			if (rest)
				*rest++ = '\0';
			char out[300];
			int k = snprintf(out, sizeof(out), "%s ok %s\n", line, rest ? rest : "");
			if (uk_ctl_write(out, (size_t)k) < 0)
				return 1;
			size_t left = len - (size_t)(nl + 1 - line);
			memmove(line, nl + 1, left + 1);
			len = left;
		}
		if (len == sizeof(line) - 1)
			len = 0;
	}
}
