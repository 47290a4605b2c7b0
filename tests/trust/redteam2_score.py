"""Red team R2, goal "a score without the work": T4 counted instructions moved out of the
counted range by running the program from a SECOND MAPPING OF THE MEASURED EXECUTABLE.
NOT collected by default (the file name does not start with test_); the lead decides.

The route (tests/trust/redteam_score.py's gadget idea, another gadget): the measured program
is built from IR that declares nothing outside the interface. A 64-bit constant holds
``mov rax, rcx; syscall; ret``; it is called as ``f(ptr nest r10, rdi, rsi, rdx, nr, r8, r9)``
(LLVM's ``nest`` attribute passes r10), so every six-argument system call is reachable. The
program opens its own executable (``./measured``, readable in the run step's cwd) and maps
every PT_LOAD again, 1 GiB higher (file mapping, PROT_EXEC allowed: the measured policy has
``deny_exec_memory=False`` for valgrind). It fills a pointer table in the copy's data with the
addresses of the ORIGINAL globals and runtime functions (the T4 program rewrote every use of a
global or runtime function in the function bodies into a load from that table), then
``musttail``-jumps into the copy of the unchanged main. Callgrind attributes cost by address:
the copy is not inside ``.ramp.agent``'s range, so nothing it executes is counted; the jump
goes to the same ELF object and section kind, so callgrind records no call (no escape
detected); the copy's calls go out from outside the agent range, so none is checked.

Seen (bwrap, run_stage T4 perf_floyd, R2 on 2026-12-05): score 100.0, "393 instructions:
100.0% of the log speed-up from the unchanged input (26607952) to clang -O2 (8692457)",
for the unchanged -O0 input. The secure outcome is at most the unchanged input's score, or
a refusal (tampering).
"""

from __future__ import annotations

import pytest

from golden import Stage
from tests.trust.attacks import BOTH
from tests.trust.conftest import Sessions
from tests.trust.test_attacks import _advance_to

