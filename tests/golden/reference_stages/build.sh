#!/bin/sh
# Test-only: the reference toolchain wrapped as stage programs, to prove that the stage
# formats, the golden artifacts and the scorers agree (it must score 100 everywhere).
# It calls clang and reads the case source, so it only runs outside grading restrictions.
set -eu
mkdir -p bin
for stage in t0 t1 t2 t3 t4 t5; do
  cp "src/$stage" "bin/$stage"
  chmod +x "bin/$stage"
done
