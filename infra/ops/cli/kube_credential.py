"""`kube-credential`: the kubeconfig's exec credential plugin, an IAM token from the project's own SDK.

kubectl and Pulumi's Kubernetes provider run it from the kubeconfig
(``infra/render/kubeconfig.py``) as ``samokoder-infra kube-credential``,
found on PATH: operators activate the virtualenv, the workflows add
``.venv/bin`` to ``GITHUB_PATH``. It prints an ``ExecCredential``
(client.authentication.k8s.io/v1beta1) with the token and, where the source
says, its expiry; any failure exits 1 with the reason on stderr and prints
nothing on stdout, so the client stops with that message. No ``yc`` needed.
"""

from __future__ import annotations

import argparse
import json

from infra.ops.cli.common import EXIT_FAILED, EXIT_OK, Commands, Failure

API_VERSION = "client.authentication.k8s.io/v1beta1"


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "kube-credential",
        help="print an ExecCredential with an IAM token (the kubeconfig's exec plugin)",
        description=(
            "Get an IAM token through the yandexcloud SDK and print it as a Kubernetes ExecCredential. "
            "The identity comes from the environment: YC_SERVICE_ACCOUNT_KEY_FILE (a service account's "
            "authorized key, CI), else YC_IAM_TOKEN (a token given as it is), else the VM's metadata "
            "service. `--print-token` prints the bare token instead (for the registry's docker login)."
        ),
    )
    parser.add_argument(
        "--endpoint", default=None, help="the API endpoint (default api.cloud.yandex.net:443)"
    )
    parser.add_argument(
        "--root-certificates", default=None, metavar="PEM", help="trust these roots instead of the system's"
    )
    parser.add_argument(
        "--print-token", action="store_true", help="print the bare token, not an ExecCredential"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from infra.providers.yandex.connection import DEFAULT_ENDPOINT, Connection, ConnectionError_  # noqa: PLC0415

    connection = Connection(
        "environment",
        endpoint=args.endpoint or DEFAULT_ENDPOINT,
        root_certificates_file=args.root_certificates,
    )
    try:
        token = connection.iam_token()
    except ConnectionError_ as error:
        raise Failure(f"kube-credential: {error}", EXIT_FAILED) from None
    if not token.token:
        raise Failure("kube-credential: the token source answered an empty token", EXIT_FAILED)
    if args.print_token:
        print(token.token)
        return EXIT_OK
    status = {"token": token.token}
    if token.expires_at is not None:
        status["expirationTimestamp"] = token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps({"apiVersion": API_VERSION, "kind": "ExecCredential", "spec": {}, "status": status}))
    return EXIT_OK
