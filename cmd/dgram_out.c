/* SPDX-License-Identifier: MIT */
/* The batched datagram lines (lib/dgram_show) to stdout: udp-recv, udp-send -W. */
#include "cmd.h"
#include "dgram_show.h"

int cmd_dgram_flush(struct dgram_out *o, struct err *e)
{
	if (dgram_out_write(o, stdout) && outbuf_failed(&o->b))
		return err_set(e, EXIT_FAIL, "out of memory for the output");
	return cmd_stdout_flush(e);
}
