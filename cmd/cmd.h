/* SPDX-License-Identifier: MIT */
/* The subcommands: each is cmd_NAME(argc, argv) with argv[0] = "NAME". */
#ifndef SOCKCTL_CMD_H
#define SOCKCTL_CMD_H

int cmd_resolve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_udp_send(int argc, char **argv);
int cmd_udp_recv(int argc, char **argv);
int cmd_raw_icmp(int argc, char **argv);

#endif
