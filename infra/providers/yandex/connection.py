"""How a provider reaches the Yandex Cloud API: endpoint, TLS roots and the way it authenticates.

The connection travels in the resource's inputs, so it holds no credential:
a key file is named by path and an IAM token is read from the environment
at call time. ``metadata`` uses the VM's service account (CI runners and
nodes in Yandex Cloud).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import yandexcloud

Auth = Literal["service_account_key_file", "iam_token", "metadata"]
AUTH_METHODS: tuple[Auth, ...] = ("service_account_key_file", "iam_token", "metadata")
DEFAULT_ENDPOINT = "api.cloud.yandex.net:443"
IAM_TOKEN_ENV = "YC_IAM_TOKEN"


class ConnectionError_(ValueError):
    """Connection settings that cannot work; the message names the setting."""


@dataclass(frozen=True)
class Connection:
    auth: Auth
    key_file: str | None = None
    endpoint: str = DEFAULT_ENDPOINT
    # A PEM bundle to trust instead of the system's roots (a proxy, a test server).
    root_certificates_file: str | None = None

    def __post_init__(self) -> None:
        if self.auth not in AUTH_METHODS:
            raise ConnectionError_(
                f"connection auth must be one of {', '.join(AUTH_METHODS)} (got {self.auth!r})"
            )
        if (self.auth == "service_account_key_file") != (self.key_file is not None):
            raise ConnectionError_(
                "connection key_file is required with auth 'service_account_key_file' and only with it"
            )

    def as_inputs(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_inputs(cls, inputs: dict[str, Any]) -> Connection:
        return cls(**inputs)

    def sdk(self) -> yandexcloud.SDK:
        import yandexcloud  # noqa: PLC0415  (loaded where the provider runs, not in every program)

        options: dict[str, Any] = {"endpoint": self.endpoint}
        if self.root_certificates_file:
            options["root_certificates"] = Path(self.root_certificates_file).read_bytes()
        if self.auth == "service_account_key_file":
            assert self.key_file is not None
            try:
                options["service_account_key"] = json.loads(Path(self.key_file).read_text())
            except (OSError, json.JSONDecodeError) as error:
                raise ConnectionError_(
                    f"connection key_file {self.key_file}: cannot read an authorized key "
                    f"({error.__class__.__name__}); create one with "
                    "`yc iam key create --service-account-name NAME -o key.json`"
                ) from None
        elif self.auth == "iam_token":
            token = os.environ.get(IAM_TOKEN_ENV)
            if not token:
                raise ConnectionError_(f"connection auth 'iam_token' reads {IAM_TOKEN_ENV}, which is not set")
            options["iam_token"] = token
        return yandexcloud.SDK(**options)
