"""Progress of a C++ extension build, read from its log (tools/setup_env.sh's mmcv build).

    python tools/misc/build_progress.py LOG [--pid PID] [--interval 30] [--total 77] [--once]

Prints ``[setup] mmcv build: 12/77 files compiled, 3m10s elapsed`` every ``--interval``
seconds until process ``--pid`` ends (``--once``: one line now). Files are counted from ninja's
``[done/total]`` lines, or, without ninja, from the compiler commands (``-c file.cpp``). Only
the standard library: it runs before the environment is complete.
"""
import argparse
import os
import re
import sys
import time

NINJA = re.compile(r'^\[(\d+)/(\d+)\]')
COMPILE = re.compile(r'\s-c\s+\S+\.(?:cpp|cc|cu|c)\b')


def count_compiled(text: str):
    """(files compiled so far, total or None) from a build log's text."""
    done, total = 0, None
    for line in text.splitlines():
        m = NINJA.match(line.strip())
        if m:
            done, total = max(done, int(m.group(1))), int(m.group(2))
    if total is None:
        done = sum(1 for line in text.splitlines() if COMPILE.search(line))
    return done, total


def format_progress(done: int, total, elapsed: float, name: str = 'mmcv build') -> str:
    minutes, seconds = divmod(int(elapsed), 60)
    of = f'/{total}' if total else ''
    return f'[setup] {name}: {done}{of} files compiled, {minutes}m{seconds:02d}s elapsed'


def report(log: str, start: float, total_hint=None) -> str:
    try:
        with open(log, errors='replace') as f:
            done, total = count_compiled(f.read())
    except FileNotFoundError:
        done, total = 0, None
    return format_progress(done, total or total_hint, time.time() - start)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # an ended child its parent has not reaped yet (a zombie) has ended
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('log', help='the build log being written')
    parser.add_argument('--pid', type=int, help='stop when this process has ended')
    parser.add_argument('--interval', type=float, default=30.0, help='seconds between lines')
    parser.add_argument('--total', type=int, help='files to compile, when the log does not say')
    parser.add_argument('--start', type=float, help='start time (epoch seconds; default now)')
    parser.add_argument('--once', action='store_true', help='print one line and exit')
    args = parser.parse_args()
    start = args.start or time.time()
    if args.once:
        print(report(args.log, start, args.total), flush=True)
        return
    while args.pid is None or alive(args.pid):
        time.sleep(args.interval)
        if args.pid is not None and not alive(args.pid):
            break
        print(report(args.log, start, args.total), flush=True)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
