"""How a provider reaches the Yandex Cloud API: endpoint, TLS roots and the way it authenticates.

The connection travels in the resource's inputs, so it holds no credential:
a key file is named by path and an IAM token is read from the environment
at call time. ``metadata`` uses the VM's service account (CI runners and
nodes in Yandex Cloud). ``environment`` picks one of the three at call time
from the environment, the one token source the kubeconfig's credential
plugin (``samokoder-infra kube-credential``), the registry checks and the
Lockbox provider share: ``YC_SERVICE_ACCOUNT_KEY_FILE`` (CI), else
``YC_IAM_TOKEN`` (an operator), else the VM's metadata service.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import yandexcloud

Auth = Literal["service_account_key_file", "iam_token", "metadata", "environment"]
AUTH_METHODS: tuple[Auth, ...] = ("service_account_key_file", "iam_token", "metadata", "environment")
DEFAULT_ENDPOINT = "api.cloud.yandex.net:443"
IAM_TOKEN_ENV = "YC_IAM_TOKEN"
KEY_FILE_ENV = "YC_SERVICE_ACCOUNT_KEY_FILE"


class ConnectionError_(ValueError):
    """Connection settings that cannot work; the message names the setting."""


@dataclass(frozen=True)
class IamToken:
    token: str
    # None where the source does not say (a given token, the metadata service)
    expires_at: dt.datetime | None


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

    def resolved(self) -> Connection:
        """``environment`` made concrete from the environment now; any other method as it is."""
        if self.auth != "environment":
            return self
        key_file = os.environ.get(KEY_FILE_ENV)
        if key_file:
            auth: Auth = "service_account_key_file"
        else:
            auth, key_file = ("iam_token" if os.environ.get(IAM_TOKEN_ENV) else "metadata"), None
        return Connection(auth, key_file, self.endpoint, self.root_certificates_file)

    def _credentials(self) -> dict[str, Any]:
        if self.auth == "environment":
            return self.resolved()._credentials()
        if self.auth == "service_account_key_file":
            assert self.key_file is not None
            try:
                return {"service_account_key": json.loads(Path(self.key_file).read_text())}
            except (OSError, json.JSONDecodeError) as error:
                raise ConnectionError_(
                    f"connection key_file {self.key_file}: cannot read an authorized key "
                    f"({error.__class__.__name__}); create one with "
                    "`yc iam key create --service-account-name NAME -o key.json`"
                ) from None
        if self.auth == "iam_token":
            token = os.environ.get(IAM_TOKEN_ENV)
            if not token:
                raise ConnectionError_(f"connection auth 'iam_token' reads {IAM_TOKEN_ENV}, which is not set")
            return {"iam_token": token}
        return {}

    def sdk(self) -> yandexcloud.SDK:
        import yandexcloud  # noqa: PLC0415  (loaded where the provider runs, not in every program)

        options: dict[str, Any] = {"endpoint": self.endpoint, **self._credentials()}
        if self.root_certificates_file:
            options["root_certificates"] = Path(self.root_certificates_file).read_bytes()
        return yandexcloud.SDK(**options)

    def iam_token(self) -> IamToken:
        """An IAM token for this connection's identity, as the SDK gets one (raises ConnectionError_).

        A service account's key is exchanged for a token at the IAM API
        (``IamTokenService.Create``, which says when it expires); the metadata
        service and a given token are asked or used as they are.

        The SDK's public ``yandexcloud.auth.get_auth_token`` (auth.py:13-34 at
        0.413.0) drops the expiry, which the kubeconfig's credential needs, and
        exchanges the key through ``SDK()`` on the default endpoint and roots,
        not this connection's; so its three private parts are used as it uses
        them. test_kube_credential.py runs them on a loopback IAM API, so a
        change in them fails there, not silently.
        """
        import grpc  # noqa: PLC0415
        import requests  # noqa: PLC0415
        from yandex.cloud.iam.v1.iam_token_service_pb2_grpc import IamTokenServiceStub  # noqa: PLC0415
        from yandexcloud._auth_fabric import (  # noqa: PLC0415
            IamTokenAuth,
            MetadataAuth,
            get_auth_token_requester,
        )

        connection = self.resolved()
        credentials = connection._credentials()
        try:
            requester = get_auth_token_requester(endpoint=self.endpoint, **credentials)
            if isinstance(requester, MetadataAuth | IamTokenAuth):
                return IamToken(requester.get_token(), None)
            response = connection.sdk().client(IamTokenServiceStub).Create(requester.get_token_request())
        except grpc.RpcError as error:
            raise ConnectionError_(
                f"the IAM API refused a token for auth {connection.auth!r}: "
                f"{error.code().name}: {error.details()}"
            ) from None
        except (requests.RequestException, KeyError, ValueError, RuntimeError) as error:
            raise ConnectionError_(
                f"no IAM token from auth {connection.auth!r}: {error.__class__.__name__}: {error}"
            ) from None
        expires = response.expires_at.ToDatetime(tzinfo=dt.UTC) if response.HasField("expires_at") else None
        return IamToken(str(response.iam_token), expires)
