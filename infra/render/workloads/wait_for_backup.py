"""Wait until a CloudNativePG Backup has completed; exit 1 if it failed or took too long.

Runs inside the migration Job's first container, from the api image (by
digest, as every image of ours), so it needs nothing but Python's standard
library and the pod's service account. The Job embeds this file's source.
"""

import json
import os
import ssl
import sys
import time
import urllib.request

ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """The token is for the API server alone: a redirect is an error, never followed elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]  # noqa: PLR0917
        return None


def main() -> int:
    name, namespace = os.environ["BACKUP_NAME"], os.environ["BACKUP_NAMESPACE"]
    api = os.environ.get("KUBERNETES_API") or (
        f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
    )
    with open(os.environ.get("TOKEN_FILE", f"{ACCOUNT}/token"), encoding="utf-8") as file:
        token = file.read().strip()
    # In a pod the API is HTTPS with the service account's CA; a plain-HTTP API needs none.
    context = (
        ssl.create_default_context(cafile=os.environ.get("CA_FILE", f"{ACCOUNT}/ca.crt"))
        if api.startswith("https")
        else None
    )
    url = f"{api}/apis/postgresql.cnpg.io/v1/namespaces/{namespace}/backups/{name}"
    deadline = time.monotonic() + float(os.environ.get("TIMEOUT_SECONDS", "3300"))
    while time.monotonic() < deadline:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        opener = urllib.request.build_opener(NoRedirects(), urllib.request.HTTPSHandler(context=context))
        try:
            with opener.open(request, timeout=30) as answer:
                phase = json.load(answer).get("status", {}).get("phase", "")
        except OSError as error:
            phase = f"unreadable ({error})"
        print(f"backup {name}: {phase or 'pending'}", flush=True)
        if phase == "completed":
            return 0
        if phase == "failed":
            return 1
        time.sleep(float(os.environ.get("POLL_SECONDS", "10")))
    print(f"backup {name}: not completed in time", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
