"""Runs a command in a pseudo-terminal, as a person at a terminal would, for the CLI's terminal tests.

    python3 pty-drive.py [--ctrl-c-on REGEX] [--timeout SECONDS] -- COMMAND ARG...

Everything the command writes to the terminal is copied to this process's stdout. With --ctrl-c-on,
Ctrl-C is typed (the byte 0x03, so the terminal sends SIGINT to the command, as a keyboard does) once
the output matches REGEX. Exits with the command's exit code, or 128 + N when a signal N ended it;
124 when the timeout ran out first (the command is then killed).
"""
import argparse
import os
import pty
import re
import select
import signal
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ctrl-c-on")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    pattern = re.compile(args.ctrl_c_on.encode()) if args.ctrl_c_on else None

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    output = b""
    sent = False
    deadline = time.monotonic() + args.timeout
    while True:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return 124
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the command closed the terminal (it exited)
            break
        if not data:
            break
        output += data
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        if pattern is not None and not sent and pattern.search(output):
            os.write(fd, b"\x03")
            sent = True
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
