"""How every part of the service reaches Temporal: the worker, the HTTP API, the console,
the board and the command line all connect here, with one data converter."""
