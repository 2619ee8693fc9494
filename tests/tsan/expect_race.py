#!/usr/bin/env python3
"""Runs one mode of channel_races under ThreadSanitizer with the suite's own suppression file
and checks TSan's verdict.

usage: expect_race.py PROGRAM SUPPRESSIONS MODE [FRAME ...]

With FRAMEs, the program must fail (non-zero exit) with "WARNING: ThreadSanitizer: data race"
on stderr, and that first report must name every FRAME (a substring of a stack line). Without
FRAMEs, the program must exit 0 and TSan must report nothing.
"""
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    program, suppressions, mode, frames = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    # The options every TSan test runs with (meson.build's 'thread' setup), and whatever else
    # the caller set, but always with the real suppression file.
    options = [o for o in os.environ.get('TSAN_OPTIONS', '').split() if not o.startswith('suppressions=')]
    options += ['halt_on_error=1', 'suppressions=' + os.path.abspath(suppressions)]
    env = dict(os.environ, TSAN_OPTIONS=' '.join(options))
    print('TSAN_OPTIONS=' + env['TSAN_OPTIONS'])
    run = subprocess.run([program, mode], env=env, capture_output=True, text=True, timeout=240)
    print(run.stdout, end='')
    print(run.stderr, end='', file=sys.stderr)
    reports = run.stderr.count('WARNING: ThreadSanitizer')
    if not frames:
        if run.returncode != 0 or reports:
            print(f'FAIL: {mode}: expected a clean run, got exit {run.returncode} and {reports} '
                  'TSan report(s)')
            return 1
        print(f'ok: {mode}: exit 0, no report')
        return 0
    if run.returncode == 0 or 'WARNING: ThreadSanitizer: data race' not in run.stderr:
        print(f'FAIL: {mode}: expected TSan to report a data race and fail the program, got exit '
              f'{run.returncode} and {reports} report(s) (a suppression or an annotation hid it?)')
        return 1
    first = run.stderr.split('WARNING: ThreadSanitizer: data race', 1)[1]
    first = first.split('\n==================', 1)[0]
    missing = [frame for frame in frames if frame not in first]
    if missing:
        print(f'FAIL: {mode}: the race reported is not the one planted: no frame {missing}')
        return 1
    print(f'ok: {mode}: exit {run.returncode}, data race reported with {frames}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
