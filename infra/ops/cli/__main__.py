"""`python -m infra.ops.cli`: the same as `samokoder-infra`, as the tests and the benchmark run it."""

import sys

from infra.ops.cli import main

sys.exit(main())
