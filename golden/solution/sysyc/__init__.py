"""sysyc: RAMP's reference SysY compiler, one module per stage (t1..t5) plus shared parts."""