_T4_SECOND_MAPPING = r'''#!/usr/bin/env python3
D = 0x40000000
GADGET = 0x9090C3050FC88948 - (1 << 64)  # mov rax, rcx; syscall; ret
def ir(jump_copy: bool, n: int = 3000000) -> str:
    target = f"%wc = add i64 %w, {D}" if jump_copy else "%wc = add i64 %w, 0"
    return f"""@__rt_path = internal constant [9 x i8] c"measured\\00"
@__rt_sink = internal global i64 0
@__rt_sys = internal global ptr null
define internal void @__rt_holder() noinline {{
  store volatile i64 {GADGET}, ptr @__rt_sink
  ret void
}}
define internal ptr @__rt_find() noinline {{
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%n, %next]
  %p = getelementptr i8, ptr @__rt_holder, i64 %i
  %b0 = load volatile i8, ptr %p
  %c0 = icmp eq i8 %b0, 72
  br i1 %c0, label %more, label %next
more:
  %p1 = getelementptr i8, ptr %p, i64 1
  %b1 = load volatile i8, ptr %p1
  %p2 = getelementptr i8, ptr %p, i64 2
  %b2 = load volatile i8, ptr %p2
  %p5 = getelementptr i8, ptr %p, i64 5
  %b5 = load volatile i8, ptr %p5
  %c1 = icmp eq i8 %b1, -119
  %c2 = icmp eq i8 %b2, -56
  %c5 = icmp eq i8 %b5, -61
  %c12 = and i1 %c1, %c2
  %c = and i1 %c12, %c5
  br i1 %c, label %found, label %next
next:
  %n = add i64 %i, 1
  br label %loop
found:
  ret ptr %p
}}
define internal i64 @__rt_sys6(i64 %nr, i64 %a, i64 %b, i64 %c, i64 %d, i64 %e, i64 %f) noinline {{
  %g = load ptr, ptr @__rt_sys
  %dp = inttoptr i64 %d to ptr
  %r = call i64 %g(ptr nest %dp, i64 %a, i64 %b, i64 %c, i64 %nr, i64 %e, i64 %f)
  ret i64 %r
}}
define internal void @__rt_map() noinline {{
entry:
  %g = call ptr @__rt_find()
  store ptr %g, ptr @__rt_sys
  %path = ptrtoint ptr @__rt_path to i64
  %fd = call i64 @__rt_sys6(i64 2, i64 %path, i64 0, i64 0, i64 0, i64 0, i64 0)
  %base = inttoptr i64 4194304 to ptr
  %phoffp = getelementptr i8, ptr %base, i64 32
  %phoff = load i64, ptr %phoffp
  %phnump = getelementptr i8, ptr %base, i64 56
  %phnum16 = load i16, ptr %phnump
  %phnum = zext i16 %phnum16 to i64
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %next]
  %done = icmp eq i64 %i, %phnum
  br i1 %done, label %out, label %body
body:
  %o56 = mul i64 %i, 56
  %o = add i64 %phoff, %o56
  %ph = getelementptr i8, ptr %base, i64 %o
  %type = load i32, ptr %ph
  %isload = icmp eq i32 %type, 1
  br i1 %isload, label %map, label %next
map:
  %flp = getelementptr i8, ptr %ph, i64 4
  %fl = load i32, ptr %flp
  %offp = getelementptr i8, ptr %ph, i64 8
  %off = load i64, ptr %offp
  %vap = getelementptr i8, ptr %ph, i64 16
  %va = load i64, ptr %vap
  %fszp = getelementptr i8, ptr %ph, i64 32
  %fsz = load i64, ptr %fszp
  %x = and i32 %fl, 1
  %w = and i32 %fl, 2
  %r = and i32 %fl, 4
  %px = shl i32 %x, 2
  %pr = lshr i32 %r, 2
  %p1 = or i32 %px, %w
  %prot32 = or i32 %p1, %pr
  %prot = zext i32 %prot32 to i64
  %start = and i64 %va, -4096
  %delta = and i64 %va, 4095
  %len = add i64 %fsz, %delta
  %addr = add i64 %start, {D}
  %foff = and i64 %off, -4096
  %nz = icmp ne i64 %fsz, 0
  br i1 %nz, label %domap, label %next
domap:
  %m = call i64 @__rt_sys6(i64 9, i64 %addr, i64 %len, i64 %prot, i64 18, i64 %fd, i64 %foff)
  %mszp = getelementptr i8, ptr %ph, i64 40
  %msz = load i64, ptr %mszp
  %fend = add i64 %va, %fsz
  %fend1 = add i64 %fend, 4095
  %pend = and i64 %fend1, -4096
  %mend0 = add i64 %va, %msz
  %mend1 = add i64 %mend0, 4095
  %mend = and i64 %mend1, -4096
  %more = icmp ugt i64 %mend, %pend
  br i1 %more, label %bss, label %next
bss:
  %baddr = add i64 %pend, {D}
  %blen = sub i64 %mend, %pend
  %bm = call i64 @__rt_sys6(i64 9, i64 %baddr, i64 %blen, i64 3, i64 50, i64 -1, i64 0)
  br label %next
next:
  %i1 = add i64 %i, 1
  br label %loop
out:
  ret void
}}
define internal i64 @__rt_work(i64 %n, ptr %unused) noinline {{
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %acc = phi i64 [7, %entry], [%acc2, %loop]
  %s = lshr i64 %acc, 7
  %x = xor i64 %i, %s
  %m = mul i64 %acc, 31
  %acc2 = add i64 %m, %x
  %i1 = add i64 %i, 1
  %d = icmp eq i64 %i1, %n
  br i1 %d, label %out, label %loop
out:
  ret i64 %acc2
}}
define internal i64 @__rt_jump(i64 %n, ptr %f) noinline {{
  %r = musttail call i64 %f(i64 %n, ptr %f)
  ret i64 %r
}}
declare i32 @getint()
declare void @putint(i32)
declare void @putch(i32)
define i32 @main() {{
  call void @__rt_map()
  %w = ptrtoint ptr @__rt_work to i64
  {target}
  %f = inttoptr i64 %wc to ptr
  %r = call i64 @__rt_jump(i64 {n}, ptr %f)
  %t = trunc i64 %r to i32
  call void @putint(i32 %t)
  call void @putch(i32 10)
  ret i32 0
}}
"""
"""T4 'optimiser' that optimises nothing: runs the unchanged program from a second mapping
of the measured executable (same file, other address), which the count does not cover."""
import re, sys
D = 0x40000000
RT = ["getint", "getch", "getarray", "putint", "putch", "putarray", "_sysy_starttime", "_sysy_stoptime"]
src = open(sys.argv[1], encoding="utf-8").read()
lines = src.splitlines()
gvars = set()
for l in lines:
    m = re.match(r'@([-\w.$]+)\s*=\s*(.*)', l)
    if m and re.search(r'\b(global|constant)\b', m.group(2)):
        gvars.add(m.group(1))
names = sorted(gvars | set(RT), key=len, reverse=True)
pat = re.compile(r'@(' + "|".join(re.escape(n) for n in names) + r')\b(?![-\w.$])')
out, infn, pending = [], False, None
for i, l in enumerate(lines):
    if l.startswith("define ") and l.rstrip().endswith("{"):
        if re.search(r"@main\(\)", l):
            l = l.replace("@main()", "@__orig_main(ptr %__unused)").replace("dso_local ", "")
            l = l.replace("define ", "define internal ", 1) if " internal " not in l else l
        infn, used, body = True, set(), []
        head = l
        continue
    if infn:
        if l.startswith("}"):
            loads = [f"  %__gp_{n} = load ptr, ptr @__tab_{n}" for n in sorted(used)]
            # insert after the entry label if there is one
            if body and re.match(r'^[-\w.$"]+:', body[0]):
                body = [body[0]] + loads + body[1:]
            else:
                body = loads + body
            out += [head] + body + [l]
            infn = False
            continue
        if not l.strip().startswith(";"):
            def rep(m):
                used.add(m.group(1)); return "%__gp_" + m.group(1)
            l = pat.sub(rep, l)
        body.append(l)
        continue
    out.append(l)
allg = sorted(gvars | set(RT))
decls = "".join(f"declare void @{n}()\n" for n in RT if not re.search(r"declare[^\n]*@" + n + r"\(", src))
tabs = decls + "".join(f"@__tab_{n} = internal global ptr inttoptr (i64 1 to ptr)\n" for n in allg)
fills = "".join(
    f"  %__a_{n} = ptrtoint ptr @__tab_{n} to i64\n  %__b_{n} = add i64 %__a_{n}, {D}\n"
    f"  %__c_{n} = inttoptr i64 %__b_{n} to ptr\n  store volatile ptr @{n}, ptr %__c_{n}\n" for n in allg)
poc = ir(True)
helpers = poc[: poc.index("define internal i64 @__rt_work")]
main = f"""define internal i32 @__rt_jump(ptr %f) noinline {{
  %r = musttail call i32 %f(ptr %f)
  ret i32 %r
}}
define i32 @main() {{
  call void @__rt_map()
{fills}  %w = ptrtoint ptr @__orig_main to i64
  %wc = add i64 %w, {D}
  %f = inttoptr i64 %wc to ptr
  %r = call i32 @__rt_jump(ptr %f)
  ret i32 %r
}}
"""
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n" + tabs + helpers + main)
'''
_T4_IDENTITY = '#!/bin/sh\ncp "$1" "$2"\n'


