#!/bin/sh
# The reference solution is Python 3 (standard library only): nothing to compile but the
# byte code, which the read-only workspace could not cache at run time.
set -eu
for program in bin/*; do chmod +x "$program"; done
python3 -m compileall -q sysyc
