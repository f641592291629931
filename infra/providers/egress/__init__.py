"""Egress for private nodes: a NAT gateway and its route table, as Pulumi dynamic resources over the SDK.

pulumi-yandex 0.13 bridges terraform-provider-yandex v0.71.0, which has no
``yandex_vpc_gateway``, and whose ``yandex_vpc_route_table`` static routes
know only ``next_hop_address`` (``VpcRouteTableStaticRouteArgs`` has no
``gateway_id``). These resources call ``yandex.cloud.vpc.v1.GatewayService``
(a shared egress gateway) and ``RouteTableService`` (a default route to it)
on the shared base (``infra/providers/yandex/``); subnets then name the
route table (``VpcSubnet.route_table_id``).
"""
