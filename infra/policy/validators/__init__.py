"""The platform's policies as plain validator functions ``(args, report_violation)``.

One source for both ways they run: wrapped in CrossGuard's
``ResourceValidationPolicy``/``StackValidationPolicy`` by the policy pack
(``policy/``), which ``pulumi preview --policy-pack`` loads, and called
directly by ``samokoder-infra check`` on the synthesized resources. They
read only what both give: ``resource_type``, ``props`` (engine names,
camelCase), ``urn``, ``name``, ``opts.protect`` and ``get_config()``, and a
stack validator's ``resources``. Standard library only: a policy pack runs
in its own environment.

Every message names the resource and the fix, and never repeats a value.
"""

from infra.policy.validators.access import PRIMITIVE_ROLES as PRIMITIVE_ROLES
from infra.policy.validators.access import no_primitive_roles as no_primitive_roles
from infra.policy.validators.access import no_wildcard_roles as no_wildcard_roles
from infra.policy.validators.common import REDACTED as REDACTED
from infra.policy.validators.data import buckets_locked_down as buckets_locked_down
from infra.policy.validators.data import postgres_backed_up as postgres_backed_up
from infra.policy.validators.data import prod_stateful_protected as prod_stateful_protected
from infra.policy.validators.exposure import ingress_tls as ingress_tls
from infra.policy.validators.exposure import no_public_database as no_public_database
from infra.policy.validators.exposure import no_trust_auth as no_trust_auth
from infra.policy.validators.network import admin_ports_closed as admin_ports_closed
from infra.policy.validators.network import nodes_private as nodes_private
from infra.policy.validators.network import prod_api_private as prod_api_private
from infra.policy.validators.network import security_groups_closed as security_groups_closed
from infra.policy.validators.pods import containers_locked_down as containers_locked_down
from infra.policy.validators.pods import images_by_digest as images_by_digest
from infra.policy.validators.pods import images_from_own_registry as images_from_own_registry
from infra.policy.validators.pods import no_host_access as no_host_access
from infra.policy.validators.pods import recommended_labels as recommended_labels
from infra.policy.validators.pods import user_facing_replicas as user_facing_replicas
from infra.policy.validators.pods import workloads_have_budgets as workloads_have_budgets
from infra.policy.validators.secrets import lockbox_encrypted as lockbox_encrypted
from infra.policy.validators.secrets import no_secret_literals as no_secret_literals
from infra.policy.validators.secrets import secrets_not_in_code as secrets_not_in_code
from infra.policy.validators.secrets import secrets_rotated as secrets_rotated
