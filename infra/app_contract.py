"""Facts about the Samokoder app that this program depends on, read from the app's own code.

The app is ``AlexeyPevz/Samokoder``; each fact names the file it comes from,
so a change in the app is a change of one line here.
"""

from __future__ import annotations

from typing import Final

# The bucket bounds of samokoder_http_request_duration_seconds
# (api/middleware/metrics.py). A latency SLI counts requests in a bucket, so
# its threshold has to be one of these bounds; there is no 2 s bucket.
LATENCY_BUCKETS_SECONDS: Final = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

# The API's port: compose starts it with `uvicorn ... --port 8000` (docker-compose.yml).
API_PORT: Final = 8000
# The frontend's nginx listens on port 80 (frontend/Dockerfile).
FRONTEND_PORT: Final = 80
