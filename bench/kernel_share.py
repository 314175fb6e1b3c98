#!/usr/bin/env python3
"""Where a proxy's CPU goes per request, from a `perf record -g` profile.

    perf record -F 4999 -g -o relay.data -p PID -- sleep 5    # under wrk load
    bench/kernel_share.py relay.data [CPU_US_PER_REQ]

Splits the samples (inclusive time, `perf report --children`) into:

  send     tcp_sendmsg and all under it: the segment's way out and, on
           loopback, the peer socket's receive processing (softirq run in
           the sender's context, shown apart), whatever made the call
           (send(), io_uring's io_send);
  recv     tcp_recvmsg and all under it (recv(), io_uring's io_recv);
  sleep    schedule(): going to sleep in epoll_wait / io_uring_enter
           and coming back;
  user     user-space code (self time of user symbols);
  rest     everything else in the kernel: the event machinery (epoll, or
           io_uring's submission, task work and completions), syscall
           entry and exit, accept / connect / close.

send + recv is the TCP work any proxy pays for the same four segments of a
keep-alive request; the other rows are what a loop design and the proxy's
own code add.  With CPU_US_PER_REQ (the bench's CPU/req for the same
proxy and case), shares are also given in µs per request.  Samples are
timer-based on a machine without a PMU, so shares are approximate (code
run with interrupts off is credited to where they are re-enabled).
"""
import re
import subprocess
import sys


def children(data):
    out = subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "sym",
                          "--stdio", "-g", "none"], capture_output=True, text=True,
                         check=True).stdout
    incl, user = {}, 0.0
    for line in out.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(\S+)", line)
        if not m:
            continue
        c, s, kind, sym = float(m.group(1)), float(m.group(2)), m.group(3), m.group(4)
        incl[sym] = max(incl.get(sym, 0.0), c)
        if kind == ".":
            user += s
    return incl, user


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    data = sys.argv[1]
    per_req = float(sys.argv[2]) if len(sys.argv) > 2 else None
    incl, user = children(data)
    send, recv = incl.get("tcp_sendmsg", 0.0), incl.get("tcp_recvmsg", 0.0)
    soft = incl.get("handle_softirqs", incl.get("__do_softirq", 0.0))
    sleep = incl.get("schedule", 0.0)
    rows = [("send (tcp_sendmsg)", send),
            ("  of which loopback rx softirq", soft),
            ("recv (tcp_recvmsg)", recv),
            ("sleep (schedule)", sleep),
            ("user space", user),
            ("rest of kernel (loop, entry, accept/close)",
             max(0.0, 100.0 - send - recv - sleep - user))]
    print(data)
    for name, pct in rows:
        us = "  %5.2f µs/req" % (pct / 100 * per_req) if per_req else ""
        print("  %-44s %5.1f%%%s" % (name, pct, us))


if __name__ == "__main__":
    main()
