"""Pure security functions: no I/O, no framework imports."""
