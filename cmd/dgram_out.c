/* SPDX-License-Identifier: MIT */
/* The batched datagram lines (lib/dgram_show) to stdout: udp-recv, udp-send -W. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "dgram_show.h"

/* 1 MiB: what an unprivileged process may ask for (fs.pipe-max-size) */
#define PIPE_FLOOD_SIZE (1 << 20)

int cmd_dgram_flush(struct dgram_out *o, struct err *e)
{
	if (dgram_out_write(o, stdout) && outbuf_failed(&o->b))
		return err_set(e, EXIT_FAIL, "out of memory for the output");
	return cmd_stdout_flush(e);
}

int cmd_stdout_pipe_grow(void)
{
	struct stat sb;
	int now;

	if (fstat(STDOUT_FILENO, &sb) || !S_ISFIFO(sb.st_mode))
		return 0;
	now = fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
	if (now < 0 || now >= PIPE_FLOOD_SIZE)
		return now > 0 ? now : 0;
	if (fcntl(STDOUT_FILENO, F_SETPIPE_SZ, PIPE_FLOOD_SIZE) < 0)
		return now;
	return fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
}