@pytest.mark.parametrize("backend", BOTH)
def test_t4_second_mapping_of_measured(sessions: Sessions, backend: str) -> None:
    """The unchanged input, run from a second mapping of ./measured: must not beat the
    unchanged input (today: 100.0 with 393 counted instructions)."""
    s = sessions.get(f"score2-{backend}", backend)
    _advance_to(s, Stage.T4)
    s.ok("write_file", {"path": "bin/t4", "content": _T4_IDENTITY})
    s.sh("chmod +x bin/t4")
    unchanged = s.ok("run_stage", {"stage": "T4", "case": "perf_floyd"})
    assert unchanged["ok"] and unchanged["score"] < 100, unchanged
    s.ok("write_file", {"path": "bin/t4", "content": _T4_SECOND_MAPPING})
    s.sh("chmod +x bin/t4")
    # free (development sandbox): the transformed program still prints the right output
    free = s.sh("bin/t4 /ramp/reference/T3/perf_floyd.ll /tmp/o.ll && grep -c __tab_ /tmp/o.ll")
    assert int(free["stdout"].strip()) > 0, free
    copied = s.ok("run_stage", {"stage": "T4", "case": "perf_floyd"})
    assert copied["ok"], copied
    refused = "refused" in copied["diagnosis"]
    assert refused or copied["score"] <= unchanged["score"], (unchanged, copied)
    graded = s.ok("submit_stage", {"stage": "T4"})
    assert graded["integrity_findings"] or graded["score"] <= unchanged["score"], graded
