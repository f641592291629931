"""The test suite. Set before anything imports gRPC: its C core would log every
closed connection of the loopback Lockbox API at INFO."""

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
