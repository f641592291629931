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
from infra.policy.validators.common import REDACTED as REDACTED
