"""Networking errors, named as Neutron names them: the class name is the ``type`` in the
``NeutronError`` body, which clients match on."""

from __future__ import annotations

from stratus.exceptions import Conflict, Invalid, NotFound, StratusError


class NetworkNotFound(NotFound):
    pass


class AvailabilityZoneNotFound(NotFound):
    pass


class SubnetNotFound(NotFound):
    pass


class PortNotFound(NotFound):
    pass


class NetworkInUse(Conflict):
    pass


class SubnetInUse(Conflict):
    pass


class IpAddressGenerationFailure(Conflict):
    pass


class IpAddressAlreadyAllocated(Conflict):
    pass


class MacAddressInUse(Conflict):
    pass


class InvalidAllocationPool(Invalid):
    pass


class InvalidIpForSubnet(Invalid):
    pass


class InvalidCIDR(Invalid):
    pass


class InvalidSharedSetting(Conflict):
    pass


class PortBound(Conflict):
    pass


class SecurityGroupNotFound(NotFound):
    pass


class SecurityGroupRuleNotFound(NotFound):
    pass


class SecurityGroupInUse(Conflict):
    pass


class SecurityGroupCannotRemoveDefault(Conflict):
    pass


class SecurityGroupDefaultAlreadyExists(Conflict):
    pass


class SecurityGroupCannotUpdateDefault(Conflict):
    pass


class SecurityGroupRuleExists(Conflict):
    pass


class SecurityGroupInvalidPortRange(Invalid):
    pass


class SecurityGroupInvalidPortValue(Invalid):
    pass


class SecurityGroupInvalidIcmpValue(Invalid):
    pass


class SecurityGroupMissingIcmpType(Invalid):
    pass


class SecurityGroupProtocolRequiredWithPorts(Invalid):
    pass


class SecurityGroupInvalidProtocolForPort(Invalid):
    pass


class SecurityGroupRemoteGroupAndRemoteIpPrefix(Invalid):
    pass


class PortSecurityAndIPRequiredForSecurityGroups(Invalid):
    pass


class RouterNotFound(NotFound):
    pass


class FloatingIPNotFound(NotFound):
    pass


class RouterInUse(Conflict):
    pass


class RouterInterfaceNotFound(NotFound):
    pass


class RouterInterfaceNotFoundForSubnet(NotFound):
    pass


class RouterInterfaceInUseByFloatingIP(Conflict):
    pass


class RouterInterfaceInUseByRoute(Conflict):
    pass


class InvalidRoutes(Invalid):
    pass


class RoutesExhausted(Invalid):
    pass


class TagNotFound(NotFound):
    pass


class RouterExternalGatewayInUseByFloatingIp(Conflict):
    pass


class PortInUse(Conflict):
    pass


class ServicePortInUse(Conflict):
    pass


class ExternalGatewayForFloatingIPNotFound(NotFound):
    pass


class FloatingIPPortAlreadyAssociated(Conflict):
    pass


class BadRequest(Invalid):
    pass


class OverQuota(Conflict):
    pass


class SegmentationIdInUse(Conflict):
    pass


class NoNetworkAvailable(StratusError):
    http_status = 503


class SubnetPoolNotFound(NotFound):
    pass


class AddressScopeNotFound(NotFound):
    pass


class SubnetPoolInUse(Conflict):
    pass


class AddressScopeInUse(Conflict):
    pass


class EmptySubnetPoolPrefixList(Invalid):
    pass


class PrefixVersionMismatch(Invalid):
    pass


class IllegalSubnetPoolPrefixBounds(Invalid):
    pass


class IllegalSubnetPoolPrefixUpdate(Invalid):
    pass


class IllegalSubnetPoolAssociationToAddressScope(Invalid):
    pass


class IllegalSubnetPoolIpVersionAssociationToAddressScope(Invalid):
    pass


class IllegalSubnetPoolUpdate(Invalid):
    pass


class MinPrefixSubnetAllocationError(Invalid):
    pass


class MaxPrefixSubnetAllocationError(Invalid):
    pass


class InvalidSubnetRequest(Invalid):
    pass


class SubnetAllocationError(Conflict):
    pass


class SubnetPoolQuotaExceeded(Conflict):
    pass


class AddressScopeUpdateError(Invalid):
    pass


class NetworkSubnetPoolAffinityError(Invalid):
    pass
