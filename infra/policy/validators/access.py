"""Who may do what: IAM roles and Kubernetes RBAC, judged by what a role allows rather than its name."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from infra.policy.validators.common import Report, ResourceArgs, _is_list, _kind, dig
from infra.policy.validators.values import value_mappings

PRIMITIVE_ROLES = frozenset({"admin", "editor", "owner"})


# Services whose roles reach every resource of a cloud or organization, or any account's access.
WHOLE_CLOUD = re.compile(r"^(resource-manager|organization-manager|billing|iam)\.")


# A role that administers what it is granted on: Yandex Cloud names a service's admin,
# owner and editor roles so (`kms.admin`, `resource-manager.clouds.owner`, `compute.editor`),
# and its narrower administering ones `...Admin` or `...-admin` (`vpc.publicAdmin`,
# `k8s.cluster-api.cluster-admin`): each page's role list, yandex-cloud/docs en/_roles/.
ADMINISTERING = re.compile(r"(^|\.)(admin|owner|editor)$|Admin$|-admin$")


# The administering roles the platform needs, and who for: the managed cluster's service
# account creates the ingress's public load balancer and takes public addresses
# (components/kubernetes_cluster.py:28-39, docs/iam-roles.md; Yandex Managed Kubernetes'
# security page: "vpc.publicAdmin", "load-balancer.admin").
NEEDED = frozenset({"vpc.publicAdmin", "load-balancer.admin"})


# Kubernetes' built-in ClusterRoles that administer a namespace or the cluster
# (kubernetes/website content/en/docs/reference/access-authn-authz/rbac.md, "User-facing roles").
BUILT_IN_ADMIN = frozenset({"cluster-admin", "admin", "edit"})


EVERYONE = frozenset({"system:allUsers", "system:allAuthenticatedUsers"})


def _broad_role(role: str) -> bool:
    if role in PRIMITIVE_ROLES or (WHOLE_CLOUD.match(role) and ADMINISTERING.search(role)):
        return True
    return bool(ADMINISTERING.search(role)) and role not in NEEDED


def no_primitive_roles(args: ResourceArgs, report: Report) -> None:
    """No account can administer more than its job: no role that is admin, owner or editor in all but name.

    Primitive roles, any service's admin/owner/editor (``*.admin``,
    ``resource-manager.clouds.owner``, ``compute.editor``, ``vpc.publicAdmin``) but
    the two the cluster's account needs, Kubernetes' built-in admin roles, and
    grants to everyone.
    """
    roles = [args.props.get("role"), *(args.props.get("roles") or [])]
    for role in roles:
        if isinstance(role, str) and _broad_role(role):
            report(f"{args.name}: grants the broad role '{role}'; grant the narrowest service role instead")
    if _kind(args.resource_type) in ("ClusterRoleBinding", "RoleBinding"):
        ref = dig(args.props, "roleRef", "name")
        if ref in BUILT_IN_ADMIN:
            report(f"{args.name}: binds the Kubernetes role '{ref}'; bind a role with only the verbs needed")
        subjects = args.props.get("subjects") or []
        if any(isinstance(s, Mapping) and s.get("name") == "system:masters" for s in subjects):
            report(f"{args.name}: binds the group system:masters, which no RBAC can limit; name an account")
    members = [args.props.get("member"), *(args.props.get("members") or [])]
    if any(m in EVERYONE for m in members):
        report(f"{args.name}: grants a role to everyone (system:allUsers); name the accounts instead")


# Verbs that let a role holder grant itself more (kubernetes/website rbac.md,
# "Restrictions on role creation or update" and "User impersonation").
ESCALATING = frozenset({"escalate", "bind", "impersonate"})


def _rules(args: ResourceArgs) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if _kind(args.resource_type) in ("Role", "ClusterRole"):
        rules = args.props.get("rules") or []
        for i, rule in enumerate(rules if _is_list(rules) else []):
            if isinstance(rule, Mapping):
                yield f"rules[{i}]", rule
    # A chart's extra rules (`rbac.extraRules`, `rbac.clusterRoleRules`...): any mapping with verbs.
    for where, mapping in value_mappings(args):
        if _is_list(mapping.get("verbs")):
            yield where, mapping


def no_wildcard_roles(args: ResourceArgs, report: Report) -> None:
    """No Role or ClusterRole of ours grants everything, or a way to more (escalate, bind, impersonate)."""
    for where, rule in _rules(args):
        verbs = [str(v) for v in rule.get("verbs") or []]
        resources = [str(r) for r in rule.get("resources") or []]
        if "*" in verbs or any("*" in r for r in resources):
            report(
                f"{args.name}: {where} grants '*' ({', '.join(verbs)} on "
                f"{', '.join(resources) or 'no resource'}); list the verbs and resources the account uses"
            )
        if escalating := sorted(ESCALATING & set(verbs)):
            report(f"{args.name}: {where} grants {', '.join(escalating)}, a way to any permission; remove it")
