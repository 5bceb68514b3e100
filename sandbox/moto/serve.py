"""Runs moto_server for the sandbox without two costs per request that belong to the emulator, not to AWS.

On the 2-core machine the fleet benchmark shares the cores between drctl, the Temporal dev server and moto, so
moto's own overhead shows up as drctl's time. A py-spy profile of moto 5.2 during the benchmark showed:
- 14 % of its time choosing the backend: for every request `list_of_moto_modules()` lists moto's package
  directory and stats each entry (moto/backends.py). The list never changes while the server runs, so it is read
  once here.
- 11 % writing the access log line of every request to stderr through werkzeug's colour handler. The sandbox's
  strict AWS layer already counts every call; werkzeug still logs warnings and errors.
Nothing else changes: the same moto server, the same responses.
"""

import logging
import sys

import moto.backends as backends
from moto.server import main

_MOTO_MODULES = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: iter(_MOTO_MODULES)
logging.getLogger("werkzeug").setLevel(logging.WARNING)

if __name__ == "__main__":
    sys.exit(main())
