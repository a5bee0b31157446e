#!/bin/sh
# hang.sh - a program that hangs, for the tests of time bounds (test_bounds.py).
# Whatever its arguments, it starts a child (the second member of its process
# group), appends "its pid, the child's pid" to the file $HANG_PIDS, prints
# $HANG_PRINT if set, ignores SIGTERM (so that only SIGKILL ends it, and its
# child inherits that) and waits - 120 s at most, so that nothing it leaves
# can linger. A shell script, so that it is up at once even on a busy machine.
trap '' TERM
sleep 120 &
echo "$$ $!" >> "$HANG_PIDS"
if [ -n "$HANG_PRINT" ]; then echo "$HANG_PRINT"; fi
wait
